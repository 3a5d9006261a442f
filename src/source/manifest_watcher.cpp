#include "source/manifest_watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "error.hpp"
#include "source/manifest_files.hpp"

namespace kipvs::source {

namespace {

constexpr std::uint32_t directory_events =
    IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
// On the parent: the directory's own name appearing or going away.
constexpr std::uint32_t parent_events = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR;

[[noreturn]] void fail_errno(std::string_view what, const std::string& path) {
    int saved = errno;
    std::string message(what);
    message += ' ';
    message += path;
    message += ": ";
    message += std::strerror(saved);
    throw Error(message);
}

}  // namespace

ManifestWatcher::ManifestWatcher(std::string directory) : directory_(std::move(directory)) {
    namespace fs = std::filesystem;
    fs::path path = fs::path(directory_).lexically_normal();
    if (path.has_filename() == false && path.has_parent_path()) path = path.parent_path();  // "dir/" → "dir"
    base_name_ = path.filename().string();
    parent_ = path.has_parent_path() ? path.parent_path().string() : std::string(".");
    fd_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (fd_.get() < 0) fail_errno("inotify_init1 for", directory_);
    watch_directory();
    if (dir_watch_ < 0) fail_errno("cannot watch", directory_);
    // Best effort: without it, only the replacement of the directory goes unseen.
    if (!base_name_.empty() && base_name_ != "." && base_name_ != "..")
        parent_watch_ = ::inotify_add_watch(fd_.get(), parent_.c_str(), parent_events);
}

void ManifestWatcher::watch_directory() {
    // The same inode gives back the same descriptor; a new one, a new descriptor.
    dir_watch_ = ::inotify_add_watch(fd_.get(), directory_.c_str(), directory_events);
}

bool ManifestWatcher::drain() {
    bool changed = false;
    bool rewatch = false;
    alignas(inotify_event) char buffer[8192];
    for (;;) {
        ssize_t n = ::read(fd_.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            fail_errno("reading inotify events for", directory_);
        }
        if (n == 0) break;
        for (std::size_t offset = 0; offset + sizeof(inotify_event) <= static_cast<std::size_t>(n);) {
            const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
            offset += sizeof(inotify_event) + event->len;
            std::string_view name = event->len > 0 ? std::string_view(event->name) : std::string_view();
            if (event->mask & IN_Q_OVERFLOW) {
                changed = true;
                rewatch = true;
            } else if (event->wd == dir_watch_ && dir_watch_ >= 0) {
                if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                    changed = true;
                    rewatch = true;
                } else if (!(event->mask & IN_ISDIR) && is_manifest_file_name(name)) {
                    changed = true;
                }
            } else if (event->wd == parent_watch_ && parent_watch_ >= 0) {
                if (name == base_name_) {
                    changed = true;
                    rewatch = true;
                }
            }
        }
    }
    if (rewatch) {
        int old = dir_watch_;
        watch_directory();
        // A directory moved away keeps its watch (and its old descriptor) until
        // it is removed: drop it, so that its events are not taken for ours.
        if (old >= 0 && old != dir_watch_) ::inotify_rm_watch(fd_.get(), old);
    }
    return changed;
}

}  // namespace kipvs::source
