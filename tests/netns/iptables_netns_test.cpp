// IPVS mode's rules applied with the host's real iptables (legacy and nft)
// inside the test's network namespace, read back with iptables-save.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "error.hpp"
#include "kernel/iptables.hpp"
#include "kernel/ipset_libipset.hpp"
#include "kernel/ipset_sync.hpp"
#include "kernel/process.hpp"
#include "test_support.hpp"

using namespace kipvs;
using namespace kipvs::kernel;
using model::Family;

namespace {

std::string sample_entry(SetType type, Family family) {
    std::string ip = family == Family::v4 ? "10.96.0.10" : "fd00:96::10";
    switch (type) {
        case SetType::hash_ip: return ip;
        case SetType::hash_ip_port: return ip + ",tcp:80";
        case SetType::hash_ip_port_ip: return ip + ",tcp:80," + ip;
        case SetType::hash_ip_port_net: return ip + ",tcp:80," + (family == Family::v4 ? "192.0.2.0/24" : "2001:db8::/32");
        case SetType::bitmap_port: return "30080";
    }
    return "";
}

// Every set exists and holds one entry, so every conditional rule is written.
RuleInputs fill_sets(Family family) {
    LibIpset ipsets;
    IpsetSync sync(ipsets);
    RuleInputs in;
    in.family = family;
    for (const auto& info : kube_sets()) {
        sync.sync(kube_set_spec(info.id, family, 65536), {sample_entry(info.type, family)});
        in.non_empty_sets.insert(info.id);
    }
    if (family == Family::v4) in.cluster_cidr = model::Cidr::parse("10.244.0.0/16");
    return in;
}

// kipvs's part of iptables-save: its chains' rules and the jump rules,
// without counters, in the saved order.
std::string kipvs_rules(const IptablesTools& tools) {
    std::string out;
    for (const char* table : {"nat", "filter"}) {
        auto saved = run_process({tools.save, "-t", table});
        REQUIRE(saved.exit_code == 0);
        out += std::string("*") + table + "\n";
        std::istringstream lines(saved.out);
        for (std::string line; std::getline(lines, line);) {
            if (line.find("KUBE-") != std::string::npos && line[0] != '#') {
                if (line[0] == ':') line = line.substr(0, line.find(' '));  // chain without counters
                out += line + "\n";
            }
        }
    }
    return out;
}

std::string golden(const std::string& name) {
    return test::read_file(test::source_dir() + "/tests/netns/golden/" + name);
}

}  // namespace

TEST_CASE("IPVS mode's rules, read back with iptables-save, match the golden files", "[iptables]") {
    for (const char* backend : {"legacy", "nft"}) {
        for (auto family : {Family::v4, Family::v6}) {
            INFO(backend << " " << model::family_name(family));
            RuleInputs in = fill_sets(family);
            ExecIptables iptables(find_iptables(family, backend));
            IptablesApplier applier(iptables);
            CHECK(iptables.tools().backend == backend);
            CHECK(applier.apply(render_rules(in), true));
            std::string file = std::string("iptables-") + (family == Family::v4 ? "v4" : "v6") + ".txt";
            std::string actual = kipvs_rules(iptables.tools());
            // KIPVS_UPDATE_GOLDEN=1 rewrites the files; review the diff before committing it.
            if (std::getenv("KIPVS_UPDATE_GOLDEN")) std::ofstream(test::source_dir() + "/tests/netns/golden/" + file) << actual;
            CHECK(actual == golden(file));
        }
    }
}

TEST_CASE("a restart over the right rules restores nothing, on both backends", "[iptables]") {
    // iptables-save spells rules differently from what kube-proxy writes
    // (--set-xmark for --or-mark, 0x4000 for 0x004000, REJECT's default,
    // /32 host prefixes); a new applier must still see them as right. (The
    // host has no xt_ipvs: the out-filter rule is left to the VM tests.)
    for (const char* backend : {"legacy", "nft"}) {
        for (auto family : {Family::v4, Family::v6}) {
            INFO(backend << " " << model::family_name(family));
            RuleInputs in = fill_sets(family);
            ExecIptables iptables(find_iptables(family, backend));
            IptablesApplier(iptables).apply(render_rules(in), true);
            IptablesApplier restarted(iptables);
            CHECK_FALSE(restarted.apply(render_rules(in), true));
            CHECK(restarted.restores() == 0);
        }
    }
}

TEST_CASE("the same payload twice runs iptables-restore once", "[iptables]") {
    RuleInputs in = fill_sets(Family::v4);
    ExecIptables iptables(find_iptables(Family::v4, "nft"));
    IptablesApplier applier(iptables);
    applier.apply(render_rules(in), true);
    auto first = applier.restores();  // 0 when an earlier case left these rules
    CHECK(first <= 1);
    CHECK_FALSE(applier.apply(render_rules(in), false));
    CHECK_FALSE(applier.apply(render_rules(in), true));  // verified against the kernel: still no write
    CHECK(applier.restores() == first);
    in.masquerade_all = true;
    CHECK(applier.apply(render_rules(in), false));
    CHECK(applier.restores() == first + 1);
}

TEST_CASE("a deleted jump rule is put back at position 1", "[iptables]") {
    RuleInputs in = fill_sets(Family::v4);
    ExecIptables iptables(find_iptables(Family::v4, "legacy"));
    IptablesApplier applier(iptables);
    applier.apply(render_rules(in), true);
    auto tools = iptables.tools();
    std::string cmd_prefix = tools.save.substr(0, tools.save.size() - 5);  // …/iptables-legacy
    REQUIRE(run_process({cmd_prefix, "-A", "INPUT", "-s", "198.51.100.1", "-j", "ACCEPT"}).exit_code == 0);
    REQUIRE(run_process({cmd_prefix, "-D", "INPUT", "-m", "comment", "--comment", "kubernetes ipvs access filter", "-j",
                         "KUBE-IPVS-FILTER"})
                .exit_code == 0);
    CHECK(applier.apply(render_rules(in), true));
    auto input = run_process({cmd_prefix, "-S", "INPUT"}).out;
    CHECK(input.find("-A INPUT -m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-FILTER\n-A INPUT") !=
          std::string::npos);
    CHECK(input.find("-P INPUT ACCEPT\n-A INPUT -m comment --comment \"kubernetes ipvs access filter\"") !=
          std::string::npos);
    CHECK(input.find("-A INPUT -s 198.51.100.1/32 -j ACCEPT") != std::string::npos);  // someone else's rule stays
}

TEST_CASE("other chains and rules survive, and a failed restore keeps the previous rules", "[iptables]") {
    RuleInputs in = fill_sets(Family::v4);
    ExecIptables exec(find_iptables(Family::v4, "nft"));
    IptablesApplier applier(exec);
    auto tools = exec.tools();
    std::string iptables = tools.save.substr(0, tools.save.size() - 5);
    REQUIRE(run_process({iptables, "-N", "MY-CHAIN"}).exit_code == 0);
    REQUIRE(run_process({iptables, "-A", "MY-CHAIN", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"}).exit_code == 0);
    applier.apply(render_rules(in), true);
    std::string before = kipvs_rules(tools);

    // A payload the kernel refuses (a set that does not exist) changes nothing.
    std::string broken = render_rules(in);
    broken.insert(broken.find("COMMIT"), "-A KUBE-SERVICES -m set --match-set KUBE-NO-SUCH-SET dst -j ACCEPT\n");
    CHECK_THROWS_AS(applier.apply(broken, false), Error);
    CHECK(kipvs_rules(tools) == before);
    CHECK(run_process({iptables, "-S", "MY-CHAIN"}).out.find("--dport 22 -j ACCEPT") != std::string::npos);
}

TEST_CASE("the masquerade mark is kube-proxy's spelling", "[iptables]") {
    CHECK(masquerade_mark(14) == "0x004000");
    CHECK(masquerade_mark(0) == "0x000001");
    CHECK(masquerade_mark(31) == "0x80000000");
}
