#pragma once
// The only writer of the kernel (ARCHITECTURE.md). It reads the kernel once
// at start, keeps what it holds in memory, and from then on turns each
// Delta of the desired state into the few operations it needs: one changed
// endpoint is one destination operation. A full sync (at start and every
// ipvs.syncPeriod) reads the kernel again and repairs drift.
//
// Order inside one sync (PARITY.md decision 5): sets, then iptables rules,
// then kube-ipvs0 addresses, then virtual servers; removals of addresses
// after the virtual servers that used them.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kernel/conntrack.hpp"
#include "kernel/ipset.hpp"
#include "kernel/ipset_sync.hpp"
#include "kernel/iptables.hpp"
#include "kernel/ipvs.hpp"
#include "kernel/link.hpp"
#include "proxy/desired_state.hpp"

namespace kipvs::proxy {

struct KernelHandles {
    kernel::IpvsKernel& ipvs;
    kernel::IpsetKernel& ipset;
    kernel::LinkKernel& links;
    // One per proxied family; a family without one gets no rules.
    std::map<model::Family, kernel::IptablesKernel*> iptables;
    // UDP flows not answered by a serving endpoint are swept through it
    // after a sync that changed UDP; none (dry run, tests) sweeps nothing.
    kernel::ConntrackKernel* conntrack = nullptr;
};

struct ReconcilerOptions {
    std::vector<model::Family> families = {model::Family::v4};
    std::vector<model::Cidr> exclude_cidrs;  // virtual servers inside are never deleted
    std::chrono::seconds graceful_termination_timeout = std::chrono::minutes(15);
    unsigned ipset_max_elements = 65536;
    // The family-independent part of the rules (masquerade, detect-local).
    bool masquerade_all = false;
    int masquerade_bit = 14;
    std::vector<model::Cidr> cluster_cidrs;
    bool random_fully = true;
    // NodePort virtual servers kipvs may delete as stale: on a node address,
    // with a port in this range (kube-apiserver's default range).
    std::uint16_t node_port_min = 30000, node_port_max = 32767;
};

struct SyncReport {
    std::size_t vs_added = 0, vs_edited = 0, vs_deleted = 0;
    std::size_t dest_added = 0, dest_edited = 0, dest_deleted = 0, dest_quiesced = 0;
    std::size_t set_added = 0, set_deleted = 0;
    std::size_t bound = 0, unbound = 0;
    bool rules_restored = false;
    // UDP flows the conntrack sweep deleted, by family (a family not swept
    // is absent).
    std::map<model::Family, std::size_t> conntrack_flushed;
    std::size_t conntrack_flushed_total() const;
    std::vector<std::string> failures;  // each names the object and the kernel's reason
    std::size_t changes() const {
        return vs_added + vs_edited + vs_deleted + dest_added + dest_edited + dest_deleted + dest_quiesced +
               set_added + set_deleted + bound + unbound + (rules_restored ? 1 : 0);
    }
    void merge(const SyncReport& other);
    // "vs +1 ~0 -0, destinations +2 ~0 -1 (1 draining), set entries +3 -1, addresses +1 -0, rules restored"
    std::string summary() const;
};

// The rules a family gets for this desired state (what the reconciler
// renders, and what `kipvs plan` prints).
kernel::RuleInputs rule_inputs(const ReconcilerOptions& options, const DesiredState& desired, model::Family family);

class Reconciler {
public:
    Reconciler(KernelHandles kernel, ReconcilerOptions options);
    ~Reconciler();

    // Compares everything against a fresh read of the kernel and writes the
    // difference. The first one adopts what an earlier kipvs (or
    // kube-proxy) left: what is already right is not touched.
    SyncReport full_sync(const DesiredState& desired);
    // Writes what `delta` says changed; reads nothing from the kernel except
    // the destinations of a virtual server with a destination to drain.
    SyncReport apply(const DesiredState& desired, const Delta& delta);
    // Deletes drained destinations: connections ended, or out of time.
    SyncReport reap(std::chrono::steady_clock::time_point now);
    bool draining() const { return !draining_.empty(); }
    // The NodePort addresses, for deciding which virtual servers are ours.
    void set_node_addresses(std::vector<model::IpAddress> addresses);

    std::size_t known_virtual_servers() const { return known_.size(); }

private:
    struct KnownVs;
    using DestKey = std::pair<model::IpAddress, std::uint16_t>;
    void read_kernel();
    void sync_sets(const DesiredState& desired, const Delta* delta, SyncReport& report);
    void sync_rules(const DesiredState& desired, bool verify, SyncReport& report);
    void sync_addresses(const std::vector<model::IpAddress>& bind, const std::vector<model::IpAddress>& unbind,
                        SyncReport& report);
    void plan_vs(const VsKey& key, const PlannedVirtualServer* want, std::vector<kernel::IpvsOp>& ops,
                 std::vector<VsKey>& to_reap);
    void execute(std::vector<kernel::IpvsOp> ops, SyncReport& report);
    void sweep_udp_flows(const DesiredState& desired, SyncReport& report);
    void reap_vs(const VsKey& key, bool force_all, std::chrono::steady_clock::time_point now, SyncReport& report);
    bool ours(const VsKey& key) const;
    bool proxied(model::Family family) const;

    KernelHandles kernel_;
    ReconcilerOptions options_;
    kernel::IpsetSync ipsets_;
    std::map<model::Family, std::unique_ptr<kernel::IptablesApplier>> appliers_;
    std::map<VsKey, KnownVs> known_;
    std::set<model::IpAddress> bound_;  // on kube-ipvs0, as read and since written
    std::set<model::IpAddress> node_addresses_;
    std::set<VsKey> owned_;  // wanted at some point in this run: ours to delete
    std::map<std::pair<VsKey, DestKey>, std::chrono::steady_clock::time_point> draining_;
    bool link_ensured_ = false;
    bool first_full_ = true;
    // Since the last conntrack sweep: the families whose UDP virtual
    // servers or destinations changed, and the UDP virtual servers deleted.
    std::set<model::Family> udp_changed_;
    std::map<model::Family, std::set<kernel::UdpFlowSweep::Address>> udp_removed_;
};

}  // namespace kipvs::proxy
