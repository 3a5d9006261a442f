// Node addresses and their change notifications through the host kernel's
// rtnetlink, on veth links inside the test's network namespace.
#include <catch2/catch.hpp>

#include <algorithm>

#include "error.hpp"
#include "kernel/link_netlink.hpp"
#include "kernel/process.hpp"

using namespace kipvs;
using namespace kipvs::kernel;

namespace {

void ip(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"ip"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

bool contains(const std::vector<model::IpAddress>& list, const char* text) {
    return std::find(list.begin(), list.end(), *model::IpAddress::parse(text)) != list.end();
}

}  // namespace

TEST_CASE("node addresses for NodePorts leave out loopback, link-local and kube-ipvs0", "[link]") {
    ip({"link", "add", "node0", "type", "veth", "peer", "name", "node0-peer"});
    ip({"addr", "add", "192.0.2.1/24", "dev", "node0"});
    ip({"addr", "add", "fd00:192::1/64", "dev", "node0", "nodad"});
    ip({"addr", "add", "fe80::1234/64", "dev", "node0", "nodad"});
    ip({"link", "set", "node0", "up"});
    NetlinkLinks links;
    auto all = links.all_addresses();
    CHECK(std::count(all.begin(), all.end(), InterfaceAddress{"node0", *model::IpAddress::parse("192.0.2.1")}) == 1);
    CHECK(std::count(all.begin(), all.end(), InterfaceAddress{"lo", *model::IpAddress::parse("127.0.0.1")}) == 1);
    CHECK(contains(links.addresses("node0"), "fd00:192::1"));

    // Pretend kube-ipvs0 holds a VIP: the host kernel has no dummy links, so
    // the listing is doctored the way the real one would look.
    all.push_back({ipvs_interface, *model::IpAddress::parse("10.96.0.1")});
    auto nodeports = node_port_addresses(all, {});
    CHECK(contains(nodeports, "192.0.2.1"));
    CHECK(contains(nodeports, "fd00:192::1"));
    CHECK_FALSE(contains(nodeports, "127.0.0.1"));
    CHECK_FALSE(contains(nodeports, "::1"));
    CHECK_FALSE(contains(nodeports, "fe80::1234"));
    CHECK_FALSE(contains(nodeports, "10.96.0.1"));
    auto only_v4 = node_port_addresses(all, {*model::Cidr::parse("192.0.2.0/24")});
    CHECK(only_v4 == std::vector<model::IpAddress>{*model::IpAddress::parse("192.0.2.1")});
}

TEST_CASE("a new node address is noticed without polling the whole list", "[link]") {
    ip({"link", "add", "node1", "type", "veth", "peer", "name", "node1-peer"});
    ip({"link", "set", "node1", "up"});
    AddressWatcher watcher;
    CHECK_FALSE(watcher.wait(50));
    ip({"addr", "add", "198.51.100.5/24", "dev", "node1"});
    CHECK(watcher.wait(2000));
    NetlinkLinks links;
    CHECK(contains(node_port_addresses(links.all_addresses(), {}), "198.51.100.5"));
    ip({"addr", "del", "198.51.100.5/24", "dev", "node1"});
    CHECK(watcher.wait(2000));
    CHECK_FALSE(contains(node_port_addresses(links.all_addresses(), {}), "198.51.100.5"));
}

TEST_CASE("binding and unbinding addresses is idempotent", "[link]") {
    ip({"link", "add", "bind0", "type", "veth", "peer", "name", "bind0-peer"});
    NetlinkLinks links;
    auto vip = *model::IpAddress::parse("10.96.0.10");
    auto vip6 = *model::IpAddress::parse("fd00:96::10");
    links.bind("bind0", vip);
    links.bind("bind0", vip);  // already bound: fine
    links.bind("bind0", vip6);
    auto bound = links.addresses("bind0");
    CHECK(contains(bound, "10.96.0.10"));
    CHECK(contains(bound, "fd00:96::10"));
    CHECK(run_process({"ip", "-o", "addr", "show", "dev", "bind0"}).out.find("inet 10.96.0.10/32") != std::string::npos);
    links.unbind("bind0", vip);
    links.unbind("bind0", vip);  // already gone: fine
    CHECK_FALSE(contains(links.addresses("bind0"), "10.96.0.10"));
    CHECK_THROWS_WITH(links.bind("no-such-link", vip), "rtnetlink: no link no-such-link");
}

TEST_CASE("a kernel without dummy links gives a clear error", "[link]") {
    NetlinkLinks links;
    if (run_process({"ip", "link", "add", "probe-dummy", "type", "dummy"}).exit_code == 0) {
        run_process({"ip", "link", "del", "probe-dummy"});
        SUCCEED("this kernel has dummy links; the VM suite covers kube-ipvs0");
        return;
    }
    try {
        links.ensure_dummy(ipvs_interface);
        FAIL("ensure_dummy succeeded without dummy support");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("kube-ipvs0") != std::string::npos);
        CHECK(std::string(e.what()).find("dummy") != std::string::npos);
    }
}
