#include "cli/daemon_kernel.hpp"

#include <chrono>

#include "cli/cli.hpp"
#include "error.hpp"
#include "kernel/sysctl.hpp"
#include "log/log.hpp"

namespace kipvs::cli {

proxy::KernelHandles DaemonKernel::handles(bool dry_run) {
    if (!dry_run) {
        std::map<model::Family, kernel::IptablesKernel*> rules;
        for (auto& [f, t] : iptables) rules[f] = t.get();
        return {ipvs, ipset, links, rules, &conntrack};
    }
    dry_ipvs.emplace(ipvs);
    dry_ipset.emplace(ipset);
    dry_links.emplace(links);
    std::map<model::Family, kernel::IptablesKernel*> rules;
    for (auto& [f, t] : iptables) {
        dry_iptables[f] = std::make_unique<kernel::DryRunIptables>(*t);
        rules[f] = dry_iptables[f].get();
    }
    return {*dry_ipvs, *dry_ipset, *dry_links, rules};
}

kernel::IpvsKernel& DaemonKernel::ipvs_for(bool dry_run) {
    return dry_run ? static_cast<kernel::IpvsKernel&>(*dry_ipvs) : ipvs;
}

std::vector<model::Family> DaemonKernel::open_iptables(const config::Config& config) {
    std::vector<model::Family> families;
    for (auto family : {model::Family::v4, model::Family::v6}) {
        try {
            auto tools = kernel::find_iptables(family, config.kipvs.iptables_backend);
            log::info(std::string(model::family_name(family)) + " rules through " + tools.restore + " (" +
                      tools.reason + ")");
            iptables[family] = std::make_unique<kernel::ExecIptables>(tools);
            families.push_back(family);
        } catch (const Error& e) {
            if (family == model::Family::v4) throw;
            log::warning(std::string("IPv6 is not proxied: ") + e.what());
        }
    }
    return families;
}

void apply_sysctls(const config::Config& config) {
    kernel::ProcSysctls sysctls;
    for (const auto& change : kernel::ensure_sysctls(sysctls, kernel::desired_sysctls(host_sysctl_inputs(config))))
        log::info("sysctl " + change.name + ": " + change.old_value + " -> " + change.new_value);
}

void prepare_host(const config::Config& config, bool dry_run) {
    if (dry_run) return;
    if (config.kipvs.modules.load) load_configured_modules(config);
    apply_sysctls(config);
}

void set_ipvs_timeouts(const config::Config& config, kernel::IpvsKernel& ipvs) {
    auto seconds = [](config::Duration d) {
        return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
    };
    kernel::IpvsTimeouts t;
    t.tcp = seconds(config.ipvs.tcp_timeout);
    t.tcp_fin = seconds(config.ipvs.tcp_fin_timeout);
    t.udp = seconds(config.ipvs.udp_timeout);
    if (t.tcp == 0 && t.tcp_fin == 0 && t.udp == 0) return;
    try {
        ipvs.set_timeouts(t);
    } catch (const Error& e) {
        log::warning(std::string("IPVS timeouts: ") + e.what());  // not fatal, as upstream
    }
}

void reapply_host(const config::Config& config, const ConfigChanges& changes, DaemonKernel& kernel, bool dry_run) {
    try {
        if (changes.modules && !dry_run) load_configured_modules(config);
        if (changes.sysctls && !dry_run) apply_sysctls(config);
        if (changes.ipvs_timeouts) set_ipvs_timeouts(config, kernel.ipvs_for(dry_run));
    } catch (const Error& e) {
        log::error(std::string("reload: ") + e.what());
    }
}

}  // namespace kipvs::cli
