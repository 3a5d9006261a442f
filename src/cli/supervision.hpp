#pragma once
// `kipvs run` under systemd (src/systemd/notify.hpp speaks the protocol):
// READY=1 once the first sync is in the kernel, or on the previous run's
// rules when the API server is away at boot; STATUS= after each sync;
// RELOADING=1 and READY=1 around a reload; STOPPING=1; and the watchdog
// ping, sent only while both the event loop and the sync loop turn.
// Telling systemd is never worth stopping for: a failure is logged once.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "kernel/ipvs.hpp"
#include "systemd/notify.hpp"

namespace kipvs::cli {

// "12.3 ms", as every duration in the daemon's log lines.
std::string format_ms(std::chrono::duration<double, std::milli> ms);

// What STATUS= reports.
struct StatusFacts {
    std::size_t services = 0, endpoints = 0, virtual_servers = 0;
    std::chrono::system_clock::time_point last_sync{};
    std::size_t failures = 0;     // of the last sync
    std::string source;           // "manifests in /etc/kipvs/manifests"
    bool listed = false;          // the source's first complete list is in
    unsigned long failed_requests = 0;  // to the API server, since start
};

// "3 services, 5 endpoints, 4 virtual servers": STATUS='s start, and each sync's log line.
std::string counts_text(const StatusFacts& facts);

class Supervision {
public:
    using Clock = std::chrono::steady_clock;

    explicit Supervision(boost::asio::io_context& io) : watchdog_timer_(io) {}

    // Reads $NOTIFY_SOCKET and $WATCHDOG_USEC (and removes them, so that
    // children never talk to systemd as kipvs) and starts the pings.
    void start();
    // No more pings: the daemon is stopping.
    void stop();

    bool ready() const { return ready_; }
    // After each sync: READY=1 with the first, STATUS= after.
    void synced(const StatusFacts& facts);
    // `source` (the API server) has not answered since start: READY=1 on
    // what `ipvs` holds from the previous run, logged and in STATUS=.
    // Nothing is written or deleted until the first complete list (then a
    // full sync adopts it).
    void ready_on_previous_rules(const std::string& source, kernel::IpvsKernel& ipvs);
    // SIGHUP received. Before READY=1 systemd has nothing to reload.
    void reloading();
    // The reload ended: READY=1 again with the status, or, before the
    // first READY=1, `starting_status` ("reload refused; starting").
    void reloaded(const StatusFacts& facts, const std::string& starting_status);
    void stopping();

    // The sync loop turned: the latest time it may sleep to (`deadline`,
    // or sooner so that its beat stays fresh for the watchdog).
    Clock::time_point beat(Clock::time_point deadline);

private:
    void notify(const std::string& state);
    void watchdog_tick();
    std::string status_text(const StatusFacts& facts);

    systemd::Notifier notifier_;
    std::optional<Clock::duration> watchdog_;
    boost::asio::steady_timer watchdog_timer_;
    Clock::time_point loop_beat_{};
    unsigned long status_failed_requests_ = 0;
    bool ready_ = false;
    bool notify_failing_ = false;
    bool stopping_ = false;
};

}  // namespace kipvs::cli
