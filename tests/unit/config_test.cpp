#include <catch2/catch.hpp>

#include "config/config_load.hpp"
#include "error.hpp"
#include "test_support.hpp"

using namespace kipvs;
using namespace kipvs::config;
using namespace std::chrono_literals;

namespace {

const std::string header = "apiVersion: kipvs.io/v1alpha1\nkind: KipvsConfiguration\n";
const std::string kube_proxy_header = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

std::string refusal(const std::string& text) {
    try {
        load_config_text(text, "/etc/kipvs.yaml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(accepted)";
}

// Everything but where it came from.
bool same_settings(Config a, Config b) {
    return render_config(a) == render_config(b);
}

}  // namespace

TEST_CASE("the annotated default file holds exactly the built-in defaults", "[config]") {
    auto loaded = load_config_file(test::source_dir() + "/configs/kipvs.yaml");
    CHECK(loaded.warnings.empty());
    CHECK(same_settings(loaded.config, default_config()));
}

TEST_CASE("defaults follow kube-proxy's IPVS mode", "[config]") {
    Config c = default_config();
    CHECK(c.ipvs.sync_period == 30s);
    CHECK(c.ipvs.min_sync_period == 1s);
    CHECK(c.ipvs.scheduler == "rr");
    CHECK(c.iptables.masquerade_bit == 14);
    CHECK(c.healthz_bind_address == "0.0.0.0:10256");
    CHECK(c.metrics_bind_address == "127.0.0.1:10249");
    CHECK(c.kipvs.modules.load);
    CHECK(c.kipvs.ipset_max_elements == 65536);
    CHECK(default_module_names() == std::vector<std::string>{"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack"});
}

TEST_CASE("a misspelt key names file:line:column, the key and the nearest valid key", "[config]") {
    CHECK(refusal(header + "ipvs:\n  shceduler: sh\n") ==
          "/etc/kipvs.yaml:4:3: unknown field \"ipvs.shceduler\" (did you mean \"ipvs.scheduler\"?)");
    CHECK(refusal(header + "kipvs:\n  modules:\n    laod: false\n") ==
          "/etc/kipvs.yaml:5:5: unknown field \"kipvs.modules.laod\" (did you mean \"kipvs.modules.load\"?)");
    CHECK(refusal(header + "clusterCidr: 10.42.0.0/16\n") ==
          "/etc/kipvs.yaml:3:1: unknown field \"clusterCidr\" (did you mean \"clusterCIDR\"?)");
    CHECK(refusal(header + "completelyUnrelated: 1\n") == "/etc/kipvs.yaml:3:1: unknown field \"completelyUnrelated\"");
}

TEST_CASE("wrong types and malformed values are refused with the field path", "[config]") {
    struct Row {
        std::string body, want;
    };
    const Row rows[] = {
        {"ipvs:\n  syncPeriod: 7200\n",
         "/etc/kipvs.yaml:4:15: ipvs.syncPeriod: missing unit in duration \"7200\" (did you mean \"7200s\"?)"},
        {"ipvs:\n  strictARP: yes please\n", "/etc/kipvs.yaml:4:14: ipvs.strictARP: expected true or false, found \"yes please\""},
        {"ipvs:\n  excludeCIDRs: [10.0.0.0/33]\n",
         "/etc/kipvs.yaml:4:18: ipvs.excludeCIDRs: \"10.0.0.0/33\" is not a CIDR (e.g. 10.42.0.0/16)"},
        {"ipvs:\n  excludeCIDRs: 10.0.0.0/8\n", "/etc/kipvs.yaml:4:17: ipvs.excludeCIDRs: expected a list, found a scalar"},
        {"ipvs:\n  scheduler: fastest\n",
         "/etc/kipvs.yaml:4:3: ipvs.scheduler: unknown scheduler \"fastest\" (known: rr wrr lc wlc lblc lblcr dh sh sed "
         "nq fo ovf mh twos)"},
        {"healthzBindAddress: 0.0.0.0\n",
         "/etc/kipvs.yaml:3:1: healthzBindAddress: \"0.0.0.0\" is not IP:port with a port in 1-65535"},
        {"iptables:\n  masqueradeBit: 32\n", "/etc/kipvs.yaml:4:18: iptables.masqueradeBit: 32 is out of range [0, 31]"},
        {"ipvs: [1]\n", "/etc/kipvs.yaml:3:7: ipvs: expected a mapping, found a list"},
        {"nodePortAddresses: [primary, 10.0.0.0/8]\n",
         "/etc/kipvs.yaml:3:1: nodePortAddresses: \"primary\" cannot be combined with CIDRs"},
        {"nodePortAddresses: [eth0]\n", "/etc/kipvs.yaml:3:1: nodePortAddresses: \"eth0\" is neither a CIDR nor \"primary\""},
        {"ipvs:\n  minSyncPeriod: 1m\n", "/etc/kipvs.yaml:4:3: ipvs.minSyncPeriod: must not exceed ipvs.syncPeriod (30s)"},
        {"clusterCIDR: 10.42.0.0/16,10.43.0.0/16\n",
         "/etc/kipvs.yaml:3:14: clusterCIDR: at most one CIDR per IP family (dual-stack pair)"},
        {"mode: iptables\n",
         "/etc/kipvs.yaml:3:1: mode: \"iptables\" is not supported: kipvs implements kube-proxy's IPVS mode only (use "
         "\"ipvs\")"},
        {"kipvs:\n  sysctls: {net/ipv4/vs/conntrack: ''}\n", "/etc/kipvs.yaml:4:36: kipvs.sysctls.net/ipv4/vs/conntrack: empty value"},
        {"detectLocalMode: BridgeInterface\n",
         "/etc/kipvs.yaml:3:1: detectLocal.bridgeInterface: required when detectLocalMode is BridgeInterface"},
    };
    for (const auto& row : rows) {
        INFO(row.body);
        CHECK(refusal(header + row.body) == row.want);
    }
}

TEST_CASE("documents must say what they are", "[config]") {
    CHECK(refusal("") == "/etc/kipvs.yaml: empty configuration (expected kind: KipvsConfiguration)");
    CHECK(refusal("ipvs: {}\n") ==
          "/etc/kipvs.yaml:1:1: (document): missing kind (KipvsConfiguration or KubeProxyConfiguration)");
    CHECK(refusal("kind: KipvsConfiguration\napiVersion: kipvs.io/v2\n") ==
          "/etc/kipvs.yaml:2:13: apiVersion: \"kipvs.io/v2\" is not kipvs.io/v1alpha1 (for kind KipvsConfiguration)");
    CHECK(refusal("kind: Pod\n").find("\"Pod\" is not KipvsConfiguration or KubeProxyConfiguration") != std::string::npos);
    CHECK(refusal(header + "---\n" + header) == "/etc/kipvs.yaml:4:1: expected a single document");
}

TEST_CASE("an upstream KubeProxyConfiguration in IPVS mode is accepted", "[config]") {
    std::string text = kube_proxy_header +
                       "mode: ipvs\n"
                       "clientConnection:\n  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf\n  qps: 5\n"
                       "clusterCIDR: 10.244.0.0/16,fd00:10:244::/56\n"
                       "featureGates: {}\n"
                       "ipvs:\n  scheduler: sh\n  syncPeriod: 1m0s\n  strictARP: true\n  excludeCIDRs: [10.103.97.2/32]\n"
                       "iptables:\n  masqueradeAll: false\n  localhostNodePorts: true\n"
                       "logging:\n  verbosity: 2\n";
    auto loaded = load_config_text(text, "/etc/kube-proxy/config.conf");
    const Config& c = loaded.config;
    CHECK(c.kind == DocumentKind::kube_proxy);
    CHECK(c.kubeconfig == "/var/lib/kube-proxy/kubeconfig.conf");
    CHECK(c.ipvs.scheduler == "sh");
    CHECK(c.ipvs.sync_period == 1min);
    CHECK(c.ipvs.min_sync_period == 0s);  // not defaulted in v1alpha1
    CHECK(c.ipvs.strict_arp);
    REQUIRE(c.cluster_cidrs.size() == 2);
    CHECK(c.cluster_cidrs[1].to_string() == "fd00:10:244::/56");
    REQUIRE(loaded.warnings.size() == 4);
    CHECK(loaded.warnings[0] ==
          "/etc/kube-proxy/config.conf:6:3: clientConnection.qps is a kube-proxy setting kipvs does not use; ignored");
    CHECK(loaded.warnings[3].find("logging is a kube-proxy setting") != std::string::npos);
}

TEST_CASE("a KubeProxyConfiguration with mode empty is IPVS, with another mode an error", "[config]") {
    CHECK(load_config_text(kube_proxy_header, "kp.yaml").config.mode == "ipvs");
    CHECK(refusal(kube_proxy_header + "mode: nftables\n").find(":3:1: mode: \"nftables\" is not supported") !=
          std::string::npos);
    CHECK(refusal(kube_proxy_header + "kipvs:\n  manifests: /x\n") ==
          "/etc/kipvs.yaml:3:1: unknown field \"kipvs\"; kipvs's own settings need kind: KipvsConfiguration");
}

TEST_CASE("relative paths are taken from the configuration's directory", "[config]") {
    auto c = load_config_text(header + "kipvs:\n  manifests: demo/manifests\n  modules:\n    directory: /lib/modules/x\n"
                                       "clientConnection:\n  kubeconfig: kc\n",
                              "/etc/kipvs/kipvs.yaml")
                 .config;
    CHECK(c.kipvs.manifests == "/etc/kipvs/demo/manifests");
    CHECK(c.kipvs.modules.directory == "/lib/modules/x");
    CHECK(c.kubeconfig == "/etc/kipvs/kc");
}

TEST_CASE("the rendered effective configuration loads back to the same settings", "[config]") {
    auto c = load_config_text(header +
                                  "ipvs:\n  scheduler: mh\n  excludeCIDRs: [10.0.0.0/8, 'fd00::/8']\n  tcpTimeout: 1h30m\n"
                                  "nodePortAddresses: [primary]\nclusterCIDR: 10.42.0.0/16\n"
                                  "kipvs:\n  sysctls:\n    net.ipv4.vs.conn_reuse_mode: 1\n  modules:\n    names: [ip_vs, dummy]\n",
                              "/x/kipvs.yaml")
                 .config;
    CHECK(c.kipvs.sysctls.at("net/ipv4/vs/conn_reuse_mode") == "1");
    std::string rendered = render_config(c);
    auto back = load_config_text(rendered, "/rendered.yaml");
    CHECK(same_settings(back.config, c));
    CHECK(render_config(back.config) == rendered);
    CHECK(rendered.find("  tcpTimeout: \"1h30m0s\"\n") != std::string::npos);
}

TEST_CASE("kube-proxy's command-line flags override the file", "[config]") {
    Config c = default_config();
    auto rest = apply_kube_proxy_flags(c, {"--ipvs-scheduler=sh", "--ipvs-strict-arp", "--masquerade-all=false",
                                           "--ipvs-exclude-cidrs", "10.0.0.0/8,192.168.0.0/16", "--once",
                                           "--ipvs-sync-period=45s", "--proxy-mode", "ipvs", "positional"});
    CHECK(c.ipvs.scheduler == "sh");
    CHECK(c.ipvs.strict_arp);
    CHECK_FALSE(c.iptables.masquerade_all);
    CHECK(c.ipvs.exclude_cidrs.size() == 2);
    CHECK(c.ipvs.sync_period == 45s);
    CHECK(rest == std::vector<std::string>{"--once", "positional"});

    auto fails = [](std::vector<std::string> args) {
        Config cfg = default_config();
        try {
            apply_kube_proxy_flags(cfg, args);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    CHECK(fails({"--ipvs-sync-period=7200"}) ==
          "command line --ipvs-sync-period: ipvs.syncPeriod: missing unit in duration \"7200\" (did you mean \"7200s\"?)");
    CHECK(fails({"--proxy-mode=iptables"}).find("mode: \"iptables\" is not supported") != std::string::npos);
    CHECK(fails({"--ipvs-scheduler"}) == "command line: --ipvs-scheduler needs a value");
    CHECK(fails({"--ipvs-scheduler=nope"}).find("unknown scheduler \"nope\"") != std::string::npos);
}
