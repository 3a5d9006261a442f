// `kipvs cleanup`: what IPVS mode created goes, everything else stays;
// `--from iptables|nftables` also what kube-proxy's other modes left.
#include <cstdio>
#include <set>

#include "cli/cli.hpp"
#include "config/config_load.hpp"
#include "error.hpp"
#include "kernel/ipset_libipset.hpp"
#include "kernel/iptables.hpp"
#include "kernel/ipvs_netlink.hpp"
#include "kernel/link_netlink.hpp"
#include "kernel/process.hpp"
#include "log/log.hpp"
#include "proxy/cleanup.hpp"

namespace kipvs::cli {
namespace {

// kube-proxy's iptables mode may have written to either backend and either
// family: every iptables-save found is read whole (no -t, which would make
// the legacy backend load table modules a node does not use).
void cleanup_iptables_mode(proxy::CleanupReport& report) {
    std::set<std::string> seen;
    for (auto family : {model::Family::v4, model::Family::v6}) {
        for (const char* backend : {"legacy", "nft"}) {
            kernel::IptablesTools tools;
            try {
                tools = kernel::find_iptables(family, backend);
            } catch (const Error&) {
                continue;  // this backend is not installed
            }
            if (!seen.insert(tools.save).second) continue;
            std::string label = std::string(model::family_name(family)) + " " + tools.backend;
            try {
                auto saved = kernel::run_process({tools.save});
                if (saved.exit_code != 0) throw Error(tools.save + " failed: " + saved.err);
                auto plan = proxy::iptables_mode_cleanup(saved.out);
                if (!plan.payload.empty()) kernel::ExecIptables(tools).restore(plan.payload);
                for (const auto& r : plan.removed) report.removed.push_back(label + " " + r);
                for (const auto& k : plan.kept) report.kept.push_back(label + " " + k);
            } catch (const Error& e) {
                report.failures.push_back(label + " iptables mode's rules: " + e.what());
            }
        }
    }
}

// nft prints its error on a line of its own, then the command again with a
// caret line under the failing word: a log record takes only the first.
std::string nft_error(const kernel::ProcessResult& result) {
    std::size_t begin = result.err.find_first_not_of("\n");
    if (begin == std::string::npos) return "exit code " + std::to_string(result.exit_code);
    return result.err.substr(begin, result.err.find('\n', begin) - begin);
}

// kube-proxy's nftables mode: its two tables, through the nft program
// (kipvs links no libnftables).
void cleanup_nftables_mode(proxy::CleanupReport& report) {
    kernel::ProcessResult listed;
    try {
        listed = kernel::run_process({"nft", "list", "tables"});
    } catch (const Error& e) {
        report.failures.push_back(std::string("nftables mode's tables (ip/ip6 kube-proxy) not checked: ") + e.what() +
                                  "; install nftables, or delete them with `nft delete table ip kube-proxy` and "
                                  "`nft delete table ip6 kube-proxy`");
        return;
    }
    if (listed.exit_code != 0) {
        report.failures.push_back("nft list tables: " + nft_error(listed));
        return;
    }
    auto tables = proxy::nftables_mode_tables(listed.out);
    if (tables.empty()) log::info("nftables mode: no table ip kube-proxy or ip6 kube-proxy to remove");
    for (const auto& table : tables) {
        std::vector<std::string> argv{"nft", "delete", "table"};
        argv.push_back(table.substr(0, table.find(' ')));
        argv.push_back(table.substr(table.find(' ') + 1));
        auto deleted = kernel::run_process(argv);
        if (deleted.exit_code == 0) report.removed.push_back("nftables table " + table);
        else report.failures.push_back("nft delete table " + table + ": " + nft_error(deleted));
    }
}

}  // namespace

int run_cleanup(const GlobalOptions& global, const std::vector<std::string>& args) {
    config::Config config = load_run_config(global);
    bool from_iptables = false, from_nftables = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string from;
        if (args[i] == "--from" && i + 1 < args.size()) from = args[++i];
        else if (args[i].rfind("--from=", 0) == 0) from = args[i].substr(7);
        else if (args[i] == "--from") throw ConfigError("cleanup: --from needs a mode: iptables or nftables");
        else throw ConfigError("cleanup: unexpected argument \"" + args[i] + "\"; see kipvs cleanup --help");
        if (from == "iptables") from_iptables = true;
        else if (from == "nftables") from_nftables = true;
        else throw ConfigError("cleanup: --from \"" + from + "\": kube-proxy's other modes are iptables and nftables");
    }
    proxy::CleanupReport other;
    // First: iptables mode's jumps into chains IPVS mode shares (KUBE-SERVICES…)
    // would otherwise keep IPVS mode's cleanup from deleting them.
    if (from_iptables) cleanup_iptables_mode(other);
    if (from_nftables) cleanup_nftables_mode(other);

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
    report.removed.insert(report.removed.begin(), other.removed.begin(), other.removed.end());
    report.kept.insert(report.kept.begin(), other.kept.begin(), other.kept.end());
    report.failures.insert(report.failures.begin(), other.failures.begin(), other.failures.end());
    for (const auto& r : report.removed) std::printf("removed %s\n", r.c_str());
    for (const auto& k : report.kept) std::printf("kept %s\n", k.c_str());
    std::fflush(stdout);
    for (const auto& f : report.failures) log::error("cleanup: " + f);
    return report.failures.empty() ? exit_ok : exit_failure;
}

}  // namespace kipvs::cli
