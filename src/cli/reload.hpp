#pragma once
// What `kipvs run` does on SIGHUP (systemctl reload): the difference between
// the running configuration and a freshly loaded one, sorted into what can
// be applied in place and what waits for a restart. Pure (but for loading
// the file), so every field's classification is tested without a daemon.
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "config/config.hpp"

namespace kipvs::cli {

struct ConfigChanges {
    bool plan = false;           // ipvs.scheduler: every service is planned again
    bool node_facts = false;     // bindAddress, nodePortAddresses: gathered again (and the
                                 // health-check node ports re-bound)
    bool reconciler = false;     // rule/set/termination options: a full sync under the new options
    bool ipvs_timeouts = false;  // ipvs.tcpTimeout, tcpFinTimeout, udpTimeout
    bool modules = false;        // the module set (kipvs.modules, or a new scheduler's module)
    bool sync_periods = false;   // ipvs.syncPeriod, ipvs.minSyncPeriod
    bool sysctls = false;        // ipvs.strictARP, kipvs.sysctls
    bool healthz_server = false;  // healthzBindAddress: the server moves
    bool metrics_server = false;  // metricsBindAddress: the server moves
    bool health_timeout = false;  // ipvs.syncPeriod: /healthz's timeout is 2 × syncPeriod
    // Fields that differ but are read only at start (the source, the node's
    // name, listeners...), by their names in the file.
    std::vector<std::string> need_restart;

    bool applies_anything() const {
        return plan || node_facts || reconciler || ipvs_timeouts || modules || sync_periods || sysctls ||
               healthz_server || metrics_server || health_timeout;
    }
};

// What `kipvs run` reads again on SIGHUP: the same file and flags.
struct ConfigOrigin {
    GlobalOptions global;
    std::vector<std::string> args;
};

// The file and flags loaded again; throws Error when they do not load or
// are not IPVS mode (the running configuration then stays).
config::Config reload_config(const ConfigOrigin& origin);

ConfigChanges compare_configs(const config::Config& running, const config::Config& next);

// What this process runs with after the reload: `next`'s fields that apply
// in place, `running`'s for the rest (so that a later reload still reports
// them as waiting for a restart).
config::Config applied_config(const config::Config& running, const config::Config& next);

// "scheduler, sysctls; needs a restart: kipvs.manifests" or "no change".
std::string describe(const ConfigChanges& changes);

}  // namespace kipvs::cli
