#pragma once
// Writing configuration values as YAML flow values that load back to the
// same value (render_config, declared in config_load.hpp, writes the
// whole document).
#include <string>
#include <string_view>
#include <vector>

namespace kipvs::config {

std::string yaml_quoted(std::string_view s);
// ["a", "b"]
std::string flow_list(const std::vector<std::string>& items);

}  // namespace kipvs::config
