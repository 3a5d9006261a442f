#include "log/log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "log/utc_time.hpp"

namespace kipvs::log {
namespace {

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    struct stat st {};
    if (!stream || ::fstat(STDERR_FILENO, &st) != 0) return false;
    return is_journal_stream(stream, st.st_dev, st.st_ino);
}

std::atomic<Level> current_level{Level::info};
std::atomic<bool> journal_prefixes{stderr_is_journal()};
std::mutex write_mutex;

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
    if (name == "error") return Level::error;
    if (name == "warning" || name == "warn") return Level::warning;
    if (name == "info") return Level::info;
    if (name == "debug") return Level::debug;
    return std::nullopt;
}

std::string_view level_name(Level level) {
    switch (level) {
        case Level::error: return "error";
        case Level::warning: return "warning";
        case Level::info: return "info";
        case Level::debug: return "debug";
    }
    return "?";
}

void set_level(Level level) { current_level = level; }
Level level() { return current_level; }
void set_journal_prefixes(bool enabled) { journal_prefixes = enabled; }

bool is_journal_stream(std::string_view journal_stream, unsigned long long device, unsigned long long inode) {
    return journal_stream == std::to_string(device) + ":" + std::to_string(inode);
}

std::string format_line(Level level, std::string_view message, bool journal_prefix,
                        long long unix_millis) {
    std::string stamp =
        rfc3339_utc(std::chrono::system_clock::time_point(std::chrono::milliseconds(unix_millis)), 3);
    std::string line;
    if (journal_prefix) {
        line += '<';
        line += std::to_string(static_cast<int>(level));
        line += '>';
    }
    line += stamp;
    line += ' ';
    std::string_view name = level_name(level);
    line += name;
    line.append(8 - name.size(), ' ');
    line += message;
    line += '\n';
    return line;
}

void write(Level level, std::string_view message) {
    if (static_cast<int>(level) > static_cast<int>(current_level.load())) return;
    auto now = std::chrono::system_clock::now().time_since_epoch();
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
    std::string line = format_line(level, message, journal_prefixes, millis);
    std::lock_guard lock(write_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace kipvs::log
