#include "kube/informer.hpp"

#include <random>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kube/backoff.hpp"
#include "kube/line_splitter.hpp"
#include "log/log.hpp"

namespace kipvs::kube {

namespace asio = boost::asio;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

InformerOptions services_informer() {
    InformerOptions o;
    o.resource = "services";
    o.path = "/api/v1/services";
    o.label_selector = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless";
    return o;
}

InformerOptions endpoint_slices_informer() {
    InformerOptions o;
    o.resource = "endpointslices";
    o.path = "/apis/discovery.k8s.io/v1/endpointslices";
    o.label_selector = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless";
    return o;
}

InformerOptions node_informer(const std::string& node_name) {
    InformerOptions o;
    o.resource = "nodes";
    o.path = "/api/v1/nodes";
    o.field_selector = "metadata.name=" + node_name;
    return o;
}

std::string query_escape(std::string_view value) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : value) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~' || c == '/') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

struct Informer::State {
    asio::any_io_executor executor;
    ApiClient client;
    ResourceSink& sink;
    InformerOptions options;
    Backoff backoff;
    std::minstd_rand rng{jitter_seed()};
    LineSplitter splitter;
    bool stopping = false;
    asio::steady_timer pause;

    State(asio::any_io_executor ex, const config::KubeCredentials& c, ClientOptions co, ResourceSink& s, InformerOptions o)
        : executor(ex), client(ex, c, co), sink(s), options(std::move(o)),
          backoff(options.backoff_initial, options.backoff_cap), splitter(co.max_line), pause(ex) {}

    std::string selectors() const {
        std::string q;
        if (!options.label_selector.empty()) q += "&labelSelector=" + query_escape(options.label_selector);
        if (!options.field_selector.empty()) q += "&fieldSelector=" + query_escape(options.field_selector);
        return q;
    }

    asio::awaitable<void> list() {
        InformerStats& stats = sink.stats();
        if (stats.lists++ > 0) ++stats.relists;
        bool restarted = false;
        sink.begin_list();
        std::string cont;
        for (;;) {
            std::string target = options.path + "?limit=" + std::to_string(options.page_limit) + selectors();
            if (!cont.empty()) target += "&continue=" + query_escape(cont);
            std::string body;
            try {
                body = co_await client.get(target);
            } catch (const HttpStatusError& e) {
                // An expired continue token: the list restarts from the top, once;
                // a second expiry goes through the backoff like any error.
                if (e.status() == 410 && !cont.empty() && !restarted) {
                    log::info(options.resource + ": list continue token expired; restarting the list");
                    restarted = true;
                    cont.clear();
                    sink.begin_list();
                    continue;
                }
                throw;
            }
            cont = sink.list_page(body);
            if (cont.empty()) break;
        }
        sink.end_list();
#if defined(__GLIBC__)
        // glibc keeps the freed pages of a big LIST; musl (the shipped build) returns them itself.
        malloc_trim(0);
#endif
    }

    asio::awaitable<void> watch() {
        InformerStats& stats = sink.stats();
        ++stats.watches;
        auto span = options.watch_timeout_max - options.watch_timeout_min;
        auto timeout = options.watch_timeout_min +
                       std::chrono::seconds(span.count() > 0 ? rng() % (span.count() + 1) : 0);
        std::string target = options.path + "?watch=1&allowWatchBookmarks=true&resourceVersion=" +
                             query_escape(sink.resource_version()) + "&timeoutSeconds=" +
                             std::to_string(timeout.count()) + selectors();
        splitter.reset();
        log::debug(options.resource + ": watching from resourceVersion " + sink.resource_version());
        co_await client.stream(target, [this](std::string_view data) {
            splitter.feed(data, [this](std::string_view line) { sink.watch_line(line); });
        });
        if (splitter.has_partial()) throw StreamError("watch stream ended inside an event");
    }

    asio::awaitable<void> sleep(std::chrono::milliseconds d) {
        pause.expires_after(d);
        boost::system::error_code ec;  // cancelled by stop()
        co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
    }

    asio::awaitable<void> run() {
        bool need_list = true;
        while (!stopping) {
            std::chrono::milliseconds delay{0};
            InformerStats& stats = sink.stats();
            try {
                if (need_list) {
                    co_await list();
                    need_list = false;
                }
                auto started = Clock::now();
                auto events_before = stats.events;
                co_await watch();
                ++stats.watch_ends;
                // A watch the server ends at once and without events must not
                // turn into a hot loop of reconnects.
                if (stats.events == events_before && Clock::now() - started < std::chrono::seconds(1)) {
                    delay = backoff.next();
                } else {
                    backoff.reset();
                }
            } catch (const GoneError& e) {
                ++stats.gone;
                need_list = true;
                log::info(options.resource + ": " + e.what() + "; relisting (the cache keeps serving)");
                delay = backoff.next();
            } catch (const HttpStatusError& e) {
                ++stats.errors;
                delay = backoff.next();
                if (e.status() == 410) {
                    ++stats.gone;
                    need_list = true;
                    log::info(options.resource + ": resource version too old; relisting (the cache keeps serving)");
                } else {
                    if (e.status() == 429) delay = std::max<std::chrono::milliseconds>(delay, e.retry_after());
                    auto level = (e.status() == 401 || e.status() == 403) ? log::Level::error : log::Level::warning;
                    log::write(level, options.resource + ": " + e.what() + "; retrying in " +
                                          std::to_string(delay.count()) + " ms");
                }
            } catch (const std::exception& e) {
                if (stopping) break;
                // NetworkError, StreamError (malformed line, oversized event),
                // and anything else: drop the connection, keep the cache.
                ++stats.errors;
                client.close();
                delay = backoff.next();
                log::warning(options.resource + ": " + e.what() + "; retrying in " + std::to_string(delay.count()) +
                             " ms");
            }
            if (delay.count() > 0 && !stopping) co_await sleep(delay);
        }
        log::debug(options.resource + ": informer stopped");
    }
};

Informer::Informer(asio::any_io_executor executor, const config::KubeCredentials& credentials,
                   ClientOptions client_options, ResourceSink& sink, InformerOptions options)
    : state_(std::make_unique<State>(std::move(executor), credentials, std::move(client_options), sink,
                                     std::move(options))) {}
Informer::~Informer() = default;

asio::awaitable<void> Informer::run() { return state_->run(); }
ApiClient& Informer::client() { return state_->client; }
void Informer::stop() {
    state_->stopping = true;
    state_->client.cancel();
    state_->pause.cancel();
}

}  // namespace kipvs::kube
