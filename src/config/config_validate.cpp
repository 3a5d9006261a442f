#include "config/config_validate.hpp"

#include <set>

#include "config/config_read.hpp"

namespace kipvs::config {
namespace {

yaml::Node mark_node(const FieldMarks& marks, const std::string& path) {
    yaml::Node n;
    auto it = marks.find(path);
    if (it != marks.end()) n.mark = it->second;
    return n;
}

}  // namespace

void validate_config(const Config& c, const FieldMarks& marks, std::string_view source) {
    // A problem is pinned to the field's line, or when the field was left
    // out, to the line of the field that made it necessary.
    auto fail = [&](const std::string& path, const std::string& problem, const std::string& cause = "") {
        yaml::Node at = mark_node(marks, path);
        if (at.mark.line == 0 && !cause.empty()) at = mark_node(marks, cause);
        refuse(FieldContext{source, "", path}, at, problem);
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

bool is_known_scheduler(std::string_view name) {
    static const std::set<std::string_view> known = {"rr", "wrr", "lc",  "wlc", "lblc", "lblcr", "dh",
                                                     "sh", "sed", "nq", "fo", "ovf", "mh",  "twos"};
    return known.count(name) > 0;
}

}  // namespace kipvs::config
