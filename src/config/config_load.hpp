#pragma once
// Reading and validating the configuration. Every refusal is a ConfigError
// naming file:line:column and the field path. The parts: the field table
// (config_fields), the value readers (config_read), the cross-field checks
// (config_validate), rendering (config_render) and the flags
// (kube_proxy_flags.cpp).
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace kipvs::config {

struct Loaded {
    Config config;
    std::vector<std::string> warnings;  // e.g. KubeProxyConfiguration fields kipvs ignores
};

// Parses one KipvsConfiguration or KubeProxyConfiguration document (kind
// detected). Relative paths in it are taken relative to the file's directory.
Loaded load_config_text(std::string_view text, std::string_view source);
Loaded load_config_file(const std::string& path);
// Built-in defaults, for a run without a configuration file.
Config default_config();

// kube-proxy's command-line flags for what kipvs honours (e.g.
// "--ipvs-scheduler=sh", "--masquerade-all"); they override the file. Returns
// the arguments that are not such flags, in order.
std::vector<std::string> apply_kube_proxy_flags(Config& config, const std::vector<std::string>& args);
// The kube-proxy flag names apply_kube_proxy_flags understands.
std::vector<std::string> kube_proxy_flag_names();

// The effective configuration as a KipvsConfiguration document: every field,
// defaults filled in. Loading this text gives back the same Config.
std::string render_config(const Config& config);

}  // namespace kipvs::config
