#pragma once
// The planner (pure): one Service and its EndpointSlices, plus facts about
// this node and the configuration, give everything IPVS mode programs for
// that service (PARITY.md §1.2, §3.1–3.3, §4). Planning one service at a time
// is what lets a change cost what it changed: the desired state is the union
// of the plans (desired_state.hpp), and a changed service is planned again
// alone.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/ipvs_types.hpp"
#include "kernel/iptables_rules.hpp"
#include "kernel/kube_sets.hpp"
#include "model/endpoint_slice.hpp"
#include "model/ip.hpp"
#include "model/service.hpp"

namespace kipvs::proxy {

// What the planner needs to know about this node, gathered by the caller.
struct NodeFacts {
    std::string name;  // the node's name (hostnameOverride or the host name)
    std::string zone;  // label topology.kubernetes.io/zone, "" when unset
    // The addresses that serve NodePorts (already filtered by
    // nodePortAddresses), both families.
    std::vector<model::IpAddress> node_port_addresses;
    // Every address of this node's interfaces except kube-ipvs0's: an
    // externalIP or LB IP that is one of these is not bound to kube-ipvs0.
    std::vector<model::IpAddress> local_addresses;
    // The node's IP per family (bindAddress, else the Node object's first
    // InternalIP, else none): decides KUBE-LOAD-BALANCER-SOURCE-IP and the
    // LB out filters.
    std::vector<model::IpAddress> node_ips;
    bool operator==(const NodeFacts&) const = default;
};

struct PlanOptions {
    std::string scheduler = "rr";  // ipvs.scheduler
    // The families this node proxies; a service's addresses of another
    // family are left out.
    std::vector<model::Family> families = {model::Family::v4};
};

struct SetEntry {
    kernel::KubeSet set = kernel::KubeSet::cluster_ip;
    model::Family family = model::Family::v4;
    std::string entry;  // canonical text, as `ipset save` prints it
    auto operator<=>(const SetEntry&) const = default;
};

// A destination as the plan holds it. Every destination kube-proxy's IPVS
// mode programs is masqueraded and has no thresholds, so only what varies is
// kept: 24 bytes instead of a kernel::RealServer's 136 (counters included),
// which at 100,000 endpoints is the difference of some 11 MB. The reconciler
// turns it into a RealServer only when it writes it.
struct Destination {
    model::IpAddress address;
    std::uint16_t port = 0;
    std::uint32_t weight = 1;

    kernel::RealServer real_server() const;  // masquerade, no thresholds
    std::string describe() const;            // "10.244.1.2:80", "[fd00::2]:80"
    bool operator==(const Destination&) const = default;
};

// One virtual server of a plan with its destinations.
struct PlannedVirtualServer {
    kernel::VirtualServer service;
    std::vector<Destination> destinations;  // sorted by address then port

    // From a kernel table (tests and tools spell plans that way); a
    // destination's forwarding and thresholds are not kept.
    static PlannedVirtualServer of(const kernel::ServiceTable& table);
    kernel::ServiceTable table() const;
    bool operator==(const PlannedVirtualServer&) const = default;
};

struct ServicePlan {
    // One virtual server per (address, port, protocol), each with its
    // destinations (weight 1, masquerade), sorted by address then port.
    std::vector<PlannedVirtualServer> virtual_servers;
    std::vector<SetEntry> set_entries;               // sorted, no duplicates
    std::vector<model::IpAddress> bound_addresses;   // for kube-ipvs0, sorted, unique
    std::vector<kernel::LoadBalancerOutFilter> out_filters;
    // Problems confined to this service (e.g. an unknown scheduler in an
    // annotation: logged, the default is used), "namespace/name: ..." each.
    std::vector<std::string> events;
    bool operator==(const ServicePlan&) const = default;
};

// What follows "namespace/name: " in the event of a scheduler annotation
// naming no IPVS scheduler: `kipvs run` also records that one as a Warning
// Event on the Service.
inline constexpr std::string_view unknown_scheduler_event = "unknown scheduler \"";

// Slices are those labelled for this service (any family; FQDN slices and
// slices of a family not proxied are ignored). ExternalName, headless and
// proxy-name-labelled services give an empty plan.
ServicePlan plan_service(const model::Service& service, const std::vector<const model::EndpointSlice*>& slices,
                         const NodeFacts& node, const PlanOptions& options);

// Whether plan_service() looks at a Service label with this key (the few
// that stop proxying); the store keeps no others.
bool planner_reads_label(std::string_view key);

// A Service port's protocol as IPVS numbers it (also used by server/ to
// match virtual servers back to their services).
kernel::Protocol kernel_protocol(model::Protocol protocol);

}  // namespace kipvs::proxy
