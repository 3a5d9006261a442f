#pragma once
// A YAML document as a plain tree that remembers where each node was written,
// so that every configuration error can name file:line:column. Built on
// libyaml (a C library: the musl build cannot link C++ libraries compiled
// against libstdc++).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kipvs::yaml {

struct Mark {
    std::size_t line = 0;    // 1-based
    std::size_t column = 0;  // 1-based
};

struct MapEntry;

struct Node {
    enum class Kind { scalar, sequence, mapping };
    Kind kind = Kind::scalar;
    std::string value;  // scalars only
    bool plain = true;  // an unquoted scalar: may be null, a bool or a number
    std::vector<Node> items;                      // sequences
    std::vector<MapEntry> entries;  // mappings, in document order
    Mark mark;

    bool is_null() const;
    const Node* find(std::string_view key) const;
    std::string_view kind_name() const;
};

// Defined after Node so that Node is complete (std::pair of an incomplete
// type is ill-formed, and libc++ says so).
struct MapEntry {
    Node key;
    Node value;
};

// Every document of a multi-document stream; an empty stream gives none.
// Throws ConfigError naming source:line:column on malformed YAML, duplicate
// keys, or non-scalar mapping keys.
std::vector<Node> parse_documents(std::string_view text, std::string_view source);

// "source:line:column", or just "source" for a node not read from a document.
std::string where(std::string_view source, Mark mark);

}  // namespace kipvs::yaml
