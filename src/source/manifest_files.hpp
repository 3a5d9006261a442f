#pragma once
// Which files of a manifest directory are manifests, and reading them: the
// loader and the inotify watcher must agree on the first, or an edit to a
// file the loader reads would go unseen (or one it skips cause reloads).
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace kipvs::source {

// *.yaml, *.yml or *.json, not hidden, not an editor's scratch file.
bool is_manifest_file_name(std::string_view name);

// The names of the manifest files directly in `directory`, in name order.
// Symlinks to regular files count; dangling ones and subdirectories do not.
// When the directory cannot be listed, `ec` says why.
std::vector<std::string> manifest_file_names(const std::string& directory, std::error_code& ec);

// The whole file, or nullopt and `error` naming the path and errno.
std::optional<std::string> read_whole_file(const std::string& path, std::string& error);

}  // namespace kipvs::source
