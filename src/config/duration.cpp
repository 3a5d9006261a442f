#include "config/duration.hpp"

#include <cstdint>
#include <limits>

namespace kipvs::config {
namespace {

struct Unit {
    std::string_view name;
    std::int64_t nanos;
};

constexpr Unit units[] = {
    {"ns", 1},           {"us", 1'000},          {"\xC2\xB5s", 1'000}, {"\xCE\xBCs", 1'000},
    {"ms", 1'000'000},   {"s", 1'000'000'000},   {"m", 60'000'000'000}, {"h", 3'600'000'000'000},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

DurationParse parse_duration(std::string_view text) {
    const std::string original(text);
    if (text.empty()) return {std::nullopt, "empty duration"};
    bool negative = false;
    if (text.front() == '-' || text.front() == '+') {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    if (text == "0") return {Duration(0), ""};
    bool all_digits = !text.empty();
    for (char c : text) all_digits = all_digits && is_digit(c);
    if (all_digits)
        return {std::nullopt, "missing unit in duration \"" + original + "\" (did you mean \"" + original + "s\"?)"};

    // Integer arithmetic, so that "1.1s" is exactly 1100000000ns.
    constexpr std::int64_t limit = std::numeric_limits<std::int64_t>::max();
    const std::string too_long = "duration \"" + original + "\" is too long";
    std::int64_t total = 0;
    while (!text.empty()) {
        std::size_t i = 0;
        std::int64_t whole = 0, frac = 0, frac_scale = 1;
        bool any = false;
        for (; i < text.size() && is_digit(text[i]); ++i, any = true) {
            if (whole > (limit - 9) / 10) return {std::nullopt, too_long};
            whole = whole * 10 + (text[i] - '0');
        }
        if (i < text.size() && text[i] == '.') {
            for (++i; i < text.size() && is_digit(text[i]); ++i, any = true) {
                if (frac_scale >= 1'000'000'000'000'000) continue;  // beyond nanosecond precision
                frac = frac * 10 + (text[i] - '0');
                frac_scale *= 10;
            }
        }
        if (!any) return {std::nullopt, "invalid duration \"" + original + "\""};
        std::size_t unit_end = i;
        while (unit_end < text.size() && !is_digit(text[unit_end]) && text[unit_end] != '.') ++unit_end;
        std::string_view unit = text.substr(i, unit_end - i);
        if (unit.empty())
            return {std::nullopt, "missing unit in duration \"" + original + "\" (units: ns, us, ms, s, m, h)"};
        const Unit* found = nullptr;
        for (const auto& u : units)
            if (u.name == unit) found = &u;
        if (!found)
            return {std::nullopt, "unknown unit \"" + std::string(unit) + "\" in duration \"" + original +
                                      "\" (units: ns, us, ms, s, m, h)"};
        if (whole > limit / found->nanos) return {std::nullopt, too_long};
        std::int64_t part = whole * found->nanos;
        part += static_cast<std::int64_t>(static_cast<__int128>(frac) * found->nanos / frac_scale);
        if (part > limit - total) return {std::nullopt, too_long};
        total += part;
        text.remove_prefix(unit_end);
    }
    return {Duration(negative ? -total : total), ""};
}

namespace {

// Go prints fractions without trailing zeros: 1.5s, 250ms, 1.000001s.
std::string with_fraction(std::int64_t value, std::int64_t scale) {
    std::string out = std::to_string(value / scale);
    std::int64_t frac = value % scale;
    if (frac == 0) return out;
    std::string digits = std::to_string(frac);
    std::string pad(std::to_string(scale).size() - 1 - digits.size(), '0');
    digits = pad + digits;
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    return out + "." + digits;
}

}  // namespace

std::string format_duration(Duration d) {
    std::int64_t n = d.count();
    if (n == 0) return "0s";
    std::string sign = n < 0 ? "-" : "";
    std::uint64_t u = n < 0 ? static_cast<std::uint64_t>(-(n + 1)) + 1 : static_cast<std::uint64_t>(n);
    auto v = static_cast<std::int64_t>(u);
    if (v < 1'000) return sign + std::to_string(v) + "ns";
    if (v < 1'000'000) return sign + with_fraction(v, 1'000) + "\xC2\xB5s";
    if (v < 1'000'000'000) return sign + with_fraction(v, 1'000'000) + "ms";
    std::int64_t hours = v / 3'600'000'000'000;
    v %= 3'600'000'000'000;
    std::int64_t minutes = v / 60'000'000'000;
    v %= 60'000'000'000;
    std::string out = sign;
    if (hours > 0) out += std::to_string(hours) + "h";
    if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
    return out + with_fraction(v, 1'000'000'000) + "s";
}

}  // namespace kipvs::config
