#include "kernel/ipset_libipset.hpp"

#include <libipset/ipset.h>
#include <libipset/session.h>
#include <libipset/types.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>

#include <unistd.h>

#include "error.hpp"

namespace kipvs::kernel {
namespace {

// One libipset session. Every report of the library (its parse errors and
// the kernel's refusals) is collected instead of printed, and output (for
// save and list) is captured.
class Session {
public:
    Session() {
        static std::once_flag types_loaded;
        std::call_once(types_loaded, [] { ipset_load_types(); });
        handle_.reset(ipset_init());
        if (!handle_) throw Error("ipset: cannot open a libipset session");
        ipset_custom_printf(handle_.get(), &Session::custom_error, &Session::standard_error, &Session::print, this);
    }

    // A single command outside restore mode (save, list, create, swap …).
    bool command(const std::string& line) {
        std::string copy = line;
        std::size_t before = errors.size();
        int rc = ipset_parse_line(handle_.get(), copy.data());
        if (rc < 0 && errors.size() == before) errors.push_back("failed: " + line);
        return errors.size() == before;
    }

    // Restore text: lines numbered from 1 in reports; adds and deletes to one
    // set are aggregated into as few netlink messages as the buffer allows.
    void restore(const std::string& text) {
        std::unique_ptr<FILE, decltype(&std::fclose)> stream(
            fmemopen(const_cast<char*>(text.data()), text.size(), "r"), &std::fclose);
        if (!stream) throw Error(std::string("ipset: fmemopen: ") + std::strerror(errno));
        ipset_parse_stream(handle_.get(), stream.get());
    }

    std::string output;
    std::vector<std::string> errors;

private:
    static Session& self(void* p) { return *static_cast<Session*>(p); }

    static int custom_error(struct ipset* handle, void* p, int status, const char* msg, ...) {
        (void)status;
        char buf[1024];
        va_list ap;
        va_start(ap, msg);
        std::vsnprintf(buf, sizeof buf, msg, ap);
        va_end(ap);
        self(p).errors.emplace_back(buf);
        ipset_session_report_reset(ipset_session(handle));
        return -1;
    }

    static int standard_error(struct ipset* handle, void* p) {
        struct ipset_session* session = ipset_session(handle);
        bool warning = ipset_session_report_type(session) == IPSET_WARNING;
        const char* msg = ipset_session_report_msg(session);
        if (!warning && msg && *msg) self(p).errors.emplace_back(msg);
        ipset_session_report_reset(session);
        return warning ? 0 : -1;
    }

    static int print(struct ipset_session*, void* p, const char* fmt, ...) {
        char stack[4096];
        va_list ap;
        va_start(ap, fmt);
        int n = std::vsnprintf(stack, sizeof stack, fmt, ap);
        va_end(ap);
        if (n < 0) return n;
        if (static_cast<std::size_t>(n) < sizeof stack) {
            self(p).output.append(stack, static_cast<std::size_t>(n));
        } else {
            std::string big(static_cast<std::size_t>(n) + 1, '\0');
            va_start(ap, fmt);
            std::vsnprintf(big.data(), big.size(), fmt, ap);
            va_end(ap);
            big.pop_back();
            self(p).output += big;
        }
        return n;
    }

    struct Deleter {
        void operator()(struct ipset* h) const { ipset_fini(h); }
    };
    std::unique_ptr<struct ipset, Deleter> handle_;
};

// libipset turns protocol names into numbers with getprotobyname, and musl's
// built-in protocol table has no sctp: SCTP entries go to the library by
// number and are read back by number, and kipvs's text always says "sctp".
std::string to_library(std::string entry) {
    if (auto pos = entry.find(",sctp:"); pos != std::string::npos) entry.replace(pos, 6, ",132:");
    return entry;
}

std::string from_library(std::string entry) {
    if (auto pos = entry.find(",132:"); pos != std::string::npos) entry.replace(pos, 5, ",sctp:");
    return entry;
}

std::string joined(const std::vector<std::string>& errors) {
    std::string out;
    for (const auto& e : errors) out += (out.empty() ? "" : "; ") + e;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

// "Error in line 3: …" → 3
std::size_t line_of(const std::string& message) {
    auto pos = message.find("line ");
    if (pos == std::string::npos) return 0;
    return static_cast<std::size_t>(std::strtoul(message.c_str() + pos + 5, nullptr, 10));
}

}  // namespace

LibIpset::LibIpset() = default;

std::vector<std::string> LibIpset::set_names() {
    Session s;
    if (!s.command("list -n")) throw Error("ipset: listing sets failed: " + joined(s.errors));
    std::vector<std::string> names;
    std::istringstream lines(s.output);
    for (std::string line; std::getline(lines, line);)
        if (!line.empty()) names.push_back(line);
    return names;
}

void LibIpset::ensure(const SetSpec& spec) {
    Session s;
    ++commands_sent_;
    if (s.command("create " + spec.create_arguments() + " -exist")) return;
    // A set of that name with other parameters: keep the name (iptables
    // rules may reference it) and move its content into the new parameters.
    bool exists = false;
    for (const auto& name : set_names()) exists = exists || name == spec.name;
    if (!exists) throw Error("ipset: cannot create " + spec.name + ": " + joined(s.errors));
    replace(spec, entries(spec.name));
}

std::set<std::string> LibIpset::entries(const std::string& set) {
    Session s;
    if (!s.command("save " + set)) throw Error("ipset: reading " + set + " failed: " + joined(s.errors));
    std::set<std::string> out;
    std::istringstream lines(s.output);
    const std::string prefix = "add " + set + " ";
    for (std::string line; std::getline(lines, line);)
        if (line.compare(0, prefix.size(), prefix) == 0) out.insert(from_library(line.substr(prefix.size())));
    return out;
}

std::vector<IpsetFailure> LibIpset::change(const std::string& set, const std::vector<IpsetChange>& changes) {
    if (changes.empty()) return {};
    std::string script;
    script.reserve(changes.size() * (set.size() + 40));
    for (const auto& c : changes) {
        script += c.kind == IpsetChange::Kind::add ? "add " : "del ";
        script += set;
        script += ' ';
        script += to_library(c.entry);
        script += " -exist\n";
    }
    Session s;
    commands_sent_ += changes.size();
    s.restore(script);
    std::vector<IpsetFailure> failures;
    for (const auto& message : s.errors) {
        std::size_t line = line_of(message);
        std::string entry = line >= 1 && line <= changes.size() ? changes[line - 1].entry : "";
        failures.push_back({set, entry, message});
    }
    return failures;
}

void LibIpset::replace(const SetSpec& spec, const std::set<std::string>& entries) {
    SetSpec temporary = spec;
    temporary.name = "kipvs-swap-" + std::to_string(getpid() % 100000) + "-" + std::to_string(swap_counter_++);
    if (temporary.maxelem < entries.size()) temporary.maxelem = static_cast<unsigned>(entries.size());
    std::string script = "create " + temporary.create_arguments() + "\n";
    for (const auto& e : entries) script += "add " + temporary.name + " " + to_library(e) + "\n";
    Session s;
    commands_sent_ += entries.size() + 1;
    s.restore(script);
    if (!s.errors.empty()) {
        Session cleanup;
        cleanup.command("destroy " + temporary.name);
        throw Error("ipset: filling a replacement for " + spec.name + " failed: " + joined(s.errors));
    }
    Session swap;
    commands_sent_ += 2;
    bool exists = false;
    for (const auto& name : set_names()) exists = exists || name == spec.name;
    std::string verb = exists ? "swap " + temporary.name + " " + spec.name : "rename " + temporary.name + " " + spec.name;
    if (!swap.command(verb)) {
        swap.command("destroy " + temporary.name);
        throw Error("ipset: " + verb + " failed: " + joined(swap.errors));
    }
    if (exists && !swap.command("destroy " + temporary.name))
        throw Error("ipset: destroying the replaced content of " + spec.name + " failed: " + joined(swap.errors));
}

void LibIpset::destroy(const std::string& set) {
    Session s;
    ++commands_sent_;
    if (!s.command("destroy " + set)) {
        std::string why = joined(s.errors);
        if (why.find("does not exist") != std::string::npos) return;  // already gone: the goal is met
        throw Error("ipset: destroying " + set + " failed: " + why);
    }
}

}  // namespace kipvs::kernel
