// The watch client and informer against the fake API server over TLS on
// 127.0.0.1: sync, events, timeouts, 410, faults, certificates, and a
// fail-at-every-step sweep. After every fault the cache must equal the
// server's objects.
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <set>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "fake_apiserver.hpp"
#include "kube/backoff.hpp"
#include "kube/informer.hpp"
#include "kube/informer_cache.hpp"
#include "log/log.hpp"
#include "test_support.hpp"

using namespace kipvs;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

config::KubeCredentials credentials(const test::FakeApiServer& server, const std::string& ca = "ca") {
    config::KubeCredentials c;
    c.file = "(test)";
    c.server = *config::ServerUrl::parse(server.url());
    c.ca_pem = test::read_file(test::test_cert_dir() + "/" + ca + ".crt");
    c.token = "test-token";
    return c;
}

// Deadlines a loaded test machine never reaches by accident (a resolve of
// 127.0.0.1 was seen to take over 2 s at a load of 13 on two cores, failing the
// exact error counts of the sweep below); tests of a deadline set it short.
kube::ClientOptions fast_client() {
    kube::ClientOptions o;
    o.connect_timeout = 10s;
    o.handshake_timeout = 10s;
    o.request_timeout = 10s;
    o.watch_idle_timeout = 10s;
    return o;
}

kube::InformerOptions fast_services() {
    auto o = kube::services_informer();
    o.page_limit = 7;
    o.backoff_initial = 20ms;
    o.backoff_cap = 200ms;
    return o;
}

std::string service_json(const std::string& name, int port, const std::string& extra_labels = "") {
    return R"({"metadata": {"name": ")" + name + R"(", "namespace": "t", "labels": {"app": "x")" + extra_labels +
           R"(}}, "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": )" + std::to_string(port) + "}]}}";
}

// The test's own record of what the server holds (services in namespace t).
struct World {
    test::FakeApiServer& server;
    std::map<std::string, int> services;  // "t/name" → port

    void put(const std::string& name, int port) {
        server.command(R"({"op": "put", "resource": "services", "object": )" + service_json(name, port) + "}");
        services["t/" + name] = port;
    }
    void remove(const std::string& name) {
        server.command(R"({"op": "delete", "resource": "services", "key": "t/)" + name + "\"}");
        services.erase("t/" + name);
    }
};

struct Harness {
    asio::io_context io;
    std::vector<std::string> changes;
    kube::InformerCache<model::Service> cache;
    std::optional<kube::Informer> informer;
    bool done = false;

    Harness(const config::KubeCredentials& creds, kube::ClientOptions client = fast_client(),
            kube::InformerOptions options = fast_services())
        : cache(kube::Handlers<model::Service>{
              [this](kube::ChangeKind k, const std::string&, const model::Service* old, const model::Service* cur) {
                  changes.push_back(std::string(k == kube::ChangeKind::added     ? "add "
                                                : k == kube::ChangeKind::updated ? "update "
                                                                                 : "delete ") +
                                    (cur ? cur->name : old->name));
              },
              {}}) {
        informer.emplace(io.get_executor(), creds, std::move(client), cache, std::move(options));
        asio::co_spawn(io, informer->run(), [this](std::exception_ptr) { done = true; });
    }
    ~Harness() {
        informer->stop();
        run_until([this] { return done; }, 3s);
    }

    template <class Pred>
    bool run_until(Pred pred, std::chrono::milliseconds limit = 10s) {
        auto end = std::chrono::steady_clock::now() + limit;
        while (!pred()) {
            if (std::chrono::steady_clock::now() > end) return false;
            io.run_for(10ms);
        }
        return true;
    }
    void run_for(std::chrono::milliseconds d) {
        auto end = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < end) io.run_for(10ms);
    }

    std::map<std::string, int> contents() const {
        std::map<std::string, int> out;
        for (const auto& [k, s] : cache.snapshot()) out[k] = s.ports.empty() ? 0 : s.ports[0].port;
        return out;
    }
    bool equals(const World& w) { return run_until([&] { return cache.synced() && contents() == w.services; }); }
    const kube::InformerStats& stats() { return cache.stats(); }
};

struct Quiet {
    Quiet() { log::set_level(std::getenv("KIPVS_TEST_VERBOSE") ? log::Level::debug : log::Level::error); }
    ~Quiet() { log::set_level(log::Level::info); }
};

}  // namespace

TEST_CASE("list with pagination, then watch: the cache follows the server", "[kube-client]") {
    Quiet quiet;
    test::FakeApiServer server(test::test_cert_dir());
    World world{server, {}};
    for (int i = 0; i < 20; ++i) world.put("svc-" + std::to_string(i), 1000 + i);
    // kube-proxy's selector: another proxy's service and a headless one never reach the cache.
    server.command(R"({"op": "put", "resource": "services", "object": )" +
                   service_json("foreign", 1, R"(, "service.kubernetes.io/service-proxy-name": "other")") + "}");
    server.command(R"({"op": "put", "resource": "services", "object": )" +
                   service_json("headless", 1, R"(, "service.kubernetes.io/headless": "")") + "}");
    Harness h(credentials(server));
    REQUIRE(h.equals(world));
    CHECK(h.stats().lists == 1);
    CHECK(h.stats().list_pages == 3);  // 20 objects, 7 a page
    world.put("svc-3", 3333);
    world.remove("svc-4");
    world.put("svc-new", 4444);
    REQUIRE(h.equals(world));
    CHECK(h.stats().lists == 1);
    CHECK(h.informer->client().connects() == 1);  // list and watch share one kept-alive connection
}

TEST_CASE("a watch the server ends is resumed without a relist", "[kube-client]") {
    Quiet quiet;
    test::FakeApiServer server(test::test_cert_dir());
    World world{server, {}};
    world.put("a", 1);
    server.command(R"({"op": "bookmarks", "seconds": 0.05})");
    Harness h(credentials(server));
    REQUIRE(h.equals(world));
    h.run_for(200ms);
    for (int i = 0; i < 3; ++i) {
        auto watches = h.stats().watches;
        server.command(R"({"op": "end_watches"})");
        REQUIRE(h.run_until([&] { return h.stats().watches > watches; }));
        world.put("a", 10 + i);
        REQUIRE(h.equals(world));
    }
    CHECK(h.stats().lists == 1);
    CHECK(h.stats().relists == 0);
    CHECK(h.stats().watch_ends >= 3);
    CHECK(h.stats().bookmarks > 0);
}

TEST_CASE("410 Gone relists and the consumer sees only real changes", "[kube-client]") {
    Quiet quiet;
    test::FakeApiServer server(test::test_cert_dir());
    World world{server, {}};
    for (int i = 0; i < 10; ++i) world.put("svc-" + std::to_string(i), 1000 + i);
    Harness h(credentials(server));
    REQUIRE(h.equals(world));
    for (bool as_status : {false, true}) {
        INFO((as_status ? "410 as HTTP status" : "410 as ERROR event"));
        server.command(std::string(R"({"op": "gone_as_status", "on": )") + (as_status ? "true" : "false") + "}");
        server.command(R"({"op": "stall"})");  // changes happen while the watch hears nothing
        h.run_for(100ms);
        auto relists = h.stats().relists;
        h.changes.clear();
        const std::string round = as_status ? "b" : "a";
        world.put("svc-1", as_status ? 3001 : 2001);
        world.remove(as_status ? "svc-3" : "svc-2");
        world.put("svc-" + round, 2002);
        server.command(R"({"op": "compact"})");
        server.command(R"({"op": "stall", "on": false})");
        if (as_status) server.command(R"({"op": "disconnect"})");  // the new watch request meets the 410
        REQUIRE(h.equals(world));
        CHECK(h.stats().relists == relists + 1);
        std::sort(h.changes.begin(), h.changes.end());
        if (as_status) CHECK(h.changes == std::vector<std::string>{"add svc-b", "delete svc-3", "update svc-1"});
        else CHECK(h.changes == std::vector<std::string>{"add svc-a", "delete svc-2", "update svc-1"});
    }
    CHECK(h.stats().gone == 2);
}

TEST_CASE("stream faults: disconnects, split chunks, a malformed line, a stalled stream", "[kube-client]") {
    Quiet quiet;
    test::FakeApiServer server(test::test_cert_dir());
    World world{server, {}};
    world.put("a", 1);
    auto client = fast_client();
    client.watch_idle_timeout = 400ms;
    server.command(R"({"op": "bookmarks", "seconds": 0.1})");
    Harness h(credentials(server), client);
    REQUIRE(h.equals(world));

    SECTION("abrupt disconnects") {
        for (int i = 0; i < 3; ++i) {
            server.command(R"({"op": "disconnect"})");
            world.put("d" + std::to_string(i), 100 + i);
            REQUIRE(h.equals(world));
        }
        CHECK(h.stats().errors >= 1);
    }
    SECTION("events split across many chunks and reads") {
        server.command(R"({"op": "split", "on": true})");
        for (int i = 0; i < 10; ++i) world.put("s" + std::to_string(i), 100 + i);
        REQUIRE(h.equals(world));
        CHECK(h.stats().errors == 0);
    }
    SECTION("a malformed line drops the stream; the watch resumes") {
        server.command(R"({"op": "malformed"})");
        world.put("m", 5);
        world.put("n", 6);
        REQUIRE(h.equals(world));
        CHECK(h.stats().errors >= 1);
    }
    SECTION("a stalled stream hits the idle deadline") {
        server.command(R"({"op": "stall"})");
        auto errors = h.stats().errors;
        REQUIRE(h.run_until([&] { return h.stats().errors > errors; }, 3s));
        server.command(R"({"op": "stall", "on": false})");
        world.put("after-stall", 7);
        REQUIRE(h.equals(world));
    }
    CHECK(h.stats().relists == 0);
}

TEST_CASE("500 and 429 on LIST: bounded retries, Retry-After honoured", "[kube-client]") {
    Quiet quiet;
    test::FakeApiServer server(test::test_cert_dir());
    World world{server, {}};
    world.put("a", 1);
    server.command(R"({"op": "list_status", "codes": [500, 500, 500, 500, 500, 500, 500, 500]})");
    auto options = fast_services();
    Harness h(credentials(server), fast_client(), options);
    // Backoff 20 ms doubling to a 200 ms cap: 8 failures need well over 600 ms.
    h.run_for(500ms);
    CHECK(h.stats().lists <= 7);
    CHECK_FALSE(h.cache.synced());
    REQUIRE(h.equals(world));

    server.command(R"({"op": "list_status", "codes": [429]})");
    server.command(R"({"op": "compact"})");
    server.command(R"({"op": "gone_as_status", "on": true})");
    server.command(R"({"op": "disconnect"})");
    auto start = std::chrono::steady_clock::now();
    auto lists = h.stats().lists;
    world.put("b", 2);
    REQUIRE(h.run_until([&] { return h.stats().lists >= lists + 2; }));
    CHECK(std::chrono::steady_clock::now() - start >= 900ms);  // Retry-After: 1
    REQUIRE(h.equals(world));
}

TEST_CASE("certificates: another CA and a wrong SAN are refused; tls-server-name", "[kube-client]") {
    Quiet quiet;
    SECTION("a server certificate from another CA") {
        test::FakeApiServer server(test::test_cert_dir(), "rogue");
        server.command(R"({"op": "put", "resource": "services", "object": )" + service_json("a", 1) + "}");
        Harness h(credentials(server));
        h.run_for(400ms);
        CHECK_FALSE(h.cache.synced());
        CHECK(h.stats().errors >= 1);
        CHECK(h.informer->client().connects() == 0);
    }
    SECTION("a certificate whose SAN does not name the server") {
        test::FakeApiServer server(test::test_cert_dir(), "wrongsan");
        server.command(R"({"op": "put", "resource": "services", "object": )" + service_json("a", 1) + "}");
        {
            Harness h(credentials(server));
            h.run_for(400ms);
            CHECK_FALSE(h.cache.synced());
            CHECK(h.informer->client().connects() == 0);
        }
        // tls-server-name names what the certificate does say.
        auto creds = credentials(server);
        creds.tls_server_name = "elsewhere.example";
        Harness ok(creds);
        CHECK(ok.run_until([&] { return ok.cache.synced(); }));
        CHECK(ok.cache.size() == 1);
    }
    SECTION("insecure-skip-tls-verify accepts it (with a warning)") {
        test::FakeApiServer server(test::test_cert_dir(), "rogue");
        auto creds = credentials(server);
        creds.insecure_skip_tls_verify = true;
        Harness h(creds);
        CHECK(h.run_until([&] { return h.cache.synced(); }));
    }
}

TEST_CASE("connection refused is reported naming the server", "[kube-client]") {
    Quiet quiet;
    int port;
    {
        test::FakeApiServer gone(test::test_cert_dir());
        port = gone.port();
    }
    config::KubeCredentials c;
    c.server = *config::ServerUrl::parse("https://127.0.0.1:" + std::to_string(port));
    asio::io_context io;
    kube::ApiClient client(io.get_executor(), c, fast_client());
    std::string error;
    asio::co_spawn(io, client.get("/api/v1/services"), [&](std::exception_ptr e, std::string) {
        try {
            if (e) std::rethrow_exception(e);
        } catch (const std::exception& x) {
            error = x.what();
        }
    });
    for (int i = 0; i < 300 && error.empty(); ++i) io.run_for(10ms);
    CHECK(error == "connect https://127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

namespace {
std::string get_error(asio::io_context& io, kube::ApiClient& client, const std::string& target) {
    std::string error = "(none)";
    bool finished = false;
    io.restart();  // run_for left it stopped when the previous request was its only work
    asio::co_spawn(io, client.get(target), [&](std::exception_ptr e, std::string) {
        finished = true;
        try {
            if (e) std::rethrow_exception(e);
        } catch (const std::exception& x) {
            error = x.what();
        }
    });
    for (int i = 0; i < 500 && !finished; ++i) io.run_for(10ms);
    return error;
}
}  // namespace

TEST_CASE("401 and 403 say what is wrong; a rotated token file is re-read", "[kube-client]") {
    Quiet quiet;
    test::FakeApiServer server(test::test_cert_dir());
    test::TempDir dir;
    auto creds = credentials(server);
    creds.file = "/etc/kipvs/kubeconfig";
    creds.token.clear();
    creds.token_file = dir.write("token", "first\n");
    asio::io_context io;
    kube::ApiClient client(io.get_executor(), creds, fast_client());
    server.command(R"({"op": "auth", "token": "first"})");
    CHECK(get_error(io, client, "/api/v1/services") == "(none)");
    server.command(R"({"op": "auth", "token": "second"})");
    CHECK(get_error(io, client, "/api/v1/services") ==
          server.url() + ": the API server did not accept the credential (token file " + creds.token_file +
              " from /etc/kipvs/kubeconfig): it is wrong, expired or unknown to this cluster: Unauthorized");
    std::this_thread::sleep_for(20ms);  // a distinct mtime
    dir.write("token", "second\n");
    CHECK(get_error(io, client, "/api/v1/services") == "(none)");
    server.command(R"({"op": "auth", "forbid": true})");
    CHECK(get_error(io, client, "/api/v1/services").find(
              "lacks the rights kipvs needs; apply configs/rbac.yaml: services is forbidden") != std::string::npos);
}

namespace {
// One value of the server's {"op": "stats"} line as JSON text: a number,
// "a string" (none of the fake's have quotes inside) or null.
std::string server_stat_text(test::FakeApiServer& server, const std::string& name) {
    std::string line = server.command(R"({"op": "stats"})");
    auto pos = line.find("\"" + name + "\": ");
    if (pos == std::string::npos) return "(absent)";
    pos += name.size() + 4;
    auto end = line[pos] == '"' ? line.find('"', pos + 1) + 1 : line.find_first_of(",}", pos);
    return line.substr(pos, end - pos);
}
long server_stat(test::FakeApiServer& server, const std::string& name) {
    return std::atol(server_stat_text(server, name).c_str());
}

config::KubeCredentials with_client_cert(config::KubeCredentials c, const std::string& name) {
    c.client_cert_pem = test::read_file(test::test_cert_dir() + "/" + name + ".crt");
    c.client_key_pem = test::read_file(test::test_cert_dir() + "/" + name + ".key");
    c.token.clear();
    return c;
}
}  // namespace

TEST_CASE("mutual TLS: the kubeconfig's client certificate is presented; none or a foreign one is refused",
          "[kube-client]") {
    Quiet quiet;
    test::FakeApiServer server(test::test_cert_dir(), "server", "ca");
    World world{server, {}};
    world.put("a", 1);
    SECTION("the client certificate from the kubeconfig") {
        Harness h(with_client_cert(credentials(server), "client"));
        REQUIRE(h.equals(world));
        CHECK(h.stats().errors == 0);
        CHECK(server_stat(server, "handshake_failures") == 0);
    }
    for (std::string cert : {"", "rogueclient"}) {
        DYNAMIC_SECTION((cert.empty() ? "no client certificate" : "a client certificate from another CA")) {
            auto creds = cert.empty() ? credentials(server) : with_client_cert(credentials(server), cert);
            creds.file = "/etc/kipvs/kubeconfig";
            {
                asio::io_context io;
                kube::ApiClient client(io.get_executor(), creds, fast_client());
                // OpenSSL's words for the alert, then what to fix.
                std::string error = get_error(io, client, "/api/v1/services");
                INFO(error);
                CHECK(error.starts_with("response header " + server.url() + ": "));
                if (cert.empty()) {
                    CHECK(error.find("alert certificate required") != std::string::npos);
                    CHECK(error.ends_with(
                        "; the API server requires a client certificate and /etc/kipvs/kubeconfig gives none"));
                } else {
                    CHECK(error.find("alert unknown ca") != std::string::npos);
                    CHECK(error.ends_with("; the API server refused the client certificate from "
                                          "/etc/kipvs/kubeconfig (not signed by a CA it trusts, expired or revoked)"));
                }
            }
            // The informer keeps trying, each attempt after a backoff step:
            // 20 ms doubling to 200 ms, each drawn from [d/2, d], allows at
            // most 12 attempts in a second (at 0, 10, 30, 70, 150, 250 … ms);
            // a hot loop would make hundreds. A loaded machine only makes fewer.
            long before = server_stat(server, "handshake_failures");
            Harness h(creds);
            h.run_for(1s);
            CHECK(server_stat(server, "handshake_failures") - before <= 12);
            REQUIRE(h.run_until([&] { return h.stats().errors >= 3; }));
            CHECK_FALSE(h.cache.synced());
            long refused = server_stat(server, "handshake_failures") - before;
            // One LIST per attempt (an attempt in flight may be counted on one side only).
            CHECK(std::labs(static_cast<long>(h.stats().lists) - refused) <= 1);
            CHECK(h.stats().lists - h.stats().errors <= 1);
        }
    }
}

TEST_CASE("a server that never answers the TLS handshake: a handshake timeout, then recovery", "[kube-client]") {
    Quiet quiet;
    test::FakeApiServer server(test::test_cert_dir());
    World world{server, {}};
    world.put("a", 1);
    server.command(R"({"op": "tls_stall"})");  // TCP is accepted; the handshake gets no answer
    auto options = fast_client();
    options.handshake_timeout = 300ms;
    {
        asio::io_context io;
        kube::ApiClient client(io.get_executor(), credentials(server), options);
        auto start = std::chrono::steady_clock::now();
        CHECK(get_error(io, client, "/api/v1/services") == "TLS handshake " + server.url() + ": timed out");
        auto took = std::chrono::steady_clock::now() - start;
        CHECK(took >= 300ms);
        CHECK(took < 5s);  // the deadline, not TCP's own minutes
    }
    Harness h(credentials(server), options);
    auto start = std::chrono::steady_clock::now();
    REQUIRE(h.run_until([&] { return h.stats().errors >= 2; }));
    CHECK(std::chrono::steady_clock::now() - start >= 600ms);  // each attempt waited out its deadline
    CHECK_FALSE(h.cache.synced());
    server.command(R"({"op": "tls_stall", "on": false})");
    REQUIRE(h.equals(world));
    world.put("b", 2);
    REQUIRE(h.equals(world));
}

TEST_CASE("a connect that gets no answer is reported as a connect timeout", "[kube-client]") {
    Quiet quiet;
    // A listener whose accept queue is full: Linux drops further SYNs (the
    // client retransmits and waits), as with a black-holed route, but all on
    // 127.0.0.1. A backlog of 0 holds one connection; the filler takes it.
    asio::io_context io;
    asio::ip::tcp::acceptor listener(io, {asio::ip::make_address("127.0.0.1"), 0});
    listener.listen(0);
    asio::ip::tcp::socket filler(io);
    filler.connect(listener.local_endpoint());
    std::string url = "https://127.0.0.1:" + std::to_string(listener.local_endpoint().port());
    config::KubeCredentials c;
    c.file = "(test)";
    c.server = *config::ServerUrl::parse(url);
    auto options = fast_client();
    options.connect_timeout = 300ms;
    kube::ApiClient client(io.get_executor(), c, options);
    auto start = std::chrono::steady_clock::now();
    CHECK(get_error(io, client, "/api/v1/services") == "connect " + url + ": timed out");
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 300ms);
    CHECK(took < 5s);  // the deadline, not the kernel's SYN retries (about two minutes)
    CHECK(client.connects() == 0);
}

TEST_CASE("a LIST that gets no answer hits the request deadline, then recovers", "[kube-client]") {
    Quiet quiet;
    test::FakeApiServer server(test::test_cert_dir());
    World world{server, {}};
    world.put("a", 1);
    server.command(R"({"op": "list_delay", "seconds": 2})");
    auto options = fast_client();
    options.request_timeout = 300ms;
    {
        asio::io_context io;
        kube::ApiClient client(io.get_executor(), credentials(server), options);
        CHECK(get_error(io, client, "/api/v1/services") == "response header " + server.url() + ": timed out");
    }
    Harness h(credentials(server), options);
    REQUIRE(h.run_until([&] { return h.stats().errors >= 1; }));
    CHECK_FALSE(h.cache.synced());
    server.command(R"({"op": "list_delay", "seconds": 0})");
    REQUIRE(h.equals(world));
}

TEST_CASE("an expired continue token restarts the list, without a relist", "[kube-client]") {
    Quiet quiet;
    test::FakeApiServer server(test::test_cert_dir());
    World world{server, {}};
    for (int i = 0; i < 20; ++i) world.put("svc-" + std::to_string(i), 1000 + i);
    server.command(R"({"op": "expire_continue"})");  // the second page meets 410 Expired
    Harness h(credentials(server));
    REQUIRE(h.equals(world));
    CHECK(h.stats().lists == 1);
    CHECK(h.stats().relists == 0);
    CHECK(h.stats().errors == 0);
    CHECK(h.stats().list_pages == 4);  // page 1, then (after the 410 on page 2) pages 1-3 again
}

TEST_CASE("the request says who is asking and for what; SNI names a host, never an address", "[kube-client]") {
    Quiet quiet;
    {
        test::FakeApiServer server(test::test_cert_dir());
        asio::io_context io;
        kube::ApiClient client(io.get_executor(), credentials(server), fast_client());
        REQUIRE(get_error(io, client, "/api/v1/services") == "(none)");
        CHECK(server_stat_text(server, "user_agent").starts_with("\"kipvs/"));
        CHECK(server_stat_text(server, "accept") == "\"application/json\"");
        CHECK(server_stat_text(server, "sni") == "null");  // RFC 6066: no IP addresses in SNI
    }
    test::FakeApiServer server(test::test_cert_dir(), "wrongsan");
    auto creds = credentials(server);
    creds.tls_server_name = "elsewhere.example";
    asio::io_context io;
    kube::ApiClient client(io.get_executor(), creds, fast_client());
    REQUIRE(get_error(io, client, "/api/v1/services") == "(none)");
    CHECK(server_stat_text(server, "sni") == "\"elsewhere.example\"");
}

// Beast's own tests drive a parser through a stream that fails at step N for
// N = 1, 2, 3 …; here the client fails at each of its steps in turn and must
// recover every time.
TEST_CASE("fail at every step of connect, handshake, request and stream", "[kube-client]") {
    Quiet quiet;
    test::FakeApiServer server(test::test_cert_dir());
    World world{server, {}};
    for (int i = 0; i < 10; ++i) world.put("svc-" + std::to_string(i), 100 + i);
    int covered = 0;
    for (int fail_at = 1; fail_at <= 14; ++fail_at) {
        INFO("failing step " << fail_at);
        int calls = 0;
        bool failed = false;
        auto client = fast_client();
        client.fault = [&](kube::ClientStep step) {
            if (++calls == fail_at) {
                failed = true;
                throw kube::NetworkError("injected failure at " + std::string(kube::step_name(step)));
            }
        };
        Harness h(credentials(server), client);
        REQUIRE(h.equals(world));
        world.put("svc-0", 100 + fail_at);
        REQUIRE(h.equals(world));
        if (failed) ++covered;
        CHECK(h.stats().errors == (failed ? 1u : 0u));
    }
    CHECK(covered == 14);
}

TEST_CASE("the informers' backoff: 1 s doubling to a 30 s cap, each step jittered down to half", "[kube-cache]") {
    using std::chrono::milliseconds;
    kube::InformerOptions defaults;
    CHECK(defaults.backoff_initial == std::chrono::seconds(1));
    CHECK(defaults.backoff_cap == std::chrono::seconds(30));
    kube::Backoff backoff(defaults.backoff_initial, defaults.backoff_cap);
    const std::vector<long> steps = {1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
    for (long step : steps) {
        auto d = backoff.next();
        INFO(step);
        CHECK(d >= milliseconds(step / 2));
        CHECK(d <= milliseconds(step));
    }
    backoff.reset();
    CHECK(backoff.current() == std::chrono::seconds(1));
}
