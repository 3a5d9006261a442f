#include "source/json_list.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/stream_parser.hpp>

using namespace kipvs::source;

namespace {

boost::json::parse_options depth_64() {
    boost::json::parse_options options;
    options.max_depth = 64;
    return options;
}

// What stream_parser says of a text: its error and how much it read.
std::pair<std::error_code, std::size_t> stream_verdict(std::string_view text) {
    boost::json::stream_parser parser({}, depth_64());
    std::error_code ec;
    std::size_t used = parser.write(text.data(), text.size(), ec);
    if (!ec) parser.finish(ec);
    return {ec, used};
}

}  // namespace

TEST_CASE("validate_json accepts and refuses what the tree parser does, at the same byte", "[manifests]") {
    std::string deep(70, '[');
    deep += std::string(70, ']');
    for (const std::string& text : std::vector<std::string>{R"({"a": [1, 2.5, -3, true, null, "x\"y"]})", R"(  {"a":1}  )", "{", "",
                                  R"({"a":1} {"b":2})", R"({"a": 01})", R"({"a": "\x"})", R"([1,,2])", "nul",
                                  deep, "18446744073709551616", R"({"a":1,})"}) {
        INFO(text);
        std::error_code ec;
        std::size_t used = validate_json(text, depth_64(), ec);
        auto [want_ec, want_used] = stream_verdict(text);
        CHECK(ec == want_ec);
        if (ec) CHECK(used == want_used);
    }
}

TEST_CASE("a List's items are split as text, each the value the tree holds", "[manifests]") {
    std::string_view text = R"( {"apiVersion": "v1", "items" : [ {"kind": "Service", "metadata": {"name": "a,]}"}},
        {"kind":"EndpointSlice","endpoints":[{"addresses":["10.0.0.1"]}], "x": "\"{["} , 7, "s", null, [1, [2]] ],
        "kind": "List"} )";
    std::error_code ec;
    validate_json(text, depth_64(), ec);
    REQUIRE_FALSE(ec);
    auto list = split_json_list(text);
    REQUIRE(list);
    CHECK(list->kind == "List");
    auto tree = boost::json::parse(text);
    const auto& items = tree.at("items").as_array();
    REQUIRE(list->items.size() == items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        INFO(list->items[i]);
        CHECK(boost::json::parse(boost::json::string_view(list->items[i].data(), list->items[i].size())) == items[i]);
    }

    auto empty = split_json_list(R"({"kind":"ServiceList","items":[ ]})");
    REQUIRE(empty);
    CHECK(empty->kind == "ServiceList");
    CHECK(empty->items.empty());
}

TEST_CASE("what the List splitter leaves to the tree parser", "[manifests]") {
    for (std::string_view text : std::vector<std::string_view>{R"({"kind":"Service","items":[]})", R"({"kind":"List"})", R"({"kind":"List","items":null})",
                                  R"({"kind":"List","items":{}})", R"({"items":[]})", R"({"kind":7,"items":[]})",
                                  R"({"kind":"Li\u0073t","items":[]})", R"({"kind":"List","\u0069tems":[]})",
                                  R"({"kind":"List","items":[],"items":[1]})", R"([{"kind":"List","items":[]}])",
                                  R"({"kind":"List","kind":"List","items":[]})", R"("List")", "{}"}) {
        INFO(text);
        CHECK_FALSE(split_json_list(text));
    }
}
