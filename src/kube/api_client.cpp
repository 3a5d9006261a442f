// The only translation unit with Boost.Beast in it (they compile slowly).
#include "kube/api_client.hpp"

#include <sys/stat.h>

#include <array>
#include <fstream>
#include <optional>
#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log/log.hpp"
#include "model/ip.hpp"
#include "version.hpp"

namespace kipvs::kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::use_awaitable;

std::string_view step_name(ClientStep step) {
    switch (step) {
        case ClientStep::resolve: return "resolve";
        case ClientStep::connect: return "connect";
        case ClientStep::handshake: return "TLS handshake";
        case ClientStep::write: return "request";
        case ClientStep::read_header: return "response header";
        case ClientStep::read_body: return "response body";
    }
    return "?";
}

namespace {

// The bearer token, re-read from tokenFile whenever the file changes:
// projected service-account tokens rotate under a running process.
class TokenSource {
public:
    explicit TokenSource(const config::KubeCredentials& c) : token_(c.token), file_(c.token_file) {}

    const std::string& get() {
        if (file_.empty()) return token_;
        struct stat st {};
        if (::stat(file_.c_str(), &st) != 0) return token_;  // keep the last good one
        if (loaded_ && st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec &&
            st.st_size == size_)
            return token_;
        std::ifstream in(file_);
        std::stringstream text;
        text << in.rdbuf();
        std::string t = text.str();
        while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
        if (in && !t.empty()) {
            if (loaded_ && t != token_) log::info("token file " + file_ + " changed; using the new token");
            token_ = std::move(t);
            loaded_ = true;
            mtime_ = st.st_mtim;
            size_ = st.st_size;
        }
        return token_;
    }

private:
    std::string token_;
    std::string file_;
    bool loaded_ = false;
    timespec mtime_{};
    off_t size_ = 0;
};

std::string http_meaning(unsigned status, const config::KubeCredentials& c) {
    switch (status) {
        case 401:
            return "the API server did not accept the credential (" + c.auth_summary() + " from " + c.file +
                   "): it is wrong, expired or unknown to this cluster";
        case 403:
            return "the credential (" + c.auth_summary() + " from " + c.file +
                   ") lacks the rights kipvs needs; apply configs/rbac.yaml";
        case 410: return "resource version too old (410 Gone)";
        case 429: return "the API server asks to slow down (429 Too Many Requests)";
        default: return "HTTP " + std::to_string(status);
    }
}

// The message of a Kubernetes Status body, if the body is one.
std::string status_message(const std::string& body) {
    auto pos = body.find("\"message\":");
    if (pos == std::string::npos) return {};
    auto start = body.find('"', pos + 10);
    if (start == std::string::npos) return {};
    auto end = body.find('"', start + 1);
    if (end == std::string::npos) return {};
    return body.substr(start + 1, std::min<std::size_t>(end - start - 1, 300));
}

// A certificate alert from the server can only be about our certificate, and
// OpenSSL's words for it ("tlsv1 alert unknown ca") do not say that: name the
// kubeconfig to fix. Under TLS 1.3 the alert comes after our side of the
// handshake is done (start() looks for it when the request write fails).
std::string client_certificate_hint(const boost::system::error_code& ec, const config::KubeCredentials& c) {
    if (ec.category() != asio::error::get_ssl_category()) return {};
    switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
        case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
        case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
        case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: break;
        default: return {};
    }
    if (c.client_cert_pem.empty()) return "; the API server requires a client certificate and " + c.file + " gives none";
    return "; the API server refused the client certificate from " + c.file +
           " (not signed by a CA it trusts, expired or revoked)";
}

std::chrono::seconds retry_after(std::string_view value) {
    unsigned long s = 0;
    for (char c : value) {
        if (c < '0' || c > '9') return std::chrono::seconds(0);  // HTTP dates are not used by the API server
        s = s * 10 + static_cast<unsigned long>(c - '0');
        if (s > 3600) return std::chrono::seconds(3600);
    }
    return std::chrono::seconds(s);
}

}  // namespace

struct ApiClient::Impl {
    asio::any_io_executor executor;
    config::KubeCredentials creds;
    ClientOptions options;
    ssl::context tls{ssl::context::tls_client};
    std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
    beast::flat_buffer buffer;
    TokenSource token;
    std::string url;  // for messages
    unsigned long connects = 0;
    // Set by cancel(): what is in flight fails and is not retried. Cleared by close().
    bool cancelled = false;

    Impl(asio::any_io_executor ex, config::KubeCredentials c, ClientOptions o)
        : executor(std::move(ex)), creds(std::move(c)), options(std::move(o)), token(creds),
          url(creds.server.to_string()) {
        if (creds.server.scheme != "https")
            throw NetworkError(url + ": the watch client speaks https only");
        tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
        SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
        try {
            if (creds.insecure_skip_tls_verify) {
                tls.set_verify_mode(ssl::verify_none);
            } else {
                tls.set_verify_mode(ssl::verify_peer);
                if (creds.ca_pem.empty()) tls.set_default_verify_paths();
                else tls.add_certificate_authority(asio::buffer(creds.ca_pem));
            }
            if (!creds.client_cert_pem.empty()) {
                tls.use_certificate_chain(asio::buffer(creds.client_cert_pem));
                tls.use_private_key(asio::buffer(creds.client_key_pem), ssl::context::pem);
            }
        } catch (const boost::system::system_error& e) {
            throw NetworkError(creds.file + ": TLS setup for " + url + ": " + e.code().message());
        }
    }

    // An injected fault is handled like a real one: the connection is dropped.
    void fault(ClientStep step) {
        if (!options.fault) return;
        try {
            options.fault(step);
        } catch (...) {
            close();
            throw;
        }
    }

    [[noreturn]] void fail(ClientStep step, const boost::system::error_code& ec) {
        std::string what = ec == beast::error::timeout ? "timed out" : ec.message();
        if (step == ClientStep::handshake && stream) {
            long verify = SSL_get_verify_result(stream->native_handle());
            if (verify != X509_V_OK) what += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
        }
        what += client_certificate_hint(ec, creds);
        close();
        throw NetworkError(std::string(step_name(step)) + " " + url + ": " + what);
    }

    void close() {
        if (stream) {
            boost::system::error_code ignored;
            beast::get_lowest_layer(*stream).socket().close(ignored);
            stream.reset();
        }
        buffer.clear();
        cancelled = false;
    }

    asio::awaitable<void> connect() {
        using namespace asio::experimental::awaitable_operators;
        const auto& host = creds.server.host;
        fault(ClientStep::resolve);
        boost::system::error_code ec;
        tcp::resolver resolver(executor);
        asio::steady_timer deadline(executor, options.connect_timeout);
        // The resolver has no deadline of its own (getaddrinfo in a thread).
        auto which = co_await (resolver.async_resolve(host, creds.server.port, asio::redirect_error(use_awaitable, ec)) ||
                               deadline.async_wait(use_awaitable));
        if (cancelled) fail(ClientStep::resolve, asio::error::operation_aborted);
        if (which.index() == 1) fail(ClientStep::resolve, beast::error::timeout);
        if (ec) fail(ClientStep::resolve, ec);
        auto results = std::get<0>(which);

        stream.emplace(executor, tls);
        SSL* ssl_handle = stream->native_handle();
        std::string verify_name = creds.tls_server_name.empty() ? host : creds.tls_server_name;
        bool is_ip = model::IpAddress::parse(verify_name).has_value();
        // SNI carries names only (RFC 6066); tls-server-name overrides both it and the checked name.
        if (!is_ip) SSL_set_tlsext_host_name(ssl_handle, verify_name.c_str());
        if (creds.insecure_skip_tls_verify) {
            log::warning("insecure-skip-tls-verify is set in " + creds.file + ": the identity of " + url +
                         " is not checked");
        } else if (is_ip) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), verify_name.c_str());
        } else {
            SSL_set1_host(ssl_handle, verify_name.c_str());
        }

        fault(ClientStep::connect);
        beast::get_lowest_layer(*stream).expires_after(options.connect_timeout);
        co_await beast::get_lowest_layer(*stream).async_connect(results, asio::redirect_error(use_awaitable, ec));
        if (ec) fail(ClientStep::connect, ec);

        fault(ClientStep::handshake);
        beast::get_lowest_layer(*stream).expires_after(options.handshake_timeout);
        co_await stream->async_handshake(ssl::stream_base::client, asio::redirect_error(use_awaitable, ec));
        if (ec) fail(ClientStep::handshake, ec);
        ++connects;
    }

    // Sends the request (connecting first if needed) and reads the header.
    // A body (POST) goes as JSON.
    asio::awaitable<void> start(const std::string& target, http::response_parser<http::buffer_body>& parser,
                                http::verb verb = http::verb::get, const std::string* body = nullptr) {
        for (int attempt = 0;; ++attempt) {
            bool fresh = !stream;
            if (fresh) co_await connect();
            http::request<http::string_body> req{verb, creds.server.path + target, 11};
            if (body) {
                req.set(http::field::content_type, "application/json");
                req.body() = *body;
                req.prepare_payload();
            }
            std::string host = creds.server.host.find(':') != std::string::npos ? "[" + creds.server.host + "]"
                                                                                 : creds.server.host;
            req.set(http::field::host, host + ":" + creds.server.port);
            req.set(http::field::user_agent, std::string("kipvs/") + version::string);
            req.set(http::field::accept, "application/json");
            if (creds.client_cert_pem.empty()) {
                const std::string& t = token.get();
                if (!t.empty()) req.set(http::field::authorization, "Bearer " + t);
            }
            req.keep_alive(true);
            boost::system::error_code ec;
            ClientStep step = ClientStep::write;  // the step a failure is reported at
            fault(step);
            beast::get_lowest_layer(*stream).expires_after(options.request_timeout);
            co_await http::async_write(*stream, req, asio::redirect_error(use_awaitable, ec));
            if (!ec) {
                step = ClientStep::read_header;
                fault(step);
                co_await http::async_read_header(*stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
            } else if (fresh && ec != beast::error::timeout && !cancelled) {
                // Under TLS 1.3 a server refusing our client certificate sends
                // its alert after our side of the handshake is done and resets
                // the connection, so the request write fails with a bare
                // "connection reset"; the alert is still there to be read.
                boost::system::error_code alert;
                std::array<char, 64> scratch;
                beast::get_lowest_layer(*stream).expires_after(std::chrono::milliseconds(200));
                co_await stream->async_read_some(asio::buffer(scratch), asio::redirect_error(use_awaitable, alert));
                if (alert.category() == asio::error::get_ssl_category()) {
                    ec = alert;
                    step = ClientStep::read_header;
                }
            }
            // A kept-alive connection the server has closed meanwhile fails on
            // first use: retry once on a fresh connection before reporting.
            if (ec && !fresh && attempt == 0 && ec != beast::error::timeout && !cancelled) {
                close();
                continue;
            }
            if (ec) fail(step, ec);
            co_return;
        }
    }

    asio::awaitable<std::string> read_rest(http::response_parser<http::buffer_body>&& header_parser,
                                           std::chrono::milliseconds deadline) {
        http::response_parser<http::string_body> parser(std::move(header_parser));
        parser.body_limit(options.max_body);
        boost::system::error_code ec;
        fault(ClientStep::read_body);
        beast::get_lowest_layer(*stream).expires_after(deadline);
        co_await http::async_read(*stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
        if (ec) fail(ClientStep::read_body, ec);
        if (!parser.get().keep_alive()) close();
        co_return std::move(parser.get().body());
    }

    // GET wants 200; a POST is answered 201 Created (or 200/202).
    asio::awaitable<void> check_status(http::response_parser<http::buffer_body>& parser, bool any_success = false) {
        unsigned status = parser.get().result_int();
        if (status == 200 || (any_success && status >= 200 && status < 300)) co_return;
        auto after = retry_after(parser.get()[http::field::retry_after]);
        std::string body;
        if (parser.get().has_content_length() || parser.get().chunked()) {
            body = co_await read_rest(std::move(parser), options.request_timeout);
        } else {
            close();
        }
        std::string message = http_meaning(status, creds);
        std::string detail = status_message(body);
        if (!detail.empty()) message += ": " + detail;
        throw HttpStatusError(status, after, url + ": " + message);
    }
};

ApiClient::ApiClient(asio::any_io_executor executor, config::KubeCredentials credentials, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(executor), std::move(credentials), std::move(options))) {}
ApiClient::~ApiClient() = default;

asio::awaitable<std::string> ApiClient::get(std::string target) {
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(impl_->options.max_body);
    co_await impl_->start(target, parser);
    co_await impl_->check_status(parser);
    co_return co_await impl_->read_rest(std::move(parser), impl_->options.request_timeout);
}

asio::awaitable<std::string> ApiClient::post(std::string target, std::string body) {
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(impl_->options.max_body);
    co_await impl_->start(target, parser, http::verb::post, &body);
    co_await impl_->check_status(parser, true);
    co_return co_await impl_->read_rest(std::move(parser), impl_->options.request_timeout);
}

asio::awaitable<void> ApiClient::stream(std::string target, std::function<void(std::string_view)> on_data) {
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);  // a watch has no end; each line is bounded instead
    co_await impl_->start(target, parser);
    co_await impl_->check_status(parser);
    std::array<char, 16384> chunk;
    // read_some, not read: events must be delivered as they arrive, not when a buffer fills.
    while (!parser.is_done()) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        boost::system::error_code ec;
        impl_->fault(ClientStep::read_body);
        beast::get_lowest_layer(*impl_->stream).expires_after(impl_->options.watch_idle_timeout);
        co_await http::async_read_some(*impl_->stream, impl_->buffer, parser, asio::redirect_error(use_awaitable, ec));
        if (ec == http::error::need_buffer) ec = {};
        if (ec) impl_->fail(ClientStep::read_body, ec);
        std::size_t got = chunk.size() - parser.get().body().size;
        if (got > 0) {
            try {
                on_data(std::string_view(chunk.data(), got));
            } catch (...) {
                impl_->close();  // the rest of this stream is of no use
                throw;
            }
        }
    }
    if (!parser.get().keep_alive()) impl_->close();
}

void ApiClient::close() { impl_->close(); }
void ApiClient::cancel() {
    impl_->cancelled = true;
    if (impl_->stream) {
        boost::system::error_code ignored;
        beast::get_lowest_layer(*impl_->stream).socket().close(ignored);
    }
}
const config::KubeCredentials& ApiClient::credentials() const { return impl_->creds; }
unsigned long ApiClient::connects() const { return impl_->connects; }

}  // namespace kipvs::kube
