// discovery.k8s.io/v1 EndpointSlice → model::EndpointSlice, with kube-proxy's
// readings of nil conditions already applied (endpointslicecache.go).
#include "kube/decode.hpp"
#include "kube/json_reader.hpp"

namespace kipvs::kube {

namespace json = boost::json;
using detail::Path;
using detail::Reader;

namespace {

std::vector<std::string> hint_names(const Reader& r, const json::object& hints, const Path& hp, std::string_view key) {
    std::vector<std::string> out;
    const json::array* list = r.array(hints, hp, key);
    if (list == nullptr) return out;
    Path lp = hp.field(key);
    out.reserve(list->size());
    for (std::size_t i = 0; i < list->size(); ++i) {
        const json::object& entry = r.as_object((*list)[i], lp.at(i));
        const json::string* name = r.string(entry, lp.at(i), "name");
        if (name == nullptr) r.fail(lp.at(i).field("name"), "required");
        out.emplace_back(*name);
    }
    return out;
}

model::Endpoint read_endpoint(const Reader& r, const json::object& e, const Path& ep, model::AddressType type) {
    model::Endpoint out;
    const json::array* addresses = r.array(e, ep, "addresses");
    if (addresses == nullptr || addresses->empty()) r.fail(ep.field("addresses"), "required (at least one)");
    Path ap = ep.field("addresses");
    for (std::size_t i = 0; i < addresses->size(); ++i) r.as_string((*addresses)[i], ap.at(i));
    out.address = r.ip(r.as_string((*addresses)[0], ap.at(0)), ap.at(0));
    if ((type == model::AddressType::ipv4) != (out.address.family == model::Family::v4))
        r.fail(ap.at(0), "address family does not match addressType");
    if (const json::object* c = r.object(e, ep, "conditions")) {
        Path cp = ep.field("conditions");
        if (const bool* b = r.boolean(*c, cp, "ready")) out.ready = *b;
        if (const bool* b = r.boolean(*c, cp, "serving")) out.serving = *b;
        if (const bool* b = r.boolean(*c, cp, "terminating")) out.terminating = *b;
    }
    if (const json::string* n = r.string(e, ep, "nodeName")) out.node_name = std::string(*n);
    if (const json::string* z = r.string(e, ep, "zone")) out.zone = std::string(*z);
    if (const json::object* hints = r.object(e, ep, "hints")) {
        Path hp = ep.field("hints");
        out.hint_zones = hint_names(r, *hints, hp, "forZones");
        out.hint_nodes = hint_names(r, *hints, hp, "forNodes");
    }
    return out;
}

}  // namespace

model::EndpointSlice decode_endpoint_slice(const json::value& value) {
    Reader r("EndpointSlice");
    auto meta = detail::read_metadata(r, value, true);
    static const Path root{};
    Path mp = root.field("metadata");
    model::EndpointSlice s;
    s.namespace_name = std::move(meta.namespace_name);
    s.name = std::move(meta.name);
    if (const json::object* labels = r.object(*meta.metadata, mp, "labels")) {
        Path lp = mp.field("labels");
        if (auto it = labels->find("kubernetes.io/service-name"); it != labels->end())
            s.service_name = std::string(r.as_string(it->value(), lp.field("kubernetes.io/service-name")));
    }
    if (const json::object* annotations = r.object(*meta.metadata, mp, "annotations")) {
        Path ap = mp.field("annotations");
        constexpr std::string_view trigger = "endpoints.kubernetes.io/last-change-trigger-time";
        if (auto it = annotations->find(trigger); it != annotations->end())
            s.last_change_trigger_time = std::string(r.as_string(it->value(), ap.field(trigger)));
    }

    const json::string* type = r.string(*meta.root, root, "addressType");
    if (type == nullptr) r.fail(root.field("addressType"), "required");
    if (*type == "IPv4") s.address_type = model::AddressType::ipv4;
    else if (*type == "IPv6") s.address_type = model::AddressType::ipv6;
    else if (*type == "FQDN") s.address_type = model::AddressType::fqdn;
    else r.fail(root.field("addressType"), "expected IPv4, IPv6 or FQDN");

    if (const json::array* ports = r.array(*meta.root, root, "ports")) {
        Path pp = root.field("ports");
        s.ports.reserve(ports->size());
        for (std::size_t i = 0; i < ports->size(); ++i) {
            const json::object& p = r.as_object((*ports)[i], pp.at(i));
            model::EndpointPort port;
            if (const json::string* name = r.string(p, pp.at(i), "name")) port.name = std::string(*name);
            port.protocol = r.protocol(p, pp.at(i));
            if (auto n = r.integer(p, pp.at(i), "port", 0, 65535)) port.port = static_cast<std::uint16_t>(*n);
            s.ports.push_back(std::move(port));
        }
    }
    const json::array* endpoints = r.array(*meta.root, root, "endpoints");
    // FQDN slices carry names, not addresses; IPVS mode never uses them.
    if (endpoints != nullptr && s.address_type != model::AddressType::fqdn) {
        Path ep = root.field("endpoints");
        s.endpoints.reserve(endpoints->size());
        for (std::size_t i = 0; i < endpoints->size(); ++i)
            s.endpoints.push_back(read_endpoint(r, r.as_object((*endpoints)[i], ep.at(i)), ep.at(i), s.address_type));
    }
    return s;
}

}  // namespace kipvs::kube
