// SIGHUP's classification of configuration changes: applied in place, or
// needing a restart, field by field as loaded from real documents.
#include <catch2/catch.hpp>

#include "cli/reload.hpp"
#include "config/config_load.hpp"

using namespace kipvs;

namespace {

config::Config load(const std::string& body) {
    return config::load_config_text("apiVersion: kipvs.io/v1alpha1\nkind: KipvsConfiguration\n" + body,
                                    "/etc/kipvs.yaml")
        .config;
}

const std::string base = "clusterCIDR: 10.200.0.0/16\nipvs:\n  scheduler: rr\nkipvs:\n  manifests: /etc/kipvs/manifests\n";

}  // namespace

TEST_CASE("reloading an identical file changes nothing", "[reload]") {
    auto c = cli::compare_configs(load(base), load(base));
    CHECK_FALSE(c.applies_anything());
    CHECK(c.need_restart.empty());
    CHECK(cli::describe(c) == "no change");
}

TEST_CASE("a new scheduler replans every service and loads its module", "[reload]") {
    auto c = cli::compare_configs(load(base), load("clusterCIDR: 10.200.0.0/16\nipvs:\n  scheduler: sh\n"
                                                   "kipvs:\n  manifests: /etc/kipvs/manifests\n"));
    CHECK(c.plan);
    CHECK(c.modules);
    CHECK_FALSE(c.reconciler);
    CHECK(c.need_restart.empty());
}

TEST_CASE("rule options, timeouts, periods and sysctls apply in place", "[reload]") {
    auto next = load("clusterCIDR: 10.200.0.0/16\n"
                     "ipvs:\n  scheduler: rr\n  tcpTimeout: 900s\n  minSyncPeriod: 2s\n  strictARP: true\n"
                     "iptables:\n  masqueradeAll: true\n"
                     "kipvs:\n  manifests: /etc/kipvs/manifests\n  gracefulTerminationTimeout: 1m\n"
                     "  sysctls:\n    net/ipv4/vs/expire_nodest_conn: \"1\"\n");
    auto c = cli::compare_configs(load(base), next);
    CHECK(c.reconciler);
    CHECK(c.ipvs_timeouts);
    CHECK(c.sync_periods);
    CHECK(c.sysctls);
    CHECK_FALSE(c.plan);
    CHECK(c.need_restart.empty());
    CHECK(cli::describe(c) == "rule and set options (full sync), IPVS timeouts, sync periods, sysctls");
}

TEST_CASE("the source and the node name need a restart", "[reload]") {
    auto next = load("clusterCIDR: 10.200.0.0/16\nipvs:\n  scheduler: rr\nhostnameOverride: other\n");
    // no manifests: the API server
    auto c = cli::compare_configs(load(base), next);
    CHECK_FALSE(c.applies_anything());
    CHECK(c.need_restart == std::vector<std::string>{"kipvs.manifests", "hostnameOverride"});
    CHECK(cli::describe(c) == "needs a restart to take effect: kipvs.manifests, hostnameOverride");
}

TEST_CASE("the listeners move in place; the health timeout follows syncPeriod alone", "[reload]") {
    auto c = cli::compare_configs(load(base), load(base + "metricsBindAddress: 127.0.0.1:20249\n"));
    CHECK(c.metrics_server);
    CHECK_FALSE(c.healthz_server);
    CHECK(c.need_restart.empty());
    CHECK(cli::describe(c) == "metrics server address");

    c = cli::compare_configs(load(base), load(base + "healthzBindAddress: \"\"\n"));
    CHECK(c.healthz_server);
    CHECK_FALSE(c.metrics_server);
    CHECK(cli::applied_config(load(base), load(base + "healthzBindAddress: \"\"\n")).healthz_bind_address.empty());

    // The same address spelt again is no change.
    c = cli::compare_configs(load(base), load(base + "healthzBindAddress: 0.0.0.0:10256\n"));
    CHECK_FALSE(c.applies_anything());

    c = cli::compare_configs(load(base), load("clusterCIDR: 10.200.0.0/16\nipvs:\n  scheduler: rr\n  syncPeriod: 10s\n"
                                              "kipvs:\n  manifests: /etc/kipvs/manifests\n"));
    CHECK(c.health_timeout);
    CHECK(c.sync_periods);
    c = cli::compare_configs(load(base), load("clusterCIDR: 10.200.0.0/16\nipvs:\n  scheduler: rr\n  minSyncPeriod: 5s\n"
                                              "kipvs:\n  manifests: /etc/kipvs/manifests\n"));
    CHECK_FALSE(c.health_timeout);  // kube-proxy's timeout is 2 x syncPeriod
    CHECK(c.sync_periods);

    // nodePortAddresses gathers the node's addresses again, which re-binds
    // the health-check node ports.
    c = cli::compare_configs(load(base), load(base + "nodePortAddresses: [10.0.0.0/8]\n"));
    CHECK(c.node_facts);
    CHECK(c.need_restart.empty());
}

TEST_CASE("a field not classified above is still reported as needing a restart", "[reload]") {
    auto c = cli::compare_configs(load(base), load(base + "oomScoreAdj: -500\n"));
    CHECK(c.need_restart == std::vector<std::string>{"other settings"});
}

TEST_CASE("after a reload the process runs with the live fields only", "[reload]") {
    auto running = load(base);
    auto next = load("clusterCIDR: 10.200.0.0/16\nipvs:\n  scheduler: sh\nhostnameOverride: other\n");
    auto applied = cli::applied_config(running, next);
    CHECK(applied.ipvs.scheduler == "sh");
    CHECK(applied.kipvs.manifests == "/etc/kipvs/manifests");  // still the source this process reads
    CHECK(applied.hostname_override.empty());
    // so a second reload of the same file reports the same restart-only fields
    CHECK(cli::compare_configs(applied, next).need_restart ==
          std::vector<std::string>{"kipvs.manifests", "hostnameOverride"});
}
