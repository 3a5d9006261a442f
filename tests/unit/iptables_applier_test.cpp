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
