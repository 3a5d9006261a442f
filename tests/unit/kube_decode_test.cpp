// The decoders against hand-written objects, a table of malformed ones, and
// the Kubernetes API's own example objects (scripts/setup.d/k8s-testdata).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "kube/decode.hpp"
#include "test_support.hpp"

using namespace kipvs;
namespace json = boost::json;

namespace {

std::string decode_error(void (*decode)(const json::value&), const std::string& text) {
    try {
        decode(json::parse(text));
    } catch (const kube::DecodeError& e) {
        return e.what();
    }
    return "(decoded)";
}
void service(const json::value& v) { kube::decode_service(v); }
void slice(const json::value& v) { kube::decode_endpoint_slice(v); }
void node(const json::value& v) { kube::decode_node(v); }

std::string testdata(const std::string& name) {
    std::string dir;
    if (const char* cache = std::getenv("KIPVS_CACHE")) dir = cache;
    else if (const char* home = std::getenv("HOME")) dir = std::string(home) + "/.cache/kipvs";
    return test::read_file(dir + "/k8s-testdata/" + name);
}

const char* web_service = R"({
  "kind": "Service", "apiVersion": "v1",
  "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "17",
               "labels": {"b": "2", "a": "1"},
               "annotations": {"ipvs.scheduler": "wrr", "kipvs.io/scheduler": "mh", "kipvs.io/scheduler-flags": "mh-port", "other": "x"}},
  "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10", "fd00::a"],
           "ipFamilies": ["IPv4", "IPv6"],
           "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080, "nodePort": 30080},
                     {"name": "dns", "protocol": "UDP", "port": 53, "targetPort": "dns"}],
           "externalIPs": ["192.0.2.1"], "loadBalancerIP": "192.0.2.2",
           "loadBalancerSourceRanges": [" 10.0.0.0/8 ", "fd00::/8"],
           "sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
           "externalTrafficPolicy": "Local", "internalTrafficPolicy": "Cluster", "healthCheckNodePort": 31000,
           "trafficDistribution": "PreferClose", "someFutureField": {"x": [1, 2]}},
  "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.3"}, {"hostname": "lb.example"}, {"ip": "192.0.2.4", "ipMode": "Proxy"}]}}
})";

}  // namespace

TEST_CASE("a full Service decodes into the model", "[kube-decode]") {
    auto s = kube::decode_service(json::parse(web_service));
    CHECK(s.namespace_name == "shop");
    CHECK(s.name == "web");
    CHECK(s.type == model::ServiceType::load_balancer);
    CHECK_FALSE(s.headless);
    REQUIRE(s.cluster_ips.size() == 2);
    CHECK(s.cluster_ips[1].to_string() == "fd00::a");
    CHECK(s.ip_families == std::vector{model::Family::v4, model::Family::v6});
    REQUIRE(s.ports.size() == 2);
    CHECK(s.ports[0] == model::ServicePort{"http", model::Protocol::tcp, 80, 30080});
    CHECK(s.ports[1] == model::ServicePort{"dns", model::Protocol::udp, 53, 0});
    CHECK(s.external_ips.at(0).to_string() == "192.0.2.1");
    CHECK(s.load_balancer_ip->to_string() == "192.0.2.2");
    REQUIRE(s.load_balancer_ingress.size() == 2);  // the hostname-only entry is dropped
    CHECK_FALSE(s.load_balancer_ingress[0].ip_mode_proxy);
    CHECK(s.load_balancer_ingress[1].ip_mode_proxy);
    CHECK(s.load_balancer_source_ranges.at(0).to_string() == "10.0.0.0/8");
    CHECK(s.session_affinity == model::SessionAffinity::client_ip);
    CHECK(s.affinity_timeout_seconds == 600);
    CHECK(s.external_traffic_policy == model::TrafficPolicy::local);
    CHECK(s.internal_traffic_policy == model::TrafficPolicy::cluster);
    CHECK(s.health_check_node_port == 31000);
    CHECK(s.traffic_distribution == "PreferClose");
    CHECK(s.labels == model::Labels{{"a", "1"}, {"b", "2"}});
    CHECK(s.scheduler == "mh");
    CHECK(s.scheduler_flags == "mh-port");
    CHECK(kube::resource_version(json::parse(web_service)) == "17");
}

TEST_CASE("headless, ExternalName and minimal Services", "[kube-decode]") {
    auto headless = kube::decode_service(json::parse(
        R"({"metadata": {"name": "h", "namespace": "d"}, "spec": {"clusterIP": "None", "ports": [{"port": 1}]}})"));
    CHECK(headless.headless);
    auto external = kube::decode_service(json::parse(
        R"({"metadata": {"name": "e", "namespace": "d"}, "spec": {"type": "ExternalName", "externalName": "x.example"}})"));
    CHECK(external.headless);
    auto minimal = kube::decode_service(json::parse(
        R"({"metadata": {"name": "m", "namespace": "d", "annotations": {"ipvs.scheduler": "sh"}}, "spec": {"clusterIP": "10.0.0.1"}})"));
    CHECK(minimal.cluster_ips.at(0).to_string() == "10.0.0.1");
    CHECK(minimal.scheduler == "sh");
    CHECK(minimal.affinity_timeout_seconds == 10800);
}

TEST_CASE("malformed objects are refused with kind, name and field path", "[kube-decode]") {
    struct Case {
        void (*decode)(const json::value&);
        const char* text;
        const char* error;
    };
    const Case cases[] = {
        {service, R"([])", "Service (unnamed): (object): expected an object"},
        {service, R"({"spec": {}})", "Service (unnamed): metadata: required"},
        {service, R"({"metadata": {"namespace": "d"}, "spec": {}})", "Service d/: metadata.name: required"},
        {service, R"({"metadata": {"name": "x"}, "spec": {}})", "Service x: metadata.namespace: required"},
        {service, R"({"metadata": {"name": 5, "namespace": "d"}})", "Service (unnamed): metadata.name: expected a string"},
        {service, R"({"metadata": {"name": "x", "namespace": "d"}})", "Service d/x: spec: required"},
        {service, R"({"metadata": {"name": "x", "namespace": "d"}, "spec": {"ports": [{"port": 80}, {"name": "b"}]}})",
         "Service d/x: spec.ports[1].port: required"},
        {service, R"({"metadata": {"name": "x", "namespace": "d"}, "spec": {"ports": [{"port": 70000}]}})",
         "Service d/x: spec.ports[0].port: 70000 is outside 1-65535"},
        {service, R"({"metadata": {"name": "x", "namespace": "d"}, "spec": {"ports": [{"port": "80"}]}})",
         "Service d/x: spec.ports[0].port: expected an integer 1-65535"},
        {service, R"({"metadata": {"name": "x", "namespace": "d"}, "spec": {"ports": [{"port": 80.5}]}})",
         "Service d/x: spec.ports[0].port: expected an integer 1-65535"},
        {service, R"({"metadata": {"name": "x", "namespace": "d"}, "spec": {"clusterIPs": ["10.0.0.1", "nope"]}})",
         "Service d/x: spec.clusterIPs[1]: \"nope\" is not an IP address"},
        {service, R"({"metadata": {"name": "x", "namespace": "d"}, "spec": {"type": "Weird"}})",
         "Service d/x: spec.type: unknown service type \"Weird\""},
        {service, R"({"metadata": {"name": "x", "namespace": "d", "labels": {"a": 1}}, "spec": {}})",
         "Service d/x: metadata.labels.a: expected a string"},
        {service, R"({"metadata": {"name": "x", "namespace": "d"}, "spec": {"clusterIP": "1.1.1.1"}, "status": {"loadBalancer": {"ingress": [{"ip": "1.1.1.1", "ipMode": "X"}]}}})",
         "Service d/x: status.loadBalancer.ingress[0].ipMode: expected VIP or Proxy"},
        {slice, R"({"metadata": {"name": "s", "namespace": "d"}})", "EndpointSlice d/s: addressType: required"},
        {slice, R"({"metadata": {"name": "s", "namespace": "d"}, "addressType": "IPv4", "endpoints": [{"addresses": []}]})",
         "EndpointSlice d/s: endpoints[0].addresses: required (at least one)"},
        {slice, R"({"metadata": {"name": "s", "namespace": "d"}, "addressType": "IPv4", "endpoints": [{"addresses": ["fd00::1"]}]})",
         "EndpointSlice d/s: endpoints[0].addresses[0]: address family does not match addressType"},
        {slice, R"({"metadata": {"name": "s", "namespace": "d"}, "addressType": "IPv4", "endpoints": [{"addresses": ["1.1.1.1"], "conditions": {"ready": "yes"}}]})",
         "EndpointSlice d/s: endpoints[0].conditions.ready: expected true or false"},
        {node, R"({"metadata": {"name": "n"}, "spec": {"podCIDRs": ["10.0.0.0/33"]}})",
         "Node n: spec.podCIDRs[0]: \"10.0.0.0/33\" is not a CIDR"},
        {node, R"({"metadata": {"name": "n"}, "status": {"addresses": [{"type": "InternalIP"}]}})",
         "Node n: status.addresses[0].address: required"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        CHECK(decode_error(c.decode, c.text) == c.error);
    }
}

TEST_CASE("EndpointSlices: nil conditions, nil port names, FQDN", "[kube-decode]") {
    auto s = kube::decode_endpoint_slice(json::parse(R"({
      "metadata": {"name": "web-abc", "namespace": "shop",
                   "labels": {"kubernetes.io/service-name": "web"},
                   "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "2026-01-01T00:00:00Z"}},
      "addressType": "IPv6",
      "endpoints": [{"addresses": ["fd00::1", "fd00::2"], "nodeName": "n1", "zone": "z1",
                     "hints": {"forZones": [{"name": "z1"}], "forNodes": [{"name": "n1"}]}},
                    {"addresses": ["fd00::3"], "conditions": {"ready": false, "serving": true, "terminating": true}}],
      "ports": [{"name": "", "port": 8080}, {"protocol": "UDP"}]
    })"));
    CHECK(s.service_name == "web");
    CHECK(s.last_change_trigger_time == "2026-01-01T00:00:00Z");
    CHECK(s.address_type == model::AddressType::ipv6);
    REQUIRE(s.endpoints.size() == 2);
    CHECK(s.endpoints[0].address.to_string() == "fd00::1");
    CHECK(s.endpoints[0].ready);
    CHECK(s.endpoints[0].serving);
    CHECK_FALSE(s.endpoints[0].terminating);
    CHECK(s.endpoints[0].hint_zones == std::vector<std::string>{"z1"});
    CHECK(s.endpoints[0].hint_nodes == std::vector<std::string>{"n1"});
    CHECK_FALSE(s.endpoints[1].ready);
    CHECK(s.endpoints[1].terminating);
    REQUIRE(s.ports.size() == 2);
    CHECK(s.ports[0].name == std::optional<std::string>(""));
    CHECK(s.ports[0].port == std::optional<std::uint16_t>(8080));
    CHECK_FALSE(s.ports[1].name);
    CHECK_FALSE(s.ports[1].port);
    CHECK(s.ports[1].protocol == model::Protocol::udp);

    auto fqdn = kube::decode_endpoint_slice(json::parse(
        R"({"metadata": {"name": "f", "namespace": "d"}, "addressType": "FQDN", "endpoints": [{"addresses": ["a.example"]}]})"));
    CHECK(fqdn.endpoints.empty());
}

TEST_CASE("the Node: zone, podCIDRs, addresses, taints, deletion", "[kube-decode]") {
    auto n = kube::decode_node(json::parse(R"({
      "metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "z1"}, "deletionTimestamp": "2026-01-01T00:00:00Z"},
      "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24", "fd00:1::/64"],
               "taints": [{"key": "ToBeDeletedByClusterAutoscaler", "value": "1", "effect": "NoSchedule"}]},
      "status": {"addresses": [{"type": "Hostname", "address": "n1"}, {"type": "InternalIP", "address": "192.168.1.5"},
                               {"type": "ExternalIP", "address": "203.0.113.5"}]}
    })"));
    CHECK(n.name == "n1");
    CHECK(n.zone == "z1");
    CHECK(n.deletion_timestamp == "2026-01-01T00:00:00Z");
    REQUIRE(n.pod_cidrs.size() == 2);
    CHECK(n.pod_cidrs[1].to_string() == "fd00:1::/64");
    REQUIRE(n.addresses.size() == 2);
    CHECK(n.addresses[1].type == model::NodeAddressType::external_ip);
    CHECK(n.taints.at(0).key == "ToBeDeletedByClusterAutoscaler");
}

// Every field of these objects holds an odd value such as "clusterIPValue":
// the decoder must refuse what is invalid with the field path, and once the
// invalid values are replaced by valid ones, take the rest.
TEST_CASE("the Kubernetes API's example objects", "[kube-decode]") {
    std::string svc_text = testdata("core.v1.Service.json");
    std::string slice_text = testdata("discovery.k8s.io.v1.EndpointSlice.json");
    std::string node_text = testdata("core.v1.Node.json");
    if (svc_text.empty() || slice_text.empty() || node_text.empty()) {
        WARN("k8s testdata missing: run scripts/setup.d/k8s-testdata");
        return;
    }
    CHECK(decode_error(service, svc_text) == "Service namespaceValue/nameValue: spec.type: unknown service type \"typeValue\"");
    CHECK(decode_error(slice, slice_text) == "EndpointSlice namespaceValue/nameValue: addressType: expected IPv4, IPv6 or FQDN");
    CHECK(decode_error(node, node_text) == "Node nameValue: spec.podCIDRs[0]: \"podCIDRsValue\" is not a CIDR");

    json::value s = json::parse(svc_text);
    auto& spec = s.at("spec").as_object();
    spec["type"] = "LoadBalancer";
    CHECK(decode_error(service, json::serialize(s)).find("spec.clusterIPs[0]: \"clusterIPsValue\" is not an IP address") != std::string::npos);
    spec["clusterIPs"] = json::array{"10.0.0.1"};
    spec["ipFamilies"] = json::array{"IPv4"};
    spec["ports"].as_array()[0].as_object()["protocol"] = "SCTP";
    spec["externalIPs"] = json::array{"192.0.2.1"};
    spec["loadBalancerIP"] = "192.0.2.2";
    spec["loadBalancerSourceRanges"] = json::array{"10.0.0.0/8"};
    spec["sessionAffinity"] = "ClientIP";
    spec["externalTrafficPolicy"] = "Local";
    spec["internalTrafficPolicy"] = "Local";
    auto& ingress = s.at("status").at("loadBalancer").at("ingress").as_array()[0].as_object();
    ingress["ip"] = "192.0.2.3";
    ingress["ipMode"] = "VIP";
    auto decoded = kube::decode_service(s);
    CHECK(decoded.ports.at(0) == model::ServicePort{"nameValue", model::Protocol::sctp, 3, 5});
    CHECK(decoded.affinity_timeout_seconds == 1);
    CHECK(decoded.health_check_node_port == 12);
    CHECK(decoded.traffic_distribution == "trafficDistributionValue");
    CHECK(decoded.labels == model::Labels{{"labelsKey", "labelsValue"}});

    json::value e = json::parse(slice_text);
    e.as_object()["addressType"] = "IPv4";
    e.at("ports").as_array()[0].as_object()["protocol"] = "TCP";
    CHECK(decode_error(slice, json::serialize(e)) ==
          "EndpointSlice namespaceValue/nameValue: endpoints[0].addresses[0]: \"addressesValue\" is not an IP address");
    e.at("endpoints").as_array()[0].as_object()["addresses"] = json::array{"10.1.0.1"};
    auto es = kube::decode_endpoint_slice(e);
    CHECK(es.endpoints.at(0).node_name == "nodeNameValue");
    CHECK(es.endpoints.at(0).terminating);
    CHECK(es.endpoints.at(0).hint_zones == std::vector<std::string>{"nameValue"});
    CHECK(es.ports.at(0).port == std::optional<std::uint16_t>(3));

    json::value n = json::parse(node_text);
    auto& nspec = n.at("spec").as_object();
    nspec["podCIDR"] = "10.244.0.0/24";
    nspec["podCIDRs"] = json::array{"10.244.0.0/24"};
    for (auto& a : n.at("status").at("addresses").as_array()) a.as_object()["type"] = "Hostname";
    auto nd = kube::decode_node(n);
    CHECK(nd.name == "nameValue");
    CHECK(nd.taints.at(0).key == "keyValue");
    CHECK(nd.deletion_timestamp == "2009-01-01T01:01:01Z");
}
