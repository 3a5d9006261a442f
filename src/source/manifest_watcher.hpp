#pragma once
// The manifest source reloads when its directory changes instead of polling
// it; this is the inotify side of that, kept apart from loading so that the
// owner decides when (and how often) a change turns into a reload.
#include <string>

#include "kernel/unique_fd.hpp"

namespace kipvs::source {

// Watches a manifest directory with inotify. The owner polls fd() for
// readability (poll, or an asio posix::stream_descriptor) and calls drain(),
// which reads every pending event and says whether a reload is due.
//
// Limits (kept simple on purpose):
// - Not recursive; subdirectories are ignored like in load_manifests.
// - A file rewritten in place (truncate, then write) is reported on close,
//   but a reload caused by another event meanwhile may read it half-written:
//   write a scratch file and rename it in, as kubectl-style tools do.
// - Files that are symlinks are not followed for events: retargeting a
//   symlink in place is seen only when the link itself is replaced.
// - The directory itself being deleted, renamed or replaced (a new directory
//   or symlink renamed onto its path) is seen through a watch on its parent;
//   the watch is moved to whatever is at the path then, and drain() reports
//   a change. Without access to the parent that case goes unnoticed until
//   the owner's periodic resync.
// - On a queue overflow drain() reports a change, since events were lost.
class ManifestWatcher {
public:
    // Throws Error naming the directory and errno if inotify cannot be set up.
    explicit ManifestWatcher(std::string directory);

    int fd() const { return fd_.get(); }
    // Reads all pending events without blocking; true when a manifest file
    // was written, created, moved or deleted, or the directory was replaced.
    bool drain();
    // False while nothing exists at the directory's path to watch.
    bool watching() const { return dir_watch_ >= 0; }

private:
    void watch_directory();

    std::string directory_;
    std::string parent_;
    std::string base_name_;
    kernel::UniqueFd fd_;
    int dir_watch_ = -1;
    int parent_watch_ = -1;
};

}  // namespace kipvs::source
