#pragma once
// Timestamps as kipvs writes them: RFC 3339 in UTC, the precision chosen by
// the reader (log lines carry milliseconds, Kubernetes Event times
// microseconds, plan headers whole seconds).
#include <chrono>
#include <string>

namespace kipvs::log {

// "2026-11-23T14:08:13.123Z" for fraction_digits 3; 0 leaves out the
// fraction, and more than 9 is taken as 9. The fraction is truncated, not
// rounded, so a time never reads as later than it was.
std::string rfc3339_utc(std::chrono::system_clock::time_point t, int fraction_digits);

}  // namespace kipvs::log
