// src/server's pure parts: the exposition text, kube-proxy's health rule and
// JSON, /proc/net/ip_vs, and kernel virtual servers named after services.
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "kernel/ipvs.hpp"
#include "proxy/desired_state.hpp"
#include "proxy/object_store.hpp"
#include "server/exposition.hpp"
#include "server/health.hpp"
#include "server/ipvs_stats.hpp"
#include "server/monitor.hpp"
#include "test_support.hpp"

using namespace kipvs;
using namespace kipvs::server;
using namespace std::chrono_literals;

namespace {

model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }

WallClock::time_point at(const char* rfc3339) { return *parse_rfc3339(rfc3339); }

bool contains(const std::string& text, const std::string& line) { return text.find(line) != std::string::npos; }

// A kernel that answers a fixed service dump (with counters, which the
// reconciler's fake does not keep).
class StatsIpvs : public kernel::IpvsKernel {
public:
    std::vector<kernel::VirtualServer> dump;
    bool fail = false;
    kernel::IpvsInfo info() override { return {}; }
    kernel::IpvsTimeouts timeouts() override { return {}; }
    void set_timeouts(const kernel::IpvsTimeouts&) override {}
    std::vector<kernel::VirtualServer> services() override {
        if (fail) throw Error("IPVS_CMD_GET_SERVICE: Operation not permitted");
        return dump;
    }
    std::vector<kernel::RealServer> destinations(const kernel::VirtualServer&) override { return {}; }
    void flush() override {}
    void zero(const std::optional<kernel::VirtualServer>&) override {}

protected:
    std::vector<int> execute(const std::vector<kernel::IpvsOp>& ops) override { return std::vector<int>(ops.size()); }
};

kernel::VirtualServer vs(const char* address, std::uint16_t port, kernel::Protocol protocol = kernel::Protocol::tcp) {
    kernel::VirtualServer v;
    v.address = ip(address);
    v.family = v.address.family;
    v.port = port;
    v.protocol = protocol;
    return v;
}

model::Service web() {
    model::Service s;
    s.namespace_name = "shop";
    s.name = "web";
    s.type = model::ServiceType::node_port;
    s.cluster_ips = {ip("10.96.0.10")};
    s.ip_families = {model::Family::v4};
    s.ports = {{"http", model::Protocol::tcp, 80, 30080}, {"dns", model::Protocol::udp, 53, 0}};
    return s;
}

model::EndpointSlice web_slice(std::vector<model::Endpoint> endpoints, std::string trigger = "") {
    model::EndpointSlice e;
    e.namespace_name = "shop";
    e.name = "web-abc";
    e.service_name = "web";
    e.endpoints = std::move(endpoints);
    e.ports = {{"http", model::Protocol::tcp, 8080}, {"dns", model::Protocol::udp, 5353}};
    e.last_change_trigger_time = std::move(trigger);
    return e;
}

model::Endpoint endpoint(const char* address, const char* node, bool ready = true, bool terminating = false) {
    model::Endpoint e;
    e.address = ip(address);
    e.node_name = node;
    e.ready = ready;
    e.serving = true;
    e.terminating = terminating;
    return e;
}

// A store planned into a desired state, on node-a with one node address.
struct Planned {
    proxy::ObjectStore store;
    proxy::DesiredState desired;
    Planned() {
        proxy::NodeFacts facts;
        facts.name = "node-a";
        facts.node_port_addresses = {ip("192.168.1.5")};
        store.set_node_facts(facts);
    }
    void plan() {
        std::vector<std::string> events;
        store.replan(desired, events);
    }
};

}  // namespace

TEST_CASE("exposition: families, labels escaped, integers exact", "[server]") {
    ExpositionWriter out;
    out.family("x_total", "Line one\nwith \\ backslash", MetricType::counter);
    out.sample("x_total", {{"a", "q\"uote"}, {"b", "back\\slash\nnl"}}, std::uint64_t{18446744073709551615ULL});
    out.sample("x_total", {}, 0.5);
    CHECK(out.text() ==
          "# HELP x_total Line one\\nwith \\\\ backslash\n"
          "# TYPE x_total counter\n"
          "x_total{a=\"q\\\"uote\",b=\"back\\\\slash\\nnl\"} 18446744073709551615\n"
          "x_total 0.5\n");
    CHECK(format_value(1e-3) == "0.001");
    CHECK(format_value(16.384) == "16.384");
    CHECK(format_value(1.0 / 0.0) == "+Inf");
}

TEST_CASE("exposition: histogram buckets are cumulative and le is inclusive", "[server]") {
    Histogram h(Histogram::exponential(0.001, 2, 3));  // 0.001 0.002 0.004
    h.observe(0.001);
    h.observe(0.003);
    h.observe(10);
    ExpositionWriter out;
    out.histogram("d_seconds", {{"ip_family", "IPv4"}}, h);
    CHECK(out.text() ==
          "d_seconds_bucket{ip_family=\"IPv4\",le=\"0.001\"} 1\n"
          "d_seconds_bucket{ip_family=\"IPv4\",le=\"0.002\"} 1\n"
          "d_seconds_bucket{ip_family=\"IPv4\",le=\"0.004\"} 2\n"
          "d_seconds_bucket{ip_family=\"IPv4\",le=\"+Inf\"} 3\n"
          "d_seconds_sum{ip_family=\"IPv4\"} 10.004\n"
          "d_seconds_count{ip_family=\"IPv4\"} 3\n");
}

TEST_CASE("health: the oldest pending update decides, a successful sync clears it", "[server]") {
    auto t0 = at("2026-12-04T21:00:00Z");
    ProxyHealth h(60s);
    CHECK(h.healthy(t0));  // nothing queued
    h.queued(t0);
    h.queued(t0 + 50s);  // not the oldest: does not move the deadline
    CHECK(h.healthy(t0 + 60s));
    CHECK_FALSE(h.healthy(t0 + 61s));
    CHECK(h.last_updated(t0 + 61s) == WallClock::time_point{});
    h.updated(t0 + 62s);
    CHECK(h.healthy(t0 + 500s));
    CHECK(h.last_updated(t0 + 500s) == t0 + 500s);  // kube-proxy reports now while healthy
    h.queued(t0 + 600s);
    CHECK_FALSE(h.healthy(t0 + 661s));
    CHECK(h.last_updated(t0 + 661s) == t0 + 62s);
}

TEST_CASE("health: node eligibility fails /healthz only", "[server]") {
    auto t0 = at("2026-12-04T21:00:00.5Z");
    ProxyHealth h(60s);
    model::Node node;
    node.name = "node-a";
    CHECK(node_eligible(nullptr));
    CHECK(node_eligible(&node));

    auto ok = health_reply(h, &node, false, t0);
    CHECK(ok.status == 200);
    CHECK(ok.content_type == "application/json");
    CHECK(ok.headers == std::vector<std::pair<std::string, std::string>>{{"X-Content-Type-Options", "nosniff"}});
    CHECK(ok.body == "{\"lastUpdated\": \"2026-12-04 21:00:00.5 +0000 UTC\",\"currentTime\": "
                     "\"2026-12-04 21:00:00.5 +0000 UTC\", \"nodeEligible\": true}");

    node.taints.push_back({"ToBeDeletedByClusterAutoscaler", "1733346000", "NoSchedule"});
    CHECK(health_reply(h, &node, false, t0).status == 503);
    CHECK(contains(health_reply(h, &node, false, t0).body, "\"nodeEligible\": false"));
    CHECK(health_reply(h, &node, true, t0).status == 200);

    node.taints.clear();
    node.deletion_timestamp = "2026-12-04T20:59:00Z";
    CHECK(health_reply(h, &node, false, t0).status == 503);
    CHECK(health_reply(h, &node, true, t0).status == 200);

    h.queued(t0);
    CHECK(health_reply(h, nullptr, true, t0 + 61s).status == 503);
}

TEST_CASE("health: RFC 3339 and Go time strings", "[server]") {
    CHECK(go_time_string(at("1970-01-01T00:00:00Z")) == "1970-01-01 00:00:00 +0000 UTC");
    // libc++'s system_clock counts microseconds, libstdc++'s nanoseconds.
    CHECK(go_time_string(at("2024-02-29T23:59:59.123456Z")) == "2024-02-29 23:59:59.123456 +0000 UTC");
    CHECK(go_time_string(at("2024-02-29T23:59:59.5Z")) == "2024-02-29 23:59:59.5 +0000 UTC");
    CHECK(at("2026-12-04T22:00:00+01:00") == at("2026-12-04T21:00:00Z"));
    CHECK(at("2026-12-04T20:30:00-00:30") == at("2026-12-04T21:00:00Z"));
    for (const char* bad : {"", "2026-12-04", "2026-12-04T21:00:00", "2026-13-04T21:00:00Z", "2026-12-04T21:00:00.Z",
                            "2026-12-04T21:00:00+0100", "2026-12-04 21:00:00Z", "2026-12-04T21:00:00Zjunk"})
        CHECK_FALSE(parse_rfc3339(bad));
}

// Found by rfc3339_fuzz: a day past the month's end was carried into the
// next month, and a year the nanosecond clock cannot hold overflowed. An
// offset past 23:59 is refused as Go's time.Parse refuses it.
TEST_CASE("rfc3339: days past the month's end and unrepresentable years are refused", "[server]") {
    for (const char* bad : {"2026-02-31T00:00:00Z", "2026-04-31T00:00:00Z", "2026-02-29T00:00:00Z",
                            "2100-02-29T00:00:00Z", "0024-02-29T23:59:60.5-08:00", "1600-01-01T00:00:00Z",
                            "2263-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-12-04T21:00:00+24:00",
                            "2026-12-04T21:00:00-00:60"})
        CHECK_FALSE(parse_rfc3339(bad));
    CHECK(at("2024-02-29T00:00:00Z") == at("2024-02-28T00:00:00Z") + std::chrono::hours(24));
    CHECK(at("2000-02-29T12:00:00Z") == at("2000-02-29T13:30:00+01:30"));
    CHECK(at("2026-12-31T23:59:59Z") + std::chrono::seconds(1) == at("2027-01-01T00:00:00Z"));
    CHECK(parse_rfc3339("1678-01-01T00:00:00Z"));
    CHECK(parse_rfc3339("2261-12-31T23:59:59.999999999Z"));
}

TEST_CASE("proc ip_vs: active connections summed per virtual server", "[server]") {
    const char* text =
        "IP Virtual Server version 1.2.1 (size=4096)\n"
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n"
        "TCP  0A60000A:0050 rr \n"
        "  -> 0AF40102:1F90      Masq    1      3          7         \n"
        "  -> 0AF40103:1F90      Masq    1      2          0         \n"
        "UDP  0A60000A:0035 rr \n"
        "FWM  00000005 rr \n"
        "  -> 0AF40104:1F90      Masq    1      9          0         \n"
        "TCP  [fd00:0000:0000:0000:0000:0000:0000:000a]:0050 sh persistent 10800 FFFFFFFF\n"
        "  -> [fd00:0000:0000:0000:0000:0000:0001:0002]:1F90      Masq    1      4          0         \n"
        "TCP  C0A80105:7580 rr \n"
        "  -> 0AF40102:1F90      Masq    1      1          0";  // no final newline
    auto active = parse_proc_ip_vs(text);
    CHECK(active == std::map<proxy::VsKey, std::uint64_t>{
                        {{ip("10.96.0.10"), kernel::Protocol::tcp, 80}, 5},
                        {{ip("10.96.0.10"), kernel::Protocol::udp, 53}, 0},
                        {{ip("fd00::a"), kernel::Protocol::tcp, 80}, 4},
                        {{ip("192.168.1.5"), kernel::Protocol::tcp, 30080}, 1},
                    });
    CHECK(parse_proc_ip_vs("").empty());
    CHECK(parse_proc_ip_vs("TCP  0A60000A:zz rr\n  -> 0AF40102:1F90 Masq 1 3 7\nTCP 10.96.0.10:80 rr\n").empty());
}

TEST_CASE("ipvs stats: kernel virtual servers named after their service port", "[server]") {
    Planned p;
    p.store.upsert_service(web());
    p.store.upsert_slice(web_slice({endpoint("10.244.1.2", "node-a")}));
    p.plan();
    auto owners = vs_owners(p.desired.plans(), p.store.services());
    CHECK(owners.at({ip("10.96.0.10"), kernel::Protocol::tcp, 80}) == VsOwner{"shop", "web", "http"});
    CHECK(owners.at({ip("10.96.0.10"), kernel::Protocol::udp, 53}) == VsOwner{"shop", "web", "dns"});
    CHECK(owners.at({ip("192.168.1.5"), kernel::Protocol::tcp, 30080}) == VsOwner{"shop", "web", "http"});

    auto cluster = vs("10.96.0.10", 80);
    cluster.stats.conns = 4;
    cluster.stats.in_packets = 40;
    cluster.stats.out_packets = 30;
    cluster.stats.in_bytes = 4000;
    cluster.stats.out_bytes = 3000;
    auto node_port = vs("192.168.1.5", 30080);
    node_port.stats.conns = 1;
    auto foreign = vs("10.1.1.1", 80);  // keepalived's: not ours, not exported
    std::map<proxy::VsKey, std::uint64_t> active{{proxy::VsKey::of(cluster), 2}};
    auto rows = ipvs_rows({foreign, node_port, cluster}, active, owners);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].virtual_address == "10.96.0.10:80");
    CHECK(rows[0].active_connections == 2);
    CHECK(rows[1].virtual_address == "192.168.1.5:30080");

    ExpositionWriter out;
    write_ipvs_metrics(out, rows);
    const std::string labels = "{namespace=\"shop\",service=\"web\",port_name=\"http\",protocol=\"TCP\","
                               "virtual_address=\"10.96.0.10:80\"}";
    CHECK(contains(out.text(), "# TYPE ipvs_incoming_packets_total counter\n"));
    CHECK(contains(out.text(), "ipvs_incoming_packets_total" + labels + " 40\n"));
    CHECK(contains(out.text(), "ipvs_outgoing_packets_total" + labels + " 30\n"));
    CHECK(contains(out.text(), "ipvs_incoming_bytes_total" + labels + " 4000\n"));
    CHECK(contains(out.text(), "ipvs_outgoing_bytes_total" + labels + " 3000\n"));
    CHECK(contains(out.text(), "ipvs_connections_total" + labels + " 4\n"));
    CHECK(contains(out.text(), "# TYPE ipvs_connections_active gauge\n"));
    CHECK(contains(out.text(), "ipvs_connections_active" + labels + " 2\n"));
}

TEST_CASE("ready local endpoints: distinct Ready IPs on this node", "[server]") {
    auto a = web_slice({endpoint("10.244.1.2", "node-a"), endpoint("10.244.1.3", "node-a", true, true),
                        endpoint("10.244.1.4", "node-a", false), endpoint("10.244.2.2", "node-b")});
    auto b = web_slice({endpoint("10.244.1.2", "node-a"), endpoint("10.244.1.5", "node-a")});
    CHECK(ready_local_endpoints({&a, &b}, "node-a") == 2);
    CHECK(ready_local_endpoints({&a}, "node-c") == 0);
    CHECK(ready_local_endpoints({&a}, "") == 0);
}

TEST_CASE("monitor: syncs, changes, health counters and network programming in /metrics", "[server]") {
    auto start = at("2026-12-04T21:00:00Z");
    Monitor m({model::Family::v4}, 60s, start);
    Planned p;
    p.store.upsert_service(web());
    p.store.upsert_slice(web_slice({endpoint("10.244.1.2", "node-b")}, "2026-12-04T21:00:05Z"));
    // An annotation from before kipvs started is not programming latency.
    auto old = web_slice({}, "2026-12-04T20:00:00Z");
    old.name = "web-old";
    p.store.upsert_slice(old);

    m.queued(start + 1s);
    auto triggers = p.store.take_trigger_times();
    CHECK(triggers.size() == 2);
    p.plan();
    proxy::SyncReport report;
    m.synced(report, 0.003s, start + 7s, triggers);
    CHECK(m.health(false, nullptr, start + 8s).status == 200);
    CHECK(m.health(true, nullptr, start + 8s).status == 200);

    report.failures = {"IPv4 rules: iptables-restore: exit status 1", "add destination ...: No such process"};
    m.synced(report, 0.5s, start + 10s, {});
    CHECK(m.health(false, nullptr, start + 71s).status == 503);  // the failed retry is pending

    ExpositionWriter out;
    m.write_proxy_metrics(out, p.store);
    const auto& text = out.text();
    CHECK(contains(text, "# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram\n"));
    CHECK(contains(text, "kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family=\"IPv4\",le=\"0.004\"} 1\n"));
    CHECK(contains(text, "kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family=\"IPv4\"} 2\n"));
    // The last successful sync, not the failed one.
    CHECK(contains(text, "kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family=\"IPv4\"} 1796418007\n"));
    CHECK(contains(text, "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds{ip_family=\"IPv4\"} 1796418010\n"));
    CHECK(contains(text, "kubeproxy_network_programming_duration_seconds_bucket{ip_family=\"IPv4\",le=\"1\"} 0\n"));
    CHECK(contains(text, "kubeproxy_network_programming_duration_seconds_bucket{ip_family=\"IPv4\",le=\"2\"} 1\n"));
    CHECK(contains(text, "kubeproxy_network_programming_duration_seconds_count{ip_family=\"IPv4\"} 1\n"));
    CHECK(contains(text, "kubeproxy_sync_proxy_rules_service_changes_total 1\n"));
    CHECK(contains(text, "kubeproxy_sync_proxy_rules_endpoint_changes_total 2\n"));
    CHECK(contains(text, "kubeproxy_sync_proxy_rules_endpoint_changes_pending 0\n"));
    CHECK(contains(text, "kubeproxy_sync_proxy_rules_iptables_restore_failures_total{ip_family=\"IPv4\"} 1\n"));
    CHECK(contains(text, "kubeproxy_proxy_healthz_total{code=\"200\"} 1\n"));
    CHECK(contains(text, "kubeproxy_proxy_healthz_total{code=\"503\"} 1\n"));
    CHECK(contains(text, "kubeproxy_proxy_livez_total{code=\"200\"} 1\n"));
    const std::string no_local = "kubeproxy_sync_proxy_rules_no_local_endpoints_total";
    CHECK(contains(text, no_local + "{traffic_policy=\"external\",ip_family=\"IPv4\"} 0\n"));

    // eTP=Local with its only endpoint on another node: both ports count.
    auto local = web();
    local.external_traffic_policy = model::TrafficPolicy::local;
    local.health_check_node_port = 32000;
    p.store.upsert_service(local);
    CHECK(p.store.change_counts().services_pending == 1);
    ExpositionWriter again;
    m.write_proxy_metrics(again, p.store);
    CHECK(contains(again.text(), no_local + "{traffic_policy=\"external\",ip_family=\"IPv4\"} 2\n"));
    CHECK(contains(again.text(), "kubeproxy_sync_proxy_rules_service_changes_pending 1\n"));
}

TEST_CASE("monitor: health-check node port answers by local endpoints and proxy health", "[server]") {
    auto start = at("2026-12-04T21:00:00Z");
    Monitor m({model::Family::v4}, 60s, start);
    auto up = m.service_health("shop", "web", 2, start);
    CHECK(up.status == 200);
    CHECK(up.content_type == "application/json");
    CHECK(up.headers == std::vector<std::pair<std::string, std::string>>{{"X-Content-Type-Options", "nosniff"},
                                                                         {"X-Load-Balancing-Endpoint-Weight", "2"}});
    CHECK(up.body == "{\n\t\"service\": {\n\t\t\"namespace\": \"shop\",\n\t\t\"name\": \"web\"\n\t},\n"
                     "\t\"localEndpoints\": 2,\n\t\"serviceProxyHealthy\": true\n}");
    CHECK(m.service_health("shop", "web", 0, start).status == 503);
    m.queued(start);
    auto sick = m.service_health("shop", "web", 2, start + 61s);
    CHECK(sick.status == 503);
    CHECK(contains(sick.body, "\"serviceProxyHealthy\": false"));
}

TEST_CASE("monitor: /metrics reads one service dump and /proc/net/ip_vs", "[server]") {
    Monitor m({model::Family::v4}, 60s, at("2026-12-04T21:00:00Z"));
    Planned p;
    p.store.upsert_service(web());
    p.plan();
    StatsIpvs ipvs;
    auto cluster = vs("10.96.0.10", 80);
    cluster.stats.in_packets = 7;
    ipvs.dump = {cluster};
    test::TempDir dir;
    auto proc = dir.write("ip_vs", "TCP  0A60000A:0050 rr \n  -> 0AF40102:1F90      Masq    1      3          7\n");
    std::string problem;
    auto reply = m.metrics({p.store, p.desired, &ipvs, proc}, &problem);
    CHECK(problem.empty());
    CHECK(reply.content_type == "text/plain; version=0.0.4; charset=utf-8");
    const std::string labels = "{namespace=\"shop\",service=\"web\",port_name=\"http\",protocol=\"TCP\","
                               "virtual_address=\"10.96.0.10:80\"}";
    CHECK(contains(reply.body, "ipvs_incoming_packets_total" + labels + " 7\n"));
    CHECK(contains(reply.body, "ipvs_connections_active" + labels + " 3\n"));
    CHECK(contains(reply.body, "kubeproxy_sync_proxy_rules_duration_seconds"));

    // Without /proc/net/ip_vs the counters stay, active connections read 0.
    reply = m.metrics({p.store, p.desired, &ipvs, dir.path() + "/missing"}, &problem);
    CHECK(problem == "reading " + dir.path() + "/missing: No such file or directory; ipvs_connections_active reads 0");
    CHECK(contains(reply.body, "ipvs_incoming_packets_total" + labels + " 7\n"));
    CHECK(contains(reply.body, "ipvs_connections_active" + labels + " 0\n"));

    problem.clear();
    ipvs.fail = true;
    reply = m.metrics({p.store, p.desired, &ipvs, proc}, &problem);
    CHECK(problem == "IPVS service dump: IPVS_CMD_GET_SERVICE: Operation not permitted");
    CHECK(contains(reply.body, "# TYPE ipvs_incoming_packets_total counter\n"));
    CHECK_FALSE(contains(reply.body, "ipvs_incoming_packets_total{"));
}
