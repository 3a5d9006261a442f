#pragma once
// What /healthz, /livez and /metrics answer, as plain values: the sync loop
// reports each sync and each queued change here; the HTTP servers
// (http_server.hpp) only ask. Nothing in here writes to the kernel or to
// the proxy's state.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kernel/ipvs.hpp"
#include "model/ip.hpp"
#include "model/node.hpp"
#include "proxy/desired_state.hpp"
#include "proxy/object_store.hpp"
#include "proxy/reconciler.hpp"
#include "server/exposition.hpp"
#include "server/health.hpp"

namespace kipvs::server {

// A /metrics answer holding `text`.
HttpReply metrics_reply(std::string text);

// Distinct Ready endpoint IPs on this node over a service's slices
// (PARITY.md §4): what a health-check node port reports. Terminating
// endpoints do not count, so a load balancer drains a node whose pods are
// going away.
std::size_t ready_local_endpoints(const std::vector<const model::EndpointSlice*>& slices,
                                  const std::string& node_name);

class Monitor {
public:
    // `start`: trigger times older than this predate kipvs and are not
    // programming latency (kube-proxy drops them the same way).
    Monitor(std::vector<model::Family> families, WallClock::duration health_timeout, WallClock::time_point start);

    // A change is waiting for a sync.
    void queued(WallClock::time_point now);
    // One sync ended at `end` after `took`. A sync with failures does not
    // count as an update for health (kipvs retries it with a full sync).
    void synced(const proxy::SyncReport& report, std::chrono::duration<double> took, WallClock::time_point end,
                const std::vector<std::pair<model::Family, std::string>>& trigger_times);

    // /healthz (livez false) or /livez; counts the answer.
    HttpReply health(bool livez, const model::Node* node, WallClock::time_point now);
    bool healthy(WallClock::time_point now) const { return health_.healthy(now); }
    // A reload with another ipvs.syncPeriod (health_timeout() of it).
    void set_health_timeout(WallClock::duration timeout) { health_.set_timeout(timeout); }

    struct ScrapeInput {
        const proxy::ObjectStore& store;
        const proxy::DesiredState& desired;
        kernel::IpvsKernel* ipvs = nullptr;  // none: no ipvs_* rows
        std::string proc_ip_vs = "/proc/net/ip_vs";
    };
    // The whole /metrics text. A failed kernel read leaves the ipvs_* rows
    // out and says why in the returned problem (logged by the caller).
    HttpReply metrics(const ScrapeInput& in, std::string* problem = nullptr) const;
    // The kubeproxy_* part alone (the daemon adds the ipvs_* part from
    // its scrape worker, ipvs_scrape.hpp).
    void write_proxy_metrics(ExpositionWriter& out, const proxy::ObjectStore& store) const;

    // A health-check node port's answer for service "namespace/name".
    HttpReply service_health(const std::string& namespace_name, const std::string& name, std::size_t local_endpoints,
                             WallClock::time_point now) const;

private:
    struct PerFamily {
        Histogram sync_duration;
        Histogram programming;
        std::optional<double> last_sync, last_queued;  // unix seconds
        std::uint64_t restore_failures = 0;
        std::uint64_t conntrack_deleted = 0;  // UDP flows the conntrack sweep deleted
        PerFamily();
    };
    std::vector<model::Family> families_;
    std::map<model::Family, PerFamily> per_family_;
    ProxyHealth health_;
    WallClock::time_point start_;
    std::map<unsigned, std::uint64_t> healthz_codes_, livez_codes_;
};

}  // namespace kipvs::server
