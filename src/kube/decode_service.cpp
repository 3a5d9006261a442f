// core/v1 Service → model::Service (PARITY.md §4 lists what the proxy reads).
#include <algorithm>

#include "kube/decode.hpp"
#include "kube/json_reader.hpp"

namespace kipvs::kube {

namespace json = boost::json;
using detail::Path;
using detail::Reader;

namespace {

model::ServiceType service_type(const Reader& r, const json::object& spec, const Path& path) {
    const json::string* t = r.string(spec, path, "type");
    if (t == nullptr || *t == "ClusterIP") return model::ServiceType::cluster_ip;  // the API default
    if (*t == "NodePort") return model::ServiceType::node_port;
    if (*t == "LoadBalancer") return model::ServiceType::load_balancer;
    if (*t == "ExternalName") return model::ServiceType::external_name;
    r.fail(path.field("type"), "unknown service type \"" + std::string(t->subview(0, std::min<std::size_t>(t->size(), 64))) + "\"");
}

model::TrafficPolicy traffic_policy(const Reader& r, const json::object& spec, const Path& path, std::string_view key) {
    const json::string* p = r.string(spec, path, key);
    if (p == nullptr || *p == "Cluster") return model::TrafficPolicy::cluster;
    if (*p == "Local") return model::TrafficPolicy::local;
    r.fail(path.field(key), "expected Cluster or Local");
}

std::vector<model::IpAddress> ip_list(const Reader& r, const json::object& in, const Path& parent, std::string_view key) {
    std::vector<model::IpAddress> out;
    const json::array* list = r.array(in, parent, key);
    if (list == nullptr) return out;
    Path path = parent.field(key);
    out.reserve(list->size());
    for (std::size_t i = 0; i < list->size(); ++i) out.push_back(r.ip(r.as_string((*list)[i], path.at(i)), path.at(i)));
    return out;
}

void read_cluster_ips(const Reader& r, const json::object& spec, const Path& path, model::Service& s) {
    // clusterIPs supersedes clusterIP (dual-stack); older objects carry only clusterIP.
    std::vector<std::string_view> ips;
    Path list_path = path.field("clusterIPs");
    if (const json::array* list = r.array(spec, path, "clusterIPs"); list != nullptr && !list->empty()) {
        for (std::size_t i = 0; i < list->size(); ++i) ips.push_back(r.as_string((*list)[i], list_path.at(i)));
    } else if (const json::string* one = r.string(spec, path, "clusterIP"); one != nullptr) {
        ips.push_back(*one);
        list_path = path.field("clusterIP");
    }
    if (ips.empty() || ips.front() == "None" || ips.front().empty()) {
        s.headless = true;
        return;
    }
    for (std::size_t i = 0; i < ips.size(); ++i) s.cluster_ips.push_back(r.ip(ips[i], list_path.key == "clusterIP" ? list_path : list_path.at(i)));
}

void read_ports(const Reader& r, const json::object& spec, const Path& parent, model::Service& s) {
    const json::array* ports = r.array(spec, parent, "ports");
    if (ports == nullptr) return;
    Path path = parent.field("ports");
    s.ports.reserve(ports->size());
    for (std::size_t i = 0; i < ports->size(); ++i) {
        Path pp = path.at(i);
        const json::object& p = r.as_object((*ports)[i], pp);
        model::ServicePort port;
        if (const json::string* name = r.string(p, pp, "name")) port.name = std::string(*name);
        port.protocol = r.protocol(p, pp);
        auto number = r.integer(p, pp, "port", 1, 65535);
        if (!number) r.fail(pp.field("port"), "required");
        port.port = static_cast<std::uint16_t>(*number);
        port.node_port = static_cast<std::uint16_t>(r.integer(p, pp, "nodePort", 0, 65535).value_or(0));
        s.ports.push_back(std::move(port));
    }
}

void read_status(const Reader& r, const json::object& root, const Path& rootp, model::Service& s) {
    const json::object* status = r.object(root, rootp, "status");
    if (status == nullptr) return;
    Path sp = rootp.field("status");
    const json::object* lb = r.object(*status, sp, "loadBalancer");
    if (lb == nullptr) return;
    Path lbp = sp.field("loadBalancer");
    const json::array* ingress = r.array(*lb, lbp, "ingress");
    if (ingress == nullptr) return;
    Path ip = lbp.field("ingress");
    for (std::size_t i = 0; i < ingress->size(); ++i) {
        Path ep = ip.at(i);
        const json::object& e = r.as_object((*ingress)[i], ep);
        const json::string* addr = r.string(e, ep, "ip");
        r.string(e, ep, "hostname");  // type-checked only: hostname-only ingress is ignored (§4)
        if (addr == nullptr || addr->empty()) continue;
        model::LoadBalancerIngress entry;
        entry.ip = r.ip(*addr, ep.field("ip"));
        if (const json::string* mode = r.string(e, ep, "ipMode")) {
            if (*mode == "Proxy") entry.ip_mode_proxy = true;
            else if (*mode != "VIP") r.fail(ep.field("ipMode"), "expected VIP or Proxy");
        }
        s.load_balancer_ingress.push_back(entry);
    }
}

void read_annotations(const Reader& r, const json::object& metadata, const Path& mp, model::Service& s) {
    const json::object* annotations = r.object(metadata, mp, "annotations");
    if (annotations == nullptr) return;
    Path ap = mp.field("annotations");
    std::string legacy;
    for (const auto& kv : *annotations) {
        std::string_view value = r.as_string(kv.value(), ap.field(kv.key()));
        if (kv.key() == "kipvs.io/scheduler") s.scheduler = std::string(value);
        else if (kv.key() == "ipvs.scheduler") legacy = std::string(value);
        else if (kv.key() == "kipvs.io/scheduler-flags") s.scheduler_flags = std::string(value);
    }
    if (s.scheduler.empty()) s.scheduler = std::move(legacy);
}

}  // namespace

model::Service decode_service(const json::value& value) {
    Reader r("Service");
    auto meta = detail::read_metadata(r, value, true);
    static const Path root{};
    Path mp = root.field("metadata");
    model::Service s;
    s.namespace_name = std::move(meta.namespace_name);
    s.name = std::move(meta.name);
    s.labels = r.labels(*meta.metadata, mp);
    read_annotations(r, *meta.metadata, mp, s);

    const json::object* spec = r.object(*meta.root, root, "spec");
    if (spec == nullptr) r.fail(root.field("spec"), "required");
    Path sp = root.field("spec");
    s.type = service_type(r, *spec, sp);
    if (s.type == model::ServiceType::external_name) {
        s.headless = true;  // never proxied; nothing else matters
        return s;
    }
    read_cluster_ips(r, *spec, sp, s);
    if (const json::array* families = r.array(*spec, sp, "ipFamilies")) {
        Path fp = sp.field("ipFamilies");
        for (std::size_t i = 0; i < families->size(); ++i) {
            std::string_view f = r.as_string((*families)[i], fp.at(i));
            if (f == "IPv4") s.ip_families.push_back(model::Family::v4);
            else if (f == "IPv6") s.ip_families.push_back(model::Family::v6);
            else r.fail(fp.at(i), "expected IPv4 or IPv6");
        }
    }
    read_ports(r, *spec, sp, s);
    s.external_ips = ip_list(r, *spec, sp, "externalIPs");
    if (const json::string* lb = r.string(*spec, sp, "loadBalancerIP"); lb != nullptr && !lb->empty())
        s.load_balancer_ip = r.ip(*lb, sp.field("loadBalancerIP"));
    if (const json::array* ranges = r.array(*spec, sp, "loadBalancerSourceRanges")) {
        Path rp = sp.field("loadBalancerSourceRanges");
        for (std::size_t i = 0; i < ranges->size(); ++i) {
            // kube-proxy trims spaces around each range (service_util's GetLoadBalancerSourceRanges).
            std::string_view text = r.as_string((*ranges)[i], rp.at(i));
            while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
            while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
            s.load_balancer_source_ranges.push_back(r.cidr(text, rp.at(i)));
        }
    }
    if (const json::string* affinity = r.string(*spec, sp, "sessionAffinity")) {
        if (*affinity == "ClientIP") s.session_affinity = model::SessionAffinity::client_ip;
        else if (*affinity != "None") r.fail(sp.field("sessionAffinity"), "expected None or ClientIP");
    }
    if (const json::object* config = r.object(*spec, sp, "sessionAffinityConfig")) {
        Path cp = sp.field("sessionAffinityConfig");
        if (const json::object* client = r.object(*config, cp, "clientIP")) {
            if (auto t = r.integer(*client, cp.field("clientIP"), "timeoutSeconds", 1, 86400))
                s.affinity_timeout_seconds = static_cast<std::uint32_t>(*t);
        }
    }
    s.external_traffic_policy = traffic_policy(r, *spec, sp, "externalTrafficPolicy");
    s.internal_traffic_policy = traffic_policy(r, *spec, sp, "internalTrafficPolicy");
    s.health_check_node_port = static_cast<std::uint16_t>(r.integer(*spec, sp, "healthCheckNodePort", 0, 65535).value_or(0));
    if (const json::string* td = r.string(*spec, sp, "trafficDistribution")) s.traffic_distribution = std::string(*td);
    read_status(r, *meta.root, root, s);
    return s;
}

}  // namespace kipvs::kube
