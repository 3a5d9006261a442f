#include "config/config_load.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/config_fields.hpp"
#include "config/config_read.hpp"
#include "config/config_validate.hpp"
#include "config/suggest.hpp"
#include "config/yaml_tree.hpp"
#include "error.hpp"

namespace kipvs::config {

namespace {

bool is_section(const std::string& path, DocumentKind kind) {
    for (const auto& known : known_paths(kind))
        if (known.size() > path.size() && known.compare(0, path.size(), path) == 0 && known[path.size()] == '.')
            return true;
    return false;
}

// Reads every field of `mapping` into `config`, descending into sections;
// fields kipvs ignores become warnings, unknown ones a ConfigError.
void walk(Config& config, const yaml::Node& mapping, const std::string& prefix, const FieldContext& base,
          DocumentKind kind, FieldMarks& marks, std::vector<std::string>& warnings) {
    for (const auto& [key, value] : mapping.entries) {
        std::string path = prefix.empty() ? key.value : prefix + "." + key.value;
        FieldContext ctx{base.source, base.base_dir, path};
        marks[path] = key.mark;
        if (prefix.empty() && (key.value == "apiVersion" || key.value == "kind")) continue;
        const auto& ignored = ignored_kube_proxy_fields();
        if (std::find(ignored.begin(), ignored.end(), path) != ignored.end()) {
            warnings.push_back(yaml::where(base.source, key.mark) + ": " + path +
                               " is a kube-proxy setting kipvs does not use; ignored");
            continue;
        }
        auto field = std::find_if(config_fields().begin(), config_fields().end(), [&](const ConfigField& f) {
            return f.path == path && (kind == DocumentKind::kipvs || f.kube_proxy);
        });
        if (field != config_fields().end()) {
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
    FieldContext top{source, directory_of(source), "(document)"};
    if (root.kind != yaml::Node::Kind::mapping) refuse(top, root, "expected a mapping");

    const yaml::Node* kind_node = root.find("kind");
    const yaml::Node* version_node = root.find("apiVersion");
    if (!kind_node) refuse(top, root, "missing kind (KipvsConfiguration or KubeProxyConfiguration)");
    FieldContext kind_ctx{source, "", "kind"};
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
    FieldContext version_ctx{source, "", "apiVersion"};
    if (!version_node) refuse(version_ctx, root, "missing apiVersion (" + std::string(expected_version) + ")");
    std::string version = read_string(version_ctx, *version_node);
    if (version != expected_version)
        refuse(version_ctx, *version_node,
               "\"" + version + "\" is not " + std::string(expected_version) + " (for kind " + kind_text + ")");

    FieldMarks marks;
    walk(loaded.config, root, "", top, loaded.config.kind, marks, loaded.warnings);
    if (loaded.config.mode.empty()) loaded.config.mode = "ipvs";
    validate_config(loaded.config, marks, source);
    return loaded;
}

Loaded load_config_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot read configuration: " + std::strerror(errno));
    std::stringstream buffer;
    buffer << in.rdbuf();
    return load_config_text(buffer.str(), path);
}

}  // namespace kipvs::config
