#include <catch2/catch.hpp>

#include "config/duration.hpp"

using namespace kipvs::config;
using namespace std::chrono_literals;

TEST_CASE("Go duration syntax parses to exact nanoseconds", "[duration]") {
    struct Row {
        const char* text;
        Duration want;
    };
    const Row rows[] = {
        {"30s", 30s},          {"1m30s", 90s},        {"2h0m0s", 2h},          {"1.5s", 1500ms},
        {"1.1s", 1100ms},      {"250ms", 250ms},      {"100us", 100us},        {"7ns", 7ns},
        {"0", 0s},             {"0s", 0s},            {"-1s", -1s},            {"1h1m1s1ms", 3661001ms},
        {"\xC2\xB5s", 0s},
    };
    for (const auto& row : rows) {
        INFO(row.text);
        auto parsed = parse_duration(row.text);
        if (std::string(row.text) == "\xC2\xB5s") {
            CHECK_FALSE(parsed.value);  // a unit without a number
            continue;
        }
        REQUIRE(parsed.value);
        CHECK(*parsed.value == row.want);
    }
}

TEST_CASE("a bare number is refused with the hint to add seconds", "[duration]") {
    auto parsed = parse_duration("7200");
    CHECK_FALSE(parsed.value);
    CHECK(parsed.problem.find("did you mean \"7200s\"") != std::string::npos);
}

TEST_CASE("malformed durations are refused with a reason", "[duration]") {
    for (const char* bad : {"", "s", "1x", "1.s.", "--1s", "1s2", "99999999999999999999h", "1e3s", " 1s"}) {
        INFO(bad);
        auto parsed = parse_duration(bad);
        CHECK_FALSE(parsed.value);
        CHECK_FALSE(parsed.problem.empty());
    }
}

TEST_CASE("durations print as Go prints them", "[duration]") {
    CHECK(format_duration(30s) == "30s");
    CHECK(format_duration(90s) == "1m30s");
    CHECK(format_duration(2h) == "2h0m0s");
    CHECK(format_duration(15min) == "15m0s");
    CHECK(format_duration(1500ms) == "1.5s");
    CHECK(format_duration(250ms) == "250ms");
    CHECK(format_duration(0s) == "0s");
    CHECK(format_duration(-1s) == "-1s");
    CHECK(format_duration(1500us) == "1.5ms");
}

TEST_CASE("formatting then parsing gives the same duration", "[duration]") {
    for (Duration d : {Duration(1), Duration(999), Duration(1001), Duration(1'234'567), Duration(61'000'000'001),
                       Duration(3'600'000'000'000), Duration(86'400'123'000'000)}) {
        auto back = parse_duration(format_duration(d));
        REQUIRE(back.value);
        CHECK(*back.value == d);
    }
}
