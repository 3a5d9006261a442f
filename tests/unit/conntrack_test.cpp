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
#include "proxy/reconciler.hpp"

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

TEST_CASE("a removed UDP destination has its stale flows flushed", "[conntrack]") {
    Node node;
    DesiredState desired;
    desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2", "10.244.2.2"}, Protocol::udp));
    node.reconciler.full_sync(desired);
    CHECK(node.conntrack.calls.empty());
    node.conntrack.flows = {udp_flow("10.0.0.5", 40001, "10.96.0.10", 53, "10.244.2.2"),
                            udp_flow("10.0.0.6", 40002, "10.96.0.10", 53, "10.244.2.2"),
                            udp_flow("10.0.0.7", 40003, "10.96.0.10", 53, "10.244.1.2")};

    auto report = node.reconciler.apply(
        desired, desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2"}, Protocol::udp)));
    CHECK(report.failures.empty());
    CHECK(report.dest_deleted == 1);
    REQUIRE(node.conntrack.calls.size() == 1);
    CHECK(node.conntrack.calls[0] == test::FakeConntrack::Call{ip("10.96.0.10"), 53, ip("10.244.2.2"), 5353});
    CHECK(report.conntrack_flushed == 2);
    CHECK(node.conntrack.flows == std::vector{udp_flow("10.0.0.7", 40003, "10.96.0.10", 53, "10.244.1.2")});
    CHECK_THAT(report.summary(), Catch::Contains(", 2 UDP flows flushed"));
}

TEST_CASE("a drained TCP destination flushes nothing", "[conntrack]") {
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
    CHECK(node.conntrack.calls.empty());
    CHECK(report.conntrack_flushed + reaped.conntrack_flushed == 0);
    CHECK_THAT(report.summary(), !Catch::Contains("flushed"));
}

TEST_CASE("a failed flush is reported with its destination; the delete stands", "[conntrack]") {
    Node node;
    node.conntrack.fail_with = "conntrack netlink not available";
    DesiredState desired;
    desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2", "10.244.2.2"}, Protocol::udp));
    node.reconciler.full_sync(desired);
    auto report = node.reconciler.apply(
        desired, desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2"}, Protocol::udp)));
    CHECK(report.dest_deleted == 1);
    CHECK(report.failures == std::vector<std::string>{
                                 "flushing UDP flows of UDP 10.96.0.10:53 to 10.244.2.2:5353: conntrack netlink not available"});
}

// A UDP service with a NodePort: the ClusterIP and one node address.
ServicePlan udp_node_port(const char* vip, const char* node, std::uint16_t node_port) {
    ServicePlan plan = cluster_ip(vip, 53, {"10.244.1.2", "10.244.2.2"}, Protocol::udp);
    PlannedVirtualServer table = plan.virtual_servers[0];
    table.service.address = ip(node);
    table.service.port = node_port;
    plan.virtual_servers.push_back(table);
    return plan;
}

TEST_CASE("a deleted UDP service has all its flows flushed, on every address, in one call", "[conntrack]") {
    Node node;
    DesiredState desired;
    desired.set_service("kube-system/dns", udp_node_port("10.96.0.10", "192.0.2.1", 30053));
    desired.set_service("kube-system/other", cluster_ip("10.96.0.11", 53, {"10.244.1.2"}, Protocol::udp));
    node.reconciler.full_sync(desired);
    auto other = udp_flow("10.0.0.9", 40009, "10.96.0.11", 53, "10.244.1.2");
    auto tcp = udp_flow("10.0.0.8", 40008, "10.96.0.10", 53, "10.244.1.2");
    tcp.original.protocol = tcp.reply.protocol = IPPROTO_TCP;
    node.conntrack.flows = {udp_flow("10.0.0.5", 40001, "10.96.0.10", 53, "10.244.2.2"),
                            udp_flow("10.0.0.6", 40002, "10.96.0.10", 53, "10.244.1.2"),
                            udp_flow("10.0.0.7", 40003, "192.0.2.1", 30053, "10.244.1.2"),
                            other, tcp};

    auto report = node.reconciler.apply(desired, desired.remove_service("kube-system/dns"));
    CHECK(report.failures.empty());
    CHECK(report.vs_deleted == 2);
    // The kernel deletes a virtual server's destinations with it: no
    // per-destination call, one call for the batch of services.
    CHECK(node.conntrack.calls.empty());
    REQUIRE(node.conntrack.service_calls.size() == 1);
    auto called = node.conntrack.service_calls[0];
    std::sort(called.begin(), called.end(), [](const auto& a, const auto& b) { return a.address < b.address; });
    CHECK(called == std::vector<model::HostPort>{{ip("10.96.0.10"), 53}, {ip("192.0.2.1"), 30053}});
    CHECK(report.conntrack_flushed == 3);
    CHECK(node.conntrack.flows == std::vector{other, tcp});
    CHECK_THAT(report.summary(), Catch::Contains(", 3 UDP flows flushed"));
}

TEST_CASE("a deleted TCP service flushes nothing", "[conntrack]") {
    Node node;
    DesiredState desired;
    desired.set_service("default/web", cluster_ip("10.96.0.20", 80, {"10.244.1.2"}, Protocol::tcp));
    node.reconciler.full_sync(desired);
    auto report = node.reconciler.apply(desired, desired.remove_service("default/web"));
    CHECK(report.vs_deleted == 1);
    CHECK(node.conntrack.calls.empty());
    CHECK(node.conntrack.service_calls.empty());
}

TEST_CASE("a stale UDP virtual server found at start is flushed with it", "[conntrack]") {
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
    CHECK(report.conntrack_flushed == 1);
    CHECK(node.conntrack.flows.empty());
}

TEST_CASE("a failed service flush is reported with the service; the delete stands", "[conntrack]") {
    Node node;
    DesiredState desired;
    desired.set_service("kube-system/dns", cluster_ip("10.96.0.10", 53, {"10.244.1.2"}, Protocol::udp));
    node.reconciler.full_sync(desired);
    node.conntrack.fail_with = "conntrack netlink not available";
    auto report = node.reconciler.apply(desired, desired.remove_service("kube-system/dns"));
    CHECK(report.vs_deleted == 1);
    CHECK(node.ipvs.services().empty());
    CHECK(report.failures == std::vector<std::string>{"flushing UDP flows of 1 deleted service(s) (UDP 10.96.0.10:53): "
                                                      "conntrack netlink not available"});
}

TEST_CASE("udp_flows_to selects UDP flows by original destination, in both families", "[conntrack]") {
    auto a = udp_flow("10.0.0.5", 40001, "10.96.0.10", 53, "10.244.1.2");
    auto b = udp_flow("10.0.0.5", 40002, "10.96.0.10", 54, "10.244.1.2");
    ConntrackFlow v6{{ip("fd00::5"), ip("fd00:96::a"), IPPROTO_UDP, 40003, 53},
                     {ip("fd00:244::2"), ip("fd00::5"), IPPROTO_UDP, 53, 40003}, 0};
    auto sctp = a;
    sctp.original.protocol = sctp.reply.protocol = IPPROTO_SCTP;
    std::vector<ConntrackFlow> flows{a, b, v6, sctp};
    CHECK(kernel::udp_flows_to(flows, {{ip("10.96.0.10"), 53}}) == std::vector{a});
    CHECK(kernel::udp_flows_to(flows, {{ip("fd00:96::a"), 53}, {ip("10.96.0.10"), 54}}) == std::vector{b, v6});
    CHECK(kernel::udp_flows_to(flows, {{ip("10.0.0.5"), 40001}}).empty());
    CHECK(kernel::udp_flows_to(flows, {}).empty());
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
