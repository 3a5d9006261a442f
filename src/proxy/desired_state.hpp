#pragma once
// The union of every service's plan, kept per service so that replacing one
// service's plan yields exactly what changed in the union (a Delta), without
// looking at the other services. Shared objects (a set entry or an address
// two services want, a virtual server two services claim) are counted, so
// one service leaving does not take away what another still wants.
#include <compare>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "proxy/service_plan.hpp"

namespace kipvs::proxy {

// A virtual server's identity (kube-proxy never uses fwmark services).
struct VsKey {
    model::IpAddress address;
    kernel::Protocol protocol = kernel::Protocol::tcp;
    std::uint16_t port = 0;
    static VsKey of(const kernel::VirtualServer& vs) { return {vs.address, vs.protocol, vs.port}; }
    std::strong_ordering operator<=>(const VsKey&) const = default;
    bool operator==(const VsKey&) const = default;
};

using SetId = std::pair<kernel::KubeSet, model::Family>;

struct Delta {
    std::set<VsKey> virtual_servers;  // added, changed or removed: reconcile these
    struct SetChange {
        std::vector<std::string> add, remove;
    };
    std::map<SetId, SetChange> sets;
    std::vector<model::IpAddress> bind, unbind;
    bool out_filters_changed = false;
    bool empty() const {
        return virtual_servers.empty() && sets.empty() && bind.empty() && unbind.empty() && !out_filters_changed;
    }
    void merge(const Delta& other);
};

class DesiredState {
public:
    // Replaces (or with an empty plan, removes) one service's plan.
    Delta set_service(const std::string& key, ServicePlan plan);
    Delta remove_service(const std::string& key) { return set_service(key, {}); }

    // The virtual server wanted under this key, or null. When two services
    // claim one key, the first by service key wins (and the other is told
    // in its events at planning time by the caller).
    const PlannedVirtualServer* virtual_server(const VsKey& key) const;
    std::vector<VsKey> virtual_server_keys() const;
    std::size_t virtual_server_count() const { return vs_owners_.size(); }

    // Every entry a set should hold.
    std::set<std::string> set_entries(const SetId& set) const;
    bool set_empty(const SetId& set) const;
    std::set<kernel::KubeSet> non_empty_sets(model::Family family) const;
    std::vector<kernel::LoadBalancerOutFilter> out_filters(model::Family family) const;
    std::vector<model::IpAddress> bound_addresses() const;
    bool bound(const model::IpAddress& address) const { return bound_.count(address) != 0; }

    const std::map<std::string, ServicePlan>& plans() const { return plans_; }
    std::size_t destination_count() const { return destinations_; }

private:
    std::map<std::string, ServicePlan> plans_;
    // VS key → service keys that want it (first one wins).
    std::map<VsKey, std::set<std::string>> vs_owners_;
    std::map<SetId, std::map<std::string, unsigned>> sets_;
    std::map<model::IpAddress, unsigned> bound_;
    std::map<kernel::LoadBalancerOutFilter, unsigned> out_filters_;
    std::size_t destinations_ = 0;
};

}  // namespace kipvs::proxy
