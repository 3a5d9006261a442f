#pragma once
// An in-memory IptablesKernel that applies restore payloads with --noflush
// semantics (declared chains are flushed and rewritten, -A appends, -I N
// inserts, every other chain stays) and saves tables as *-save lists rules.
#include <map>
#include <vector>

#include "kernel/iptables.hpp"

namespace kipvs::test {

class FakeIptables final : public kernel::IptablesKernel {
public:
    std::string save(const std::string& table) override;
    void restore(const std::string& payload) override;

    // table → chain → rules (the text after "-A CHAIN ")
    std::map<std::string, std::map<std::string, std::vector<std::string>>> tables;
    std::size_t restores = 0;
    bool fail_next_restore = false;
};

}  // namespace kipvs::test
