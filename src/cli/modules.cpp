// `kipvs modules load [NAME...]` and the modules part of `kipvs check`.
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "config/config_load.hpp"
#include "error.hpp"
#include "kernel/modules_linux.hpp"
#include "kernel/modules_loader.hpp"
#include "kernel/modules_set.hpp"
#include "log/log.hpp"

namespace kipvs::cli {
namespace {

namespace km = kernel::modules;

std::vector<km::ModuleRequest> requested_set(const config::Config& config) {
    return km::module_set(config.kipvs.modules.names, {config.ipvs.scheduler});
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

std::string describe(const km::LoadResult& r) {
    std::string as = km::canonical_name(r.request) == r.module ? "" : " (as " + r.module + ")";
    switch (r.state) {
        case km::LoadResult::State::loaded:
            return r.request + ": loaded" + as + (r.dependencies.empty() ? "" : " with " + join(r.dependencies));
        case km::LoadResult::State::already_loaded: return r.request + ": already loaded" + as;
        case km::LoadResult::State::builtin: return r.request + ": built-in" + as;
        case km::LoadResult::State::failed: break;
    }
    // The error names the module for other readers (logs of `kipvs run`);
    // this line already starts with it.
    std::string error = r.error;
    if (error.rfind(r.module + ": ", 0) == 0) error.erase(0, r.module.size() + 2);
    return r.request + ": failed: " + error;
}

}  // namespace

std::size_t load_modules(const config::Config& config, const std::vector<km::ModuleRequest>& requests,
                         const std::function<void(const std::string&)>& report);

config::Config load_run_config(const GlobalOptions& global) {
    if (!global.config_explicit && access(global.config_path.c_str(), F_OK) != 0) return config::default_config();
    auto loaded = config::load_config_file(global.config_path);
    for (const auto& w : loaded.warnings) log::warning(w);
    return loaded.config;
}

int run_modules(const GlobalOptions& global, const std::vector<std::string>& args) {
    if (args.empty() || args.front() != "load")
        throw ConfigError("modules: expected \"load [NAME...]\"; see kipvs modules --help");
    config::Config config = load_run_config(global);
    std::vector<km::ModuleRequest> requests;
    if (args.size() == 1) {
        requests = requested_set(config);
    } else {
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (args[i].rfind("-", 0) == 0) throw ConfigError("modules load: unknown option \"" + args[i] + "\"");
            requests.push_back(km::parse_request(args[i]));
        }
    }
    return load_modules(config, requests, [](const std::string& line) { std::printf("%s\n", line.c_str()); }) == 0
               ? exit_ok
               : exit_failure;
}

std::size_t load_modules(const config::Config& config, const std::vector<km::ModuleRequest>& requests,
                         const std::function<void(const std::string&)>& report) {
    std::string directory = km::module_directory(config.kipvs.modules.directory);
    km::ModuleIndex index = km::read_module_index(directory);
    for (const auto& p : index.problems) log::warning("modules: skipped " + p);

    km::LinuxModuleKernel kernel;
    km::ModuleLoader loader(index, directory, kernel);
    std::size_t failed = 0;
    for (const auto& request : requests) {
        auto result = loader.load(request);
        for (const auto& w : result.warnings) log::warning(w);
        if (result.state == km::LoadResult::State::failed) ++failed;
        report(describe(result));
    }
    std::fflush(stdout);
    if (failed) {
        log::error("modules: " + std::to_string(failed) + " of " + std::to_string(requests.size()) +
                   " module(s) failed to load");
    }
    return failed;
}

std::size_t load_configured_modules(const config::Config& config) {
    return load_modules(config, requested_set(config), [](const std::string& line) { log::info("module " + line); });
}

void report_modules(const config::Config& config, std::string& report, std::vector<std::string>& warnings) {
    std::string release = km::kernel_release();
    auto version = km::parse_kernel_release(release);
    report += "# kernel: " + release + "\n";
    if (!version) {
        warnings.push_back("kernel release \"" + release + "\" is not N.N: cannot tell whether it is supported");
    } else if (*version < km::oldest_supported_kernel) {
        warnings.push_back("kernel " + release + " is older than 4.19: not supported");
    }

    std::string directory = km::module_directory(config.kipvs.modules.directory);
    km::ModuleIndex index;
    try {
        index = km::read_module_index(directory);
    } catch (const Error& e) {
        warnings.push_back(std::string("modules: ") + e.what());
    }
    for (const auto& p : index.problems) warnings.push_back("modules: skipped " + p);
    km::KernelSnapshot snapshot = km::LinuxModuleKernel().snapshot();
    std::vector<km::ModuleRequest> requests;
    try {
        requests = requested_set(config);
    } catch (const ConfigError& e) {
        warnings.push_back(std::string("kipvs.modules.names: ") + e.what());
    }
    report += "# modules (" + directory + "):\n";
    for (const auto& request : requests) {
        auto plan = km::plan_module(index, request, snapshot);
        std::string state;
        switch (plan.outcome) {
            case km::Plan::Outcome::already_loaded: state = "loaded"; break;
            case km::Plan::Outcome::builtin: state = "built-in"; break;
            case km::Plan::Outcome::not_found: state = "missing"; break;
            case km::Plan::Outcome::load: {
                state = "loadable";
                for (const auto& step : plan.steps) {
                    std::string path = step.path.empty() || step.path.front() == '/' ? step.path
                                                                                      : directory + "/" + step.path;
                    if (step.optional) continue;
                    if (path.empty() || access(path.c_str(), R_OK) != 0) {
                        state = "missing";
                        warnings.push_back("module " + request.name + ": needs " + step.name + ", but " +
                                           (path.empty() ? "modules.dep does not list it" : path + " is not readable"));
                        break;
                    }
                }
                break;
            }
        }
        if (plan.outcome == km::Plan::Outcome::not_found)
            warnings.push_back("module " + request.name + ": missing (" + plan.reason + " in " + directory + ")");
        std::string as = km::canonical_name(request.name) == plan.module ? "" : " (as " + plan.module + ")";
        report += "#   " + request.name + ": " + state + as + "\n";
    }
}

}  // namespace kipvs::cli
