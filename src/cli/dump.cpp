// `kipvs dump`: what the kernel holds of IPVS mode, in the formats `kipvs
// plan` prints, so that the two can be diffed.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/cli.hpp"
#include "config/config.hpp"
#include "config/config_load.hpp"
#include "error.hpp"
#include "kernel/ipset_libipset.hpp"
#include "kernel/iptables.hpp"
#include "kernel/ipvs_format.hpp"
#include "kernel/ipvs_netlink.hpp"
#include "kernel/link_netlink.hpp"
#include "log/log.hpp"
#include "proxy/state_view.hpp"

namespace kipvs::cli {

proxy::StateView read_kernel_view(const config::Config& config) {
    kernel::IpvsNetlink ipvs;
    kernel::LibIpset ipset;
    kernel::NetlinkLinks links;
    std::map<model::Family, std::unique_ptr<kernel::ExecIptables>> owned;
    std::map<model::Family, kernel::IptablesKernel*> iptables;
    for (auto family : {model::Family::v4, model::Family::v6}) {
        try {
            owned[family] =
                std::make_unique<kernel::ExecIptables>(kernel::find_iptables(family, config.kipvs.iptables_backend));
            iptables[family] = owned[family].get();
        } catch (const Error& e) {
            log::warning(std::string(model::family_name(family)) + " rules left out: " + e.what());
        }
    }
    return proxy::read_view(ipvs, ipset, links, iptables, static_cast<unsigned>(config.kipvs.ipset_max_elements));
}

int run_dump(const GlobalOptions& global, const std::vector<std::string>& args) {
    std::string format = "save";
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--format" && i + 1 < args.size()) {
            format = args[++i];
        } else if (a.rfind("--format=", 0) == 0) {
            format = a.substr(9);
        } else {
            throw ConfigError("dump: unexpected argument \"" + a + "\"; see kipvs dump --help");
        }
    }
    if (format != "save" && format != "ipvsadm" && format != "json")
        throw ConfigError("dump: --format \"" + format + "\" is not one of save, ipvsadm, json");

    std::string text;
    if (format == "ipvsadm") {
        // The IPVS part alone needs neither ipsets nor iptables.
        kernel::IpvsNetlink ipvs;
        auto table = ipvs.table();
        kernel::sort_table(table);
        text = kernel::format_ipvsadm(table);
    } else {
        auto view = read_kernel_view(load_run_config(global));
        text = format == "json" ? proxy::format_json(view) : proxy::format_save(view);
    }
    std::fwrite(text.data(), 1, text.size(), stdout);
    return std::fflush(stdout) == 0 ? exit_ok : exit_failure;
}

}  // namespace kipvs::cli
