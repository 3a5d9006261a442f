#pragma once
// The origins of the manifest source's last good load, packed. The source
// keeps them between loads only to put back what a failed file or object
// held (merge_with_previous), so they are read whole and rarely. As a
// std::map of ObjectOrigin they cost some 250 bytes an object (a tree node,
// a key and a file name on the heap each): 5 MB at 10,000 services and
// 10,000 slices. Here an object costs its key's characters and 12 bytes;
// each file name is kept once.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "source/manifests.hpp"

namespace kipvs::source {

class OriginTable {
public:
    OriginTable() = default;
    explicit OriginTable(const std::map<std::string, ObjectOrigin>& origins);

    // Exactly the map it was made from.
    std::map<std::string, ObjectOrigin> expand() const;
    std::size_t size() const { return entries_.size(); }

private:
    struct Entry {
        std::uint32_t key_end = 0;    // the key is keys_[previous key_end, key_end)
        std::uint32_t file = 0;       // index in texts_
        std::uint32_t endpoints = 0;  // index in texts_ + 1; 0: none
    };
    std::string keys_;
    std::vector<std::string> texts_;  // file names and Endpoints names, each once
    std::vector<Entry> entries_;
};

}  // namespace kipvs::source
