// What a reload does to the /healthz and /metrics listeners, decided from
// the two bind addresses, and the health timeout a reload carries over.
#include <catch2/catch.hpp>

#include <string>

#include "server/health.hpp"
#include "server/listener_change.hpp"

using namespace kipvs;
using namespace kipvs::server;
using namespace std::chrono_literals;

namespace {

model::HostPort hp(const char* text) { return *model::HostPort::parse(text); }

}  // namespace

TEST_CASE("listener change: keep, start, stop, move, refuse", "[server]") {
    struct Row {
        const char* running;
        const char* next;
        ListenerStep step;
    };
    const Row rows[] = {
        {"127.0.0.1:10249", "127.0.0.1:10249", ListenerStep::keep},
        {"[::1]:10249", "[0:0::1]:10249", ListenerStep::keep},  // one address, two spellings
        {"", "", ListenerStep::keep},
        {"", "127.0.0.1:10249", ListenerStep::start},
        {"127.0.0.1:10249", "", ListenerStep::stop},
        {"127.0.0.1:10249", "127.0.0.1:10250", ListenerStep::bind_then_close},
        {"127.0.0.1:10249", "10.0.0.1:10249", ListenerStep::bind_then_close},  // two addresses, one port
        {"127.0.0.1:10249", "[::1]:10249", ListenerStep::bind_then_close},
        {"127.0.0.1:10249", "0.0.0.0:10249", ListenerStep::close_then_bind},  // the wildcard covers it
        {"0.0.0.0:10256", "10.0.0.1:10256", ListenerStep::close_then_bind},
        {"[::]:10256", "10.0.0.1:10256", ListenerStep::close_then_bind},  // "[::]" takes IPv4 too
        {"0.0.0.0:10256", "[::1]:10256", ListenerStep::close_then_bind},  // 0.0.0.0 listens on IPv6 too, as Go's
        {"0.0.0.0:10256", "[::]:10256", ListenerStep::close_then_bind},
        {"127.0.0.1:10249", "not-an-address", ListenerStep::refuse},
        {"", "127.0.0.1", ListenerStep::refuse},
    };
    for (const auto& row : rows) {
        INFO(row.running << " -> " << row.next);
        auto change = plan_listener_change(row.running, row.next);
        CHECK(change.step == row.step);
        bool binds = row.step == ListenerStep::start || row.step == ListenerStep::bind_then_close ||
                     row.step == ListenerStep::close_then_bind;
        CHECK(change.next.has_value() == binds);
        if (binds) CHECK(*change.next == hp(row.next));
    }
}

TEST_CASE("listener change: port 0 never conflicts", "[server]") {
    CHECK_FALSE(listeners_conflict(hp("0.0.0.0:0"), hp("127.0.0.1:0")));
    CHECK(listeners_conflict(hp("127.0.0.1:80"), hp("127.0.0.1:80")));
    CHECK_FALSE(listeners_conflict(hp("127.0.0.1:80"), hp("127.0.0.2:80")));
}

TEST_CASE("health timeout: 2 x syncPeriod, and a reload moves it", "[server]") {
    CHECK(health_timeout(30s) == 60s);
    auto t0 = WallClock::time_point(std::chrono::hours(1000));
    ProxyHealth h(health_timeout(30s));
    h.queued(t0);
    CHECK(h.healthy(t0 + 45s));
    h.set_timeout(health_timeout(10s));
    CHECK_FALSE(h.healthy(t0 + 45s));
    CHECK(h.healthy(t0 + 20s));
}
