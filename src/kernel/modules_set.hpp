#pragma once
// Which modules kipvs needs, and whether the running kernel is one it supports.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/kernel_version.hpp"
#include "kernel/modules_plan.hpp"

namespace kipvs::kernel::modules {

// The set `kipvs modules load` and `kipvs run` bring up: `configured`
// (kipvs.modules.names; when empty, config::default_module_names()), then
// `dummy` for kube-ipvs0, `nf_conntrack_netlink` for flushing UDP flows, and ip_vs_<scheduler> for each scheduler in use.
// Each entry may carry parameters ("ip_vs conn_tab_bits=18"); the first
// entry for a module wins. Throws ConfigError for a malformed entry.
std::vector<ModuleRequest> module_set(const std::vector<std::string>& configured,
                                      const std::vector<std::string>& schedulers);

using kernel::KernelVersion;
using kernel::parse_kernel_release;

// The oldest kernel kipvs supports: 4.19 merged nf_conntrack_ipv4 into
// nf_conntrack and is the oldest kernel kube-proxy's IPVS mode still tests.
constexpr KernelVersion oldest_supported_kernel{4, 19, 0};

}  // namespace kipvs::kernel::modules
