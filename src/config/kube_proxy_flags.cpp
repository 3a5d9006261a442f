// kube-proxy's command-line flags (apply_kube_proxy_flags, config_load.hpp):
// each one read by its field's own reader, as if it were written in the file.
#include <algorithm>
#include <sstream>

#include "config/config_fields.hpp"
#include "config/config_load.hpp"
#include "config/config_validate.hpp"
#include "error.hpp"

namespace kipvs::config {
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
        auto field = std::find_if(config_fields().begin(), config_fields().end(),
                                  [&](const ConfigField& f) { return f.path == flag->path; });
        std::string source = "command line --" + name;
        field->read(config, node, FieldContext{source, "", flag->path});
        applied = true;
    }
    if (applied) {
        if (config.mode.empty()) config.mode = "ipvs";
        validate_config(config, {}, "command line");
    }
    return rest;
}

}  // namespace kipvs::config
