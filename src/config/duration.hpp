#pragma once
// Durations in Go's syntax ("30s", "1m30s", "2h0m0s", "250ms"), the syntax of
// every duration in a KubeProxyConfiguration, so that files move across
// unchanged.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kipvs::config {

using Duration = std::chrono::nanoseconds;

struct DurationParse {
    std::optional<Duration> value;
    std::string problem;  // why it was refused, with a hint where one helps
};

DurationParse parse_duration(std::string_view text);
// Go's time.Duration.String() form: "30s", "1m30s", "2h0m0s", "1.5s", "250ms", "0s".
std::string format_duration(Duration d);

}  // namespace kipvs::config
