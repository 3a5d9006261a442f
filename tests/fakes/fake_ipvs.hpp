#pragma once
// An in-memory IpvsKernel that keeps state and answers like the kernel
// (EEXIST, ESRCH, ENOENT, ENOENT for an unknown scheduler), and records
// every raw operation it executed, so reconciler tests can assert both the
// resulting table and the exact operations.
#include <set>
#include <string>
#include <vector>

#include "kernel/ipvs.hpp"

namespace kipvs::test {

class FakeIpvs : public kernel::IpvsKernel {
public:
    kernel::IpvsInfo info() override { return {0x010201, 4096}; }
    kernel::IpvsTimeouts timeouts() override { return timeouts_; }
    void set_timeouts(const kernel::IpvsTimeouts& t) override;
    std::vector<kernel::VirtualServer> services() override;
    std::vector<kernel::RealServer> destinations(const kernel::VirtualServer& service) override;
    void flush() override { table_.clear(); }
    void zero(const std::optional<kernel::VirtualServer>& service) override;

    // What the kernel holds, in insertion order.
    const std::vector<kernel::ServiceTable>& state() const { return table_; }
    // Every operation execute() was asked for, including the edits apply()
    // turned EEXIST adds into.
    const std::vector<kernel::IpvsOp>& executed() const { return executed_; }
    // Connections as traffic would leave them (the kernel counts them).
    void set_connections(const kernel::VirtualServer& service, const kernel::RealServer& destination,
                         std::uint32_t active, std::uint32_t inactive);
    std::size_t service_dumps = 0, destination_dumps = 0;
    // How many pipelined batches reached the "kernel".
    std::size_t batches() const { return batches_; }

    std::set<std::string> schedulers{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh",
                                     "sh", "sed", "nq", "fo",  "ovf",  "mh",    "twos"};

protected:
    std::vector<int> execute(const std::vector<kernel::IpvsOp>& ops) override;

private:
    int execute_one(const kernel::IpvsOp& op);
    kernel::ServiceTable* find(const kernel::VirtualServer& key);

    std::vector<kernel::ServiceTable> table_;
    kernel::IpvsTimeouts timeouts_{900, 120, 300};
    std::vector<kernel::IpvsOp> executed_;
    std::size_t batches_ = 0;
};

}  // namespace kipvs::test
