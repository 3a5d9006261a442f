#include "source/endpoints_mirror.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kube/json_reader.hpp"

namespace kipvs::source {

namespace json = boost::json;

namespace {

using kube::detail::Path;
using kube::detail::Reader;

struct PendingSlice {
    model::Family family;
    std::vector<model::Endpoint> endpoints;
};

void read_addresses(const Reader& r, const json::object& subset, const Path& sp, std::string_view key, bool ready,
                    std::vector<PendingSlice>& groups) {
    const json::array* list = r.array(subset, sp, key);
    if (list == nullptr) return;
    Path lp = sp.field(key);
    for (std::size_t i = 0; i < list->size(); ++i) {
        Path ap = lp.at(i);
        const json::object& a = r.as_object((*list)[i], ap);
        const json::string* ip = r.string(a, ap, "ip");
        if (ip == nullptr) r.fail(ap.field("ip"), "required");
        model::Endpoint e;
        e.address = r.ip(*ip, ap.field("ip"));
        e.ready = ready;
        e.serving = ready;
        if (const json::string* node = r.string(a, ap, "nodeName")) e.node_name = std::string(*node);
        auto group = std::find_if(groups.begin(), groups.end(),
                                  [&](const PendingSlice& g) { return g.family == e.address.family; });
        if (group == groups.end()) group = groups.insert(groups.end(), PendingSlice{e.address.family, {}});
        group->endpoints.push_back(std::move(e));
    }
}

}  // namespace

std::vector<model::EndpointSlice> mirror_endpoints(const json::value& value) {
    Reader r("Endpoints");
    auto meta = kube::detail::read_metadata(r, value, true);
    static const Path root{};
    std::vector<model::EndpointSlice> out;
    const json::array* subsets = r.array(*meta.root, root, "subsets");
    if (subsets == nullptr) return out;
    Path subsets_path = root.field("subsets");
    for (std::size_t i = 0; i < subsets->size(); ++i) {
        Path sp = subsets_path.at(i);
        const json::object& subset = r.as_object((*subsets)[i], sp);
        std::vector<model::EndpointPort> ports;
        if (const json::array* list = r.array(subset, sp, "ports")) {
            Path pp = sp.field("ports");
            for (std::size_t j = 0; j < list->size(); ++j) {
                const json::object& p = r.as_object((*list)[j], pp.at(j));
                model::EndpointPort port;
                // Endpoints' port name is a plain string; the mirroring controller
                // copies its address, so an absent name is "" in the slice, not nil.
                const json::string* name = r.string(p, pp.at(j), "name");
                port.name = name ? std::string(*name) : std::string();
                port.protocol = r.protocol(p, pp.at(j));
                auto number = r.integer(p, pp.at(j), "port", 1, 65535);
                if (!number) r.fail(pp.at(j).field("port"), "required");
                port.port = static_cast<std::uint16_t>(*number);
                ports.push_back(std::move(port));
            }
        }
        // The mirroring controller keeps one address type per slice.
        std::vector<PendingSlice> groups;
        read_addresses(r, subset, sp, "addresses", true, groups);
        read_addresses(r, subset, sp, "notReadyAddresses", false, groups);
        for (auto& group : groups) {
            model::EndpointSlice slice;
            slice.namespace_name = meta.namespace_name;
            slice.service_name = meta.name;  // Endpoints are named after their Service
            slice.address_type = group.family == model::Family::v4 ? model::AddressType::ipv4 : model::AddressType::ipv6;
            slice.endpoints = std::move(group.endpoints);
            slice.ports = ports;
            out.push_back(std::move(slice));
        }
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i].name = meta.name;
        if (out.size() > 1) {
            out[i].name += '-';
            out[i].name += std::to_string(i);
        }
    }
    return out;
}

}  // namespace kipvs::source
