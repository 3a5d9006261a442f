#include <catch2/catch.hpp>

#include "error.hpp"
#include "fake_iptables.hpp"
#include "kernel/iptables.hpp"

using namespace kipvs;
using namespace kipvs::kernel;

TEST_CASE("the applier restores once per payload change and repairs jump rules", "[iptables]") {
    test::FakeIptables kernel;
    kernel.tables["filter"]["INPUT"] = {"-s 198.51.100.1/32 -j ACCEPT"};
    IptablesApplier applier(kernel);
    RuleInputs in;
    CHECK(applier.apply(render_rules(in), true));
    CHECK(kernel.restores == 1);
    // kube-proxy's fresh-node order: each jump inserted at position 1.
    CHECK(kernel.tables["filter"]["INPUT"] ==
          std::vector<std::string>{"-m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-FILTER",
                                   "-m comment --comment \"kube-proxy firewall rules\" -j KUBE-PROXY-FIREWALL",
                                   "-m comment --comment \"kubernetes health check rules\" -j KUBE-NODE-PORT",
                                   "-s 198.51.100.1/32 -j ACCEPT"});
    CHECK_FALSE(applier.apply(render_rules(in), true));
    CHECK(kernel.restores == 1);

    auto& before = kernel.tables["filter"]["INPUT"];
    before.erase(before.begin());  // someone deleted a jump rule
    CHECK_FALSE(applier.apply(render_rules(in), false));  // not verified: not noticed
    CHECK(applier.apply(render_rules(in), true));
    const auto& input = kernel.tables["filter"]["INPUT"];
    CHECK(input.front() == "-m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-FILTER");
    CHECK(input.size() == 4);
}

TEST_CASE("a failed restore is reported and retried with the next apply", "[iptables]") {
    test::FakeIptables kernel;
    IptablesApplier applier(kernel);
    kernel.fail_next_restore = true;
    CHECK_THROWS_WITH(applier.apply(render_rules(RuleInputs{}), true), "iptables-restore failed (exit 1): fake refusal");
    CHECK(kernel.tables.empty());
    CHECK(applier.apply(render_rules(RuleInputs{}), false));
    CHECK(kernel.tables["nat"]["KUBE-SERVICES"].size() == 2);
}

TEST_CASE("rules held in iptables-save's spelling are recognised after a restart", "[iptables]") {
    test::FakeIptables kernel;
    RuleInputs in;
    in.non_empty_sets = {KubeSet::cluster_ip, KubeSet::ipvs_ips};
    IptablesApplier first(kernel);
    REQUIRE(first.apply(render_rules(in), true));
    // What iptables-save prints back for kube-proxy's spelling.
    auto respell = [](std::string rule) {
        auto replace = [&](const std::string& from, const std::string& to) {
            for (auto at = rule.find(from); at != std::string::npos; at = rule.find(from, at + to.size()))
                rule.replace(at, from.size(), to);
        };
        replace("--or-mark 0x004000", "--set-xmark 0x4000/0x4000");
        replace("--xor-mark 0x004000", "--set-xmark 0x4000/0x0");
        replace("0x004000/0x004000", "0x4000/0x4000");
        if (rule.size() >= 9 && rule.compare(rule.size() - 9, 9, "-j REJECT") == 0)
            rule += " --reject-with icmp-port-unreachable";
        return rule;
    };
    for (auto& [table, chains] : kernel.tables)
        for (auto& [chain, rules] : chains)
            for (auto& rule : rules) rule = respell(rule);

    IptablesApplier restarted(kernel);
    CHECK_FALSE(restarted.apply(render_rules(in), true));
    CHECK(kernel.restores == 1);
    // A rule removed by hand inside kipvs's chains is drift: restored.
    kernel.tables["nat"]["KUBE-POSTROUTING"].pop_back();
    CHECK(restarted.apply(render_rules(in), true));
    CHECK(kernel.restores == 2);
}
