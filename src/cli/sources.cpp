// The two sources of Services and EndpointSlices for `run` and `plan`.
#include "cli/sources.hpp"

#include <unistd.h>

#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config/config_load.hpp"
#include "config/kubeconfig.hpp"
#include "error.hpp"
#include "kube/informer.hpp"
#include "kube/informer_cache.hpp"
#include "log/log.hpp"
#include "source/manifests.hpp"
#include "source/origin_table.hpp"

namespace kipvs::cli {
namespace {

namespace asio = boost::asio;

// A directory of manifests, reloaded whole when inotify reports a change
// (debounced, so an editor's several writes make one reload). The store
// marks only the services whose objects differ. A file or object that fails
// to load keeps its last good version (source::merge_with_previous), so a bad
// edit never takes rules away until there is a correct replacement.
class ManifestSource final : public Source {
public:
    ManifestSource(std::string directory, std::string node_name, asio::any_io_executor executor, SourceCallbacks cb)
        : directory_(std::move(directory)), node_name_(std::move(node_name)), executor_(executor),
          callbacks_(std::move(cb)), debounce_(executor) {}

    void start(proxy::ObjectStore& store) override {
        store_ = &store;
        try {
            watcher_.emplace(directory_);
            fd_.emplace(executor_, ::dup(watcher_->fd()));
            wait();
        } catch (const Error& e) {
            log::warning(std::string("manifests are not watched: ") + e.what());
        }
        load();
        synced_ = true;
        callbacks_.notify(SourceEvent::synced);
    }

    void stop() override {
        if (fd_) fd_->close();
        debounce_.cancel();
    }

    bool synced() const override { return synced_; }
    const model::Node* node() const override { return node_ ? &*node_ : nullptr; }
    std::string describe() const override { return "manifests in " + directory_; }

private:
    void load() {
        auto loaded = source::load_manifests(directory_);
        for (const auto& e : loaded.errors) log::error("manifests: " + e);
        for (const auto& w : loaded.warnings) log::warning("manifests: " + w);
        std::vector<std::string> kept;
        bool failed = !loaded.failed_files.empty() || !loaded.failed_objects.empty();
        auto objects = failed ? source::merge_with_previous(previous_objects(), std::move(loaded), kept)
                              : std::move(loaded);
        for (const auto& k : kept) log::warning("manifests: " + k);
        std::optional<model::Node> node;
        for (const auto& n : objects.nodes)
            if (n.name == node_name_) node = n;
        bool node_changed = node != node_;
        node_ = std::move(node);
        std::size_t services = objects.services.size(), slices = objects.slices.size();
        last_origins_ = source::OriginTable(objects.origins);
        objects.origins.clear();
        last_nodes_ = std::move(objects.nodes);
        bool changed = store_->replace_all(std::move(objects.services), std::move(objects.slices));
        std::string summary = "manifests: ";
        summary += std::to_string(services);
        summary += " services, ";
        summary += std::to_string(slices);
        summary += " endpoint slices from ";
        summary += directory_;
        if (!kept.empty()) summary += " (some kept from before; see above)";
        if (!changed) summary += " (no change)";
        log::info(summary);
        if (node_changed) callbacks_.notify(SourceEvent::node_changed);
        if (changed) callbacks_.notify(SourceEvent::objects_changed);
    }

    // The last good load, for merge_with_previous to put back what a failed
    // file or object held. Its Services and EndpointSlices are what the
    // store holds (compactly): they are rebuilt from it only when something
    // failed, so that no second copy is kept.
    source::ManifestObjects previous_objects() const {
        source::ManifestObjects previous;
        previous.origins = last_origins_.expand();
        previous.nodes = last_nodes_;
        for (const auto& entry : previous.origins) {
            const std::string& key = entry.first;  // "Service ns/name", "EndpointSlice ns/name", "Node name"
            auto space = key.find(' ');
            if (space == std::string::npos) continue;
            std::string kind = key.substr(0, space), name = key.substr(space + 1);
            if (kind == "Service") {
                if (auto it = store_->services().find(name); it != store_->services().end())
                    previous.services.push_back(it->second);
            } else if (kind == "EndpointSlice") {
                if (auto slice = store_->slice(name)) previous.slices.push_back(std::move(*slice));
            }
        }
        return previous;
    }

    // Inside asio handlers: an exception would leave io_context::run, so an
    // Error is logged here and the source keeps going.
    void reload() {
        try {
            load();
        } catch (const Error& e) {
            std::string message = "manifests: reloading ";
            message += directory_;
            message += ": ";
            message += e.what();
            message += "; the objects loaded before stay until the next change";
            log::error(message);
        }
    }

    void reload_after(std::chrono::milliseconds delay, bool then_wait) {
        debounce_.expires_after(delay);
        debounce_.async_wait([this, then_wait](const boost::system::error_code& e) {
            if (e) return;
            reload();
            if (then_wait) wait();
        });
    }

    void wait() {
        fd_->async_wait(asio::posix::descriptor_base::wait_read, [this](const boost::system::error_code& ec) {
            if (ec) return;
            bool changed = false;
            try {
                changed = watcher_->drain();
            } catch (const Error& e) {
                // Events may be lost: reload. Waiting a second before watching
                // again keeps a descriptor that fails every read from spinning.
                std::string message = "manifests: ";
                message += e.what();
                message += "; reloading, and watching again in a second";
                log::error(message);
                reload_after(std::chrono::seconds(1), true);
                return;
            }
            if (changed) reload_after(std::chrono::milliseconds(100), false);
            wait();
        });
    }

    std::string directory_, node_name_;
    asio::any_io_executor executor_;
    SourceCallbacks callbacks_;
    asio::steady_timer debounce_;
    proxy::ObjectStore* store_ = nullptr;
    std::optional<source::ManifestWatcher> watcher_;
    std::optional<asio::posix::stream_descriptor> fd_;
    std::optional<model::Node> node_;
    source::OriginTable last_origins_;  // of what the store holds
    std::vector<model::Node> last_nodes_;
    bool synced_ = false;
};

// The API server: three informers (Services, EndpointSlices, this Node).
// Changes go to the store as they arrive; the proxy syncs only after both
// Services and EndpointSlices were listed completely, so that a restart
// never programs a partial view (PARITY.md §6.1).
class ApiSource final : public Source {
public:
    ApiSource(config::KubeCredentials credentials, std::string node_name, asio::any_io_executor executor,
              SourceCallbacks cb)
        : credentials_(std::move(credentials)), node_name_(std::move(node_name)), executor_(executor),
          callbacks_(std::move(cb)) {}

    void start(proxy::ObjectStore& store) override {
        store_ = &store;
        // The store keeps Services and EndpointSlices (compactly): the
        // informers keep only resourceVersions, to diff a relist.
        services_ = std::make_unique<kube::InformerCache<model::Service>>(kube::Handlers<model::Service>{
            [this](kube::ChangeKind kind, const std::string& key, const model::Service*, const model::Service* current) {
                bool changed = kind == kube::ChangeKind::deleted ? remove(key, &proxy::ObjectStore::remove_service)
                                                                  : store_->upsert_service(*current);
                if (changed) callbacks_.notify(SourceEvent::objects_changed);
            },
            [this] { synced_services_ = true; notify_synced(); }}, kube::Retain::versions);
        slices_ = std::make_unique<kube::InformerCache<model::EndpointSlice>>(kube::Handlers<model::EndpointSlice>{
            [this](kube::ChangeKind kind, const std::string& key, const model::EndpointSlice*,
                   const model::EndpointSlice* current) {
                bool changed = kind == kube::ChangeKind::deleted ? remove(key, &proxy::ObjectStore::remove_slice)
                                                                  : store_->upsert_slice(*current);
                if (changed) callbacks_.notify(SourceEvent::objects_changed);
            },
            [this] { synced_slices_ = true; notify_synced(); }}, kube::Retain::versions);
        nodes_ = std::make_unique<kube::InformerCache<model::Node>>(kube::Handlers<model::Node>{
            [this](kube::ChangeKind kind, const std::string&, const model::Node*, const model::Node* current) {
                if (kind == kube::ChangeKind::deleted) node_.reset();
                else node_ = *current;
                callbacks_.notify(SourceEvent::node_changed);
            },
            {}});
        informers_.push_back(std::make_unique<kube::Informer>(executor_, credentials_, kube::ClientOptions{},
                                                              *services_, kube::services_informer()));
        informers_.push_back(std::make_unique<kube::Informer>(executor_, credentials_, kube::ClientOptions{},
                                                              *slices_, kube::endpoint_slices_informer()));
        informers_.push_back(std::make_unique<kube::Informer>(executor_, credentials_, kube::ClientOptions{}, *nodes_,
                                                              kube::node_informer(node_name_)));
        for (auto& informer : informers_) asio::co_spawn(executor_, informer->run(), asio::detached);
    }

    void stop() override {
        for (auto& informer : informers_) informer->stop();
    }

    bool synced() const override { return synced_services_ && synced_slices_; }
    const model::Node* node() const override { return node_ ? &*node_ : nullptr; }
    std::string describe() const override { return "API server " + credentials_.server.to_string(); }
    const config::KubeCredentials* credentials() const override { return &credentials_; }
    unsigned long failed_requests() const override {
        return (services_ ? services_->stats().errors : 0) + (slices_ ? slices_->stats().errors : 0) +
               (nodes_ ? nodes_->stats().errors : 0);
    }

private:
    // "namespace/name", the informer's key, into the store's two arguments.
    template <class Remove>
    bool remove(const std::string& key, Remove remove_from_store) {
        auto slash = key.find('/');
        if (slash == std::string::npos) return false;
        return (store_->*remove_from_store)(key.substr(0, slash), key.substr(slash + 1));
    }

    void notify_synced() {
        if (synced()) callbacks_.notify(SourceEvent::synced);
    }

    config::KubeCredentials credentials_;
    std::string node_name_;
    asio::any_io_executor executor_;
    SourceCallbacks callbacks_;
    proxy::ObjectStore* store_ = nullptr;
    std::unique_ptr<kube::InformerCache<model::Service>> services_;
    std::unique_ptr<kube::InformerCache<model::EndpointSlice>> slices_;
    std::unique_ptr<kube::InformerCache<model::Node>> nodes_;
    std::vector<std::unique_ptr<kube::Informer>> informers_;
    std::optional<model::Node> node_;
    bool synced_services_ = false, synced_slices_ = false;
};

}  // namespace

std::unique_ptr<Source> make_source(const config::Config& config, const std::string& node_name,
                                    asio::any_io_executor executor, SourceCallbacks callbacks) {
    if (!config.kipvs.manifests.empty()) {
        log::info("source: static manifests in " + config.kipvs.manifests);
        return std::make_unique<ManifestSource>(config.kipvs.manifests, node_name, executor, std::move(callbacks));
    }
    std::vector<std::string> searched;
    auto location = config::locate_kubeconfig(config, searched);
    if (!location) {
        std::string list;
        for (const auto& s : searched) list += (list.empty() ? "" : ", ") + s;
        throw ConfigError("no kubeconfig found (searched " + list +
                          "); set clientConnection.kubeconfig, or kipvs.manifests for static manifests");
    }
    auto credentials = config::load_kubeconfig(location->path, config.kipvs.context, config.kipvs.allow_plain_http);
    log::info("source: API server " + credentials.server.to_string() + " (kubeconfig " + credentials.file + ", " +
              location->reason + "), node " + node_name);
    return std::make_unique<ApiSource>(std::move(credentials), node_name, executor, std::move(callbacks));
}

std::string node_name(const config::Config& config) {
    if (!config.hostname_override.empty()) return config.hostname_override;
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return host;
}

proxy::PlanOptions plan_options(const config::Config& config, const std::vector<model::Family>& families) {
    proxy::PlanOptions po;
    po.scheduler = config.ipvs.scheduler;
    po.families = families;
    return po;
}

proxy::ReconcilerOptions reconciler_options(const config::Config& config, const std::vector<model::Family>& families) {
    proxy::ReconcilerOptions ro;
    ro.families = families;
    ro.exclude_cidrs = config.ipvs.exclude_cidrs;
    ro.graceful_termination_timeout =
        std::chrono::duration_cast<std::chrono::seconds>(config.kipvs.graceful_termination_timeout);
    ro.ipset_max_elements = static_cast<unsigned>(config.kipvs.ipset_max_elements);
    ro.masquerade_all = config.iptables.masquerade_all;
    ro.masquerade_bit = config.iptables.masquerade_bit;
    if (config.detect_local_mode == "ClusterCIDR") ro.cluster_cidrs = config.cluster_cidrs;
    return ro;
}

}  // namespace kipvs::cli
