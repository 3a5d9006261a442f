#include <catch2/catch.hpp>

#include "error.hpp"
#include "fake_links.hpp"
#include "fake_sysctls.hpp"

using namespace kipvs;
using namespace kipvs::kernel;

namespace {
model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }
}  // namespace

TEST_CASE("the link fake binds like the kernel: idempotent, writes recorded", "[link]") {
    test::FakeLinks links;
    links.ensure_dummy(ipvs_interface);
    links.ensure_dummy(ipvs_interface);
    links.bind_all(ipvs_interface, {ip("10.96.0.1"), ip("10.96.0.1"), ip("fd00::1")});
    links.unbind(ipvs_interface, ip("10.96.0.9"));
    CHECK(links.writes == std::vector<std::string>{"create kube-ipvs0", "bind kube-ipvs0 10.96.0.1", "bind kube-ipvs0 fd00::1"});
    CHECK(links.addresses(ipvs_interface).size() == 2);
    CHECK_THROWS_AS(links.bind("eth9", ip("10.0.0.1")), Error);
}

TEST_CASE("NodePort addresses: every node address but kube-ipvs0's, loopback and link-local", "[link]") {
    std::vector<InterfaceAddress> all = {
        {"lo", ip("127.0.0.1")},       {"lo", ip("::1")},           {"eth0", ip("192.0.2.5")},
        {"eth0", ip("fe80::1")},       {"eth0", ip("2001:db8::5")}, {"kube-ipvs0", ip("10.96.0.1")},
        {"eth1", ip("198.51.100.7")},  {"eth2", ip("192.0.2.5")},
    };
    CHECK(node_port_addresses(all, {}) ==
          std::vector<model::IpAddress>{ip("192.0.2.5"), ip("2001:db8::5"), ip("198.51.100.7")});
    CHECK(node_port_addresses(all, {*model::Cidr::parse("198.51.100.0/24"), *model::Cidr::parse("2001:db8::/32")}) ==
          std::vector<model::IpAddress>{ip("2001:db8::5"), ip("198.51.100.7")});
}

TEST_CASE("sysctls are written only where they differ", "[sysctl]") {
    test::FakeSysctls sysctls;
    sysctls.values = {{"net/ipv4/ip_forward", "1"}, {"net/ipv4/vs/conntrack", "0"}};
    auto changes = ensure_sysctls(sysctls, {{"net/ipv4/ip_forward", "1", ""}, {"net/ipv4/vs/conntrack", "1", ""}});
    CHECK(sysctls.writes == std::vector<std::string>{"net/ipv4/vs/conntrack=1"});
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].old_value == "0");
}
