#pragma once
// The whole IPVS-mode state as one value, in the shape the kernel's own
// tools print it, so that what `kipvs plan` wants and what `kipvs dump`
// reads compare as text: the IPVS table (ipvsadm -S -n), kube-proxy's
// ipsets (ipset save), kube-ipvs0's addresses, and kipvs's part of the
// iptables rules (iptables-save).
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kernel/ipset.hpp"
#include "kernel/iptables.hpp"
#include "kernel/ipvs.hpp"
#include "kernel/kube_sets.hpp"
#include "kernel/link.hpp"
#include "proxy/desired_state.hpp"
#include "proxy/reconciler.hpp"

namespace kipvs::proxy {

struct StateView {
    std::vector<kernel::ServiceTable> ipvs;  // sort_table order
    // kube-proxy's sets: per family (IPv4 first), in kube_sets() order.
    std::vector<std::pair<kernel::SetSpec, std::set<std::string>>> sets;
    std::vector<model::IpAddress> addresses;  // kube-ipvs0's, sorted
    // kipvs's chains and jump rules per family as iptables-save lines
    // ("*nat", ":CHAIN - [0:0]", "-A …", "COMMIT"), without counters: the
    // built-in chains' jump rules first (in iptables-save's chain order),
    // then kipvs's chains by name, each chain's rules in order.
    std::map<model::Family, std::string> rules;
    bool operator==(const StateView&) const = default;
};

// What the desired state puts in the kernel: every kube-proxy set of every
// proxied family (empty ones too, as the reconciler creates them all), and
// the rules spelled as iptables-save prints them back.
StateView view_of(const DesiredState& desired, const ReconcilerOptions& options);

// What the kernel holds of IPVS mode: the whole IPVS table, only kube-proxy's
// sets, kube-ipvs0's addresses (none when it does not exist), and only
// kipvs's chains and jump rules from each family's iptables. The kernel does
// not say which maxelem kipvs asked for; the sets are shown with
// `ipset_max_elements`. Throws kipvs::Error from the kernel reads.
StateView read_view(kernel::IpvsKernel& ipvs, kernel::IpsetKernel& ipset, kernel::LinkKernel& links,
                    const std::map<model::Family, kernel::IptablesKernel*>& iptables,
                    unsigned ipset_max_elements = 65536);

// One rule (the text after "-A CHAIN ") as iptables-save prints it: MARK
// targets as --set-xmark, marks and addresses without padding and with
// their prefix, REJECT with its default reject type, quotes escaped.
// Idempotent: a rule already in that spelling is returned as it is.
std::string saved_spelling(const std::string& rule, model::Family family);

// The four parts, each after a '#' header line (ignored by ipvsadm -R,
// ipset restore and iptables-restore).
std::string format_save(const StateView& view);
// The IPVS part only, exactly as `ipvsadm -S -n`.
std::string format_ipvsadm(const StateView& view);
// All of it as one JSON object.
std::string format_json(const StateView& view);

// The lines that differ between two texts, "- " removed and "+ " added, in
// order (for `kipvs plan --follow`).
std::string diff_lines(const std::string& before, const std::string& after);

}  // namespace kipvs::proxy
