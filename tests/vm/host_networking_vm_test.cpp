// kube-ipvs0, the IPVS sysctls and a payload with the ipvs match, against
// the VM's real kernel (the host has no dummy links and no IPVS). Run by
// host-networking.sh, which loads ip_vs first.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <sys/utsname.h>

#include <algorithm>

#include "kernel/iptables.hpp"
#include "kernel/ipset_libipset.hpp"
#include "kernel/ipset_sync.hpp"
#include "kernel/link_netlink.hpp"
#include "kernel/process.hpp"
#include "kernel/sysctl.hpp"

using namespace kipvs;
using namespace kipvs::kernel;

namespace {

std::string sh(const std::string& command) { return run_process({"/bin/sh", "-c", command}).out; }

KernelVersion running_kernel() {
    utsname u{};
    uname(&u);
    return *parse_kernel_release(u.release);
}

}  // namespace

TEST_CASE("kube-ipvs0 is a dummy link that stays down", "[link]") {
    NetlinkLinks links;
    links.ensure_dummy(ipvs_interface);
    std::size_t writes = links.writes();
    links.ensure_dummy(ipvs_interface);
    CHECK(links.writes() == writes);  // it exists: nothing is written
    std::string shown = sh("/usr/sbin/ip -d link show kube-ipvs0");
    CHECK(shown.find("dummy") != std::string::npos);
    CHECK(shown.find("state DOWN") != std::string::npos);
    CHECK(shown.find(",UP") == std::string::npos);
}

TEST_CASE("service addresses are bound with local routes and unbound again", "[link]") {
    NetlinkLinks links;
    links.ensure_dummy(ipvs_interface);
    for (const char* ip : {"10.96.0.1", "10.96.0.2", "fd00:96::1"}) links.bind(ipvs_interface, *model::IpAddress::parse(ip));
    std::string shown = sh("/usr/sbin/ip -d addr show kube-ipvs0");
    CHECK(shown.find("inet 10.96.0.1/32") != std::string::npos);
    CHECK(shown.find("inet 10.96.0.2/32") != std::string::npos);
    CHECK(shown.find("inet6 fd00:96::1/128") != std::string::npos);
    std::string local = sh("/usr/sbin/ip route show table local; /usr/sbin/ip -6 route show table local");
    CHECK(local.find("local 10.96.0.1 dev kube-ipvs0") != std::string::npos);
    CHECK(local.find("local fd00:96::1 dev kube-ipvs0") != std::string::npos);
    auto bound = links.addresses(ipvs_interface);
    CHECK(bound.size() == 3);

    links.unbind(ipvs_interface, *model::IpAddress::parse("10.96.0.2"));
    links.unbind(ipvs_interface, *model::IpAddress::parse("10.96.0.2"));
    shown = sh("/usr/sbin/ip -d addr show kube-ipvs0");
    CHECK(shown.find("10.96.0.2/32") == std::string::npos);
    CHECK(shown.find("10.96.0.1/32") != std::string::npos);
    auto nodeports = node_port_addresses(links.all_addresses(), {});
    CHECK(std::find(nodeports.begin(), nodeports.end(), *model::IpAddress::parse("10.96.0.1")) == nodeports.end());
}

TEST_CASE("every IPVS sysctl is set and read back, arp_* only with strictARP", "[sysctl]") {
    ProcSysctls sysctls;
    SysctlInputs in;
    in.kernel = running_kernel();
    auto without = desired_sysctls(in);
    CHECK(std::none_of(without.begin(), without.end(), [](auto& s) { return s.name.find("arp_") != std::string::npos; }));
    in.strict_arp = true;
    auto settings = desired_sysctls(in);
    ensure_sysctls(sysctls, settings);
    for (const auto& s : settings) {
        INFO(s.name);
        CHECK(sh("cat /proc/sys/" + s.name) == s.value + "\n");
    }
    CHECK(ensure_sysctls(sysctls, settings).empty());
    in.overrides = {{"net/ipv4/vs/conn_reuse_mode", "1"}};
    auto changes = ensure_sysctls(sysctls, desired_sysctls(in));
    CHECK(sh("cat /proc/sys/net/ipv4/vs/conn_reuse_mode") == "1\n");
    CHECK(changes.size() <= 1);
}

TEST_CASE("a payload with the ipvs match applies, under both backends", "[iptables]") {
    LibIpset ipsets;
    IpsetSync sync(ipsets);
    RuleInputs in;
    for (const auto& info : kube_sets()) sync.sync(kube_set_spec(info.id, model::Family::v4, 65536), {});
    in.out_filters = {{*model::IpAddress::parse("192.0.2.10"), "tcp", 443}};
    for (const char* backend : {"legacy", "nft"}) {
        INFO(backend);
        ExecIptables iptables(find_iptables(model::Family::v4, backend));
        IptablesApplier applier(iptables);
        CHECK(applier.apply(render_rules(in), true));
        std::string saved = iptables.save("filter");
        auto at = saved.find("-A KUBE-IPVS-OUT-FILTER -s 192.0.2.10/32 -m ipvs ");
        REQUIRE(at != std::string::npos);
        std::string line = saved.substr(at, saved.find('\n', at) - at);
        INFO(line);
        CHECK(line.find("--vaddr 192.0.2.10 ") != std::string::npos);
        CHECK(line.find("--vproto 6") != std::string::npos);
        CHECK(line.find("--vport 443") != std::string::npos);
        CHECK(line.find("-j DROP") != std::string::npos);
    }
}
