#pragma once
// Kubernetes Events (events.k8s.io/v1) as values, and the ones kipvs
// records. Reasons, actions and message shapes are kube-proxy's, so that
// alerts and runbooks keyed on them (`reason=FailedToStartServiceHealthcheck`)
// keep working; reportingController says kipvs, so that an operator looks at
// the right program. Pure: src/kube/event_recorder.* posts them.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace kipvs::kube {

struct ObjectReference {
    std::string api_version = "v1";
    std::string kind;            // "Service", "Node"
    std::string namespace_name;  // empty for cluster-scoped kinds
    std::string name;
    // Empty when not known; the recorder then asks the API server, because
    // `kubectl describe` finds an object's events by its real uid.
    std::string uid;
    bool operator==(const ObjectReference&) const = default;
};

enum class EventType { normal, warning };

struct Event {
    ObjectReference regarding;
    EventType type = EventType::normal;
    std::string reason;  // why, CamelCase
    std::string action;  // what kipvs was doing
    std::string note;    // for humans; cut to the API's 1 kB when posted
    std::chrono::system_clock::time_point time{};  // stamped by the recorder
    bool operator==(const Event&) const = default;
};

inline constexpr std::string_view reporting_controller = "kipvs";

// Duplicates are the same object, reason and note.
std::string duplicate_key(const Event& event);
// "Warning FailedToStartServiceHealthcheck on Service default/web: ..."
std::string describe(const Event& event);

// Where an Event about this object lives: its namespace, or "default" for
// cluster-scoped objects (the Node), as client-go does.
std::string event_namespace(const ObjectReference& object);
// GET path of the object itself (core kinds): "/api/v1/namespaces/NS/services/NAME".
std::string object_path(const ObjectReference& object);
// metadata.uid of an object's JSON; empty when absent or malformed.
std::string uid_of(std::string_view object_json);

// "2026-12-05T00:06:35.123456Z": the API's MicroTime.
std::string micro_time(std::chrono::system_clock::time_point t);
// The body of POST /apis/events.k8s.io/v1/namespaces/NS/events; `name` is
// unique per event ("<object>.<hex nanoseconds>", as client-go names them).
std::string event_json(const Event& event, const std::string& name, const std::string& reporting_instance);
std::string event_name(const Event& event, std::uint64_t unix_nanos);

// --- The events kipvs records ---------------------------------------------
// kube-proxy's birth cry: Normal "Starting", action "StartKubeProxy", on the Node.
Event node_started(const std::string& node, std::string_view version);
// A health-check node port that could not listen: Warning on the Service,
// "node N failed to start healthcheck "ns/name" on port P: <error>".
Event service_health_check_failed(const std::string& node, const std::string& service_key, std::uint16_t port,
                                  std::string_view error);
// The /healthz or /metrics server could not listen: Warning on the Node.
Event proxier_health_check_failed(const std::string& node, const std::string& address, std::string_view error);
Event metrics_server_failed(const std::string& node, const std::string& address, std::string_view error);
// kipvs only: a Service's kipvs.io/scheduler annotation names no IPVS
// scheduler (the default is used). `problem` is the planner's text.
Event unknown_scheduler(const std::string& service_key, std::string_view problem);

}  // namespace kipvs::kube
