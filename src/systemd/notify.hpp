#pragma once
// systemd's notify protocol, spoken directly (no libsystemd in a static
// binary): each state change is one datagram of "KEY=value" lines sent to
// the AF_UNIX socket named by $NOTIFY_SOCKET, a path or, with a leading
// '@', an abstract name. Outside systemd (no $NOTIFY_SOCKET) every call is
// a no-op, so `kipvs run` from a shell behaves the same.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "kernel/unique_fd.hpp"

namespace kipvs::systemd {

class Notifier {
public:
    // Disabled: sends nothing.
    Notifier() = default;
    // Sends to `address` ("/run/systemd/notify" or "@name"); empty disables.
    // Throws kipvs::Error when the address cannot be a socket address.
    explicit Notifier(std::string address);
    // From $NOTIFY_SOCKET. `unset` removes it from the environment so that
    // children kipvs runs (iptables-restore) never talk to systemd as us.
    static Notifier from_environment(bool unset = true);

    bool enabled() const { return !address_.empty(); }
    const std::string& address() const { return address_; }

    // Sends one datagram holding `state` (newline-separated assignments).
    // Throws kipvs::Error naming the socket and errno; a caller that only
    // informs systemd logs it and carries on.
    void send(std::string_view state);

private:
    std::string address_;
    kernel::UniqueFd fd_;
};

// Assignments, as values so tests can check the exact text.
std::string ready_state(std::string_view status);                      // READY=1 + STATUS=
std::string reloading_state(std::chrono::microseconds monotonic_now);  // RELOADING=1 + MONOTONIC_USEC=
std::string status_state(std::string_view status);                    // STATUS=
inline constexpr std::string_view watchdog_state = "WATCHDOG=1";
inline constexpr std::string_view stopping_state = "STOPPING=1";
// CLOCK_MONOTONIC now, as systemd wants it in MONOTONIC_USEC.
std::chrono::microseconds monotonic_now();

// The watchdog period systemd expects pings within: $WATCHDOG_USEC, when
// set, positive and (if $WATCHDOG_PID is set) meant for process `pid`.
// Throws kipvs::Error for values that are not numbers.
std::optional<std::chrono::microseconds> watchdog_period(const char* watchdog_usec, const char* watchdog_pid,
                                                         long pid);
// The same from the environment for this process; removes both variables
// when `unset`, for the same reason as from_environment.
std::optional<std::chrono::microseconds> watchdog_period_from_environment(bool unset = true);

}  // namespace kipvs::systemd
