// core/v1 Node → model::Node: the few facts about this node the proxy uses.
#include <algorithm>

#include "kube/decode.hpp"
#include "kube/json_reader.hpp"

namespace kipvs::kube {

namespace json = boost::json;
using detail::Path;
using detail::Reader;

model::Node decode_node(const json::value& value) {
    Reader r("Node");
    auto meta = detail::read_metadata(r, value, false);
    static const Path root{};
    Path mp = root.field("metadata");
    model::Node n;
    n.name = std::move(meta.name);
    n.labels = r.labels(*meta.metadata, mp);
    for (const auto& [key, label] : n.labels)
        if (key == "topology.kubernetes.io/zone") n.zone = label;
    if (const json::string* ts = r.string(*meta.metadata, mp, "deletionTimestamp")) n.deletion_timestamp = std::string(*ts);

    if (const json::object* spec = r.object(*meta.root, root, "spec")) {
        Path sp = root.field("spec");
        if (const json::array* cidrs = r.array(*spec, sp, "podCIDRs"); cidrs != nullptr && !cidrs->empty()) {
            Path cp = sp.field("podCIDRs");
            for (std::size_t i = 0; i < cidrs->size(); ++i)
                n.pod_cidrs.push_back(r.cidr(r.as_string((*cidrs)[i], cp.at(i)), cp.at(i)));
        } else if (const json::string* one = r.string(*spec, sp, "podCIDR"); one != nullptr && !one->empty()) {
            n.pod_cidrs.push_back(r.cidr(*one, sp.field("podCIDR")));
        }
        if (const json::array* taints = r.array(*spec, sp, "taints")) {
            Path tp = sp.field("taints");
            for (std::size_t i = 0; i < taints->size(); ++i) {
                const json::object& t = r.as_object((*taints)[i], tp.at(i));
                model::Taint taint;
                const json::string* key = r.string(t, tp.at(i), "key");
                if (key == nullptr) r.fail(tp.at(i).field("key"), "required");
                taint.key = std::string(*key);
                if (const json::string* v = r.string(t, tp.at(i), "value")) taint.value = std::string(*v);
                if (const json::string* e = r.string(t, tp.at(i), "effect")) taint.effect = std::string(*e);
                n.taints.push_back(std::move(taint));
            }
        }
    }
    if (const json::object* status = r.object(*meta.root, root, "status")) {
        Path sp = root.field("status");
        if (const json::array* addresses = r.array(*status, sp, "addresses")) {
            Path ap = sp.field("addresses");
            for (std::size_t i = 0; i < addresses->size(); ++i) {
                const json::object& a = r.as_object((*addresses)[i], ap.at(i));
                const json::string* type = r.string(a, ap.at(i), "type");
                const json::string* address = r.string(a, ap.at(i), "address");
                if (type == nullptr) r.fail(ap.at(i).field("type"), "required");
                if (address == nullptr) r.fail(ap.at(i).field("address"), "required");
                model::NodeAddress entry;
                if (*type == "InternalIP") entry.type = model::NodeAddressType::internal_ip;
                else if (*type == "ExternalIP") entry.type = model::NodeAddressType::external_ip;
                else continue;  // Hostname, InternalDNS, ExternalDNS: names, not used
                entry.address = r.ip(*address, ap.at(i).field("address"));
                n.addresses.push_back(entry);
            }
        }
    }
    return n;
}

}  // namespace kipvs::kube
