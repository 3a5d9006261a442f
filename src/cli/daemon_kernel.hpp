#pragma once
// The kernel as `kipvs run` uses it: the real handles, or --dry-run
// wrappers that read them and log every write; and the host settings the
// daemon applies at start and again on a reload (modules, sysctls, IPVS
// timeouts).
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "cli/reload.hpp"
#include "config/config.hpp"
#include "kernel/conntrack.hpp"
#include "kernel/dry_run.hpp"
#include "kernel/ipset_libipset.hpp"
#include "kernel/iptables.hpp"
#include "kernel/ipvs_netlink.hpp"
#include "kernel/link_netlink.hpp"
#include "proxy/reconciler.hpp"

namespace kipvs::cli {

struct DaemonKernel {
    kernel::IpvsNetlink ipvs;
    kernel::LibIpset ipset;
    kernel::NetlinkLinks links;
    std::map<model::Family, std::unique_ptr<kernel::ExecIptables>> iptables;
    kernel::NetlinkConntrack conntrack;  // opens its socket on first use
    std::optional<kernel::DryRunIpvs> dry_ipvs;
    std::optional<kernel::DryRunIpset> dry_ipset;
    std::optional<kernel::DryRunLinks> dry_links;
    std::map<model::Family, std::unique_ptr<kernel::DryRunIptables>> dry_iptables;

    // The handles the reconciler writes through; with `dry_run`, wrappers
    // made on the first call.
    proxy::KernelHandles handles(bool dry_run);
    // The IPVS handle settings go through (the dry-run one logs).
    kernel::IpvsKernel& ipvs_for(bool dry_run);
    // Finds iptables-restore for each family (kipvs.iptablesBackend) and
    // returns the families proxied: IPv4 or nothing (throws), IPv6 when found.
    std::vector<model::Family> open_iptables(const config::Config& config);
};

// kube-proxy's sysctls and kipvs.sysctls; each change logged once.
void apply_sysctls(const config::Config& config);
// Modules and sysctls at start; --dry-run touches neither.
void prepare_host(const config::Config& config, bool dry_run);
// ipvs.tcpTimeout, tcpFinTimeout, udpTimeout; all zero leaves the kernel's.
void set_ipvs_timeouts(const config::Config& config, kernel::IpvsKernel& ipvs);
// A reload's modules, sysctls and IPVS timeouts; failures are logged.
void reapply_host(const config::Config& config, const ConfigChanges& changes, DaemonKernel& kernel, bool dry_run);

}  // namespace kipvs::cli
