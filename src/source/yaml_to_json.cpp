#include "source/yaml_to_json.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace kipvs::source {

namespace json = boost::json;

namespace {

bool all_of(std::string_view s, bool (*pred)(char)) {
    return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_octal(char c) { return c >= '0' && c <= '7'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// An integer of the core schema, or nullopt when `text` is not one.
std::optional<json::value> plain_integer(std::string_view text) {
    int base = 10;
    bool negative = false;
    std::string_view digits = text;
    if (text.size() > 2 && text[0] == '0' && text[1] == 'o') {
        base = 8;
        digits = text.substr(2);
        if (!all_of(digits, is_octal)) return std::nullopt;
    } else if (text.size() > 2 && text[0] == '0' && text[1] == 'x') {
        base = 16;
        digits = text.substr(2);
        if (!all_of(digits, is_hex)) return std::nullopt;
    } else {
        if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
            negative = digits[0] == '-';
            digits.remove_prefix(1);
        }
        if (!all_of(digits, is_digit)) return std::nullopt;
    }
    std::uint64_t magnitude = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
    if (ec == std::errc::result_out_of_range) {
        // Too big for 64 bits: a double, as Boost.JSON and Go's encoding/json read such numbers.
        double d = 0;
        for (char c : digits) d = d * base + (is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
        return json::value(negative ? -d : d);
    }
    if (negative) {
        constexpr auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1;
        if (magnitude > limit) return json::value(-static_cast<double>(magnitude));
        if (magnitude == limit) return json::value(std::numeric_limits<std::int64_t>::min());
        return json::value(-static_cast<std::int64_t>(magnitude));
    }
    if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return json::value(magnitude);
    return json::value(static_cast<std::int64_t>(magnitude));
}

// A float of the core schema: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
std::optional<json::value> plain_float(std::string_view text) {
    std::string_view s = text;
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s == ".inf" || s == ".Inf" || s == ".INF")
        return json::value(negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity());
    if (text == ".nan" || text == ".NaN" || text == ".NAN") return json::value(std::numeric_limits<double>::quiet_NaN());
    std::size_t i = 0;
    std::size_t int_digits = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) ++int_digits;
    std::size_t frac_digits = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        for (; i < s.size() && is_digit(s[i]); ++i) ++frac_digits;
    }
    if (int_digits == 0 && frac_digits == 0) return std::nullopt;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
        std::size_t exp_digits = 0;
        for (; i < s.size() && is_digit(s[i]); ++i) ++exp_digits;
        if (exp_digits == 0) return std::nullopt;
    }
    if (i != s.size()) return std::nullopt;
    // strtod, not from_chars: libc++ 16 (the musl build) has no floating from_chars.
    // kipvs never calls setlocale, so the decimal point is '.'.
    return json::value(std::strtod(std::string(text).c_str(), nullptr));
}

json::value scalar_to_json(const yaml::Node& node) {
    const std::string& v = node.value;
    if (!node.plain) return json::value(json::string(v));
    if (node.is_null()) return json::value(nullptr);
    if (v == "true" || v == "True" || v == "TRUE") return json::value(true);
    if (v == "false" || v == "False" || v == "FALSE") return json::value(false);
    if (auto n = plain_integer(v)) return std::move(*n);
    if (auto f = plain_float(v)) return std::move(*f);
    return json::value(json::string(v));
}

void merge_into(json::object& out, const yaml::Node& source) {
    // emplace keeps what is there: explicit keys and earlier merges win (YAML merge-key rules).
    if (source.kind == yaml::Node::Kind::mapping) {
        json::value merged = to_json(source);
        for (auto& kv : merged.get_object()) out.emplace(kv.key(), std::move(kv.value()));
    } else if (source.kind == yaml::Node::Kind::sequence) {
        for (const auto& item : source.items)
            if (item.kind == yaml::Node::Kind::mapping) merge_into(out, item);
    }
}

}  // namespace

json::value to_json(const yaml::Node& node) {
    switch (node.kind) {
        case yaml::Node::Kind::scalar:
            return scalar_to_json(node);
        case yaml::Node::Kind::sequence: {
            json::array out;
            out.reserve(node.items.size());
            for (const auto& item : node.items) out.push_back(to_json(item));
            return json::value(std::move(out));
        }
        case yaml::Node::Kind::mapping: {
            json::object out;
            out.reserve(node.entries.size());
            const yaml::Node* merge = nullptr;
            for (const auto& entry : node.entries) {
                if (entry.key.plain && entry.key.value == "<<") merge = &entry.value;
                else out.insert_or_assign(entry.key.value, to_json(entry.value));
            }
            if (merge != nullptr) merge_into(out, *merge);
            return json::value(std::move(out));
        }
    }
    return json::value(nullptr);
}

}  // namespace kipvs::source
