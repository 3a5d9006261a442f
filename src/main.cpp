// kipvs: kube-proxy's IPVS mode as one static binary. This file only parses
// the global options and dispatches to a verb.
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "error.hpp"
#include "log/log.hpp"

using namespace kipvs;

int main(int argc, char** argv) {
    // A helper process (iptables-restore) or a peer closing early must be an
    // error to handle, not a signal that ends kipvs.
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string> args(argv + 1, argv + argc);
    cli::GlobalOptions global;
    std::vector<std::string> rest;
    const cli::Verb* verb = nullptr;
    bool help = false;
    try {
        for (std::size_t i = 0; i < args.size(); ++i) {
            const std::string& a = args[i];
            auto value_of = [&](const std::string& name) {
                if (a.size() > name.size() && a[name.size()] == '=') return a.substr(name.size() + 1);
                if (i + 1 >= args.size()) throw ConfigError(name + " needs a value");
                return args[++i];
            };
            if (a == "--config" || a.rfind("--config=", 0) == 0) {
                global.config_path = value_of("--config");
                global.config_explicit = true;
            } else if (a == "--log-level" || a.rfind("--log-level=", 0) == 0) {
                std::string level = value_of("--log-level");
                auto parsed = log::parse_level(level);
                if (!parsed) throw ConfigError("--log-level: \"" + level + "\" is not one of error, warning, info, debug");
                log::set_level(*parsed);
            } else if ((a == "--help" || a == "-h") && !verb) {
                help = true;
            } else if (!verb && a.rfind("-", 0) != 0) {
                for (const auto& v : cli::verbs())
                    if (v.name == a) verb = &v;
                if (!verb) throw ConfigError("unknown verb \"" + a + "\"; see kipvs --help");
            } else {
                rest.push_back(a);
            }
        }
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "kipvs: %s\n", e.what());
        return cli::exit_usage;
    }
    if (!verb) {
        std::fputs(cli::general_usage().c_str(), help ? stdout : stderr);
        return help ? cli::exit_ok : cli::exit_usage;
    }
    for (const auto& a : rest) {
        if (a == "--help" || a == "-h") {
            std::fputs(verb->usage.c_str(), stdout);
            return cli::exit_ok;
        }
    }
    try {
        return verb->run(global, rest);
    } catch (const ConfigError& e) {
        log::error(e.what());
        return cli::exit_usage;
    } catch (const std::exception& e) {
        log::error(e.what());
        return cli::exit_failure;
    }
}
