#include "server/status_servers.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "error.hpp"
#include "log/log.hpp"
#include "server/listener_change.hpp"

namespace kipvs::server {
namespace {

model::IpAddress ipv6_any() {
    model::IpAddress any;
    any.family = model::Family::v6;
    return any;
}

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
    scraper_ = std::make_unique<ScrapeWorker>(
        [&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); }, view_.read_ipvs,
        [](const IpvsScrape& result) {
            if (!result.problem.empty()) log::warning("metrics: " + result.problem);
        });
    move_fixed(healthz_, config.healthz_bind_address);
    move_fixed(metrics_, config.metrics_bind_address);
}

StatusServers::~StatusServers() = default;

std::uint16_t StatusServers::healthz_port() const { return healthz_.server ? healthz_.server->port() : 0; }
std::uint16_t StatusServers::metrics_port() const { return metrics_.server ? metrics_.server->port() : 0; }

std::unique_ptr<HttpServer> StatusServers::open_fixed(const FixedListener& which, const model::HostPort& at) {
    return bind_any_family(at, [this, &which](const model::HostPort& where) { return open_fixed_on(which, where); });
}

std::unique_ptr<HttpServer> StatusServers::open_fixed_on(const FixedListener& which, const model::HostPort& at) {
    if (&which == &healthz_) {
        // Both health paths share one port, as in kube-proxy; anything else is 404.
        return std::make_unique<HttpServer>(io_, at, which.name, [this](const HttpRequest& req) {
            auto path = req.path();
            if (path != "/healthz" && path != "/livez") return not_found();
            return monitor_.health(path == "/livez", view_.node(), WallClock::now());
        });
    }
    return std::make_unique<HttpServer>(io_, at, which.name,
                                        AsyncHttpHandler([this](const HttpRequest& req, HttpReplyCallback reply) {
                                            answer_metrics(req, std::move(reply));
                                        }));
}

void StatusServers::answer_metrics(const HttpRequest& req, HttpReplyCallback reply) {
    auto path = req.path();
    // kube-proxy's metrics port also serves /healthz (always ok) for
    // probes pointed at it.
    if (path == "/healthz") {
        HttpReply ok;
        ok.content_type = "text/plain; charset=utf-8";
        ok.body = "ok";
        return reply(std::move(ok));
    }
    if (path != "/metrics") return reply(not_found());
    // The owners are taken when the read starts, the kubeproxy_* part when
    // it ends: both on this thread, from the state of that moment.
    scraper_->scrape([this] { return vs_owners(view_.desired.plans(), view_.store.services()); },
                     [this, reply = std::move(reply)](const IpvsScrape& ipvs) {
                         ExpositionWriter out;
                         monitor_.write_proxy_metrics(out, view_.store);
                         reply(metrics_reply(out.take() + ipvs.text));
                     });
}

void StatusServers::move_fixed(FixedListener& which, const std::string& next) {
    auto change = plan_listener_change(which.address, next);
    std::string name = which.name;
    // The address as bound: a configured port 0 shows the port it got.
    auto bound = [&which, &change] { return model::HostPort{change.next->address, which.server->port()}.to_string(); };
    switch (change.step) {
    case ListenerStep::keep:
        return;
    case ListenerStep::refuse:
        log::error(name + ": \"" + next + "\" is not an IP:port; " +
                   (which.address.empty() ? std::string("not serving") : "still serving on " + which.address));
        return;
    case ListenerStep::stop:
        which.server.reset();
        log::info(name + ": stopped listening on " + which.address + " (its bind address is now empty)");
        which.address.clear();
        return;
    case ListenerStep::start:
        try {
            which.server = open_fixed(which, *change.next);
            which.address = next;
            log::info(name + " listening on " + bound());
        } catch (const Error& e) {
            log::error(std::string(e.what()) + "; not serving");
            if (view_.listen_failed)
                view_.listen_failed({&which == &healthz_ ? ListenFailure::Listener::healthz : ListenFailure::Listener::metrics,
                                     {}, change.next->to_string(), change.next->port, e.what()});
        }
        return;
    case ListenerStep::bind_then_close:
        try {
            // The old server goes only once the new one listens.
            which.server = open_fixed(which, *change.next);
            log::info(name + " moved from " + which.address + " to " + bound());
            which.address = next;
        } catch (const Error& e) {
            log::error(std::string(e.what()) + "; still serving on " + which.address);
        }
        return;
    case ListenerStep::close_then_bind: {
        // The kernel refuses the new address while the old one listens.
        which.server.reset();
        try {
            which.server = open_fixed(which, *change.next);
            log::info(name + " moved from " + which.address + " to " + bound());
            which.address = next;
            return;
        } catch (const Error& e) {
            log::error(std::string(e.what()) + "; back on " + which.address);
        }
        try {
            which.server = open_fixed(which, *model::HostPort::parse(which.address));
        } catch (const Error& e) {
            log::error(std::string(e.what()) + "; not serving");
            which.address.clear();
        }
        return;
    }
    }
}

void StatusServers::reconfigure(const config::Config& next) {
    move_fixed(healthz_, next.healthz_bind_address);
    move_fixed(metrics_, next.metrics_bind_address);
    node_port_cidrs_ = next.node_port_addresses;
    // The node's addresses under the new nodePortAddresses are in the
    // store already (the daemon gathers them first).
    update_health_check_ports();
}

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
    // when nodePortAddresses is unset (PARITY.md §4): "[::]" for both
    // families, as kube-proxy's Go listener on "0.0.0.0:port" does.
    std::vector<model::IpAddress> addresses;
    if (node_port_cidrs_.empty()) {
        addresses.push_back(ipv6_any());
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
                hc.listeners.push_back(open_health_check(a, port, key));
            } catch (const Error& e) {
                log::warning(e.what());
                if (view_.listen_failed)
                    view_.listen_failed({ListenFailure::Listener::health_check, key, a.to_string(), port, e.what()});
            }
        }
        hc_servers_.emplace(key, std::move(hc));
    }
}

std::unique_ptr<HttpServer> StatusServers::open_health_check(const model::IpAddress& address, std::uint16_t port,
                                                             const std::string& key) {
    std::string name = "health check of " + key;
    return bind_any_family({address, port}, [this, &name, &key](const model::HostPort& at) {
        return std::make_unique<HttpServer>(io_, at, name, [this, key](const HttpRequest&) {
            return health_check_reply(key);
        });
    });
}

std::unique_ptr<HttpServer> StatusServers::bind_any_family(
    const model::HostPort& at, const std::function<std::unique_ptr<HttpServer>(const model::HostPort&)>& open) {
    // Go's listener on a wildcard ("0.0.0.0:port" or "[::]:port", what
    // kube-proxy's servers are given) is one "[::]" socket taking both
    // families; HttpServer turns IPV6_V6ONLY off for "[::]".
    if (!at.address.is_unspecified()) return open(at);
    try {
        return open({ipv6_any(), at.port});
    } catch (const Error& v6) {
        // A node without IPv6 (ipv6.disable=1) still serves IPv4, as Go
        // falls back to an IPv4 socket there. Throws the IPv4 reason.
        auto server = open({model::IpAddress::v4(0, 0, 0, 0), at.port});
        if (!ipv4_only_logged_) log::warning(std::string(v6.what()) + "; listening on IPv4 only");
        ipv4_only_logged_ = true;
        return server;
    }
}

}  // namespace kipvs::server
