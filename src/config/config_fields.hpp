#pragma once
// The configuration's fields as one table: each YAML path, whether
// KubeProxyConfiguration has it too, how it is read into a Config and how
// it is rendered back. Loading, the kube-proxy flags and render_config all
// go through this table, so a field is added in one place.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/config_read.hpp"
#include "config/yaml_tree.hpp"

namespace kipvs::config {

inline constexpr std::string_view kipvs_api_version = "kipvs.io/v1alpha1";
inline constexpr std::string_view kipvs_kind = "KipvsConfiguration";
inline constexpr std::string_view kube_proxy_api_version = "kubeproxy.config.k8s.io/v1alpha1";
inline constexpr std::string_view kube_proxy_kind = "KubeProxyConfiguration";

struct ConfigField {
    std::string path;  // "ipvs.syncPeriod"
    bool kube_proxy;   // also a KubeProxyConfiguration field at this path
    std::function<void(Config&, const yaml::Node&, const FieldContext&)> read;
    std::function<std::string(const Config&)> render;
};

// In render order.
const std::vector<ConfigField>& config_fields();

// KubeProxyConfiguration fields kipvs knows but does not honour: named in a
// warning, never an error, so an upstream file loads unchanged.
const std::vector<std::string>& ignored_kube_proxy_fields();

// Every path a document of `kind` may hold, for "did you mean".
std::vector<std::string> known_paths(DocumentKind kind);

}  // namespace kipvs::config
