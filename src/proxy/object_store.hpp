#pragma once
// The proxy's view of the cluster: Services and EndpointSlices by key, from
// whichever source (API server or manifests), and which services changed
// since they were last planned. Replanning touches only those, so a change
// costs what it changed.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "model/endpoint_slice.hpp"
#include "model/service.hpp"
#include "proxy/desired_state.hpp"
#include "proxy/service_plan.hpp"

namespace kipvs::proxy {

// Where an endpoint sits and which topology hints it carries. A
// model::Endpoint holds its own copies (112 bytes before any string is
// counted), while a cluster has few distinct placements: about one per node
// and zone. The store keeps each distinct one once, counted by the endpoints
// that use it, so an endpoint costs an index. At 100,000 endpoints on
// distinct nodes in each slice, keeping them per slice cost 11 MB.
struct Placement {
    std::string node_name, zone;
    std::vector<std::string> hint_zones, hint_nodes;
    bool operator==(const Placement&) const = default;
    bool operator<(const Placement& o) const {
        return std::tie(node_name, zone, hint_zones, hint_nodes) <
               std::tie(o.node_name, o.zone, o.hint_zones, o.hint_nodes);
    }
};

class PlacementPool {
public:
    // Counts one more user of `placement` and gives its index; an index
    // stays valid until its last user is released.
    std::uint32_t acquire(const Placement& placement);
    void acquire(std::uint32_t index) { ++entries_[index].users; }
    void release(std::uint32_t index);
    const Placement& at(std::uint32_t index) const { return entries_[index].placement; }
    std::size_t size() const { return index_.size(); }

private:
    struct Entry {
        Placement placement;
        std::size_t users = 0;
    };
    std::vector<Entry> entries_;
    std::map<Placement, std::uint32_t> index_;
    std::vector<std::uint32_t> free_;  // indices of released entries, reused first
};

// An EndpointSlice as the store keeps it: everything but its endpoints, and
// each endpoint as 24 bytes whose placement lives in the store's pool.
// expand() gives back exactly the slice it was made from. The slice holds
// one use of its endpoints' placements from of() until release().
struct StoredSlice {
    struct Endpoint {
        model::IpAddress address;
        std::uint8_t conditions = 0;  // ready_bit | serving_bit | terminating_bit
        std::uint32_t placement = 0;  // index in the pool
        bool operator==(const Endpoint&) const = default;
    };
    static constexpr std::uint8_t ready_bit = 1, serving_bit = 2, terminating_bit = 4;

    model::EndpointSlice head;  // everything but the endpoints (left empty)
    std::vector<Endpoint> endpoints;

    static StoredSlice of(model::EndpointSlice slice, PlacementPool& pool);
    model::EndpointSlice expand(const PlacementPool& pool) const;
    void release(PlacementPool& pool) const;
    // Placements are interned, so equal indices are equal placements.
    bool operator==(const StoredSlice&) const = default;
};

// One service's slices expanded from the store, for the planner and for
// server/. It iterates as `const model::EndpointSlice*` and converts to the
// vector of pointers plan_service() takes; the pointers live as long as this
// object (a temporary lives to the end of the full expression, and to the
// end of a range-for over it).
class ExpandedSlices {
public:
    ExpandedSlices() = default;
    explicit ExpandedSlices(std::vector<model::EndpointSlice> slices);
    // Moving keeps the vector's buffer and so the pointers; a copy would not.
    ExpandedSlices(ExpandedSlices&&) = default;
    ExpandedSlices& operator=(ExpandedSlices&&) = default;
    ExpandedSlices(const ExpandedSlices&) = delete;
    ExpandedSlices& operator=(const ExpandedSlices&) = delete;

    operator const std::vector<const model::EndpointSlice*>&() const { return pointers_; }
    auto begin() const { return pointers_.begin(); }
    auto end() const { return pointers_.end(); }
    std::size_t size() const { return pointers_.size(); }
    bool empty() const { return pointers_.empty(); }

private:
    std::vector<model::EndpointSlice> slices_;
    std::vector<const model::EndpointSlice*> pointers_;
};

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

    // Read by server/ (/metrics, health-check node ports), which never writes.
    const std::map<std::string, model::Service>& services() const { return services_; }
    // Copies made on demand (the store keeps slices compact): cost the
    // service's endpoints, not the store's.
    ExpandedSlices slices_of(const std::string& service_key) const;
    // One slice by "ns/name", expanded; none when the store does not hold it.
    std::optional<model::EndpointSlice> slice(const std::string& key) const;
    // kube-proxy's change trackers as counters: changes since start, and
    // services with changes not yet planned.
    struct ChangeCounts {
        std::uint64_t services = 0, endpoints = 0;
        std::size_t services_pending = 0, endpoints_pending = 0;
    };
    ChangeCounts change_counts() const;
    // Slices' last-change-trigger-time annotations seen since the last call
    // (for network_programming_duration_seconds), with their family; take
    // them before replan(), which drops what is left.
    std::vector<std::pair<model::Family, std::string>> take_trigger_times() {
        return std::exchange(trigger_times_, {});
    }

    std::size_t service_count() const { return services_.size(); }
    std::size_t slice_count() const { return slices_.size(); }
    std::size_t endpoint_count() const { return endpoints_; }
    std::size_t placement_count() const { return placements_.size(); }

private:
    void plan_one(const std::string& key, DesiredState& desired, Delta& delta, std::vector<std::string>& events);

    std::map<std::string, model::Service> services_;        // "ns/name"
    std::map<std::string, StoredSlice> slices_;             // "ns/name"
    PlacementPool placements_;                              // of slices_' endpoints
    // ("ns/service", slice key) pairs: one node a slice, where a map of sets
    // takes two.
    std::set<std::pair<std::string, std::string>> by_service_;
    std::set<std::string> dirty_;                           // service keys
    bool all_dirty_ = false;
    NodeFacts node_;
    PlanOptions options_;
    std::size_t endpoints_ = 0;
    std::uint64_t service_changes_ = 0, endpoint_changes_ = 0;
    std::set<std::string> services_pending_, endpoints_pending_;  // service keys
    std::vector<std::pair<model::Family, std::string>> trigger_times_;
};

}  // namespace kipvs::proxy
