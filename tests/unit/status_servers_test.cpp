// The daemon's HTTP endpoints over real loopback sockets and real threads:
// /healthz answers while a /metrics scrape is blocked in its kernel read, a
// reload moves the metrics server (new port answers, old one refused)
// without touching /healthz or its open connections, a new address that
// cannot be bound leaves the old server serving, and a health-check node
// port without nodePortAddresses answers on both families.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "server/status_servers.hpp"

using namespace kipvs;
using namespace kipvs::server;
using namespace std::chrono_literals;

namespace {

// A connected client socket, closed on scope exit; -1 when refused.
class Client {
public:
    Client(const char* address, std::uint16_t port) {
        sockaddr_storage ss{};
        socklen_t len = 0;
        auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
        if (::inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
            v4->sin_family = AF_INET;
            v4->sin_port = htons(port);
            len = sizeof *v4;
        } else if (::inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons(port);
            len = sizeof *v6;
        } else {
            throw std::runtime_error(std::string("bad address ") + address);
        }
        fd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        timeval tv{10, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~Client() {
        if (fd_ >= 0) ::close(fd_);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    bool connected() const { return fd_ >= 0; }

    // One keep-alive request; the whole answer (read up to its body's end:
    // Content-Length), or "" after 10 s without one.
    std::string get(const std::string& path) {
        if (fd_ < 0) return "";
        std::string req = "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n";
        if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return "";
        std::string got;
        char buf[65536];
        for (;;) {
            auto head_end = got.find("\r\n\r\n");
            if (head_end != std::string::npos) {
                auto cl = got.find("Content-Length: ");
                if (cl != std::string::npos && cl < head_end &&
                    got.size() >= head_end + 4 + std::stoul(got.substr(cl + 16)))
                    return got;
            }
            auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) return got;
            got.append(buf, static_cast<std::size_t>(n));
        }
    }

private:
    int fd_ = -1;
};

std::string status_of(const std::string& answer) { return answer.substr(0, answer.find("\r\n")); }

// The daemon's io_context on its own thread; `on_loop` runs code there, as
// the daemon's own handlers do.
struct Loop {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
    std::thread thread{[this] { io.run(); }};
    ~Loop() {
        work.reset();
        io.stop();
        thread.join();
    }
    void on_loop(const std::function<void()>& f) {
        std::promise<void> done;
        boost::asio::post(io, [&] {
            f();
            done.set_value();
        });
        done.get_future().wait();
    }
};

struct Daemon {
    proxy::ObjectStore store;
    proxy::DesiredState desired;
    Monitor monitor{{model::Family::v4}, 60s, WallClock::now()};
};

config::Config local_config() {
    config::Config c;
    c.healthz_bind_address = "127.0.0.1:0";
    c.metrics_bind_address = "127.0.0.1:0";
    return c;
}

DaemonView view(Daemon& d, IpvsReader reader) {
    DaemonView v{d.store, d.desired, std::move(reader), [] { return nullptr; }};
    return v;
}

IpvsReader fixed_reader(std::string text) {
    return [text](const VsOwners&) { return IpvsScrape{text, ""}; };
}

}  // namespace

TEST_CASE("status servers: /healthz answers while a scrape waits on the kernel", "[server-http]") {
    Daemon d;
    std::promise<void> entered, release;
    auto released = release.get_future().share();
    std::atomic<int> reads{0};
    IpvsReader slow = [&](const VsOwners&) {
        if (++reads == 1) entered.set_value();
        released.wait();  // the kernel taking its time over 10k services
        return IpvsScrape{"ipvs_slow_read 1\n", ""};
    };
    Loop loop;
    std::unique_ptr<StatusServers> servers;
    loop.on_loop([&] {
        servers = std::make_unique<StatusServers>(loop.io, local_config(), d.monitor, view(d, slow));
    });
    std::uint16_t healthz = servers->healthz_port(), metrics = servers->metrics_port();
    REQUIRE(healthz != 0);
    REQUIRE(metrics != 0);

    auto scrape = std::async(std::launch::async, [metrics] { return Client("127.0.0.1", metrics).get("/metrics"); });
    REQUIRE(entered.get_future().wait_for(10s) == std::future_status::ready);
    // Another scrape now shares the read in flight.
    auto second = std::async(std::launch::async, [metrics] { return Client("127.0.0.1", metrics).get("/metrics"); });

    // The read is blocked until the test releases it: an event loop it
    // blocked could not answer this.
    auto health = Client("127.0.0.1", healthz).get("/healthz");
    CHECK(status_of(health) == "HTTP/1.1 200 OK");
    CHECK(scrape.wait_for(0s) == std::future_status::timeout);

    std::this_thread::sleep_for(200ms);  // lets the second scrape reach the loop
    release.set_value();
    auto got = scrape.get();
    CHECK(status_of(got) == "HTTP/1.1 200 OK");
    CHECK(got.find("kubeproxy_sync_proxy_rules_duration_seconds") != std::string::npos);
    CHECK(got.find("\nipvs_slow_read 1\n") != std::string::npos);
    CHECK(status_of(second.get()) == "HTTP/1.1 200 OK");
    CHECK(reads == 1);
    loop.on_loop([&] { servers.reset(); });
}

TEST_CASE("status servers: a reload moves metrics, leaves /healthz and its connections alone", "[server-http]") {
    Daemon d;
    Loop loop;
    std::unique_ptr<StatusServers> servers;
    auto config = local_config();
    loop.on_loop([&] {
        servers = std::make_unique<StatusServers>(loop.io, config, d.monitor, view(d, fixed_reader("")));
    });
    std::uint16_t healthz = servers->healthz_port(), old_metrics = servers->metrics_port();
    Client held("127.0.0.1", healthz);
    CHECK(status_of(held.get("/healthz")) == "HTTP/1.1 200 OK");

    // 127.0.0.2 is loopback too, and a port of its own.
    config.metrics_bind_address = "127.0.0.2:0";
    loop.on_loop([&] { servers->reconfigure(config); });
    std::uint16_t new_metrics = servers->metrics_port();
    CHECK(status_of(Client("127.0.0.2", new_metrics).get("/metrics")) == "HTTP/1.1 200 OK");
    CHECK_FALSE(Client("127.0.0.1", old_metrics).connected());
    CHECK(servers->healthz_port() == healthz);
    CHECK(status_of(held.get("/livez")) == "HTTP/1.1 200 OK");  // the same connection

    // An address not on this host: logged, and the old server keeps serving.
    auto moved = config;
    moved.metrics_bind_address = "192.0.2.1:0";
    loop.on_loop([&] { servers->reconfigure(moved); });
    CHECK(servers->metrics_port() == new_metrics);
    CHECK(status_of(Client("127.0.0.2", new_metrics).get("/metrics")) == "HTTP/1.1 200 OK");

    // Emptied: turned off.
    moved.healthz_bind_address = "";
    loop.on_loop([&] { servers->reconfigure(moved); });
    CHECK(servers->healthz_port() == 0);
    CHECK_FALSE(Client("127.0.0.1", healthz).connected());
    loop.on_loop([&] { servers.reset(); });
}

TEST_CASE("status servers: a health-check node port listens on both families", "[server-http]") {
    Daemon d;
    // A port free a moment ago.
    std::uint16_t port = 0;
    {
        Loop probe;
        HttpServer s(probe.io, *model::HostPort::parse("127.0.0.1:0"), "probe",
                     [](const HttpRequest&) { return HttpReply{}; });
        port = s.port();
    }
    model::Service edge;
    edge.namespace_name = "demo";
    edge.name = "edge";
    edge.type = model::ServiceType::load_balancer;
    edge.cluster_ips = {*model::IpAddress::parse("10.96.0.30")};
    edge.external_traffic_policy = model::TrafficPolicy::local;
    edge.health_check_node_port = port;
    d.store.upsert_service(edge);

    Loop loop;
    std::unique_ptr<StatusServers> servers;
    config::Config config;  // nodePortAddresses unset: every address
    config.healthz_bind_address = "";
    config.metrics_bind_address = "";
    loop.on_loop([&] {
        servers = std::make_unique<StatusServers>(loop.io, config, d.monitor, view(d, fixed_reader("")));
        servers->update_health_check_ports();
    });
    REQUIRE(servers->health_check_ports() == 1);
    // No local endpoints: 503, from both families.
    CHECK(status_of(Client("127.0.0.1", port).get("/")) == "HTTP/1.1 503 Service Unavailable");
    Client v6("::1", port);
    if (::access("/proc/net/if_inet6", F_OK) == 0) {
        CHECK(status_of(v6.get("/")) == "HTTP/1.1 503 Service Unavailable");
    } else {
        WARN("no IPv6 on this host: only IPv4 checked");
    }

    // nodePortAddresses set: only the node's addresses in it.
    proxy::NodeFacts facts;
    facts.name = "node-a";
    facts.node_port_addresses = {*model::IpAddress::parse("127.0.0.1")};
    d.store.set_node_facts(facts);
    config.node_port_addresses = {"127.0.0.0/8"};
    loop.on_loop([&] { servers->reconfigure(config); });
    CHECK(status_of(Client("127.0.0.1", port).get("/")) == "HTTP/1.1 503 Service Unavailable");
    CHECK_FALSE(Client("::1", port).connected());
    loop.on_loop([&] { servers.reset(); });
}

TEST_CASE("status servers: /healthz on 0.0.0.0 answers both families, as Go's wildcard listener", "[server-http]") {
    Daemon d;
    Loop loop;
    std::unique_ptr<StatusServers> servers;
    config::Config config;
    config.healthz_bind_address = "0.0.0.0:0";
    config.metrics_bind_address = "";
    loop.on_loop([&] {
        servers = std::make_unique<StatusServers>(loop.io, config, d.monitor, view(d, fixed_reader("")));
    });
    std::uint16_t port = servers->healthz_port();
    REQUIRE(port != 0);
    CHECK(status_of(Client("127.0.0.1", port).get("/healthz")) == "HTTP/1.1 200 OK");
    if (::access("/proc/net/if_inet6", F_OK) == 0) {
        CHECK(status_of(Client("::1", port).get("/healthz")) == "HTTP/1.1 200 OK");
    } else {
        WARN("no IPv6 on this host: only IPv4 checked");
    }
    loop.on_loop([&] { servers.reset(); });
}
