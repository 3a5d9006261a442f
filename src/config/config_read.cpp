#include "config/config_read.hpp"

#include <charconv>

#include "error.hpp"

namespace kipvs::config {
namespace {

const yaml::Node& scalar(const FieldContext& ctx, const yaml::Node& node, std::string_view expected) {
    if (node.kind != yaml::Node::Kind::scalar)
        refuse(ctx, node, "expected " + std::string(expected) + ", found " + std::string(node.kind_name()));
    return node;
}

}  // namespace

void refuse(const FieldContext& ctx, const yaml::Node& node, const std::string& problem) {
    throw ConfigError(yaml::where(ctx.source, node.mark) + ": " + ctx.path + ": " + problem);
}

std::string read_string(const FieldContext& ctx, const yaml::Node& node) {
    const auto& s = scalar(ctx, node, "a string");
    return s.is_null() ? std::string() : s.value;
}

bool read_bool(const FieldContext& ctx, const yaml::Node& node) {
    const auto& s = scalar(ctx, node, "true or false");
    if (s.plain && (s.value == "true" || s.value == "True" || s.value == "TRUE")) return true;
    if (s.plain && (s.value == "false" || s.value == "False" || s.value == "FALSE")) return false;
    refuse(ctx, node, "expected true or false, found \"" + s.value + "\"");
}

int read_int(const FieldContext& ctx, const yaml::Node& node, long min, long max) {
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

Duration read_duration(const FieldContext& ctx, const yaml::Node& node) {
    const auto& s = scalar(ctx, node, "a duration such as \"30s\"");
    auto parsed = parse_duration(s.value);
    if (!parsed.value) refuse(ctx, node, parsed.problem);
    if (*parsed.value < Duration(0)) refuse(ctx, node, "must not be negative");
    return *parsed.value;
}

model::Cidr read_cidr(const FieldContext& ctx, const yaml::Node& node) {
    auto text = read_string(ctx, node);
    auto cidr = model::Cidr::parse(text);
    if (!cidr) refuse(ctx, node, "\"" + text + "\" is not a CIDR (e.g. 10.42.0.0/16)");
    return *cidr;
}

std::vector<yaml::Node> read_list(const FieldContext& ctx, const yaml::Node& node) {
    if (node.is_null()) return {};
    if (node.kind != yaml::Node::Kind::sequence)
        refuse(ctx, node, "expected a list, found " + std::string(node.kind_name()));
    return node.items;
}

std::vector<std::string> read_string_list(const FieldContext& ctx, const yaml::Node& node) {
    std::vector<std::string> out;
    for (const auto& item : read_list(ctx, node)) out.push_back(read_string(ctx, item));
    return out;
}

std::string read_path(const FieldContext& ctx, const yaml::Node& node) {
    std::string path = read_string(ctx, node);
    if (!path.empty() && path.front() != '/' && !ctx.base_dir.empty()) path = ctx.base_dir + "/" + path;
    return path;
}

}  // namespace kipvs::config
