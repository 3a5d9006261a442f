// `kipvs plan`: the state the sources ask for, computed exactly as `run`
// computes it (same source, object store, planner and options) but printed
// instead of written. It never touches the kernel; reading the node's
// addresses is the one kernel read, and it is optional (no root needed).
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cli/cli.hpp"
#include "cli/sources.hpp"
#include "config/config_load.hpp"
#include "error.hpp"
#include "kernel/link_netlink.hpp"
#include "log/log.hpp"
#include "log/utc_time.hpp"
#include "proxy/node_facts.hpp"
#include "proxy/object_store.hpp"
#include "proxy/state_view.hpp"

namespace kipvs::cli {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct PlanFlags {
    std::string format = "save";
    bool follow = false;
    // `kipvs check` gives the sources a bounded time for their first list
    // and keeps the text instead of printing it.
    std::optional<Clock::duration> first_list_within;
    std::string* capture = nullptr;
};

// Source changes closer together than this are printed as one.
constexpr auto debounce = std::chrono::milliseconds(200);

bool print(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return std::fflush(stdout) == 0;
}

std::string utc_now() { return log::rfc3339_utc(std::chrono::system_clock::now(), 0); }

std::string vs_name(const proxy::VsKey& key) {
    std::string out(kernel::protocol_name(key.protocol));
    out += ' ';
    out += kernel::host_port(key.address, key.port);
    return out;
}

// "2 virtual servers (TCP 10.96.0.10:80, TCP 10.96.0.20:5432), set entries +1 -0, addresses +0 -1"
std::string describe(const proxy::Delta& delta) {
    std::vector<std::string> parts;
    if (!delta.virtual_servers.empty()) {
        std::string names;
        std::size_t shown = 0;
        for (const auto& key : delta.virtual_servers) {
            if (shown == 3) {
                names += ", …";
                break;
            }
            if (shown++ > 0) names += ", ";
            names += vs_name(key);
        }
        std::size_t n = delta.virtual_servers.size();
        parts.push_back(std::to_string(n) + (n == 1 ? " virtual server (" : " virtual servers (") + names + ")");
    }
    if (!delta.sets.empty()) {
        std::size_t added = 0, removed = 0;
        for (const auto& [set, change] : delta.sets) {
            added += change.add.size();
            removed += change.remove.size();
        }
        parts.push_back("set entries +" + std::to_string(added) + " -" + std::to_string(removed));
    }
    if (!delta.bind.empty() || !delta.unbind.empty())
        parts.push_back("addresses +" + std::to_string(delta.bind.size()) + " -" + std::to_string(delta.unbind.size()));
    if (delta.out_filters_changed) parts.push_back("LoadBalancer out filters");
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += ", ";
        out += p;
    }
    return out.empty() ? std::string("rules") : out;
}

class Planner {
public:
    Planner(config::Config config, PlanFlags flags)
        : config_(std::move(config)), flags_(std::move(flags)), node_name_(node_name(config_)) {}

    int run() {
        // Planning needs no iptables binary, so both families are planned.
        const std::vector<model::Family> families = {model::Family::v4, model::Family::v6};
        store_.set_options(plan_options(config_, families));
        options_ = reconciler_options(config_, families);
        source_ = make_source(config_, node_name_, io_.get_executor(), {
            [this](SourceEvent event) { on_source(event); },
        });
        source_->start(store_);
        asio::signal_set signals(io_, SIGTERM, SIGINT);
        signals.async_wait([this](const boost::system::error_code& ec, int) {
            if (!ec) stop();
        });
        asio::co_spawn(io_, loop(), [this](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    failure_ = x.what();
                    if (!flags_.capture) log::error("plan: " + failure_);
                    failed_ = true;
                }
            }
            stop();
        });
        io_.run();
        return failed_ ? exit_failure : exit_ok;
    }

    std::size_t service_count() const { return store_.service_count(); }
    std::size_t endpoint_count() const { return store_.endpoint_count(); }
    std::string source_description() const { return source_ ? source_->describe() : std::string(); }
    const std::string& failure() const { return failure_; }

private:

    // Without CAP_NET_ADMIN (or netlink at all) the plan is made without
    // node addresses: NodePort virtual servers are then left out.
    void refresh_node_facts() {
        std::vector<kernel::InterfaceAddress> addresses;
        try {
            addresses = kernel::NetlinkLinks().all_addresses();
        } catch (const Error& e) {
            if (!warned_addresses_)
                log::warning(std::string("reading the node's addresses: ") + e.what() +
                             "; planning without them (no NodePort virtual servers)");
            warned_addresses_ = true;
        }
        auto result = proxy::gather_node_facts(node_name_, source_ ? source_->node() : nullptr, addresses, config_);
        for (const auto& w : result.warnings)
            if (warned_.insert(w).second) log::warning(w);
        store_.set_node_facts(result.facts);
    }

    void on_source(SourceEvent event) {
        if (event == SourceEvent::node_changed) node_changed_ = true;
        pending_ = true;
        last_change_ = Clock::now();
        timer_.cancel();
    }

    void stop() {
        stopping_ = true;
        if (source_) source_->stop();
        io_.stop();
    }

    std::string render(const proxy::StateView& view) const {
        if (flags_.format == "json") return proxy::format_json(view);
        if (flags_.format == "ipvsadm") return proxy::format_ipvsadm(view);
        return proxy::format_save(view);
    }

    proxy::Delta replan() {
        std::vector<std::string> events;
        proxy::Delta delta = store_.replan(desired_, events);
        for (const auto& e : events)
            if (warned_.insert(e).second) log::warning(e);
        return delta;
    }

    asio::awaitable<void> wait(Clock::time_point deadline) {
        boost::system::error_code ec;
        timer_.expires_at(deadline);
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }

    asio::awaitable<void> loop() {
        const auto give_up = flags_.first_list_within ? Clock::now() + *flags_.first_list_within
                                                      : Clock::time_point::max();
        while (!source_->synced()) {
            if (Clock::now() >= give_up)
                throw Error("no complete list of Services and EndpointSlices from " + source_->describe() +
                            " within " +
                            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                               *flags_.first_list_within).count()) +
                            " s");
            co_await wait(std::min(Clock::now() + std::chrono::seconds(30), give_up));
            if (stopping_) co_return;
            if (!source_->synced() && !flags_.capture)
                log::info("waiting for the first complete list of Services and EndpointSlices");
        }
        refresh_node_facts();
        node_changed_ = false;
        pending_ = false;
        replan();
        std::string shown = render(proxy::view_of(desired_, options_));
        if (flags_.capture) {
            *flags_.capture = std::move(shown);
            co_return;
        }
        if (!print(shown)) throw Error("writing to stdout failed");
        if (!flags_.follow) co_return;

        for (;;) {
            while (!pending_) {
                co_await wait(Clock::time_point::max());
                if (stopping_) co_return;
            }
            // Wait until the source has been quiet for the debounce interval.
            while (Clock::now() < last_change_ + debounce) {
                co_await wait(last_change_ + debounce);
                if (stopping_) co_return;
            }
            pending_ = false;
            if (node_changed_) {
                node_changed_ = false;
                refresh_node_facts();
            }
            proxy::Delta delta = replan();
            std::string next = render(proxy::view_of(desired_, options_));
            if (next == shown) continue;
            std::string out;
            if (flags_.format == "json") {
                out = next;  // a stream of whole documents: a diff of JSON text helps no program
            } else {
                out = "# change at " + utc_now() + ": " + describe(delta) + "\n";
                out += proxy::diff_lines(shown, next);
            }
            shown = std::move(next);
            if (!print(out)) throw Error("writing to stdout failed");
        }
    }

    config::Config config_;
    PlanFlags flags_;
    std::string node_name_;
    asio::io_context io_;
    asio::steady_timer timer_{io_};
    proxy::ObjectStore store_;
    proxy::DesiredState desired_;
    proxy::ReconcilerOptions options_;
    std::unique_ptr<Source> source_;
    std::set<std::string> warned_;
    Clock::time_point last_change_{};
    bool pending_ = false;
    bool node_changed_ = false;
    bool warned_addresses_ = false;
    bool stopping_ = false;
    bool failed_ = false;
    std::string failure_;
};

}  // namespace

PlannedState plan_for_check(const config::Config& config, std::chrono::seconds within) {
    PlannedState planned;
    PlanFlags flags;
    flags.first_list_within = within;
    flags.capture = &planned.save;
    Planner planner(config, std::move(flags));
    planned.source = planner.source_description();
    if (planner.run() != exit_ok) throw Error(planner.failure());
    planned.source = planner.source_description();
    planned.services = planner.service_count();
    planned.endpoints = planner.endpoint_count();
    return planned;
}

int run_plan(const GlobalOptions& global, const std::vector<std::string>& args) {
    config::Config config = load_run_config(global);
    PlanFlags flags;
    auto rest = config::apply_kube_proxy_flags(config, args);
    for (std::size_t i = 0; i < rest.size(); ++i) {
        const std::string& a = rest[i];
        if (a == "--follow") {
            flags.follow = true;
        } else if (a == "--format" && i + 1 < rest.size()) {
            flags.format = rest[++i];
        } else if (a.rfind("--format=", 0) == 0) {
            flags.format = a.substr(9);
        } else {
            throw ConfigError("plan: unknown option \"" + a + "\"; see kipvs plan --help");
        }
    }
    if (flags.format != "save" && flags.format != "ipvsadm" && flags.format != "json")
        throw ConfigError("plan: --format \"" + flags.format + "\" is not one of save, ipvsadm, json");
    if (config.mode != "ipvs") throw ConfigError("plan: mode \"" + config.mode + "\" is not ipvs");
    return Planner(std::move(config), std::move(flags)).run();
}

}  // namespace kipvs::cli
