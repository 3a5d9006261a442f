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

}  // namespace kipvs::proxy
