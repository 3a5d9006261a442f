#pragma once
// Splits a watch stream (one JSON event per line) into lines, whatever the
// chunking: one event may span many chunks and reads, one read may hold many
// events. A line longer than the bound is an error, never an allocation.
#include <cstddef>
#include <string>
#include <string_view>

#include "kube/resource_sink.hpp"

namespace kipvs::kube {

class LineSplitter {
public:
    explicit LineSplitter(std::size_t max_line) : max_line_(max_line) {}

    // Calls on_line(std::string_view) for every complete, non-empty line
    // (a trailing '\r' dropped). Throws StreamError when a line exceeds the bound.
    template <class OnLine>
    void feed(std::string_view data, OnLine&& on_line) {
        while (!data.empty()) {
            std::size_t nl = data.find('\n');
            if (nl == std::string_view::npos) {
                if (partial_.size() + data.size() > max_line_) overflow();
                partial_.append(data);
                return;
            }
            std::string_view piece = data.substr(0, nl);
            data.remove_prefix(nl + 1);
            if (partial_.size() + piece.size() > max_line_) overflow();
            if (partial_.empty()) {
                emit(piece, on_line);
            } else {
                partial_.append(piece);
                emit(partial_, on_line);
                partial_.clear();
            }
        }
    }

    bool has_partial() const { return !partial_.empty(); }
    void reset() { partial_.clear(); }

private:
    template <class OnLine>
    static void emit(std::string_view line, OnLine& on_line) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) on_line(line);
    }
    [[noreturn]] void overflow() {
        partial_.clear();
        partial_.shrink_to_fit();
        throw StreamError("watch event longer than " + std::to_string(max_line_) + " bytes");
    }

    std::size_t max_line_;
    std::string partial_;
};

}  // namespace kipvs::kube
