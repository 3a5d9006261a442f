#pragma once
// The validated configuration of kipvs: /etc/kipvs.yaml (a KipvsConfiguration)
// or an upstream KubeProxyConfiguration, plus kube-proxy's command-line flags.
// Field names and defaults are kube-proxy's wherever the two overlap
// (PARITY.md §5); kipvs's own settings live under `kipvs:`.
#include <map>
#include <string>
#include <vector>

#include "config/duration.hpp"
#include "model/ip.hpp"

namespace kipvs::config {

using namespace std::chrono_literals;

enum class DocumentKind { kipvs, kube_proxy };

struct Config {
    // Where the settings came from, for messages and `kipvs check`.
    std::string source;  // the file path, or "(built-in defaults)"
    DocumentKind kind = DocumentKind::kipvs;

    std::string mode = "ipvs";
    std::string kubeconfig;  // clientConnection.kubeconfig
    std::string hostname_override;
    std::string bind_address = "0.0.0.0";
    std::vector<model::Cidr> cluster_cidrs;  // clusterCIDR, comma-separated, one per family
    std::string detect_local_mode = "ClusterCIDR";
    std::string bridge_interface;       // detectLocal.bridgeInterface
    std::string interface_name_prefix;  // detectLocal.interfaceNamePrefix
    std::vector<std::string> node_port_addresses;  // CIDRs, or ["primary"]
    std::string healthz_bind_address = "0.0.0.0:10256";
    std::string metrics_bind_address = "127.0.0.1:10249";
    bool bind_address_hard_fail = false;
    Duration config_sync_period = 15min;
    int oom_score_adj = -999;

    struct Iptables {
        bool masquerade_all = false;
        int masquerade_bit = 14;
    } iptables;

    struct Ipvs {
        std::string scheduler = "rr";
        Duration sync_period = 30s;
        Duration min_sync_period = 1s;
        std::vector<model::Cidr> exclude_cidrs;
        bool strict_arp = false;
        Duration tcp_timeout = 0s;
        Duration tcp_fin_timeout = 0s;
        Duration udp_timeout = 0s;
    } ipvs;

    struct Conntrack {
        int max_per_core = 32768;
        int min = 131072;
        Duration tcp_established_timeout = 24h;
        Duration tcp_close_wait_timeout = 1h;
        bool tcp_be_liberal = false;
        Duration udp_timeout = 0s;
        Duration udp_stream_timeout = 0s;
    } conntrack;

    struct Kipvs {
        std::string manifests;  // directory of static manifests; set: no API server
        struct Modules {
            bool load = true;
            std::vector<std::string> names;  // empty: the default set
            std::string directory;           // empty: /lib/modules/$(uname -r)
        } modules;
        Duration graceful_termination_timeout = 15min;
        int ipset_max_elements = 65536;
        std::string iptables_backend = "auto";  // auto | legacy | nft
        bool allow_plain_http = false;          // permit an http:// API server
        std::string context;                    // kubeconfig context; empty: current-context
        std::map<std::string, std::string> sysctls;  // overrides, path → value
    } kipvs;
};

// The modules loaded when kipvs.modules.names is empty (the seeds' ipvs.modules).
std::vector<std::string> default_module_names();

// Schedulers the kernel ships (ip_vs_<name>).
bool is_known_scheduler(std::string_view name);

}  // namespace kipvs::config
