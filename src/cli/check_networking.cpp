// The host-networking part of `kipvs check`: which iptables kipvs would use
// and why, and the sysctls it would set. Read-only: nothing is changed.
#include <sys/utsname.h>

#include "cli/cli.hpp"
#include "config/config.hpp"
#include "error.hpp"
#include "kernel/iptables.hpp"
#include "kernel/sysctl.hpp"

namespace kipvs::cli {

kernel::SysctlInputs host_sysctl_inputs(const config::Config& config) {
    utsname u{};
    uname(&u);
    kernel::SysctlInputs inputs;
    inputs.kernel = kernel::parse_kernel_release(u.release).value_or(kernel::KernelVersion{});
    inputs.strict_arp = config.ipvs.strict_arp;
    inputs.overrides = config.kipvs.sysctls;
    return inputs;
}

void report_networking(const config::Config& config, std::string& report, std::vector<std::string>& warnings) {
    for (auto family : {model::Family::v4, model::Family::v6}) {
        std::string label(model::family_name(family));
        try {
            auto tools = kernel::find_iptables(family, config.kipvs.iptables_backend);
            report += "# iptables (" + label + "): " + tools.backend + ", " + tools.restore + " (" + tools.reason + ")\n";
        } catch (const Error& e) {
            warnings.push_back(std::string("iptables (") + label + "): " + e.what());
        }
    }

    kernel::SysctlInputs inputs = host_sysctl_inputs(config);
    kernel::ProcSysctls sysctls;
    report += "# sysctls kipvs sets:\n";
    for (const auto& s : kernel::desired_sysctls(inputs)) {
        auto current = sysctls.read(s.name);
        std::string state = !current ? "absent now (appears when its module is loaded)"
                            : *current == s.value ? "already " + s.value
                                                  : *current + " -> " + s.value;
        report += "#   " + s.name + " = " + s.value + ": " + state + " (" + s.reason + ")\n";
    }
    // kube-proxy only warns about this one too: bridged pod traffic that
    // skips iptables also skips the masquerade rules.
    if (auto bridge = sysctls.read("net/bridge/bridge-nf-call-iptables"); bridge && *bridge != "1")
        warnings.push_back("net/bridge/bridge-nf-call-iptables is " + *bridge +
                           ": traffic between pods on one bridge bypasses iptables (set it to 1)");
}

}  // namespace kipvs::cli
