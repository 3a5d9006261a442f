// Static manifests: YAML typing, files and lists, Endpoints mirroring, error
// reports that name file and line, and the inotify watcher on a real
// temporary directory.
#include <catch2/catch.hpp>

#include <poll.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "config/yaml_tree.hpp"
#include "source/manifests.hpp"
#include "test_support.hpp"

using namespace kipvs;
namespace json = boost::json;

namespace {

const char* service_yaml = R"(apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: demo
spec:
  clusterIP: 10.96.0.10
  ports:
  - name: http
    port: 80
)";

const char* slice_yaml = R"(apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: demo
  labels:
    kubernetes.io/service-name: web
addressType: IPv4
ports:
- name: http
  port: 80
endpoints:
- addresses: [10.244.1.2]
)";

json::value yaml_value(const std::string& text) {
    auto docs = yaml::parse_documents(text, "t.yaml");
    REQUIRE(docs.size() == 1);
    return source::to_json(docs[0]);
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

// Waits up to a second for the watcher's fd, then drains it.
bool changed_within_a_second(source::ManifestWatcher& watcher) {
    pollfd p{watcher.fd(), POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) return false;
    return watcher.drain();
}

}  // namespace

TEST_CASE("plain YAML scalars are typed, quoted ones stay strings", "[manifests]") {
    json::value v = yaml_value(
        "a: ~\nb:\nc: null\nd: true\ne: False\nf: 42\ng: -7\nh: 0x1F\ni: 1.5\nj: \"80\"\nk: 'true'\n"
        "l: yes\nm: 1e3\nn: 0o17\no: 99999999999999999999\np: 18446744073709551615\nq: .inf\nr: 80.0\n"
        "s: 10.96.0.1\nt: |\n  42\nu: [1, x, {v: null}]\n");
    const json::object& o = v.as_object();
    CHECK(o.at("a").is_null());
    CHECK(o.at("b").is_null());
    CHECK(o.at("c").is_null());
    CHECK(o.at("d") == json::value(true));
    CHECK(o.at("e") == json::value(false));
    CHECK(o.at("f").as_int64() == 42);
    CHECK(o.at("g").as_int64() == -7);
    CHECK(o.at("h").as_int64() == 31);
    CHECK(o.at("i").as_double() == 1.5);
    CHECK(o.at("j").as_string() == "80");
    CHECK(o.at("k").as_string() == "true");
    CHECK(o.at("l").as_string() == "yes");  // YAML 1.2: not a bool
    CHECK(o.at("m").as_double() == 1000.0);
    CHECK(o.at("n").as_int64() == 15);
    CHECK(o.at("o").is_double());
    CHECK(o.at("p").as_uint64() == 18446744073709551615ull);
    CHECK(std::isinf(o.at("q").as_double()));
    CHECK(o.at("r").is_double());
    CHECK(o.at("s").as_string() == "10.96.0.1");
    CHECK(o.at("t").as_string() == "42\n");
    const json::array& u = o.at("u").as_array();
    REQUIRE(u.size() == 3);
    CHECK(u[0].as_int64() == 1);
    CHECK(u[1].as_string() == "x");
    CHECK(u[2].as_object().at("v").is_null());
}

TEST_CASE("merge keys are expanded, explicit keys win", "[manifests]") {
    json::value v = yaml_value("base: &b {port: 80, protocol: UDP}\nport:\n  <<: *b\n  port: 81\n");
    const json::object& port = v.as_object().at("port").as_object();
    CHECK(port.at("port").as_int64() == 81);
    CHECK(port.at("protocol").as_string() == "UDP");
    CHECK_FALSE(port.contains("<<"));
}

TEST_CASE("a multi-document YAML file loads every object", "[manifests]") {
    std::string text = std::string("---\n") + service_yaml + "---\n# nothing here\n---\n" + slice_yaml;
    auto out = source::parse_manifest_text(text, "m.yaml");
    INFO(joined(out.errors));
    CHECK(out.errors.empty());
    REQUIRE(out.services.size() == 1);
    CHECK(out.services[0].name == "web");
    CHECK(out.services[0].ports[0].port == 80);
    REQUIRE(out.slices.size() == 1);
    CHECK(out.slices[0].service_name == "web");
    CHECK(out.slices[0].endpoints[0].address == model::IpAddress::v4(10, 244, 1, 2));
}

TEST_CASE("objects without a namespace go to default", "[manifests]") {
    auto out = source::parse_manifest_text(
        "kind: Service\napiVersion: v1\nmetadata: {name: a}\nspec: {clusterIP: 10.0.0.1, ports: [{port: 1}]}\n", "d.yaml");
    REQUIRE(out.services.size() == 1);
    CHECK(out.services[0].namespace_name == "default");
}

TEST_CASE("JSON files: one object, a List, and an API list", "[manifests]") {
    auto one = source::parse_manifest_text(
        R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "n"},
            "spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 53, "protocol": "UDP"}]}})",
        "one.json");
    INFO(joined(one.errors));
    REQUIRE(one.services.size() == 1);
    CHECK(one.services[0].ports[0].protocol == model::Protocol::udp);

    auto list = source::parse_manifest_text(
        R"({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "n"},
             "spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80}]}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b", "namespace": "n"},
             "spec": {"clusterIP": "10.0.0.2", "ports": [{"port": 0}]}},
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "a-1", "namespace": "n"},
             "addressType": "IPv6", "endpoints": [{"addresses": ["fd00::1"]}]},
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}}]})",
        "list.json");
    CHECK(list.services.size() == 1);
    CHECK(list.slices.size() == 1);
    CHECK(list.nodes.size() == 1);
    REQUIRE(list.errors.size() == 1);
    CHECK(list.errors[0].rfind("list.json: items[1]: Service n/b: spec.ports[0].port: ", 0) == 0);

    // The API's own list responses: items carry no kind.
    auto api = source::parse_manifest_text(
        R"({"kind": "ServiceList", "apiVersion": "v1", "items": [
            {"metadata": {"name": "a", "namespace": "n"}, "spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80}]}}]})",
        "api.json");
    INFO(joined(api.errors));
    CHECK(api.services.size() == 1);

    auto bad = source::parse_manifest_text("{\n  \"kind\": \"Service\",\n  oops\n}", "bad.json");
    REQUIRE(bad.errors.size() == 1);
    CHECK(bad.errors[0].rfind("bad.json:3:", 0) == 0);
    CHECK(bad.errors[0].find("invalid JSON") != std::string::npos);
}

TEST_CASE("a YAML List loads its items with their lines", "[manifests]") {
    auto out = source::parse_manifest_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: Service, metadata: {name: a, namespace: n}, spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}}\n"
        "- {apiVersion: v1, kind: Service, metadata: {name: b, namespace: n}, spec: {clusterIP: nope}}\n",
        "l.yaml");
    CHECK(out.services.size() == 1);
    REQUIRE(out.errors.size() == 1);
    CHECK(out.errors[0].rfind("l.yaml:5:", 0) == 0);
    CHECK(out.errors[0].find("Service n/b: spec.clusterIP: \"nope\" is not an IP address") != std::string::npos);
}

TEST_CASE("Endpoints become the slices the mirroring controller would write", "[manifests]") {
    auto out = source::parse_manifest_text(R"(apiVersion: v1
kind: Endpoints
metadata:
  name: db
  namespace: ext
subsets:
- addresses:
  - ip: 192.0.2.10
    nodeName: n1
  notReadyAddresses:
  - ip: 192.0.2.11
  ports:
  - port: 5432
)",
                                           "ep.yaml");
    INFO(joined(out.errors));
    REQUIRE(out.slices.size() == 1);
    const model::EndpointSlice& s = out.slices[0];
    CHECK(s.namespace_name == "ext");
    CHECK(s.name == "db");
    CHECK(s.service_name == "db");
    CHECK(s.address_type == model::AddressType::ipv4);
    REQUIRE(s.ports.size() == 1);
    CHECK(s.ports[0].name == std::optional<std::string>(""));  // not nil: mirrored from a plain string
    CHECK(s.ports[0].port == std::optional<std::uint16_t>(5432));
    CHECK(s.ports[0].protocol == model::Protocol::tcp);
    REQUIRE(s.endpoints.size() == 2);
    CHECK(s.endpoints[0].address == model::IpAddress::v4(192, 0, 2, 10));
    CHECK(s.endpoints[0].ready);
    CHECK(s.endpoints[0].serving);
    CHECK(s.endpoints[0].node_name == "n1");
    CHECK(s.endpoints[1].address == model::IpAddress::v4(192, 0, 2, 11));
    CHECK_FALSE(s.endpoints[1].ready);
    CHECK_FALSE(s.endpoints[1].serving);
    CHECK_FALSE(s.endpoints[1].terminating);
}

TEST_CASE("Endpoints with several subsets or families give numbered slices", "[manifests]") {
    auto out = source::parse_manifest_text(R"(apiVersion: v1
kind: Endpoints
metadata: {name: db, namespace: ext}
subsets:
- addresses: [{ip: 192.0.2.10}, {ip: "2001:db8::10"}]
  ports: [{name: pg, port: 5432, protocol: TCP}]
- addresses: [{ip: 192.0.2.20}]
  ports: [{name: dns, port: 53, protocol: UDP}]
)",
                                           "ep.yaml");
    INFO(joined(out.errors));
    REQUIRE(out.slices.size() == 3);
    CHECK(out.slices[0].name == "db-0");
    CHECK(out.slices[0].address_type == model::AddressType::ipv4);
    CHECK(out.slices[1].name == "db-1");
    CHECK(out.slices[1].address_type == model::AddressType::ipv6);
    CHECK(out.slices[1].ports[0].name == std::optional<std::string>("pg"));
    CHECK(out.slices[2].name == "db-2");
    CHECK(out.slices[2].ports[0].protocol == model::Protocol::udp);
    for (const auto& s : out.slices) CHECK(s.service_name == "db");

    auto bad = source::parse_manifest_text(
        "apiVersion: v1\nkind: Endpoints\nmetadata: {name: db, namespace: ext}\nsubsets:\n- addresses:\n  - ip: 300.1.1.1\n",
        "bad.yaml");
    CHECK(bad.slices.empty());
    REQUIRE(bad.errors.size() == 1);
    CHECK(bad.errors[0].rfind("bad.yaml:6:9: Endpoints ext/db: subsets[0].addresses[0].ip: ", 0) == 0);

    auto skipped = source::parse_manifest_text(
        "apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: db\n  labels: {endpointslice.kubernetes.io/skip-mirror: \"true\"}\n"
        "subsets: [{addresses: [{ip: 192.0.2.1}]}]\n",
        "skip.yaml");
    CHECK(skipped.slices.empty());
    CHECK(skipped.errors.empty());
    CHECK(skipped.warnings.size() == 1);
}

TEST_CASE("a bad object is reported with file and line, the rest of the directory loads", "[manifests]") {
    test::TempDir dir;
    dir.write("a.yaml", service_yaml);
    dir.write("b.yaml", std::string(slice_yaml) + R"(---
apiVersion: v1
kind: Service
metadata:
  name: broken
  namespace: demo
spec:
  clusterIP: 10.96.0.11
  ports:
  - name: http
    port: 70000
)");
    dir.write("c.yml", "kind: [unclosed\n");
    dir.write(".hidden.yaml", "garbage: [");
    dir.write("notes.txt", "garbage: [");
    dir.write("b.yaml~", "garbage: [");
    std::filesystem::create_directory(dir.path() + "/sub.yaml");

    auto out = source::load_manifests(dir.path());
    CHECK(out.services.size() == 1);
    CHECK(out.slices.size() == 1);
    REQUIRE(out.errors.size() == 2);
    CHECK(out.errors[0] == dir.path() + "/b.yaml:24:11: Service demo/broken: spec.ports[0].port: 70000 is outside 1-65535");
    CHECK(out.errors[1].rfind(dir.path() + "/c.yml:", 0) == 0);
    CHECK(out.errors[1].find("invalid YAML") != std::string::npos);

    auto missing = source::load_manifests(dir.path() + "/nope");
    REQUIRE(missing.errors.size() == 1);
    CHECK(missing.errors[0].find("/nope: cannot read the manifest directory") != std::string::npos);
}

TEST_CASE("a missing required field points at its parent", "[manifests]") {
    auto out = source::parse_manifest_text(
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: s\n  namespace: n\n"
        "endpoints:\n- addresses: [10.0.0.1]\n",
        "m.yaml");
    REQUIRE(out.errors.size() == 1);
    CHECK(out.errors[0] == "m.yaml:1:1: EndpointSlice n/s: addressType: required");

    auto wrong_api = source::parse_manifest_text(
        "apiVersion: discovery.k8s.io/v1beta1\nkind: EndpointSlice\nmetadata: {name: s, namespace: n}\naddressType: IPv4\n",
        "old.yaml");
    REQUIRE(wrong_api.errors.size() == 1);
    CHECK(wrong_api.errors[0].find("apiVersion discovery.k8s.io/v1beta1 is not supported") != std::string::npos);

    auto no_kind = source::parse_manifest_text("apiVersion: v1\nmetadata: {name: x, namespace: n}\n", "k.yaml");
    REQUIRE(no_kind.errors.size() == 1);
    CHECK(no_kind.errors[0] == "k.yaml:1:1: n/x: kind: required");

    auto scalar = source::parse_manifest_text("just text\n", "s.yaml");
    REQUIRE(scalar.errors.size() == 1);
    CHECK(scalar.errors[0] == "s.yaml:1:1: document 1: expected a Kubernetes object (a mapping), found a scalar");
}

TEST_CASE("duplicates keep the first object and name both files", "[manifests]") {
    test::TempDir dir;
    dir.write("1.yaml", service_yaml);
    dir.write("2.yaml", std::string(service_yaml) + "---\n" + slice_yaml);
    // An Endpoints object whose mirrored slice would take an existing slice's name.
    dir.write("3.yaml", "apiVersion: v1\nkind: Endpoints\nmetadata: {name: web-1, namespace: demo}\n"
                        "subsets: [{addresses: [{ip: 10.0.0.9}], ports: [{port: 80}]}]\n");
    auto out = source::load_manifests(dir.path());
    CHECK(out.services.size() == 1);
    CHECK(out.slices.size() == 1);
    REQUIRE(out.errors.size() == 2);
    CHECK(out.errors[0] == dir.path() + "/2.yaml:1:1: Service demo/web: duplicate of the one in " + dir.path() +
                               "/1.yaml:1:1; ignored");
    CHECK(out.errors[1].find("/3.yaml:1:1: Endpoints demo/web-1: its mirrored EndpointSlice demo/web-1") == dir.path().size());
    CHECK(out.errors[1].find("/2.yaml:12:1") != std::string::npos);
}

TEST_CASE("unknown kinds are ignored with a warning", "[manifests]") {
    auto out = source::parse_manifest_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\ndata: {a: b}\n---\n" + std::string(service_yaml),
        "w.yaml");
    CHECK(out.errors.empty());
    CHECK(out.services.size() == 1);
    REQUIRE(out.warnings.size() == 1);
    CHECK(out.warnings[0] == "w.yaml:1:1: ConfigMap n/c: not a kind kipvs reads; ignored");
}

TEST_CASE("manifest file names", "[manifests]") {
    CHECK(source::is_manifest_file_name("a.yaml"));
    CHECK(source::is_manifest_file_name("a.yml"));
    CHECK(source::is_manifest_file_name("a.json"));
    CHECK_FALSE(source::is_manifest_file_name(".a.yaml"));
    CHECK_FALSE(source::is_manifest_file_name("a.yaml~"));
    CHECK_FALSE(source::is_manifest_file_name("a.yaml.swp"));
    CHECK_FALSE(source::is_manifest_file_name("#a.yaml#"));
    CHECK_FALSE(source::is_manifest_file_name(".yaml"));
    CHECK_FALSE(source::is_manifest_file_name("a.txt"));
}

TEST_CASE("the watcher reports writes, renames in and out, and deletions", "[manifests]") {
    test::TempDir dir;
    source::ManifestWatcher watcher(dir.path());
    CHECK(watcher.watching());
    CHECK_FALSE(watcher.drain());

    dir.write("a.yaml", service_yaml);
    CHECK(changed_within_a_second(watcher));
    CHECK_FALSE(watcher.drain());

    // A scratch file is not a change; renaming it into place is.
    dir.write(".a.yaml.tmp", slice_yaml);
    CHECK_FALSE(changed_within_a_second(watcher));
    REQUIRE(std::rename((dir.path() + "/.a.yaml.tmp").c_str(), (dir.path() + "/b.yaml").c_str()) == 0);
    CHECK(changed_within_a_second(watcher));

    // From outside the directory, as `mv` from elsewhere on the same filesystem.
    test::TempDir other;
    other.write("c.yaml", service_yaml);
    std::error_code ec;
    std::filesystem::rename(other.path() + "/c.yaml", dir.path() + "/c.yaml", ec);
    if (!ec) CHECK(changed_within_a_second(watcher));

    REQUIRE(std::rename((dir.path() + "/b.yaml").c_str(), (dir.path() + "/.b.yaml.old").c_str()) == 0);
    CHECK(changed_within_a_second(watcher));
    REQUIRE(std::remove((dir.path() + "/a.yaml").c_str()) == 0);
    CHECK(changed_within_a_second(watcher));
    dir.write("notes.txt", "x");
    CHECK_FALSE(changed_within_a_second(watcher));
}

TEST_CASE("the watcher follows a directory replaced at its path", "[manifests]") {
    test::TempDir root;
    std::string path = root.path() + "/manifests";
    std::filesystem::create_directory(path);
    source::ManifestWatcher watcher(path);
    std::filesystem::remove_all(path);
    CHECK(changed_within_a_second(watcher));
    CHECK_FALSE(watcher.watching());

    std::filesystem::create_directory(root.path() + "/next");
    std::filesystem::rename(root.path() + "/next", path);
    CHECK(changed_within_a_second(watcher));
    CHECK(watcher.watching());
    std::ofstream(path + "/a.yaml") << service_yaml;
    CHECK(changed_within_a_second(watcher));
}

TEST_CASE("the demo manifests load without errors", "[manifests]") {
    auto out = source::load_manifests(test::source_dir() + "/configs/demo");
    INFO(joined(out.errors));
    CHECK(out.errors.empty());
    CHECK(out.warnings.empty());
    CHECK_FALSE(out.services.empty());
    CHECK_FALSE(out.slices.empty());
}

namespace {

// "ns/name" of every service, slice or node, sorted: the merged snapshot at a glance.
template <typename T>
std::vector<std::string> keys_of(const std::vector<T>& objects) {
    std::vector<std::string> out;
    for (const auto& o : objects) {
        std::string key = o.namespace_name;
        if (!key.empty()) key += '/';
        key += o.name;
        out.push_back(std::move(key));
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> node_names(const std::vector<model::Node>& nodes) {
    std::vector<std::string> out;
    for (const auto& n : nodes) out.push_back(n.name);
    std::sort(out.begin(), out.end());
    return out;
}

std::string service_named(const std::string& name, const std::string& port = "80") {
    std::string out = "apiVersion: v1\nkind: Service\nmetadata: {name: ";
    out += name;
    out += ", namespace: demo}\nspec: {clusterIP: 10.96.0.10, ports: [{name: http, port: ";
    out += port;
    out += "}]}\n";
    return out;
}

const char* endpoints_yaml = R"(apiVersion: v1
kind: Endpoints
metadata: {name: db, namespace: ext}
subsets:
- addresses: [{ip: 192.0.2.10}, {ip: "2001:db8::10"}]
  ports: [{port: 5432}]
)";

const char* node_yaml = "apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\n";

}  // namespace

TEST_CASE("failed files and objects are reported as values", "[manifests]") {
    using F = source::FailedObject;
    auto syntax = source::parse_manifest_text(service_yaml + std::string("---\nkind: [unclosed\n"), "s.yaml");
    CHECK(syntax.services.empty());
    CHECK(syntax.failed_files == std::vector<std::string>{"s.yaml"});
    CHECK(syntax.failed_objects.empty());

    auto bad_json = source::parse_manifest_text("{\"kind\": \"Service\", oops}", "b.json");
    CHECK(bad_json.failed_files == std::vector<std::string>{"b.json"});

    // Kind and name known: one FailedObject each, namespace defaulted like loaded objects;
    // the file is not failed, and what did load from it is there.
    auto objects = source::parse_manifest_text(
        service_named("ok") +
            "---\napiVersion: v1\nkind: Service\nmetadata: {name: port}\nspec: {clusterIP: 10.96.0.11, ports: [{port: 0}]}\n"
            "---\napiVersion: v2\nkind: Service\nmetadata: {name: api, namespace: demo}\n"
            "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s, namespace: demo}\n"
            "---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: db, namespace: ext}\nsubsets: [{addresses: [{ip: nope}]}]\n"
            "---\napiVersion: v1\nkind: Node\nmetadata: {name: node-1, namespace: x}\nspec: {podCIDRs: 7}\n",
        "o.yaml");
    INFO(joined(objects.errors));
    CHECK(keys_of(objects.services) == std::vector<std::string>{"demo/ok"});
    CHECK(objects.errors.size() == 5);
    CHECK(objects.failed_files.empty());
    CHECK(objects.failed_objects == std::vector<F>{{"Service", "default", "port", "o.yaml"},
                                                   {"Service", "demo", "api", "o.yaml"},
                                                   {"EndpointSlice", "demo", "s", "o.yaml"},
                                                   {"Endpoints", "ext", "db", "o.yaml"},
                                                   {"Node", "", "node-1", "o.yaml"}});

    // Kind or name unknown: no previous object can be matched, so the file counts as failed.
    for (std::string text : {std::string("just text\n"), std::string("apiVersion: v1\nmetadata: {name: x}\n"),
                             std::string("apiVersion: v1\nkind: Service\nmetadata: {namespace: demo}\n"),
                             std::string("apiVersion: v1\nkind: Service\nmetadata: {name: x, namespace: 5}\n"),
                             std::string("kind: List\nitems: 3\n"), std::string("kind: List\nitems: [3]\n")}) {
        INFO(text);
        auto out = source::parse_manifest_text(service_named("ok") + "---\n" + text, "u.yaml");
        CHECK(out.errors.size() == 1);
        CHECK(keys_of(out.services) == std::vector<std::string>{"demo/ok"});
        CHECK(out.failed_files == std::vector<std::string>{"u.yaml"});
        CHECK(out.failed_objects.empty());
    }

    // Not failures: a duplicate (the first one is loaded), an unknown kind, skip-mirror.
    auto fine = source::parse_manifest_text(
        service_named("ok") + "---\n" + service_named("ok") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        "f.yaml");
    CHECK(fine.failed_files.empty());
    CHECK(fine.failed_objects.empty());

    test::TempDir dir;
    dir.write("a.yaml", service_yaml);
    dir.write("b.yaml", "kind: [unclosed\n");
    auto loaded = source::load_manifests(dir.path());
    CHECK(loaded.failed_files == std::vector<std::string>{dir.path() + "/b.yaml"});
    auto missing = source::load_manifests(dir.path() + "/nope");
    CHECK(missing.failed_files == std::vector<std::string>{dir.path() + "/nope"});
}

TEST_CASE("every loaded object records the file it came from", "[manifests]") {
    using O = source::ObjectOrigin;
    test::TempDir dir;
    dir.write("a.yaml", std::string(service_yaml) + "---\n" + slice_yaml);
    dir.write("b.yaml", std::string(endpoints_yaml) + "---\n" + node_yaml);
    dir.write("c.json", R"({"kind": "ServiceList", "apiVersion": "v1", "items": [
        {"metadata": {"name": "api"}, "spec": {"clusterIP": "10.96.0.12", "ports": [{"port": 443}]}}]})");
    auto out = source::load_manifests(dir.path());
    INFO(joined(out.errors));
    CHECK(out.errors.empty());
    std::string a = dir.path() + "/a.yaml", b = dir.path() + "/b.yaml", c = dir.path() + "/c.json";
    CHECK(out.origins == std::map<std::string, O>{{"Service demo/web", {a, ""}},
                                                  {"EndpointSlice demo/web-1", {a, ""}},
                                                  {"EndpointSlice ext/db-0", {b, "ext/db"}},
                                                  {"EndpointSlice ext/db-1", {b, "ext/db"}},
                                                  {"Node node-1", {b, ""}},
                                                  {"Service default/api", {c, ""}}});
    CHECK(source::origin_key("Service", "demo", "web") == "Service demo/web");
    CHECK(source::origin_key("Node", "", "node-1") == "Node node-1");
}

TEST_CASE("a file that stops parsing keeps its previous objects", "[manifests]") {
    test::TempDir dir;
    dir.write("a.yaml", service_named("web") + "---\n" + slice_yaml + "---\n" + node_yaml);
    dir.write("b.yaml", service_named("api") + "---\n" + endpoints_yaml);
    std::vector<std::string> notes;
    auto previous = source::merge_with_previous({}, source::load_manifests(dir.path()), notes);
    CHECK(notes.empty());
    REQUIRE(previous.services.size() == 2);

    // a.yaml breaks; b.yaml changes (api gets another port, a new service appears).
    dir.write("a.yaml", "kind: [unclosed\n");
    dir.write("b.yaml", service_named("api", "8443") + "---\n" + service_named("new") + "---\n" + endpoints_yaml);
    auto merged = source::merge_with_previous(previous, source::load_manifests(dir.path()), notes);
    CHECK(keys_of(merged.services) == std::vector<std::string>{"demo/api", "demo/new", "demo/web"});
    CHECK(keys_of(merged.slices) == std::vector<std::string>{"demo/web-1", "ext/db-0", "ext/db-1"});
    CHECK(node_names(merged.nodes) == std::vector<std::string>{"node-1"});
    for (const auto& s : merged.services)
        if (s.name == "api") CHECK(s.ports[0].port == 8443);
    CHECK(notes == std::vector<std::string>{dir.path() + "/a.yaml: kept the previous 3 objects until it loads again"});
    CHECK(merged.origins.at("Service demo/web").file == dir.path() + "/a.yaml");

    // Still broken on the next reload: still kept, from the merged snapshot.
    notes.clear();
    auto again = source::merge_with_previous(merged, source::load_manifests(dir.path()), notes);
    CHECK(keys_of(again.services) == keys_of(merged.services));
    CHECK(notes.size() == 1);

    // Fixed: the file's content replaces the kept objects, the dropped ones go.
    notes.clear();
    dir.write("a.yaml", service_named("web", "81"));
    auto fixed = source::merge_with_previous(again, source::load_manifests(dir.path()), notes);
    CHECK(notes.empty());
    CHECK(keys_of(fixed.slices) == std::vector<std::string>{"ext/db-0", "ext/db-1"});
    CHECK(fixed.nodes.empty());
    for (const auto& s : fixed.services)
        if (s.name == "web") CHECK(s.ports[0].port == 81);

    // A deleted file is not a failed one: its objects go.
    std::filesystem::remove(dir.path() + "/b.yaml");
    auto deleted = source::merge_with_previous(fixed, source::load_manifests(dir.path()), notes);
    CHECK(notes.empty());
    CHECK(keys_of(deleted.services) == std::vector<std::string>{"demo/web"});
    CHECK(deleted.slices.empty());

    // The directory gone: everything stays.
    std::filesystem::remove_all(dir.path());
    auto gone = source::merge_with_previous(deleted, source::load_manifests(dir.path()), notes);
    CHECK(keys_of(gone.services) == std::vector<std::string>{"demo/web"});
    CHECK(notes == std::vector<std::string>{dir.path() + ": kept the previous 1 object until it loads again"});
    std::filesystem::create_directory(dir.path());  // for TempDir's cleanup
}

TEST_CASE("an object that stops decoding keeps its previous version", "[manifests]") {
    test::TempDir dir;
    dir.write("a.yaml", service_named("web") + "---\n" + service_named("api") + "---\n" + slice_yaml + "---\n" +
                            endpoints_yaml + "---\n" + node_yaml);
    std::vector<std::string> notes;
    auto previous = source::merge_with_previous({}, source::load_manifests(dir.path()), notes);
    REQUIRE(previous.slices.size() == 3);

    // web gets a bad port, the slice a bad address, the Endpoints a bad IP, the Node a
    // bad podCIDRs; api changes and stays good.
    std::string slice = slice_yaml;
    slice.replace(slice.find("10.244.1.2"), 10, "10.244.1.x");
    std::string endpoints = endpoints_yaml;
    endpoints.replace(endpoints.find("192.0.2.10"), 10, "192.0.2.x");
    dir.write("a.yaml", service_named("web", "70000") + "---\n" + service_named("api", "8080") + "---\n" + slice +
                            "---\n" + endpoints + "---\n" + node_yaml + "spec: {podCIDRs: 7}\n");
    auto current = source::load_manifests(dir.path());
    REQUIRE(current.failed_objects.size() == 4);
    auto merged = source::merge_with_previous(previous, current, notes);
    CHECK(keys_of(merged.services) == std::vector<std::string>{"demo/api", "demo/web"});
    CHECK(keys_of(merged.slices) == std::vector<std::string>{"demo/web-1", "ext/db-0", "ext/db-1"});
    CHECK(node_names(merged.nodes) == std::vector<std::string>{"node-1"});
    for (const auto& s : merged.services) CHECK(s.ports[0].port == (s.name == "api" ? 8080 : 80));
    CHECK(merged.slices == previous.slices);
    CHECK(merged.origins == previous.origins);
    std::string a = dir.path() + "/a.yaml";
    CHECK(notes == std::vector<std::string>{
                       a + ": Service demo/web: kept the previous version until it loads again",
                       a + ": EndpointSlice demo/web-1: kept the previous version until it loads again",
                       a + ": Endpoints ext/db: kept the previous 2 EndpointSlices mirrored from it until it loads again",
                       a + ": Node node-1: kept the previous version until it loads again"});
    // What failed stays reported for the caller.
    CHECK(merged.failed_objects == current.failed_objects);
}

TEST_CASE("keeping never overrides or duplicates what loaded", "[manifests]") {
    test::TempDir dir;
    dir.write("a.yaml", service_named("web"));
    std::vector<std::string> notes;
    auto previous = source::merge_with_previous({}, source::load_manifests(dir.path()), notes);

    // web moves to b.yaml (which loads) while a.yaml breaks: b's version wins, once.
    dir.write("a.yaml", "kind: [unclosed\n");
    dir.write("b.yaml", service_named("web", "81"));
    auto merged = source::merge_with_previous(previous, source::load_manifests(dir.path()), notes);
    REQUIRE(merged.services.size() == 1);
    CHECK(merged.services[0].ports[0].port == 81);
    CHECK(merged.origins.at("Service demo/web").file == dir.path() + "/b.yaml");
    CHECK(notes.empty());

    // A failed object and its failed file name the same object: kept once.
    source::ManifestObjects current;
    current.failed_files = {dir.path() + "/b.yaml"};
    current.failed_objects = {{"Service", "demo", "web", dir.path() + "/b.yaml"}};
    auto once = source::merge_with_previous(merged, current, notes);
    CHECK(once.services == merged.services);
    CHECK(notes.size() == 1);
    CHECK(notes[0].find("Service demo/web: kept the previous version") != std::string::npos);

    // Nothing before (the first load): nothing to keep, no notes.
    notes.clear();
    auto first = source::merge_with_previous({}, current, notes);
    CHECK(first.services.empty());
    CHECK(notes.empty());
}

TEST_CASE("a List whose items is a mapping is one error, not a crash", "[manifests]") {
    auto objects = kipvs::source::parse_manifest_text("apiVersion: v1\nkind: List\nitems:\n  kiapind: \n", "list.yaml");
    CHECK(objects.services.empty());
    REQUIRE(objects.errors.size() == 1);
    CHECK(objects.errors[0].find("items: expected an array") != std::string::npos);
}
