#pragma once
// An in-memory LinkKernel: links and their addresses as the kernel keeps
// them, every write recorded ("create L", "bind L A", "unbind L A", "delete L").
#include <map>
#include <set>

#include "kernel/link.hpp"

namespace kipvs::test {

class FakeLinks final : public kernel::LinkKernel {
public:
    void ensure_dummy(const std::string& name) override;
    bool exists(const std::string& name) override { return links.count(name) > 0; }
    void delete_link(const std::string& name) override;
    std::vector<model::IpAddress> addresses(const std::string& name) override;
    void bind(const std::string& name, const model::IpAddress& address) override;
    void unbind(const std::string& name, const model::IpAddress& address) override;
    std::vector<std::string> bind_all(const std::string& name, const std::vector<model::IpAddress>& addresses) override;
    std::vector<std::string> unbind_all(const std::string& name,
                                        const std::vector<model::IpAddress>& addresses) override;
    std::vector<kernel::InterfaceAddress> all_addresses() override;

    std::map<std::string, std::set<model::IpAddress>> links;
    std::vector<std::string> writes;
};

}  // namespace kipvs::test
