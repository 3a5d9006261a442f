#pragma once
// What the list+watch loop (kube/informer.cpp) feeds: the pages of a LIST and
// the lines of a WATCH. The typed cache behind it (InformerCache<T>) decodes
// and diffs; the loop only moves bytes and decides when to retry.
#include <string>
#include <string_view>

#include "error.hpp"

namespace kipvs::kube {

// A response or stream that is not what the API server should send.
class StreamError : public Error {
public:
    using Error::Error;
};

// The server says our resourceVersion is too old (410 Gone): relist.
class GoneError : public Error {
public:
    using Error::Error;
};

struct InformerStats {
    unsigned long lists = 0;        // LIST requests (pages counted once per list)
    unsigned long list_pages = 0;
    unsigned long relists = 0;      // lists after the first, for any reason
    unsigned long gone = 0;         // 410s (HTTP status or ERROR event)
    unsigned long watches = 0;      // WATCH requests
    unsigned long watch_ends = 0;   // streams the server closed cleanly
    unsigned long events = 0;
    unsigned long bookmarks = 0;
    unsigned long decode_errors = 0;
    unsigned long errors = 0;       // failed requests (network, HTTP, stream)
    unsigned long notifications = 0;  // changes delivered to the consumer
};

class ResourceSink {
public:
    virtual ~ResourceSink() = default;
    virtual void begin_list() = 0;
    // One page (a *List object). Returns metadata.continue ("" on the last page).
    virtual std::string list_page(std::string_view body) = 0;
    // After the last page: diff against the cache, notify, signal the first sync.
    virtual void end_list() = 0;
    // One watch event line. Throws GoneError on an ERROR event with code 410.
    virtual void watch_line(std::string_view line) = 0;
    virtual const std::string& resource_version() const = 0;
    virtual InformerStats& stats() = 0;
};

}  // namespace kipvs::kube
