#pragma once
// The daemon's HTTP endpoints: /healthz and /livez on healthzBindAddress,
// /metrics on metricsBindAddress, and one health-check node port per
// externalTrafficPolicy: Local service (PARITY.md §4, §6). They read the
// daemon's state on its own io_context thread, so nothing is locked, and
// write nothing; only the kernel read of a /metrics scrape runs on a worker
// thread (ipvs_scrape.hpp), with sockets of its own.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "model/node.hpp"
#include "proxy/desired_state.hpp"
#include "proxy/object_store.hpp"
#include "server/http_server.hpp"
#include "server/ipvs_scrape.hpp"
#include "server/monitor.hpp"

namespace kipvs::server {

// A listener that could not start, for the Kubernetes Event kube-proxy
// records about it (kipvs run turns it into one: kube/event.hpp).
struct ListenFailure {
    enum class Listener { healthz, metrics, health_check } listener;
    std::string service_key;  // a health-check node port's service
    std::string address;      // "0.0.0.0:10256"
    std::uint16_t port = 0;
    std::string error;
};

// What the endpoints read; all of it outlives the servers.
struct DaemonView {
    const proxy::ObjectStore& store;
    const proxy::DesiredState& desired;
    // The kernel part of /metrics, run on the scrape worker's thread
    // (kernel_ipvs_reader(): a netlink socket of its own).
    IpvsReader read_ipvs;
    std::function<const model::Node*()> node;  // this node's Node object, or null
    std::function<void(const ListenFailure&)> listen_failed = {};  // logged here already
};

class StatusServers {
public:
    // Starts the configured servers; an empty bind address disables one, as
    // in kube-proxy. A server that cannot listen is logged and left out:
    // proxying matters more than being observed.
    StatusServers(boost::asio::io_context& io, const config::Config& config, Monitor& monitor, DaemonView view);
    ~StatusServers();
    StatusServers(const StatusServers&) = delete;
    StatusServers& operator=(const StatusServers&) = delete;

    // After a sync: opens the health-check node ports of new eTP=Local
    // services and closes those of services gone. Cheap when no Service
    // changed (endpoint changes need nothing: counts are read per request).
    void update_health_check_ports();

    std::size_t health_check_ports() const { return hc_servers_.size(); }

    // A reload: moves /healthz and /metrics to changed bind addresses (the
    // new one bound before the old closes; a new one that cannot listen is
    // logged and the old keeps serving) and re-binds the health-check node
    // ports for a changed nodePortAddresses. Unchanged listeners are not touched.
    void reconfigure(const config::Config& next);

    // The bound ports, 0 when not serving (tests bind port 0).
    std::uint16_t healthz_port() const;
    std::uint16_t metrics_port() const;

private:
    struct FixedListener {
        const char* name;
        std::string address;  // what `server` listens on; "" when not serving
        std::unique_ptr<HttpServer> server;
    };
    HttpReply health_check_reply(const std::string& key) const;
    std::unique_ptr<HttpServer> open_fixed(const FixedListener& which, const model::HostPort& at);
    std::unique_ptr<HttpServer> open_fixed_on(const FixedListener& which, const model::HostPort& at);
    // Opens `at`; a wildcard of either family as one "[::]" socket for both,
    // or IPv4's alone where the node has no IPv6.
    std::unique_ptr<HttpServer> bind_any_family(
        const model::HostPort& at, const std::function<std::unique_ptr<HttpServer>(const model::HostPort&)>& open);
    void move_fixed(FixedListener& which, const std::string& next);
    std::unique_ptr<HttpServer> open_health_check(const model::IpAddress& address, std::uint16_t port,
                                                  const std::string& key);
    void answer_metrics(const HttpRequest& req, HttpReplyCallback reply);

    boost::asio::io_context& io_;
    std::vector<std::string> node_port_cidrs_;  // nodePortAddresses as configured
    Monitor& monitor_;
    DaemonView view_;
    FixedListener healthz_{"healthz server", {}, nullptr};
    FixedListener metrics_{"metrics server", {}, nullptr};
    bool ipv4_only_logged_ = false;
    // service key → its port and listeners
    struct HealthCheckPort {
        std::uint16_t port = 0;
        std::vector<std::unique_ptr<HttpServer>> listeners;
    };
    std::map<std::string, HealthCheckPort> hc_servers_;
    std::uint64_t hc_seen_changes_ = ~std::uint64_t{0};
    std::vector<model::IpAddress> hc_addresses_;
    // Last: destroyed first, so that no scrape result arrives for a
    // half-destroyed StatusServers.
    std::unique_ptr<ScrapeWorker> scraper_;
};

}  // namespace kipvs::server
