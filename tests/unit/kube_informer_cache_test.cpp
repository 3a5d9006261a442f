// The informer cache without a network: list pages, watch lines, relist
// diffs, decode failures, and the watch-stream line splitter.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "kube/informer_cache.hpp"
#include "kube/line_splitter.hpp"

using namespace kipvs;

namespace {

std::string svc(const std::string& name, const std::string& ip, int port = 80, const std::string& rv = "1") {
    return R"({"metadata": {"name": ")" + name + R"(", "namespace": "d", "resourceVersion": ")" + rv +
           R"("}, "spec": {"clusterIP": ")" + ip + R"(", "ports": [{"port": )" + std::to_string(port) + "}]}}";
}

std::string list(const std::vector<std::string>& items, const std::string& rv, const std::string& cont = "") {
    std::string out = R"({"kind": "ServiceList", "metadata": {"resourceVersion": ")" + rv + R"(", "continue": ")" + cont +
                      R"("}, "items": [)";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
    return out + "]}";
}

std::string event(const std::string& type, const std::string& object) {
    return R"({"type": ")" + type + R"(", "object": )" + object + "}";
}

struct Recorder {
    std::vector<std::string> changes;
    int synced = 0;
    kube::Handlers<model::Service> handlers() {
        return {[this](kube::ChangeKind kind, const std::string& key, const model::Service*, const model::Service* cur) {
                    const char* k = kind == kube::ChangeKind::added ? "add " : kind == kube::ChangeKind::updated ? "update " : "delete ";
                    std::string name = key.substr(key.find('/') + 1);
                    if (cur && cur->name != name) name += " (named " + cur->name + ")";
                    changes.push_back(k + name);
                },
                [this] { ++synced; }};
    }
};

}  // namespace

TEST_CASE("a paginated list fills the cache and signals the first sync once", "[kube-cache]") {
    Recorder rec;
    kube::InformerCache<model::Service> cache(rec.handlers());
    cache.begin_list();
    CHECK(cache.list_page(list({svc("a", "10.0.0.1")}, "5", "tok")) == "tok");
    CHECK(cache.list_page(list({svc("b", "10.0.0.2")}, "6")) == "");
    CHECK(rec.changes.empty());  // nothing is published before the list is complete
    cache.end_list();
    CHECK(cache.resource_version() == "6");
    std::sort(rec.changes.begin(), rec.changes.end());
    CHECK(rec.changes == std::vector<std::string>{"add a", "add b"});
    CHECK(rec.synced == 1);
    cache.begin_list();
    cache.list_page(list({svc("a", "10.0.0.1")}, "9"));
    cache.end_list();
    CHECK(rec.synced == 1);
}

TEST_CASE("watch events update the cache; no-op changes are dropped", "[kube-cache]") {
    Recorder rec;
    kube::InformerCache<model::Service> cache(rec.handlers());
    cache.begin_list();
    cache.list_page(list({svc("a", "10.0.0.1")}, "5"));
    cache.end_list();
    rec.changes.clear();
    cache.watch_line(event("ADDED", svc("b", "10.0.0.2", 80, "7")));
    cache.watch_line(event("MODIFIED", svc("a", "10.0.0.1", 80, "8")));  // same model value
    cache.watch_line(event("MODIFIED", svc("a", "10.0.0.1", 81, "9")));
    cache.watch_line(R"({"type": "BOOKMARK", "object": {"kind": "Service", "metadata": {"resourceVersion": "12"}}})");
    CHECK(cache.resource_version() == "12");
    cache.watch_line(event("DELETED", svc("b", "10.0.0.2", 80, "13")));
    CHECK(rec.changes == std::vector<std::string>{"add b", "update a", "delete b"});
    CHECK(cache.resource_version() == "13");
    CHECK(cache.find("d/a")->ports.at(0).port == 81);
    CHECK(cache.stats().bookmarks == 1);
}

TEST_CASE("an object that does not decode keeps its previous version", "[kube-cache]") {
    Recorder rec;
    kube::InformerCache<model::Service> cache(rec.handlers());
    cache.begin_list();
    cache.list_page(list({svc("a", "10.0.0.1")}, "5"));
    cache.end_list();
    rec.changes.clear();
    cache.watch_line(event("MODIFIED", svc("a", "not-an-ip", 80, "6")));
    CHECK(cache.find("d/a")->cluster_ips.at(0).to_string() == "10.0.0.1");
    CHECK(cache.stats().decode_errors == 1);
    CHECK(cache.resource_version() == "6");
    // On a relist too: the broken object is neither replaced nor deleted.
    cache.begin_list();
    cache.list_page(list({svc("a", "bad")}, "7"));
    cache.end_list();
    CHECK(cache.size() == 1);
    CHECK(rec.changes.empty());
    // A deletion needs only the key.
    cache.watch_line(event("DELETED", svc("a", "bad", 80, "8")));
    CHECK(cache.size() == 0);
}

TEST_CASE("a relist is diffed against the cache", "[kube-cache]") {
    Recorder rec;
    kube::InformerCache<model::Service> cache(rec.handlers());
    cache.begin_list();
    cache.list_page(list({svc("a", "10.0.0.1"), svc("b", "10.0.0.2"), svc("c", "10.0.0.3")}, "5"));
    cache.end_list();
    rec.changes.clear();
    cache.begin_list();
    cache.list_page(list({svc("a", "10.0.0.1"), svc("c", "10.0.0.9"), svc("d", "10.0.0.4")}, "20"));
    cache.end_list();
    std::sort(rec.changes.begin(), rec.changes.end());
    CHECK(rec.changes == std::vector<std::string>{"add d", "delete b", "update c"});
}

TEST_CASE("Retain::versions keeps resourceVersions only and passes on what moved", "[kube-cache]") {
    Recorder rec;
    kube::InformerCache<model::Service> cache(rec.handlers(), kube::Retain::versions);
    cache.begin_list();
    cache.list_page(list({svc("a", "10.0.0.1", 80, "1"), svc("b", "10.0.0.2", 80, "2")}, "5", "tok"));
    // Passed on page by page: no second copy of the list is held.
    CHECK(rec.changes == std::vector<std::string>{"add a", "add b"});
    cache.list_page(list({svc("c", "10.0.0.3", 80, "3")}, "6"));
    cache.end_list();
    CHECK(rec.synced == 1);
    CHECK(cache.size() == 3);
    CHECK(cache.find("d/a") == nullptr);
    rec.changes.clear();

    cache.watch_line(event("MODIFIED", svc("a", "10.0.0.1", 80, "1")));  // resourceVersion unchanged
    cache.watch_line(event("MODIFIED", svc("a", "10.0.0.1", 81, "7")));
    cache.watch_line(event("MODIFIED", svc("b", "not-an-ip", 80, "8")));  // keeps its version
    cache.watch_line(event("DELETED", svc("c", "10.0.0.3", 80, "9")));
    CHECK(rec.changes == std::vector<std::string>{"update a", "delete c"});
    CHECK(cache.stats().decode_errors == 1);
    rec.changes.clear();

    // A relist: unchanged versions say nothing, moved ones update, missing
    // ones are deleted, one that does not decode is neither.
    cache.begin_list();
    cache.list_page(list({svc("a", "10.0.0.1", 81, "7"), svc("b", "bad", 80, "10"), svc("d", "10.0.0.4", 80, "11")},
                         "20"));
    cache.end_list();
    CHECK(rec.changes == std::vector<std::string>{"add d"});
    CHECK(cache.size() == 3);
    rec.changes.clear();
    cache.begin_list();
    cache.list_page(list({svc("b", "10.0.0.2", 80, "12")}, "21"));
    cache.end_list();
    std::sort(rec.changes.begin(), rec.changes.end());
    CHECK(rec.changes == std::vector<std::string>{"delete a", "delete d", "update b"});
    CHECK(cache.resource_version() == "21");
}

TEST_CASE("watch ERROR events: 410 means relist, others are stream errors", "[kube-cache]") {
    kube::InformerCache<model::Service> cache;
    CHECK_THROWS_AS(cache.watch_line(R"({"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old"}})"),
                    kube::GoneError);
    CHECK_THROWS_AS(cache.watch_line(R"({"type": "ERROR", "object": {"kind": "Status", "code": 500}})"), kube::StreamError);
    CHECK_THROWS_AS(cache.watch_line("{not json"), kube::StreamError);
    CHECK_THROWS_AS(cache.watch_line(R"({"type": "ADDED"})"), kube::StreamError);
    CHECK_THROWS_AS(cache.watch_line(R"({"type": "WHAT", "object": {"metadata": {"name": "x"}}})"), kube::StreamError);
}

TEST_CASE("the line splitter copes with any chunking and bounds lines", "[kube-cache]") {
    const std::string stream = "{\"a\":1}\n{\"b\":22}\r\n\n{\"c\":333}\n";
    for (std::size_t step = 1; step <= stream.size(); ++step) {
        kube::LineSplitter splitter(64);
        std::vector<std::string> lines;
        for (std::size_t i = 0; i < stream.size(); i += step)
            splitter.feed(std::string_view(stream).substr(i, step), [&](std::string_view l) { lines.emplace_back(l); });
        INFO(step);
        CHECK(lines == std::vector<std::string>{"{\"a\":1}", "{\"b\":22}", "{\"c\":333}"});
        CHECK_FALSE(splitter.has_partial());
    }
    kube::LineSplitter small(8);
    auto ignore = [](std::string_view) {};
    small.feed("12345678\n", ignore);
    CHECK_THROWS_AS(small.feed("123456789", ignore), kube::StreamError);
    CHECK_THROWS_AS(small.feed("1234\n56789012345\n", ignore), kube::StreamError);
    small.feed("1234", ignore);
    CHECK_THROWS_AS(small.feed("56789", ignore), kube::StreamError);
}
