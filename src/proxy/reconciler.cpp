#include "proxy/reconciler.hpp"

#include <algorithm>

#include "error.hpp"
#include "kernel/kube_sets.hpp"
#include "log/log.hpp"

namespace kipvs::proxy {

using kernel::IpvsOp;
using kernel::IpvsOpKind;
using kernel::RealServer;
using kernel::VirtualServer;

// What the reconciler remembers of a destination: only what it compares.
// (A RealServer carries counters too; at 100,000 destinations the
// difference is tens of megabytes.)
struct KnownDest {
    std::uint32_t weight = 1, upper_threshold = 0, lower_threshold = 0;
    kernel::Forwarding forwarding = kernel::Forwarding::masquerade;
};

struct Reconciler::KnownVs {
    VirtualServer vs;
    std::map<DestKey, KnownDest> dests;
};

namespace {

std::uint8_t full_mask(const VirtualServer& vs) {
    if (vs.netmask != 0) return vs.netmask;
    return vs.family == model::Family::v4 ? 32 : 128;
}

// The attributes kube-proxy compares (PARITY.md §3.2); counters and the
// kernel's bookkeeping are not part of it.
bool same_attributes(const VirtualServer& a, const VirtualServer& b) {
    return a.scheduler == b.scheduler && a.flags == b.flags && a.timeout == b.timeout &&
           full_mask(a) == full_mask(b) && a.pe_name == b.pe_name;
}

KnownDest known_dest(const RealServer& d) { return {d.weight, d.upper_threshold, d.lower_threshold, d.forwarding}; }

RealServer real_server(const model::IpAddress& address, std::uint16_t port, const KnownDest& k) {
    RealServer d;
    d.address = address;
    d.port = port;
    d.weight = k.weight;
    d.upper_threshold = k.upper_threshold;
    d.lower_threshold = k.lower_threshold;
    d.forwarding = k.forwarding;
    return d;
}

bool same_destination(const RealServer& a, const KnownDest& b) {
    return a.weight == b.weight && a.forwarding == b.forwarding && a.upper_threshold == b.upper_threshold &&
           a.lower_threshold == b.lower_threshold;
}

// Without connections to keep, a destination goes at once; UDP and SCTP
// have no graceful termination in IPVS mode (PARITY.md §3.4).
bool needs_draining(const VirtualServer& vs) { return vs.protocol == kernel::Protocol::tcp; }

constexpr std::size_t execute_chunk = 4096;

std::string vs_name(const VsKey& key) {
    std::string out(kernel::protocol_name(key.protocol));
    out += ' ';
    out += kernel::host_port(key.address, key.port);
    return out;
}

}  // namespace

void SyncReport::merge(const SyncReport& o) {
    vs_added += o.vs_added;
    vs_edited += o.vs_edited;
    vs_deleted += o.vs_deleted;
    dest_added += o.dest_added;
    dest_edited += o.dest_edited;
    dest_deleted += o.dest_deleted;
    dest_quiesced += o.dest_quiesced;
    set_added += o.set_added;
    set_deleted += o.set_deleted;
    bound += o.bound;
    unbound += o.unbound;
    rules_restored = rules_restored || o.rules_restored;
    conntrack_flushed += o.conntrack_flushed;
    failures.insert(failures.end(), o.failures.begin(), o.failures.end());
}

std::string SyncReport::summary() const {
    auto n = [](std::size_t v) { return std::to_string(v); };
    std::string out = "virtual servers +" + n(vs_added);
    out += " ~" + n(vs_edited) + " -" + n(vs_deleted);
    out += ", destinations +" + n(dest_added) + " ~" + n(dest_edited) + " -" + n(dest_deleted);
    if (dest_quiesced > 0) out += " (" + n(dest_quiesced) + " draining)";
    out += ", set entries +" + n(set_added) + " -" + n(set_deleted);
    out += ", addresses +" + n(bound) + " -" + n(unbound);
    if (rules_restored) out += ", rules restored";
    if (conntrack_flushed > 0) {
        out += ", ";
        out += n(conntrack_flushed);
        out += " UDP flows flushed";
    }
    if (!failures.empty()) out += ", " + n(failures.size()) + " failed";
    return out;
}

Reconciler::Reconciler(KernelHandles kernel, ReconcilerOptions options)
    : kernel_(std::move(kernel)), options_(std::move(options)), ipsets_(kernel_.ipset) {
    for (auto [family, iptables] : kernel_.iptables)
        if (iptables != nullptr && proxied(family))
            appliers_.emplace(family, std::make_unique<kernel::IptablesApplier>(*iptables));
}

Reconciler::~Reconciler() = default;

bool Reconciler::proxied(model::Family family) const {
    return std::find(options_.families.begin(), options_.families.end(), family) != options_.families.end();
}

void Reconciler::set_node_addresses(std::vector<model::IpAddress> addresses) {
    node_addresses_ = std::set<model::IpAddress>(addresses.begin(), addresses.end());
}

// Decision 7: kipvs deletes only what IPVS mode creates — virtual servers on
// kube-ipvs0's addresses, or NodePorts on node addresses — of a family it
// proxies, and never one inside excludeCIDRs.
bool Reconciler::ours(const VsKey& key) const {
    if (!proxied(key.address.family)) return false;
    for (const auto& cidr : options_.exclude_cidrs)
        if (cidr.contains(key.address)) return false;
    if (owned_.count(key) != 0 || bound_.count(key.address) != 0) return true;
    return node_addresses_.count(key.address) != 0 && key.port >= options_.node_port_min &&
           key.port <= options_.node_port_max;
}

void Reconciler::read_kernel() {
    known_.clear();
    for (auto& table : kernel_.ipvs.table()) {
        if (table.service.fwmark != 0) continue;  // never kube-proxy's
        KnownVs known{std::move(table.service), {}};
        for (const auto& d : table.destinations) known.dests.emplace(DestKey{d.address, d.port}, known_dest(d));
        known_.insert_or_assign(VsKey::of(known.vs), std::move(known));
    }
    bound_.clear();
    if (kernel_.links.exists(kernel::ipvs_interface)) {
        for (const auto& a : kernel_.links.addresses(kernel::ipvs_interface)) bound_.insert(a);
        link_ensured_ = true;
    } else {
        link_ensured_ = false;
    }
    // Drained destinations whose virtual server went away need no reaping.
    for (auto it = draining_.begin(); it != draining_.end();) {
        auto vs = known_.find(it->first.first);
        if (vs == known_.end() || vs->second.dests.count(it->first.second) == 0) it = draining_.erase(it);
        else ++it;
    }
}

void Reconciler::sync_sets(const DesiredState& desired, const Delta* delta, SyncReport& report) {
    auto note = [&](const kernel::IpsetSync::Result& r) {
        report.set_added += r.added;
        report.set_deleted += r.deleted;
        for (const auto& f : r.failures)
            report.failures.push_back("ipset " + f.set + (f.entry.empty() ? "" : " entry " + f.entry) + ": " + f.message);
    };
    for (auto family : options_.families) {
        for (const auto& info : kernel::kube_sets()) {
            SetId id{info.id, family};
            auto spec = kernel::kube_set_spec(info.id, family, options_.ipset_max_elements);
            try {
                if (delta == nullptr) {
                    note(ipsets_.sync(spec, desired.set_entries(id)));
                } else if (auto it = delta->sets.find(id); it != delta->sets.end()) {
                    note(ipsets_.update(spec, it->second.add, it->second.remove));
                }
            } catch (const Error& e) {
                report.failures.push_back(e.what());
            }
        }
    }
}

kernel::RuleInputs rule_inputs(const ReconcilerOptions& options, const DesiredState& desired, model::Family family) {
    kernel::RuleInputs inputs;
    inputs.family = family;
    inputs.masquerade_all = options.masquerade_all;
    inputs.masquerade_bit = options.masquerade_bit;
    for (const auto& cidr : options.cluster_cidrs)
        if (cidr.address.family == family) inputs.cluster_cidr = cidr;
    inputs.random_fully = options.random_fully;
    inputs.non_empty_sets = desired.non_empty_sets(family);
    inputs.out_filters = desired.out_filters(family);
    return inputs;
}

void Reconciler::sync_rules(const DesiredState& desired, bool verify, SyncReport& report) {
    for (auto& [family, applier] : appliers_) {
        try {
            if (applier->apply(kernel::render_rules(rule_inputs(options_, desired, family)), verify))
                report.rules_restored = true;
        } catch (const Error& e) {
            report.failures.push_back(std::string(model::family_name(family)) + " rules: " + e.what());
        }
    }
}

void Reconciler::sync_addresses(const std::vector<model::IpAddress>& bind, const std::vector<model::IpAddress>& unbind,
                                SyncReport& report) {
    std::vector<model::IpAddress> to_bind, to_unbind;
    for (const auto& a : bind)
        if (bound_.count(a) == 0) to_bind.push_back(a);
    for (const auto& a : unbind)
        if (bound_.count(a) != 0 && proxied(a.family)) to_unbind.push_back(a);
    if (!to_bind.empty()) {
        auto failed = kernel_.links.bind_all(kernel::ipvs_interface, to_bind);
        for (auto& f : failed) report.failures.push_back(std::move(f));
        if (failed.empty()) report.bound += to_bind.size();
        // What failed is found again by the next full sync's read.
        for (const auto& a : to_bind) bound_.insert(a);
    }
    if (!to_unbind.empty()) {
        auto failed = kernel_.links.unbind_all(kernel::ipvs_interface, to_unbind);
        for (auto& f : failed) report.failures.push_back(std::move(f));
        if (failed.empty()) report.unbound += to_unbind.size();
        for (const auto& a : to_unbind) bound_.erase(a);
    }
}

void Reconciler::plan_vs(const VsKey& key, const kernel::ServiceTable* want, std::vector<IpvsOp>& ops,
                         std::vector<VsKey>& to_reap) {
    auto it = known_.find(key);
    if (want == nullptr) {
        if (it == known_.end() || !ours(key)) return;
        ops.push_back(IpvsOp::remove(it->second.vs));
        return;
    }
    owned_.insert(key);
    const VirtualServer& vs = want->service;
    if (it == known_.end()) {
        ops.push_back(IpvsOp::add(vs));
        for (const auto& d : want->destinations) ops.push_back(IpvsOp::add(vs, d));
        return;
    }
    KnownVs& have = it->second;
    if (!same_attributes(vs, have.vs)) ops.push_back(IpvsOp::edit(vs));
    std::set<DestKey> wanted;
    for (const auto& d : want->destinations) {
        DestKey dk{d.address, d.port};
        wanted.insert(dk);
        auto h = have.dests.find(dk);
        if (h == have.dests.end()) ops.push_back(IpvsOp::add(vs, d));
        else if (!same_destination(d, h->second)) ops.push_back(IpvsOp::edit(vs, d));
        // Back before it drained: it stays, at its weight again.
        draining_.erase({key, dk});
    }
    bool reap = false;
    for (const auto& [dk, d] : have.dests) {
        if (wanted.count(dk) != 0) continue;
        if (!needs_draining(vs)) {
            ops.push_back(IpvsOp::remove(vs, real_server(dk.first, dk.second, d)));
            continue;
        }
        if (draining_.count({key, dk}) == 0)
            draining_.emplace(std::pair{key, dk},
                              std::chrono::steady_clock::now() + options_.graceful_termination_timeout);
        if (d.weight != 0) {
            RealServer quiet = real_server(dk.first, dk.second, d);
            quiet.weight = 0;
            ops.push_back(IpvsOp::edit(vs, quiet));
        }
        reap = true;
    }
    if (reap) to_reap.push_back(key);
}

// Sends one batch and brings the in-memory copy of the kernel up to date
// with what succeeded; what failed is reported and re-read by the next full
// sync.
void Reconciler::execute(std::vector<IpvsOp> ops, SyncReport& report) {
    if (ops.empty()) return;
    auto results = kernel_.ipvs.apply(ops);
    std::vector<const IpvsOp*> flush;
    for (std::size_t i = 0; i < ops.size(); ++i) {
        const IpvsOp& op = ops[i];
        const auto& r = results[i];
        if (!r.ok()) {
            report.failures.push_back(r.message);
            continue;
        }
        VsKey key = VsKey::of(op.service);
        switch (op.kind) {
            case IpvsOpKind::add_service:
                ++report.vs_added;
                known_.insert_or_assign(key, KnownVs{op.service, {}});
                break;
            case IpvsOpKind::edit_service:
                ++report.vs_edited;
                known_[key].vs = op.service;
                break;
            case IpvsOpKind::delete_service:
                ++report.vs_deleted;
                known_.erase(key);
                owned_.erase(key);
                for (auto d = draining_.begin(); d != draining_.end();) {
                    if (d->first.first == key) d = draining_.erase(d);
                    else ++d;
                }
                break;
            case IpvsOpKind::add_destination:
                ++report.dest_added;
                known_[key].dests.insert_or_assign(DestKey{op.destination->address, op.destination->port},
                                                   known_dest(*op.destination));
                break;
            case IpvsOpKind::edit_destination:
                if (op.destination->weight == 0 && draining_.count({key, {op.destination->address, op.destination->port}}))
                    ++report.dest_quiesced;
                else
                    ++report.dest_edited;
                known_[key].dests.insert_or_assign(DestKey{op.destination->address, op.destination->port},
                                                   known_dest(*op.destination));
                break;
            case IpvsOpKind::delete_destination:
                ++report.dest_deleted;
                known_[key].dests.erase(DestKey{op.destination->address, op.destination->port});
                draining_.erase({key, {op.destination->address, op.destination->port}});
                if (op.service.protocol == kernel::Protocol::udp) flush.push_back(&op);
                break;
        }
    }
    flush_udp_flows(flush, report);
}

// kube-proxy's conntrack cleanup (PARITY.md §3.4): a UDP client that keeps
// its source port (a resolver) would otherwise go on to the deleted endpoint
// until its conntrack entry times out. After the batch, so that no new flow
// can reach the endpoint between the flush and the delete.
void Reconciler::flush_udp_flows(const std::vector<const IpvsOp*>& deleted, SyncReport& report) {
    if (kernel_.conntrack == nullptr) return;
    for (const IpvsOp* op : deleted) {
        const RealServer& d = *op->destination;
        try {
            report.conntrack_flushed +=
                kernel_.conntrack->delete_udp_flows(op->service.address, op->service.port, d.address, d.port);
        } catch (const Error& e) {
            std::string failure = "flushing UDP flows of ";
            failure += vs_name(VsKey::of(op->service));
            failure += " to ";
            failure += kernel::host_port(d.address, d.port);
            failure += ": ";
            failure += e.what();
            report.failures.push_back(std::move(failure));
        }
    }
}

// Reads one virtual server's destinations (their connection counts) and
// deletes the drained ones that have none left or ran out of time.
void Reconciler::reap_vs(const VsKey& key, bool force_all, std::chrono::steady_clock::time_point now,
                         SyncReport& report) {
    auto known = known_.find(key);
    if (known == known_.end()) return;
    std::vector<RealServer> current;
    try {
        current = kernel_.ipvs.destinations(known->second.vs);
    } catch (const Error& e) {
        report.failures.push_back("reading " + vs_name(key) + ": " + e.what());
        return;
    }
    std::vector<IpvsOp> ops;
    for (const auto& d : current) {
        auto it = draining_.find({key, {d.address, d.port}});
        if (it == draining_.end()) continue;
        bool idle = d.active_conns + d.inactive_conns == 0;
        if (force_all || idle || now >= it->second) {
            if (!idle) log::info("destination " + d.describe() + " of " + vs_name(key) + " still had " +
                                 std::to_string(d.active_conns + d.inactive_conns) +
                                 " connections at the graceful termination timeout: deleted");
            ops.push_back(IpvsOp::remove(known->second.vs, d));
        }
    }
    // Listed but already gone from the kernel: nothing left to drain.
    for (auto it = draining_.begin(); it != draining_.end();) {
        bool present = it->first.first == key &&
                       std::any_of(current.begin(), current.end(), [&](const RealServer& d) {
                           return DestKey{d.address, d.port} == it->first.second;
                       });
        if (it->first.first == key && !present) {
            known->second.dests.erase(it->first.second);
            it = draining_.erase(it);
        } else {
            ++it;
        }
    }
    execute(std::move(ops), report);
}

SyncReport Reconciler::reap(std::chrono::steady_clock::time_point now) {
    SyncReport report;
    std::set<VsKey> keys;
    for (const auto& [k, deadline] : draining_) keys.insert(k.first);
    for (const auto& key : keys) reap_vs(key, false, now, report);
    return report;
}

SyncReport Reconciler::full_sync(const DesiredState& desired) {
    SyncReport report;
    bool adopting = first_full_;
    first_full_ = false;
    read_kernel();
    if (!link_ensured_) {
        kernel_.links.ensure_dummy(kernel::ipvs_interface);
        link_ensured_ = true;
    }
    if (!adopting) ipsets_.forget_all();  // drift: read every set again
    sync_sets(desired, nullptr, report);
    sync_rules(desired, true, report);

    auto wanted = desired.bound_addresses();
    std::set<model::IpAddress> wanted_set(wanted.begin(), wanted.end());
    std::vector<model::IpAddress> extra;
    for (const auto& a : bound_)
        if (wanted_set.count(a) == 0) extra.push_back(a);
    sync_addresses(wanted, {}, report);

    std::vector<IpvsOp> ops;
    std::vector<VsKey> to_reap;
    std::set<VsKey> keys;
    for (const auto& k : desired.virtual_server_keys()) keys.insert(k);
    for (const auto& [k, v] : known_) keys.insert(k);
    // Sent in chunks, so that a first sync of 100,000 destinations does not
    // hold every operation in memory at once.
    for (const auto& k : keys) {
        plan_vs(k, desired.virtual_server(k), ops, to_reap);
        if (ops.size() >= execute_chunk) {
            execute(std::move(ops), report);
            ops.clear();
        }
    }
    execute(std::move(ops), report);
    auto now = std::chrono::steady_clock::now();
    for (const auto& k : to_reap) reap_vs(k, false, now, report);

    sync_addresses({}, extra, report);
    return report;
}

SyncReport Reconciler::apply(const DesiredState& desired, const Delta& delta) {
    SyncReport report;
    if (!link_ensured_) {
        kernel_.links.ensure_dummy(kernel::ipvs_interface);
        link_ensured_ = true;
    }
    sync_sets(desired, &delta, report);
    // The payload is constant in size (it names sets, not services), so
    // rendering it each time is cheap; the applier restores only when it
    // differs from what was applied.
    sync_rules(desired, false, report);
    sync_addresses(delta.bind, {}, report);

    std::vector<IpvsOp> ops;
    std::vector<VsKey> to_reap;
    for (const auto& k : delta.virtual_servers) plan_vs(k, desired.virtual_server(k), ops, to_reap);
    execute(std::move(ops), report);
    auto now = std::chrono::steady_clock::now();
    for (const auto& k : to_reap) reap_vs(k, false, now, report);

    // An address another service still wants stays (the delta counts owners).
    sync_addresses({}, delta.unbind, report);
    return report;
}

}  // namespace kipvs::proxy
