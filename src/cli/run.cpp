// `kipvs run`: the daemon. Sources (API server or static manifests) feed the
// object store; the sync loop plans what changed and the reconciler writes
// it; a full sync every ipvs.syncPeriod repairs drift. SIGTERM leaves every
// rule in place, as kube-proxy does: traffic keeps flowing while kipvs is
// down. This is one of the few translation units with Asio in it.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <memory>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cli/cli.hpp"
#include "cli/reload.hpp"
#include "cli/sources.hpp"
#include "config/config_load.hpp"
#include "error.hpp"
#include "kernel/conntrack.hpp"
#include "kernel/dry_run.hpp"
#include "kernel/ipset_libipset.hpp"
#include "kernel/iptables.hpp"
#include "kernel/ipvs_netlink.hpp"
#include "kernel/link_netlink.hpp"
#include "kernel/sysctl.hpp"
#include "log/log.hpp"
#include "proxy/node_facts.hpp"
#include "proxy/object_store.hpp"
#include "proxy/reconciler.hpp"
#include "server/status_servers.hpp"
#include "systemd/notify.hpp"

namespace kipvs::cli {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct RunOptions {
    bool once = false;
    bool dry_run = false;
};

double millis_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string format_ms(double ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f ms", ms);
    return buf;
}

// The kernel as the daemon uses it: the real handles, or dry-run wrappers
// that read them and log every write.
struct Kernel {
    kernel::IpvsNetlink ipvs;
    kernel::LibIpset ipset;
    kernel::NetlinkLinks links;
    std::map<model::Family, std::unique_ptr<kernel::ExecIptables>> iptables;
    kernel::NetlinkConntrack conntrack;  // opens its socket on first use
    std::optional<kernel::DryRunIpvs> dry_ipvs;
    std::optional<kernel::DryRunIpset> dry_ipset;
    std::optional<kernel::DryRunLinks> dry_links;
    std::map<model::Family, std::unique_ptr<kernel::DryRunIptables>> dry_iptables;

    proxy::KernelHandles handles(bool dry_run) {
        if (!dry_run) {
            std::map<model::Family, kernel::IptablesKernel*> rules;
            for (auto& [f, t] : iptables) rules[f] = t.get();
            return {ipvs, ipset, links, rules, &conntrack};
        }
        dry_ipvs.emplace(ipvs);
        dry_ipset.emplace(ipset);
        dry_links.emplace(links);
        std::map<model::Family, kernel::IptablesKernel*> rules;
        for (auto& [f, t] : iptables) {
            dry_iptables[f] = std::make_unique<kernel::DryRunIptables>(*t);
            rules[f] = dry_iptables[f].get();
        }
        return {*dry_ipvs, *dry_ipset, *dry_links, rules};
    }
};

void apply_sysctls(const config::Config& config) {
    kernel::ProcSysctls sysctls;
    // Each change is logged once, with the value it replaced.
    for (const auto& change : kernel::ensure_sysctls(sysctls, kernel::desired_sysctls(host_sysctl_inputs(config))))
        log::info("sysctl " + change.name + ": " + change.old_value + " -> " + change.new_value);
}

void prepare_host(const config::Config& config, bool dry_run) {
    if (dry_run) return;
    if (config.kipvs.modules.load) load_configured_modules(config);
    apply_sysctls(config);
}

// How long `kipvs run` waits at start for the API server's first complete
// list before it reports ready on the rules the previous run left: a node
// must boot with its services working while the API server is away.
constexpr auto api_boot_wait = std::chrono::seconds(10);

// "21:04:05Z", for STATUS=.
std::string utc_time_of_day(std::chrono::system_clock::time_point t) {
    std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02dZ", utc.tm_hour, utc.tm_min, utc.tm_sec);
    return buf;
}

// What `kipvs run` reads again on SIGHUP: the same file and flags.
struct ConfigOrigin {
    GlobalOptions global;
    std::vector<std::string> args;
};

void set_ipvs_timeouts(const config::Config& config, kernel::IpvsKernel& ipvs) {
    kernel::IpvsTimeouts t;
    t.tcp = static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(config.ipvs.tcp_timeout).count());
    t.tcp_fin =
        static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(config.ipvs.tcp_fin_timeout).count());
    t.udp = static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(config.ipvs.udp_timeout).count());
    if (t.tcp == 0 && t.tcp_fin == 0 && t.udp == 0) return;
    try {
        ipvs.set_timeouts(t);
    } catch (const Error& e) {
        log::warning(std::string("IPVS timeouts: ") + e.what());  // not fatal, as upstream
    }
}

class Daemon {
public:
    Daemon(config::Config config, RunOptions options, ConfigOrigin origin)
        : config_(std::move(config)), options_(options), origin_(std::move(origin)),
          node_name_(cli::node_name(config_)) {}

    int run() {
        start_systemd();
        prepare_host(config_, options_.dry_run);
        auto families = proxied_families();
        families_ = families;
        reconciler_.emplace(kernel_.handles(options_.dry_run), reconciler_options(config_, families));
        set_ipvs_timeouts(config_, options_.dry_run ? static_cast<kernel::IpvsKernel&>(*kernel_.dry_ipvs) : kernel_.ipvs);

        store_.set_options(plan_options(config_, families));
        refresh_node_facts();

        source_ = make_source(config_, node_name_, io_.get_executor(), {
            [this](SourceEvent event) { on_source(event); },
        });
        source_->start(store_);
        // --dry-run binds no port; nor does --once, which a running kipvs may share the node with.
        if (!options_.dry_run && !options_.once) start_servers(families);
        if (!options_.once) watch_addresses();
        asio::signal_set signals(io_, SIGTERM, SIGINT);
        signals.async_wait([this](const boost::system::error_code& ec, int signal) {
            if (ec) return;
            log::info(std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") +
                      ": stopping; the kernel's rules stay in place");
            notify(std::string(systemd::stopping_state));
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

    std::vector<model::Family> proxied_families() {
        std::vector<model::Family> families;
        for (auto family : {model::Family::v4, model::Family::v6}) {
            try {
                auto tools = kernel::find_iptables(family, config_.kipvs.iptables_backend);
                log::info(std::string(model::family_name(family)) + " rules through " + tools.restore + " (" +
                          tools.reason + ")");
                kernel_.iptables[family] = std::make_unique<kernel::ExecIptables>(tools);
                families.push_back(family);
            } catch (const Error& e) {
                if (family == model::Family::v4) throw;
                log::warning(std::string("IPv6 is not proxied: ") + e.what());
            }
        }
        return families;
    }

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
        auto timeout = std::chrono::duration_cast<server::WallClock::duration>(2 * config_.ipvs.sync_period);
        monitor_.emplace(families, timeout, now);
        // The first sync is pending from the start: a kipvs that never syncs turns unhealthy.
        monitor_->queued(now);
        servers_.emplace(io_, config_, *monitor_,
                         server::DaemonView{store_, desired_, kernel_.ipvs, [this] { return source_->node(); }});
    }

    void on_source(SourceEvent event) {
        if (event == SourceEvent::node_changed) refresh_node_facts();
        if (monitor_ && store_.dirty()) monitor_->queued(std::chrono::system_clock::now());
        wake();
    }

    void watch_addresses() {
        try {
            watcher_.emplace();
        } catch (const Error& e) {
            log::warning(std::string("not following address changes: ") + e.what());
            return;
        }
        address_fd_.emplace(io_, ::dup(watcher_->fd()));
        wait_addresses();
    }

    void wait_addresses() {
        address_fd_->async_wait(asio::posix::descriptor_base::wait_read, [this](const boost::system::error_code& ec) {
            if (ec) return;
            if (watcher_->wait(0)) {
                refresh_node_facts();
                wake();
            }
            wait_addresses();
        });
    }

    void wake() { timer_.cancel(); }

    // --- systemd: readiness, status, watchdog, reload ----------------------
    void start_systemd() {
        try {
            notifier_ = systemd::Notifier::from_environment();
            if (auto period = systemd::watchdog_period_from_environment())
                watchdog_ = std::chrono::duration_cast<Clock::duration>(*period);
        } catch (const Error& e) {
            log::warning(std::string("systemd: ") + e.what() + "; not notifying systemd");
            notifier_ = systemd::Notifier();
        }
        if (watchdog_) {
            log::info("systemd watchdog: pinging every " + format_ms(std::chrono::duration<double, std::milli>(*watchdog_ / 2).count()) +
                      " while the event and sync loops turn");
            loop_beat_ = Clock::now();
            watchdog_tick();
        }
    }

    // Telling systemd is never worth stopping for: a failure is logged once.
    void notify(const std::string& state) {
        try {
            notifier_.send(state);
            notify_failing_ = false;
        } catch (const Error& e) {
            if (!notify_failing_) log::warning(std::string("systemd: ") + e.what());
            notify_failing_ = true;
        }
    }

    std::string status_text() {
        std::string s = std::to_string(store_.service_count()) + " services, " +
                        std::to_string(store_.endpoint_count()) + " endpoints, " +
                        std::to_string(desired_.virtual_server_count()) + " virtual servers; last sync " +
                        utc_time_of_day(last_sync_wall_);
        if (last_failures_ > 0) s += " (" + std::to_string(last_failures_) + " failures, retrying)";
        s += "; " + source_->describe() + (source_->synced() ? ": listed" : ": no complete list yet");
        // Connectivity since the previous status: the informers retry on
        // their own, so failed requests are what says the API is away.
        unsigned long failed = source_->failed_requests();
        if (failed > status_failed_requests_)
            s += ", " + std::to_string(failed - status_failed_requests_) + " failed requests since the last status (retrying)";
        status_failed_requests_ = failed;
        return s;
    }

    // The event loop turns if this handler runs; the sync loop's beat says
    // whether it turns too. A source that cannot reach the API server keeps
    // both turning: an outage is not a hang and never triggers a restart.
    void watchdog_tick() {
        watchdog_timer_.expires_after(*watchdog_ / 2);
        watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec || stopping_) return;
            if (Clock::now() - loop_beat_ <= *watchdog_ / 2) {
                notify(std::string(systemd::watchdog_state));
            } else {
                log::error("the sync loop has not turned for " + format_ms(millis_since(loop_beat_)) +
                           ": not pinging systemd's watchdog");
            }
            watchdog_tick();
        });
    }

    // The latest time the sync loop may sleep to, so that its beat stays
    // fresh for the watchdog.
    Clock::time_point beat_deadline(Clock::time_point deadline) {
        loop_beat_ = Clock::now();
        return watchdog_ ? std::min(deadline, loop_beat_ + *watchdog_ / 4) : deadline;
    }

    // The API server has not answered since start: report ready on what the
    // kernel holds from the previous run. Nothing is written or deleted
    // until the first complete list (then a full sync adopts it).
    void keep_previous_rules() {
        ready_ = true;
        std::string held;
        try {
            held = std::to_string(kernel_.ipvs.services().size()) + " IPVS virtual servers";
        } catch (const Error& e) {
            held = std::string("the IPVS state (unreadable: ") + e.what() + ")";
        }
        std::string status = source_->describe() + " unreachable since start; keeping " + held +
                             " from the previous run until its first complete list";
        log::warning(status);
        notify(systemd::ready_state(status));
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
        if (ready_) notify(systemd::reloading_state(systemd::monotonic_now()));
        log::info("SIGHUP: reloading " + origin_.global.config_path);
        config::Config next;
        try {
            next = load_run_config(origin_.global);
            config::apply_kube_proxy_flags(next, origin_.args);
            if (next.mode != "ipvs") throw ConfigError("mode \"" + next.mode + "\" is not ipvs");
        } catch (const Error& e) {
            log::error(std::string("reload: ") + e.what() + "; the running configuration stays");
            notify(ready_ ? systemd::ready_state(status_text()) : systemd::status_state("reload refused; starting"));
            return;
        }
        ConfigChanges changes = compare_configs(config_, next);
        (changes.need_restart.empty() ? log::info : log::warning)("reload: " + describe(changes));
        config_ = applied_config(config_, next);
        try {
            if (changes.modules && !options_.dry_run) load_configured_modules(config_);
            if (changes.sysctls && !options_.dry_run) apply_sysctls(config_);
            if (changes.ipvs_timeouts)
                set_ipvs_timeouts(config_, options_.dry_run ? static_cast<kernel::IpvsKernel&>(*kernel_.dry_ipvs)
                                                            : kernel_.ipvs);
        } catch (const Error& e) {
            log::error(std::string("reload: ") + e.what());
        }
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
        wake();
        notify(ready_ ? systemd::ready_state(status_text()) : systemd::status_state("reloaded; starting"));
    }

    void stop() {
        stopping_ = true;
        if (source_) source_->stop();
        if (address_fd_) address_fd_->close();
        io_.stop();
    }

    void log_events(const std::vector<std::string>& events) {
        for (const auto& e : events) log::warning(e);
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
        std::string counts = std::to_string(store_.service_count()) + " services, " +
                             std::to_string(store_.endpoint_count()) + " endpoints, " +
                             std::to_string(desired_.virtual_server_count()) + " virtual servers";
        std::string kind = !synced_once_ ? "first sync" : full ? "full sync" : "sync";
        if (full && synced_once_ && report.changes() > 0)
            log::warning("drift repaired: " + report.summary());
        log::info(kind + " (" + counts + "): " + report.summary() + " in " + format_ms(millis_since(start)));
        synced_once_ = true;
        last_sync_wall_ = std::chrono::system_clock::now();
        last_failures_ = report.failures.size();
        notify(ready_ ? systemd::status_state(status_text()) : systemd::ready_state(status_text()));
        ready_ = true;
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
            if (!ready_ && !options_.once && Clock::now() >= started + api_boot_wait) keep_previous_rules();
            auto until = std::min(next_note, ready_ || options_.once ? next_note : started + api_boot_wait);
            timer_.expires_at(beat_deadline(until));
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
            deadline = beat_deadline(deadline);
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
    Kernel kernel_;
    std::optional<proxy::Reconciler> reconciler_;
    proxy::ObjectStore store_;
    proxy::DesiredState desired_;
    std::unique_ptr<Source> source_;
    std::optional<server::Monitor> monitor_;
    std::optional<server::StatusServers> servers_;  // none with --dry-run or --once: they bind no port
    std::optional<kernel::AddressWatcher> watcher_;
    std::optional<asio::posix::stream_descriptor> address_fd_;
    std::set<std::string> warned_;
    Clock::time_point last_sync_{}, last_reap_{}, next_full_{};
    bool synced_once_ = false;
    bool stopping_ = false;
    bool failed_ = false;
    // systemd (src/systemd/notify.hpp)
    std::vector<model::Family> families_;
    systemd::Notifier notifier_;
    std::optional<Clock::duration> watchdog_;
    asio::steady_timer watchdog_timer_{io_};
    std::optional<asio::signal_set> hup_;
    Clock::time_point loop_beat_{};
    std::chrono::system_clock::time_point last_sync_wall_{};
    std::size_t last_failures_ = 0;
    unsigned long status_failed_requests_ = 0;
    bool ready_ = false;
    bool notify_failing_ = false;
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
