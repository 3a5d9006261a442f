#include <catch2/catch.hpp>

#include "log/log.hpp"

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
