#include "cli/supervision.hpp"

#include <cstdio>
#include <ctime>

#include "error.hpp"
#include "log/log.hpp"

namespace kipvs::cli {
namespace {

// "21:04:05Z", for STATUS=.
std::string utc_time_of_day(std::chrono::system_clock::time_point t) {
    std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02dZ", utc.tm_hour, utc.tm_min, utc.tm_sec);
    return buf;
}

}  // namespace

std::string format_ms(std::chrono::duration<double, std::milli> ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f ms", ms.count());
    return buf;
}

std::string counts_text(const StatusFacts& f) {
    return std::to_string(f.services) + " services, " + std::to_string(f.endpoints) + " endpoints, " +
           std::to_string(f.virtual_servers) + " virtual servers";
}

void Supervision::start() {
    try {
        notifier_ = systemd::Notifier::from_environment();
        if (auto period = systemd::watchdog_period_from_environment())
            watchdog_ = std::chrono::duration_cast<Clock::duration>(*period);
    } catch (const Error& e) {
        log::warning(std::string("systemd: ") + e.what() + "; not notifying systemd");
        notifier_ = systemd::Notifier();
    }
    if (watchdog_) {
        log::info("systemd watchdog: pinging every " + format_ms(*watchdog_ / 2) +
                  " while the event and sync loops turn");
        loop_beat_ = Clock::now();
        watchdog_tick();
    }
}

void Supervision::stop() {
    stopping_ = true;
    watchdog_timer_.cancel();
}

void Supervision::notify(const std::string& state) {
    try {
        notifier_.send(state);
        notify_failing_ = false;
    } catch (const Error& e) {
        if (!notify_failing_) log::warning(std::string("systemd: ") + e.what());
        notify_failing_ = true;
    }
}

std::string Supervision::status_text(const StatusFacts& f) {
    std::string s = counts_text(f) + "; last sync " + utc_time_of_day(f.last_sync);
    if (f.failures > 0) s += " (" + std::to_string(f.failures) + " failures, retrying)";
    s += "; " + f.source + (f.listed ? ": listed" : ": no complete list yet");
    // Connectivity since the previous status: the informers retry on
    // their own, so failed requests are what says the API is away.
    if (f.failed_requests > status_failed_requests_)
        s += ", " + std::to_string(f.failed_requests - status_failed_requests_) +
             " failed requests since the last status (retrying)";
    status_failed_requests_ = f.failed_requests;
    return s;
}

void Supervision::synced(const StatusFacts& facts) {
    notify(ready_ ? systemd::status_state(status_text(facts)) : systemd::ready_state(status_text(facts)));
    ready_ = true;
}

void Supervision::ready_on_previous_rules(const std::string& source, kernel::IpvsKernel& ipvs) {
    ready_ = true;
    std::string held;
    try {
        held = std::to_string(ipvs.services().size()) + " IPVS virtual servers";
    } catch (const Error& e) {
        held = std::string("the IPVS state (unreadable: ") + e.what() + ")";
    }
    std::string status =
        source + " unreachable since start; keeping " + held + " from the previous run until its first complete list";
    log::warning(status);
    notify(systemd::ready_state(status));
}

void Supervision::reloading() {
    if (ready_) notify(systemd::reloading_state(systemd::monotonic_now()));
}

void Supervision::reloaded(const StatusFacts& facts, const std::string& starting_status) {
    notify(ready_ ? systemd::ready_state(status_text(facts)) : systemd::status_state(starting_status));
}

void Supervision::stopping() { notify(std::string(systemd::stopping_state)); }

// The event loop turns if this handler runs; the sync loop's beat says
// whether it turns too. A source that cannot reach the API server keeps
// both turning: an outage is not a hang and never triggers a restart.
void Supervision::watchdog_tick() {
    watchdog_timer_.expires_after(*watchdog_ / 2);
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        if (Clock::now() - loop_beat_ <= *watchdog_ / 2) {
            notify(std::string(systemd::watchdog_state));
        } else {
            log::error("the sync loop has not turned for " + format_ms(Clock::now() - loop_beat_) +
                       ": not pinging systemd's watchdog");
        }
        watchdog_tick();
    });
}

Supervision::Clock::time_point Supervision::beat(Clock::time_point deadline) {
    loop_beat_ = Clock::now();
    return watchdog_ ? std::min(deadline, loop_beat_ + *watchdog_ / 4) : deadline;
}

}  // namespace kipvs::cli
