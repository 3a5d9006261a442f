#pragma once
// A Service as the proxy sees it: only the fields kube-proxy's IPVS mode
// reads (PARITY.md §4), decoded once at the edge (kube/decode_service.cpp).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/ip.hpp"

namespace kipvs::model {

enum class Protocol : std::uint8_t { tcp, udp, sctp };

// Sorted by key; a vector of pairs is far smaller than a std::map per object.
using Labels = std::vector<std::pair<std::string, std::string>>;

enum class ServiceType : std::uint8_t { cluster_ip, node_port, load_balancer, external_name };
enum class TrafficPolicy : std::uint8_t { cluster, local };
enum class SessionAffinity : std::uint8_t { none, client_ip };

struct ServicePort {
    std::string name;
    Protocol protocol = Protocol::tcp;
    std::uint16_t port = 0;
    std::uint16_t node_port = 0;  // 0: none allocated
    bool operator==(const ServicePort&) const = default;
};

struct LoadBalancerIngress {
    IpAddress ip;  // hostname-only ingress entries are not kept
    bool ip_mode_proxy = false;  // ipMode: Proxy, which IPVS mode ignores
    bool operator==(const LoadBalancerIngress&) const = default;
};

struct Service {
    std::string namespace_name;
    std::string name;
    ServiceType type = ServiceType::cluster_ip;
    // clusterIP "None" (or empty): headless, skipped by the proxy.
    bool headless = false;
    std::vector<IpAddress> cluster_ips;
    std::vector<Family> ip_families;
    std::vector<ServicePort> ports;
    std::vector<IpAddress> external_ips;
    std::optional<IpAddress> load_balancer_ip;
    std::vector<LoadBalancerIngress> load_balancer_ingress;
    std::vector<Cidr> load_balancer_source_ranges;
    SessionAffinity session_affinity = SessionAffinity::none;
    std::uint32_t affinity_timeout_seconds = 10800;  // the API default
    TrafficPolicy external_traffic_policy = TrafficPolicy::cluster;
    TrafficPolicy internal_traffic_policy = TrafficPolicy::cluster;
    std::uint16_t health_check_node_port = 0;
    std::string traffic_distribution;
    Labels labels;
    // From the annotations kipvs reads: kipvs.io/scheduler wins over the
    // older ipvs.scheduler; empty means the configured default.
    std::string scheduler;
    std::string scheduler_flags;  // kipvs.io/scheduler-flags

    bool operator==(const Service&) const = default;
};

}  // namespace kipvs::model
