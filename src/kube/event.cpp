#include "kube/event.hpp"

#include <cstdio>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "log/utc_time.hpp"

namespace kipvs::kube {
namespace {

// The API refuses a note over 1 kB (events.k8s.io validation); cut on a
// UTF-8 character boundary.
constexpr std::size_t note_limit = 1024;

std::string cut_utf8(std::string text, std::size_t limit) {
    if (text.size() <= limit) return text;
    std::size_t end = limit;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text.resize(end);
    return text;
}

ObjectReference node_ref(const std::string& node) {
    ObjectReference r;
    r.kind = "Node";
    r.name = node;
    return r;
}

ObjectReference service_ref(const std::string& service_key) {
    ObjectReference r;
    r.kind = "Service";
    auto slash = service_key.find('/');
    r.namespace_name = service_key.substr(0, slash);
    r.name = slash == std::string::npos ? std::string() : service_key.substr(slash + 1);
    return r;
}

Event warning(ObjectReference regarding, std::string reason, std::string action, std::string note) {
    Event e;
    e.regarding = std::move(regarding);
    e.type = EventType::warning;
    e.reason = std::move(reason);
    e.action = std::move(action);
    e.note = std::move(note);
    return e;
}

}  // namespace

std::string duplicate_key(const Event& event) {
    const auto& r = event.regarding;
    return r.kind + '\n' + r.namespace_name + '\n' + r.name + '\n' + event.reason + '\n' + event.note;
}

std::string describe(const Event& event) {
    const auto& r = event.regarding;
    std::string out = event.type == EventType::warning ? "Warning " : "Normal ";
    out += event.reason + " on " + r.kind + " " + (r.namespace_name.empty() ? "" : r.namespace_name + "/") + r.name;
    if (!event.note.empty()) out += ": " + event.note;
    return out;
}

std::string event_namespace(const ObjectReference& object) {
    return object.namespace_name.empty() ? "default" : object.namespace_name;
}

std::string object_path(const ObjectReference& object) {
    std::string plural;
    for (char c : object.kind) plural += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    plural += 's';
    std::string path = object.api_version == "v1" ? "/api/v1" : "/apis/" + object.api_version;
    if (!object.namespace_name.empty()) path += "/namespaces/" + object.namespace_name;
    return path + "/" + plural + "/" + object.name;
}

std::string uid_of(std::string_view object_json) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(object_json, ec);
    if (ec || !v.is_object()) return {};
    const auto* metadata = v.as_object().if_contains("metadata");
    if (!metadata || !metadata->is_object()) return {};
    const auto* uid = metadata->as_object().if_contains("uid");
    if (!uid || !uid->is_string()) return {};
    return std::string(uid->as_string());
}

std::string micro_time(std::chrono::system_clock::time_point t) { return log::rfc3339_utc(t, 6); }

std::string event_name(const Event& event, std::uint64_t unix_nanos) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(unix_nanos));
    return event.regarding.name + "." + hex;
}

std::string event_json(const Event& event, const std::string& name, const std::string& reporting_instance) {
    const auto& r = event.regarding;
    boost::json::object regarding{{"apiVersion", r.api_version}, {"kind", r.kind}, {"name", r.name}};
    if (!r.namespace_name.empty()) regarding["namespace"] = r.namespace_name;
    if (!r.uid.empty()) regarding["uid"] = r.uid;
    boost::json::object body{
        {"apiVersion", "events.k8s.io/v1"},
        {"kind", "Event"},
        {"metadata", boost::json::object{{"name", name}, {"namespace", event_namespace(r)}}},
        {"eventTime", micro_time(event.time)},
        {"reportingController", reporting_controller},
        {"reportingInstance", reporting_instance},
        {"action", event.action},
        {"reason", event.reason},
        {"regarding", std::move(regarding)},
        {"note", cut_utf8(event.note, note_limit)},
        {"type", event.type == EventType::warning ? "Warning" : "Normal"},
    };
    return boost::json::serialize(body);
}

Event node_started(const std::string& node, std::string_view version) {
    Event e;
    e.regarding = node_ref(node);
    e.type = EventType::normal;
    e.reason = "Starting";
    e.action = "StartKubeProxy";
    e.note = "kipvs " + std::string(version) + " (kube-proxy's IPVS mode) started on node " + node;
    return e;
}

Event service_health_check_failed(const std::string& node, const std::string& service_key, std::uint16_t port,
                                  std::string_view error) {
    // The server's own name ("health check of ns/name: ") repeats what the
    // message already says.
    std::string prefix = "health check of " + service_key + ": ";
    if (error.substr(0, prefix.size()) == prefix) error.remove_prefix(prefix.size());
    return warning(service_ref(service_key), "FailedToStartServiceHealthcheck", "Listen",
                   "node " + node + " failed to start healthcheck \"" + service_key + "\" on port " +
                       std::to_string(port) + ": " + std::string(error));
}

Event proxier_health_check_failed(const std::string& node, const std::string& address, std::string_view error) {
    return warning(node_ref(node), "FailedToStartProxierHealthcheck", "StartKubeProxy",
                   "failed to start proxier healthz on " + address + ": " + std::string(error));
}

Event metrics_server_failed(const std::string& node, const std::string& address, std::string_view error) {
    return warning(node_ref(node), "FailedToStartMetricServer", "StartKubeProxy",
                   "starting metrics server on " + address + " failed: " + std::string(error));
}

Event unknown_scheduler(const std::string& service_key, std::string_view problem) {
    return warning(service_ref(service_key), "UnknownScheduler", "SyncProxyRules", std::string(problem));
}

}  // namespace kipvs::kube
