#include "server/health.hpp"

#include <cstdio>
#include <ctime>

namespace kipvs::server {

bool node_eligible(const model::Node* node) {
    // Without a Node object (static manifests, or not listed yet) nothing
    // says the node is going away.
    if (node == nullptr) return true;
    if (!node->deletion_timestamp.empty()) return false;
    for (const auto& t : node->taints)
        if (t.key == "ToBeDeletedByClusterAutoscaler") return false;
    return true;
}

std::string go_time_string(WallClock::time_point t) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
    long frac = static_cast<long>(ns % 1000000000);
    if (frac < 0) {
        frac += 1000000000;
        --secs;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    std::string out = buf;
    if (frac != 0) {
        char f[16];
        std::snprintf(f, sizeof f, ".%09ld", frac);
        std::string fs = f;
        while (fs.back() == '0') fs.pop_back();
        out += fs;
    }
    out += " +0000 UTC";
    return out;
}

namespace {

bool digits(const std::string& s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil), so no timegm() and no TZ environment is involved.
long long days_from_civil(int y, unsigned m, unsigned d) {
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<long long>(doe) - 719468;
}

}  // namespace

std::optional<WallClock::time_point> parse_rfc3339(const std::string& s) {
    int year, month, day, hour, minute, second;
    if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
        !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, hour) || s[13] != ':' ||
        !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        return std::nullopt;
    // days_from_civil would carry 31 February into March; Go's time.Parse
    // (kube-proxy) refuses it.
    static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    if (day > month_days[month - 1] || (month == 2 && day == 29 && !leap)) return std::nullopt;
    std::size_t pos = 19;
    long long nanos = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int n = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (n < 9) {
                nanos = nanos * 10 + (s[pos] - '0');
                ++n;
            }
            ++pos;
        }
        if (n == 0) return std::nullopt;
        for (; n < 9; ++n) nanos *= 10;
    }
    long long offset = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
        offset = 0;
    } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
        int oh, om;
        if (!digits(s, pos + 1, 2, oh) || !digits(s, pos + 4, 2, om) || oh > 23 || om > 59) return std::nullopt;
        offset = (oh * 3600LL + om * 60LL) * (s[pos] == '-' ? -1 : 1);
    } else {
        return std::nullopt;
    }
    long long secs = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400LL +
                     hour * 3600LL + minute * 60LL + second - offset;
    // Seconds and nanoseconds add up in nanoseconds, whose 64 bits end in
    // 1677 and 2262: a year outside would overflow, so it is refused.
    constexpr long long limit =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::nanoseconds::max()).count();
    if (secs >= limit || secs <= -limit) return std::nullopt;
    auto since = std::chrono::seconds(secs) + std::chrono::nanoseconds(nanos);
    return WallClock::time_point(std::chrono::duration_cast<WallClock::duration>(since));
}

HttpReply health_reply(const ProxyHealth& health, const model::Node* node, bool livez, WallClock::time_point now) {
    bool eligible = node_eligible(node);
    bool ok = health.healthy(now) && (livez || eligible);
    HttpReply reply;
    reply.status = ok ? 200 : 503;
    reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
    // Go time strings hold no characters JSON must escape.
    reply.body = "{\"lastUpdated\": \"" + go_time_string(health.last_updated(now)) + "\",\"currentTime\": \"" +
                 go_time_string(now) + "\", \"nodeEligible\": " + (eligible ? "true" : "false") + "}";
    return reply;
}

}  // namespace kipvs::server
