#pragma once
// Posts Events to the API server in the background, on the daemon's
// io_context: record() only queues, so a sync never waits on the API server.
// Bounded like client-go's recorder: the same object, reason and note is
// posted once per repeat window (kube aggregates repeats the same way), the
// queue has a cap, and an event that cannot be posted after a few attempts
// is dropped, counted, and logged once per outage. Without an API server
// (static manifests, --dry-run, --once) events are only logged at debug
// level: the code that decided to record one has logged it already.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "config/kubeconfig.hpp"
#include "kube/api_client.hpp"
#include "kube/event.hpp"

namespace kipvs::kube {

struct RecorderOptions {
    std::size_t queue_limit = 64;
    std::chrono::seconds repeat_window{600};
    int attempts = 3;                            // per event
    std::chrono::milliseconds retry_pause{1000}; // doubled after each failed attempt
    ClientOptions client = short_deadlines();
    // Tests only: the wall clock events are stamped and compared with.
    std::function<std::chrono::system_clock::time_point()> clock;

    static ClientOptions short_deadlines() {
        ClientOptions c;
        c.connect_timeout = std::chrono::seconds(5);
        c.handshake_timeout = std::chrono::seconds(5);
        c.request_timeout = std::chrono::seconds(10);
        c.max_body = 1u << 20;
        return c;
    }
};

struct RecorderStats {
    unsigned long recorded = 0;    // accepted into the queue
    unsigned long suppressed = 0;  // repeats inside the window
    unsigned long posted = 0;
    unsigned long dropped = 0;     // queue full, or not postable
    unsigned long failed_attempts = 0;
};

class EventRecorder {
public:
    // Log only: there is no API server to post to.
    EventRecorder(std::string reporting_instance, RecorderOptions options = {});
    // Posts through its own connection, with the watch's credentials. Throws
    // NetworkError when the client cannot be set up (as the watch would).
    EventRecorder(boost::asio::any_io_executor executor, config::KubeCredentials credentials,
                  std::string reporting_instance, RecorderOptions options = {});
    ~EventRecorder();
    EventRecorder(const EventRecorder&) = delete;
    EventRecorder& operator=(const EventRecorder&) = delete;

    // Call on the executor's thread. Never waits.
    void record(Event event);
    // Aborts what is in flight; queued events are dropped.
    void stop();

    const RecorderStats& stats() const;
    // Nothing queued and nothing in flight.
    bool idle() const;
    bool posting() const;  // false: log only

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace kipvs::kube
