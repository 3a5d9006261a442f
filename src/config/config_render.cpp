#include "config/config_render.hpp"

#include <sstream>

#include "config/config_fields.hpp"
#include "config/config_load.hpp"

namespace kipvs::config {

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

std::string render_config(const Config& c) {
    std::string out;
    out += "apiVersion: " + std::string(kipvs_api_version) + "\n";
    out += "kind: " + std::string(kipvs_kind) + "\n";
    std::vector<std::string> open;  // the sections of the previous line
    for (const auto& f : config_fields()) {
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
