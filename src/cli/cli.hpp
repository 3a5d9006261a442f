#pragma once
// The command line: verbs, their options and their exit codes.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "kernel/sysctl.hpp"

namespace kipvs::config {
struct Config;
}
namespace kipvs::proxy {
struct StateView;
}

namespace kipvs::cli {

enum ExitCode : int {
    exit_ok = 0,
    exit_failure = 1,      // a runtime failure
    exit_usage = 2,        // a usage or configuration error
    exit_unavailable = 3,  // the capability is not in this build
};

struct GlobalOptions {
    std::string config_path = "/etc/kipvs.yaml";
    bool config_explicit = false;
};

struct Verb {
    std::string name;
    std::string summary;
    std::string usage;  // the verb's --help text
    int (*run)(const GlobalOptions&, const std::vector<std::string>& args);
};

const std::vector<Verb>& verbs();
std::string general_usage();

int run_version(const GlobalOptions&, const std::vector<std::string>& args);
int run_check(const GlobalOptions&, const std::vector<std::string>& args);
int run_dump(const GlobalOptions&, const std::vector<std::string>& args);
int run_modules(const GlobalOptions&, const std::vector<std::string>& args);

int run_cleanup(const GlobalOptions&, const std::vector<std::string>& args);

// The configuration the verbs use: --config, else /etc/kipvs.yaml, else the
// defaults when that file does not exist (a fresh host loads its modules
// and cleans up before anything is configured).
config::Config load_run_config(const GlobalOptions& global);

int run_run(const GlobalOptions&, const std::vector<std::string>& args);
int run_plan(const GlobalOptions&, const std::vector<std::string>& args);

// For `kipvs check`: what `kipvs run` would program, in plan's save format,
// from the sources' first complete list. Throws kipvs::Error naming the
// source when that list does not come within `within`.
struct PlannedState {
    std::string save;
    std::string source;
    std::size_t services = 0;
    std::size_t endpoints = 0;
};
PlannedState plan_for_check(const config::Config& config, std::chrono::seconds within);

// What the kernel holds of IPVS mode (shared by `dump` and `check`); families
// whose iptables cannot be found are left out with a warning.
proxy::StateView read_kernel_view(const config::Config& config);

// Loads kipvs.modules (or the default set) as `kipvs run` does at start,
// logging one line per module; returns how many failed.
std::size_t load_configured_modules(const config::Config& config);

// `kipvs check`'s modules section: the kernel release, then each module of
// the set as loaded, built-in, loadable or missing (problems as warnings).
void report_modules(const config::Config& config, std::string& report, std::vector<std::string>& warnings);
// What decides the sysctls on this host: the running kernel's version and
// the configuration (shared by `check` and `run`).
kernel::SysctlInputs host_sysctl_inputs(const config::Config& config);
// Which iptables backend and binaries kipvs would use, and the sysctls it would set.
void report_networking(const config::Config& config, std::string& report, std::vector<std::string>& warnings);

}  // namespace kipvs::cli
