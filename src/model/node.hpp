#pragma once
// This node's Node object, for topology (zone label), detect-local (podCIDRs),
// nodePortAddresses "primary" (addresses) and healthz (deletion, taints).
#include <cstdint>
#include <string>
#include <vector>

#include "model/ip.hpp"
#include "model/service.hpp"

namespace kipvs::model {

enum class NodeAddressType : std::uint8_t { internal_ip, external_ip };

struct NodeAddress {
    NodeAddressType type = NodeAddressType::internal_ip;  // Hostname/DNS entries are not kept
    IpAddress address;
    bool operator==(const NodeAddress&) const = default;
};

struct Taint {
    std::string key;
    std::string value;
    std::string effect;
    bool operator==(const Taint&) const = default;
};

struct Node {
    std::string name;
    std::vector<NodeAddress> addresses;
    Labels labels;
    std::string zone;  // label topology.kubernetes.io/zone
    std::vector<Cidr> pod_cidrs;
    std::string deletion_timestamp;  // non-empty: the node is being deleted
    std::vector<Taint> taints;

    bool operator==(const Node&) const = default;
};

}  // namespace kipvs::model
