#include "config/config_load.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "config/suggest.hpp"
#include "config/yaml_tree.hpp"
#include "error.hpp"

namespace kipvs::config {

namespace {

constexpr std::string_view kipvs_api_version = "kipvs.io/v1alpha1";
constexpr std::string_view kipvs_kind = "KipvsConfiguration";
constexpr std::string_view kube_proxy_api_version = "kubeproxy.config.k8s.io/v1alpha1";
constexpr std::string_view kube_proxy_kind = "KubeProxyConfiguration";

struct Context {
    std::string_view source;
    std::string base_dir;  // relative paths are taken from here
    std::string path;      // the field being read, e.g. "ipvs.syncPeriod"
};

[[noreturn]] void refuse(const Context& ctx, const yaml::Node& node, const std::string& problem) {
    throw ConfigError(yaml::where(ctx.source, node.mark) + ": " + ctx.path + ": " + problem);
}

const yaml::Node& scalar(const Context& ctx, const yaml::Node& node, std::string_view expected) {
    if (node.kind != yaml::Node::Kind::scalar)
        refuse(ctx, node, "expected " + std::string(expected) + ", found " + std::string(node.kind_name()));
    return node;
}

std::string read_string(const Context& ctx, const yaml::Node& node) {
    const auto& s = scalar(ctx, node, "a string");
    return s.is_null() ? std::string() : s.value;
}

bool read_bool(const Context& ctx, const yaml::Node& node) {
    const auto& s = scalar(ctx, node, "true or false");
    if (s.plain && (s.value == "true" || s.value == "True" || s.value == "TRUE")) return true;
    if (s.plain && (s.value == "false" || s.value == "False" || s.value == "FALSE")) return false;
    refuse(ctx, node, "expected true or false, found \"" + s.value + "\"");
}

int read_int(const Context& ctx, const yaml::Node& node, long min, long max) {
    const auto& s = scalar(ctx, node, "an integer");
    long value = 0;
    auto [end, ec] = std::from_chars(s.value.data(), s.value.data() + s.value.size(), value);
    if (!s.plain || s.value.empty() || ec != std::errc() || end != s.value.data() + s.value.size())
        refuse(ctx, node, "expected an integer, found \"" + s.value + "\"");
    if (value < min || value > max)
        refuse(ctx, node, std::to_string(value) + " is out of range [" + std::to_string(min) + ", " +
                              std::to_string(max) + "]");
    return static_cast<int>(value);
}

Duration read_duration(const Context& ctx, const yaml::Node& node) {
    const auto& s = scalar(ctx, node, "a duration such as \"30s\"");
    auto parsed = parse_duration(s.value);
    if (!parsed.value) refuse(ctx, node, parsed.problem);
    if (*parsed.value < Duration(0)) refuse(ctx, node, "must not be negative");
    return *parsed.value;
}

model::Cidr read_cidr(const Context& ctx, const yaml::Node& node) {
    auto text = read_string(ctx, node);
    auto cidr = model::Cidr::parse(text);
    if (!cidr) refuse(ctx, node, "\"" + text + "\" is not a CIDR (e.g. 10.42.0.0/16)");
    return *cidr;
}

std::vector<yaml::Node> read_list(const Context& ctx, const yaml::Node& node) {
    if (node.is_null()) return {};
    if (node.kind != yaml::Node::Kind::sequence)
        refuse(ctx, node, "expected a list, found " + std::string(node.kind_name()));
    return node.items;
}

std::vector<std::string> read_string_list(const Context& ctx, const yaml::Node& node) {
    std::vector<std::string> out;
    for (const auto& item : read_list(ctx, node)) out.push_back(read_string(ctx, item));
    return out;
}

std::string read_path(const Context& ctx, const yaml::Node& node) {
    std::string path = read_string(ctx, node);
    if (!path.empty() && path.front() != '/' && !ctx.base_dir.empty()) path = ctx.base_dir + "/" + path;
    return path;
}

// Rendering, as YAML flow values that load back to the same value.
std::string yaml_quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + "\"";
}

std::string flow_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + yaml_quoted(items[i]);
    return out + "]";
}

std::vector<std::string> cidr_strings(const std::vector<model::Cidr>& cidrs) {
    std::vector<std::string> out;
    for (const auto& c : cidrs) out.push_back(c.to_string());
    return out;
}

using Reader = std::function<void(Config&, const yaml::Node&, const Context&)>;
using Renderer = std::function<std::string(const Config&)>;

struct Field {
    std::string path;
    bool kube_proxy;  // also a KubeProxyConfiguration field at this path
    Reader read;
    Renderer render;
};

template <typename Get>
Field string_field(std::string path, bool kube_proxy, Get get) {
    return {path, kube_proxy, [get](Config& c, const yaml::Node& n, const Context& ctx) { get(c) = read_string(ctx, n); },
            [get](const Config& c) { return yaml_quoted(get(const_cast<Config&>(c))); }};
}

template <typename Get>
Field path_field(std::string path, bool kube_proxy, Get get) {
    return {path, kube_proxy, [get](Config& c, const yaml::Node& n, const Context& ctx) { get(c) = read_path(ctx, n); },
            [get](const Config& c) { return yaml_quoted(get(const_cast<Config&>(c))); }};
}

template <typename Get>
Field bool_field(std::string path, bool kube_proxy, Get get) {
    return {path, kube_proxy, [get](Config& c, const yaml::Node& n, const Context& ctx) { get(c) = read_bool(ctx, n); },
            [get](const Config& c) { return std::string(get(const_cast<Config&>(c)) ? "true" : "false"); }};
}

template <typename Get>
Field int_field(std::string path, bool kube_proxy, long min, long max, Get get) {
    return {path, kube_proxy,
            [get, min, max](Config& c, const yaml::Node& n, const Context& ctx) { get(c) = read_int(ctx, n, min, max); },
            [get](const Config& c) { return std::to_string(get(const_cast<Config&>(c))); }};
}

template <typename Get>
Field duration_field(std::string path, bool kube_proxy, Get get) {
    return {path, kube_proxy,
            [get](Config& c, const yaml::Node& n, const Context& ctx) { get(c) = read_duration(ctx, n); },
            [get](const Config& c) { return yaml_quoted(format_duration(get(const_cast<Config&>(c)))); }};
}

template <typename Get>
Field cidr_list_field(std::string path, bool kube_proxy, Get get) {
    return {path, kube_proxy,
            [get](Config& c, const yaml::Node& n, const Context& ctx) {
                auto& out = get(c);
                out.clear();
                for (const auto& item : read_list(ctx, n)) out.push_back(read_cidr(ctx, item));
            },
            [get](const Config& c) { return flow_list(cidr_strings(get(const_cast<Config&>(c)))); }};
}

template <typename Get>
Field string_list_field(std::string path, bool kube_proxy, Get get) {
    return {path, kube_proxy,
            [get](Config& c, const yaml::Node& n, const Context& ctx) { get(c) = read_string_list(ctx, n); },
            [get](const Config& c) { return flow_list(get(const_cast<Config&>(c))); }};
}

const std::vector<Field>& fields() {
    static const std::vector<Field> table = {
        string_field("mode", true, [](Config& c) -> auto& { return c.mode; }),
        path_field("clientConnection.kubeconfig", true, [](Config& c) -> auto& { return c.kubeconfig; }),
        string_field("hostnameOverride", true, [](Config& c) -> auto& { return c.hostname_override; }),
        string_field("bindAddress", true, [](Config& c) -> auto& { return c.bind_address; }),
        // clusterCIDR is one comma-separated string upstream, at most one CIDR per family.
        {"clusterCIDR", true,
         [](Config& c, const yaml::Node& n, const Context& ctx) {
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
         [](Config& c, const yaml::Node& n, const Context& ctx) {
             c.kipvs.sysctls.clear();
             if (n.is_null()) return;
             if (n.kind != yaml::Node::Kind::mapping)
                 refuse(ctx, n, "expected a mapping of sysctl path to value, found " + std::string(n.kind_name()));
             for (const auto& [key, value] : n.entries) {
                 Context item{ctx.source, ctx.base_dir, ctx.path + "." + key.value};
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

// KubeProxyConfiguration fields kipvs knows but does not honour: named in a
// warning, never an error, so an upstream file loads unchanged.
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
    for (const auto& f : fields())
        if (kind == DocumentKind::kipvs || f.kube_proxy) out.push_back(f.path);
    for (const auto& name : ignored_kube_proxy_fields()) out.push_back(name);
    return out;
}

bool is_section(const std::string& path, DocumentKind kind) {
    for (const auto& known : known_paths(kind))
        if (known.size() > path.size() && known.compare(0, path.size(), path) == 0 && known[path.size()] == '.')
            return true;
    return false;
}

// Where each field was written, for cross-field errors.
using Marks = std::map<std::string, yaml::Mark>;

void walk(Config& config, const yaml::Node& mapping, const std::string& prefix, const Context& base,
          DocumentKind kind, Marks& marks, std::vector<std::string>& warnings) {
    for (const auto& [key, value] : mapping.entries) {
        std::string path = prefix.empty() ? key.value : prefix + "." + key.value;
        Context ctx{base.source, base.base_dir, path};
        marks[path] = key.mark;
        if (prefix.empty() && (key.value == "apiVersion" || key.value == "kind")) continue;
        const auto& ignored = ignored_kube_proxy_fields();
        if (std::find(ignored.begin(), ignored.end(), path) != ignored.end()) {
            warnings.push_back(yaml::where(base.source, key.mark) + ": " + path +
                               " is a kube-proxy setting kipvs does not use; ignored");
            continue;
        }
        auto field = std::find_if(fields().begin(), fields().end(), [&](const Field& f) {
            return f.path == path && (kind == DocumentKind::kipvs || f.kube_proxy);
        });
        if (field != fields().end()) {
            field->read(config, value, ctx);
            continue;
        }
        if (is_section(path, kind)) {
            if (value.is_null()) continue;
            if (value.kind != yaml::Node::Kind::mapping)
                refuse(ctx, value, "expected a mapping, found " + std::string(value.kind_name()));
            walk(config, value, path, base, kind, marks, warnings);
            continue;
        }
        std::string message = yaml::where(base.source, key.mark) + ": unknown field \"" + path + "\"";
        if (kind == DocumentKind::kube_proxy && path.rfind("kipvs", 0) == 0) {
            message += "; kipvs's own settings need kind: KipvsConfiguration";
        } else if (std::string suggestion = nearest(path, known_paths(kind)); !suggestion.empty()) {
            message += " (did you mean \"" + suggestion + "\"?)";
        }
        throw ConfigError(message);
    }
}

yaml::Node mark_node(const Marks& marks, const std::string& path) {
    yaml::Node n;
    auto it = marks.find(path);
    if (it != marks.end()) n.mark = it->second;
    return n;
}

void validate(const Config& c, const Marks& marks, std::string_view source) {
    // A problem is pinned to the field's line, or when the field was left
    // out, to the line of the field that made it necessary.
    auto fail = [&](const std::string& path, const std::string& problem, const std::string& cause = "") {
        yaml::Node at = mark_node(marks, path);
        if (at.mark.line == 0 && !cause.empty()) at = mark_node(marks, cause);
        refuse(Context{source, "", path}, at, problem);
    };
    if (!c.mode.empty() && c.mode != "ipvs")
        fail("mode", "\"" + c.mode + "\" is not supported: kipvs implements kube-proxy's IPVS mode only (use \"ipvs\")");
    if (!is_known_scheduler(c.ipvs.scheduler))
        fail("ipvs.scheduler", "unknown scheduler \"" + c.ipvs.scheduler +
                                   "\" (known: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos)");
    if (c.ipvs.sync_period <= Duration(0)) fail("ipvs.syncPeriod", "must be greater than 0");
    if (c.ipvs.min_sync_period > c.ipvs.sync_period)
        fail("ipvs.minSyncPeriod", "must not exceed ipvs.syncPeriod (" + format_duration(c.ipvs.sync_period) + ")",
             "ipvs.syncPeriod");
    if (c.config_sync_period <= Duration(0)) fail("configSyncPeriod", "must be greater than 0");
    if (!c.bind_address.empty() && !model::IpAddress::parse(c.bind_address))
        fail("bindAddress", "\"" + c.bind_address + "\" is not an IP address");
    for (const auto* path : {"healthzBindAddress", "metricsBindAddress"}) {
        const std::string& value = std::string_view(path) == "healthzBindAddress" ? c.healthz_bind_address
                                                                                  : c.metrics_bind_address;
        if (value.empty()) continue;  // disabled
        auto hp = model::HostPort::parse(value);
        if (!hp || hp->port == 0) fail(path, "\"" + value + "\" is not IP:port with a port in 1-65535");
    }
    bool primary = false;
    for (const auto& a : c.node_port_addresses) {
        if (a == "primary") {
            primary = true;
        } else if (!model::Cidr::parse(a)) {
            fail("nodePortAddresses", "\"" + a + "\" is neither a CIDR nor \"primary\"");
        }
    }
    if (primary && c.node_port_addresses.size() > 1)
        fail("nodePortAddresses", "\"primary\" cannot be combined with CIDRs");
    static const std::set<std::string> modes = {"ClusterCIDR", "NodeCIDR", "BridgeInterface", "InterfaceNamePrefix"};
    if (!c.detect_local_mode.empty() && !modes.count(c.detect_local_mode))
        fail("detectLocalMode", "\"" + c.detect_local_mode +
                                    "\" is not one of ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix");
    if (c.detect_local_mode == "BridgeInterface" && c.bridge_interface.empty())
        fail("detectLocal.bridgeInterface", "required when detectLocalMode is BridgeInterface", "detectLocalMode");
    if (c.detect_local_mode == "InterfaceNamePrefix" && c.interface_name_prefix.empty())
        fail("detectLocal.interfaceNamePrefix", "required when detectLocalMode is InterfaceNamePrefix",
             "detectLocalMode");
    static const std::set<std::string> backends = {"auto", "legacy", "nft"};
    if (!backends.count(c.kipvs.iptables_backend))
        fail("kipvs.iptablesBackend", "\"" + c.kipvs.iptables_backend + "\" is not one of auto, legacy, nft");
    for (const auto& name : c.kipvs.modules.names)
        if (name.empty() || name.find('/') != std::string::npos)
            fail("kipvs.modules.names", "\"" + name + "\" is not a module name");
}

std::string directory_of(std::string_view path) {
    auto slash = path.rfind('/');
    if (slash == std::string_view::npos) return ".";
    if (slash == 0) return "/";
    return std::string(path.substr(0, slash));
}

}  // namespace

std::vector<std::string> default_module_names() {
    return {"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack"};
}

bool is_known_scheduler(std::string_view name) {
    static const std::set<std::string_view> known = {"rr", "wrr", "lc",  "wlc", "lblc", "lblcr", "dh",
                                                     "sh", "sed", "nq", "fo", "ovf", "mh",  "twos"};
    return known.count(name) > 0;
}

Config default_config() {
    Config c;
    c.source = "(built-in defaults)";
    return c;
}

Loaded load_config_text(std::string_view text, std::string_view source) {
    auto docs = yaml::parse_documents(text, source);
    if (docs.empty() || docs.front().is_null())
        throw ConfigError(std::string(source) + ": empty configuration (expected kind: KipvsConfiguration)");
    if (docs.size() > 1) throw ConfigError(yaml::where(source, docs[1].mark) + ": expected a single document");
    const yaml::Node& root = docs.front();
    Context top{source, directory_of(source), "(document)"};
    if (root.kind != yaml::Node::Kind::mapping) refuse(top, root, "expected a mapping");

    const yaml::Node* kind_node = root.find("kind");
    const yaml::Node* version_node = root.find("apiVersion");
    if (!kind_node) refuse(top, root, "missing kind (KipvsConfiguration or KubeProxyConfiguration)");
    Context kind_ctx{source, "", "kind"};
    std::string kind_text = read_string(kind_ctx, *kind_node);
    Loaded loaded;
    loaded.config.source = std::string(source);
    std::string_view expected_version;
    if (kind_text == kipvs_kind) {
        loaded.config.kind = DocumentKind::kipvs;
        expected_version = kipvs_api_version;
    } else if (kind_text == kube_proxy_kind) {
        loaded.config.kind = DocumentKind::kube_proxy;
        expected_version = kube_proxy_api_version;
        // v1alpha1 does not default minSyncPeriod: a KubeProxyConfiguration
        // without it syncs on every change, and kipvs keeps that behaviour.
        loaded.config.ipvs.min_sync_period = Duration(0);
    } else {
        refuse(kind_ctx, *kind_node,
               "\"" + kind_text + "\" is not KipvsConfiguration or KubeProxyConfiguration");
    }
    Context version_ctx{source, "", "apiVersion"};
    if (!version_node) refuse(version_ctx, root, "missing apiVersion (" + std::string(expected_version) + ")");
    std::string version = read_string(version_ctx, *version_node);
    if (version != expected_version)
        refuse(version_ctx, *version_node,
               "\"" + version + "\" is not " + std::string(expected_version) + " (for kind " + kind_text + ")");

    Marks marks;
    walk(loaded.config, root, "", top, loaded.config.kind, marks, loaded.warnings);
    if (loaded.config.mode.empty()) loaded.config.mode = "ipvs";
    validate(loaded.config, marks, source);
    return loaded;
}

Loaded load_config_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot read configuration: " + std::strerror(errno));
    std::stringstream buffer;
    buffer << in.rdbuf();
    return load_config_text(buffer.str(), path);
}

namespace {

struct Flag {
    std::string name;  // without "--"
    std::string path;  // the field it sets
    bool boolean = false;
    bool list = false;  // comma-separated values
};

const std::vector<Flag>& flags() {
    static const std::vector<Flag> table = {
        {"proxy-mode", "mode"},
        {"ipvs-scheduler", "ipvs.scheduler"},
        {"ipvs-sync-period", "ipvs.syncPeriod"},
        {"ipvs-min-sync-period", "ipvs.minSyncPeriod"},
        {"ipvs-exclude-cidrs", "ipvs.excludeCIDRs", false, true},
        {"ipvs-strict-arp", "ipvs.strictARP", true},
        {"ipvs-tcp-timeout", "ipvs.tcpTimeout"},
        {"ipvs-tcpfin-timeout", "ipvs.tcpFinTimeout"},
        {"ipvs-udp-timeout", "ipvs.udpTimeout"},
        {"cluster-cidr", "clusterCIDR"},
        {"hostname-override", "hostnameOverride"},
        {"nodeport-addresses", "nodePortAddresses", false, true},
        {"kubeconfig", "clientConnection.kubeconfig"},
        {"healthz-bind-address", "healthzBindAddress"},
        {"metrics-bind-address", "metricsBindAddress"},
        {"masquerade-all", "iptables.masqueradeAll", true},
    };
    return table;
}

}  // namespace

std::vector<std::string> kube_proxy_flag_names() {
    std::vector<std::string> out;
    for (const auto& f : flags()) out.push_back("--" + f.name);
    return out;
}

std::vector<std::string> apply_kube_proxy_flags(Config& config, const std::vector<std::string>& args) {
    std::vector<std::string> rest;
    Marks no_marks;
    bool applied = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg.rfind("--", 0) != 0) {
            rest.push_back(arg);
            continue;
        }
        std::string name = arg.substr(2), value;
        bool has_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
            has_value = true;
        }
        auto flag = std::find_if(flags().begin(), flags().end(), [&](const Flag& f) { return f.name == name; });
        if (flag == flags().end()) {
            rest.push_back(arg);
            continue;
        }
        if (!has_value && flag->boolean) {
            value = "true";
        } else if (!has_value) {
            if (i + 1 >= args.size()) throw ConfigError("command line: --" + name + " needs a value");
            value = args[++i];
        }
        // Flags go through the same readers as the file, so they are
        // validated identically; errors name the flag instead of a line.
        yaml::Node node;
        if (flag->list) {
            node.kind = yaml::Node::Kind::sequence;
            std::stringstream parts(value);
            std::string part;
            while (std::getline(parts, part, ','))
                if (!part.empty()) node.items.push_back(yaml::Node{yaml::Node::Kind::scalar, part, false, {}, {}, {}});
        } else {
            node.value = value;
            node.plain = flag->boolean;
        }
        auto field = std::find_if(fields().begin(), fields().end(), [&](const Field& f) { return f.path == flag->path; });
        std::string source = "command line --" + name;
        field->read(config, node, Context{source, "", flag->path});
        applied = true;
    }
    if (applied) {
        if (config.mode.empty()) config.mode = "ipvs";
        validate(config, no_marks, "command line");
    }
    return rest;
}

std::string render_config(const Config& c) {
    std::string out;
    out += "apiVersion: " + std::string(kipvs_api_version) + "\n";
    out += "kind: " + std::string(kipvs_kind) + "\n";
    std::vector<std::string> open;  // the sections of the previous line
    for (const auto& f : fields()) {
        std::vector<std::string> parts;
        std::stringstream ss(f.path);
        for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
        std::size_t common = 0;
        while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common]) ++common;
        open.resize(common);
        for (std::size_t i = common; i + 1 < parts.size(); ++i) {
            out += std::string(2 * i, ' ') + parts[i] + ":\n";
            open.push_back(parts[i]);
        }
        out += std::string(2 * (parts.size() - 1), ' ') + parts.back() + ": " + f.render(c) + "\n";
    }
    return out;
}

}  // namespace kipvs::config
