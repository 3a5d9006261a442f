#pragma once
// Reading one configuration value out of its YAML node. Every refusal is a
// ConfigError naming file:line:column and the field path, so the readers
// are shared by the file, its sections and the kube-proxy flags.
#include <string>
#include <string_view>
#include <vector>

#include "config/duration.hpp"
#include "config/yaml_tree.hpp"
#include "model/ip.hpp"

namespace kipvs::config {

struct FieldContext {
    std::string_view source;
    std::string base_dir;  // relative paths are taken from here
    std::string path;      // the field being read, e.g. "ipvs.syncPeriod"
};

[[noreturn]] void refuse(const FieldContext& ctx, const yaml::Node& node, const std::string& problem);

std::string read_string(const FieldContext& ctx, const yaml::Node& node);
bool read_bool(const FieldContext& ctx, const yaml::Node& node);
int read_int(const FieldContext& ctx, const yaml::Node& node, long min, long max);
// Not negative.
Duration read_duration(const FieldContext& ctx, const yaml::Node& node);
model::Cidr read_cidr(const FieldContext& ctx, const yaml::Node& node);
// A null node is the empty list.
std::vector<yaml::Node> read_list(const FieldContext& ctx, const yaml::Node& node);
std::vector<std::string> read_string_list(const FieldContext& ctx, const yaml::Node& node);
// A relative path is taken from the configuration file's directory.
std::string read_path(const FieldContext& ctx, const yaml::Node& node);

}  // namespace kipvs::config
