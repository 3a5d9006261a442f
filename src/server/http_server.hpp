#pragma once
// A small HTTP/1.1 server on the daemon's io_context (Boost.Beast, one
// coroutine per connection). It answers GET and HEAD through a handler that
// returns a value; a deadline bounds every read and write, requests are
// limited in size, and connections are limited in number, so a slow or
// hostile client costs a socket for a few seconds and nothing more. This
// header keeps Beast and Asio out of its includers: they compile slowly.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "model/ip.hpp"
#include "server/health.hpp"

namespace boost::asio {
class io_context;
}

namespace kipvs::server {

struct HttpRequest {
    std::string method;  // "GET" or "HEAD"; others get 405 without the handler
    std::string target;  // "/healthz?verbose", as sent
    std::string path() const { return target.substr(0, target.find('?')); }
};

using HttpHandler = std::function<HttpReply(const HttpRequest&)>;
// For answers that take long (the /metrics scrape reads the kernel on a
// worker thread): the handler returns at once and calls `reply` later, once,
// on the io_context's thread; the connection waits without blocking others.
using HttpReplyCallback = std::function<void(HttpReply)>;
using AsyncHttpHandler = std::function<void(const HttpRequest&, HttpReplyCallback reply)>;

struct HttpLimits {
    std::chrono::milliseconds read_timeout{10000};   // a whole request, or idle keep-alive
    std::chrono::milliseconds write_timeout{10000};  // a whole response
    std::size_t max_request_bytes = 8192;            // headers and body together
    std::size_t max_connections = 64;                // more are closed at once
    std::chrono::milliseconds reply_timeout{60000};  // an async handler's answer; then 503
};

class HttpServer {
public:
    // Listens on `address` at once; throws Error naming `name` and the
    // address when it cannot (a port in use, an address not on this node).
    // "[::]" listens on both families (IPV6_V6ONLY off), as Go's wildcard
    // listeners do in kube-proxy.
    HttpServer(boost::asio::io_context& io, const model::HostPort& address, std::string name, HttpHandler handler,
               HttpLimits limits = {});
    HttpServer(boost::asio::io_context& io, const model::HostPort& address, std::string name,
               AsyncHttpHandler handler, HttpLimits limits = {});
    // Stops listening; open connections end at their next deadline.
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // The bound port (useful when `address` asked for port 0).
    std::uint16_t port() const;

    struct State;

private:
    std::shared_ptr<State> state_;
};

}  // namespace kipvs::server
