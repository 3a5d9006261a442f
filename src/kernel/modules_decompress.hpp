#pragma once
// In-process decompression of .ko.xz and .ko.zst, for kernels that cannot
// decompress modules themselves (no CONFIG_MODULE_DECOMPRESS, or older than
// 5.17): the result goes to init_module(2). Uses the static liblzma and
// libzstd kipvs links anyway.
#include <string>
#include <string_view>

#include "kernel/modules_index.hpp"

namespace kipvs::kernel::modules {

// By the file's first bytes; Compression::none when no known magic matches.
Compression compression_of_content(std::string_view head);

// Throw kipvs::Error naming `source` when the data is corrupt, truncated or
// would decompress beyond max_output bytes (a module is a few MiB at most).
constexpr std::size_t max_module_size = 256u << 20;
std::string decompress_xz(std::string_view data, std::string_view source,
                          std::size_t max_output = max_module_size);
std::string decompress_zstd(std::string_view data, std::string_view source,
                            std::size_t max_output = max_module_size);

}  // namespace kipvs::kernel::modules
