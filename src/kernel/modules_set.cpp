#include "kernel/modules_set.hpp"

#include <set>

#include "config/config.hpp"

namespace kipvs::kernel::modules {

std::vector<ModuleRequest> module_set(const std::vector<std::string>& configured,
                                      const std::vector<std::string>& schedulers) {
    std::vector<std::string> specs = configured.empty() ? config::default_module_names() : configured;
    // kube-ipvs0 is a dummy link; stale UDP flows are flushed through
    // ctnetlink; each scheduler is its own module.
    specs.push_back("dummy");
    specs.push_back("nf_conntrack_netlink");
    for (const auto& s : schedulers) specs.push_back("ip_vs_" + s);
    std::vector<ModuleRequest> out;
    std::set<std::string> seen;
    for (const auto& spec : specs) {
        ModuleRequest request = parse_request(spec);
        if (seen.insert(canonical_name(request.name)).second) out.push_back(std::move(request));
    }
    return out;
}


}  // namespace kipvs::kernel::modules
