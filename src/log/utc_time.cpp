#include "log/utc_time.hpp"

#include <cstdio>
#include <ctime>

namespace kipvs::log {

std::string rfc3339_utc(std::chrono::system_clock::time_point t, int fraction_digits) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    // Floor division: a time before 1970 keeps a positive fraction.
    long long seconds = ns / 1000000000;
    long long fraction = ns % 1000000000;
    if (fraction < 0) {
        fraction += 1000000000;
        --seconds;
    }
    std::time_t whole = static_cast<std::time_t>(seconds);
    std::tm utc{};
    gmtime_r(&whole, &utc);
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", utc.tm_year + 1900, utc.tm_mon + 1,
                          utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
    std::string out(buf, static_cast<std::size_t>(n));
    if (fraction_digits > 0) {
        char digits[16];
        std::snprintf(digits, sizeof digits, ".%09lld", fraction);
        out.append(digits, static_cast<std::size_t>(1 + (fraction_digits < 9 ? fraction_digits : 9)));
    }
    out += 'Z';
    return out;
}

}  // namespace kipvs::log
