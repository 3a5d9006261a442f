// The Beast server behind /healthz, /metrics and the health-check node
// ports, over real loopback sockets: answers, HEAD, 405, keep-alive, a
// handler that throws, and the limits (request size, idle deadline).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "server/http_server.hpp"

using namespace kipvs;
using namespace kipvs::server;

namespace {

// Sends `request` (then half-closes when asked) and reads until the server
// closes or 5 s pass.
std::string talk(std::uint16_t port, const std::string& request, bool half_close = false) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket");
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string got;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        std::size_t sent = 0;
        while (sent < request.size()) {
            auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) break;
            sent += static_cast<std::size_t>(n);
        }
        if (half_close) ::shutdown(fd, SHUT_WR);
        char buf[4096];
        for (;;) {
            auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return got;
}

// Runs the io_context while `client` talks to a server built on it.
void with_server(const HttpHandler& handler, HttpLimits limits, const std::function<void(std::uint16_t)>& client) {
    boost::asio::io_context io;
    HttpServer server(io, *model::HostPort::parse("127.0.0.1:0"), "test server", handler, limits);
    std::thread t([&] {
        client(server.port());
        io.stop();
    });
    io.run();
    t.join();
}

HttpReply echo(const HttpRequest& req) {
    if (req.path() == "/throw") throw std::runtime_error("handler bug");
    HttpReply r;
    r.status = req.path() == "/down" ? 503 : 200;
    r.headers.emplace_back("X-Load-Balancing-Endpoint-Weight", "3");
    r.body = req.method + " " + req.target;
    return r;
}

}  // namespace

TEST_CASE("http server: answers GET and HEAD through the handler", "[server-http]") {
    with_server(echo, {}, [](std::uint16_t port) {
        auto got = talk(port, "GET /healthz?verbose HTTP/1.0\r\n\r\n");
        CHECK(got.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
        CHECK(got.find("Content-Type: application/json\r\n") != std::string::npos);
        CHECK(got.find("X-Load-Balancing-Endpoint-Weight: 3\r\n") != std::string::npos);
        CHECK(got.find("Content-Length: 20\r\n") != std::string::npos);
        CHECK(got.substr(got.find("\r\n\r\n") + 4) == "GET /healthz?verbose");

        got = talk(port, "GET /down HTTP/1.0\r\n\r\n");
        CHECK(got.rfind("HTTP/1.0 503 Service Unavailable\r\n", 0) == 0);

        got = talk(port, "HEAD /x HTTP/1.0\r\n\r\n");
        CHECK(got.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
        CHECK(got.find("Content-Length: 7\r\n") != std::string::npos);  // what GET would send
        CHECK(got.substr(got.find("\r\n\r\n") + 4).empty());
    });
}

TEST_CASE("http server: other methods 405, a throwing handler 500", "[server-http]") {
    with_server(echo, {}, [](std::uint16_t port) {
        auto got = talk(port, "POST /healthz HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi");
        CHECK(got.rfind("HTTP/1.0 405 Method Not Allowed\r\n", 0) == 0);
        CHECK(got.find("Allow: GET, HEAD\r\n") != std::string::npos);
        got = talk(port, "GET /throw HTTP/1.0\r\n\r\n");
        CHECK(got.rfind("HTTP/1.0 500 Internal Server Error\r\n", 0) == 0);
        // And the server goes on.
        CHECK(talk(port, "GET / HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
    });
}

TEST_CASE("http server: keep-alive serves requests in turn", "[server-http]") {
    with_server(echo, {}, [](std::uint16_t port) {
        auto got = talk(port,
                        "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        auto second = got.find("HTTP/1.1 200 OK", 1);
        REQUIRE(second != std::string::npos);
        CHECK(got.find("GET /a") < second);
        CHECK(got.find("GET /b") > second);
    });
}

TEST_CASE("http server: oversized and slow requests get no answer", "[server-http]") {
    HttpLimits limits;
    limits.read_timeout = std::chrono::milliseconds(300);
    limits.max_request_bytes = 1024;
    with_server(echo, limits, [](std::uint16_t port) {
        CHECK(talk(port, "GET / HTTP/1.0\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n").empty());
        CHECK(talk(port, "POST / HTTP/1.0\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'a')).empty());
        // A client that sends half a request and waits is cut off at the deadline.
        auto start = std::chrono::steady_clock::now();
        CHECK(talk(port, "GET / HTTP/1.0\r\n").empty());
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
        CHECK(talk(port, "GET / HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
    });
}

TEST_CASE("http server: a port in use is an error naming it", "[server-http]") {
    boost::asio::io_context io;
    HttpServer first(io, *model::HostPort::parse("127.0.0.1:0"), "first", echo);
    auto address = "127.0.0.1:" + std::to_string(first.port());
    // glibc says "Address already in use", musl "Address in use".
    CHECK_THROWS_WITH(HttpServer(io, *model::HostPort::parse(address), "metrics server", echo),
                      Catch::Matchers::StartsWith("metrics server: listening on " + address + ": Address") &&
                          Catch::Matchers::EndsWith("in use"));
}

TEST_CASE("http server: an async handler answers later; one that never does gets 503", "[server-http]") {
    boost::asio::io_context io;
    HttpLimits limits;
    limits.reply_timeout = std::chrono::milliseconds(300);
    HttpReplyCallback parked;  // the /never request's callback, never called
    HttpServer server(io, *model::HostPort::parse("127.0.0.1:0"), "async server",
                      AsyncHttpHandler([&](const HttpRequest& req, HttpReplyCallback reply) {
                          if (req.path() == "/never") {
                              parked = std::move(reply);
                              return;
                          }
                          // Answered from a later turn of the loop, as the scrape worker does.
                          boost::asio::post(io, [reply = std::move(reply), target = req.target] {
                              HttpReply r;
                              r.body = "later " + target;
                              reply(std::move(r));
                          });
                      }),
                      limits);
    std::thread t([&] {
        auto got = talk(server.port(), "GET /x HTTP/1.0\r\n\r\n");
        CHECK(got.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
        CHECK(got.substr(got.find("\r\n\r\n") + 4) == "later /x");
        got = talk(server.port(), "GET /never HTTP/1.0\r\n\r\n");
        CHECK(got.rfind("HTTP/1.0 503 Service Unavailable\r\n", 0) == 0);
        io.stop();
    });
    io.run();
    t.join();
    // A late answer finds nobody waiting and changes nothing.
    REQUIRE(parked);
    parked(HttpReply{});
}
