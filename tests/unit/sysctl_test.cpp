#include <catch2/catch.hpp>

#include <filesystem>

#include "error.hpp"
#include "kernel/sysctl.hpp"
#include "test_support.hpp"

using namespace kipvs;
using namespace kipvs::kernel;

namespace {
std::vector<std::string> names(const std::vector<SysctlSetting>& s) {
    std::vector<std::string> out;
    for (const auto& x : s) out.push_back(x.name + "=" + x.value);
    return out;
}
}  // namespace

TEST_CASE("kernel versions from uname's release", "[sysctl]") {
    CHECK(parse_kernel_release("6.1.0-56-amd64")->minor == 1);
    CHECK(*parse_kernel_release("5.10.0") >= KernelVersion{5, 9, 0});
    CHECK(*parse_kernel_release("4.19.0-27-amd64") < KernelVersion{5, 9, 0});
    CHECK_FALSE(parse_kernel_release("garbage"));
}

TEST_CASE("conn_reuse_mode is set to 0 only on kernels 4.1 to 5.8, as kube-proxy does", "[sysctl]") {
    SysctlInputs in;
    in.kernel = *parse_kernel_release("6.1.0");
    CHECK(names(desired_sysctls(in)) ==
          std::vector<std::string>{"net/ipv4/vs/conntrack=1", "net/ipv4/vs/expire_nodest_conn=1",
                                   "net/ipv4/vs/expire_quiescent_template=1", "net/ipv4/ip_forward=1"});
    in.kernel = *parse_kernel_release("4.19.0");
    CHECK(names(desired_sysctls(in))[1] == "net/ipv4/vs/conn_reuse_mode=0");
    in.kernel = *parse_kernel_release("5.9.0");
    CHECK(names(desired_sysctls(in)).size() == 4);
}

TEST_CASE("strictARP adds arp_ignore and arp_announce; overrides win", "[sysctl]") {
    SysctlInputs in;
    in.kernel = *parse_kernel_release("6.1.0");
    in.strict_arp = true;
    in.overrides = {{"net/ipv4/vs/conn_reuse_mode", "1"}, {"net/ipv4/ip_forward", "1"}};
    auto settings = names(desired_sysctls(in));
    CHECK(settings == std::vector<std::string>{"net/ipv4/vs/conntrack=1", "net/ipv4/vs/expire_nodest_conn=1",
                                               "net/ipv4/vs/expire_quiescent_template=1", "net/ipv4/ip_forward=1",
                                               "net/ipv4/conf/all/arp_ignore=1", "net/ipv4/conf/all/arp_announce=2",
                                               "net/ipv4/vs/conn_reuse_mode=1"});
}

TEST_CASE("ensure writes only what differs and reports old and new", "[sysctl]") {
    test::TempDir root;
    std::filesystem::create_directories(root.path() + "/net/ipv4/vs");
    root.write("net/ipv4/vs/conntrack", "0\n");
    root.write("net/ipv4/ip_forward", "1\n");
    ProcSysctls sysctls(root.path());
    auto changes = ensure_sysctls(sysctls, {{"net/ipv4/vs/conntrack", "1", ""}, {"net/ipv4/ip_forward", "1", ""}});
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].name == "net/ipv4/vs/conntrack");
    CHECK(changes[0].old_value == "0");
    CHECK(test::read_file(root.path() + "/net/ipv4/vs/conntrack") == "1\n");
    CHECK(ensure_sysctls(sysctls, {{"net/ipv4/vs/conntrack", "1", ""}}).empty());
    CHECK_THROWS_WITH(ensure_sysctls(sysctls, {{"net/ipv4/vs/absent", "1", ""}}),
                      "sysctl net/ipv4/vs/absent does not exist (is its kernel module loaded?)");
}
