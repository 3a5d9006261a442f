#pragma once
// One log format for every line kipvs writes to stderr:
//   2026-11-23T14:08:13.123Z info    message
// Under systemd (JOURNAL_STREAM naming stderr) each line starts with its syslog
// priority, e.g. "<6>", so journald keeps the level.
#include <optional>
#include <string>
#include <string_view>

namespace kipvs::log {

enum class Level { error = 3, warning = 4, info = 6, debug = 7 };

std::optional<Level> parse_level(std::string_view name);
std::string_view level_name(Level level);

void set_level(Level level);
Level level();
// Decided once at start from the environment; tests may override it.
void set_journal_prefixes(bool enabled);
// Whether $JOURNAL_STREAM ("device:inode", set by systemd) names the file
// with this device and inode, i.e. stderr still goes to the journal and was
// not redirected by whoever started kipvs.
bool is_journal_stream(std::string_view journal_stream, unsigned long long device, unsigned long long inode);

void write(Level level, std::string_view message);
inline void error(std::string_view m) { write(Level::error, m); }
inline void warning(std::string_view m) { write(Level::warning, m); }
inline void info(std::string_view m) { write(Level::info, m); }
inline void debug(std::string_view m) { write(Level::debug, m); }

// Renders a line without writing it (for tests and for other sinks).
std::string format_line(Level level, std::string_view message, bool journal_prefix,
                        long long unix_millis);

}  // namespace kipvs::log
