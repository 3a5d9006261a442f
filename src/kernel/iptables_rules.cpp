#include "kernel/iptables_rules.hpp"

#include <cstdio>

namespace kipvs::kernel {

std::string masquerade_mark(int bit) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%#08x", 1u << bit);
    return buf;
}

std::vector<JumpRule> jump_rules() {
    return {
        {"nat", "OUTPUT", "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"},
        {"nat", "PREROUTING", "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"},
        {"nat", "POSTROUTING", "-m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING"},
        {"filter", "FORWARD", "-m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD"},
        {"filter", "INPUT", "-m comment --comment \"kubernetes health check rules\" -j KUBE-NODE-PORT"},
        {"filter", "INPUT", "-m comment --comment \"kube-proxy firewall rules\" -j KUBE-PROXY-FIREWALL"},
        {"filter", "FORWARD", "-m comment --comment \"kube-proxy firewall rules\" -j KUBE-PROXY-FIREWALL"},
        {"filter", "INPUT", "-m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-FILTER"},
        {"filter", "OUTPUT", "-m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-OUT-FILTER"},
    };
}

std::vector<std::string> nat_chains() {
    return {"KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ"};
}

std::vector<std::string> filter_chains() {
    return {"KUBE-FORWARD", "KUBE-NODE-PORT", "KUBE-PROXY-FIREWALL", "KUBE-SOURCE-RANGES-FIREWALL",
            "KUBE-IPVS-FILTER", "KUBE-IPVS-OUT-FILTER"};
}

namespace {

// A rule on one of the sets, as kube-proxy's generic ipset rules write it.
struct SetRule {
    KubeSet set;
    std::string_view table;
    std::string_view chain;
    std::string_view target;
    std::string_view match;
    std::string_view protocol;
};

// kube-proxy's ipsetWithIptablesChain, in its order.
constexpr SetRule set_rules[] = {
    {KubeSet::loop_back, "nat", "KUBE-POSTROUTING", "MASQUERADE", "dst,dst,src", ""},
    {KubeSet::load_balancer, "nat", "KUBE-SERVICES", "KUBE-LOAD-BALANCER", "dst,dst", ""},
    {KubeSet::load_balancer_local, "nat", "KUBE-LOAD-BALANCER", "RETURN", "dst,dst", ""},
    {KubeSet::node_port_local_tcp, "nat", "KUBE-NODE-PORT", "RETURN", "dst", "tcp"},
    {KubeSet::node_port_tcp, "nat", "KUBE-NODE-PORT", "KUBE-MARK-MASQ", "dst", "tcp"},
    {KubeSet::node_port_local_udp, "nat", "KUBE-NODE-PORT", "RETURN", "dst", "udp"},
    {KubeSet::node_port_udp, "nat", "KUBE-NODE-PORT", "KUBE-MARK-MASQ", "dst", "udp"},
    {KubeSet::node_port_local_sctp_hash, "nat", "KUBE-NODE-PORT", "RETURN", "dst,dst", "sctp"},
    {KubeSet::node_port_sctp_hash, "nat", "KUBE-NODE-PORT", "KUBE-MARK-MASQ", "dst,dst", "sctp"},
    {KubeSet::load_balancer_fw, "filter", "KUBE-PROXY-FIREWALL", "KUBE-SOURCE-RANGES-FIREWALL", "dst,dst", ""},
    {KubeSet::load_balancer_source_cidr, "filter", "KUBE-SOURCE-RANGES-FIREWALL", "RETURN", "dst,dst,src", ""},
    {KubeSet::load_balancer_source_ip, "filter", "KUBE-SOURCE-RANGES-FIREWALL", "RETURN", "dst,dst,src", ""},
};

class Payload {
public:
    explicit Payload(const RuleInputs& in) : in_(in) {}

    std::string set(KubeSet id) const { return kube_set_name(id, in_.family); }
    bool has(KubeSet id) const { return in_.non_empty_sets.count(id) > 0; }

    // -m comment --comment "<the set's comment>" -m set --match-set NAME MATCH
    std::string match_set(KubeSet id, std::string_view match, bool comment = true) const {
        std::string out;
        if (comment) out += "-m comment --comment \"" + std::string(kube_set_info(id).comment) + "\" ";
        return out + "-m set --match-set " + set(id) + " " + std::string(match);
    }

    void add(std::string& table, std::string_view chain, const std::string& rule) {
        table += "-A ";
        table += chain;
        table += ' ';
        table += rule;
        table += '\n';
    }

    std::string render() {
        const std::string mark = masquerade_mark(in_.masquerade_bit);
        const bool v4 = in_.family == model::Family::v4;
        std::string nat = "*nat\n", filter = "*filter\n";
        for (const auto& c : nat_chains()) nat += ":" + c + " - [0:0]\n";
        for (const auto& c : filter_chains()) filter += ":" + c + " - [0:0]\n";

        add(nat, "KUBE-SERVICES", std::string("-s ") + (v4 ? "127.0.0.0/8" : "::1/128") + " -j RETURN");
        for (const auto& r : set_rules) {
            if (!has(r.set)) continue;
            std::string rule = r.protocol.empty() ? "" : "-p " + std::string(r.protocol) + " ";
            rule += match_set(r.set, r.match) + " -j " + std::string(r.target);
            add(r.table == "nat" ? nat : filter, r.chain, rule);
        }
        if (has(KubeSet::cluster_ip)) {
            std::string to_cluster_ip = match_set(KubeSet::cluster_ip, "dst,dst");
            if (in_.masquerade_all) {
                add(nat, "KUBE-SERVICES", to_cluster_ip + " -j KUBE-MARK-MASQ");
            } else if (in_.cluster_cidr) {
                add(nat, "KUBE-SERVICES", "! -s " + in_.cluster_cidr->to_string() + " " + to_cluster_ip + " -j KUBE-MARK-MASQ");
            } else {
                // Without a local-traffic detector, node-originated traffic
                // whose source is a VIP is what needs SNAT.
                add(nat, "KUBE-SERVICES", match_set(KubeSet::cluster_ip, "src,dst") + " -j KUBE-MARK-MASQ");
            }
        }
        auto external_ip_accepts = [&](KubeSet id) {
            std::string base = match_set(id, "dst,dst");
            add(nat, "KUBE-SERVICES",
                base + " -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT");
            add(nat, "KUBE-SERVICES", base + " -m addrtype --dst-type LOCAL -j ACCEPT");
        };
        if (has(KubeSet::external_ip)) {
            add(nat, "KUBE-SERVICES", match_set(KubeSet::external_ip, "dst,dst") + " -j KUBE-MARK-MASQ");
            external_ip_accepts(KubeSet::external_ip);
        }
        if (has(KubeSet::external_ip_local)) external_ip_accepts(KubeSet::external_ip_local);
        add(nat, "KUBE-SERVICES", "-m addrtype --dst-type LOCAL -j KUBE-NODE-PORT");
        add(nat, "KUBE-LOAD-BALANCER", "-j KUBE-MARK-MASQ");
        // nat-table ACCEPTs keep later PREROUTING/OUTPUT rules (e.g. CNI
        // hostport DNAT) away from VIP traffic.
        for (KubeSet id : {KubeSet::cluster_ip, KubeSet::load_balancer})
            if (has(id)) add(nat, "KUBE-SERVICES", match_set(id, "dst,dst", false) + " -j ACCEPT");
        add(nat, "KUBE-POSTROUTING", "-m mark ! --mark " + mark + "/" + mark + " -j RETURN");
        add(nat, "KUBE-POSTROUTING", "-j MARK --xor-mark " + mark);
        add(nat, "KUBE-POSTROUTING", std::string("-m comment --comment \"kubernetes service traffic requiring SNAT\" "
                                                 "-j MASQUERADE") +
                                         (in_.random_fully ? " --random-fully" : ""));
        add(nat, "KUBE-MARK-MASQ", "-j MARK --or-mark " + mark);

        add(filter, "KUBE-SOURCE-RANGES-FIREWALL", "-j DROP");
        for (const auto& f : in_.out_filters) {
            std::string ip = f.address.to_string();
            add(filter, "KUBE-IPVS-OUT-FILTER",
                "-s " + ip + " -m ipvs --vaddr " + ip + " --vproto " + f.protocol + " --vport " +
                    std::to_string(f.port) + " -j DROP");
        }
        add(filter, "KUBE-FORWARD",
            "-m comment --comment \"kubernetes forwarding rules\" -m mark --mark " + mark + "/" + mark + " -j ACCEPT");
        add(filter, "KUBE-FORWARD",
            "-m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED "
            "-j ACCEPT");
        add(filter, "KUBE-NODE-PORT", match_set(KubeSet::health_check_node_port, "dst") + " -j ACCEPT");
        // RETURN, not ACCEPT, so the source-range checks after it still apply.
        for (KubeSet id : {KubeSet::load_balancer, KubeSet::cluster_ip, KubeSet::external_ip, KubeSet::external_ip_local})
            add(filter, "KUBE-IPVS-FILTER", match_set(id, "dst,dst", false) + " -j RETURN");
        add(filter, "KUBE-IPVS-FILTER", match_set(KubeSet::health_check_node_port, "dst", false) + " -j RETURN");
        add(filter, "KUBE-IPVS-FILTER",
            "-m conntrack --ctstate NEW " + match_set(KubeSet::ipvs_ips, "dst", false) + " -j REJECT");
        return nat + "COMMIT\n" + filter + "COMMIT\n";
    }

private:
    const RuleInputs& in_;
};

}  // namespace

std::string render_rules(const RuleInputs& inputs) { return Payload(inputs).render(); }

}  // namespace kipvs::kernel
