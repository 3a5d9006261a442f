#pragma once
// A JSON manifest file holding a List split into its items without building
// the whole tree. `kubectl get -o json` of 10,000 EndpointSlices is tens of
// megabytes of text, and boost::json's tree of it takes several times that;
// decoding it item by item from the text keeps one item's tree at a time.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/json/parse_options.hpp>

namespace kipvs::source {

// Checks that `text` is one JSON value as boost::json::stream_parser (write,
// then finish) would accept it with `options`, building nothing. On failure
// `ec` is set and the result is how many bytes were read, as the parser's.
std::size_t validate_json(std::string_view text, const boost::json::parse_options& options, std::error_code& ec);

struct JsonList {
    std::string kind;                     // the top-level "kind"
    std::vector<std::string_view> items;  // each element of "items", as text
};

// For valid JSON text (validate_json) that is an object whose "kind" is
// "List", or "<Kind>List" with an "items" member, and whose "items" is an
// array: the kind and the items. None for anything else, and for what this
// plain splitter leaves to the full parser: escaped or repeated top-level
// keys, an escaped kind, a missing or non-array "items".
std::optional<JsonList> split_json_list(std::string_view text);

}  // namespace kipvs::source
