// Asio (no Beast: the HTTP exchange is api_client.cpp's).
#include "kube/event_recorder.hpp"

#include <deque>
#include <map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "log/log.hpp"

namespace kipvs::kube {

namespace asio = boost::asio;
using asio::use_awaitable;
using WallClock = std::chrono::system_clock;

namespace {
// Remembered events beyond this are forgotten oldest first: a flood of
// distinct events must not grow memory without bound.
constexpr std::size_t remembered_limit = 1024;
}  // namespace

struct EventRecorder::Impl {
    std::string instance;
    RecorderOptions options;
    std::optional<asio::any_io_executor> executor;  // none: log only
    std::optional<ApiClient> client;
    std::string url;
    std::optional<asio::steady_timer> wake, pause;
    std::deque<Event> queue;
    std::map<std::string, WallClock::time_point> last_recorded;  // duplicate_key → when
    RecorderStats stats;
    std::uint64_t last_nanos = 0;
    bool in_flight = false;
    bool stopping = false;
    bool failing = false;      // logged once until a post succeeds again
    bool overflowing = false;  // logged once until the queue drains

    WallClock::time_point now() const { return options.clock ? options.clock() : WallClock::now(); }

    // A repeat inside the window is not recorded; stale entries go as new ones come.
    bool repeat(const Event& event) {
        auto key = duplicate_key(event);
        auto it = last_recorded.find(key);
        if (it != last_recorded.end() && event.time - it->second < options.repeat_window) return true;
        if (last_recorded.size() >= remembered_limit) {
            for (auto i = last_recorded.begin(); i != last_recorded.end();)
                i = event.time - i->second >= options.repeat_window ? last_recorded.erase(i) : std::next(i);
            while (last_recorded.size() >= remembered_limit) {
                auto oldest = last_recorded.begin();
                for (auto i = last_recorded.begin(); i != last_recorded.end(); ++i)
                    if (i->second < oldest->second) oldest = i;
                last_recorded.erase(oldest);
            }
        }
        last_recorded[key] = event.time;
        return false;
    }

    void drop(const Event& event, const std::string& why) {
        ++stats.dropped;
        log::debug("event dropped (" + why + "): " + describe(event));
        if (failing) return;
        failing = true;
        log::warning("Kubernetes Events are not being posted (" + why +
                     "); they are dropped until the API server takes them again");
    }

    // Names are "<object>.<hex nanoseconds>": strictly increasing, so two
    // events in one clock tick still get distinct names.
    std::string next_name(const Event& event) {
        auto nanos = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now().time_since_epoch()).count());
        last_nanos = std::max(nanos, last_nanos + 1);
        return event_name(event, last_nanos);
    }

    // The uid of the object, so `kubectl describe` shows the event; an object
    // the server does not give (gone, or no right to get it) is referred to
    // without one.
    asio::awaitable<std::string> lookup_uid(const ObjectReference& object) {
        std::string uid;
        try {
            uid = uid_of(co_await client->get(object_path(object)));
        } catch (const HttpStatusError& e) {
            if (e.status() >= 500 || e.status() == 429) throw;
        }
        co_return uid;
    }

    asio::awaitable<void> deliver(Event event) {
        boost::system::error_code ec;
        for (int attempt = 1;; ++attempt) {
            std::string problem;
            bool retry = true;
            try {
                if (event.regarding.uid.empty()) event.regarding.uid = co_await lookup_uid(event.regarding);
                std::string target = "/apis/events.k8s.io/v1/namespaces/" + event_namespace(event.regarding) + "/events";
                co_await client->post(target, event_json(event, next_name(event), instance));
                ++stats.posted;
                log::debug("event posted: " + describe(event));
                if (failing) log::info("Kubernetes Events are posted to " + url + " again");
                failing = false;
                co_return;
            } catch (const HttpStatusError& e) {
                problem = e.what();
                retry = e.status() >= 500 || e.status() == 429;  // the others will not change by retrying
            } catch (const std::exception& e) {
                problem = e.what();
            }
            if (stopping) co_return;
            ++stats.failed_attempts;
            if (!retry || attempt >= options.attempts) {
                drop(event, problem);
                co_return;
            }
            pause->expires_after(options.retry_pause * (1 << (attempt - 1)));
            co_await pause->async_wait(asio::redirect_error(use_awaitable, ec));
            if (stopping) co_return;
        }
    }

    // The coroutine holds the Impl, so it may outlive the recorder until
    // the io_context lets it finish (or destroys it).
    static asio::awaitable<void> run(std::shared_ptr<Impl> self) {
        boost::system::error_code ec;
        while (!self->stopping) {
            if (self->queue.empty()) {
                self->overflowing = false;
                self->wake->expires_at(asio::steady_timer::time_point::max());
                co_await self->wake->async_wait(asio::redirect_error(use_awaitable, ec));
                continue;
            }
            Event event = std::move(self->queue.front());
            self->queue.pop_front();
            self->in_flight = true;
            co_await self->deliver(std::move(event));
            self->in_flight = false;
        }
    }
};

EventRecorder::EventRecorder(std::string reporting_instance, RecorderOptions options)
    : impl_(std::make_shared<Impl>()) {
    impl_->instance = std::move(reporting_instance);
    impl_->options = std::move(options);
}

EventRecorder::EventRecorder(asio::any_io_executor executor, config::KubeCredentials credentials,
                             std::string reporting_instance, RecorderOptions options)
    : EventRecorder(std::move(reporting_instance), std::move(options)) {
    impl_->url = credentials.server.to_string();
    impl_->client.emplace(executor, std::move(credentials), impl_->options.client);
    impl_->executor = executor;
    impl_->wake.emplace(executor);
    impl_->pause.emplace(executor);
    asio::co_spawn(executor, Impl::run(impl_), [](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            log::error(std::string("events: the recorder stopped: ") + x.what());
        }
    });
}

EventRecorder::~EventRecorder() { stop(); }

void EventRecorder::record(Event event) {
    auto& s = *impl_;
    event.time = s.now();
    if (s.repeat(event)) {
        ++s.stats.suppressed;
        return;
    }
    if (!s.executor) {
        ++s.stats.recorded;
        log::debug("event (no API server to post it to): " + describe(event));
        return;
    }
    if (s.stopping) return;
    if (s.queue.size() >= s.options.queue_limit) {
        ++s.stats.dropped;
        if (!s.overflowing)
            log::warning("Kubernetes Events: " + std::to_string(s.queue.size()) + " waiting to be posted to " +
                         s.url + "; new ones are dropped until they are");
        s.overflowing = true;
        return;
    }
    ++s.stats.recorded;
    s.queue.push_back(std::move(event));
    s.wake->cancel();
}

void EventRecorder::stop() {
    auto& s = *impl_;
    if (s.stopping || !s.executor) return;
    s.stopping = true;
    s.queue.clear();
    s.wake->cancel();
    s.pause->cancel();
    s.client->cancel();
}

const RecorderStats& EventRecorder::stats() const { return impl_->stats; }
bool EventRecorder::idle() const { return impl_->queue.empty() && !impl_->in_flight; }
bool EventRecorder::posting() const { return impl_->executor.has_value(); }

}  // namespace kipvs::kube
