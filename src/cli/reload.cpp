#include "cli/reload.hpp"

#include "config/config_load.hpp"
#include "error.hpp"

namespace kipvs::cli {
namespace {

// The fields a reload applies in place (classified one by one below).
void copy_live_fields(const config::Config& from, config::Config& to) {
    to.source = from.source;
    to.ipvs = from.ipvs;
    to.iptables = from.iptables;
    to.bind_address = from.bind_address;
    to.node_port_addresses = from.node_port_addresses;
    to.cluster_cidrs = from.cluster_cidrs;
    to.detect_local_mode = from.detect_local_mode;
    to.kipvs.graceful_termination_timeout = from.kipvs.graceful_termination_timeout;
    to.kipvs.ipset_max_elements = from.kipvs.ipset_max_elements;
    to.kipvs.modules = from.kipvs.modules;
    to.kipvs.sysctls = from.kipvs.sysctls;
    to.healthz_bind_address = from.healthz_bind_address;
    to.metrics_bind_address = from.metrics_bind_address;
}

}  // namespace

config::Config reload_config(const ConfigOrigin& origin) {
    config::Config next = load_run_config(origin.global);
    config::apply_kube_proxy_flags(next, origin.args);
    if (next.mode != "ipvs") throw ConfigError("mode \"" + next.mode + "\" is not ipvs");
    return next;
}

ConfigChanges compare_configs(const config::Config& running, const config::Config& next) {
    ConfigChanges c;
    const auto& a = running;
    const auto& b = next;
    c.plan = a.ipvs.scheduler != b.ipvs.scheduler;
    c.node_facts = a.bind_address != b.bind_address || a.node_port_addresses != b.node_port_addresses;
    // The fields reconciler_options() reads; the detect-local CIDRs count
    // only in ClusterCIDR mode, as there.
    auto local_cidrs = [](const config::Config& x) {
        return x.detect_local_mode == "ClusterCIDR" ? x.cluster_cidrs : std::vector<model::Cidr>{};
    };
    c.reconciler = a.ipvs.exclude_cidrs != b.ipvs.exclude_cidrs ||
                   a.kipvs.graceful_termination_timeout != b.kipvs.graceful_termination_timeout ||
                   a.kipvs.ipset_max_elements != b.kipvs.ipset_max_elements ||
                   a.iptables.masquerade_all != b.iptables.masquerade_all ||
                   a.iptables.masquerade_bit != b.iptables.masquerade_bit || local_cidrs(a) != local_cidrs(b);
    c.ipvs_timeouts = a.ipvs.tcp_timeout != b.ipvs.tcp_timeout || a.ipvs.tcp_fin_timeout != b.ipvs.tcp_fin_timeout ||
                      a.ipvs.udp_timeout != b.ipvs.udp_timeout;
    c.modules = b.kipvs.modules.load &&
                (a.kipvs.modules.load != b.kipvs.modules.load || a.kipvs.modules.names != b.kipvs.modules.names ||
                 a.kipvs.modules.directory != b.kipvs.modules.directory || c.plan);
    c.sync_periods = a.ipvs.sync_period != b.ipvs.sync_period || a.ipvs.min_sync_period != b.ipvs.min_sync_period;
    c.sysctls = a.ipvs.strict_arp != b.ipvs.strict_arp || a.kipvs.sysctls != b.kipvs.sysctls;
    c.healthz_server = a.healthz_bind_address != b.healthz_bind_address;
    c.metrics_server = a.metrics_bind_address != b.metrics_bind_address;
    c.health_timeout = a.ipvs.sync_period != b.ipvs.sync_period;

    auto restart = [&](bool differs, const char* name) {
        if (differs) c.need_restart.emplace_back(name);
    };
    restart(a.kipvs.manifests != b.kipvs.manifests, "kipvs.manifests");
    restart(a.kubeconfig != b.kubeconfig, "clientConnection.kubeconfig");
    restart(a.kipvs.context != b.kipvs.context, "kipvs.context");
    restart(a.kipvs.allow_plain_http != b.kipvs.allow_plain_http, "kipvs.allowPlainHTTP");
    restart(a.hostname_override != b.hostname_override, "hostnameOverride");
    restart(a.kipvs.iptables_backend != b.kipvs.iptables_backend, "kipvs.iptablesBackend");

    // A safety net for fields not named above: everything applied in place
    // or already named is made equal, and whatever still differs waits for
    // a restart.
    config::Config rest = b;
    copy_live_fields(a, rest);
    rest.kipvs.manifests = a.kipvs.manifests;
    rest.kipvs.context = a.kipvs.context;
    rest.kipvs.allow_plain_http = a.kipvs.allow_plain_http;
    rest.kipvs.iptables_backend = a.kipvs.iptables_backend;
    rest.kubeconfig = a.kubeconfig;
    rest.hostname_override = a.hostname_override;
    if (config::render_config(rest) != config::render_config(a)) c.need_restart.emplace_back("other settings");
    return c;
}

config::Config applied_config(const config::Config& running, const config::Config& next) {
    config::Config out = running;
    copy_live_fields(next, out);
    return out;
}

std::string describe(const ConfigChanges& c) {
    std::string out;
    auto add = [&out](bool on, const char* what) {
        if (!on) return;
        if (!out.empty()) out += ", ";
        out += what;
    };
    add(c.plan, "scheduler (all services replanned)");
    add(c.node_facts, "node addresses");
    add(c.reconciler, "rule and set options (full sync)");
    add(c.ipvs_timeouts, "IPVS timeouts");
    add(c.modules, "modules");
    add(c.sync_periods, "sync periods");
    add(c.sysctls, "sysctls");
    add(c.healthz_server, "healthz server address");
    add(c.metrics_server, "metrics server address");
    add(c.health_timeout, "health timeout");
    if (!c.need_restart.empty()) {
        if (!out.empty()) out += "; ";
        out += "needs a restart to take effect: ";
        for (std::size_t i = 0; i < c.need_restart.size(); ++i) out += (i ? ", " : "") + c.need_restart[i];
    }
    return out.empty() ? "no change" : out;
}

}  // namespace kipvs::cli
