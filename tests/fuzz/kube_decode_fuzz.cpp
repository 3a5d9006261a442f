// Any bytes as a watch stream: split into lines, each line applied to the
// three informer caches (JSON parse, event shape, the three decoders). Only
// the errors the informer handles may come out; nothing may crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kube/informer_cache.hpp"
#include "kube/line_splitter.hpp"
#include "log/log.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kipvs;
    static bool quiet = [] {
        log::set_level(log::Level::error);
        return true;
    }();
    (void)quiet;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    kube::InformerCache<model::Service> services;
    kube::InformerCache<model::EndpointSlice> slices;
    kube::InformerCache<model::Node> nodes;
    // The first line is also tried as a LIST page, as the informer would.
    auto as_list = [&](kube::ResourceSink& sink) {
        try {
            sink.begin_list();
            sink.list_page(text.substr(0, text.find('\n')));
            sink.end_list();
        } catch (const Error&) {
        }
    };
    as_list(services);
    as_list(slices);
    as_list(nodes);
    // Chunk boundaries chosen by the input itself: the first byte is the step.
    std::size_t step = size > 0 ? (data[0] % 16) + 1 : 1;
    kube::LineSplitter splitter(4096);
    try {
        for (std::size_t i = 0; i < text.size(); i += step) {
            splitter.feed(text.substr(i, step), [&](std::string_view line) {
                for (kube::ResourceSink* sink : {static_cast<kube::ResourceSink*>(&services),
                                                 static_cast<kube::ResourceSink*>(&slices),
                                                 static_cast<kube::ResourceSink*>(&nodes)}) {
                    try {
                        sink->watch_line(line);
                    } catch (const Error&) {
                    }
                }
            });
        }
    } catch (const kube::StreamError&) {
    }
    return 0;
}
