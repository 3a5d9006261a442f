#include <catch2/catch.hpp>

#include "fake_ipset.hpp"
#include "fake_iptables.hpp"
#include "fake_ipvs.hpp"
#include "fake_links.hpp"
#include "proxy/reconciler.hpp"

using namespace kipvs;
using namespace kipvs::proxy;
using kernel::IpvsOpKind;
using kernel::KubeSet;

namespace {

model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }

kernel::VirtualServer vs(const char* address, std::uint16_t port, kernel::Protocol protocol = kernel::Protocol::tcp) {
    kernel::VirtualServer s;
    s.address = ip(address);
    s.family = s.address.family;
    s.port = port;
    s.protocol = protocol;
    return s;
}

kernel::RealServer rs(const char* address, std::uint16_t port, std::uint32_t weight = 1) {
    kernel::RealServer d;
    d.address = ip(address);
    d.port = port;
    d.weight = weight;
    return d;
}

// A ClusterIP service's plan: VIP bound, in KUBE-CLUSTER-IP and KUBE-IPVS-IPS.
ServicePlan cluster_ip(const char* vip, std::uint16_t port, std::vector<const char*> backends,
                       kernel::Protocol protocol = kernel::Protocol::tcp) {
    ServicePlan plan;
    kernel::ServiceTable table{vs(vip, port, protocol), {}};
    for (const char* b : backends) table.destinations.push_back(rs(b, 8080));
    plan.virtual_servers.push_back(PlannedVirtualServer::of(table));
    std::string proto = protocol == kernel::Protocol::tcp ? "tcp" : "udp";
    plan.set_entries.push_back({KubeSet::cluster_ip, model::Family::v4, std::string(vip) + "," + proto + ":" + std::to_string(port)});
    plan.set_entries.push_back({KubeSet::ipvs_ips, model::Family::v4, vip});
    std::sort(plan.set_entries.begin(), plan.set_entries.end());
    plan.bound_addresses.push_back(ip(vip));
    return plan;
}

struct Node {
    test::FakeIpvs ipvs;
    test::FakeIpset ipset;
    test::FakeLinks links;
    test::FakeIptables iptables;
    ReconcilerOptions options;
    std::unique_ptr<Reconciler> reconciler;

    Reconciler& proxy() {
        if (!reconciler)
            reconciler = std::make_unique<Reconciler>(
                KernelHandles{ipvs, ipset, links, {{model::Family::v4, &iptables}}}, options);
        return *reconciler;
    }
    void restart() { reconciler.reset(); }
    std::size_t ipvs_writes() const { return ipvs.executed().size(); }
};

std::string name(int i) { return "default/svc-" + std::to_string(i); }
std::string vip(int i) { return "10.96." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1); }

}  // namespace

TEST_CASE("a cold start programs sets, rules, kube-ipvs0 and virtual servers", "[reconciler]") {
    Node node;
    DesiredState desired;
    desired.set_service("default/web", cluster_ip("10.96.0.10", 80, {"10.244.1.2", "10.244.2.2"}));

    auto report = node.proxy().full_sync(desired);
    CHECK(report.failures.empty());
    CHECK(report.vs_added == 1);
    CHECK(report.dest_added == 2);
    CHECK(report.bound == 1);
    CHECK(report.rules_restored);
    REQUIRE(node.ipvs.state().size() == 1);
    CHECK(node.ipvs.state()[0].destinations.size() == 2);
    CHECK(node.links.links.at("kube-ipvs0") == std::set{ip("10.96.0.10")});
    CHECK(node.ipset.sets.at("KUBE-CLUSTER-IP").entries == std::set<std::string>{"10.96.0.10,tcp:80"});
    CHECK(node.ipset.sets.at("KUBE-IPVS-IPS").entries == std::set<std::string>{"10.96.0.10"});
    CHECK(node.ipset.sets.count("KUBE-NODE-PORT-TCP") == 1);  // every set exists, empty or not
    CHECK(node.iptables.tables.at("nat").count("KUBE-SERVICES") == 1);
}

TEST_CASE("a restart over the right state writes nothing", "[reconciler]") {
    Node node;
    DesiredState desired;
    for (int i = 0; i < 20; ++i) desired.set_service(name(i), cluster_ip(vip(i).c_str(), 80, {"10.244.1.2"}));
    node.proxy().full_sync(desired);
    auto ipset_writes = node.ipset.writes.size();
    auto link_writes = node.links.writes.size();
    auto restores = node.iptables.restores;
    auto ipvs_writes = node.ipvs_writes();

    node.restart();
    auto report = node.proxy().full_sync(desired);
    CHECK(report.changes() == 0);
    CHECK(report.failures.empty());
    CHECK(node.ipvs_writes() == ipvs_writes);
    CHECK(node.ipset.writes.size() == ipset_writes);
    CHECK(node.links.writes.size() == link_writes);
    CHECK(node.iptables.restores == restores);
}

TEST_CASE("one endpoint change among many services is one operation and no read", "[reconciler]") {
    Node node;
    DesiredState desired;
    for (int i = 0; i < 1000; ++i) desired.set_service(name(i), cluster_ip(vip(i).c_str(), 80, {"10.244.1.2"}));
    node.proxy().full_sync(desired);
    auto before = node.ipvs_writes();
    auto service_dumps = node.ipvs.service_dumps, destination_dumps = node.ipvs.destination_dumps;
    auto ipset_reads = node.ipset.reads;

    auto delta = desired.set_service(name(500), cluster_ip(vip(500).c_str(), 80, {"10.244.1.2", "10.244.3.3"}));
    auto report = node.proxy().apply(desired, delta);
    CHECK(report.dest_added == 1);
    CHECK(report.changes() == 1);
    REQUIRE(node.ipvs_writes() == before + 1);
    CHECK(node.ipvs.executed().back().kind == IpvsOpKind::add_destination);
    CHECK(node.ipvs.service_dumps == service_dumps);
    CHECK(node.ipvs.destination_dumps == destination_dumps);
    CHECK(node.ipset.reads == ipset_reads);
}

TEST_CASE("a removed TCP destination with connections drains at weight 0, then goes", "[reconciler]") {
    Node node;
    DesiredState desired;
    desired.set_service("default/web", cluster_ip("10.96.0.10", 80, {"10.244.1.2", "10.244.2.2"}));
    node.proxy().full_sync(desired);
    node.ipvs.set_connections(vs("10.96.0.10", 80), rs("10.244.2.2", 8080), 3, 1);

    auto delta = desired.set_service("default/web", cluster_ip("10.96.0.10", 80, {"10.244.1.2"}));
    auto report = node.proxy().apply(desired, delta);
    CHECK(report.dest_quiesced == 1);
    CHECK(report.dest_deleted == 0);
    REQUIRE(node.ipvs.state()[0].destinations.size() == 2);
    CHECK(node.ipvs.state()[0].destinations[1].weight == 0);
    CHECK(node.proxy().draining());

    // Still busy: stays.
    node.proxy().reap(std::chrono::steady_clock::now());
    CHECK(node.ipvs.state()[0].destinations.size() == 2);
    // Connections ended: deleted.
    node.ipvs.set_connections(vs("10.96.0.10", 80), rs("10.244.2.2", 8080), 0, 0);
    auto reaped = node.proxy().reap(std::chrono::steady_clock::now());
    CHECK(reaped.dest_deleted == 1);
    CHECK(node.ipvs.state()[0].destinations.size() == 1);
    CHECK_FALSE(node.proxy().draining());
}

TEST_CASE("a draining destination goes at the graceful termination timeout", "[reconciler]") {
    Node node;
    node.options.graceful_termination_timeout = std::chrono::seconds(60);
    DesiredState desired;
    desired.set_service("default/web", cluster_ip("10.96.0.10", 80, {"10.244.1.2", "10.244.2.2"}));
    node.proxy().full_sync(desired);
    node.ipvs.set_connections(vs("10.96.0.10", 80), rs("10.244.2.2", 8080), 5, 0);
    node.proxy().apply(desired, desired.set_service("default/web", cluster_ip("10.96.0.10", 80, {"10.244.1.2"})));

    node.proxy().reap(std::chrono::steady_clock::now() + std::chrono::seconds(30));
    CHECK(node.ipvs.state()[0].destinations.size() == 2);
    auto report = node.proxy().reap(std::chrono::steady_clock::now() + std::chrono::seconds(61));
    CHECK(report.dest_deleted == 1);
    CHECK(node.ipvs.state()[0].destinations.size() == 1);
}

TEST_CASE("a destination back while draining returns to weight 1 without a delete", "[reconciler]") {
    Node node;
    DesiredState desired;
    desired.set_service("default/web", cluster_ip("10.96.0.10", 80, {"10.244.1.2", "10.244.2.2"}));
    node.proxy().full_sync(desired);
    node.ipvs.set_connections(vs("10.96.0.10", 80), rs("10.244.2.2", 8080), 1, 0);
    node.proxy().apply(desired, desired.set_service("default/web", cluster_ip("10.96.0.10", 80, {"10.244.1.2"})));
    auto report = node.proxy().apply(
        desired, desired.set_service("default/web", cluster_ip("10.96.0.10", 80, {"10.244.1.2", "10.244.2.2"})));
    CHECK(report.dest_edited == 1);
    CHECK(report.dest_deleted == 0);
    CHECK(node.ipvs.state()[0].destinations[1].weight == 1);
    CHECK(node.ipvs.state()[0].destinations[1].active_conns == 1);  // the connection was kept
    CHECK_FALSE(node.proxy().draining());
}

TEST_CASE("a removed UDP destination is deleted at once", "[reconciler]") {
    Node node;
    DesiredState desired;
    desired.set_service("kube-system/dns",
                        cluster_ip("10.96.0.10", 53, {"10.244.1.2", "10.244.2.2"}, kernel::Protocol::udp));
    node.proxy().full_sync(desired);
    node.ipvs.set_connections(vs("10.96.0.10", 53, kernel::Protocol::udp), rs("10.244.2.2", 8080), 0, 7);
    auto report = node.proxy().apply(
        desired,
        desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2"}, kernel::Protocol::udp)));
    CHECK(report.dest_deleted == 1);
    CHECK(node.ipvs.state()[0].destinations.size() == 1);
}

TEST_CASE("weight-0 leftovers of an earlier run are reset on start", "[reconciler]") {
    Node node;
    node.links.ensure_dummy("kube-ipvs0");
    node.links.bind("kube-ipvs0", ip("10.96.0.10"));
    node.ipvs.add_service(vs("10.96.0.10", 80));
    node.ipvs.add_destination(vs("10.96.0.10", 80), rs("10.244.1.2", 8080, 0));
    node.ipvs.add_destination(vs("10.96.0.10", 80), rs("10.244.9.9", 8080, 0));
    DesiredState desired;
    desired.set_service("default/web", cluster_ip("10.96.0.10", 80, {"10.244.1.2"}));

    auto report = node.proxy().full_sync(desired);
    CHECK(report.vs_added == 0);
    CHECK(report.dest_edited == 1);   // 10.244.1.2 back to weight 1
    CHECK(report.dest_deleted == 1);  // 10.244.9.9: not wanted, no connections
    REQUIRE(node.ipvs.state()[0].destinations.size() == 1);
    CHECK(node.ipvs.state()[0].destinations[0].weight == 1);
}

TEST_CASE("only IPVS mode's virtual servers are deleted as stale", "[reconciler]") {
    Node node;
    node.options.exclude_cidrs = {*model::Cidr::parse("10.96.100.0/24")};
    node.links.ensure_dummy("kube-ipvs0");
    for (const char* a : {"10.96.0.99", "10.96.100.5"}) node.links.bind("kube-ipvs0", ip(a));
    node.ipvs.add_service(vs("10.96.0.99", 80));     // stale, on kube-ipvs0
    node.ipvs.add_service(vs("10.96.100.5", 80));    // on kube-ipvs0 but excluded
    node.ipvs.add_service(vs("192.168.50.1", 443));  // keepalived's: not ours
    node.ipvs.add_service(vs("192.168.1.10", 30080));  // a NodePort on a node address
    node.ipvs.add_service(vs("192.168.1.10", 22));     // on a node address, outside the range
    node.proxy().set_node_addresses({ip("192.168.1.10")});
    DesiredState desired;

    auto report = node.proxy().full_sync(desired);
    CHECK(report.vs_deleted == 2);
    std::set<std::string> left;
    for (const auto& t : node.ipvs.state()) left.insert(t.service.describe());
    CHECK(left == std::set<std::string>{"TCP 10.96.100.5:80", "TCP 192.168.50.1:443", "TCP 192.168.1.10:22"});
    // Addresses on kube-ipvs0 are not protected by excludeCIDRs (PARITY.md §3.9).
    CHECK(node.links.links.at("kube-ipvs0").empty());
}

TEST_CASE("a full sync repairs what was changed by hand", "[reconciler]") {
    Node node;
    DesiredState desired;
    for (int i = 0; i < 5; ++i) desired.set_service(name(i), cluster_ip(vip(i).c_str(), 80, {"10.244.1.2"}));
    node.proxy().full_sync(desired);

    node.ipvs.flush();                                  // ipvsadm -C
    node.ipset.sets.at("KUBE-CLUSTER-IP").entries.clear();  // ipset flush
    node.links.unbind("kube-ipvs0", ip(vip(3).c_str()));
    node.iptables.tables["nat"]["PREROUTING"].clear();  // a jump rule deleted

    auto report = node.proxy().full_sync(desired);
    CHECK(report.failures.empty());
    CHECK(report.vs_added == 5);
    CHECK(report.dest_added == 5);
    CHECK(report.set_added == 5);
    CHECK(report.bound == 1);
    CHECK(report.rules_restored);
    CHECK(node.ipvs.state().size() == 5);
    CHECK(node.ipset.sets.at("KUBE-CLUSTER-IP").entries.size() == 5);
}

TEST_CASE("an address two services want stays until both are gone", "[reconciler]") {
    Node node;
    DesiredState desired;
    desired.set_service("default/a", cluster_ip("10.96.0.10", 80, {"10.244.1.2"}));
    auto b = cluster_ip("10.96.0.10", 443, {"10.244.1.2"});
    desired.set_service("default/b", b);
    node.proxy().full_sync(desired);

    auto report = node.proxy().apply(desired, desired.remove_service("default/a"));
    CHECK(report.vs_deleted == 1);
    CHECK(report.unbound == 0);
    CHECK(node.links.links.at("kube-ipvs0") == std::set{ip("10.96.0.10")});
    report = node.proxy().apply(desired, desired.remove_service("default/b"));
    CHECK(report.vs_deleted == 1);
    CHECK(report.unbound == 1);
    CHECK(node.ipvs.state().empty());
    CHECK(node.ipset.sets.at("KUBE-IPVS-IPS").entries.empty());
}

TEST_CASE("a refused operation is reported and the rest applies", "[reconciler]") {
    Node node;
    DesiredState desired;
    auto bad = cluster_ip("10.96.0.11", 80, {"10.244.1.2"});
    bad.virtual_servers[0].service.scheduler = "nosuch";
    desired.set_service("default/bad", bad);
    desired.set_service("default/good", cluster_ip("10.96.0.10", 80, {"10.244.1.2"}));
    auto report = node.proxy().full_sync(desired);
    CHECK(report.vs_added == 1);
    REQUIRE_FALSE(report.failures.empty());
    CHECK(report.failures[0].find("10.96.0.11:80") != std::string::npos);
    CHECK(node.ipvs.state().size() == 1);
}
