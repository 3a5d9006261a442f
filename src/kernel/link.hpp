#pragma once
// kube-ipvs0 and the node's addresses (PARITY.md §3.1, §3.5). Service
// addresses are bound to a dummy interface that stays down: the local routes
// the kernel adds for them are what make IPVS see the traffic.
#include <string>
#include <vector>

#include "model/ip.hpp"

namespace kipvs::kernel {

inline constexpr const char* ipvs_interface = "kube-ipvs0";

struct InterfaceAddress {
    std::string interface;
    model::IpAddress address;
    bool operator==(const InterfaceAddress&) const = default;
};

class LinkKernel {
public:
    virtual ~LinkKernel() = default;
    // Creates the dummy link when it is absent; it is never set up.
    virtual void ensure_dummy(const std::string& name) = 0;
    virtual bool exists(const std::string& name) = 0;
    virtual void delete_link(const std::string& name) = 0;
    // Addresses bound to one interface (/32 and /128, scope global).
    virtual std::vector<model::IpAddress> addresses(const std::string& name) = 0;
    // Binding an address already bound, or unbinding one not bound, succeeds.
    virtual void bind(const std::string& name, const model::IpAddress& address) = 0;
    virtual void unbind(const std::string& name, const model::IpAddress& address) = 0;
    // Many at once, on one socket with one link lookup. Returns one message
    // per address the kernel refused; the others are applied.
    virtual std::vector<std::string> bind_all(const std::string& name, const std::vector<model::IpAddress>& addresses) = 0;
    virtual std::vector<std::string> unbind_all(const std::string& name,
                                                const std::vector<model::IpAddress>& addresses) = 0;
    // Every address of every interface, in one dump.
    virtual std::vector<InterfaceAddress> all_addresses() = 0;
};

// The addresses that serve NodePorts, as IPVS mode picks them: every node
// address except kube-ipvs0's, loopback and IPv6 link-local; with
// nodePortAddresses, only those inside its CIDRs ("primary" is replaced by
// the caller with the node's primary IPs as /32 and /128).
std::vector<model::IpAddress> node_port_addresses(const std::vector<InterfaceAddress>& all,
                                                  const std::vector<model::Cidr>& allowed);

}  // namespace kipvs::kernel
