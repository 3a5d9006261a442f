#include <catch2/catch.hpp>

#include "error.hpp"
#include "kernel/modules_plan.hpp"
#include "kernel/modules_set.hpp"

using namespace kipvs;
using namespace kipvs::kernel::modules;

namespace {

ModuleIndex debian_index() {
    ModuleIndex index;
    parse_modules_dep(
        "kernel/lib/libcrc32c.ko:\n"
        "kernel/crypto/crc32c_generic.ko:\n"
        "kernel/arch/x86/crypto/crc32c-intel.ko:\n"
        "kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko:\n"
        "kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko:\n"
        "kernel/net/netfilter/nf_conntrack.ko: kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko "
        "kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko kernel/lib/libcrc32c.ko\n"
        "kernel/net/netfilter/ipvs/ip_vs.ko: kernel/net/netfilter/nf_conntrack.ko "
        "kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko "
        "kernel/lib/libcrc32c.ko\n"
        "kernel/net/netfilter/ipvs/ip_vs_rr.ko: kernel/net/netfilter/ipvs/ip_vs.ko "
        "kernel/net/netfilter/nf_conntrack.ko kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko "
        "kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko kernel/lib/libcrc32c.ko\n"
        "kernel/drivers/net/dummy.ko:\n",
        "modules.dep", index);
    parse_modules_softdep("softdep libcrc32c pre: crc32c\n", "modules.softdep", index);
    parse_modules_alias("alias crc32c crc32c_intel\nalias crc32c crc32c_generic\nalias rtnl-link-dummy dummy\n",
                        "modules.alias", index);
    parse_modules_builtin("kernel/net/ipv4/tcp_cubic.ko\n", "modules.builtin", index);
    REQUIRE(index.problems.empty());
    return index;
}

std::vector<std::string> names(const Plan& plan) {
    std::vector<std::string> out;
    for (const auto& s : plan.steps) out.push_back(s.name + (s.optional ? "?" : "") + (s.params.empty() ? "" : "[" + s.params + "]"));
    return out;
}

}  // namespace

TEST_CASE("module requests: name and parameters", "[modules]") {
    CHECK(parse_request("ip_vs conn_tab_bits=18") == ModuleRequest{"ip_vs", "conn_tab_bits=18"});
    CHECK(parse_request("  dummy  ") == ModuleRequest{"dummy", ""});
    CHECK(parse_request("m a=1  b=\"x y\"") == ModuleRequest{"m", "a=1  b=\"x y\""});
    CHECK(parse_request("crc32c-intel") == ModuleRequest{"crc32c-intel", ""});
    CHECK_THROWS_AS(parse_request(""), ConfigError);
    CHECK_THROWS_AS(parse_request("   "), ConfigError);
    CHECK_THROWS_WITH(parse_request("../evil"), "\"../evil\" is not a module name");
}

TEST_CASE("plan: dependencies first, soft deps before their module, parameters on the target", "[modules]") {
    auto plan = plan_module(debian_index(), {"ip_vs", "conn_tab_bits=18"}, {});
    CHECK(plan.outcome == Plan::Outcome::load);
    CHECK(plan.module == "ip_vs");
    CHECK(names(plan) == std::vector<std::string>{"crc32c_intel?", "crc32c_generic?", "libcrc32c", "nf_defrag_ipv4",
                                                  "nf_defrag_ipv6", "nf_conntrack", "ip_vs[conn_tab_bits=18]"});
    CHECK(plan.steps.back().path == "kernel/net/netfilter/ipvs/ip_vs.ko");
}

TEST_CASE("plan: what is loaded or built in is skipped", "[modules]") {
    KernelSnapshot kernel;
    kernel.loaded = {"nf_conntrack", "libcrc32c", "nf_defrag_ipv4", "nf_defrag_ipv6"};
    auto plan = plan_module(debian_index(), {"ip_vs_rr", ""}, kernel);
    CHECK(names(plan) == std::vector<std::string>{"ip_vs", "ip_vs_rr"});

    kernel.loaded.insert("ip_vs_rr");
    CHECK(plan_module(debian_index(), {"ip_vs_rr", ""}, kernel).outcome == Plan::Outcome::already_loaded);
    CHECK(plan_module(debian_index(), {"tcp_cubic", ""}, {}).outcome == Plan::Outcome::builtin);
    KernelSnapshot sysfs;
    sysfs.builtin = {"dummy"};
    CHECK(plan_module(debian_index(), {"dummy", ""}, sysfs).outcome == Plan::Outcome::builtin);
    // Loaded though the index does not know it (a module tree that lags).
    KernelSnapshot foreign;
    foreign.loaded = {"vendor_mod"};
    CHECK(plan_module(debian_index(), {"vendor-mod", ""}, foreign).outcome == Plan::Outcome::already_loaded);
}

TEST_CASE("plan: aliases and '-'/'_' resolve to modules", "[modules]") {
    auto plan = plan_module(debian_index(), {"rtnl-link-dummy", ""}, {});
    CHECK(plan.module == "dummy");
    CHECK(names(plan) == std::vector<std::string>{"dummy"});
    CHECK(plan_module(debian_index(), {"crc32c-intel", ""}, {}).module == "crc32c_intel");
    auto both = plan_module(debian_index(), {"crc32c", ""}, {});
    CHECK(names(both) == std::vector<std::string>{"crc32c_intel", "crc32c_generic"});
    KernelSnapshot kernel;
    kernel.loaded = {"crc32c_generic"};
    auto loaded = plan_module(debian_index(), {"crc32c", ""}, kernel);
    CHECK(loaded.outcome == Plan::Outcome::already_loaded);
    CHECK(loaded.module == "crc32c_generic");
}

TEST_CASE("plan: nf_conntrack and nf_conntrack_ipv4 mean what the kernel has", "[modules]") {
    auto index = debian_index();
    CHECK(plan_module(index, {"nf_conntrack_ipv4", ""}, {}).module == "nf_conntrack");
    CHECK(plan_module(index, {"nf_conntrack", ""}, {}).module == "nf_conntrack");
    // A 4.14 kernel: IPv4 conntrack is its own module, on top of nf_conntrack.
    parse_modules_dep("kernel/net/ipv4/netfilter/nf_conntrack_ipv4.ko: kernel/net/netfilter/nf_conntrack.ko\n",
                      "modules.dep", index);
    auto old = plan_module(index, {"nf_conntrack", ""}, {});
    CHECK(old.module == "nf_conntrack_ipv4");
    CHECK(names(old).back() == "nf_conntrack_ipv4");
    CHECK(plan_module(index, {"nf_conntrack_ipv4", ""}, {}).module == "nf_conntrack_ipv4");
}

TEST_CASE("plan: not found, unlisted dependencies, cycles", "[modules]") {
    auto missing = plan_module(debian_index(), {"no_such_module", ""}, {});
    CHECK(missing.outcome == Plan::Outcome::not_found);
    CHECK(missing.module == "no_such_module");
    CHECK(missing.reason == "not found in modules.dep, modules.builtin or modules.alias");

    ModuleIndex index;
    parse_modules_dep("a.ko: ghost.ko\nb.ko: c.ko\nc.ko: b.ko\n", "modules.dep", index);
    parse_modules_softdep("softdep a pre: nowhere\nsoftdep b pre: c post: b\n", "modules.softdep", index);
    auto a = plan_module(index, {"a", ""}, {});
    REQUIRE(a.steps.size() == 3);
    CHECK(a.steps[0] == LoadStep{"nowhere", "", "", true});
    CHECK(a.steps[1] == LoadStep{"ghost", "", "", false});
    CHECK(a.steps[2].name == "a");
    CHECK(names(plan_module(index, {"b", ""}, {})) == std::vector<std::string>{"c?", "b"});
}

TEST_CASE("module set: defaults, dummy, the scheduler; names replace the defaults", "[modules]") {
    auto set = module_set({}, {"rr"});
    std::vector<std::string> got;
    for (const auto& r : set) got.push_back(r.name);
    CHECK(got == std::vector<std::string>{"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack", "dummy", "nf_conntrack_netlink"});
    set = module_set({"ip_vs conn_tab_bits=18", "ip-vs", "nf_conntrack_ipv4"}, {"mh"});
    REQUIRE(set.size() == 5);
    CHECK(set[0] == ModuleRequest{"ip_vs", "conn_tab_bits=18"});
    CHECK(set[1].name == "nf_conntrack_ipv4");
    CHECK(set[2].name == "dummy");
    CHECK(set[3].name == "nf_conntrack_netlink");
    CHECK(set[4].name == "ip_vs_mh");
    CHECK_THROWS_AS(module_set({" "}, {}), ConfigError);
}

TEST_CASE("kernel releases", "[modules]") {
    CHECK(parse_kernel_release("6.1.0-56-amd64") == KernelVersion{6, 1, 0});
    CHECK(parse_kernel_release("4.19") == KernelVersion{4, 19, 0});
    CHECK(parse_kernel_release("5.15.0-91-generic") == KernelVersion{5, 15, 0});
    CHECK(parse_kernel_release("6.18.44-fc-v595") == KernelVersion{6, 18, 44});
    CHECK_FALSE(parse_kernel_release("6"));
    CHECK_FALSE(parse_kernel_release("linux"));
    CHECK_FALSE(parse_kernel_release(""));
    CHECK(*parse_kernel_release("4.18.0-553.el8") < oldest_supported_kernel);
    CHECK_FALSE(*parse_kernel_release("4.19.0") < oldest_supported_kernel);
    CHECK(*parse_kernel_release("4.20.1") > oldest_supported_kernel);
}
