// Any bytes as an RFC 3339 timestamp (the last-change-trigger-time
// annotation): parse_rfc3339 never throws, and a time it accepts is the
// time the text names. Written back in UTC (through go_time_string, the
// other half of the health code), it parses to the same instant, and a "Z"
// timestamp keeps its calendar fields: no 31 February turned into March.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_property.hpp"
#include "server/health.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using kipvs::fuzz::property;
    std::string text(reinterpret_cast<const char*>(data), size);
    auto parsed = kipvs::server::parse_rfc3339(text);
    if (!parsed) return 0;

    // "2026-12-04 21:00:00.123 +0000 UTC" -> "2026-12-04T21:00:00.123Z";
    // years outside 0000-9999 have no RFC 3339 spelling.
    std::string go = kipvs::server::go_time_string(*parsed);
    const std::string utc = " +0000 UTC";
    property(go.size() > utc.size() && go.compare(go.size() - utc.size(), utc.size(), utc) == 0,
             "go_time_string ends in +0000 UTC");
    if (go.size() < 19 + utc.size() || go[4] != '-') return 0;
    std::string back = go.substr(0, go.size() - utc.size()) + "Z";
    back[10] = 'T';
    auto again = kipvs::server::parse_rfc3339(back);
    property(again.has_value(), "written back in UTC, the time parses");
    property(*again == *parsed, "written back in UTC, the time is the same instant");

    // A UTC time without a leap second names its own calendar fields.
    bool utc_input = text.back() == 'Z' || text.back() == 'z';
    if (utc_input && text.compare(17, 2, "60") != 0) {
        std::string fields = text.substr(0, 19);
        fields[10] = 'T';
        property(back.compare(0, 19, fields) == 0, "a UTC time keeps its date and time of day");
    }
    return 0;
}
