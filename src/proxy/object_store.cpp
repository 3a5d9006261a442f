#include "proxy/object_store.hpp"

#include <string_view>

namespace kipvs::proxy {
namespace {

std::string key_of(const std::string& namespace_name, const std::string& name) {
    std::string key = namespace_name;
    key += '/';
    key += name;
    return key;
}

std::string service_key_of(const model::EndpointSlice& slice) {
    return slice.service_name.empty() ? std::string() : key_of(slice.namespace_name, slice.service_name);
}

}  // namespace

std::uint32_t PlacementPool::acquire(const Placement& placement) {
    auto it = index_.find(placement);
    if (it == index_.end()) {
        std::uint32_t index = 0;
        if (free_.empty()) {
            index = static_cast<std::uint32_t>(entries_.size());
            entries_.push_back({placement, 0});
        } else {
            index = free_.back();
            free_.pop_back();
            entries_[index].placement = placement;
        }
        it = index_.emplace(placement, index).first;
    }
    ++entries_[it->second].users;
    return it->second;
}

void PlacementPool::release(std::uint32_t index) {
    Entry& entry = entries_[index];
    if (--entry.users != 0) return;
    index_.erase(entry.placement);
    entry.placement = Placement{};
    free_.push_back(index);
}

StoredSlice StoredSlice::of(model::EndpointSlice slice, PlacementPool& pool) {
    StoredSlice out;
    out.endpoints.reserve(slice.endpoints.size());
    // Neighbours usually share a placement (one node's pods): the previous
    // endpoint's index is reused without a lookup.
    Placement placement;
    std::uint32_t previous = 0;
    bool have_previous = false;
    for (auto& ep : slice.endpoints) {
        std::uint32_t index = 0;
        if (have_previous && placement.node_name == ep.node_name && placement.zone == ep.zone &&
            placement.hint_zones == ep.hint_zones && placement.hint_nodes == ep.hint_nodes) {
            index = previous;
            pool.acquire(index);
        } else {
            placement = {std::move(ep.node_name), std::move(ep.zone), std::move(ep.hint_zones), std::move(ep.hint_nodes)};
            index = pool.acquire(placement);
            previous = index;
            have_previous = true;
        }
        std::uint8_t conditions = (ep.ready ? ready_bit : 0) | (ep.serving ? serving_bit : 0) |
                                  (ep.terminating ? terminating_bit : 0);
        out.endpoints.push_back({ep.address, conditions, index});
    }
    // Assigning {} would keep the buffer: a moved-in empty vector frees it.
    slice.endpoints = std::vector<model::Endpoint>();
    out.head = std::move(slice);
    return out;
}

void StoredSlice::release(PlacementPool& pool) const {
    for (const auto& e : endpoints) pool.release(e.placement);
}

model::EndpointSlice StoredSlice::expand(const PlacementPool& pool) const {
    model::EndpointSlice out = head;
    out.endpoints.reserve(endpoints.size());
    for (const auto& e : endpoints) {
        const Placement& p = pool.at(e.placement);
        model::Endpoint ep;
        ep.address = e.address;
        ep.ready = (e.conditions & ready_bit) != 0;
        ep.serving = (e.conditions & serving_bit) != 0;
        ep.terminating = (e.conditions & terminating_bit) != 0;
        ep.node_name = p.node_name;
        ep.zone = p.zone;
        ep.hint_zones = p.hint_zones;
        ep.hint_nodes = p.hint_nodes;
        out.endpoints.push_back(std::move(ep));
    }
    return out;
}

ExpandedSlices::ExpandedSlices(std::vector<model::EndpointSlice> slices) : slices_(std::move(slices)) {
    pointers_.reserve(slices_.size());
    for (const auto& s : slices_) pointers_.push_back(&s);
}

bool ObjectStore::upsert_service(model::Service service) {
    // Only the labels the planner reads: the others (a chart's five or six
    // long ones, typically) would cost more than the rest of the Service.
    std::erase_if(service.labels, [](const auto& label) { return !planner_reads_label(label.first); });
    service.labels.shrink_to_fit();
    std::string key = key_of(service.namespace_name, service.name);
    auto it = services_.find(key);
    if (it != services_.end() && it->second == service) return false;
    services_.insert_or_assign(key, std::move(service));
    dirty_.insert(key);
    ++service_changes_;
    services_pending_.insert(key);
    return true;
}

bool ObjectStore::remove_service(const std::string& namespace_name, const std::string& name) {
    std::string key = key_of(namespace_name, name);
    if (services_.erase(key) == 0) return false;
    dirty_.insert(key);
    ++service_changes_;
    services_pending_.insert(key);
    return true;
}

bool ObjectStore::upsert_slice(model::EndpointSlice arriving) {
    StoredSlice stored = StoredSlice::of(std::move(arriving), placements_);
    const model::EndpointSlice& slice = stored.head;
    std::string key = key_of(slice.namespace_name, slice.name);
    auto it = slices_.find(key);
    bool new_trigger =
        !slice.last_change_trigger_time.empty() &&
        (it == slices_.end() || it->second.head.last_change_trigger_time != slice.last_change_trigger_time);
    if (it != slices_.end()) {
        if (it->second == stored) {
            stored.release(placements_);
            return false;
        }
        // The slice may have moved to another service (its label changed).
        std::string old_service = service_key_of(it->second.head);
        if (!old_service.empty()) {
            by_service_.erase({old_service, key});
            dirty_.insert(old_service);
        }
        endpoints_ -= it->second.endpoints.size();
        it->second.release(placements_);
    }
    std::string service = service_key_of(slice);
    endpoints_ += stored.endpoints.size();
    ++endpoint_changes_;
    if (!service.empty()) endpoints_pending_.insert(service);
    if (new_trigger)
        trigger_times_.emplace_back(slice.address_type == model::AddressType::ipv6 ? model::Family::v6 : model::Family::v4,
                                    slice.last_change_trigger_time);
    slices_.insert_or_assign(key, std::move(stored));
    if (!service.empty()) {
        by_service_.emplace(service, key);
        dirty_.insert(service);
    }
    return true;
}

bool ObjectStore::remove_slice(const std::string& namespace_name, const std::string& name) {
    std::string key = key_of(namespace_name, name);
    auto it = slices_.find(key);
    if (it == slices_.end()) return false;
    std::string service = service_key_of(it->second.head);
    if (!service.empty()) {
        by_service_.erase({service, key});
        dirty_.insert(service);
        endpoints_pending_.insert(service);
    }
    ++endpoint_changes_;
    endpoints_ -= it->second.endpoints.size();
    it->second.release(placements_);
    slices_.erase(it);
    return true;
}

bool ObjectStore::replace_all(std::vector<model::Service> services, std::vector<model::EndpointSlice> slices) {
    bool changed = false;
    std::set<std::string> service_keys, slice_keys;
    for (auto& s : services) {
        service_keys.insert(key_of(s.namespace_name, s.name));
        changed = upsert_service(std::move(s)) || changed;
    }
    for (auto& s : slices) {
        slice_keys.insert(key_of(s.namespace_name, s.name));
        changed = upsert_slice(std::move(s)) || changed;
    }
    std::vector<std::pair<std::string, std::string>> gone_services, gone_slices;
    for (const auto& [key, s] : services_)
        if (service_keys.count(key) == 0) gone_services.emplace_back(s.namespace_name, s.name);
    for (const auto& [key, s] : slices_)
        if (slice_keys.count(key) == 0) gone_slices.emplace_back(s.head.namespace_name, s.head.name);
    for (const auto& [ns, name] : gone_services) changed = remove_service(ns, name) || changed;
    for (const auto& [ns, name] : gone_slices) changed = remove_slice(ns, name) || changed;
    return changed;
}

bool ObjectStore::set_node_facts(NodeFacts facts) {
    if (facts == node_) return false;
    node_ = std::move(facts);
    all_dirty_ = true;
    return true;
}

void ObjectStore::set_options(PlanOptions options) {
    options_ = std::move(options);
    all_dirty_ = true;
}

void ObjectStore::plan_one(const std::string& key, DesiredState& desired, Delta& delta,
                           std::vector<std::string>& events) {
    auto it = services_.find(key);
    if (it == services_.end()) {
        delta.merge(desired.remove_service(key));
        return;
    }
    ServicePlan plan = plan_service(it->second, slices_of(key), node_, options_);
    // Events are logged when they appear or change, not on every replan.
    auto previous = desired.plans().find(key);
    if (!plan.events.empty() && (previous == desired.plans().end() || previous->second.events != plan.events))
        events.insert(events.end(), plan.events.begin(), plan.events.end());
    delta.merge(desired.set_service(key, std::move(plan)));
}

ExpandedSlices ObjectStore::slices_of(const std::string& service_key) const {
    std::vector<model::EndpointSlice> out;
    for (auto s = by_service_.lower_bound({service_key, std::string()});
         s != by_service_.end() && s->first == service_key; ++s)
        out.push_back(slices_.at(s->second).expand(placements_));
    return ExpandedSlices(std::move(out));
}

std::optional<model::EndpointSlice> ObjectStore::slice(const std::string& key) const {
    auto it = slices_.find(key);
    if (it == slices_.end()) return std::nullopt;
    return it->second.expand(placements_);
}

ObjectStore::ChangeCounts ObjectStore::change_counts() const {
    return {service_changes_, endpoint_changes_, services_pending_.size(), endpoints_pending_.size()};
}

Delta ObjectStore::replan(DesiredState& desired, std::vector<std::string>& events) {
    Delta delta;
    if (all_dirty_) {
        std::set<std::string> keys;
        for (const auto& [key, plan] : desired.plans()) keys.insert(key);
        for (const auto& [key, service] : services_) keys.insert(key);
        for (const auto& key : keys) plan_one(key, desired, delta, events);
    } else {
        for (const auto& key : dirty_) plan_one(key, desired, delta, events);
    }
    dirty_.clear();
    all_dirty_ = false;
    services_pending_.clear();
    endpoints_pending_.clear();
    // Whoever wanted them took them before planning; this bounds the list
    // for callers that never do (kipvs plan --follow).
    trigger_times_.clear();
    return delta;
}

}  // namespace kipvs::proxy
