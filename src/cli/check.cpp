#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/cli.hpp"
#include "config/config_load.hpp"
#include "config/duration.hpp"
#include "config/kubeconfig.hpp"
#include "error.hpp"
#include "log/log.hpp"
#include "proxy/state_view.hpp"

namespace kipvs::cli {
namespace {

struct CheckOptions {
    bool strict = false;
    bool offline = false;
    std::chrono::seconds wait{10};
    std::string context;
};

CheckOptions parse_check_options(config::Config& config, const std::vector<std::string>& args) {
    CheckOptions options;
    auto rest = config::apply_kube_proxy_flags(config, args);
    for (std::size_t i = 0; i < rest.size(); ++i) {
        const std::string& a = rest[i];
        if (a == "--strict") {
            options.strict = true;
        } else if (a == "--context" && i + 1 < rest.size()) {
            options.context = rest[++i];
        } else if (a.rfind("--context=", 0) == 0) {
            options.context = a.substr(10);
        } else if (a == "--offline") {
            options.offline = true;
        } else if ((a == "--wait" && i + 1 < rest.size()) || a.rfind("--wait=", 0) == 0) {
            std::string value = a == "--wait" ? rest[++i] : a.substr(7);
            auto parsed = config::parse_duration(value);
            if (!parsed.value) throw ConfigError("check: --wait " + value + ": " + parsed.problem);
            options.wait = std::chrono::ceil<std::chrono::seconds>(*parsed.value);
        } else {
            throw ConfigError("check: unexpected argument \"" + a + "\"; see kipvs check --help");
        }
    }
    return options;
}

// kipvs and kube-proxy must never program one node together (PARITY.md, decision 1).
bool kube_proxy_running() {
    DIR* proc = opendir("/proc");
    if (!proc) return false;
    bool found = false;
    while (dirent* entry = readdir(proc)) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        std::ifstream comm(std::string("/proc/") + entry->d_name + "/comm");
        std::string name;
        if (std::getline(comm, name) && name == "kube-proxy") found = true;
    }
    closedir(proc);
    return found;
}

// Lists of changes longer than this are cut: a node that has never run
// kipvs would otherwise print its whole state.
constexpr std::size_t max_diff_lines = 200;

// The API server's reachability and what `kipvs run` would change on this
// node: the planned state diffed against what the kernel holds.
void report_pending_changes(const config::Config& config, std::chrono::seconds wait, std::string& report,
                            std::vector<std::string>& warnings) {
    PlannedState planned;
    try {
        planned = plan_for_check(config, wait);
    } catch (const Error& e) {
        warnings.push_back(std::string("sources: ") + e.what() + "; what kipvs run would change is not shown");
        return;
    }
    report += "# sources: " + planned.source + ": listed " + std::to_string(planned.services) + " service(s), " +
              std::to_string(planned.endpoints) + " endpoint(s)\n";
    std::string held;
    try {
        held = proxy::format_save(read_kernel_view(config));
    } catch (const Error& e) {
        warnings.push_back(std::string("reading the kernel's IPVS-mode state: ") + e.what() +
                           "; what kipvs run would change is not shown");
        return;
    }
    std::string diff = proxy::diff_lines(held, planned.save);
    if (diff.empty()) {
        report += "# kipvs run would change nothing: the kernel holds the planned state\n";
        return;
    }
    std::istringstream lines(diff);
    std::size_t shown = 0, total = 0;
    std::string body;
    for (std::string line; std::getline(lines, line); ++total)
        if (shown < max_diff_lines) {
            body += "#   " + line + "\n";
            ++shown;
        }
    report += "# kipvs run would change " + std::to_string(total) + " line(s) of the state (- removed, + added):\n";
    report += body;
    if (total > shown) report += "#   … and " + std::to_string(total - shown) + " more\n";
}

}  // namespace

int run_check(const GlobalOptions& global, const std::vector<std::string>& args) {
    std::vector<std::string> warnings;
    config::Config config;
    if (!global.config_explicit && access(global.config_path.c_str(), F_OK) != 0) {
        config = config::default_config();
        warnings.push_back(global.config_path + " does not exist; using built-in defaults");
    } else {
        auto loaded = config::load_config_file(global.config_path);
        config = loaded.config;
        warnings.insert(warnings.end(), loaded.warnings.begin(), loaded.warnings.end());
    }
    CheckOptions options = parse_check_options(config, args);
    if (options.context.empty()) options.context = config.kipvs.context;

    std::string report;
    bool has_kubeconfig = false;
    if (!config.kipvs.manifests.empty()) {
        report += "# sources: static manifests in " + config.kipvs.manifests + " (no API server is contacted)\n";
    } else {
        std::vector<std::string> searched;
        auto location = config::locate_kubeconfig(config, searched);
        if (!location) {
            std::string list;
            for (const auto& s : searched) list += (list.empty() ? "" : ", ") + s;
            warnings.push_back("no kubeconfig found (searched " + list +
                               "); set clientConnection.kubeconfig or kipvs.manifests");
        } else {
            has_kubeconfig = true;
            auto creds = config::load_kubeconfig(location->path, options.context, config.kipvs.allow_plain_http);
            report += "# kubeconfig: " + creds.file + " (" + location->reason + ")\n";
            report += "#   context " + creds.context + ", cluster " + creds.cluster + ", user " +
                      (creds.user.empty() ? "(none)" : creds.user) + "\n";
            report += "#   server " + creds.server.to_string() + ", auth: " + creds.auth_summary() +
                      ", CA: " + (creds.ca_pem.empty() ? "system trust store" : "from kubeconfig") + "\n";
            if (!creds.tls_server_name.empty()) report += "#   tls-server-name " + creds.tls_server_name + "\n";
            if (creds.insecure_skip_tls_verify)
                warnings.push_back(creds.file + ": insecure-skip-tls-verify is set: the API server's certificate "
                                                "will NOT be verified");
            if (creds.auth_summary() == "none")
                warnings.push_back(creds.file + ": user \"" + creds.user + "\" has no credentials");
        }
    }
    report_modules(config, report, warnings);
    report_networking(config, report, warnings);
    if (!options.offline && (!config.kipvs.manifests.empty() || !options.context.empty() || has_kubeconfig)) {
        config::Config planned = config;
        planned.kipvs.context = options.context;
        report_pending_changes(planned, options.wait, report, warnings);
    }
    if (kube_proxy_running())
        warnings.push_back("a kube-proxy process is running: kipvs and kube-proxy must not program one node together");

    std::printf("# configuration: %s (%s)\n", config.source.c_str(),
                config.kind == config::DocumentKind::kipvs ? "KipvsConfiguration" : "KubeProxyConfiguration");
    std::fputs(config::render_config(config).c_str(), stdout);
    std::fputs(report.c_str(), stdout);
    std::fflush(stdout);
    for (const auto& w : warnings) log::warning(w);
    if (options.strict && !warnings.empty()) {
        log::error("check failed: " + std::to_string(warnings.size()) + " warning(s) under --strict");
        return exit_failure;
    }
    return exit_ok;
}

}  // namespace kipvs::cli
