#include "kernel/modules_set.hpp"

#include <set>

#include "config/config.hpp"

namespace kipvs::kernel::modules {

std::vector<ModuleRequest> module_set(const std::vector<std::string>& configured,
                                      const std::vector<std::string>& schedulers) {
    std::vector<std::string> specs = configured.empty() ? config::default_module_names() : configured;
    // kube-ipvs0 is a dummy link; each scheduler is its own module.
    specs.push_back("dummy");
    for (const auto& s : schedulers) specs.push_back("ip_vs_" + s);
    std::vector<ModuleRequest> out;
    std::set<std::string> seen;
    for (const auto& spec : specs) {
        ModuleRequest request = parse_request(spec);
        if (seen.insert(canonical_name(request.name)).second) out.push_back(std::move(request));
    }
    return out;
}

std::optional<KernelVersion> parse_kernel_release(std::string_view release) {
    int parts[3] = {0, 0, 0};
    std::size_t i = 0;
    int count = 0;
    while (count < 3) {
        std::size_t start = i;
        long value = 0;
        while (i < release.size() && release[i] >= '0' && release[i] <= '9' && i - start < 6)
            value = value * 10 + (release[i++] - '0');
        if (i == start) break;
        parts[count++] = static_cast<int>(value);
        if (i < release.size() && release[i] == '.') {
            ++i;
        } else {
            break;
        }
    }
    if (count < 2) return std::nullopt;
    return KernelVersion{parts[0], parts[1], parts[2]};
}

}  // namespace kipvs::kernel::modules
