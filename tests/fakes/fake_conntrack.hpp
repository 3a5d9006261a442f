#pragma once
// An in-memory ConntrackKernel: a table of flows, deleted as the kernel
// would (UDP, original destination = the service, reply source = the
// endpoint; or every UDP flow to a deleted service), and every call
// recorded. `fail_with` makes calls throw as the real layer does on a
// netlink error.
#include <netinet/in.h>

#include <algorithm>
#include <string>
#include <vector>

#include "error.hpp"
#include "kernel/conntrack.hpp"

namespace kipvs::test {

class FakeConntrack final : public kernel::ConntrackKernel {
public:
    struct Call {
        model::IpAddress service_address;
        std::uint16_t service_port = 0;
        model::IpAddress endpoint;
        std::uint16_t endpoint_port = 0;
        bool operator==(const Call&) const = default;
    };

    std::size_t delete_udp_flows(const model::IpAddress& service_address, std::uint16_t service_port,
                                 const model::IpAddress& endpoint, std::uint16_t endpoint_port) override {
        calls.push_back({service_address, service_port, endpoint, endpoint_port});
        if (!fail_with.empty()) throw Error(fail_with);
        auto stale = [&](const kernel::ConntrackFlow& f) {
            return f.original.protocol == IPPROTO_UDP && f.original.destination == service_address &&
                   f.original.destination_port == service_port && f.reply.source == endpoint &&
                   f.reply.source_port == endpoint_port;
        };
        auto before = flows.size();
        flows.erase(std::remove_if(flows.begin(), flows.end(), stale), flows.end());
        return before - flows.size();
    }

    std::size_t delete_udp_service_flows(const std::vector<model::HostPort>& services) override {
        service_calls.push_back(services);
        if (!fail_with.empty()) throw Error(fail_with);
        auto stale = kernel::udp_flows_to(flows, services);
        flows.erase(std::remove_if(flows.begin(), flows.end(),
                                   [&](const kernel::ConntrackFlow& f) {
                                       return std::find(stale.begin(), stale.end(), f) != stale.end();
                                   }),
                    flows.end());
        return stale.size();
    }

    std::vector<kernel::ConntrackFlow> flows;
    std::vector<Call> calls;
    std::vector<std::vector<model::HostPort>> service_calls;  // one per delete_udp_service_flows
    std::string fail_with;
};

}  // namespace kipvs::test
