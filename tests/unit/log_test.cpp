#include <chrono>
#include <type_traits>

#include <catch2/catch.hpp>

#include "log/log.hpp"
#include "log/utc_time.hpp"

using namespace kipvs::log;

TEST_CASE("one line format, with syslog priorities under journald", "[log]") {
    // 2026-11-23T14:08:13.123Z
    long long millis = 1'795'442'893'123LL;
    CHECK(format_line(Level::info, "sync done", false, millis) == "2026-11-23T14:08:13.123Z info    sync done\n");
    CHECK(format_line(Level::error, "boom", true, millis) == "<3>2026-11-23T14:08:13.123Z error   boom\n");
    CHECK(format_line(Level::warning, "w", true, millis).rfind("<4>", 0) == 0);
    CHECK(format_line(Level::debug, "d", true, millis).rfind("<7>", 0) == 0);
    CHECK(format_line(Level::info, "i", true, millis).rfind("<6>", 0) == 0);
}

TEST_CASE("log levels parse by name", "[log]") {
    CHECK(parse_level("debug") == Level::debug);
    CHECK(parse_level("warning") == Level::warning);
    CHECK(parse_level("warn") == Level::warning);
    CHECK_FALSE(parse_level("verbose"));
}

TEST_CASE("journal prefixes only while stderr is the stream systemd named", "[log]") {
    CHECK(is_journal_stream("8:123456", 8, 123456));
    CHECK_FALSE(is_journal_stream("8:123456", 8, 123457));  // stderr redirected elsewhere
    CHECK_FALSE(is_journal_stream("", 8, 123456));
    CHECK_FALSE(is_journal_stream("garbage", 8, 123456));
}

TEST_CASE("rfc3339_utc truncates to the digits asked for", "[log]") {
    using namespace std::chrono;
    system_clock::time_point t{duration_cast<system_clock::duration>(nanoseconds(1763906893123456789LL))};
    CHECK(rfc3339_utc(t, 0) == "2025-11-23T14:08:13Z");
    CHECK(rfc3339_utc(t, 3) == "2025-11-23T14:08:13.123Z");
    CHECK(rfc3339_utc(t, 6) == "2025-11-23T14:08:13.123456Z");
    auto ns_clock = std::is_same_v<system_clock::duration, nanoseconds>;
    CHECK(rfc3339_utc(t, 12) ==
          (ns_clock ? "2025-11-23T14:08:13.123456789Z" : "2025-11-23T14:08:13.123456000Z"));
    // Before 1970 the fraction still counts forward from the second before.
    CHECK(rfc3339_utc(system_clock::time_point(milliseconds(-1)), 3) == "1969-12-31T23:59:59.999Z");
}
