// `kipvs cleanup`: what IPVS mode created goes, everything else stays.
#include <cstdio>

#include "cli/cli.hpp"
#include "config/config_load.hpp"
#include "error.hpp"
#include "kernel/ipset_libipset.hpp"
#include "kernel/iptables.hpp"
#include "kernel/ipvs_netlink.hpp"
#include "kernel/link_netlink.hpp"
#include "log/log.hpp"
#include "proxy/cleanup.hpp"

namespace kipvs::cli {

int run_cleanup(const GlobalOptions& global, const std::vector<std::string>& args) {
    config::Config config = load_run_config(global);
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--from" || args[i].rfind("--from=", 0) == 0)
            throw ConfigError("cleanup: --from (kube-proxy's iptables or nftables leftovers) is not available in this "
                              "build yet; without it, cleanup removes what IPVS mode created");
        throw ConfigError("cleanup: unexpected argument \"" + args[i] + "\"; see kipvs cleanup --help");
    }

    std::map<model::Family, std::unique_ptr<kernel::ExecIptables>> owned;
    std::map<model::Family, kernel::IptablesKernel*> iptables;
    for (auto family : {model::Family::v4, model::Family::v6}) {
        try {
            owned[family] = std::make_unique<kernel::ExecIptables>(
                kernel::find_iptables(family, config.kipvs.iptables_backend));
            iptables[family] = owned[family].get();
        } catch (const Error& e) {
            log::warning(std::string(model::family_name(family)) + " rules left alone: " + e.what());
        }
    }
    kernel::NetlinkLinks links;
    kernel::LibIpset ipset;
    proxy::CleanupOptions options;
    options.exclude_cidrs = config.ipvs.exclude_cidrs;
    for (const auto& a : links.all_addresses())
        if (a.interface != kernel::ipvs_interface) options.node_addresses.push_back(a.address);

    proxy::CleanupReport report;
    try {
        kernel::IpvsNetlink ipvs;
        report = proxy::cleanup(ipvs, ipset, links, iptables, options);
    } catch (const Error& e) {
        // No ip_vs: nothing of IPVS to remove; the rest still goes.
        log::info(std::string("IPVS: ") + e.what() + "; no virtual servers to remove");
        struct NoIpvs final : kernel::IpvsKernel {
            kernel::IpvsInfo info() override { return {}; }
            kernel::IpvsTimeouts timeouts() override { return {}; }
            void set_timeouts(const kernel::IpvsTimeouts&) override {}
            std::vector<kernel::VirtualServer> services() override { return {}; }
            std::vector<kernel::RealServer> destinations(const kernel::VirtualServer&) override { return {}; }
            void flush() override {}
            void zero(const std::optional<kernel::VirtualServer>&) override {}

        protected:
            std::vector<int> execute(const std::vector<kernel::IpvsOp>& ops) override {
                return std::vector<int>(ops.size(), 0);
            }
        } none;
        report = proxy::cleanup(none, ipset, links, iptables, options);
    }
    for (const auto& r : report.removed) std::printf("removed %s\n", r.c_str());
    for (const auto& k : report.kept) std::printf("kept %s\n", k.c_str());
    std::fflush(stdout);
    for (const auto& f : report.failures) log::error("cleanup: " + f);
    return report.failures.empty() ? exit_ok : exit_failure;
}

}  // namespace kipvs::cli
