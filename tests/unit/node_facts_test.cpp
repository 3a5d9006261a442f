#include <catch2/catch.hpp>

#include "config/config_load.hpp"
#include "proxy/node_facts.hpp"

using namespace kipvs;

namespace {

model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }

std::vector<kernel::InterfaceAddress> host_addresses() {
    return {{"lo", ip("127.0.0.1")},        {"lo", ip("::1")},
            {"eth0", ip("192.168.1.10")},   {"eth0", ip("fe80::1")},
            {"eth1", ip("10.0.0.5")},       {"eth0", ip("2001:db8::10")},
            {"kube-ipvs0", ip("10.96.0.10")}};
}

model::Node node_with_internal_ip(const char* address) {
    model::Node n;
    n.name = "node-a";
    n.zone = "zone-1";
    n.addresses = {{model::NodeAddressType::external_ip, ip("203.0.113.9")},
                   {model::NodeAddressType::internal_ip, ip(address)}};
    return n;
}

}  // namespace

TEST_CASE("NodePorts serve every node address but loopback, link-local and kube-ipvs0's", "[node-facts]") {
    auto config = config::default_config();
    auto result = proxy::gather_node_facts("node-a", nullptr, host_addresses(), config);
    CHECK(result.warnings.empty());
    CHECK(result.facts.node_port_addresses ==
          std::vector<model::IpAddress>{ip("10.0.0.5"), ip("192.168.1.10"), ip("2001:db8::10")});
    // local addresses decide which externalIPs are not bound: kube-ipvs0's are not node addresses
    CHECK(std::count(result.facts.local_addresses.begin(), result.facts.local_addresses.end(), ip("10.96.0.10")) == 0);
    CHECK(std::count(result.facts.local_addresses.begin(), result.facts.local_addresses.end(), ip("192.168.1.10")) == 1);
}

TEST_CASE("nodePortAddresses CIDRs filter the node's addresses", "[node-facts]") {
    auto config = config::default_config();
    config.node_port_addresses = {"10.0.0.0/8"};
    auto result = proxy::gather_node_facts("node-a", nullptr, host_addresses(), config);
    CHECK(result.facts.node_port_addresses == std::vector<model::IpAddress>{ip("10.0.0.5")});
}

TEST_CASE("nodePortAddresses primary is the Node's InternalIP, once the Node is known", "[node-facts]") {
    auto config = config::default_config();
    config.node_port_addresses = {"primary"};
    auto before = proxy::gather_node_facts("node-a", nullptr, host_addresses(), config);
    CHECK(before.facts.node_port_addresses.empty());
    REQUIRE(before.warnings.size() == 1);
    CHECK(before.warnings[0].find("not known yet") != std::string::npos);

    auto node = node_with_internal_ip("192.168.1.10");
    auto after = proxy::gather_node_facts("node-a", &node, host_addresses(), config);
    CHECK(after.warnings.empty());
    CHECK(after.facts.zone == "zone-1");
    CHECK(after.facts.node_port_addresses == std::vector<model::IpAddress>{ip("192.168.1.10"), ip("2001:db8::10")});
}

TEST_CASE("the node IP per family: bindAddress, else the Node's InternalIP, else a local address", "[node-facts]") {
    auto config = config::default_config();
    auto node = node_with_internal_ip("10.0.0.5");
    auto from_node = proxy::gather_node_facts("node-a", &node, host_addresses(), config);
    CHECK(from_node.facts.node_ips == std::vector<model::IpAddress>{ip("10.0.0.5"), ip("2001:db8::10")});
    config.bind_address = "192.168.1.10";
    auto from_bind = proxy::gather_node_facts("node-a", &node, host_addresses(), config);
    CHECK(from_bind.facts.node_ips.front() == ip("192.168.1.10"));
}
