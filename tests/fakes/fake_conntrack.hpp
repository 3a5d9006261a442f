#pragma once
// An in-memory ConntrackKernel: a table of flows of both families, swept as
// the kernel layer does (one read of the family's flows, then the deletes
// stale_udp_flows selects), and every sweep recorded. `fail_with` makes
// sweeps throw as the real layer does on a netlink error.
#include <algorithm>
#include <string>
#include <vector>

#include "error.hpp"
#include "kernel/conntrack.hpp"

namespace kipvs::test {

class FakeConntrack final : public kernel::ConntrackKernel {
public:
    struct Sweep {
        model::Family family = model::Family::v4;
        kernel::UdpFlowSweep sweep;
    };

    std::size_t sweep_udp_flows(model::Family family, const kernel::UdpFlowSweep& sweep) override {
        sweeps.push_back({family, sweep});
        if (!fail_with.empty()) throw Error(fail_with);
        std::vector<kernel::ConntrackFlow> table;
        for (const auto& f : flows)
            if (f.original.source.family == family) table.push_back(f);
        auto stale = kernel::stale_udp_flows(table, sweep);
        auto before = flows.size();
        flows.erase(std::remove_if(flows.begin(), flows.end(),
                                   [&](const kernel::ConntrackFlow& f) {
                                       return std::find(stale.begin(), stale.end(), f) != stale.end();
                                   }),
                    flows.end());
        return before - flows.size();
    }

    std::vector<kernel::ConntrackFlow> flows;
    std::vector<Sweep> sweeps;  // one per sweep_udp_flows, in call order
    std::string fail_with;
};

}  // namespace kipvs::test
