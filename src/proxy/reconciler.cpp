#include "proxy/reconciler.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

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

// A virtual server's known destinations in one vector sorted by key: 36
// bytes each, where a std::map node takes 80 once the allocator has rounded
// it (4 MB at 100,000 destinations). A change moves the entries behind it,
// which costs no more than plan_vs already spends on a changed virtual
// server (it walks all its destinations).
class KnownDests {
public:
    using Key = std::pair<model::IpAddress, std::uint16_t>;
    using Entry = std::pair<Key, KnownDest>;
    using iterator = std::vector<Entry>::iterator;
    using const_iterator = std::vector<Entry>::const_iterator;

    // A dump comes in the kernel's hash order: sorted once, not entry by entry.
    KnownDests() = default;
    explicit KnownDests(std::vector<Entry> entries) : entries_(std::move(entries)) {
        std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.first < b.first; });
    }
    iterator begin() { return entries_.begin(); }
    iterator end() { return entries_.end(); }
    const_iterator begin() const { return entries_.begin(); }
    const_iterator end() const { return entries_.end(); }
    iterator find(const Key& key) {
        auto it = lower(key);
        return it != entries_.end() && it->first == key ? it : entries_.end();
    }
    std::size_t count(const Key& key) const {
        auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                                   [](const Entry& e, const Key& k) { return e.first < k; });
        return it != entries_.end() && it->first == key ? 1 : 0;
    }
    void insert_or_assign(const Key& key, const KnownDest& dest) {
        // A first sync adds in key order: appended, nothing moves.
        if (entries_.empty() || entries_.back().first < key) {
            entries_.emplace_back(key, dest);
            return;
        }
        auto it = lower(key);
        if (it != entries_.end() && it->first == key) it->second = dest;
        else entries_.emplace(it, key, dest);
    }
    void erase(const Key& key) {
        if (auto it = find(key); it != entries_.end()) entries_.erase(it);
    }
    // Gives back what appends reserved beyond the size (up to half of it).
    void shrink_to_fit() { entries_.shrink_to_fit(); }

private:
    iterator lower(const Key& key) {
        return std::lower_bound(entries_.begin(), entries_.end(), key,
                                [](const Entry& e, const Key& k) { return e.first < k; });
    }
    std::vector<Entry> entries_;
};

// What the reconciler remembers of a virtual server: its attributes (the
// key is the map's) and destinations. A whole VirtualServer would add its
// counters and key again, 100 bytes a virtual server; it is rebuilt for the
// operations that name a known one.
struct Reconciler::KnownVs {
    model::Family family = model::Family::v4;
    std::string scheduler;
    std::uint32_t flags = 0, timeout = 0;
    std::uint8_t netmask = 0;
    std::string pe_name;
    KnownDests dests;

    static KnownVs of(const VirtualServer& vs, KnownDests dests = {}) {
        return {vs.family, vs.scheduler, vs.flags, vs.timeout, vs.netmask, vs.pe_name, std::move(dests)};
    }
    VirtualServer virtual_server(const VsKey& key) const {
        VirtualServer vs;
        vs.family = family;
        vs.protocol = key.protocol;
        vs.address = key.address;
        vs.port = key.port;
        vs.scheduler = scheduler;
        vs.flags = flags;
        vs.timeout = timeout;
        vs.netmask = netmask;
        vs.pe_name = pe_name;
        return vs;
    }
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
KnownDest known_dest(const Destination& d) { return {d.weight, 0, 0, kernel::Forwarding::masquerade}; }

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

bool same_destination(const KnownDest& a, const KnownDest& b) {
    return a.weight == b.weight && a.forwarding == b.forwarding && a.upper_threshold == b.upper_threshold &&
           a.lower_threshold == b.lower_threshold;
}

// Without connections to keep, a destination goes at once; UDP and SCTP
// have no graceful termination in IPVS mode (PARITY.md §3.4).
bool needs_draining(const VirtualServer& vs) { return vs.protocol == kernel::Protocol::tcp; }

// An IpvsOp is some 330 bytes (a VirtualServer and a RealServer, counters
// included): 1,024 of them keep a first sync's transient share near 0.3 MB
// while each batch is still long enough to pipeline.
constexpr std::size_t execute_chunk = 1024;

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
    for (const auto& [family, n] : o.conntrack_flushed) conntrack_flushed[family] += n;
    failures.insert(failures.end(), o.failures.begin(), o.failures.end());
}

std::size_t SyncReport::conntrack_flushed_total() const {
    std::size_t total = 0;
    for (const auto& [family, n] : conntrack_flushed) total += n;
    return total;
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
    if (std::size_t flushed = conntrack_flushed_total(); flushed > 0) {
        out += ", ";
        out += n(flushed);
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
        std::vector<KnownDests::Entry> dests;
        dests.reserve(table.destinations.size());
        for (const auto& d : table.destinations) dests.emplace_back(DestKey{d.address, d.port}, known_dest(d));
        known_.insert_or_assign(VsKey::of(table.service), KnownVs::of(table.service, KnownDests(std::move(dests))));
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

void Reconciler::plan_vs(const VsKey& key, const PlannedVirtualServer* want, std::vector<IpvsOp>& ops,
                         std::vector<VsKey>& to_reap) {
    auto it = known_.find(key);
    if (want == nullptr) {
        if (it == known_.end() || !ours(key)) return;
        ops.push_back(IpvsOp::remove(it->second.virtual_server(key)));
        return;
    }
    owned_.insert(key);
    const VirtualServer& vs = want->service;
    if (it == known_.end()) {
        ops.push_back(IpvsOp::add(vs));
        for (const auto& d : want->destinations) ops.push_back(IpvsOp::add(vs, d.real_server()));
        return;
    }
    KnownVs& have = it->second;
    if (!same_attributes(vs, have.virtual_server(key))) ops.push_back(IpvsOp::edit(vs));
    std::set<DestKey> wanted;
    for (const auto& d : want->destinations) {
        DestKey dk{d.address, d.port};
        wanted.insert(dk);
        auto h = have.dests.find(dk);
        if (h == have.dests.end()) ops.push_back(IpvsOp::add(vs, d.real_server()));
        else if (!same_destination(known_dest(d), h->second)) ops.push_back(IpvsOp::edit(vs, d.real_server()));
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
    for (std::size_t i = 0; i < ops.size(); ++i) {
        const IpvsOp& op = ops[i];
        const auto& r = results[i];
        if (!r.ok()) {
            report.failures.push_back(r.message);
            continue;
        }
        VsKey key = VsKey::of(op.service);
        bool udp = op.service.protocol == kernel::Protocol::udp;
        // A weight edit changes no endpoint: it calls for no sweep.
        if (udp && op.kind != IpvsOpKind::edit_service && op.kind != IpvsOpKind::edit_destination)
            udp_changed_.insert(op.service.family);
        switch (op.kind) {
            case IpvsOpKind::add_service:
                ++report.vs_added;
                known_.insert_or_assign(key, KnownVs::of(op.service));
                break;
            case IpvsOpKind::edit_service: {
                ++report.vs_edited;
                auto& known = known_[key];
                known = KnownVs::of(op.service, std::move(known.dests));
                break;
            }
            case IpvsOpKind::delete_service:
                ++report.vs_deleted;
                known_.erase(key);
                owned_.erase(key);
                for (auto d = draining_.begin(); d != draining_.end();) {
                    if (d->first.first == key) d = draining_.erase(d);
                    else ++d;
                }
                if (udp) udp_removed_[op.service.family].emplace(op.service.address, op.service.port);
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
                break;
        }
    }
}

// kube-proxy's conntrack sweep (PARITY.md §3.4): after a sync that changed
// UDP, a UDP frontend's flows that are not answered by an endpoint its
// virtual server now sends to are deleted. That takes flows to an endpoint
// that left or stopped serving, whoever deleted its destination and even
// before kipvs started, and flows made while the service was not served
// (their reply source is the VIP itself); a client that keeps its source
// port (a resolver) would otherwise stay on them until the entry times out.
// The serving endpoints are the plan's destinations, per virtual server:
// what IPVS can send a new flow to. It runs after the virtual server
// operations, so that no new flow can reach a removed endpoint after it.
// One table read per family, none on a sync that left UDP alone.
void Reconciler::sweep_udp_flows(const DesiredState& desired, SyncReport& report) {
    std::set<model::Family> families = std::move(udp_changed_);
    auto removed = std::move(udp_removed_);
    udp_changed_.clear();
    udp_removed_.clear();
    if (families.empty() || kernel_.conntrack == nullptr) return;
    std::map<model::Family, kernel::UdpFlowSweep> sweeps;
    std::map<model::Family, std::set<std::uint16_t>> node_ports;
    for (auto family : families) {
        auto& sweep = sweeps[family];
        if (auto r = removed.find(family); r != removed.end()) sweep.removed = std::move(r->second);
        // The plan's own list of this family's UDP NodePorts.
        for (const auto& entry : desired.set_entries({kernel::KubeSet::node_port_udp, family})) {
            std::uint16_t port = 0;
            if (std::from_chars(entry.data(), entry.data() + entry.size(), port).ec == std::errc{})
                node_ports[family].insert(port);
        }
    }
    for (const auto& [name, plan] : desired.plans()) {
        for (const auto& planned : plan.virtual_servers) {
            const VirtualServer& vs = planned.service;
            auto sweep = sweeps.find(vs.family);
            if (vs.protocol != kernel::Protocol::udp || sweep == sweeps.end() || planned.destinations.empty())
                continue;
            // A key two services claim is the first one's (what IPVS holds).
            if (desired.virtual_server(VsKey::of(vs)) != &planned) continue;
            bool node_port = node_addresses_.count(vs.address) != 0 && node_ports[vs.family].count(vs.port) != 0;
            auto& endpoints = node_port ? sweep->second.node_ports[vs.port]
                                        : sweep->second.services[{vs.address, vs.port}];
            for (const auto& d : planned.destinations) endpoints.emplace(d.address, d.port);
        }
    }
    for (const auto& [family, sweep] : sweeps) {
        if (sweep.empty()) continue;
        try {
            report.conntrack_flushed[family] += kernel_.conntrack->sweep_udp_flows(family, sweep);
        } catch (const Error& e) {
            std::string failure = "conntrack sweep of the ";
            failure += model::family_name(family);
            failure += " UDP flows (";
            failure += std::to_string(sweep.services.size());
            failure += " service address(es), ";
            failure += std::to_string(sweep.node_ports.size());
            failure += " NodePort(s), ";
            failure += std::to_string(sweep.removed.size());
            failure += " deleted virtual server(s)): ";
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
        current = kernel_.ipvs.destinations(known->second.virtual_server(key));
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
            ops.push_back(IpvsOp::remove(known->second.virtual_server(key), d));
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
    // Flows made before this run (kipvs down, or not started yet) are
    // swept once.
    if (adopting)
        for (auto family : options_.families) udp_changed_.insert(family);
    if (!link_ensured_) {
        kernel_.links.ensure_dummy(kernel::ipvs_interface);
        link_ensured_ = true;
    }
    if (!adopting) ipsets_.forget_all();  // drift: read every set again
    sync_sets(desired, nullptr, report);
    sync_rules(desired, true, report);

    auto wanted = desired.bound_addresses();  // sorted, unique
    std::vector<model::IpAddress> extra;
    for (const auto& a : bound_)
        if (!std::binary_search(wanted.begin(), wanted.end(), a)) extra.push_back(a);
    sync_addresses(wanted, {}, report);

    std::vector<IpvsOp> ops;
    std::vector<VsKey> to_reap;
    // Both sides sorted: their union as a vector, not a set of 10,000 nodes
    // at a first sync's peak.
    std::vector<VsKey> keys;
    {
        std::vector<VsKey> wanted_keys = desired.virtual_server_keys(), known_keys;
        known_keys.reserve(known_.size());
        for (const auto& [k, v] : known_) known_keys.push_back(k);
        keys.reserve(wanted_keys.size() + known_keys.size());
        std::set_union(wanted_keys.begin(), wanted_keys.end(), known_keys.begin(), known_keys.end(),
                       std::back_inserter(keys));
    }
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
    for (auto& [k, known] : known_) known.dests.shrink_to_fit();
    sweep_udp_flows(desired, report);

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
    sweep_udp_flows(desired, report);

    // An address another service still wants stays (the delta counts owners).
    sync_addresses({}, delta.unbind, report);
    return report;
}

}  // namespace kipvs::proxy
