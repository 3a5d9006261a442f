// The one translation unit with Beast in src/server (it compiles slowly).
#include "server/http_server.hpp"

#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "error.hpp"
#include "log/log.hpp"

namespace kipvs::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::State {
    State(asio::io_context& io, std::string name, AsyncHttpHandler handler, HttpLimits limits)
        : acceptor(io), name(std::move(name)), handler(std::move(handler)), limits(limits) {}
    tcp::acceptor acceptor;
    std::string name;
    AsyncHttpHandler handler;
    HttpLimits limits;
    std::size_t connections = 0;
};

namespace {

HttpReply plain(unsigned status, std::string body) {
    HttpReply r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::move(body);
    return r;
}

// One request's answer, which an async handler delivers later: the
// connection's coroutine sleeps on `wake` until it is there.
struct PendingReply {
    explicit PendingReply(const asio::any_io_executor& executor) : wake(executor) {}
    asio::steady_timer wake;
    std::optional<HttpReply> reply;
};

void answer(HttpServer::State& state, const http::request<http::string_body>& req,
            const std::shared_ptr<PendingReply>& pending) {
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
        HttpReply r = plain(405, "method not allowed\n");
        r.headers.emplace_back("Allow", "GET, HEAD");
        pending->reply = std::move(r);
        return;
    }
    try {
        // Only the first answer counts; one arriving after the connection
        // gave up finds nobody waiting and is dropped with `pending`.
        state.handler(HttpRequest{std::string(req.method_string()), std::string(req.target())},
                      [pending](HttpReply reply) {
                          if (pending->reply) return;
                          pending->reply = std::move(reply);
                          pending->wake.cancel();
                      });
    } catch (const std::exception& e) {
        // A handler that throws is a bug or a kernel read gone wrong: the
        // client gets a 500, the daemon keeps running.
        log::error(state.name + " " + std::string(req.target()) + ": " + e.what());
        if (!pending->reply) pending->reply = plain(500, "internal error\n");
    }
}

asio::awaitable<void> serve(std::shared_ptr<HttpServer::State> state, tcp::socket socket) {
    // Counted until this coroutine ends, however it ends.
    struct Slot {
        std::size_t& count;
        ~Slot() { --count; }
    } slot{state->connections};
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer(state->limits.max_request_bytes);
    boost::system::error_code ec;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(state->limits.max_request_bytes));
        parser.body_limit(state->limits.max_request_bytes);
        stream.expires_after(state->limits.read_timeout);
        co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        // Timeouts, closed connections, oversized or malformed requests all
        // end the connection without an answer: nobody polite sent them.
        if (ec) break;
        const auto& req = parser.get();
        auto pending = std::make_shared<PendingReply>(stream.get_executor());
        pending->wake.expires_after(state->limits.reply_timeout);
        answer(*state, req, pending);
        if (!pending->reply) co_await pending->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (!pending->reply) {
            log::warning(state->name + " " + std::string(req.target()) + ": no answer within the reply timeout");
            pending->reply = plain(503, "timed out\n");
        }
        HttpReply reply = std::move(*pending->reply);
        http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
        res.set(http::field::content_type, reply.content_type);
        for (const auto& [name, value] : reply.headers) res.set(name, value);
        res.keep_alive(req.keep_alive());
        res.body() = std::move(reply.body);
        res.prepare_payload();
        if (req.method() == http::verb::head) {
            // HEAD tells the length GET would send, and sends no body.
            auto length = res.body().size();
            res.body().clear();
            res.content_length(length);
        }
        stream.expires_after(state->limits.write_timeout);
        co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        if (ec || !res.keep_alive()) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> accept_loop(std::shared_ptr<HttpServer::State> state) {
    boost::system::error_code ec;
    asio::steady_timer pause(state->acceptor.get_executor());
    for (;;) {
        tcp::socket socket(state->acceptor.get_executor());
        co_await state->acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
        if (!state->acceptor.is_open()) co_return;
        if (ec) {
            // Out of file descriptors, most likely: wait instead of spinning.
            pause.expires_after(std::chrono::milliseconds(200));
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        if (state->connections >= state->limits.max_connections) continue;  // closed as `socket` goes
        ++state->connections;
        asio::co_spawn(state->acceptor.get_executor(), serve(state, std::move(socket)), asio::detached);
    }
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, const model::HostPort& address, std::string name, HttpHandler handler,
                       HttpLimits limits)
    : HttpServer(io, address, std::move(name),
                 AsyncHttpHandler([handler = std::move(handler)](const HttpRequest& req, HttpReplyCallback reply) {
                     reply(handler(req));
                 }),
                 limits) {}

HttpServer::HttpServer(asio::io_context& io, const model::HostPort& address, std::string name,
                       AsyncHttpHandler handler, HttpLimits limits)
    : state_(std::make_shared<State>(io, std::move(name), std::move(handler), limits)) {
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(address.address.to_string(), ec);
    tcp::endpoint endpoint(ip, address.port);
    auto& acceptor = state_->acceptor;
    if (!ec) acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    // Go listens on "[::]" for both families; the kernel's default
    // (net.ipv6.bindv6only) is not trusted either way.
    if (!ec && ip.is_v6() && ip.is_unspecified()) acceptor.set_option(asio::ip::v6_only(false), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw Error(state_->name + ": listening on " + address.to_string() + ": " + ec.message());
    asio::co_spawn(io, accept_loop(state_), asio::detached);
}

HttpServer::~HttpServer() {
    boost::system::error_code ec;
    state_->acceptor.close(ec);
}

std::uint16_t HttpServer::port() const {
    boost::system::error_code ec;
    return state_->acceptor.local_endpoint(ec).port();
}

}  // namespace kipvs::server
