#include <catch2/catch.hpp>

#include "config/yaml_tree.hpp"
#include "error.hpp"

using namespace kipvs;
using yaml::Node;

TEST_CASE("a YAML tree remembers line and column of every node", "[yaml]") {
    auto docs = yaml::parse_documents("a: 1\nb:\n  - x\n  - \"y\"\nc: {d: null}\n", "t.yaml");
    REQUIRE(docs.size() == 1);
    const Node& root = docs[0];
    REQUIRE(root.kind == Node::Kind::mapping);
    CHECK(root.find("a")->value == "1");
    const Node* b = root.find("b");
    REQUIRE(b->kind == Node::Kind::sequence);
    CHECK(b->items[1].value == "y");
    CHECK_FALSE(b->items[1].plain);
    CHECK(b->items[1].mark.line == 4);
    CHECK(b->items[1].mark.column == 5);
    CHECK(root.find("c")->find("d")->is_null());
    CHECK(root.entries[2].key.mark.line == 5);
}

TEST_CASE("multi-document streams and aliases", "[yaml]") {
    auto docs = yaml::parse_documents("---\na: &x [1, 2]\nb: *x\n---\nk: v\n", "m.yaml");
    REQUIRE(docs.size() == 2);
    CHECK(docs[0].find("b")->items.size() == 2);
    CHECK(docs[1].find("k")->value == "v");
    CHECK(yaml::parse_documents("", "e.yaml").empty());
}

TEST_CASE("malformed YAML is refused with file:line:column", "[yaml]") {
    auto message = [](const char* text) {
        try {
            yaml::parse_documents(text, "bad.yaml");
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    CHECK(message("a: [1, 2\n") .rfind("bad.yaml:", 0) == 0);
    CHECK(message("a: 1\na: 2\n") == "bad.yaml:2:1: duplicate key \"a\"");
    CHECK(message("? [x]\n: 1\n").find("mapping keys must be plain strings") != std::string::npos);
    CHECK(message("a: *nothing\n").find("bad.yaml:1:4") == 0);
    std::string deep(100, '[');
    CHECK(message(deep.c_str()).find("nested deeper than 64 levels") != std::string::npos);
}

TEST_CASE("nested aliases cannot expand without bound", "[yaml]") {
    std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    std::string previous = "a";
    for (char c = 'b'; c <= 'h'; ++c) {
        std::string name(1, c);
        text += name + ": &" + name + " [";
        for (int i = 0; i < 10; ++i) {
            text += i ? ", *" : "*";
            text += previous;
        }
        text += "]\n";
        previous = name;
    }
    REQUIRE_THROWS_WITH(kipvs::yaml::parse_documents(text, "laughs.yaml"),
                        Catch::Contains("aliases expand to more than 100000 nodes"));
}
