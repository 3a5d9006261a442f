// Events: their JSON as the API server validates it (the fake server checks
// the same rules), and the recorder posting them over TLS to the fake API
// server: fields, the real uid of the object, repeats suppressed for the
// window, retries of 5xx only, and an unreachable server costing the caller
// nothing (bounded queue, drops counted).
#include <catch2/catch.hpp>

#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "fake_apiserver.hpp"
#include "kube/event.hpp"
#include "kube/event_recorder.hpp"
#include "log/log.hpp"
#include "test_support.hpp"

using namespace kipvs;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

config::KubeCredentials credentials(const std::string& url) {
    config::KubeCredentials c;
    c.file = "(test)";
    c.server = *config::ServerUrl::parse(url);
    c.ca_pem = test::read_file(test::test_cert_dir() + "/ca.crt");
    c.token = "test-token";
    return c;
}

kube::RecorderOptions fast_recorder() {
    kube::RecorderOptions o;
    o.retry_pause = 20ms;
    // Generous: a loaded two-core machine was seen to take seconds for a local TLS handshake.
    o.client.connect_timeout = 10s;
    o.client.handshake_timeout = 10s;
    o.client.request_timeout = 10s;
    return o;
}

struct Quiet {
    Quiet() { log::set_level(std::getenv("KIPVS_TEST_VERBOSE") ? log::Level::debug : log::Level::error); }
    ~Quiet() { log::set_level(log::Level::info); }
};

template <class Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds limit = 15s) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        io.restart();
        io.run_for(10ms);
    }
    return true;
}

json::array server_events(test::FakeApiServer& server) {
    return json::parse(server.command(R"({"op": "events"})")).as_object().at("events").as_array();
}

std::string text(const json::value& object, std::initializer_list<const char*> path) {
    const json::value* v = &object;
    for (const char* key : path) {
        const auto* next = v->as_object().if_contains(key);
        if (!next) return "(absent)";
        v = next;
    }
    return v->is_string() ? std::string(v->as_string()) : json::serialize(*v);
}

}  // namespace

TEST_CASE("an Event's JSON carries what events.k8s.io/v1 requires", "[kube-events]") {
    auto e = kube::service_health_check_failed("node-a", "shop/web", 30100,
                                               "health check of shop/web: listening on 0.0.0.0:30100: Address in use");
    // 2025-12-05T00:00:00.123456789Z (libc++'s system clock counts microseconds)
    e.time = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(1764892800123456789ns));
    CHECK(e.note == "node node-a failed to start healthcheck \"shop/web\" on port 30100: "
                    "listening on 0.0.0.0:30100: Address in use");
    CHECK(kube::micro_time(e.time) == "2025-12-05T00:00:00.123456Z");
    CHECK(kube::event_name(e, 0x1234abcd) == "web.1234abcd");
    auto v = json::parse(kube::event_json(e, "web.1", "node-a"));
    CHECK(text(v, {"apiVersion"}) == "events.k8s.io/v1");
    CHECK(text(v, {"kind"}) == "Event");
    CHECK(text(v, {"metadata", "name"}) == "web.1");
    CHECK(text(v, {"metadata", "namespace"}) == "shop");
    CHECK(text(v, {"eventTime"}) == "2025-12-05T00:00:00.123456Z");
    CHECK(text(v, {"reportingController"}) == "kipvs");
    CHECK(text(v, {"reportingInstance"}) == "node-a");
    CHECK(text(v, {"type"}) == "Warning");
    CHECK(text(v, {"reason"}) == "FailedToStartServiceHealthcheck");
    CHECK(text(v, {"action"}) == "Listen");
    CHECK(text(v, {"regarding", "kind"}) == "Service");
    CHECK(text(v, {"regarding", "apiVersion"}) == "v1");
    CHECK(text(v, {"regarding", "namespace"}) == "shop");
    CHECK(text(v, {"regarding", "name"}) == "web");
    CHECK(text(v, {"regarding", "uid"}) == "(absent)");  // not known yet: the recorder looks it up

    // A cluster-scoped object's events live in "default"; the reference has no namespace.
    auto start = kube::node_started("node-a", "1.2.3");
    start.regarding.uid = "u-1";
    auto n = json::parse(kube::event_json(start, "node-a.2", "node-a"));
    CHECK(text(n, {"metadata", "namespace"}) == "default");
    CHECK(text(n, {"regarding", "namespace"}) == "(absent)");
    CHECK(text(n, {"regarding", "uid"}) == "u-1");
    CHECK(text(n, {"reason"}) == "Starting");
    CHECK(text(n, {"action"}) == "StartKubeProxy");
    CHECK(text(n, {"type"}) == "Normal");
    CHECK(kube::object_path(start.regarding) == "/api/v1/nodes/node-a");
    CHECK(kube::object_path(e.regarding) == "/api/v1/namespaces/shop/services/web");

    // Notes are cut to the API's 1 kB, never inside a UTF-8 character.
    auto s = kube::unknown_scheduler("shop/web", std::string(1023, 'x') + "\xc3\xa9");
    auto cut = json::parse(kube::event_json(s, "web.3", "node-a"));
    CHECK(text(cut, {"note"}) == std::string(1023, 'x'));
    CHECK(text(cut, {"reason"}) == "UnknownScheduler");

    CHECK(kube::uid_of(R"({"metadata": {"name": "a", "uid": "abc"}})") == "abc");
    CHECK(kube::uid_of(R"({"metadata": {"name": "a"}})").empty());
    CHECK(kube::uid_of("not json").empty());
}

TEST_CASE("events reach the API server with the object's uid; repeats wait for the window", "[kube-events]") {
    Quiet quiet;
    test::FakeApiServer server(test::test_cert_dir());
    server.command(R"({"op": "put", "resource": "services", "object": {"metadata": {"name": "web", "namespace": "shop", "uid": "svc-uid-1"}, "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 80}]}}})");
    server.command(R"({"op": "put", "resource": "nodes", "object": {"metadata": {"name": "node-a", "uid": "node-uid-1"}}})");

    auto wall = std::chrono::system_clock::now();
    auto options = fast_recorder();
    options.clock = [&wall] { return wall; };
    asio::io_context io;
    kube::EventRecorder recorder(io.get_executor(), credentials(server.url()), "node-a", options);
    REQUIRE(recorder.posting());

    recorder.record(kube::node_started("node-a", "1.2.3"));
    auto failed = kube::service_health_check_failed("node-a", "shop/web", 30100, "Address already in use");
    recorder.record(failed);
    recorder.record(failed);  // a repeat: not posted
    wall += 1s;
    recorder.record(failed);
    REQUIRE(run_until(io, [&] { return recorder.idle() && recorder.stats().posted == 2; }));
    CHECK(recorder.stats().suppressed == 2);

    auto events = server_events(server);
    REQUIRE(events.size() == 2);
    const auto& start = events[0];
    CHECK(text(start, {"reason"}) == "Starting");
    CHECK(text(start, {"regarding", "kind"}) == "Node");
    CHECK(text(start, {"regarding", "name"}) == "node-a");
    CHECK(text(start, {"regarding", "uid"}) == "node-uid-1");
    CHECK(text(start, {"metadata", "namespace"}) == "default");
    CHECK(text(start, {"reportingController"}) == "kipvs");
    CHECK(text(start, {"reportingInstance"}) == "node-a");
    CHECK(text(start, {"eventTime"}) == kube::micro_time(wall - 1s));
    const auto& hc = events[1];
    CHECK(text(hc, {"type"}) == "Warning");
    CHECK(text(hc, {"reason"}) == "FailedToStartServiceHealthcheck");
    CHECK(text(hc, {"action"}) == "Listen");
    CHECK(text(hc, {"note"}) == "node node-a failed to start healthcheck \"shop/web\" on port 30100: Address already in use");
    CHECK(text(hc, {"regarding", "uid"}) == "svc-uid-1");
    CHECK(text(hc, {"regarding", "namespace"}) == "shop");
    CHECK(text(hc, {"metadata", "namespace"}) == "shop");
    CHECK(text(hc, {"metadata", "name"}).rfind("web.", 0) == 0);

    // After the window the same event is posted again; another note at once.
    wall += 600s;
    recorder.record(failed);
    recorder.record(kube::service_health_check_failed("node-a", "shop/web", 30101, "Address already in use"));
    // An object the server does not have is referred to without a uid.
    recorder.record(kube::unknown_scheduler("shop/gone", "shop/gone: unknown scheduler \"fast\" in annotation, using rr"));
    REQUIRE(run_until(io, [&] { return recorder.idle() && recorder.stats().posted == 5; }));
    events = server_events(server);
    REQUIRE(events.size() == 5);
    CHECK(text(events[2], {"note"}) == text(events[1], {"note"}));
    CHECK(text(events[2], {"metadata", "name"}) != text(events[1], {"metadata", "name"}));
    CHECK(text(events[4], {"regarding", "name"}) == "gone");
    CHECK(text(events[4], {"regarding", "uid"}) == "(absent)");
    CHECK(recorder.stats().dropped == 0);
}

TEST_CASE("a 5xx is retried, a refusal is not", "[kube-events]") {
    Quiet quiet;
    test::FakeApiServer server(test::test_cert_dir());
    asio::io_context io;
    kube::EventRecorder recorder(io.get_executor(), credentials(server.url()), "node-a", fast_recorder());

    server.command(R"({"op": "event_status", "codes": [503, 500]})");
    recorder.record(kube::node_started("node-a", "1"));
    REQUIRE(run_until(io, [&] { return recorder.idle(); }));
    CHECK(recorder.stats().posted == 1);
    CHECK(recorder.stats().failed_attempts == 2);
    CHECK(server_events(server).size() == 1);

    server.command(R"({"op": "event_status", "codes": [503, 503, 503]})");
    recorder.record(kube::unknown_scheduler("shop/web", "three 503s"));
    REQUIRE(run_until(io, [&] { return recorder.idle(); }));
    CHECK(recorder.stats().dropped == 1);  // three attempts, then dropped
    CHECK(recorder.stats().failed_attempts == 5);

    server.command(R"({"op": "auth", "forbid": true})");
    recorder.record(kube::unknown_scheduler("shop/web", "forbidden"));
    REQUIRE(run_until(io, [&] { return recorder.idle(); }));
    CHECK(recorder.stats().dropped == 2);
    CHECK(recorder.stats().failed_attempts == 6);  // 403: one attempt

    // The server comes back: posting resumes.
    server.command(R"({"op": "auth", "forbid": false})");
    recorder.record(kube::unknown_scheduler("shop/web", "back"));
    REQUIRE(run_until(io, [&] { return recorder.idle(); }));
    CHECK(recorder.stats().posted == 2);
    CHECK(server_events(server).size() == 2);
}

TEST_CASE("an unreachable API server: record() only queues, the queue is capped, drops are counted",
          "[kube-events]") {
    Quiet quiet;
    int port;
    {
        test::FakeApiServer gone(test::test_cert_dir());
        port = gone.port();
    }
    asio::io_context io;
    auto options = fast_recorder();
    options.queue_limit = 8;
    kube::EventRecorder recorder(io.get_executor(), credentials("https://127.0.0.1:" + std::to_string(port)), "node-a",
                                 options);
    // Nothing runs the io_context while recording: record() cannot wait on the network.
    for (int i = 0; i < 100; ++i) recorder.record(kube::unknown_scheduler("shop/web", "problem " + std::to_string(i)));
    CHECK(recorder.stats().recorded == 8);
    CHECK(recorder.stats().dropped == 92);
    CHECK(!recorder.idle());
    REQUIRE(run_until(io, [&] { return recorder.idle(); }));
    CHECK(recorder.stats().posted == 0);
    CHECK(recorder.stats().dropped == 100);
    CHECK(recorder.stats().failed_attempts == 8 * 3);

    // stop() drops what is queued and ends the loop.
    recorder.record(kube::unknown_scheduler("shop/web", "late"));
    recorder.stop();
    CHECK(recorder.idle());
    recorder.record(kube::unknown_scheduler("shop/web", "after stop"));
    CHECK(recorder.idle());
}

TEST_CASE("without an API server events are only logged, repeats still suppressed", "[kube-events]") {
    Quiet quiet;
    kube::EventRecorder recorder("node-a");
    CHECK(!recorder.posting());
    recorder.record(kube::node_started("node-a", "1"));
    recorder.record(kube::node_started("node-a", "1"));
    CHECK(recorder.stats().recorded == 1);
    CHECK(recorder.stats().suppressed == 1);
    CHECK(recorder.idle());
}
