#include <catch2/catch.hpp>

#include "kernel/iptables_rules.hpp"

using namespace kipvs;
using namespace kipvs::kernel;

namespace {
bool has_line(const std::string& payload, const std::string& line) {
    return payload.find("\n" + line + "\n") != std::string::npos;
}
}  // namespace

TEST_CASE("with every set empty only the unconditional rules are written", "[iptables]") {
    RuleInputs in;
    std::string p = render_rules(in);
    CHECK(p.rfind("*nat\n:KUBE-SERVICES - [0:0]\n", 0) == 0);
    CHECK(p.find("--match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ") == std::string::npos);
    CHECK(has_line(p, "-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN"));
    CHECK(has_line(p, "-A KUBE-SOURCE-RANGES-FIREWALL -j DROP"));
    // KUBE-IPVS-FILTER's six rules are written whether or not the sets are empty.
    CHECK(has_line(p, "-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT"));
    CHECK(has_line(p, "-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN"));
    CHECK(p.substr(p.size() - 7) == "COMMIT\n");
}

TEST_CASE("ClusterIP masquerade: masqueradeAll, clusterCIDR, or the VIP-source rule", "[iptables]") {
    RuleInputs in;
    in.non_empty_sets = {KubeSet::cluster_ip};
    const std::string match =
        "-m comment --comment \"Kubernetes service cluster ip + port for masquerade purpose\" -m set --match-set "
        "KUBE-CLUSTER-IP";
    CHECK(has_line(render_rules(in), "-A KUBE-SERVICES " + match + " src,dst -j KUBE-MARK-MASQ"));
    in.cluster_cidr = model::Cidr::parse("10.42.0.0/16");
    CHECK(has_line(render_rules(in), "-A KUBE-SERVICES ! -s 10.42.0.0/16 " + match + " dst,dst -j KUBE-MARK-MASQ"));
    in.masquerade_all = true;
    CHECK(has_line(render_rules(in), "-A KUBE-SERVICES " + match + " dst,dst -j KUBE-MARK-MASQ"));
}

TEST_CASE("IPv6 uses the KUBE-6 sets and ::1 for loopback", "[iptables]") {
    RuleInputs in;
    in.family = model::Family::v6;
    in.non_empty_sets = {KubeSet::load_balancer_source_cidr, KubeSet::load_balancer_fw};
    std::string p = render_rules(in);
    CHECK(has_line(p, "-A KUBE-SERVICES -s ::1/128 -j RETURN"));
    CHECK(p.find("--match-set KUBE-6-LOAD-BALANCER-SOURCE-CID dst,dst,src -j RETURN") != std::string::npos);
    CHECK(p.find("--match-set KUBE-CLUSTER-IP ") == std::string::npos);
}

TEST_CASE("load balancers whose source ranges exclude the node get an output filter", "[iptables]") {
    RuleInputs in;
    in.out_filters = {{*model::IpAddress::parse("192.0.2.10"), "tcp", 443}};
    CHECK(has_line(render_rules(in),
                   "-A KUBE-IPVS-OUT-FILTER -s 192.0.2.10 -m ipvs --vaddr 192.0.2.10 --vproto tcp --vport 443 -j DROP"));
}

TEST_CASE("the masquerade bit sets the mark everywhere", "[iptables]") {
    RuleInputs in;
    in.masquerade_bit = 15;
    std::string p = render_rules(in);
    CHECK(has_line(p, "-A KUBE-MARK-MASQ -j MARK --or-mark 0x008000"));
    CHECK(has_line(p, "-A KUBE-POSTROUTING -m mark ! --mark 0x008000/0x008000 -j RETURN"));
    in.random_fully = false;
    CHECK(has_line(render_rules(in),
                   "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE"));
}

TEST_CASE("nine jump rules, in kube-proxy's insertion order", "[iptables]") {
    auto jumps = jump_rules();
    REQUIRE(jumps.size() == 9);
    CHECK(jumps[0].chain == "OUTPUT");
    CHECK(jumps[0].table == "nat");
    CHECK(jumps[8].rule == "-m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-OUT-FILTER");
}
