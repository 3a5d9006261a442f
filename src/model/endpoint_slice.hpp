#pragma once
// An EndpointSlice (discovery.k8s.io/v1) reduced to what the proxy reads
// (PARITY.md §4, endpointslicecache.go). 100,000 endpoints must fit in a few
// megabytes, so an endpoint keeps one address, not a list.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/ip.hpp"
#include "model/service.hpp"

namespace kipvs::model {

enum class AddressType : std::uint8_t { ipv4, ipv6, fqdn };

struct Endpoint {
    // kube-proxy uses only the first address of each endpoint.
    IpAddress address;
    // nil conditions already resolved as kube-proxy does: ready and serving
    // default to true, terminating to false.
    bool ready = true;
    bool serving = true;
    bool terminating = false;
    std::string node_name;
    std::string zone;
    std::vector<std::string> hint_zones;  // hints.forZones[].name
    std::vector<std::string> hint_nodes;  // hints.forNodes[].name
    bool operator==(const Endpoint&) const = default;
};

struct EndpointPort {
    // A nil name and a nil port make the port unusable (not the same as "").
    std::optional<std::string> name;
    Protocol protocol = Protocol::tcp;
    std::optional<std::uint16_t> port;
    bool operator==(const EndpointPort&) const = default;
};

struct EndpointSlice {
    std::string namespace_name;
    std::string name;
    std::string service_name;  // label kubernetes.io/service-name; empty: not used
    AddressType address_type = AddressType::ipv4;
    std::vector<Endpoint> endpoints;  // empty for FQDN slices, which IPVS mode ignores
    std::vector<EndpointPort> ports;
    std::string last_change_trigger_time;  // RFC 3339, as annotated

    bool operator==(const EndpointSlice&) const = default;
};

}  // namespace kipvs::model
