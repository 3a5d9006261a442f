#include "kernel/link.hpp"

namespace kipvs::kernel {

std::vector<model::IpAddress> node_port_addresses(const std::vector<InterfaceAddress>& all,
                                                  const std::vector<model::Cidr>& allowed) {
    std::vector<model::IpAddress> out;
    for (const auto& a : all) {
        if (a.interface == ipvs_interface || a.address.is_loopback()) continue;
        if (a.address.family == model::Family::v6 && a.address.is_link_local()) continue;
        bool inside = allowed.empty();
        for (const auto& cidr : allowed) inside = inside || cidr.contains(a.address);
        if (!inside) continue;
        bool seen = false;
        for (const auto& o : out) seen = seen || o == a.address;
        if (!seen) out.push_back(a.address);
    }
    return out;
}

}  // namespace kipvs::kernel
