#pragma once
// The iptables rules of kube-proxy's IPVS mode (PARITY.md §2), rendered as
// one iptables-restore payload. The payload's size is constant in the
// number of services: per-service data lives in the ipsets it matches.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kernel/kube_sets.hpp"
#include "model/ip.hpp"

namespace kipvs::kernel {

// A LoadBalancer VIP:port whose source ranges do not include the node: node
// and hostNetwork traffic to it is dropped (KUBE-IPVS-OUT-FILTER).
struct LoadBalancerOutFilter {
    model::IpAddress address;
    std::string protocol;  // tcp, udp, sctp
    std::uint16_t port = 0;
    auto operator<=>(const LoadBalancerOutFilter&) const = default;
};

struct RuleInputs {
    model::Family family = model::Family::v4;
    bool masquerade_all = false;
    int masquerade_bit = 14;
    std::optional<model::Cidr> cluster_cidr;  // detect-local ClusterCIDR for this family
    bool random_fully = true;                 // iptables >= 1.6.2
    std::set<KubeSet> non_empty_sets;         // rules on empty sets are left out
    std::vector<LoadBalancerOutFilter> out_filters;
};

// "0x004000" for bit 14: kube-proxy's %#08x spelling.
std::string masquerade_mark(int bit);

struct JumpRule {
    std::string table;  // nat, filter
    std::string chain;  // the built-in chain, e.g. PREROUTING
    std::string rule;   // "-m comment --comment \"...\" -j KUBE-SERVICES", as iptables-save prints it
};

// The nine jump rules from built-in chains into kipvs's chains, in the order
// kube-proxy inserts them (each at position 1).
std::vector<JumpRule> jump_rules();

// The chains kipvs declares (and so flushes and rewrites) per table.
std::vector<std::string> nat_chains();
std::vector<std::string> filter_chains();

// "*nat … COMMIT\n*filter … COMMIT\n", without jump rules.
std::string render_rules(const RuleInputs& inputs);

}  // namespace kipvs::kernel
