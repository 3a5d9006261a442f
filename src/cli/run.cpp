// `kipvs run`: the daemon. Sources (API server or static manifests) feed the
// object store; the sync loop plans what changed and the reconciler writes
// it; a full sync every ipvs.syncPeriod repairs drift. SIGTERM leaves every
// rule in place, as kube-proxy does: traffic keeps flowing while kipvs is
// down. This is one of the few translation units with Asio in it.
#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cli/address_follower.hpp"
#include "cli/cli.hpp"
#include "cli/daemon_kernel.hpp"
#include "cli/reload.hpp"
#include "cli/sources.hpp"
#include "cli/supervision.hpp"
#include "config/config_load.hpp"
#include "error.hpp"
#include "kube/event_recorder.hpp"
#include "log/log.hpp"
#include "proxy/node_facts.hpp"
#include "proxy/object_store.hpp"
#include "proxy/reconciler.hpp"
#include "proxy/service_plan.hpp"
#include "server/status_servers.hpp"
#include "version.hpp"

namespace kipvs::cli {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct RunOptions {
    bool once = false;
    bool dry_run = false;
};

// How long `kipvs run` waits at start for the API server's first complete
// list before it reports ready on the rules the previous run left: a node
// must boot with its services working while the API server is away.
constexpr auto api_boot_wait = std::chrono::seconds(10);

class Daemon {
public:
    Daemon(config::Config config, RunOptions options, ConfigOrigin origin)
        : config_(std::move(config)), options_(options), origin_(std::move(origin)),
          node_name_(cli::node_name(config_)) {}

    int run() {
        supervision_.start();
        prepare_host(config_, options_.dry_run);
        families_ = kernel_.open_iptables(config_);
        reconciler_.emplace(kernel_.handles(options_.dry_run), reconciler_options(config_, families_));
        set_ipvs_timeouts(config_, kernel_.ipvs_for(options_.dry_run));

        store_.set_options(plan_options(config_, families_));
        refresh_node_facts();

        source_ = make_source(config_, node_name_, io_.get_executor(), {
            [this](SourceEvent event) { on_source(event); },
        });
        source_->start(store_);
        start_events();
        // --dry-run binds no port; nor does --once, which a running kipvs may share the node with.
        if (!options_.dry_run && !options_.once) start_servers(families_);
        if (!options_.once) addresses_.emplace(io_, [this] {
                refresh_node_facts();
                wake();
            });
        asio::signal_set signals(io_, SIGTERM, SIGINT);
        signals.async_wait([this](const boost::system::error_code& ec, int signal) {
            if (ec) return;
            log::info(std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") +
                      ": stopping; the kernel's rules stay in place");
            supervision_.stopping();
            stop();
        });
        hup_.emplace(io_, SIGHUP);
        wait_hup();
        asio::co_spawn(io_, sync_loop(), [this](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    log::error(std::string("sync loop: ") + x.what());
                    failed_ = true;
                }
            }
            stop();
        });
        io_.run();
        return failed_ ? exit_failure : exit_ok;
    }

private:
    void refresh_node_facts() {
        std::vector<kernel::InterfaceAddress> addresses;
        try {
            addresses = kernel_.links.all_addresses();
        } catch (const Error& e) {
            log::warning(std::string("reading the node's addresses: ") + e.what());
            return;
        }
        auto result = proxy::gather_node_facts(node_name_, source_ ? source_->node() : nullptr, addresses, config_);
        for (const auto& w : result.warnings)
            if (warned_.insert(w).second) log::warning(w);
        if (store_.set_node_facts(result.facts)) {
            reconciler_->set_node_addresses(result.facts.node_port_addresses);
            std::string list;
            for (const auto& a : result.facts.node_port_addresses) {
                if (!list.empty()) list += ' ';
                list += a.to_string();
            }
            log::info("NodePort addresses: " + (list.empty() ? std::string("(none)") : list));
        }
    }

    // /healthz, /livez, /metrics and the health-check node ports (src/server).
    void start_servers(const std::vector<model::Family>& families) {
        auto now = std::chrono::system_clock::now();
        monitor_.emplace(families, server::health_timeout(config_.ipvs.sync_period), now);
        // The first sync is pending from the start: a kipvs that never syncs turns unhealthy.
        monitor_->queued(now);
        servers_.emplace(io_, config_, *monitor_,
                         server::DaemonView{store_, desired_, server::kernel_ipvs_reader(),
                                            [this] { return source_->node(); },
                                            [this](const server::ListenFailure& f) { record_listen_failure(f); }});
    }

    // Kubernetes Events, as kube-proxy records them: posted only by a daemon
    // fed by the API server (--once and --dry-run write nothing there).
    void start_events() {
        const auto* credentials = source_->credentials();
        if (credentials && !options_.once && !options_.dry_run) {
            try {
                events_.emplace(io_.get_executor(), *credentials, node_name_);
            } catch (const Error& e) {
                log::warning(std::string("Kubernetes Events are not posted: ") + e.what());
            }
        }
        if (!events_) events_.emplace(node_name_);
        events_->record(kube::node_started(node_name_, version::string));
    }

    void record_listen_failure(const server::ListenFailure& f) {
        using L = server::ListenFailure::Listener;
        if (f.listener == L::health_check)
            events_->record(kube::service_health_check_failed(node_name_, f.service_key, f.port, f.error));
        else if (f.listener == L::healthz)
            events_->record(kube::proxier_health_check_failed(node_name_, f.address, f.error));
        else
            events_->record(kube::metrics_server_failed(node_name_, f.address, f.error));
    }

    void on_source(SourceEvent event) {
        if (event == SourceEvent::node_changed) refresh_node_facts();
        if (monitor_ && store_.dirty()) monitor_->queued(std::chrono::system_clock::now());
        wake();
    }

    void wake() { timer_.cancel(); }

    StatusFacts status_facts() const {
        return {store_.service_count(),  store_.endpoint_count(), desired_.virtual_server_count(),
                last_sync_wall_,         last_failures_,          source_->describe(),
                source_->synced(),       source_->failed_requests()};
    }


    void wait_hup() {
        hup_->async_wait([this](const boost::system::error_code& ec, int) {
            if (ec || stopping_) return;
            reload();
            wait_hup();
        });
    }

    // SIGHUP: the same file and flags as at start. A file that does not load
    // changes nothing; one that does is applied with the least the kernel
    // needs (the reconciler writes only differences).
    void reload() {
        // Before READY=1 there is nothing to reload from systemd's view:
        // only what the unit is doing is reported.
        supervision_.reloading();
        log::info("SIGHUP: reloading " + origin_.global.config_path);
        config::Config next;
        try {
            next = reload_config(origin_);
        } catch (const Error& e) {
            log::error(std::string("reload: ") + e.what() + "; the running configuration stays");
            supervision_.reloaded(status_facts(), "reload refused; starting");
            return;
        }
        ConfigChanges changes = compare_configs(config_, next);
        (changes.need_restart.empty() ? log::info : log::warning)("reload: " + describe(changes));
        config_ = applied_config(config_, next);
        reapply_host(config_, changes, kernel_, options_.dry_run);
        if (changes.reconciler) {
            // A fresh reconciler under the new options adopts the kernel at
            // its first full sync, which writes only what differs.
            reconciler_.reset();
            reconciler_.emplace(kernel_.handles(options_.dry_run), reconciler_options(config_, families_));
            reconciler_->set_node_addresses(store_.node_facts().node_port_addresses);
            next_full_ = Clock::now();
        }
        if (changes.plan) store_.set_options(plan_options(config_, families_));
        if (changes.node_facts) refresh_node_facts();
        if (changes.sync_periods) next_full_ = std::min(next_full_, Clock::now() + config_.ipvs.sync_period);
        if (changes.health_timeout && monitor_)
            monitor_->set_health_timeout(server::health_timeout(config_.ipvs.sync_period));
        // After the node facts: the health-check node ports follow the
        // addresses gathered under the new nodePortAddresses.
        if (servers_) servers_->reconfigure(config_);
        wake();
        supervision_.reloaded(status_facts(), "reloaded; starting");
    }

    void stop() {
        stopping_ = true;
        supervision_.stop();
        if (source_) source_->stop();
        if (addresses_) addresses_->stop();
        io_.stop();
    }

    void log_events(const std::vector<std::string>& events) {
        for (const auto& e : events) {
            log::warning(e);
            // "ns/name: unknown scheduler ..." is also an Event on the Service.
            auto colon = e.find(": ");
            if (colon != std::string::npos &&
                std::string_view(e).substr(colon + 2).substr(0, proxy::unknown_scheduler_event.size()) ==
                    proxy::unknown_scheduler_event)
                events_->record(kube::unknown_scheduler(e.substr(0, colon), std::string_view(e).substr(colon + 2)));
        }
    }

    void sync(bool full) {
        auto start = Clock::now();
        std::vector<std::string> events;
        auto triggers = store_.take_trigger_times();
        proxy::Delta delta = store_.replan(desired_, events);
        log_events(events);
        proxy::SyncReport report =
            full ? reconciler_->full_sync(desired_) : reconciler_->apply(desired_, delta);
        last_sync_ = Clock::now();
        if (monitor_) monitor_->synced(report, last_sync_ - start, std::chrono::system_clock::now(), triggers);
        if (servers_) servers_->update_health_check_ports();
        for (const auto& f : report.failures) log::error("sync: " + f);
        std::string counts = counts_text(status_facts());
        std::string kind = !synced_once_ ? "first sync" : full ? "full sync" : "sync";
        if (full && synced_once_ && report.changes() > 0)
            log::warning("drift repaired: " + report.summary());
        log::info(kind + " (" + counts + "): " + report.summary() + " in " + format_ms(Clock::now() - start));
        synced_once_ = true;
        last_sync_wall_ = std::chrono::system_clock::now();
        last_failures_ = report.failures.size();
        supervision_.synced(status_facts());
        // A failed write is retried by a full sync after the shortest wait.
        if (!report.failures.empty()) next_full_ = std::min(next_full_, Clock::now() + retry_interval());
    }

    Clock::duration retry_interval() const {
        return std::max<Clock::duration>(config_.ipvs.min_sync_period, std::chrono::seconds(1));
    }

    asio::awaitable<void> sync_loop() {
        boost::system::error_code ec;
        auto started = Clock::now();
        auto next_note = started + std::chrono::seconds(30);
        while (!source_->synced()) {
            bool waiting_for_ready = !supervision_.ready() && !options_.once;
            if (waiting_for_ready && Clock::now() >= started + api_boot_wait) supervision_.ready_on_previous_rules(source_->describe(), kernel_.ipvs);
            auto until = std::min(next_note, waiting_for_ready ? started + api_boot_wait : next_note);
            timer_.expires_at(supervision_.beat(until));
            co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (stopping_) co_return;
            if (!source_->synced() && Clock::now() >= next_note) {
                log::info("waiting for the first complete list of Services and EndpointSlices");
                next_note += std::chrono::seconds(30);
            }
        }
        refresh_node_facts();
        next_full_ = Clock::now() + config_.ipvs.sync_period;
        sync(true);
        if (options_.once) {
            if (reconciler_->draining())
                log::info("--once: draining destinations keep weight 0; the next kipvs run deletes them");
            co_return;
        }
        for (;;) {
            if (stopping_) co_return;
            auto now = Clock::now();
            auto deadline = next_full_;
            if (store_.dirty()) deadline = std::min(deadline, last_sync_ + config_.ipvs.min_sync_period);
            if (reconciler_->draining()) deadline = std::min(deadline, last_reap_ + std::chrono::seconds(1));
            deadline = supervision_.beat(deadline);
            if (deadline > now) {
                timer_.expires_at(deadline);
                co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                continue;  // woken early (a change) or on time: decide again
            }
            now = Clock::now();
            if (now >= next_full_) {
                next_full_ = now + config_.ipvs.sync_period;
                sync(true);
            } else if (store_.dirty() && now >= last_sync_ + config_.ipvs.min_sync_period) {
                sync(false);
            }
            if (reconciler_->draining() && Clock::now() >= last_reap_ + std::chrono::seconds(1)) {
                last_reap_ = Clock::now();
                auto report = reconciler_->reap(last_reap_);
                for (const auto& f : report.failures) log::error("graceful termination: " + f);
                if (report.dest_deleted > 0)
                    log::info("graceful termination: deleted " + std::to_string(report.dest_deleted) +
                              " drained destination(s)");
            }
        }
    }

    config::Config config_;
    RunOptions options_;
    ConfigOrigin origin_;
    std::string node_name_;
    asio::io_context io_;
    asio::steady_timer timer_{io_};
    DaemonKernel kernel_;
    std::optional<proxy::Reconciler> reconciler_;
    proxy::ObjectStore store_;
    proxy::DesiredState desired_;
    std::unique_ptr<Source> source_;
    std::optional<kube::EventRecorder> events_;  // set once the source is
    std::optional<server::Monitor> monitor_;
    std::optional<server::StatusServers> servers_;  // none with --dry-run or --once: they bind no port
    std::optional<AddressFollower> addresses_;
    std::set<std::string> warned_;
    Clock::time_point last_sync_{}, last_reap_{}, next_full_{};
    bool synced_once_ = false;
    bool stopping_ = false;
    bool failed_ = false;
    std::vector<model::Family> families_;
    Supervision supervision_{io_};
    std::optional<asio::signal_set> hup_;
    std::chrono::system_clock::time_point last_sync_wall_{};
    std::size_t last_failures_ = 0;
};

}  // namespace

int run_run(const GlobalOptions& global, const std::vector<std::string>& args) {
    config::Config config = load_run_config(global);
    RunOptions options;
    for (const auto& a : config::apply_kube_proxy_flags(config, args)) {
        if (a == "--once") options.once = true;
        else if (a == "--dry-run") options.dry_run = true;
        else throw ConfigError("run: unknown option \"" + a + "\"; see kipvs run --help");
    }
    if (config.mode != "ipvs") throw ConfigError("run: mode \"" + config.mode + "\" is not ipvs");
    return Daemon(std::move(config), options, ConfigOrigin{global, args}).run();
}

}  // namespace kipvs::cli
