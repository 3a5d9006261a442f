#include "proxy/node_facts.hpp"

#include <algorithm>

namespace kipvs::proxy {

NodeFactsResult gather_node_facts(const std::string& node_name, const model::Node* node,
                                  const std::vector<kernel::InterfaceAddress>& addresses, const config::Config& config) {
    NodeFactsResult out;
    NodeFacts& facts = out.facts;
    facts.name = node_name;
    if (node != nullptr) facts.zone = node->zone;

    for (const auto& a : addresses)
        if (a.interface != kernel::ipvs_interface) facts.local_addresses.push_back(a.address);
    std::sort(facts.local_addresses.begin(), facts.local_addresses.end());
    facts.local_addresses.erase(std::unique(facts.local_addresses.begin(), facts.local_addresses.end()),
                                facts.local_addresses.end());

    // The node's IP per family: bindAddress, else the Node's first
    // InternalIP, else the first usable local address.
    for (auto family : {model::Family::v4, model::Family::v6}) {
        std::optional<model::IpAddress> ip;
        if (auto bind = model::IpAddress::parse(config.bind_address);
            bind && bind->family == family && !bind->is_unspecified())
            ip = bind;
        if (!ip && node != nullptr)
            for (const auto& a : node->addresses)
                if (!ip && a.type == model::NodeAddressType::internal_ip && a.address.family == family) ip = a.address;
        if (!ip)
            for (const auto& a : facts.local_addresses)
                if (!ip && a.family == family && !a.is_loopback() && !a.is_link_local()) ip = a;
        if (ip) facts.node_ips.push_back(*ip);
    }

    std::vector<model::Cidr> allowed;
    bool primary = false;
    for (const auto& text : config.node_port_addresses) {
        if (text == "primary") {
            primary = true;
        } else if (auto cidr = model::Cidr::parse(text)) {
            allowed.push_back(*cidr);
        }
    }
    if (primary) {
        if (node == nullptr) {
            out.warnings.push_back(
                "nodePortAddresses is \"primary\" but this node's Node object is not known yet: no NodePorts until it is");
            return out;
        }
        for (const auto& ip : facts.node_ips)
            allowed.push_back({ip, static_cast<std::uint8_t>(ip.family == model::Family::v4 ? 32 : 128)});
        if (allowed.empty()) {
            out.warnings.push_back("nodePortAddresses is \"primary\" but node " + node_name + " has no InternalIP");
            return out;
        }
    }
    facts.node_port_addresses = kernel::node_port_addresses(addresses, allowed);
    std::sort(facts.node_port_addresses.begin(), facts.node_port_addresses.end());
    return out;
}

}  // namespace kipvs::proxy
