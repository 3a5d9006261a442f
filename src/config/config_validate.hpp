#pragma once
// The checks a Config must pass once every field is read: values no
// single field's reader can judge alone (cross-field rules, choices from a
// fixed set, addresses). Shared by the file and the kube-proxy flags.
#include <map>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/yaml_tree.hpp"

namespace kipvs::config {

// Where each field was written, for cross-field errors; empty for flags.
using FieldMarks = std::map<std::string, yaml::Mark>;

// Throws ConfigError naming the field (its line when `marks` has it).
void validate_config(const Config& c, const FieldMarks& marks, std::string_view source);

}  // namespace kipvs::config
