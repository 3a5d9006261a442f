#include "server/status_servers.hpp"

#include "error.hpp"
#include "log/log.hpp"

namespace kipvs::server {
namespace {

HttpReply not_found() {
    HttpReply r;
    r.status = 404;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "404 page not found\n";
    return r;
}

}  // namespace

StatusServers::StatusServers(boost::asio::io_context& io, const config::Config& config, Monitor& monitor,
                             DaemonView view)
    : io_(io), node_port_cidrs_(config.node_port_addresses), monitor_(monitor), view_(std::move(view)) {
    auto start = [&](const std::string& address, const char* name, HttpHandler handler) {
        if (address.empty()) return;
        auto hp = model::HostPort::parse(address);
        if (!hp) {
            log::error(std::string(name) + ": \"" + address + "\" is not an IP:port; not serving");
            return;
        }
        try {
            servers_.push_back(std::make_unique<HttpServer>(io_, *hp, name, std::move(handler)));
            log::info(std::string(name) + " listening on " + hp->to_string());
        } catch (const Error& e) {
            log::error(std::string(e.what()) + "; not serving");
        }
    };
    // Both health paths share one port, as in kube-proxy; anything else is 404.
    start(config.healthz_bind_address, "healthz server", [this](const HttpRequest& req) {
        auto path = req.path();
        if (path != "/healthz" && path != "/livez") return not_found();
        return monitor_.health(path == "/livez", view_.node(), WallClock::now());
    });
    start(config.metrics_bind_address, "metrics server", [this](const HttpRequest& req) {
        auto path = req.path();
        // kube-proxy's metrics port also serves /healthz (always ok) for
        // probes pointed at it.
        if (path == "/healthz") {
            HttpReply ok;
            ok.content_type = "text/plain; charset=utf-8";
            ok.body = "ok";
            return ok;
        }
        if (path != "/metrics") return not_found();
        std::string problem;
        HttpReply reply = monitor_.metrics({view_.store, view_.desired, &view_.ipvs, "/proc/net/ip_vs"}, &problem);
        if (!problem.empty()) log::warning("metrics: " + problem);
        return reply;
    });
}

StatusServers::~StatusServers() = default;

HttpReply StatusServers::health_check_reply(const std::string& key) const {
    auto s = view_.store.services().find(key);
    std::string ns = key.substr(0, key.find('/')), name = key.substr(key.find('/') + 1);
    std::size_t local = 0;
    if (s != view_.store.services().end())
        local = ready_local_endpoints(view_.store.slices_of(key), view_.store.node_facts().name);
    return monitor_.service_health(ns, name, local, WallClock::now());
}

void StatusServers::update_health_check_ports() {
    // Listeners go on each nodePortAddresses address, or on the wildcard
    // when nodePortAddresses is unset (PARITY.md §4).
    std::vector<model::IpAddress> addresses;
    if (node_port_cidrs_.empty()) {
        addresses.push_back(model::IpAddress::v4(0, 0, 0, 0));
    } else {
        addresses = view_.store.node_facts().node_port_addresses;
    }
    auto changes = view_.store.change_counts().services;
    if (changes == hc_seen_changes_ && addresses == hc_addresses_) return;
    if (addresses != hc_addresses_) hc_servers_.clear();  // reopened below on the new addresses
    hc_seen_changes_ = changes;
    hc_addresses_ = addresses;

    std::map<std::string, std::uint16_t> wanted;
    for (const auto& [key, s] : view_.store.services())
        if (s.external_traffic_policy == model::TrafficPolicy::local && s.health_check_node_port != 0 && !s.headless &&
            s.type != model::ServiceType::external_name)
            wanted[key] = s.health_check_node_port;
    for (auto it = hc_servers_.begin(); it != hc_servers_.end();) {
        auto w = wanted.find(it->first);
        if (w == wanted.end() || w->second != it->second.port) {
            it = hc_servers_.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& [key, port] : wanted) {
        if (hc_servers_.count(key) != 0) continue;
        HealthCheckPort hc;
        hc.port = port;
        for (const auto& a : addresses) {
            try {
                hc.listeners.push_back(std::make_unique<HttpServer>(
                    io_, model::HostPort{a, port}, "health check of " + key,
                    [this, key](const HttpRequest&) { return health_check_reply(key); }));
            } catch (const Error& e) {
                // kube-proxy emits FailedToStartServiceHealthcheck here.
                log::warning(e.what());
            }
        }
        hc_servers_.emplace(key, std::move(hc));
    }
}

}  // namespace kipvs::server
