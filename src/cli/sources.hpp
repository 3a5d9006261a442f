#pragma once
// Where `kipvs run` and `kipvs plan` get Services and EndpointSlices: the
// API server (list+watch informers) or a directory of static manifests
// (kipvs.manifests, watched with inotify). Both feed the same object store.
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "cli/cli.hpp"
#include "config/config.hpp"
#include "config/kubeconfig.hpp"
#include "model/node.hpp"
#include "proxy/object_store.hpp"
#include "proxy/reconciler.hpp"

namespace kipvs::cli {

enum class SourceEvent { objects_changed, node_changed, synced };

class Source {
public:
    virtual ~Source() = default;
    // Starts feeding `store` (which must outlive the source).
    virtual void start(proxy::ObjectStore& store) = 0;
    virtual void stop() = 0;
    // True once every resource has been listed completely.
    virtual bool synced() const = 0;
    // This node's Node object, when the source has it.
    virtual const model::Node* node() const = 0;
    // "API server https://…" or "manifests in /etc/kipvs/manifests"
    virtual std::string describe() const = 0;
    // Requests to the API server that failed since start (none for
    // manifests): the connectivity `kipvs run` reports to systemd.
    virtual unsigned long failed_requests() const { return 0; }
    // The API server's credentials, for the Event recorder; none for manifests.
    virtual const config::KubeCredentials* credentials() const { return nullptr; }
};

struct SourceCallbacks {
    std::function<void(SourceEvent)> notify;
};

std::unique_ptr<Source> make_source(const config::Config& config, const std::string& node_name,
                                    boost::asio::any_io_executor executor, SourceCallbacks callbacks);

// This node's name: hostnameOverride, else the host name.
std::string node_name(const config::Config& config);

// What the configuration says to the planner and the reconciler, shared by
// `run` and `plan` so the two compute the same state.
proxy::PlanOptions plan_options(const config::Config& config, const std::vector<model::Family>& families);
proxy::ReconcilerOptions reconciler_options(const config::Config& config, const std::vector<model::Family>& families);


}  // namespace kipvs::cli
