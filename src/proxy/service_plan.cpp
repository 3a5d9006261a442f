#include "proxy/service_plan.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "kernel/ipset_entry.hpp"

namespace kipvs::proxy {

namespace {

using model::Family;

// kube-proxy's informers select `!service.kubernetes.io/service-proxy-name,
// !service.kubernetes.io/headless` for Services and EndpointSlices alike, so
// a Service carrying either label (any value) is never proxied.
constexpr std::string_view proxy_name_label = "service.kubernetes.io/service-proxy-name";
constexpr std::string_view headless_label = "service.kubernetes.io/headless";

bool has_label(const model::Labels& labels, std::string_view key) {
    return std::any_of(labels.begin(), labels.end(), [&](const auto& kv) { return kv.first == key; });
}

}  // namespace

bool planner_reads_label(std::string_view key) { return key == proxy_name_label || key == headless_label; }

namespace {

bool skipped(const model::Service& service) {
    return service.type == model::ServiceType::external_name || service.headless ||
           has_label(service.labels, proxy_name_label) || has_label(service.labels, headless_label);
}

template <typename T>
bool contains(const std::vector<T>& values, const T& value) {
    return std::find(values.begin(), values.end(), value) != values.end();
}

std::string protocol_text(model::Protocol protocol) {
    switch (protocol) {
        case model::Protocol::tcp: return "tcp";
        case model::Protocol::udp: return "udp";
        case model::Protocol::sctp: return "sctp";
    }
    return "tcp";
}


// "10.0.0.1,tcp:80": the common head of every hash:ip,port* entry.
std::string ip_proto_port(const model::IpAddress& ip, model::Protocol protocol, std::uint16_t port) {
    std::string out = ip.to_string();
    out += ',';
    out += protocol_text(protocol);
    out += ':';
    out += std::to_string(port);
    return out;
}

std::string with_third(std::string head, const std::string& third) {
    head += ',';
    head += third;
    return head;
}

std::optional<Family> slice_family(model::AddressType type) {
    switch (type) {
        case model::AddressType::ipv4: return Family::v4;
        case model::AddressType::ipv6: return Family::v6;
        case model::AddressType::fqdn: return std::nullopt;  // never proxied
    }
    return std::nullopt;
}

template <typename T>
std::vector<T> of_family(const std::vector<T>& values, Family family, auto family_of) {
    std::vector<T> out;
    for (const auto& v : values)
        if (family_of(v) == family) out.push_back(v);
    return out;
}

// ---- Endpoint selection (PARITY.md §4, kube-proxy's CategorizeEndpoints) ----

// One endpoint of one service port: the endpoint's facts and the port the
// slice gives for it.
struct PortEndpoint {
    const model::Endpoint* endpoint = nullptr;
    std::uint16_t port = 0;
};

// The slice port that serves a service port: kube-proxy keys endpoints by
// (port name, protocol), and a nil name or a nil/zero port makes the slice
// port unusable.
std::optional<std::uint16_t> slice_port_for(const model::EndpointSlice& slice, const model::ServicePort& port) {
    for (const auto& p : slice.ports) {
        if (!p.name || *p.name != port.name || p.protocol != port.protocol) continue;
        if (!p.port || *p.port == 0) continue;
        return *p.port;
    }
    return std::nullopt;
}

// Every endpoint of this service port and family, once per IP:port. Slices
// are read in name order so that which duplicate wins never depends on the
// caller's order; a terminating duplicate gives way to a non-terminating one.
std::vector<PortEndpoint> port_endpoints(const model::ServicePort& port,
                                         const std::vector<const model::EndpointSlice*>& slices, Family family) {
    std::vector<const model::EndpointSlice*> ordered;
    for (const auto* slice : slices)
        if (slice && slice_family(slice->address_type) == family) ordered.push_back(slice);
    std::sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) {
        return a->namespace_name != b->namespace_name ? a->namespace_name < b->namespace_name : a->name < b->name;
    });

    std::vector<PortEndpoint> out;
    for (const auto* slice : ordered) {
        auto slice_port = slice_port_for(*slice, port);
        if (!slice_port) continue;
        for (const auto& ep : slice->endpoints) {
            // An address of the other family in a slice is ignored, as kube-proxy does.
            if (ep.address.family != family) continue;
            auto same = std::find_if(out.begin(), out.end(), [&](const PortEndpoint& e) {
                return e.port == *slice_port && e.endpoint->address == ep.address;
            });
            if (same == out.end()) out.push_back({&ep, *slice_port});
            else if (same->endpoint->terminating && !ep.terminating) same->endpoint = &ep;
        }
    }
    return out;
}

template <typename Pred>
std::vector<PortEndpoint> filtered(const std::vector<PortEndpoint>& endpoints, Pred keep) {
    std::vector<PortEndpoint> out;
    for (const auto& e : endpoints)
        if (keep(*e.endpoint)) out.push_back(e);
    return out;
}

bool serving_terminating(const model::Endpoint& ep) { return ep.serving && ep.terminating; }

bool is_local(const model::Endpoint& ep, const NodeFacts& node) {
    return !node.name.empty() && ep.node_name == node.name;
}

enum class Topology { none, same_node, same_zone };

// Hints are trusted only when every Ready endpoint carries them and at least
// one names this node (zone): a partly hinted slice is mid-rollout, and
// following it would overload the few hinted endpoints. Node hints win over
// zone hints (PreferSameNode).
Topology topology_mode(const std::vector<PortEndpoint>& endpoints, const NodeFacts& node) {
    bool all_node_hints = true, for_node = false;
    bool all_zone_hints = true, for_zone = false;
    for (const auto& e : endpoints) {
        const auto& ep = *e.endpoint;
        if (!ep.ready) continue;
        if (ep.hint_nodes.empty()) all_node_hints = false;
        else if (contains(ep.hint_nodes, node.name)) for_node = true;
        if (ep.hint_zones.empty()) all_zone_hints = false;
        else if (contains(ep.hint_zones, node.zone)) for_zone = true;
    }
    if (all_node_hints && for_node) return Topology::same_node;
    if (all_zone_hints && for_zone) return Topology::same_zone;
    return Topology::none;
}

bool available_for(const model::Endpoint& ep, Topology mode, const NodeFacts& node) {
    switch (mode) {
        case Topology::none: return true;
        case Topology::same_node: return contains(ep.hint_nodes, node.name);
        case Topology::same_zone: return contains(ep.hint_zones, node.zone);
    }
    return true;
}

// Ready endpoints after topology; with none, the serving-terminating ones
// (KEP-1669) so that a rollout's last pods still get traffic.
std::vector<PortEndpoint> cluster_endpoints(const std::vector<PortEndpoint>& endpoints, const NodeFacts& node) {
    Topology mode = topology_mode(endpoints, node);
    auto ready = filtered(endpoints, [&](const auto& ep) { return ep.ready && available_for(ep, mode, node); });
    if (!ready.empty()) return ready;
    return filtered(endpoints,
                    [&](const auto& ep) { return serving_terminating(ep) && available_for(ep, mode, node); });
}

std::vector<PortEndpoint> local_endpoints(const std::vector<PortEndpoint>& endpoints, const NodeFacts& node) {
    auto ready = filtered(endpoints, [&](const auto& ep) { return ep.ready && is_local(ep, node); });
    if (!ready.empty()) return ready;
    return filtered(endpoints, [&](const auto& ep) { return serving_terminating(ep) && is_local(ep, node); });
}

// The destinations of the internal (ClusterIP) and the external (externalIP,
// LB, NodePort) virtual servers of one service port.
struct Destinations {
    std::vector<PortEndpoint> internal, external;
};

// kube-proxy's IPVS mode falls back to the cluster endpoints when a Local
// policy finds none on this node (PR #97081; PARITY.md decision 6). A pure
// ClusterIP service with iTP=Local never computes cluster endpoints, so its
// fallback is empty: no destinations.
Destinations choose_destinations(const model::Service& service, const std::vector<PortEndpoint>& endpoints,
                                 bool externally_accessible, const NodeFacts& node) {
    bool internal_local = service.internal_traffic_policy == model::TrafficPolicy::local;
    bool external_local =
        externally_accessible && service.external_traffic_policy == model::TrafficPolicy::local;
    bool uses_cluster = !internal_local || externally_accessible;

    std::vector<PortEndpoint> cluster = uses_cluster ? cluster_endpoints(endpoints, node) : std::vector<PortEndpoint>{};
    std::vector<PortEndpoint> local =
        internal_local || external_local ? local_endpoints(endpoints, node) : std::vector<PortEndpoint>{};
    return {
        internal_local && !local.empty() ? local : cluster,
        external_local && !local.empty() ? local : cluster,
    };
}

// ---- Virtual server attributes (PARITY.md §3.2) ----

struct VsAttributes {
    std::string scheduler;
    std::uint32_t flags = 0;
    std::uint32_t timeout = 0;
};

std::string service_key(const model::Service& service) {
    std::string key = service.namespace_name;
    key += '/';
    key += service.name;
    return key;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// kipvs.io/scheduler-flags: a comma-separated list in ipvsadm's spelling.
std::uint32_t scheduler_flags(const model::Service& service, std::vector<std::string>& events) {
    std::uint32_t flags = 0;
    std::string_view rest = service.scheduler_flags;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        std::string_view flag = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (flag.empty()) continue;
        if (flag == "sh-fallback" || flag == "mh-fallback") {
            flags |= kernel::service_flags::sched1;
        } else if (flag == "sh-port" || flag == "mh-port") {
            flags |= kernel::service_flags::sched2;
        } else {
            std::string event = service_key(service);
            event += ": unknown scheduler flag \"";
            event += flag;
            event += "\" in annotation, ignored";
            events.push_back(std::move(event));
        }
    }
    return flags;
}

VsAttributes vs_attributes(const model::Service& service, const PlanOptions& options,
                           std::vector<std::string>& events) {
    VsAttributes a;
    a.scheduler = options.scheduler;
    if (!service.scheduler.empty()) {
        if (config::is_known_scheduler(service.scheduler)) {
            a.scheduler = service.scheduler;
        } else {
            std::string event = service_key(service);
            event += ": ";
            event += unknown_scheduler_event;
            event += service.scheduler;
            event += "\" in annotation, using ";
            event += options.scheduler;
            events.push_back(std::move(event));
        }
    }
    if (service.session_affinity == model::SessionAffinity::client_ip) {
        a.flags |= kernel::service_flags::persistent;
        a.timeout = service.affinity_timeout_seconds;
    }
    // kube-proxy sets "mh-port" whenever the scheduler is mh, so that mh
    // hashes source ports too (upstream's FlagSourceHash).
    if (a.scheduler == "mh") a.flags |= kernel::service_flags::sched2;
    a.flags |= scheduler_flags(service, events);
    return a;
}

bool vs_less(const PlannedVirtualServer& a, const PlannedVirtualServer& b) {
    if (a.service.address != b.service.address) return a.service.address < b.service.address;
    if (a.service.port != b.service.port) return a.service.port < b.service.port;
    return a.service.protocol < b.service.protocol;
}

bool destination_less(const Destination& a, const Destination& b) {
    if (a.address != b.address) return a.address < b.address;
    return a.port < b.port;
}

// ---- Building one plan ----

class PlanBuilder {
public:
    PlanBuilder(const model::Service& service, const NodeFacts& node, const PlanOptions& options, ServicePlan& plan)
        : service_(service), node_(node), plan_(plan), attributes_(vs_attributes(service, options, plan.events)) {}

    void add_family(Family f, const model::IpAddress& cluster_ip,
                    const std::vector<const model::EndpointSlice*>& slices) {
        auto external_ips = of_family(service_.external_ips, f, [](const auto& ip) { return ip.family; });
        std::vector<model::IpAddress> lb_ips;
        for (const auto& ingress : service_.load_balancer_ingress)
            if (!ingress.ip_mode_proxy && ingress.ip.family == f) lb_ips.push_back(ingress.ip);
        // As kube-proxy's per-family service info: ranges of the other
        // family do not count, not even for "are there ranges at all".
        auto ranges =
            of_family(service_.load_balancer_source_ranges, f, [](const auto& c) { return c.address.family; });
        auto node_ports = of_family(node_.node_port_addresses, f, [](const auto& ip) { return ip.family; });

        for (const auto& port : service_.ports) {
            auto endpoints = port_endpoints(port, slices, f);
            bool node_port = has_node_port(port);
            bool externally_accessible = !external_ips.empty() || !lb_ips.empty() || node_port;
            Destinations dest = choose_destinations(service_, endpoints, externally_accessible, node_);

            add_cluster_ip(f, cluster_ip, port, dest.internal);
            for (const auto& ip : external_ips) add_external_ip(f, ip, port, dest.external);
            for (const auto& ip : lb_ips) add_load_balancer(f, ip, port, ranges, dest.external);
            bool node_port_skipped = node_port && node_ports.empty();
            if (node_port && !node_port_skipped) add_node_port(f, node_ports, port, dest.external);
            // kube-proxy leaves the health-check port out too when a
            // NodePort has no node address to live on (it skips the rest of
            // the service port).
            if (service_.health_check_node_port != 0 && !node_port_skipped)
                add_entry(kernel::KubeSet::health_check_node_port, f, std::to_string(service_.health_check_node_port));
            add_loop_back(f, port, endpoints);
        }
    }

    void finish() {
        std::sort(plan_.virtual_servers.begin(), plan_.virtual_servers.end(), vs_less);
        for (auto& vs : plan_.virtual_servers)
            std::sort(vs.destinations.begin(), vs.destinations.end(), destination_less);
        sort_unique(plan_.set_entries);
        sort_unique(plan_.bound_addresses);
        sort_unique(plan_.out_filters);
        // A plan is kept as long as its service: no spare room from growth.
        plan_.virtual_servers.shrink_to_fit();
        plan_.set_entries.shrink_to_fit();
        plan_.bound_addresses.shrink_to_fit();
        plan_.out_filters.shrink_to_fit();
    }

private:
    template <typename T>
    static void sort_unique(std::vector<T>& values) {
        std::sort(values.begin(), values.end());
        values.erase(std::unique(values.begin(), values.end()), values.end());
    }

    void add_cluster_ip(Family f, const model::IpAddress& ip, const model::ServicePort& port,
                        const std::vector<PortEndpoint>& dest) {
        add_entry(kernel::KubeSet::cluster_ip, f, ip_proto_port(ip, port.protocol, port.port));
        add_virtual_server(ip, port.protocol, port.port, dest);
        bind(ip);
    }

    void add_external_ip(Family f, const model::IpAddress& ip, const model::ServicePort& port,
                         const std::vector<PortEndpoint>& dest) {
        auto set = external_local() ? kernel::KubeSet::external_ip_local : kernel::KubeSet::external_ip;
        add_entry(set, f, ip_proto_port(ip, port.protocol, port.port));
        add_virtual_server(ip, port.protocol, port.port, dest);
        bind_unless_local(ip);
    }

    void add_load_balancer(Family f, const model::IpAddress& ip, const model::ServicePort& port,
                           const std::vector<model::Cidr>& ranges, const std::vector<PortEndpoint>& dest) {
        std::string head = ip_proto_port(ip, port.protocol, port.port);
        add_entry(kernel::KubeSet::load_balancer, f, head);
        if (external_local()) add_entry(kernel::KubeSet::load_balancer_local, f, head);
        if (!ranges.empty()) {
            add_entry(kernel::KubeSet::load_balancer_fw, f, head);
            bool allows_node = false;
            for (const auto& range : ranges) {
                add_entry(kernel::KubeSet::load_balancer_source_cidr, f, with_third(head, range.to_string()));
                for (const auto& node_ip : node_.node_ips)
                    if (range.contains(node_ip)) allows_node = true;
            }
            // Node-originated traffic to a local VIP has the VIP as source;
            // it passes only if the node itself is inside the ranges,
            // otherwise it is dropped on the way out.
            if (allows_node) add_entry(kernel::KubeSet::load_balancer_source_ip, f, with_third(head, ip.to_string()));
            else plan_.out_filters.push_back({ip, protocol_text(port.protocol), port.port});
        }
        add_virtual_server(ip, port.protocol, port.port, dest);
        bind_unless_local(ip);
    }

    void add_node_port(Family f, const std::vector<model::IpAddress>& node_ports, const model::ServicePort& port,
                       const std::vector<PortEndpoint>& dest) {
        bool local = external_local();
        switch (port.protocol) {
            case model::Protocol::tcp:
            case model::Protocol::udp: {
                bool tcp = port.protocol == model::Protocol::tcp;
                std::string entry = std::to_string(port.node_port);
                add_entry(tcp ? kernel::KubeSet::node_port_tcp : kernel::KubeSet::node_port_udp, f, entry);
                if (local)
                    add_entry(tcp ? kernel::KubeSet::node_port_local_tcp : kernel::KubeSet::node_port_local_udp, f,
                              entry);
                break;
            }
            case model::Protocol::sctp:
                // SCTP has no bitmap set (the legacy one must not be reused):
                // its sets hold nodeIP,sctp:port for every node address.
                for (const auto& ip : node_ports) {
                    std::string entry = ip_proto_port(ip, port.protocol, port.node_port);
                    add_entry(kernel::KubeSet::node_port_sctp_hash, f, entry);
                    if (local) add_entry(kernel::KubeSet::node_port_local_sctp_hash, f, entry);
                }
                break;
        }
        // NodePort addresses are the node's own: never bound to kube-ipvs0.
        for (const auto& ip : node_ports) add_virtual_server(ip, port.protocol, port.node_port, dest);
    }

    // Hairpin: a pod reaching itself through a VIP is masqueraded. kube-proxy
    // lists every local endpoint of the port, whatever its conditions.
    void add_loop_back(Family f, const model::ServicePort& port, const std::vector<PortEndpoint>& endpoints) {
        for (const auto& e : endpoints) {
            if (!is_local(*e.endpoint, node_)) continue;
            const auto& ip = e.endpoint->address;
            std::string entry = with_third(ip_proto_port(ip, port.protocol, e.port), ip.to_string());
            add_entry(kernel::KubeSet::loop_back, f, entry);
        }
    }

    bool has_node_port(const model::ServicePort& port) const {
        bool type_has_node_ports =
            service_.type == model::ServiceType::node_port || service_.type == model::ServiceType::load_balancer;
        return type_has_node_ports && port.node_port != 0;
    }

    bool external_local() const {
        return service_.external_traffic_policy == model::TrafficPolicy::local;
    }

    // Entries go through the same check the ipset layer applies, so the plan
    // holds the text `ipset save` prints back and a refused entry (a /0
    // source range, which hash:net cannot store) is reported, not sent.
    void add_entry(kernel::KubeSet set, Family f, const std::string& text) {
        auto check = kernel::check_entry(kernel::kube_set_spec(set, f, 65536), text);
        if (check.canonical) {
            plan_.set_entries.push_back({set, f, *check.canonical});
            return;
        }
        std::string event = service_key(service_);
        event += ": ";
        event += kernel::kube_set_name(set, f);
        event += " entry left out: ";
        event += check.problem;
        plan_.events.push_back(std::move(event));
    }

    void bind(const model::IpAddress& ip) {
        plan_.bound_addresses.push_back(ip);
        add_entry(kernel::KubeSet::ipvs_ips, ip.family, ip.to_string());
    }

    // An externalIP or LB IP that is already on another interface of the
    // node must not go on kube-ipvs0 too (PR #115019).
    void bind_unless_local(const model::IpAddress& ip) {
        if (!contains(node_.local_addresses, ip)) bind(ip);
    }

    void add_virtual_server(const model::IpAddress& ip, model::Protocol protocol, std::uint16_t port,
                            const std::vector<PortEndpoint>& dest) {
        PlannedVirtualServer table;
        auto& vs = table.service;
        vs.family = ip.family;
        vs.protocol = kernel_protocol(protocol);
        vs.address = ip;
        vs.port = port;
        vs.scheduler = attributes_.scheduler;
        vs.flags = attributes_.flags;
        vs.timeout = attributes_.timeout;
        // 0 is "the whole address" (/32, /128): what kube-proxy always
        // sends, and what the codec decodes a full mask to, so a planned VS
        // compares equal to the kernel's copy.
        vs.netmask = 0;
        // Exactly sized: plans are kept for the life of the service.
        table.destinations.reserve(dest.size());
        for (const auto& e : dest) table.destinations.push_back({e.endpoint->address, e.port});  // weight 1

        auto same = std::find_if(plan_.virtual_servers.begin(), plan_.virtual_servers.end(),
                                 [&](const PlannedVirtualServer& t) { return t.service.same_key(vs); });
        if (same == plan_.virtual_servers.end()) {
            plan_.virtual_servers.push_back(std::move(table));
            return;
        }
        // One address in two roles (an externalIP equal to an LB IP, say):
        // the first role, in kube-proxy's order ClusterIP, externalIP, LB,
        // NodePort, keeps the virtual server.
        std::sort(table.destinations.begin(), table.destinations.end(), destination_less);
        std::sort(same->destinations.begin(), same->destinations.end(), destination_less);
        if (same->destinations == table.destinations) return;
        std::string event = service_key(service_);
        event += ": virtual server ";
        event += vs.describe();
        event += " is wanted twice with different destinations; the first is kept";
        plan_.events.push_back(std::move(event));
    }

    const model::Service& service_;
    const NodeFacts& node_;
    ServicePlan& plan_;
    VsAttributes attributes_;
};

}  // namespace

kernel::Protocol kernel_protocol(model::Protocol protocol) {
    switch (protocol) {
        case model::Protocol::tcp: return kernel::Protocol::tcp;
        case model::Protocol::udp: return kernel::Protocol::udp;
        case model::Protocol::sctp: return kernel::Protocol::sctp;
    }
    return kernel::Protocol::tcp;
}

kernel::RealServer Destination::real_server() const {
    kernel::RealServer d;
    d.address = address;
    d.port = port;
    d.weight = weight;
    return d;
}

std::string Destination::describe() const { return kernel::host_port(address, port); }

PlannedVirtualServer PlannedVirtualServer::of(const kernel::ServiceTable& table) {
    PlannedVirtualServer out;
    out.service = table.service;
    out.destinations.reserve(table.destinations.size());
    for (const auto& d : table.destinations) out.destinations.push_back({d.address, d.port, d.weight});
    return out;
}

kernel::ServiceTable PlannedVirtualServer::table() const {
    kernel::ServiceTable out;
    out.service = service;
    out.destinations.reserve(destinations.size());
    for (const auto& d : destinations) out.destinations.push_back(d.real_server());
    return out;
}

ServicePlan plan_service(const model::Service& service, const std::vector<const model::EndpointSlice*>& slices,
                         const NodeFacts& node, const PlanOptions& options) {
    ServicePlan plan;
    if (skipped(service)) return plan;
    PlanBuilder builder(service, node, options, plan);
    bool proxied = false;
    for (Family family : options.families) {
        auto cluster_ip = std::find_if(service.cluster_ips.begin(), service.cluster_ips.end(),
                                       [&](const model::IpAddress& ip) { return ip.family == family; });
        if (cluster_ip == service.cluster_ips.end()) continue;
        builder.add_family(family, *cluster_ip, slices);
        proxied = true;
    }
    // A service of no proxied family is another instance's business: not
    // even its annotation problems are reported here.
    if (!proxied) return {};
    builder.finish();
    return plan;
}

}  // namespace kipvs::proxy
