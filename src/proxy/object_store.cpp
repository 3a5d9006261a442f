#include "proxy/object_store.hpp"

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

bool ObjectStore::upsert_service(model::Service service) {
    std::string key = key_of(service.namespace_name, service.name);
    auto it = services_.find(key);
    if (it != services_.end() && it->second == service) return false;
    services_.insert_or_assign(key, std::move(service));
    dirty_.insert(key);
    return true;
}

bool ObjectStore::remove_service(const std::string& namespace_name, const std::string& name) {
    std::string key = key_of(namespace_name, name);
    if (services_.erase(key) == 0) return false;
    dirty_.insert(key);
    return true;
}

bool ObjectStore::upsert_slice(model::EndpointSlice slice) {
    std::string key = key_of(slice.namespace_name, slice.name);
    auto it = slices_.find(key);
    if (it != slices_.end()) {
        if (it->second == slice) return false;
        // The slice may have moved to another service (its label changed).
        std::string old_service = service_key_of(it->second);
        if (!old_service.empty()) {
            by_service_[old_service].erase(key);
            dirty_.insert(old_service);
        }
        endpoints_ -= it->second.endpoints.size();
    }
    std::string service = service_key_of(slice);
    endpoints_ += slice.endpoints.size();
    slices_.insert_or_assign(key, std::move(slice));
    if (!service.empty()) {
        by_service_[service].insert(key);
        dirty_.insert(service);
    }
    return true;
}

bool ObjectStore::remove_slice(const std::string& namespace_name, const std::string& name) {
    std::string key = key_of(namespace_name, name);
    auto it = slices_.find(key);
    if (it == slices_.end()) return false;
    std::string service = service_key_of(it->second);
    if (!service.empty()) {
        auto s = by_service_.find(service);
        if (s != by_service_.end()) {
            s->second.erase(key);
            if (s->second.empty()) by_service_.erase(s);
        }
        dirty_.insert(service);
    }
    endpoints_ -= it->second.endpoints.size();
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
        if (slice_keys.count(key) == 0) gone_slices.emplace_back(s.namespace_name, s.name);
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
    std::vector<const model::EndpointSlice*> slices;
    if (auto s = by_service_.find(key); s != by_service_.end())
        for (const auto& slice_key : s->second) slices.push_back(&slices_.at(slice_key));
    ServicePlan plan = plan_service(it->second, slices, node_, options_);
    // Events are logged when they appear or change, not on every replan.
    auto previous = desired.plans().find(key);
    if (!plan.events.empty() && (previous == desired.plans().end() || previous->second.events != plan.events))
        events.insert(events.end(), plan.events.begin(), plan.events.end());
    delta.merge(desired.set_service(key, std::move(plan)));
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
    return delta;
}

}  // namespace kipvs::proxy
