#pragma once
// The list+watch loop of one resource: LIST (paginated) into the sink, then
// WATCH from the list's resourceVersion; resume the watch from the last
// version seen when the stream ends; relist only on 410 Gone. Errors back off
// exponentially with jitter; at most one LIST per backoff step.
#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "kube/api_client.hpp"
#include "kube/resource_sink.hpp"

namespace kipvs::kube {

struct InformerOptions {
    std::string resource;  // for messages: "services"
    std::string path;      // "/api/v1/services"
    std::string label_selector;
    std::string field_selector;
    unsigned page_limit = 500;
    std::chrono::milliseconds backoff_initial = std::chrono::seconds(1);
    std::chrono::milliseconds backoff_cap = std::chrono::seconds(30);
    // The server ends each watch after a random time in this range, as
    // client-go asks, so that many watchers do not reconnect in step.
    std::chrono::seconds watch_timeout_min = std::chrono::minutes(5);
    std::chrono::seconds watch_timeout_max = std::chrono::minutes(10);
};

// kube-proxy's selectors (PARITY.md §4).
InformerOptions services_informer();
InformerOptions endpoint_slices_informer();
InformerOptions node_informer(const std::string& node_name);

// "a=b,!c" → "a%3Db%2C%21c": query values are percent-encoded.
std::string query_escape(std::string_view value);

class Informer {
public:
    Informer(boost::asio::any_io_executor executor, const config::KubeCredentials& credentials,
             ClientOptions client_options, ResourceSink& sink, InformerOptions options);
    ~Informer();
    Informer(const Informer&) = delete;
    Informer& operator=(const Informer&) = delete;

    // Runs until stop() (co_spawn it on the executor given above).
    boost::asio::awaitable<void> run();
    // Ends run() soon: what is in flight is aborted; the cache is left as is.
    void stop();

    ApiClient& client();

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace kipvs::kube
