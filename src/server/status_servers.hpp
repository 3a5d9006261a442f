#pragma once
// The daemon's HTTP endpoints: /healthz and /livez on healthzBindAddress,
// /metrics on metricsBindAddress, and one health-check node port per
// externalTrafficPolicy: Local service (PARITY.md §4, §6). They read the
// daemon's state on its own io_context thread, so nothing is locked, and
// write nothing.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "kernel/ipvs.hpp"
#include "model/node.hpp"
#include "proxy/desired_state.hpp"
#include "proxy/object_store.hpp"
#include "server/http_server.hpp"
#include "server/monitor.hpp"

namespace kipvs::server {

// What the endpoints read; all of it outlives the servers.
struct DaemonView {
    const proxy::ObjectStore& store;
    const proxy::DesiredState& desired;
    kernel::IpvsKernel& ipvs;
    std::function<const model::Node*()> node;  // this node's Node object, or null
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

private:
    HttpReply health_check_reply(const std::string& key) const;

    boost::asio::io_context& io_;
    std::vector<std::string> node_port_cidrs_;  // nodePortAddresses as configured
    Monitor& monitor_;
    DaemonView view_;
    std::vector<std::unique_ptr<HttpServer>> servers_;
    // service key → its port and listeners
    struct HealthCheckPort {
        std::uint16_t port = 0;
        std::vector<std::unique_ptr<HttpServer>> listeners;
    };
    std::map<std::string, HealthCheckPort> hc_servers_;
    std::uint64_t hc_seen_changes_ = ~std::uint64_t{0};
    std::vector<model::IpAddress> hc_addresses_;
};

}  // namespace kipvs::server
