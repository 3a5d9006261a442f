#pragma once
// Per-service IPVS traffic as metrics (PARITY.md decision 8): the kernel's
// virtual-server counters, named after the Kubernetes service that owns
// each virtual server in the desired state. Collected on scrape from one
// service dump plus one read of /proc/net/ip_vs (active connections per
// service, which the service dump does not carry; one text read is far
// cheaper than a destination dump per virtual server at 10k services).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/ipvs_types.hpp"
#include "model/endpoint_slice.hpp"
#include "model/service.hpp"
#include "proxy/desired_state.hpp"
#include "server/exposition.hpp"

namespace kipvs::server {

// Active connections per virtual server, summed over its destinations, from
// /proc/net/ip_vs. Fwmark services and unreadable lines are skipped: they
// are none of kube-proxy's.
std::map<proxy::VsKey, std::uint64_t> parse_proc_ip_vs(std::string_view text);

// Who a virtual server belongs to.
struct VsOwner {
    std::string namespace_name, service, port_name;
    bool operator==(const VsOwner&) const = default;
};

// Every virtual server the desired state holds, with its owner: the
// service's port whose protocol matches and whose port (ClusterIP, external
// and LB addresses) or nodePort (node addresses) is the virtual server's.
std::map<proxy::VsKey, VsOwner> vs_owners(const std::map<std::string, proxy::ServicePlan>& plans,
                                          const std::map<std::string, model::Service>& services);

struct IpvsServiceRow {
    VsOwner owner;
    kernel::Protocol protocol = kernel::Protocol::tcp;
    std::string virtual_address;  // "10.96.0.10:80", "[fd00::10]:80"
    kernel::Stats64 stats;
    std::uint64_t active_connections = 0;
};

// One row per kernel virtual server the proxy owns, sorted by labels;
// virtual servers of other owners (keepalived's, by hand) are left out.
std::vector<IpvsServiceRow> ipvs_rows(const std::vector<kernel::VirtualServer>& kernel,
                                      const std::map<proxy::VsKey, std::uint64_t>& active,
                                      const std::map<proxy::VsKey, VsOwner>& owners);

// The ipvs_* families: four packet/byte counters, connections_total and
// connections_active. Families are written even with no rows, so
// dashboards see the names.
void write_ipvs_metrics(ExpositionWriter& out, const std::vector<IpvsServiceRow>& rows);

}  // namespace kipvs::server
