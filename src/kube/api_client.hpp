#pragma once
// One HTTPS/1.1 connection to the API server (Boost.Beast + OpenSSL), used
// for a LIST, a WATCH or a POST (an Event) at a time. Verification of the server certificate and
// name is always on unless the kubeconfig says insecure-skip-tls-verify.
// Every step has its own deadline. The Beast machinery stays in
// api_client.cpp; this header only needs Asio's coroutine types.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/kubeconfig.hpp"
#include "error.hpp"

namespace kipvs::kube {

using namespace std::chrono_literals;

// The server could not be reached or the exchange broke (DNS, refused, TLS,
// timeout, reset, malformed HTTP). The message names the server URL and step.
class NetworkError : public Error {
public:
    using Error::Error;
};

// A non-200 answer. The message says what it means for an operator.
class HttpStatusError : public Error {
public:
    HttpStatusError(unsigned status, std::chrono::seconds retry_after, const std::string& message)
        : Error(message), status_(status), retry_after_(retry_after) {}
    unsigned status() const { return status_; }
    std::chrono::seconds retry_after() const { return retry_after_; }  // 0: not given

private:
    unsigned status_;
    std::chrono::seconds retry_after_;
};

// The steps a fault can be injected at, in the order they happen.
enum class ClientStep { resolve, connect, handshake, write, read_header, read_body };
std::string_view step_name(ClientStep step);

struct ClientOptions {
    std::chrono::milliseconds connect_timeout = 10s;  // resolve + TCP connect
    std::chrono::milliseconds handshake_timeout = 10s;
    std::chrono::milliseconds request_timeout = 60s;      // write + whole LIST response
    std::chrono::milliseconds watch_idle_timeout = 120s;  // no byte for this long: stalled
    std::size_t max_body = 512u << 20;  // one LIST page
    std::size_t max_line = 16u << 20;   // one watch event
    // Tests only: called before every step; throwing fails that step.
    std::function<void(ClientStep)> fault;
};

class ApiClient {
public:
    ApiClient(boost::asio::any_io_executor executor, config::KubeCredentials credentials, ClientOptions options = {});
    ~ApiClient();
    ApiClient(const ApiClient&) = delete;
    ApiClient& operator=(const ApiClient&) = delete;

    // GET target (path and query): the whole 200 body, or HttpStatusError.
    boost::asio::awaitable<std::string> get(std::string target);
    // POST a JSON body to target: the 2xx answer's body, or HttpStatusError.
    boost::asio::awaitable<std::string> post(std::string target, std::string body);
    // GET target and pass the body to on_data as it arrives, until the server
    // ends it. Non-200 answers throw HttpStatusError before any data.
    boost::asio::awaitable<void> stream(std::string target, std::function<void(std::string_view)> on_data);
    void close();
    // Aborts what is in flight (from outside the coroutine): the socket is
    // closed, the pending operation fails, and the client is reusable.
    void cancel();

    const config::KubeCredentials& credentials() const;
    unsigned long connects() const;  // TCP+TLS connections made

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace kipvs::kube
