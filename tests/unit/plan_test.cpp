#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "proxy/service_plan.hpp"

using namespace kipvs;
using namespace kipvs::proxy;
using kernel::KubeSet;
using model::Family;
using model::Protocol;
using model::ServiceType;
using model::TrafficPolicy;

namespace {

model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }
model::Cidr cidr(const char* text) { return *model::Cidr::parse(text); }

model::Service service(ServiceType type = ServiceType::cluster_ip, const char* cluster_ip = "10.96.0.10") {
    model::Service s;
    s.namespace_name = "default";
    s.name = "web";
    s.type = type;
    s.cluster_ips = {ip(cluster_ip)};
    s.ip_families = {s.cluster_ips[0].family};
    std::uint16_t node_port = type == ServiceType::node_port || type == ServiceType::load_balancer ? 30080 : 0;
    s.ports = {{"http", Protocol::tcp, 80, node_port}};
    return s;
}

model::Endpoint endpoint(const char* address, const char* node = "node-b") {
    model::Endpoint e;
    e.address = ip(address);
    e.node_name = node;
    return e;
}

model::Endpoint terminating(model::Endpoint e, bool serving = true) {
    e.ready = false;
    e.serving = serving;
    e.terminating = true;
    return e;
}

model::EndpointSlice slice(std::vector<model::Endpoint> endpoints, const char* name = "web-abc",
                           std::uint16_t port = 8080) {
    model::EndpointSlice s;
    s.namespace_name = "default";
    s.name = name;
    s.service_name = "web";
    s.address_type = !endpoints.empty() && endpoints[0].address.family == Family::v6 ? model::AddressType::ipv6
                                                                                       : model::AddressType::ipv4;
    s.endpoints = std::move(endpoints);
    s.ports = {{std::string("http"), Protocol::tcp, port}};
    return s;
}

// This node: two NodePort addresses, one extra local address, zone-a.
NodeFacts node() {
    NodeFacts n;
    n.name = "node-a";
    n.zone = "zone-a";
    n.node_port_addresses = {ip("192.168.1.10"), ip("10.0.0.5"), ip("fd00::10")};
    n.local_addresses = {ip("192.168.1.10"), ip("10.0.0.5"), ip("203.0.113.7"), ip("fd00::10")};
    n.node_ips = {ip("192.168.1.10"), ip("fd00::10")};
    return n;
}

PlanOptions v4_only() { return PlanOptions{}; }
PlanOptions dual_stack() {
    PlanOptions o;
    o.families = {Family::v4, Family::v6};
    return o;
}

ServicePlan plan(const model::Service& s, const std::vector<model::EndpointSlice>& slices,
                 const PlanOptions& options = v4_only(), const NodeFacts& n = node()) {
    std::vector<const model::EndpointSlice*> pointers;
    for (const auto& sl : slices) pointers.push_back(&sl);
    return plan_service(s, pointers, n, options);
}

// "TCP 10.96.0.10:80 -> 10.244.1.2:8080 10.244.2.3:8080", in plan order.
std::vector<std::string> virtual_servers(const ServicePlan& p) {
    std::vector<std::string> out;
    for (const auto& t : p.virtual_servers) {
        std::string line = t.service.describe();
        line += " ->";
        for (const auto& d : t.destinations) {
            line += ' ';
            line += d.describe();
        }
        out.push_back(line);
    }
    return out;
}

// The destinations of the one virtual server at address:port.
std::vector<std::string> destinations(const ServicePlan& p, const char* address, std::uint16_t port) {
    std::vector<std::string> out;
    for (const auto& t : p.virtual_servers) {
        if (t.service.address != ip(address) || t.service.port != port) continue;
        for (const auto& d : t.destinations) out.push_back(d.describe());
        return out;
    }
    FAIL("no virtual server " << address << ":" << port);
    return out;
}

// "KUBE-CLUSTER-IP 10.96.0.10,tcp:80", sorted as strings.
std::vector<std::string> entries(const ServicePlan& p) {
    std::vector<std::string> out;
    for (const auto& e : p.set_entries) {
        std::string line = kernel::kube_set_name(e.set, e.family);
        line += ' ';
        line += e.entry;
        out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> entries_of(const ServicePlan& p, KubeSet set) {
    std::vector<std::string> out;
    for (const auto& e : p.set_entries)
        if (e.set == set) out.push_back(e.entry);
    return out;
}

std::vector<std::string> bound(const ServicePlan& p) {
    std::vector<std::string> out;
    for (const auto& a : p.bound_addresses) out.push_back(a.to_string());
    return out;
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("a ClusterIP service: one bound virtual server, masqueraded destinations of weight 1", "[plan]") {
    auto p = plan(service(), {slice({endpoint("10.244.2.3"), endpoint("10.244.1.2")})});
    CHECK(virtual_servers(p) == Lines{"TCP 10.96.0.10:80 -> 10.244.1.2:8080 10.244.2.3:8080"});
    CHECK(entries(p) == Lines{"KUBE-CLUSTER-IP 10.96.0.10,tcp:80", "KUBE-IPVS-IPS 10.96.0.10"});
    CHECK(bound(p) == Lines{"10.96.0.10"});
    CHECK(p.out_filters.empty());
    CHECK(p.events.empty());

    REQUIRE(p.virtual_servers.size() == 1);
    const auto& vs = p.virtual_servers[0].service;
    CHECK(vs.family == Family::v4);
    CHECK(vs.protocol == kernel::Protocol::tcp);
    CHECK(vs.scheduler == "rr");
    CHECK(vs.flags == 0);
    CHECK(vs.timeout == 0);
    CHECK(vs.netmask == 0);  // the whole address, as the codec decodes 255.255.255.255
    for (const auto& d : p.virtual_servers[0].destinations) {
        CHECK(d.weight == 1);
        CHECK(d.real_server().forwarding == kernel::Forwarding::masquerade);
        CHECK(d.real_server().upper_threshold == 0);
        CHECK(d.real_server().lower_threshold == 0);
    }
}

TEST_CASE("a service without endpoints still gets its virtual servers, with no destinations", "[plan]") {
    auto p = plan(service(ServiceType::node_port), {});
    CHECK(virtual_servers(p) == Lines{"TCP 10.0.0.5:30080 ->", "TCP 10.96.0.10:80 ->", "TCP 192.168.1.10:30080 ->"});
}

TEST_CASE("NodePort: a virtual server on every node address of the family, never bound", "[plan]") {
    struct Row {
        Protocol protocol;
        Lines entries;
    };
    auto row = GENERATE(values<Row>({
        {Protocol::tcp,
         {"KUBE-CLUSTER-IP 10.96.0.10,tcp:80", "KUBE-IPVS-IPS 10.96.0.10", "KUBE-NODE-PORT-TCP 30080"}},
        {Protocol::udp,
         {"KUBE-CLUSTER-IP 10.96.0.10,udp:80", "KUBE-IPVS-IPS 10.96.0.10", "KUBE-NODE-PORT-UDP 30080"}},
        {Protocol::sctp,
         {"KUBE-CLUSTER-IP 10.96.0.10,sctp:80", "KUBE-IPVS-IPS 10.96.0.10",
          "KUBE-NODE-PORT-SCTP-HASH 10.0.0.5,sctp:30080", "KUBE-NODE-PORT-SCTP-HASH 192.168.1.10,sctp:30080"}},
    }));
    auto s = service(ServiceType::node_port);
    s.ports[0].protocol = row.protocol;
    auto sl = slice({endpoint("10.244.1.2")});
    sl.ports[0].protocol = row.protocol;
    auto p = plan(s, {sl});
    std::string proto(kernel::protocol_name(p.virtual_servers.at(0).service.protocol));
    CHECK(virtual_servers(p) == Lines{proto + " 10.0.0.5:30080 -> 10.244.1.2:8080",
                                      proto + " 10.96.0.10:80 -> 10.244.1.2:8080",
                                      proto + " 192.168.1.10:30080 -> 10.244.1.2:8080"});
    CHECK(entries(p) == row.entries);
    CHECK(bound(p) == Lines{"10.96.0.10"});
}

TEST_CASE("eTP=Local NodePort adds the -LOCAL sets and the health-check node port", "[plan]") {
    auto s = service(ServiceType::load_balancer);
    s.external_traffic_policy = TrafficPolicy::local;
    s.health_check_node_port = 32000;
    s.ports.push_back({"dns", Protocol::udp, 53, 30053});
    s.ports.push_back({"sig", Protocol::sctp, 5060, 30060});
    auto p = plan(s, {});
    CHECK(entries(p) == Lines{
                            "KUBE-CLUSTER-IP 10.96.0.10,sctp:5060",
                            "KUBE-CLUSTER-IP 10.96.0.10,tcp:80",
                            "KUBE-CLUSTER-IP 10.96.0.10,udp:53",
                            "KUBE-HEALTH-CHECK-NODE-PORT 32000",
                            "KUBE-IPVS-IPS 10.96.0.10",
                            "KUBE-NODE-PORT-LOCAL-SCTP-HASH 10.0.0.5,sctp:30060",
                            "KUBE-NODE-PORT-LOCAL-SCTP-HASH 192.168.1.10,sctp:30060",
                            "KUBE-NODE-PORT-LOCAL-TCP 30080",
                            "KUBE-NODE-PORT-LOCAL-UDP 30053",
                            "KUBE-NODE-PORT-SCTP-HASH 10.0.0.5,sctp:30060",
                            "KUBE-NODE-PORT-SCTP-HASH 192.168.1.10,sctp:30060",
                            "KUBE-NODE-PORT-TCP 30080",
                            "KUBE-NODE-PORT-UDP 30053",
                        });
}

TEST_CASE("only NodePort and LoadBalancer services use their nodePorts", "[plan]") {
    auto s = service();
    s.ports[0].node_port = 30080;  // left over from a type change
    auto p = plan(s, {});
    CHECK(virtual_servers(p) == Lines{"TCP 10.96.0.10:80 ->"});
    CHECK(entries_of(p, KubeSet::node_port_tcp).empty());
}

TEST_CASE("a NodePort with no node address of the family gets no NodePort sets, as upstream", "[plan]") {
    auto s = service(ServiceType::load_balancer);
    s.health_check_node_port = 32000;
    auto n = node();
    n.node_port_addresses.clear();
    auto p = plan(s, {}, v4_only(), n);
    CHECK(virtual_servers(p) == Lines{"TCP 10.96.0.10:80 ->"});
    CHECK(entries(p) == Lines{"KUBE-CLUSTER-IP 10.96.0.10,tcp:80", "KUBE-IPVS-IPS 10.96.0.10"});
}

TEST_CASE("LoadBalancer ingress: VIP bound unless local, ipMode Proxy and other families skipped", "[plan]") {
    auto s = service(ServiceType::load_balancer);
    s.load_balancer_ingress = {{ip("198.51.100.20"), false},
                               {ip("203.0.113.7"), false},   // already a node address
                               {ip("198.51.100.30"), true},  // ipMode: Proxy
                               {ip("2001:db8::20"), false}};
    auto p = plan(s, {slice({endpoint("10.244.1.2")})});
    CHECK(virtual_servers(p) == Lines{
                                    "TCP 10.0.0.5:30080 -> 10.244.1.2:8080",
                                    "TCP 10.96.0.10:80 -> 10.244.1.2:8080",
                                    "TCP 192.168.1.10:30080 -> 10.244.1.2:8080",
                                    "TCP 198.51.100.20:80 -> 10.244.1.2:8080",
                                    "TCP 203.0.113.7:80 -> 10.244.1.2:8080",
                                });
    CHECK(bound(p) == Lines{"10.96.0.10", "198.51.100.20"});
    CHECK(entries(p) == Lines{
                            "KUBE-CLUSTER-IP 10.96.0.10,tcp:80",
                            "KUBE-IPVS-IPS 10.96.0.10",
                            "KUBE-IPVS-IPS 198.51.100.20",
                            "KUBE-LOAD-BALANCER 198.51.100.20,tcp:80",
                            "KUBE-LOAD-BALANCER 203.0.113.7,tcp:80",
                            "KUBE-NODE-PORT-TCP 30080",
                        });
}

TEST_CASE("loadBalancerSourceRanges: firewall sets, and node access only if a range holds the node IP", "[plan]") {
    struct Row {
        std::vector<const char*> ranges;
        Lines firewall;  // every LB-specific entry beyond KUBE-LOAD-BALANCER
        bool out_filter;
    };
    auto row = GENERATE(values<Row>({
        // The node (192.168.1.10) is inside: node-originated traffic passes.
        {{"192.168.0.0/16", "172.16.0.0/12"},
         {"KUBE-LOAD-BALANCER-FW 198.51.100.20,tcp:80",
          "KUBE-LOAD-BALANCER-SOURCE-CIDR 198.51.100.20,tcp:80,172.16.0.0/12",
          "KUBE-LOAD-BALANCER-SOURCE-CIDR 198.51.100.20,tcp:80,192.168.0.0/16",
          "KUBE-LOAD-BALANCER-SOURCE-IP 198.51.100.20,tcp:80,198.51.100.20"},
         false},
        // It is not: an out filter drops it; a /32 range is written as an address.
        {{"172.16.0.0/12", "192.0.2.1/32"},
         {"KUBE-LOAD-BALANCER-FW 198.51.100.20,tcp:80",
          "KUBE-LOAD-BALANCER-SOURCE-CIDR 198.51.100.20,tcp:80,172.16.0.0/12",
          "KUBE-LOAD-BALANCER-SOURCE-CIDR 198.51.100.20,tcp:80,192.0.2.1"},
         true},
        // Only ranges of the other family: none for this family, as kube-proxy's per-family view.
        {{"2001:db8::/32"}, {}, false},
        {{}, {}, false},
    }));
    auto s = service(ServiceType::load_balancer);
    s.load_balancer_ingress = {{ip("198.51.100.20"), false}};
    for (const char* r : row.ranges) s.load_balancer_source_ranges.push_back(cidr(r));
    auto p = plan(s, {});
    Lines lb;
    for (const auto& line : entries(p))
        if (line.rfind("KUBE-LOAD-BALANCER-", 0) == 0) lb.push_back(line);
    CHECK(lb == row.firewall);
    CHECK(entries_of(p, KubeSet::load_balancer) == Lines{"198.51.100.20,tcp:80"});
    if (row.out_filter) {
        REQUIRE(p.out_filters.size() == 1);
        CHECK(p.out_filters[0] == kernel::LoadBalancerOutFilter{ip("198.51.100.20"), "tcp", 80});
    } else {
        CHECK(p.out_filters.empty());
    }
    CHECK(p.events.empty());
}

TEST_CASE("a /0 source range cannot be stored in hash:net: left out with an event", "[plan]") {
    auto s = service(ServiceType::load_balancer);
    s.load_balancer_ingress = {{ip("198.51.100.20"), false}};
    s.load_balancer_source_ranges = {cidr("0.0.0.0/0")};
    auto p = plan(s, {});
    CHECK(entries_of(p, KubeSet::load_balancer_source_cidr).empty());
    CHECK(entries_of(p, KubeSet::load_balancer_source_ip) == Lines{"198.51.100.20,tcp:80,198.51.100.20"});
    REQUIRE(p.events.size() == 1);
    CHECK(p.events[0].rfind("default/web: KUBE-LOAD-BALANCER-SOURCE-CIDR entry left out: ", 0) == 0);
}

TEST_CASE("LoadBalancer with eTP=Local adds KUBE-LOAD-BALANCER-LOCAL", "[plan]") {
    auto s = service(ServiceType::load_balancer);
    s.external_traffic_policy = TrafficPolicy::local;
    s.load_balancer_ingress = {{ip("198.51.100.20"), false}};
    auto p = plan(s, {});
    CHECK(entries_of(p, KubeSet::load_balancer) == Lines{"198.51.100.20,tcp:80"});
    CHECK(entries_of(p, KubeSet::load_balancer_local) == Lines{"198.51.100.20,tcp:80"});
}

TEST_CASE("externalIPs: bound unless already a node address; the set follows eTP", "[plan]") {
    auto policy = GENERATE(TrafficPolicy::cluster, TrafficPolicy::local);
    auto s = service();
    s.external_traffic_policy = policy;
    s.external_ips = {ip("203.0.113.50"), ip("203.0.113.7"), ip("2001:db8::50")};
    auto p = plan(s, {slice({endpoint("10.244.1.2")})});
    CHECK(virtual_servers(p) == Lines{"TCP 10.96.0.10:80 -> 10.244.1.2:8080",
                                      "TCP 203.0.113.7:80 -> 10.244.1.2:8080",
                                      "TCP 203.0.113.50:80 -> 10.244.1.2:8080"});
    CHECK(bound(p) == Lines{"10.96.0.10", "203.0.113.50"});
    CHECK(entries_of(p, KubeSet::ipvs_ips) == Lines{"10.96.0.10", "203.0.113.50"});
    Lines both{"203.0.113.50,tcp:80", "203.0.113.7,tcp:80"};  // sorted as text
    CHECK(entries_of(p, KubeSet::external_ip) == (policy == TrafficPolicy::cluster ? both : Lines{}));
    CHECK(entries_of(p, KubeSet::external_ip_local) == (policy == TrafficPolicy::local ? both : Lines{}));
}

TEST_CASE("services kube-proxy does not proxy give an empty plan", "[plan]") {
    auto s = service(ServiceType::load_balancer);
    SECTION("ExternalName") { s.type = ServiceType::external_name; }
    SECTION("headless") { s.headless = true; }
    SECTION("service-proxy-name label, any value") {
        s.labels = {{"service.kubernetes.io/service-proxy-name", ""}};
    }
    SECTION("headless label") { s.labels = {{"service.kubernetes.io/headless", ""}}; }
    SECTION("a family this node does not proxy, even with a bad annotation") {
        s.cluster_ips = {ip("fd00:96::10")};
        s.scheduler = "bogus";
    }
    CHECK(plan(s, {slice({endpoint("10.244.1.2")})}) == ServicePlan{});
}

TEST_CASE("other labels do not stop proxying", "[plan]") {
    auto s = service();
    s.labels = {{"app", "web"}, {"service.kubernetes.io/topology-mode", "auto"}};
    CHECK(plan(s, {}).virtual_servers.size() == 1);
}

TEST_CASE("IPv6 uses the KUBE-6 sets, including the two truncated names", "[plan]") {
    auto s = service(ServiceType::load_balancer, "fd00:96::10");
    s.ports = {{"sig", Protocol::sctp, 5060, 30060}};
    s.external_traffic_policy = TrafficPolicy::local;
    s.load_balancer_ingress = {{ip("2001:db8::20"), false}};
    s.load_balancer_source_ranges = {cidr("2001:db8:1::/48")};
    auto sl = slice({endpoint("fd00:244::2", "node-a")});
    sl.ports = {{std::string("sig"), Protocol::sctp, std::uint16_t(5060)}};
    PlanOptions o;
    o.families = {Family::v6};
    auto p = plan(s, {sl}, o);
    CHECK(virtual_servers(p) == Lines{"SCTP [2001:db8::20]:5060 -> [fd00:244::2]:5060",
                                      "SCTP [fd00::10]:30060 -> [fd00:244::2]:5060",
                                      "SCTP [fd00:96::10]:5060 -> [fd00:244::2]:5060"});
    CHECK(entries(p) == Lines{
                            "KUBE-6-CLUSTER-IP fd00:96::10,sctp:5060",
                            "KUBE-6-IPVS-IPS 2001:db8::20",
                            "KUBE-6-IPVS-IPS fd00:96::10",
                            "KUBE-6-LOAD-BALANCER 2001:db8::20,sctp:5060",
                            "KUBE-6-LOAD-BALANCER-FW 2001:db8::20,sctp:5060",
                            "KUBE-6-LOAD-BALANCER-LOCAL 2001:db8::20,sctp:5060",
                            "KUBE-6-LOAD-BALANCER-SOURCE-CID 2001:db8::20,sctp:5060,2001:db8:1::/48",
                            "KUBE-6-LOOP-BACK fd00:244::2,sctp:5060,fd00:244::2",
                            "KUBE-6-NODE-PORT-LOCAL-SCTP-HAS fd00::10,sctp:30060",
                            "KUBE-6-NODE-PORT-SCTP-HASH fd00::10,sctp:30060",
                        });
    for (const auto& e : p.set_entries) CHECK(e.family == Family::v6);
    REQUIRE(p.out_filters.size() == 1);
    CHECK(p.out_filters[0].address == ip("2001:db8::20"));
    CHECK(p.out_filters[0].protocol == "sctp");
}

TEST_CASE("dual-stack: each proxied family from its own cluster IP and slices", "[plan]") {
    auto s = service();
    s.cluster_ips = {ip("10.96.0.10"), ip("fd00:96::10")};
    s.ip_families = {Family::v4, Family::v6};
    std::vector<model::EndpointSlice> slices = {slice({endpoint("10.244.1.2")}, "web-v4"),
                                                slice({endpoint("fd00:244::2")}, "web-v6")};
    SECTION("both families proxied") {
        auto p = plan(s, slices, dual_stack());
        CHECK(virtual_servers(p) ==
              Lines{"TCP 10.96.0.10:80 -> 10.244.1.2:8080", "TCP [fd00:96::10]:80 -> [fd00:244::2]:8080"});
        CHECK(bound(p) == Lines{"10.96.0.10", "fd00:96::10"});
        CHECK(entries(p) == Lines{"KUBE-6-CLUSTER-IP fd00:96::10,tcp:80", "KUBE-6-IPVS-IPS fd00:96::10",
                                  "KUBE-CLUSTER-IP 10.96.0.10,tcp:80", "KUBE-IPVS-IPS 10.96.0.10"});
    }
    SECTION("only IPv4 proxied") {
        auto p = plan(s, slices, v4_only());
        CHECK(virtual_servers(p) == Lines{"TCP 10.96.0.10:80 -> 10.244.1.2:8080"});
        CHECK(entries(p) == Lines{"KUBE-CLUSTER-IP 10.96.0.10,tcp:80", "KUBE-IPVS-IPS 10.96.0.10"});
    }
    SECTION("FQDN slices are ignored") {
        auto fqdn = slice({}, "web-fqdn");
        fqdn.address_type = model::AddressType::fqdn;
        auto p = plan(s, {fqdn}, dual_stack());
        CHECK(virtual_servers(p) == Lines{"TCP 10.96.0.10:80 ->", "TCP [fd00:96::10]:80 ->"});
    }
}

TEST_CASE("ready endpoints first; with none ready, serving-terminating ones", "[plan]") {
    struct Row {
        std::vector<model::Endpoint> endpoints;
        Lines expected;
    };
    auto row = GENERATE(values<Row>({
        {{endpoint("10.244.1.2"), terminating(endpoint("10.244.1.3"))}, {"10.244.1.2:8080"}},
        {{terminating(endpoint("10.244.1.3")), terminating(endpoint("10.244.1.4"), false)}, {"10.244.1.3:8080"}},
        {{terminating(endpoint("10.244.1.4"), false)}, {}},
        // Not ready, not terminating (starting up): never a destination.
        {{[] {
             auto e = endpoint("10.244.1.5");
             e.ready = false;
             return e;
         }()},
         {}},
    }));
    auto p = plan(service(), {slice(row.endpoints)});
    CHECK(destinations(p, "10.96.0.10", 80) == row.expected);
}

TEST_CASE("traffic policies: the IPVS fallback to cluster endpoints when none is local", "[plan]") {
    struct Row {
        ServiceType type;
        TrafficPolicy itp, etp;
        bool local_endpoint;
        Lines cluster_ip, node_port;  // destinations of the ClusterIP and of a NodePort VS
    };
    const Lines all{"10.244.1.2:8080", "10.244.2.2:8080"};
    const Lines here{"10.244.1.2:8080"};
    const Lines there{"10.244.2.2:8080"};
    const auto cluster = TrafficPolicy::cluster;
    const auto local = TrafficPolicy::local;
    auto row = GENERATE_COPY(values<Row>({
        {ServiceType::cluster_ip, cluster, cluster, true, all, {}},
        {ServiceType::cluster_ip, local, cluster, true, here, {}},
        // Pure ClusterIP with iTP=Local and nothing local: no destinations.
        {ServiceType::cluster_ip, local, cluster, false, {}, {}},
        {ServiceType::node_port, cluster, cluster, true, all, all},
        {ServiceType::node_port, cluster, local, true, all, here},
        // eTP=Local with nothing local falls back to the cluster endpoints (PR #97081).
        {ServiceType::node_port, cluster, local, false, there, there},
        {ServiceType::node_port, local, cluster, true, here, all},
        // Externally accessible: iTP=Local falls back too.
        {ServiceType::node_port, local, cluster, false, there, there},
        {ServiceType::node_port, local, local, true, here, here},
        {ServiceType::node_port, local, local, false, there, there},
    }));
    auto s = service(row.type);
    s.internal_traffic_policy = row.itp;
    s.external_traffic_policy = row.etp;
    std::vector<model::Endpoint> eps{endpoint("10.244.2.2", "node-b")};
    if (row.local_endpoint) eps.push_back(endpoint("10.244.1.2", "node-a"));
    auto p = plan(s, {slice(eps)});
    CHECK(destinations(p, "10.96.0.10", 80) == row.cluster_ip);
    if (row.type == ServiceType::node_port) CHECK(destinations(p, "192.168.1.10", 30080) == row.node_port);
}

TEST_CASE("externalIP and LB virtual servers follow eTP like NodePorts", "[plan]") {
    auto s = service(ServiceType::load_balancer);
    s.external_traffic_policy = TrafficPolicy::local;
    s.external_ips = {ip("203.0.113.50")};
    s.load_balancer_ingress = {{ip("198.51.100.20"), false}};
    auto p = plan(s, {slice({endpoint("10.244.2.2", "node-b"), endpoint("10.244.1.2", "node-a")})});
    CHECK(destinations(p, "10.96.0.10", 80) == Lines{"10.244.1.2:8080", "10.244.2.2:8080"});
    CHECK(destinations(p, "203.0.113.50", 80) == Lines{"10.244.1.2:8080"});
    CHECK(destinations(p, "198.51.100.20", 80) == Lines{"10.244.1.2:8080"});
}

TEST_CASE("local endpoints fall back to serving-terminating independently of the cluster ones", "[plan]") {
    auto s = service(ServiceType::node_port);
    s.external_traffic_policy = TrafficPolicy::local;
    auto p = plan(s, {slice({endpoint("10.244.2.2", "node-b"), terminating(endpoint("10.244.1.2", "node-a"))})});
    CHECK(destinations(p, "10.96.0.10", 80) == Lines{"10.244.2.2:8080"});
    CHECK(destinations(p, "192.168.1.10", 30080) == Lines{"10.244.1.2:8080"});
}

TEST_CASE("topology hints: used only when every ready endpoint has them and one is for us", "[plan]") {
    auto hinted = [](const char* address, std::vector<std::string> zones, std::vector<std::string> nodes = {}) {
        auto e = endpoint(address);
        e.hint_zones = std::move(zones);
        e.hint_nodes = std::move(nodes);
        return e;
    };
    struct Row {
        const char* what;
        std::vector<model::Endpoint> endpoints;
        Lines expected;
    };
    auto row = GENERATE_COPY(values<Row>({
        {"zone hints, one for zone-a",
         {hinted("10.244.1.2", {"zone-a"}), hinted("10.244.2.2", {"zone-b"}),
          hinted("10.244.3.2", {"zone-a", "zone-c"})},
         {"10.244.1.2:8080", "10.244.3.2:8080"}},
        {"one ready endpoint without hints",
         {hinted("10.244.1.2", {"zone-a"}), hinted("10.244.2.2", {})},
         {"10.244.1.2:8080", "10.244.2.2:8080"}},
        {"an unhinted endpoint that is not ready does not count",
         {hinted("10.244.1.2", {"zone-a"}), hinted("10.244.2.2", {"zone-b"}),
          terminating(endpoint("10.244.4.2"), false)},
         {"10.244.1.2:8080"}},
        {"no hint for zone-a",
         {hinted("10.244.1.2", {"zone-b"}), hinted("10.244.2.2", {"zone-c"})},
         {"10.244.1.2:8080", "10.244.2.2:8080"}},
        {"node hints win over zone hints",
         {hinted("10.244.1.2", {"zone-a"}, {"node-c"}), hinted("10.244.2.2", {"zone-b"}, {"node-a"})},
         {"10.244.2.2:8080"}},
        {"node hints without one for this node: zone hints apply",
         {hinted("10.244.1.2", {"zone-a"}, {"node-c"}), hinted("10.244.2.2", {"zone-b"}, {"node-d"})},
         {"10.244.1.2:8080"}},
    }));
    INFO(row.what);
    auto p = plan(service(), {slice(row.endpoints)});
    CHECK(destinations(p, "10.96.0.10", 80) == row.expected);
}

TEST_CASE("topology does not filter the local endpoints of eTP=Local", "[plan]") {
    auto s = service(ServiceType::node_port);
    s.external_traffic_policy = TrafficPolicy::local;
    auto a = endpoint("10.244.1.2", "node-a");
    a.hint_zones = {"zone-b"};
    auto b = endpoint("10.244.2.2", "node-b");
    b.hint_zones = {"zone-a"};
    auto p = plan(s, {slice({a, b})});
    CHECK(destinations(p, "10.96.0.10", 80) == Lines{"10.244.2.2:8080"});
    CHECK(destinations(p, "192.168.1.10", 30080) == Lines{"10.244.1.2:8080"});
}

TEST_CASE("sessionAffinity ClientIP makes every virtual server persistent", "[plan]") {
    auto s = service(ServiceType::node_port);
    s.session_affinity = model::SessionAffinity::client_ip;
    s.affinity_timeout_seconds = 600;
    auto p = plan(s, {});
    REQUIRE(p.virtual_servers.size() == 3);
    for (const auto& t : p.virtual_servers) {
        CHECK(t.service.flags == kernel::service_flags::persistent);
        CHECK(t.service.timeout == 600);
        CHECK(t.service.netmask == 0);
    }
}

TEST_CASE("scheduler: annotation if known, else the configured one with an event; flags", "[plan]") {
    struct Row {
        std::string annotation, flags;
        std::string scheduler;
        std::uint32_t vs_flags;
        Lines events;
    };
    using namespace kernel::service_flags;
    auto row = GENERATE(values<Row>({
        {"", "", "wrr", 0, {}},
        {"sh", "", "sh", 0, {}},
        {"sh", "sh-fallback, sh-port", "sh", sched1 | sched2, {}},
        {"mh", "", "mh", sched2, {}},  // kube-proxy always sets mh-port for mh
        {"mh", "mh-fallback", "mh", sched1 | sched2, {}},
        {"", "mh-port", "wrr", sched2, {}},
        {"bogus", "", "wrr", 0, {"default/web: unknown scheduler \"bogus\" in annotation, using wrr"}},
        {"sh", "sh-port,nope", "sh", sched2, {"default/web: unknown scheduler flag \"nope\" in annotation, ignored"}},
    }));
    auto s = service(ServiceType::node_port);
    s.scheduler = row.annotation;
    s.scheduler_flags = row.flags;
    PlanOptions o;
    o.scheduler = "wrr";
    auto p = plan(s, {}, o);
    REQUIRE(p.virtual_servers.size() == 3);
    for (const auto& t : p.virtual_servers) {
        CHECK(t.service.scheduler == row.scheduler);
        CHECK(t.service.flags == row.vs_flags);
    }
    CHECK(p.events == row.events);
}

TEST_CASE("the configured mh scheduler gets mh-port too", "[plan]") {
    PlanOptions o;
    o.scheduler = "mh";
    auto p = plan(service(), {}, o);
    CHECK(p.virtual_servers.at(0).service.flags == kernel::service_flags::sched2);
}

TEST_CASE("an IP:port in two slices is one destination, the non-terminating copy winning", "[plan]") {
    auto names = GENERATE(std::pair{"web-a", "web-b"}, std::pair{"web-b", "web-a"});
    auto s = service();
    // With a terminating copy winning, 10.244.1.5 would not be used: another endpoint is ready.
    std::vector<model::EndpointSlice> slices = {
        slice({terminating(endpoint("10.244.1.5")), endpoint("10.244.2.9")}, names.first),
        slice({endpoint("10.244.1.5")}, names.second),
    };
    auto p = plan(s, slices);
    CHECK(destinations(p, "10.96.0.10", 80) == Lines{"10.244.1.5:8080", "10.244.2.9:8080"});
    std::reverse(slices.begin(), slices.end());
    CHECK(plan(s, slices) == p);
}

TEST_CASE("slice ports match service ports by name and protocol", "[plan]") {
    auto s = service();
    s.ports = {{"http", Protocol::tcp, 80, 0}, {"metrics", Protocol::tcp, 9090, 0}, {"", Protocol::udp, 53, 0}};
    auto sl = slice({endpoint("10.244.1.2")});
    sl.ports = {
        {std::string("http"), Protocol::tcp, std::uint16_t(8080)},
        {std::string("metrics"), Protocol::udp, std::uint16_t(9999)},  // wrong protocol
        {std::string(""), Protocol::udp, std::uint16_t(5353)},         // "" matches the unnamed port
    };
    auto unnamed_nil = slice({endpoint("10.244.3.3")}, "web-nil");
    unnamed_nil.ports = {{std::nullopt, Protocol::udp, std::uint16_t(53)},      // nil name: unusable
                         {std::string("metrics"), Protocol::tcp, std::nullopt},  // nil port: unusable
                         {std::string("http"), Protocol::tcp, std::uint16_t(0)}};
    auto p = plan(s, {sl, unnamed_nil});
    CHECK(virtual_servers(p) == Lines{"UDP 10.96.0.10:53 -> 10.244.1.2:5353", "TCP 10.96.0.10:80 -> 10.244.1.2:8080",
                                      "TCP 10.96.0.10:9090 ->"});
}

TEST_CASE("KUBE-LOOP-BACK holds every local endpoint of every port, with its own port", "[plan]") {
    auto s = service();
    s.ports.push_back({"dns", Protocol::udp, 53, 0});
    auto sl = slice({endpoint("10.244.1.2", "node-a"), endpoint("10.244.2.2", "node-b"),
                     terminating(endpoint("10.244.1.3", "node-a"))});
    sl.ports.push_back({std::string("dns"), Protocol::udp, std::uint16_t(5353)});
    auto p = plan(s, {sl});
    CHECK(entries_of(p, KubeSet::loop_back) == Lines{
                                                   "10.244.1.2,tcp:8080,10.244.1.2",
                                                   "10.244.1.2,udp:5353,10.244.1.2",
                                                   "10.244.1.3,tcp:8080,10.244.1.3",
                                                   "10.244.1.3,udp:5353,10.244.1.3",
                                               });
}

TEST_CASE("one address in two roles is one virtual server", "[plan]") {
    auto s = service(ServiceType::load_balancer);
    s.external_ips = {ip("198.51.100.20")};
    s.load_balancer_ingress = {{ip("198.51.100.20"), false}};
    auto p = plan(s, {slice({endpoint("10.244.1.2")})});
    CHECK(std::count_if(p.virtual_servers.begin(), p.virtual_servers.end(),
                        [](const auto& t) { return t.service.address == ip("198.51.100.20"); }) == 1);
    CHECK(entries_of(p, KubeSet::external_ip) == Lines{"198.51.100.20,tcp:80"});
    CHECK(entries_of(p, KubeSet::load_balancer) == Lines{"198.51.100.20,tcp:80"});
    CHECK(p.events.empty());
}

TEST_CASE("the plan does not depend on the order of slices", "[plan]") {
    auto s = service(ServiceType::node_port);
    std::vector<model::EndpointSlice> slices = {
        slice({endpoint("10.244.3.2"), endpoint("10.244.1.2", "node-a")}, "web-1"),
        slice({endpoint("10.244.2.2")}, "web-2"),
    };
    auto p = plan(s, slices);
    std::reverse(slices.begin(), slices.end());
    CHECK(plan(s, slices) == p);
    CHECK(std::is_sorted(p.set_entries.begin(), p.set_entries.end()));
    CHECK(std::is_sorted(p.bound_addresses.begin(), p.bound_addresses.end()));
}
