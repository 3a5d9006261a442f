#pragma once
// `kipvs cleanup`: remove what IPVS mode creates, and nothing else
// (PARITY.md decision 7): virtual servers on kube-ipvs0's addresses and
// NodePorts on node addresses (never one inside excludeCIDRs), kipvs's jump
// rules and chains, the KUBE-* and KUBE-6-* sets (after the rules that
// reference them), and kube-ipvs0 itself. Never an IPVS flush.
#include <map>
#include <string>
#include <vector>

#include "kernel/ipset.hpp"
#include "kernel/iptables.hpp"
#include "kernel/ipvs.hpp"
#include "kernel/link.hpp"
#include "model/ip.hpp"

namespace kipvs::proxy {

struct CleanupOptions {
    std::vector<model::Cidr> exclude_cidrs;
    std::vector<model::IpAddress> node_addresses;
    std::uint16_t node_port_min = 30000, node_port_max = 32767;
};

struct CleanupReport {
    std::vector<std::string> removed;   // one line per object, for the operator
    std::vector<std::string> kept;      // virtual servers left alone, and why
    std::vector<std::string> failures;  // what could not be removed
};

CleanupReport cleanup(kernel::IpvsKernel& ipvs, kernel::IpsetKernel& ipset, kernel::LinkKernel& links,
                      const std::map<model::Family, kernel::IptablesKernel*>& iptables, const CleanupOptions& options);

// The restore payload that deletes kipvs's jump rules and chains from what
// `saved` (table → *-save output) holds; empty when there is nothing.
std::string cleanup_rules_payload(const std::map<std::string, std::string>& saved);

// --- kube-proxy's other modes, for a node migrating to IPVS mode ----------

// The chains kube-proxy's iptables mode creates (KUBE-SERVICES,
// KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ, KUBE-FORWARD,
// KUBE-EXTERNAL-SERVICES, KUBE-PROXY-FIREWALL, KUBE-PROXY-CANARY and the
// per-service KUBE-SVC-/SVL-/EXT-/FW-/SEP-/XLB- chains) and IPVS mode's own,
// which share some of those names. kubelet's chains (KUBE-FIREWALL,
// KUBE-MARK-DROP, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT) are not: kubelet
// keeps running on the node and owns them.
bool is_kube_proxy_chain(const std::string& name);

struct OtherModeCleanup {
    std::string payload;                 // for *-restore --noflush; empty: nothing to do
    std::vector<std::string> removed;    // "nat KUBE-SVC-X", "filter jump INPUT -> KUBE-FORWARD", …
    std::vector<std::string> kept;       // kube-proxy chains a foreign chain still jumps to, and why
};

// From a whole `iptables-save` (every table): delete the rules of built-in
// chains that jump to a kube-proxy chain, then flush and delete those
// chains. A kube-proxy chain that a foreign chain jumps to (directly or
// through other kube-proxy chains) is kept whole, so every foreign chain
// and rule survives unchanged and the restore cannot fail on a reference.
OtherModeCleanup iptables_mode_cleanup(const std::string& saved);

// kube-proxy's nftables mode keeps everything in `table ip kube-proxy` and
// `table ip6 kube-proxy`: the ones of those that `nft list tables` lists,
// as "ip kube-proxy".
std::vector<std::string> nftables_mode_tables(const std::string& listed);

}  // namespace kipvs::proxy
