#pragma once
// IpsetKernel through libipset: commands are fed to the library as restore
// text, so adds and deletes to one set are aggregated into few netlink
// messages exactly as `ipset restore` does, without a process per entry.
#include "kernel/ipset.hpp"

namespace kipvs::kernel {

class LibIpset final : public IpsetKernel {
public:
    LibIpset();

    std::vector<std::string> set_names() override;
    void ensure(const SetSpec& spec) override;
    std::set<std::string> entries(const std::string& set) override;
    std::vector<IpsetFailure> change(const std::string& set, const std::vector<IpsetChange>& changes) override;
    void replace(const SetSpec& spec, const std::set<std::string>& entries) override;
    void destroy(const std::string& set) override;

    // Commands handed to the kernel so far (a create, a destroy, a swap, or
    // one add/del line each): what "zero kernel writes" is measured in.
    std::size_t commands_sent() const { return commands_sent_; }

private:
    std::size_t commands_sent_ = 0;
    unsigned swap_counter_ = 0;
};

}  // namespace kipvs::kernel
