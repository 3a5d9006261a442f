#include "source/origin_table.hpp"

#include <catch2/catch.hpp>

using namespace kipvs::source;

TEST_CASE("an origin table gives back exactly the origins it was made from", "[manifests]") {
    std::map<std::string, ObjectOrigin> origins = {
        {"EndpointSlice demo/web-1", {"/etc/kipvs/manifests/web.yaml", ""}},
        {"EndpointSlice demo/legacy", {"/etc/kipvs/manifests/legacy.json", "demo/legacy"}},
        {"EndpointSlice demo/legacy-1", {"/etc/kipvs/manifests/legacy.json", "demo/legacy"}},
        {"Node node-1", {"/etc/kipvs/manifests/node.yaml", ""}},
        {"Service demo/legacy", {"/etc/kipvs/manifests/legacy.json", ""}},
        {"Service demo/web", {"/etc/kipvs/manifests/web.yaml", ""}},
        {"Service x/a-name-longer-than-the-small-string-buffer", {"", ""}},
    };
    OriginTable table(origins);
    CHECK(table.size() == origins.size());
    CHECK(table.expand() == origins);
    CHECK(OriginTable().expand().empty());
    CHECK(OriginTable(std::map<std::string, ObjectOrigin>{}).expand().empty());
}
