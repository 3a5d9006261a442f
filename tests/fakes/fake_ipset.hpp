#pragma once
// An in-memory IpsetKernel that behaves as the kernel does (-exist
// semantics, maxelem, swap) and records every write, so tests can assert the
// exact kernel traffic a change causes.
#include <map>

#include "kernel/ipset.hpp"

namespace kipvs::test {

class FakeIpset final : public kernel::IpsetKernel {
public:
    struct Set {
        kernel::SetSpec spec;
        std::set<std::string> entries;
    };

    std::vector<std::string> set_names() override;
    void ensure(const kernel::SetSpec& spec) override;
    std::set<std::string> entries(const std::string& set) override;
    std::vector<kernel::IpsetFailure> change(const std::string& set,
                                             const std::vector<kernel::IpsetChange>& changes) override;
    void replace(const kernel::SetSpec& spec, const std::set<std::string>& entries) override;
    void destroy(const std::string& set) override;

    std::map<std::string, Set> sets;
    // Every write as text: "create NAME", "add NAME E", "del NAME E", "replace NAME N", "destroy NAME".
    std::vector<std::string> writes;
    std::size_t reads = 0;
};

}  // namespace kipvs::test
