// The fuzz build leaves the watch client out (see meson.build), and with it
// the verbs that need a source of Services.
#include <cstdio>

#include "cli/cli.hpp"
#include "error.hpp"

namespace kipvs::cli {

int run_run(const GlobalOptions&, const std::vector<std::string>&) {
    std::fputs("kipvs run: not available in this build (no watch client)\n", stderr);
    return exit_unavailable;
}

int run_plan(const GlobalOptions&, const std::vector<std::string>&) {
    std::fputs("kipvs plan: not available in this build (no watch client)\n", stderr);
    return exit_unavailable;
}

PlannedState plan_for_check(const config::Config&, std::chrono::seconds) {
    throw Error("planning is not available in this build (no watch client)");
}

}  // namespace kipvs::cli
