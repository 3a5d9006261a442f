#pragma once
// This node's facts for the planner, from its interfaces' addresses, its
// Node object (when known) and the configuration (PARITY.md §3.1, §3.6).
#include <string>
#include <vector>

#include "config/config.hpp"
#include "kernel/link.hpp"
#include "model/node.hpp"
#include "proxy/service_plan.hpp"

namespace kipvs::proxy {

struct NodeFactsResult {
    NodeFacts facts;
    std::vector<std::string> warnings;  // e.g. nodePortAddresses "primary" before the Node is known
};

NodeFactsResult gather_node_facts(const std::string& node_name, const model::Node* node,
                                  const std::vector<kernel::InterfaceAddress>& addresses, const config::Config& config);

}  // namespace kipvs::proxy
