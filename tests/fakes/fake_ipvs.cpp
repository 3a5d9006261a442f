#include "fake_ipvs.hpp"

#include <algorithm>
#include <cerrno>

#include "error.hpp"

namespace kipvs::test {

using kernel::IpvsOpKind;

void FakeIpvs::set_timeouts(const kernel::IpvsTimeouts& t) {
    // The kernel leaves a timeout unchanged when it is given as 0.
    if (t.tcp) timeouts_.tcp = t.tcp;
    if (t.tcp_fin) timeouts_.tcp_fin = t.tcp_fin;
    if (t.udp) timeouts_.udp = t.udp;
}

std::vector<kernel::VirtualServer> FakeIpvs::services() {
    ++service_dumps;
    std::vector<kernel::VirtualServer> out;
    for (const auto& entry : table_) out.push_back(entry.service);
    return out;
}

std::vector<kernel::RealServer> FakeIpvs::destinations(const kernel::VirtualServer& service) {
    ++destination_dumps;
    auto* entry = find(service);
    if (!entry) throw Error("IPVS dump destinations of " + service.describe() + ": No such process (errno 3)");
    return entry->destinations;
}

void FakeIpvs::zero(const std::optional<kernel::VirtualServer>& service) {
    for (auto& entry : table_) {
        if (service && !entry.service.same_key(*service)) continue;
        entry.service.stats = {};
        for (auto& d : entry.destinations) d.stats = {};
    }
}

kernel::ServiceTable* FakeIpvs::find(const kernel::VirtualServer& key) {
    auto it = std::find_if(table_.begin(), table_.end(), [&](const auto& e) { return e.service.same_key(key); });
    return it == table_.end() ? nullptr : &*it;
}

std::vector<int> FakeIpvs::execute(const std::vector<kernel::IpvsOp>& ops) {
    ++batches_;
    std::vector<int> errors;
    for (const auto& op : ops) {
        executed_.push_back(op);
        errors.push_back(execute_one(op));
    }
    return errors;
}

int FakeIpvs::execute_one(const kernel::IpvsOp& op) {
    auto* entry = find(op.service);
    // The kernel's stored form: no counters from the caller.
    auto stored_service = [&] {
        kernel::VirtualServer s = op.service;
        s.flags &= ~kernel::service_flags::hashed;
        s.stats = {};
        return s;
    };
    auto stored_destination = [&] {
        kernel::RealServer d = *op.destination;
        d.active_conns = d.inactive_conns = d.persist_conns = 0;
        d.stats = {};
        return d;
    };
    switch (op.kind) {
        case IpvsOpKind::add_service:
            if (entry) return EEXIST;
            if (!schedulers.count(op.service.scheduler)) return ENOENT;
            table_.push_back({stored_service(), {}});
            return 0;
        case IpvsOpKind::edit_service:
            if (!entry) return ESRCH;
            if (!schedulers.count(op.service.scheduler)) return ENOENT;
            entry->service = stored_service();
            return 0;
        case IpvsOpKind::delete_service:
            if (!entry) return ESRCH;
            table_.erase(table_.begin() + (entry - table_.data()));
            return 0;
        default: break;
    }
    if (!entry) return ESRCH;
    auto& dests = entry->destinations;
    auto it = std::find_if(dests.begin(), dests.end(), [&](const auto& d) { return d.same_key(*op.destination); });
    switch (op.kind) {
        case IpvsOpKind::add_destination:
            if (it != dests.end()) return EEXIST;
            // Only a tunnel may cross address families.
            if (op.destination->address.family != op.service.family &&
                op.destination->forwarding != kernel::Forwarding::tunnel)
                return EINVAL;
            dests.push_back(stored_destination());
            return 0;
        case IpvsOpKind::edit_destination:
            if (it == dests.end()) return ENOENT;
            {
                // The kernel keeps a destination's connections across an edit.
                auto kept = *it;
                *it = stored_destination();
                it->active_conns = kept.active_conns;
                it->inactive_conns = kept.inactive_conns;
                it->persist_conns = kept.persist_conns;
            }
            return 0;
        case IpvsOpKind::delete_destination:
            if (it == dests.end()) return ENOENT;
            dests.erase(it);
            return 0;
        default: break;
    }
    return EINVAL;
}

void FakeIpvs::set_connections(const kernel::VirtualServer& service, const kernel::RealServer& destination,
                               std::uint32_t active, std::uint32_t inactive) {
    if (auto* entry = find(service))
        for (auto& d : entry->destinations)
            if (d.same_key(destination)) {
                d.active_conns = active;
                d.inactive_conns = inactive;
            }
}

}  // namespace kipvs::test
