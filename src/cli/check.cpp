#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "cli/cli.hpp"
#include "config/config_load.hpp"
#include "config/kubeconfig.hpp"
#include "error.hpp"
#include "log/log.hpp"

namespace kipvs::cli {
namespace {

struct CheckOptions {
    bool strict = false;
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
