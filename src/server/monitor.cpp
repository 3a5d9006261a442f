#include "server/monitor.hpp"

#include <set>

#include "server/ipvs_scrape.hpp"
#include "server/ipvs_stats.hpp"

namespace kipvs::server {
namespace {

double unix_seconds(WallClock::time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

std::vector<double> programming_buckets() {
    // kube-proxy's NetworkProgrammingLatency buckets: 0.25 s steps, then 1 s,
    // 5 s and 30 s steps up to five minutes.
    std::vector<double> b = Histogram::linear(0.25, 0.25, 2);
    for (double v : Histogram::linear(1, 1, 59)) b.push_back(v);
    for (double v : Histogram::linear(60, 5, 12)) b.push_back(v);
    for (double v : Histogram::linear(120, 30, 7)) b.push_back(v);
    return b;
}

std::string family_label(model::Family f) { return std::string(model::family_name(f)); }

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) continue;  // never in a Kubernetes name
        out += c;
    }
    return out + "\"";
}

bool externally_accessible(const model::Service& s) {
    return s.type == model::ServiceType::node_port || s.type == model::ServiceType::load_balancer ||
           !s.external_ips.empty();
}

model::Family slice_family(const model::EndpointSlice& s) {
    return s.address_type == model::AddressType::ipv6 ? model::Family::v6 : model::Family::v4;
}

}  // namespace

std::size_t ready_local_endpoints(const std::vector<const model::EndpointSlice*>& slices,
                                  const std::string& node_name) {
    std::set<model::IpAddress> ips;
    for (const auto* slice : slices) {
        if (slice->address_type == model::AddressType::fqdn) continue;
        for (const auto& e : slice->endpoints)
            if (e.ready && !e.terminating && !node_name.empty() && e.node_name == node_name) ips.insert(e.address);
    }
    return ips.size();
}

Monitor::PerFamily::PerFamily()
    : sync_duration(Histogram::exponential(0.001, 2, 15)), programming(programming_buckets()) {}

Monitor::Monitor(std::vector<model::Family> families, WallClock::duration health_timeout, WallClock::time_point start)
    : families_(std::move(families)), health_(health_timeout), start_(start) {
    for (auto f : families_) per_family_.try_emplace(f);
}

void Monitor::queued(WallClock::time_point now) {
    health_.queued(now);
    for (auto& [f, m] : per_family_) m.last_queued = unix_seconds(now);
}

void Monitor::synced(const proxy::SyncReport& report, std::chrono::duration<double> took, WallClock::time_point end,
                     const std::vector<std::pair<model::Family, std::string>>& trigger_times) {
    bool ok = report.failures.empty();
    for (auto& [family, m] : per_family_) {
        m.sync_duration.observe(took.count());
        if (ok) m.last_sync = unix_seconds(end);
        // The reconciler names a failed restore "<family> rules: <reason>".
        std::string prefix = family_label(family) + " rules: ";
        for (const auto& f : report.failures)
            if (f.rfind(prefix, 0) == 0) ++m.restore_failures;
        if (auto n = report.conntrack_flushed.find(family); n != report.conntrack_flushed.end())
            m.conntrack_deleted += n->second;
    }
    if (!ok) {
        // The retry is a pending update: if it keeps failing, health turns red.
        queued(end);
        return;
    }
    health_.updated(end);
    for (const auto& [family, text] : trigger_times) {
        auto m = per_family_.find(family);
        auto t = parse_rfc3339(text);
        if (m == per_family_.end() || !t || *t < start_ || *t > end) continue;
        m->second.programming.observe(std::chrono::duration<double>(end - *t).count());
    }
}

HttpReply Monitor::health(bool livez, const model::Node* node, WallClock::time_point now) {
    HttpReply reply = health_reply(health_, node, livez, now);
    ++(livez ? livez_codes_ : healthz_codes_)[reply.status];
    return reply;
}

HttpReply Monitor::service_health(const std::string& namespace_name, const std::string& name,
                                  std::size_t local_endpoints, WallClock::time_point now) const {
    bool proxy_healthy = health_.healthy(now);
    HttpReply reply;
    reply.status = local_endpoints > 0 && proxy_healthy ? 200 : 503;
    reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
    reply.headers.emplace_back("X-Load-Balancing-Endpoint-Weight", std::to_string(local_endpoints));
    reply.body = "{\n\t\"service\": {\n\t\t\"namespace\": " + json_string(namespace_name) + ",\n\t\t\"name\": " +
                 json_string(name) + "\n\t},\n\t\"localEndpoints\": " + std::to_string(local_endpoints) +
                 ",\n\t\"serviceProxyHealthy\": " + (proxy_healthy ? "true" : "false") + "\n}";
    return reply;
}

void Monitor::write_proxy_metrics(ExpositionWriter& out, const proxy::ObjectStore& store) const {
    auto fam = [](model::Family f) { return MetricLabels{{"ip_family", family_label(f)}}; };

    out.family("kubeproxy_sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds",
               MetricType::histogram);
    for (const auto& [f, m] : per_family_)
        out.histogram("kubeproxy_sync_proxy_rules_duration_seconds", fam(f), m.sync_duration);

    out.family("kubeproxy_sync_proxy_rules_last_timestamp_seconds",
               "The last time proxy rules were successfully synced", MetricType::gauge);
    for (const auto& [f, m] : per_family_)
        if (m.last_sync) out.sample("kubeproxy_sync_proxy_rules_last_timestamp_seconds", fam(f), *m.last_sync);

    out.family("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
               "The last time a sync of proxy rules was queued", MetricType::gauge);
    for (const auto& [f, m] : per_family_)
        if (m.last_queued)
            out.sample("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds", fam(f), *m.last_queued);

    out.family("kubeproxy_network_programming_duration_seconds", "In Cluster Network Programming Latency in seconds",
               MetricType::histogram);
    for (const auto& [f, m] : per_family_)
        out.histogram("kubeproxy_network_programming_duration_seconds", fam(f), m.programming);

    auto counts = store.change_counts();
    out.family("kubeproxy_sync_proxy_rules_endpoint_changes_pending", "Pending proxy rules Endpoint changes",
               MetricType::gauge);
    out.sample("kubeproxy_sync_proxy_rules_endpoint_changes_pending", {},
               static_cast<std::uint64_t>(counts.endpoints_pending));
    out.family("kubeproxy_sync_proxy_rules_endpoint_changes_total", "Cumulative proxy rules Endpoint changes",
               MetricType::counter);
    out.sample("kubeproxy_sync_proxy_rules_endpoint_changes_total", {}, counts.endpoints);
    out.family("kubeproxy_sync_proxy_rules_service_changes_pending", "Pending proxy rules Service changes",
               MetricType::gauge);
    out.sample("kubeproxy_sync_proxy_rules_service_changes_pending", {},
               static_cast<std::uint64_t>(counts.services_pending));
    out.family("kubeproxy_sync_proxy_rules_service_changes_total", "Cumulative proxy rules Service changes",
               MetricType::counter);
    out.sample("kubeproxy_sync_proxy_rules_service_changes_total", {}, counts.services);

    // Computed here rather than on every sync: a scrape every 15 s costs one
    // pass over the services, a sync must cost only what changed.
    std::map<std::pair<std::string, model::Family>, std::uint64_t> no_local;
    for (auto f : families_) {
        no_local[{"internal", f}] = 0;
        no_local[{"external", f}] = 0;
    }
    const std::string& node = store.node_facts().name;
    for (const auto& [key, service] : store.services()) {
        bool internal = service.internal_traffic_policy == model::TrafficPolicy::local;
        bool external =
            service.external_traffic_policy == model::TrafficPolicy::local && externally_accessible(service);
        if (!internal && !external) continue;
        std::map<model::Family, std::pair<bool, bool>> any_local;  // family → (any usable, any usable here)
        for (const auto* slice : store.slices_of(key)) {
            if (slice->address_type == model::AddressType::fqdn) continue;
            auto& [any, local] = any_local[slice_family(*slice)];
            for (const auto& e : slice->endpoints) {
                if (!e.ready && !e.serving) continue;
                any = true;
                if (!node.empty() && e.node_name == node) local = true;
            }
        }
        for (const auto& [f, al] : any_local) {
            if (!al.first || al.second) continue;
            // kube-proxy counts service ports, not services.
            auto ports = static_cast<std::uint64_t>(service.ports.size());
            if (internal && no_local.count({"internal", f})) no_local[{"internal", f}] += ports;
            if (external && no_local.count({"external", f})) no_local[{"external", f}] += ports;
        }
    }
    out.family("kubeproxy_sync_proxy_rules_no_local_endpoints_total",
               "Number of services with a Local traffic policy and no endpoints", MetricType::gauge);
    for (const auto& [k, n] : no_local)
        out.sample("kubeproxy_sync_proxy_rules_no_local_endpoints_total",
                   {{"traffic_policy", k.first}, {"ip_family", family_label(k.second)}}, n);

    out.family("kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
               "Cumulative proxy iptables restore failures", MetricType::counter);
    for (const auto& [f, m] : per_family_)
        out.sample("kubeproxy_sync_proxy_rules_iptables_restore_failures_total", fam(f), m.restore_failures);

    out.family("kubeproxy_conntrack_reconciler_deleted_entries_total",
               "Cumulative conntrack flows deleted by conntrack reconciler", MetricType::counter);
    for (const auto& [f, m] : per_family_)
        out.sample("kubeproxy_conntrack_reconciler_deleted_entries_total", fam(f), m.conntrack_deleted);

    auto codes = [&](const char* name, const char* help, const std::map<unsigned, std::uint64_t>& by_code) {
        out.family(name, help, MetricType::counter);
        for (const auto& [code, n] : by_code) out.sample(name, {{"code", std::to_string(code)}}, n);
    };
    codes("kubeproxy_proxy_healthz_total", "Cumulative proxy healthz HTTP status", healthz_codes_);
    codes("kubeproxy_proxy_livez_total", "Cumulative proxy livez HTTP status", livez_codes_);
}

HttpReply Monitor::metrics(const ScrapeInput& in, std::string* problem) const {
    ExpositionWriter out;
    write_proxy_metrics(out, in.store);
    IpvsScrape ipvs;
    if (in.ipvs != nullptr) {
        ipvs = scrape_ipvs(*in.ipvs, in.proc_ip_vs, vs_owners(in.desired.plans(), in.store.services()));
    } else {
        ExpositionWriter none;
        write_ipvs_metrics(none, {});
        ipvs.text = none.take();
    }
    if (problem != nullptr) *problem = ipvs.problem;
    return metrics_reply(out.take() + ipvs.text);
}

HttpReply metrics_reply(std::string text) {
    HttpReply reply;
    reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
    reply.body = std::move(text);
    return reply;
}

}  // namespace kipvs::server
