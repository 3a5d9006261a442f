#include "config/yaml_tree.hpp"

#include <yaml.h>

#include <map>
#include <memory>

#include "error.hpp"

namespace kipvs::yaml {

bool Node::is_null() const {
    return kind == Kind::scalar && plain &&
           (value.empty() || value == "~" || value == "null" || value == "Null" || value == "NULL");
}

const Node* Node::find(std::string_view key) const {
    for (const auto& [k, v] : entries)
        if (k.value == key) return &v;
    return nullptr;
}

std::string_view Node::kind_name() const {
    switch (kind) {
        case Kind::scalar: return is_null() ? "null" : "a scalar";
        case Kind::sequence: return "a list";
        case Kind::mapping: return "a mapping";
    }
    return "?";
}

std::string where(std::string_view source, Mark mark) {
    if (mark.line == 0) return std::string(source);  // not from a document (a flag, a default)
    return std::string(source) + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column);
}

namespace {

Mark mark_of(const yaml_mark_t& m) { return Mark{m.line + 1, m.column + 1}; }

struct ParserDeleter {
    void operator()(yaml_parser_t* p) const {
        yaml_parser_delete(p);
        delete p;
    }
};

class TreeBuilder {
public:
    TreeBuilder(std::string_view text, std::string_view source) : source_(source) {
        parser_.reset(new yaml_parser_t);
        if (!yaml_parser_initialize(parser_.get())) throw ConfigError(std::string(source) + ": out of memory");
        yaml_parser_set_input_string(parser_.get(), reinterpret_cast<const unsigned char*>(text.data()),
                                     text.size());
    }

    std::vector<Node> documents() {
        std::vector<Node> docs;
        for (;;) {
            Event ev = next();
            if (ev.e.type == YAML_STREAM_END_EVENT) break;
            if (ev.e.type == YAML_DOCUMENT_START_EVENT) {
                anchors_.clear();
                Event first = next();
                docs.push_back(node_from(first));
                Event end = next();
                if (end.e.type != YAML_DOCUMENT_END_EVENT) fail(end.e.start_mark, "expected end of document");
            }
        }
        return docs;
    }

private:
    struct Event {
        yaml_event_t e{};
        ~Event() { yaml_event_delete(&e); }
    };

    Event next() {
        Event ev;
        if (!yaml_parser_parse(parser_.get(), &ev.e)) {
            const yaml_parser_t& p = *parser_;
            std::string msg = p.problem ? p.problem : "malformed YAML";
            if (p.context) msg = std::string(p.context) + ": " + msg;
            throw ConfigError(where(source_, mark_of(p.problem_mark)) + ": invalid YAML: " + msg);
        }
        return ev;
    }

    [[noreturn]] void fail(const yaml_mark_t& m, const std::string& msg) {
        throw ConfigError(where(source_, mark_of(m)) + ": " + msg);
    }

    void remember(const unsigned char* anchor, const Node& node) {
        if (anchor) anchors_[reinterpret_cast<const char*>(anchor)] = node;
    }

    // Bounds recursion so that hostile input cannot exhaust the stack.
    static constexpr int max_depth = 64;
    static constexpr std::size_t max_aliased_nodes = 100000;

    static std::size_t count_nodes(const Node& n) {
        std::size_t total = 1;
        for (const auto& item : n.items) total += count_nodes(item);
        for (const auto& entry : n.entries) total += 1 + count_nodes(entry.value);
        return total;
    }

    Node node_from(Event& ev) {
        if (++depth_ > max_depth) fail(ev.e.start_mark, "nested deeper than 64 levels");
        struct Leave {
            int& d;
            ~Leave() { --d; }
        } leave{depth_};
        Node node;
        node.mark = mark_of(ev.e.start_mark);
        switch (ev.e.type) {
            case YAML_ALIAS_EVENT: {
                auto it = anchors_.find(reinterpret_cast<const char*>(ev.e.data.alias.anchor));
                if (it == anchors_.end()) fail(ev.e.start_mark, "unknown alias");
                // Each alias is a full copy: bound what aliases may expand
                // to, so that nested aliases ("billion laughs") cannot
                // exhaust memory.
                aliased_ += count_nodes(it->second);
                if (aliased_ > max_aliased_nodes)
                    fail(ev.e.start_mark, "aliases expand to more than " + std::to_string(max_aliased_nodes) + " nodes");
                Node copy = it->second;
                copy.mark = node.mark;
                return copy;
            }
            case YAML_SCALAR_EVENT:
                node.kind = Node::Kind::scalar;
                node.value.assign(reinterpret_cast<const char*>(ev.e.data.scalar.value), ev.e.data.scalar.length);
                node.plain = ev.e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                remember(ev.e.data.scalar.anchor, node);
                return node;
            case YAML_SEQUENCE_START_EVENT: {
                node.kind = Node::Kind::sequence;
                const unsigned char* anchor = ev.e.data.sequence_start.anchor;
                for (;;) {
                    Event item = next();
                    if (item.e.type == YAML_SEQUENCE_END_EVENT) break;
                    node.items.push_back(node_from(item));
                }
                remember(anchor, node);
                return node;
            }
            case YAML_MAPPING_START_EVENT: {
                node.kind = Node::Kind::mapping;
                const unsigned char* anchor = ev.e.data.mapping_start.anchor;
                for (;;) {
                    Event key_ev = next();
                    if (key_ev.e.type == YAML_MAPPING_END_EVENT) break;
                    Node key = node_from(key_ev);
                    if (key.kind != Node::Kind::scalar) fail(key_ev.e.start_mark, "mapping keys must be plain strings");
                    if (node.find(key.value))
                        throw ConfigError(where(source_, key.mark) + ": duplicate key \"" + key.value + "\"");
                    Event value_ev = next();
                    Node value = node_from(value_ev);
                    node.entries.push_back(MapEntry{std::move(key), std::move(value)});
                }
                remember(anchor, node);
                return node;
            }
            default:
                fail(ev.e.start_mark, "unexpected YAML event");
        }
    }

    std::string source_;
    std::unique_ptr<yaml_parser_t, ParserDeleter> parser_;
    std::map<std::string, Node> anchors_;
    int depth_ = 0;
    std::size_t aliased_ = 0;
};

}  // namespace

std::vector<Node> parse_documents(std::string_view text, std::string_view source) {
    return TreeBuilder(text, source).documents();
}

}  // namespace kipvs::yaml
