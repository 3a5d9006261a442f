#include "config/config_fields.hpp"

#include <algorithm>
#include <sstream>

#include "config/config_render.hpp"

namespace kipvs::config {
namespace {

std::vector<std::string> cidr_strings(const std::vector<model::Cidr>& cidrs) {
    std::vector<std::string> out;
    for (const auto& c : cidrs) out.push_back(c.to_string());
    return out;
}

template <typename Get>
ConfigField string_field(std::string path, bool kube_proxy, Get get) {
    return {path, kube_proxy,
            [get](Config& c, const yaml::Node& n, const FieldContext& ctx) { get(c) = read_string(ctx, n); },
            [get](const Config& c) { return yaml_quoted(get(const_cast<Config&>(c))); }};
}

template <typename Get>
ConfigField path_field(std::string path, bool kube_proxy, Get get) {
    return {path, kube_proxy,
            [get](Config& c, const yaml::Node& n, const FieldContext& ctx) { get(c) = read_path(ctx, n); },
            [get](const Config& c) { return yaml_quoted(get(const_cast<Config&>(c))); }};
}

template <typename Get>
ConfigField bool_field(std::string path, bool kube_proxy, Get get) {
    return {path, kube_proxy,
            [get](Config& c, const yaml::Node& n, const FieldContext& ctx) { get(c) = read_bool(ctx, n); },
            [get](const Config& c) { return std::string(get(const_cast<Config&>(c)) ? "true" : "false"); }};
}

template <typename Get>
ConfigField int_field(std::string path, bool kube_proxy, long min, long max, Get get) {
    return {path, kube_proxy,
            [get, min, max](Config& c, const yaml::Node& n, const FieldContext& ctx) {
                get(c) = read_int(ctx, n, min, max);
            },
            [get](const Config& c) { return std::to_string(get(const_cast<Config&>(c))); }};
}

template <typename Get>
ConfigField duration_field(std::string path, bool kube_proxy, Get get) {
    return {path, kube_proxy,
            [get](Config& c, const yaml::Node& n, const FieldContext& ctx) { get(c) = read_duration(ctx, n); },
            [get](const Config& c) { return yaml_quoted(format_duration(get(const_cast<Config&>(c)))); }};
}

template <typename Get>
ConfigField cidr_list_field(std::string path, bool kube_proxy, Get get) {
    return {path, kube_proxy,
            [get](Config& c, const yaml::Node& n, const FieldContext& ctx) {
                auto& out = get(c);
                out.clear();
                for (const auto& item : read_list(ctx, n)) out.push_back(read_cidr(ctx, item));
            },
            [get](const Config& c) { return flow_list(cidr_strings(get(const_cast<Config&>(c)))); }};
}

template <typename Get>
ConfigField string_list_field(std::string path, bool kube_proxy, Get get) {
    return {path, kube_proxy,
            [get](Config& c, const yaml::Node& n, const FieldContext& ctx) { get(c) = read_string_list(ctx, n); },
            [get](const Config& c) { return flow_list(get(const_cast<Config&>(c))); }};
}

}  // namespace

const std::vector<ConfigField>& config_fields() {
    static const std::vector<ConfigField> table = {
        string_field("mode", true, [](Config& c) -> auto& { return c.mode; }),
        path_field("clientConnection.kubeconfig", true, [](Config& c) -> auto& { return c.kubeconfig; }),
        string_field("hostnameOverride", true, [](Config& c) -> auto& { return c.hostname_override; }),
        string_field("bindAddress", true, [](Config& c) -> auto& { return c.bind_address; }),
        // clusterCIDR is one comma-separated string upstream, at most one CIDR per family.
        {"clusterCIDR", true,
         [](Config& c, const yaml::Node& n, const FieldContext& ctx) {
             c.cluster_cidrs.clear();
             std::string text = read_string(ctx, n);
             std::stringstream parts(text);
             std::string part;
             while (std::getline(parts, part, ',')) {
                 part.erase(0, part.find_first_not_of(' '));
                 part.erase(part.find_last_not_of(' ') + 1);
                 if (part.empty()) continue;
                 auto cidr = model::Cidr::parse(part);
                 if (!cidr) refuse(ctx, n, "\"" + part + "\" is not a CIDR (e.g. 10.42.0.0/16)");
                 for (const auto& other : c.cluster_cidrs)
                     if (other.address.family == cidr->address.family)
                         refuse(ctx, n, "at most one CIDR per IP family (dual-stack pair)");
                 c.cluster_cidrs.push_back(*cidr);
             }
         },
         [](const Config& c) {
             std::string joined;
             for (const auto& s : cidr_strings(c.cluster_cidrs)) joined += (joined.empty() ? "" : ",") + s;
             return yaml_quoted(joined);
         }},
        string_field("detectLocalMode", true, [](Config& c) -> auto& { return c.detect_local_mode; }),
        string_field("detectLocal.bridgeInterface", true, [](Config& c) -> auto& { return c.bridge_interface; }),
        string_field("detectLocal.interfaceNamePrefix", true,
                     [](Config& c) -> auto& { return c.interface_name_prefix; }),
        string_list_field("nodePortAddresses", true, [](Config& c) -> auto& { return c.node_port_addresses; }),
        string_field("healthzBindAddress", true, [](Config& c) -> auto& { return c.healthz_bind_address; }),
        string_field("metricsBindAddress", true, [](Config& c) -> auto& { return c.metrics_bind_address; }),
        bool_field("bindAddressHardFail", true, [](Config& c) -> auto& { return c.bind_address_hard_fail; }),
        duration_field("configSyncPeriod", true, [](Config& c) -> auto& { return c.config_sync_period; }),
        int_field("oomScoreAdj", true, -1000, 1000, [](Config& c) -> auto& { return c.oom_score_adj; }),
        bool_field("iptables.masqueradeAll", true, [](Config& c) -> auto& { return c.iptables.masquerade_all; }),
        int_field("iptables.masqueradeBit", true, 0, 31, [](Config& c) -> auto& { return c.iptables.masquerade_bit; }),
        string_field("ipvs.scheduler", true, [](Config& c) -> auto& { return c.ipvs.scheduler; }),
        duration_field("ipvs.syncPeriod", true, [](Config& c) -> auto& { return c.ipvs.sync_period; }),
        duration_field("ipvs.minSyncPeriod", true, [](Config& c) -> auto& { return c.ipvs.min_sync_period; }),
        cidr_list_field("ipvs.excludeCIDRs", true, [](Config& c) -> auto& { return c.ipvs.exclude_cidrs; }),
        bool_field("ipvs.strictARP", true, [](Config& c) -> auto& { return c.ipvs.strict_arp; }),
        duration_field("ipvs.tcpTimeout", true, [](Config& c) -> auto& { return c.ipvs.tcp_timeout; }),
        duration_field("ipvs.tcpFinTimeout", true, [](Config& c) -> auto& { return c.ipvs.tcp_fin_timeout; }),
        duration_field("ipvs.udpTimeout", true, [](Config& c) -> auto& { return c.ipvs.udp_timeout; }),
        int_field("conntrack.maxPerCore", true, 0, 1 << 30, [](Config& c) -> auto& { return c.conntrack.max_per_core; }),
        int_field("conntrack.min", true, 0, 1 << 30, [](Config& c) -> auto& { return c.conntrack.min; }),
        duration_field("conntrack.tcpEstablishedTimeout", true,
                       [](Config& c) -> auto& { return c.conntrack.tcp_established_timeout; }),
        duration_field("conntrack.tcpCloseWaitTimeout", true,
                       [](Config& c) -> auto& { return c.conntrack.tcp_close_wait_timeout; }),
        bool_field("conntrack.tcpBeLiberal", true, [](Config& c) -> auto& { return c.conntrack.tcp_be_liberal; }),
        duration_field("conntrack.udpTimeout", true, [](Config& c) -> auto& { return c.conntrack.udp_timeout; }),
        duration_field("conntrack.udpStreamTimeout", true,
                       [](Config& c) -> auto& { return c.conntrack.udp_stream_timeout; }),
        path_field("kipvs.manifests", false, [](Config& c) -> auto& { return c.kipvs.manifests; }),
        bool_field("kipvs.modules.load", false, [](Config& c) -> auto& { return c.kipvs.modules.load; }),
        string_list_field("kipvs.modules.names", false, [](Config& c) -> auto& { return c.kipvs.modules.names; }),
        path_field("kipvs.modules.directory", false, [](Config& c) -> auto& { return c.kipvs.modules.directory; }),
        duration_field("kipvs.gracefulTerminationTimeout", false,
                       [](Config& c) -> auto& { return c.kipvs.graceful_termination_timeout; }),
        int_field("kipvs.ipsetMaxElements", false, 1, 1 << 30,
                  [](Config& c) -> auto& { return c.kipvs.ipset_max_elements; }),
        string_field("kipvs.iptablesBackend", false, [](Config& c) -> auto& { return c.kipvs.iptables_backend; }),
        bool_field("kipvs.allowPlainHTTP", false, [](Config& c) -> auto& { return c.kipvs.allow_plain_http; }),
        string_field("kipvs.context", false, [](Config& c) -> auto& { return c.kipvs.context; }),
        {"kipvs.sysctls", false,
         [](Config& c, const yaml::Node& n, const FieldContext& ctx) {
             c.kipvs.sysctls.clear();
             if (n.is_null()) return;
             if (n.kind != yaml::Node::Kind::mapping)
                 refuse(ctx, n, "expected a mapping of sysctl path to value, found " + std::string(n.kind_name()));
             for (const auto& [key, value] : n.entries) {
                 FieldContext item{ctx.source, ctx.base_dir, ctx.path + "." + key.value};
                 std::string name = key.value;
                 std::replace(name.begin(), name.end(), '.', '/');
                 if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos)
                     refuse(item, key, "not a sysctl name such as net/ipv4/vs/conn_reuse_mode");
                 std::string v = read_string(item, value);
                 if (v.empty()) refuse(item, value, "empty value");
                 c.kipvs.sysctls[name] = v;
             }
         },
         [](const Config& c) {
             std::string out = "{";
             bool first = true;
             for (const auto& [k, v] : c.kipvs.sysctls) {
                 out += (first ? "" : ", ") + yaml_quoted(k) + ": " + yaml_quoted(v);
                 first = false;
             }
             return out + "}";
         }},
    };
    return table;
}

const std::vector<std::string>& ignored_kube_proxy_fields() {
    static const std::vector<std::string> names = {
        "featureGates", "clientConnection.acceptContentTypes", "clientConnection.contentType",
        "clientConnection.qps", "clientConnection.burst", "logging", "enableProfiling",
        "showHiddenMetricsForVersion", "iptables.localhostNodePorts", "iptables.syncPeriod",
        "iptables.minSyncPeriod", "nftables", "winkernel", "portRange", "udpIdleTimeout",
        "windowsRunAsService", "healthzBindAddresses", "metricsBindAddresses",
    };
    return names;
}

std::vector<std::string> known_paths(DocumentKind kind) {
    std::vector<std::string> out = {"apiVersion", "kind"};
    for (const auto& f : config_fields())
        if (kind == DocumentKind::kipvs || f.kube_proxy) out.push_back(f.path);
    for (const auto& name : ignored_kube_proxy_fields()) out.push_back(name);
    return out;
}

}  // namespace kipvs::config
