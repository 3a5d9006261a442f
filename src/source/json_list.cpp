#include "source/json_list.hpp"

#include <set>

#include <boost/json/array.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

namespace kipvs::source {
namespace {

namespace json = boost::json;

// basic_parser's handler for validation: accepts every event and keeps
// nothing. The limits are those of the handler stream_parser builds values
// with, so the same texts fail.
struct DiscardingHandler {
    static constexpr std::size_t max_object_size = json::object::max_size();
    static constexpr std::size_t max_array_size = json::array::max_size();
    static constexpr std::size_t max_key_size = json::string::max_size();
    static constexpr std::size_t max_string_size = json::string::max_size();

    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_array_begin(json::error_code&) { return true; }
    bool on_array_end(std::size_t, json::error_code&) { return true; }
    bool on_object_begin(json::error_code&) { return true; }
    bool on_object_end(std::size_t, json::error_code&) { return true; }
    bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_key_part(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_key(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_number_part(json::string_view, json::error_code&) { return true; }
    bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
    bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
    bool on_double(double, json::string_view, json::error_code&) { return true; }
    bool on_bool(bool, json::error_code&) { return true; }
    bool on_null(json::error_code&) { return true; }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The scanners below read text that validate_json accepted.
class Scanner {
public:
    explicit Scanner(std::string_view text) : text_(text) {}

    bool at(char c) {
        skip_space();
        return pos_ < text_.size() && text_[pos_] == c;
    }
    bool take(char c) {
        if (!at(c)) return false;
        ++pos_;
        return true;
    }
    // A string's raw content, between its quotes.
    std::string_view string() {
        skip_space();
        std::size_t begin = ++pos_;
        while (text_[pos_] != '"') pos_ += text_[pos_] == '\\' ? 2 : 1;
        return text_.substr(begin, pos_++ - begin);
    }
    std::string_view value() {
        skip_space();
        std::size_t begin = pos_;
        if (text_[pos_] == '"') {
            string();
        } else if (text_[pos_] == '{' || text_[pos_] == '[') {
            std::size_t depth = 0;
            do {
                char c = text_[pos_];
                if (c == '"') {
                    string();
                    continue;
                }
                if (c == '{' || c == '[') ++depth;
                else if (c == '}' || c == ']') --depth;
                ++pos_;
            } while (depth > 0);
        } else {
            while (pos_ < text_.size() && !is_space(text_[pos_]) && text_[pos_] != ',' && text_[pos_] != '}' &&
                   text_[pos_] != ']')
                ++pos_;
        }
        return text_.substr(begin, pos_ - begin);
    }

private:
    void skip_space() {
        while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    }
    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

std::size_t validate_json(std::string_view text, const json::parse_options& options, std::error_code& ec) {
    json::basic_parser<DiscardingHandler> parser(options);
    json::error_code jec;
    std::size_t used = parser.write_some(true, text.data(), text.size(), jec);
    if (!jec && used < text.size()) jec = json::error::extra_data;
    if (!jec) parser.write_some(false, nullptr, 0, jec);
    ec = jec;
    return used;
}

std::optional<JsonList> split_json_list(std::string_view text) {
    Scanner in(text);
    if (!in.take('{')) return std::nullopt;
    JsonList list;
    bool have_kind = false, have_items = false;
    std::set<std::string_view> keys;
    if (!in.at('}')) {
        do {
            std::string_view key = in.string();
            if (key.find('\\') != std::string_view::npos || !keys.insert(key).second) return std::nullopt;
            in.take(':');
            if (key == "items") {
                if (!in.take('[')) return std::nullopt;
                have_items = true;
                if (!in.take(']')) {
                    do list.items.push_back(in.value());
                    while (in.take(','));
                    in.take(']');
                }
                continue;
            }
            std::string_view value = in.value();
            if (key == "kind") {
                if (value.size() < 2 || value.front() != '"' || value.find('\\') != std::string_view::npos)
                    return std::nullopt;
                list.kind = std::string(value.substr(1, value.size() - 2));
                have_kind = true;
            }
        } while (in.take(','));
    }
    std::string_view kind = list.kind;
    bool is_list = kind == "List" || (kind.size() > 4 && kind.substr(kind.size() - 4) == "List");
    if (!have_kind || !have_items || !is_list) return std::nullopt;
    return list;
}

}  // namespace kipvs::source
