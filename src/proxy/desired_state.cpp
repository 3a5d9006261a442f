#include "proxy/desired_state.hpp"

#include <algorithm>

namespace kipvs::proxy {
namespace {

// Counted insert/erase: returns true when the element appears or disappears.
template <class Map, class Key>
bool count_up(Map& map, const Key& key) {
    return ++map[key] == 1;
}

template <class Map, class Key>
bool count_down(Map& map, const Key& key) {
    auto it = map.find(key);
    if (it == map.end()) return false;
    if (--it->second > 0) return false;
    map.erase(it);
    return true;
}

// Elements of `a` not in `b`; both sorted.
template <class T>
std::vector<T> minus(const std::vector<T>& a, const std::vector<T>& b) {
    std::vector<T> out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

template <class T>
std::vector<T> sorted(std::vector<T> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

}  // namespace

void Delta::merge(const Delta& other) {
    virtual_servers.insert(other.virtual_servers.begin(), other.virtual_servers.end());
    for (const auto& [id, change] : other.sets) {
        auto& mine = sets[id];
        mine.add.insert(mine.add.end(), change.add.begin(), change.add.end());
        mine.remove.insert(mine.remove.end(), change.remove.begin(), change.remove.end());
    }
    bind.insert(bind.end(), other.bind.begin(), other.bind.end());
    unbind.insert(unbind.end(), other.unbind.begin(), other.unbind.end());
    out_filters_changed = out_filters_changed || other.out_filters_changed;
}

Delta DesiredState::set_service(const std::string& key, ServicePlan plan) {
    static const ServicePlan nothing;
    auto it = plans_.find(key);
    const ServicePlan& old = it == plans_.end() ? nothing : it->second;
    Delta delta;

    // Virtual servers: every key the old or new plan names is reconciled
    // when its table differs (or its owner changes).
    std::map<VsKey, const PlannedVirtualServer*> before, after;
    for (const auto& t : old.virtual_servers) before.emplace(VsKey::of(t.service), &t);
    for (const auto& t : plan.virtual_servers) after.emplace(VsKey::of(t.service), &t);
    for (const auto& [k, t] : before) {
        auto a = after.find(k);
        if (a == after.end() || !(*a->second == *t)) delta.virtual_servers.insert(k);
        if (a == after.end()) {
            auto& owners = vs_owners_[k];
            owners.erase(key);
            if (owners.empty()) vs_owners_.erase(k);
        }
        destinations_ -= t->destinations.size();
    }
    for (const auto& [k, t] : after) {
        if (before.count(k) == 0) {
            delta.virtual_servers.insert(k);
            vs_owners_[k].insert(key);
        }
        destinations_ += t->destinations.size();
    }

    // Set entries, addresses and out filters: the plans hold them sorted.
    std::vector<SetEntry> old_entries = sorted(old.set_entries), new_entries = sorted(plan.set_entries);
    for (const auto& e : minus(old_entries, new_entries)) {
        SetId id{e.set, e.family};
        auto& counts = sets_[id];
        if (count_down(counts, e.entry)) delta.sets[id].remove.push_back(e.entry);
        if (counts.empty()) sets_.erase(id);
    }
    for (const auto& e : minus(new_entries, old_entries)) {
        SetId id{e.set, e.family};
        if (count_up(sets_[id], e.entry)) delta.sets[id].add.push_back(e.entry);
    }
    std::vector<model::IpAddress> old_bound = sorted(old.bound_addresses), new_bound = sorted(plan.bound_addresses);
    for (const auto& a : minus(old_bound, new_bound))
        if (count_down(bound_, a)) delta.unbind.push_back(a);
    for (const auto& a : minus(new_bound, old_bound))
        if (count_up(bound_, a)) delta.bind.push_back(a);
    auto old_filters = sorted(old.out_filters), new_filters = sorted(plan.out_filters);
    for (const auto& f : minus(old_filters, new_filters))
        if (count_down(out_filters_, f)) delta.out_filters_changed = true;
    for (const auto& f : minus(new_filters, old_filters))
        if (count_up(out_filters_, f)) delta.out_filters_changed = true;

    if (plan.virtual_servers.empty() && plan.set_entries.empty() && plan.bound_addresses.empty() &&
        plan.out_filters.empty() && plan.events.empty()) {
        if (it != plans_.end()) plans_.erase(it);
    } else {
        plans_.insert_or_assign(key, std::move(plan));
    }
    return delta;
}

const PlannedVirtualServer* DesiredState::virtual_server(const VsKey& key) const {
    auto owners = vs_owners_.find(key);
    if (owners == vs_owners_.end() || owners->second.empty()) return nullptr;
    const ServicePlan& plan = plans_.at(*owners->second.begin());
    for (const auto& t : plan.virtual_servers)
        if (VsKey::of(t.service) == key) return &t;
    return nullptr;
}

std::vector<VsKey> DesiredState::virtual_server_keys() const {
    std::vector<VsKey> keys;
    keys.reserve(vs_owners_.size());
    for (const auto& [k, owners] : vs_owners_) keys.push_back(k);
    return keys;
}

std::set<std::string> DesiredState::set_entries(const SetId& set) const {
    std::set<std::string> out;
    if (auto it = sets_.find(set); it != sets_.end())
        for (const auto& [entry, count] : it->second) out.insert(entry);
    return out;
}

bool DesiredState::set_empty(const SetId& set) const {
    auto it = sets_.find(set);
    return it == sets_.end() || it->second.empty();
}

std::set<kernel::KubeSet> DesiredState::non_empty_sets(model::Family family) const {
    std::set<kernel::KubeSet> out;
    for (const auto& [id, entries] : sets_)
        if (id.second == family && !entries.empty()) out.insert(id.first);
    return out;
}

std::vector<kernel::LoadBalancerOutFilter> DesiredState::out_filters(model::Family family) const {
    std::vector<kernel::LoadBalancerOutFilter> out;
    for (const auto& [f, count] : out_filters_)
        if (f.address.family == family) out.push_back(f);
    return out;
}

std::vector<model::IpAddress> DesiredState::bound_addresses() const {
    std::vector<model::IpAddress> out;
    out.reserve(bound_.size());
    for (const auto& [a, count] : bound_) out.push_back(a);
    return out;
}

}  // namespace kipvs::proxy
