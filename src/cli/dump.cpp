#include <cstdio>
#include <string>

#include "cli/cli.hpp"
#include "error.hpp"
#include "kernel/ipvs_format.hpp"
#include "kernel/ipvs_netlink.hpp"

namespace kipvs::cli {

int run_dump(const GlobalOptions&, const std::vector<std::string>& args) {
    std::string format = "ipvsadm";
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
    if (format == "save") {
        // The whole state also needs ipsets, kube-ipvs0 addresses and rules,
        // which this build cannot read yet: say so rather than print a part.
        std::fputs(
            "kipvs dump: --format save (IPVS, ipsets, addresses and rules) is not available in this build "
            "yet; --format ipvsadm or json prints the IPVS table\n",
            stderr);
        return exit_unavailable;
    }
    if (format != "ipvsadm" && format != "json")
        throw ConfigError("dump: --format \"" + format + "\" is not one of save, ipvsadm, json");

    kernel::IpvsNetlink ipvs;
    auto table = ipvs.table();
    kernel::sort_table(table);
    std::string text = format == "json" ? kernel::format_json(table) : kernel::format_ipvsadm(table);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return std::fflush(stdout) == 0 ? exit_ok : exit_failure;
}

}  // namespace kipvs::cli
