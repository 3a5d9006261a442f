#include "source/manifest_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "kernel/unique_fd.hpp"

namespace kipvs::source {

bool is_manifest_file_name(std::string_view name) {
    if (name.empty() || name.front() == '.' || name.front() == '#') return false;
    for (std::string_view ext : {".yaml", ".yml", ".json"})
        if (name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext) return true;
    return false;
}

std::vector<std::string> manifest_file_names(const std::string& directory, std::error_code& ec) {
    namespace fs = std::filesystem;
    std::vector<std::string> names;
    ec.clear();
    fs::directory_iterator it(directory, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (!is_manifest_file_name(name)) continue;
        std::error_code status_ec;
        if (!it->is_regular_file(status_ec)) continue;  // follows symlinks; a dangling one is skipped
        names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::optional<std::string> read_whole_file(const std::string& path, std::string& error) {
    kernel::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    std::string text;
    if (fd.get() >= 0) {
        char buffer[65536];
        for (;;) {
            ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
            if (n > 0) {
                text.append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0) {
                return text;
            } else if (errno != EINTR) {
                break;
            }
        }
    }
    error = path;
    error += ": cannot read: ";
    error += std::strerror(errno);
    return std::nullopt;
}

}  // namespace kipvs::source
