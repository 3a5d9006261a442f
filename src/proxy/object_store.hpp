#pragma once
// The proxy's view of the cluster: Services and EndpointSlices by key, from
// whichever source (API server or manifests), and which services changed
// since they were last planned. Replanning touches only those, so a change
// costs what it changed.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/endpoint_slice.hpp"
#include "model/service.hpp"
#include "proxy/desired_state.hpp"
#include "proxy/service_plan.hpp"

namespace kipvs::proxy {

class ObjectStore {
public:
    // Each returns whether anything changed (an identical object is no change).
    bool upsert_service(model::Service service);
    bool remove_service(const std::string& namespace_name, const std::string& name);
    bool upsert_slice(model::EndpointSlice slice);
    bool remove_slice(const std::string& namespace_name, const std::string& name);
    // Replaces everything with this snapshot (the manifests source), marking
    // only what differs.
    bool replace_all(std::vector<model::Service> services, std::vector<model::EndpointSlice> slices);

    // Node facts and options touch every service's plan.
    bool set_node_facts(NodeFacts facts);
    void set_options(PlanOptions options);
    const NodeFacts& node_facts() const { return node_; }

    bool dirty() const { return all_dirty_ || !dirty_.empty(); }
    // Plans the changed services into `desired`; their events are logged by
    // the caller. Returns what changed in the desired state.
    Delta replan(DesiredState& desired, std::vector<std::string>& events);

    std::size_t service_count() const { return services_.size(); }
    std::size_t slice_count() const { return slices_.size(); }
    std::size_t endpoint_count() const { return endpoints_; }

private:
    void plan_one(const std::string& key, DesiredState& desired, Delta& delta, std::vector<std::string>& events);

    std::map<std::string, model::Service> services_;        // "ns/name"
    std::map<std::string, model::EndpointSlice> slices_;    // "ns/name"
    std::map<std::string, std::set<std::string>> by_service_;  // "ns/service" → slice keys
    std::set<std::string> dirty_;                           // service keys
    bool all_dirty_ = false;
    NodeFacts node_;
    PlanOptions options_;
    std::size_t endpoints_ = 0;
};

}  // namespace kipvs::proxy
