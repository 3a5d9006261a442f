#include <catch2/catch.hpp>

#include "proxy/object_store.hpp"

using namespace kipvs;
using namespace kipvs::proxy;

namespace {

model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }

model::Service service(const char* name, const char* vip) {
    model::Service s;
    s.namespace_name = "default";
    s.name = name;
    s.cluster_ips = {ip(vip)};
    s.ip_families = {model::Family::v4};
    s.ports = {{"http", model::Protocol::tcp, 80, 0}};
    return s;
}

model::EndpointSlice slice(const char* name, const char* service_name, std::vector<const char*> addresses) {
    model::EndpointSlice s;
    s.namespace_name = "default";
    s.name = name;
    s.service_name = service_name;
    s.ports = {{std::string("http"), model::Protocol::tcp, 8080}};
    for (const char* a : addresses) {
        model::Endpoint e;
        e.address = ip(a);
        s.endpoints.push_back(e);
    }
    return s;
}

}  // namespace

TEST_CASE("only services whose objects changed are planned again", "[object-store]") {
    ObjectStore store;
    DesiredState desired;
    std::vector<std::string> events;
    store.upsert_service(service("a", "10.96.0.1"));
    store.upsert_service(service("b", "10.96.0.2"));
    store.upsert_slice(slice("a-1", "a", {"10.244.1.1"}));
    auto delta = store.replan(desired, events);
    CHECK(delta.virtual_servers.size() == 2);
    CHECK(desired.destination_count() == 1);
    CHECK_FALSE(store.dirty());

    CHECK_FALSE(store.upsert_service(service("b", "10.96.0.2")));  // identical: no change
    CHECK_FALSE(store.dirty());

    CHECK(store.upsert_slice(slice("a-1", "a", {"10.244.1.1", "10.244.1.2"})));
    delta = store.replan(desired, events);
    CHECK(delta.virtual_servers.size() == 1);
    CHECK(delta.sets.empty());  // no set entry of a ClusterIP depends on a remote endpoint
    CHECK(desired.destination_count() == 2);
}

TEST_CASE("a snapshot replaces the store, marking only what differs", "[object-store]") {
    ObjectStore store;
    DesiredState desired;
    std::vector<std::string> events;
    store.replace_all({service("a", "10.96.0.1"), service("b", "10.96.0.2")}, {slice("a-1", "a", {"10.244.1.1"})});
    store.replan(desired, events);
    CHECK(desired.virtual_server_count() == 2);

    CHECK(store.replace_all({service("a", "10.96.0.1")}, {slice("a-1", "a", {"10.244.1.1"})}));
    auto delta = store.replan(desired, events);
    CHECK(delta.virtual_servers.size() == 1);  // b's virtual server goes
    CHECK(delta.unbind == std::vector<model::IpAddress>{ip("10.96.0.2")});
    CHECK(desired.virtual_server_count() == 1);
    CHECK(store.service_count() == 1);
}

TEST_CASE("a slice relabelled to another service replans both", "[object-store]") {
    ObjectStore store;
    DesiredState desired;
    std::vector<std::string> events;
    store.upsert_service(service("a", "10.96.0.1"));
    store.upsert_service(service("b", "10.96.0.2"));
    store.upsert_slice(slice("s", "a", {"10.244.1.1"}));
    store.replan(desired, events);
    store.upsert_slice(slice("s", "b", {"10.244.1.1"}));
    auto delta = store.replan(desired, events);
    CHECK(delta.virtual_servers.size() == 2);
    CHECK(desired.virtual_server(VsKey{ip("10.96.0.1"), kernel::Protocol::tcp, 80})->destinations.empty());
    CHECK(desired.virtual_server(VsKey{ip("10.96.0.2"), kernel::Protocol::tcp, 80})->destinations.size() == 1);
}

TEST_CASE("a stored slice expands back to exactly the slice it was made from", "[object-store]") {
    model::EndpointSlice s = slice("web-1", "web", {"10.244.1.1", "10.244.1.2", "10.244.2.1", "10.244.3.1"});
    s.last_change_trigger_time = "2024-06-07T10:00:00Z";
    auto& e = s.endpoints;
    e[0].node_name = e[1].node_name = "node-a";
    e[0].zone = e[1].zone = "zone-a";
    e[1].ready = false;
    e[1].terminating = true;
    e[2].node_name = "node-b";
    e[2].zone = "zone-b";
    e[2].hint_zones = {"zone-b", "zone-c"};
    e[2].hint_nodes = {"node-b"};
    e[3].node_name = "node-a";  // same node, another zone: its own placement
    e[3].zone = "zone-z";
    e[3].serving = false;

    PlacementPool pool;
    StoredSlice stored = StoredSlice::of(s, pool);
    CHECK(stored.endpoints.size() == 4);
    CHECK(pool.size() == 3);
    CHECK(stored.head.endpoints.empty());
    CHECK(stored.expand(pool) == s);
    StoredSlice again = StoredSlice::of(s, pool);
    CHECK(again == stored);
    CHECK(pool.size() == 3);

    model::EndpointSlice other = s;
    other.endpoints[2].hint_nodes.clear();
    StoredSlice changed = StoredSlice::of(other, pool);
    CHECK_FALSE(changed == stored);
    CHECK(changed.expand(pool) == other);
    CHECK(pool.size() == 4);

    model::EndpointSlice six;
    six.name = "v6";
    six.address_type = model::AddressType::ipv6;
    model::Endpoint v6;
    v6.address = ip("fd00::2");
    six.endpoints = {v6};
    CHECK(StoredSlice::of(six, pool).expand(pool) == six);
    CHECK(StoredSlice::of(model::EndpointSlice{}, pool).expand(pool) == model::EndpointSlice{});
}

TEST_CASE("placements are shared by every slice and go with their last endpoint", "[object-store]") {
    PlacementPool pool;
    model::EndpointSlice a = slice("a-1", "a", {"10.244.1.1", "10.244.1.2"});
    a.endpoints[0].node_name = a.endpoints[1].node_name = "node-a";
    model::EndpointSlice b = slice("b-1", "b", {"10.244.2.1", "10.244.2.2"});
    b.endpoints[0].node_name = "node-a";
    b.endpoints[1].node_name = "node-b";
    b.endpoints[1].hint_zones = {"zone-b"};
    StoredSlice sa = StoredSlice::of(a, pool), sb = StoredSlice::of(b, pool);
    CHECK(pool.size() == 2);
    CHECK(sa.endpoints[0].placement == sb.endpoints[0].placement);
    sa.release(pool);
    CHECK(pool.size() == 2);
    CHECK(sb.expand(pool) == b);
    sb.release(pool);
    CHECK(pool.size() == 0);
    // A released index is reused, and holds the new placement.
    model::EndpointSlice c = slice("c-1", "c", {"10.244.3.1"});
    c.endpoints[0].node_name = "node-c";
    StoredSlice sc = StoredSlice::of(c, pool);
    CHECK(pool.size() == 1);
    CHECK(sc.expand(pool) == c);
}

TEST_CASE("the store's placements follow its slices", "[object-store]") {
    ObjectStore store;
    model::EndpointSlice s = slice("web-1", "web", {"10.244.1.1", "10.244.2.1"});
    s.endpoints[0].node_name = "node-a";
    s.endpoints[1].node_name = "node-b";
    CHECK(store.upsert_slice(s));
    CHECK(store.placement_count() == 2);
    CHECK_FALSE(store.upsert_slice(s));
    CHECK(store.placement_count() == 2);
    s.endpoints[1].node_name = "node-a";
    CHECK(store.upsert_slice(s));
    CHECK(store.placement_count() == 1);
    CHECK(store.slice("default/web-1") == s);
    CHECK(store.remove_slice("default", "web-1"));
    CHECK(store.placement_count() == 0);
}

TEST_CASE("the store hands out its slices as they arrived, and an identical one is no change", "[object-store]") {
    ObjectStore store;
    model::EndpointSlice s = slice("web-1", "web", {"10.244.1.1", "10.244.2.1"});
    s.endpoints[0].node_name = "node-a";
    s.endpoints[1].hint_zones = {"zone-b"};
    CHECK(store.upsert_slice(s));
    CHECK(store.endpoint_count() == 2);
    CHECK_FALSE(store.upsert_slice(s));

    auto slices = store.slices_of("default/web");
    REQUIRE(slices.size() == 1);
    CHECK(**slices.begin() == s);
    const std::vector<const model::EndpointSlice*>& pointers = slices;
    CHECK(*pointers.at(0) == s);
    CHECK(store.slices_of("default/none").empty());
    // One slice by its key, as the manifest source rebuilds what a failed file held.
    CHECK(store.slice("default/web-1") == s);
    CHECK_FALSE(store.slice("default/none"));

    s.endpoints[1].ready = false;
    CHECK(store.upsert_slice(s));
    CHECK(store.endpoint_count() == 2);
}

TEST_CASE("the store keeps only the labels the planner reads, and other labels are no change", "[object-store]") {
    ObjectStore store;
    DesiredState desired;
    std::vector<std::string> events;
    model::Service s = service("web", "10.96.0.1");
    s.labels = {{"app.kubernetes.io/managed-by", "Helm"}, {"helm.sh/chart", "web-1.2.3"}};
    CHECK(store.upsert_service(s));
    CHECK(store.services().at("default/web").labels.empty());
    store.replan(desired, events);
    CHECK(desired.virtual_server_count() == 1);

    s.labels.emplace_back("app.kubernetes.io/version", "2");
    CHECK_FALSE(store.upsert_service(s));
    s.labels.emplace_back("service.kubernetes.io/service-proxy-name", "other-proxy");
    CHECK(store.upsert_service(s));
    CHECK(store.services().at("default/web").labels ==
          model::Labels{{"service.kubernetes.io/service-proxy-name", "other-proxy"}});
    store.replan(desired, events);
    CHECK(desired.virtual_server_count() == 0);
}
