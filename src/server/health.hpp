#pragma once
// kube-proxy's proxy health (PARITY.md §6.3, proxy_health.go), pure: the
// caller passes the time. A change queues an update; a successful sync
// completes every queued one. The proxy is unhealthy while its oldest
// still-pending update is older than healthTimeout (2 × syncPeriod). A failed
// sync does not complete anything, so failures that persist turn it red.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/node.hpp"

namespace kipvs::server {

using WallClock = std::chrono::system_clock;

class ProxyHealth {
public:
    explicit ProxyHealth(WallClock::duration timeout) : timeout_(timeout) {}
    void set_timeout(WallClock::duration timeout) { timeout_ = timeout; }

    // A change is waiting for a sync (kube-proxy's QueuedUpdate). Only the
    // oldest pending one matters.
    void queued(WallClock::time_point now) {
        if (!oldest_pending_) oldest_pending_ = now;
    }
    // A sync succeeded: everything queued so far is programmed.
    void updated(WallClock::time_point now) {
        oldest_pending_.reset();
        last_updated_ = now;
    }

    bool healthy(WallClock::time_point now) const {
        return !oldest_pending_ || now - *oldest_pending_ <= timeout_;
    }
    // kube-proxy reports now as lastUpdated while healthy.
    WallClock::time_point last_updated(WallClock::time_point now) const {
        return healthy(now) ? now : last_updated_;
    }

private:
    WallClock::duration timeout_;
    std::optional<WallClock::time_point> oldest_pending_;
    WallClock::time_point last_updated_{};
};

// kube-proxy's healthz timeout: 2 × syncPeriod (server.go passes
// 2*config.SyncPeriod to its proxier health server).
inline WallClock::duration health_timeout(std::chrono::nanoseconds sync_period) {
    return std::chrono::duration_cast<WallClock::duration>(2 * sync_period);
}

// KEP-3836: a node being deleted, or tainted for deletion by the cluster
// autoscaler, fails /healthz so load balancers drain it; /livez ignores it.
bool node_eligible(const model::Node* node);

// An HTTP answer as a value, so handlers are tested without a socket.
struct HttpReply {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;  // extra ones
    std::string body;
};

// /healthz (with node eligibility) and /livez (without): 200 or 503 with
// kube-proxy's JSON body {"lastUpdated","currentTime","nodeEligible"}.
HttpReply health_reply(const ProxyHealth& health, const model::Node* node, bool livez, WallClock::time_point now);

// Go's time.Time.String() in UTC: "2026-12-04 21:00:00.123456789 +0000 UTC"
// (trailing zeros of the fraction dropped), as kube-proxy's JSON carries it.
std::string go_time_string(WallClock::time_point t);

// RFC 3339 (the last-change-trigger-time annotation), with or without a
// fraction, "Z" or a numeric offset; nullopt when malformed.
std::optional<WallClock::time_point> parse_rfc3339(const std::string& text);

}  // namespace kipvs::server
