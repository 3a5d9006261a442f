#pragma once
// In-memory sysctls: absent until set up by the test, every write recorded.
#include <map>

#include "kernel/sysctl.hpp"

namespace kipvs::test {

class FakeSysctls final : public kernel::Sysctls {
public:
    std::optional<std::string> read(const std::string& name) override {
        auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
    }
    void write(const std::string& name, const std::string& value) override {
        writes.push_back(name + "=" + value);
        values[name] = value;
    }

    std::map<std::string, std::string> values;
    std::vector<std::string> writes;
};

}  // namespace kipvs::test
