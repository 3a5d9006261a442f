#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include <catch2/catch.hpp>

#include "fake_conntrack.hpp"
#include "fake_ipset.hpp"
#include "fake_iptables.hpp"
#include "fake_ipvs.hpp"
#include "fake_links.hpp"
#include "kernel/conntrack.hpp"
#include "proxy/object_store.hpp"
#include "proxy/reconciler.hpp"
#include "server/exposition.hpp"
#include "server/monitor.hpp"

using namespace kipvs;
using namespace kipvs::proxy;
using kernel::ConntrackFlow;
using kernel::ConntrackTuple;
using kernel::KubeSet;
using kernel::Protocol;

namespace {

model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }

ServicePlan cluster_ip(const char* vip, std::uint16_t port, std::vector<const char*> backends, Protocol protocol) {
    ServicePlan plan;
    kernel::ServiceTable table;
    table.service.address = ip(vip);
    table.service.family = table.service.address.family;
    table.service.port = port;
    table.service.protocol = protocol;
    for (const char* b : backends) {
        kernel::RealServer d;
        d.address = ip(b);
        d.port = 5353;
        table.destinations.push_back(d);
    }
    plan.virtual_servers.push_back(PlannedVirtualServer::of(table));
    std::string entry = vip;
    entry += protocol == Protocol::udp ? ",udp:" : ",tcp:";
    entry += std::to_string(port);
    plan.set_entries.push_back({KubeSet::cluster_ip, model::Family::v4, entry});
    plan.set_entries.push_back({KubeSet::ipvs_ips, model::Family::v4, vip});
    std::sort(plan.set_entries.begin(), plan.set_entries.end());
    plan.bound_addresses.push_back(ip(vip));
    return plan;
}

// A client's flow to vip:port that IPVS sent to backend:5353.
ConntrackFlow udp_flow(const char* client, std::uint16_t client_port, const char* vip, std::uint16_t port,
                       const char* backend) {
    return {{ip(client), ip(vip), IPPROTO_UDP, client_port, port}, {ip(backend), ip(client), IPPROTO_UDP, 5353, client_port}, 0};
}

struct Node {
    test::FakeIpvs ipvs;
    test::FakeIpset ipset;
    test::FakeLinks links;
    test::FakeIptables iptables;
    test::FakeConntrack conntrack;
    Reconciler reconciler{
        KernelHandles{ipvs, ipset, links, {{model::Family::v4, &iptables}}, &conntrack}, ReconcilerOptions{}};
};

}  // namespace

// Clients of a service's flows, each answered by `from` (an endpoint, or
// the VIP itself when nothing served it).
ConntrackFlow flow_to(const char* client, std::uint16_t client_port, const char* to, std::uint16_t port,
                      const char* from, std::uint16_t from_port, std::uint8_t protocol = IPPROTO_UDP) {
    return {{ip(client), ip(to), protocol, client_port, port}, {ip(from), ip(client), protocol, from_port, client_port}, 0};
}

using Address = kernel::UdpFlowSweep::Address;
Address at(const char* address, std::uint16_t port) { return {ip(address), port}; }

TEST_CASE("stale_udp_flows selects exactly the flows no serving endpoint answers", "[conntrack]") {
    kernel::UdpFlowSweep sweep;
    sweep.services[at("10.96.0.10", 53)] = {at("10.244.1.2", 5353), at("10.244.2.2", 5353)};
    sweep.services[at("10.96.0.11", 53)] = {};  // no endpoints
    sweep.services[at("fd00:96::a", 53)] = {at("fd00:244::2", 5353)};
    sweep.node_ports[30053] = {at("10.244.1.2", 5353)};
    sweep.removed = {at("10.96.0.12", 53)};
    struct Case {
        const char* name;
        ConntrackFlow flow;
        bool stale;
    };
    const Case cases[] = {
        {"answered by a serving endpoint", flow_to("10.0.0.5", 40001, "10.96.0.10", 53, "10.244.1.2", 5353), false},
        {"answered by an endpoint that left", flow_to("10.0.0.5", 40002, "10.96.0.10", 53, "10.244.3.2", 5353), true},
        {"answered on a port the endpoint no longer serves",
         flow_to("10.0.0.5", 40003, "10.96.0.10", 53, "10.244.1.2", 53), true},
        {"made while nothing served it: the VIP answered", flow_to("10.0.0.5", 40004, "10.96.0.10", 53, "10.96.0.10", 53),
         true},
        {"to a service without endpoints", flow_to("10.0.0.5", 40005, "10.96.0.11", 53, "10.96.0.11", 53), false},
        {"to another port of the VIP", flow_to("10.0.0.5", 40006, "10.96.0.10", 54, "10.244.3.2", 5353), false},
        {"TCP to the service", flow_to("10.0.0.5", 40007, "10.96.0.10", 53, "10.244.3.2", 5353, IPPROTO_TCP), false},
        {"SCTP to the service", flow_to("10.0.0.5", 40008, "10.96.0.10", 53, "10.244.3.2", 5353, IPPROTO_SCTP), false},
        {"to an address that is no service", flow_to("10.0.0.5", 40009, "10.244.3.2", 5353, "10.244.3.2", 5353), false},
        {"to the NodePort on a node address, answered by its endpoint",
         flow_to("10.0.0.5", 40010, "192.0.2.1", 30053, "10.244.1.2", 5353), false},
        {"to the NodePort on a node address, answered by another",
         flow_to("10.0.0.5", 40011, "192.0.2.1", 30053, "10.244.2.2", 5353), true},
        {"to the NodePort on any address, answered by another",
         flow_to("10.0.0.5", 40012, "198.51.100.7", 30053, "198.51.100.7", 30053), true},
        {"to a deleted virtual server, answered by what was its endpoint",
         flow_to("10.0.0.5", 40013, "10.96.0.12", 53, "10.244.1.2", 5353), true},
        {"IPv6, answered by its endpoint", flow_to("fd00::5", 40014, "fd00:96::a", 53, "fd00:244::2", 5353), false},
        {"IPv6, answered by the VIP", flow_to("fd00::5", 40015, "fd00:96::a", 53, "fd00:96::a", 53), true},
    };
    std::vector<ConntrackFlow> table, want;
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(kernel::stale_udp_flows({c.flow}, sweep) == (c.stale ? std::vector{c.flow} : std::vector<ConntrackFlow>{}));
        table.push_back(c.flow);
        if (c.stale) want.push_back(c.flow);
    }
    // The whole table at once: the same selection, in table order.
    CHECK(kernel::stale_udp_flows(table, sweep) == want);
    CHECK(kernel::stale_udp_flows(table, kernel::UdpFlowSweep{}).empty());
}

namespace {

// A UDP service with a NodePort: the ClusterIP and one node address.
ServicePlan udp_node_port(const char* vip, const char* node, std::uint16_t node_port,
                          std::vector<const char*> backends = {"10.244.1.2", "10.244.2.2"}) {
    ServicePlan plan = cluster_ip(vip, 53, backends, Protocol::udp);
    PlannedVirtualServer table = plan.virtual_servers[0];
    table.service.address = ip(node);
    table.service.port = node_port;
    plan.virtual_servers.push_back(table);
    plan.set_entries.push_back({KubeSet::node_port_udp, model::Family::v4, std::to_string(node_port)});
    std::sort(plan.set_entries.begin(), plan.set_entries.end());
    return plan;
}

std::set<Address> endpoints(std::vector<const char*> addresses) {
    std::set<Address> out;
    for (const char* a : addresses) out.insert(at(a, 5353));
    return out;
}

}  // namespace

TEST_CASE("the first full sync sweeps flows made before kipvs started", "[conntrack]") {
    Node node;
    DesiredState desired;
    desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2"}, Protocol::udp));
    desired.set_service("default/web", cluster_ip("10.96.0.20", 80, {"10.244.1.2"}, Protocol::tcp));
    auto served = udp_flow("10.0.0.5", 40001, "10.96.0.10", 53, "10.244.1.2");
    auto tcp = flow_to("10.0.0.5", 40002, "10.96.0.20", 80, "10.244.9.9", 80, IPPROTO_TCP);
    // An endpoint removed while kipvs was down, and a query made before the
    // service was programmed.
    node.conntrack.flows = {served, tcp, udp_flow("10.0.0.6", 40003, "10.96.0.10", 53, "10.244.2.2"),
                            flow_to("10.0.0.7", 40004, "10.96.0.10", 53, "10.96.0.10", 53)};
    auto report = node.reconciler.full_sync(desired);
    CHECK(report.failures.empty());
    REQUIRE(node.conntrack.sweeps.size() == 1);
    CHECK(node.conntrack.sweeps[0].family == model::Family::v4);
    CHECK(node.conntrack.sweeps[0].sweep.services ==
          std::map<Address, std::set<Address>>{{at("10.96.0.10", 53), endpoints({"10.244.1.2"})}});
    CHECK(node.conntrack.sweeps[0].sweep.node_ports.empty());
    CHECK(node.conntrack.sweeps[0].sweep.removed.empty());
    CHECK(report.conntrack_flushed == std::map<model::Family, std::size_t>{{model::Family::v4, 2}});
    CHECK(node.conntrack.flows == std::vector{served, tcp});
    CHECK_THAT(report.summary(), Catch::Contains(", 2 UDP flows flushed"));

    // Nothing changed since: no table read.
    auto again = node.reconciler.full_sync(desired);
    CHECK(node.conntrack.sweeps.size() == 1);
    CHECK_THAT(again.summary(), !Catch::Contains("flushed"));
}

TEST_CASE("a removed UDP destination has its stale flows swept, in one table read", "[conntrack]") {
    Node node;
    DesiredState desired;
    desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2", "10.244.2.2"}, Protocol::udp));
    desired.set_service("kube-system/other", cluster_ip("10.96.0.11", 53, {"10.244.2.2"}, Protocol::udp));
    node.reconciler.full_sync(desired);
    node.conntrack.sweeps.clear();
    auto kept = udp_flow("10.0.0.7", 40003, "10.96.0.10", 53, "10.244.1.2");
    auto other = udp_flow("10.0.0.8", 40004, "10.96.0.11", 53, "10.244.2.2");
    node.conntrack.flows = {udp_flow("10.0.0.5", 40001, "10.96.0.10", 53, "10.244.2.2"),
                            udp_flow("10.0.0.6", 40002, "10.96.0.10", 53, "10.244.2.2"), kept, other};

    auto report = node.reconciler.apply(
        desired, desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2"}, Protocol::udp)));
    CHECK(report.failures.empty());
    CHECK(report.dest_deleted == 1);
    REQUIRE(node.conntrack.sweeps.size() == 1);
    // The sweep names every UDP service, not only the changed one.
    CHECK(node.conntrack.sweeps[0].sweep.services ==
          std::map<Address, std::set<Address>>{{at("10.96.0.10", 53), endpoints({"10.244.1.2"})},
                                               {at("10.96.0.11", 53), endpoints({"10.244.2.2"})}});
    CHECK(report.conntrack_flushed_total() == 2);
    CHECK(node.conntrack.flows == std::vector{kept, other});
    CHECK_THAT(report.summary(), Catch::Contains(", 2 UDP flows flushed"));
}

TEST_CASE("flows made while a UDP service had no endpoints go when one appears", "[conntrack]") {
    Node node;
    DesiredState desired;
    desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {}, Protocol::udp));
    node.conntrack.flows = {flow_to("10.0.0.5", 40001, "10.96.0.10", 53, "10.96.0.10", 53)};
    auto report = node.reconciler.full_sync(desired);
    // Nothing serves it yet: nothing better to send the flow to, no read.
    CHECK(node.conntrack.sweeps.empty());
    CHECK(node.conntrack.flows.size() == 1);

    report = node.reconciler.apply(
        desired, desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2"}, Protocol::udp)));
    CHECK(report.dest_added == 1);
    REQUIRE(node.conntrack.sweeps.size() == 1);
    CHECK(report.conntrack_flushed_total() == 1);
    CHECK(node.conntrack.flows.empty());
}

TEST_CASE("syncs that change no UDP endpoint read no conntrack table", "[conntrack]") {
    Node node;
    DesiredState desired;
    desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2"}, Protocol::udp));
    desired.set_service("default/web", cluster_ip("10.96.0.20", 80, {"10.244.1.2", "10.244.2.2"}, Protocol::tcp));
    node.reconciler.full_sync(desired);
    REQUIRE(node.conntrack.sweeps.size() == 1);
    node.conntrack.flows = {flow_to("10.0.0.5", 40001, "10.96.0.10", 53, "10.96.0.10", 53)};
    // A TCP endpoint leaves (idle: deleted at once), a TCP service goes.
    auto report = node.reconciler.apply(
        desired, desired.set_service("default/web", cluster_ip("10.96.0.20", 80, {"10.244.1.2"}, Protocol::tcp)));
    CHECK(report.dest_deleted == 1);
    report = node.reconciler.apply(desired, desired.remove_service("default/web"));
    CHECK(report.vs_deleted == 1);
    report = node.reconciler.full_sync(desired);
    CHECK(node.conntrack.sweeps.size() == 1);
    CHECK(node.conntrack.flows.size() == 1);
}

TEST_CASE("a deleted UDP service has all its flows swept, on every address, with the others' checked", "[conntrack]") {
    Node node;
    node.reconciler.set_node_addresses({ip("192.0.2.1")});
    DesiredState desired;
    desired.set_service("kube-system/dns", udp_node_port("10.96.0.10", "192.0.2.1", 30053));
    desired.set_service("kube-system/other", cluster_ip("10.96.0.11", 53, {"10.244.1.2"}, Protocol::udp));
    node.reconciler.full_sync(desired);
    node.conntrack.sweeps.clear();
    auto other = udp_flow("10.0.0.9", 40009, "10.96.0.11", 53, "10.244.1.2");
    auto tcp = flow_to("10.0.0.8", 40008, "10.96.0.10", 53, "10.244.1.2", 5353, IPPROTO_TCP);
    node.conntrack.flows = {udp_flow("10.0.0.5", 40001, "10.96.0.10", 53, "10.244.2.2"),
                            udp_flow("10.0.0.6", 40002, "10.96.0.10", 53, "10.244.1.2"),
                            udp_flow("10.0.0.7", 40003, "192.0.2.1", 30053, "10.244.1.2"),
                            other, tcp};

    auto report = node.reconciler.apply(desired, desired.remove_service("kube-system/dns"));
    CHECK(report.failures.empty());
    CHECK(report.vs_deleted == 2);
    REQUIRE(node.conntrack.sweeps.size() == 1);
    const auto& sweep = node.conntrack.sweeps[0].sweep;
    CHECK(sweep.removed == std::set<Address>{at("10.96.0.10", 53), at("192.0.2.1", 30053)});
    CHECK(sweep.services == std::map<Address, std::set<Address>>{{at("10.96.0.11", 53), endpoints({"10.244.1.2"})}});
    CHECK(report.conntrack_flushed_total() == 3);
    CHECK(node.conntrack.flows == std::vector{other, tcp});
    CHECK_THAT(report.summary(), Catch::Contains(", 3 UDP flows flushed"));
}

TEST_CASE("a UDP NodePort is swept on its port, whatever address the flow went to", "[conntrack]") {
    Node node;
    node.reconciler.set_node_addresses({ip("192.0.2.1")});
    DesiredState desired;
    desired.set_service("kube-system/dns", udp_node_port("10.96.0.10", "192.0.2.1", 30053));
    node.reconciler.full_sync(desired);
    REQUIRE(node.conntrack.sweeps.size() == 1);
    CHECK(node.conntrack.sweeps[0].sweep.node_ports ==
          std::map<std::uint16_t, std::set<Address>>{{30053, endpoints({"10.244.1.2", "10.244.2.2"})}});
    CHECK(node.conntrack.sweeps[0].sweep.services ==
          std::map<Address, std::set<Address>>{{at("10.96.0.10", 53), endpoints({"10.244.1.2", "10.244.2.2"})}});

    auto kept = udp_flow("10.0.0.5", 40001, "192.0.2.1", 30053, "10.244.1.2");
    node.conntrack.flows = {kept, udp_flow("10.0.0.6", 40002, "192.0.2.1", 30053, "10.244.2.2"),
                            udp_flow("10.0.0.7", 40003, "198.51.100.7", 30053, "10.244.2.2")};
    auto report = node.reconciler.apply(
        desired, desired.set_service("kube-system/dns", udp_node_port("10.96.0.10", "192.0.2.1", 30053, {"10.244.1.2"})));
    CHECK(report.failures.empty());
    CHECK(report.conntrack_flushed_total() == 2);
    CHECK(node.conntrack.flows == std::vector{kept});
}

TEST_CASE("each proxied family with UDP services is swept on its own", "[conntrack]") {
    test::FakeIpvs ipvs;
    test::FakeIpset ipset;
    test::FakeLinks links;
    test::FakeIptables v4, v6;
    test::FakeConntrack conntrack;
    ReconcilerOptions options;
    options.families = {model::Family::v4, model::Family::v6};
    Reconciler reconciler{
        KernelHandles{ipvs, ipset, links, {{model::Family::v4, &v4}, {model::Family::v6, &v6}}, &conntrack}, options};
    DesiredState desired;
    desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2"}, Protocol::udp));
    auto v6_stale = flow_to("fd00::5", 40001, "fd00:96::a", 53, "fd00:244::9", 5353);
    conntrack.flows = {v6_stale};
    auto report = reconciler.full_sync(desired);
    // No IPv6 UDP service: no IPv6 table read.
    REQUIRE(conntrack.sweeps.size() == 1);
    CHECK(conntrack.sweeps[0].family == model::Family::v4);

    ServicePlan dns6;
    kernel::ServiceTable table;
    table.service.address = ip("fd00:96::a");
    table.service.family = model::Family::v6;
    table.service.port = 53;
    table.service.protocol = Protocol::udp;
    kernel::RealServer d;
    d.address = ip("fd00:244::2");
    d.port = 5353;
    table.destinations.push_back(d);
    dns6.virtual_servers.push_back(PlannedVirtualServer::of(table));
    report = reconciler.apply(desired, desired.set_service("kube-system/dns6", dns6));
    CHECK(report.failures.empty());
    REQUIRE(conntrack.sweeps.size() == 2);
    CHECK(conntrack.sweeps[1].family == model::Family::v6);
    CHECK(report.conntrack_flushed == std::map<model::Family, std::size_t>{{model::Family::v6, 1}});
    CHECK(conntrack.flows.empty());
}

TEST_CASE("a failed sweep is reported with its family and scope; the sync's writes stand", "[conntrack]") {
    Node node;
    DesiredState desired;
    desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2", "10.244.2.2"}, Protocol::udp));
    node.reconciler.full_sync(desired);
    node.conntrack.fail_with = "conntrack netlink not available";
    auto report = node.reconciler.apply(
        desired, desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2"}, Protocol::udp)));
    CHECK(report.dest_deleted == 1);
    CHECK(report.failures ==
          std::vector<std::string>{"conntrack sweep of the IPv4 UDP flows (1 service address(es), 0 NodePort(s), 0 "
                                   "deleted virtual server(s)): conntrack netlink not available"});
    report = node.reconciler.apply(desired, desired.remove_service("kube-system/dns"));
    CHECK(report.vs_deleted == 1);
    CHECK(node.ipvs.services().empty());
    CHECK(report.failures.size() == 1);
}

TEST_CASE("a stale UDP virtual server found at start is swept with it", "[conntrack]") {
    Node node;
    DesiredState desired;
    desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2"}, Protocol::udp));
    node.reconciler.full_sync(desired);
    node.conntrack.flows = {udp_flow("10.0.0.5", 40001, "10.96.0.10", 53, "10.244.1.2")};
    // A restart into a desired state without it: the kernel's copy is stale.
    Reconciler restarted{KernelHandles{node.ipvs, node.ipset, node.links, {{model::Family::v4, &node.iptables}},
                                       &node.conntrack},
                         ReconcilerOptions{}};
    auto report = restarted.full_sync(DesiredState{});
    CHECK(report.vs_deleted == 1);
    CHECK(report.conntrack_flushed_total() == 1);
    CHECK(node.conntrack.flows.empty());
}

TEST_CASE("a deleted TCP service and a drained TCP destination sweep nothing", "[conntrack]") {
    Node node;
    DesiredState desired;
    desired.set_service("default/web", cluster_ip("10.96.0.20", 80, {"10.244.1.2", "10.244.2.2"}, Protocol::tcp));
    node.reconciler.full_sync(desired);
    // Busy when it leaves, so it drains at weight 0 before the delete.
    auto service = cluster_ip("10.96.0.20", 80, {"10.244.2.2"}, Protocol::tcp).virtual_servers[0];
    const auto& leaving = service.destinations[0];
    node.ipvs.set_connections(service.service, leaving.real_server(), 1, 0);
    auto report = node.reconciler.apply(
        desired, desired.set_service("default/web", cluster_ip("10.96.0.20", 80, {"10.244.1.2"}, Protocol::tcp)));
    CHECK(report.dest_quiesced == 1);
    node.ipvs.set_connections(service.service, leaving.real_server(), 0, 0);
    auto reaped = node.reconciler.reap(std::chrono::steady_clock::now());
    CHECK(reaped.dest_deleted == 1);
    report = node.reconciler.apply(desired, desired.remove_service("default/web"));
    CHECK(report.vs_deleted == 1);
    CHECK(node.conntrack.sweeps.empty());
    CHECK_THAT(report.summary(), !Catch::Contains("flushed"));
}

TEST_CASE("the sweep's deletions are counted per family in kube-proxy's metric", "[conntrack]") {
    Node node;
    DesiredState desired;
    desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2"}, Protocol::udp));
    node.conntrack.flows = {udp_flow("10.0.0.5", 40001, "10.96.0.10", 53, "10.244.2.2"),
                            flow_to("10.0.0.6", 40002, "10.96.0.10", 53, "10.96.0.10", 53)};
    auto first = node.reconciler.full_sync(desired);
    node.conntrack.flows = {udp_flow("10.0.0.7", 40003, "10.96.0.10", 53, "10.244.1.2")};
    auto second = node.reconciler.apply(
        desired, desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.3.2"}, Protocol::udp)));
    REQUIRE(first.conntrack_flushed_total() == 2);
    REQUIRE(second.conntrack_flushed_total() == 1);

    auto start = server::WallClock::time_point{} + std::chrono::hours(1);
    server::Monitor monitor({model::Family::v4, model::Family::v6}, std::chrono::seconds(60), start);
    monitor.synced(first, std::chrono::milliseconds(3), start, {});
    monitor.synced(second, std::chrono::milliseconds(3), start, {});
    server::ExpositionWriter out;
    monitor.write_proxy_metrics(out, ObjectStore{});
    CHECK_THAT(out.text(), Catch::Contains("# TYPE kubeproxy_conntrack_reconciler_deleted_entries_total counter\n"));
    CHECK_THAT(out.text(), Catch::Contains("kubeproxy_conntrack_reconciler_deleted_entries_total{ip_family=\"IPv4\"} 3\n"));
    CHECK_THAT(out.text(), Catch::Contains("kubeproxy_conntrack_reconciler_deleted_entries_total{ip_family=\"IPv6\"} 0\n"));
}

TEST_CASE("ctnetlink flows encode and decode to the same value", "[conntrack]") {
    char buf[kernel::conntrack_codec::max_message_size];
    auto v4 = udp_flow("10.0.0.5", 40001, "10.96.0.10", 53, "10.244.2.2");
    v4.zone = 7;
    ConntrackFlow v6{{ip("fd00::5"), ip("fd00:96::a"), IPPROTO_UDP, 1234, 53},
                     {ip("fd00:244::2"), ip("fd00::5"), IPPROTO_UDP, 5353, 1234},
                     0};
    ConntrackFlow icmp{{ip("10.0.0.5"), ip("10.0.0.6"), IPPROTO_ICMP, 0, 0},
                       {ip("10.0.0.6"), ip("10.0.0.5"), IPPROTO_ICMP, 0, 0},
                       0};
    for (const auto& flow : {v4, v6, icmp}) {
        nlmsghdr* m = kernel::conntrack_codec::put_flow(buf, IPCTNL_MSG_CT_NEW, NLM_F_REQUEST, 1, flow, true);
        auto back = kernel::conntrack_codec::decode_flow(m);
        REQUIRE(back);
        CHECK(*back == flow);
    }
}

TEST_CASE("ctnetlink entries without both tuples are skipped, truncated ones too", "[conntrack]") {
    char buf[kernel::conntrack_codec::max_message_size];
    auto flow = udp_flow("10.0.0.5", 40001, "10.96.0.10", 53, "10.244.2.2");
    // Only the original tuple (what a delete request carries).
    nlmsghdr* m = kernel::conntrack_codec::put_flow(buf, IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST, 1, flow, false);
    CHECK_FALSE(kernel::conntrack_codec::decode_flow(m));
    // Every shorter length of a complete message: never a crash, never a wrong flow.
    m = kernel::conntrack_codec::put_flow(buf, IPCTNL_MSG_CT_NEW, NLM_F_REQUEST, 1, flow, true);
    std::uint32_t full = m->nlmsg_len;
    for (std::uint32_t len = 0; len < full; ++len) {
        m->nlmsg_len = len;
        auto back = kernel::conntrack_codec::decode_flow(m);
        if (back) CHECK(*back == flow);
    }
}
