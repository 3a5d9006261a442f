#include <cstdio>

#include "cli/cli.hpp"

namespace kipvs::cli {
namespace {

// A verb whose capability has not landed yet says so instead of pretending.
template <const char* Name>
int unavailable(const GlobalOptions&, const std::vector<std::string>&) {
    std::fprintf(stderr, "kipvs %s: not available in this build yet\n", Name);
    return exit_unavailable;
}

constexpr char run_name[] = "run";
constexpr char plan_name[] = "plan";
constexpr char cleanup_name[] = "cleanup";

const char* const common_options =
    "Global options:\n"
    "  --config PATH       configuration file (default /etc/kipvs.yaml)\n"
    "  --log-level LEVEL   error, warning, info (default) or debug\n";

}  // namespace

const std::vector<Verb>& verbs() {
    static const std::vector<Verb> table = {
        {"run", "program the kernel and keep it in sync with the cluster",
         "Usage: kipvs run [--once] [--dry-run] [kube-proxy flags]\n\n"
         "Watches Services and EndpointSlices (or kipvs.manifests) and keeps IPVS,\n"
         "ipsets, kube-ipvs0, iptables rules and sysctls in sync.\n"
         "  --once       one sync, then exit\n"
         "  --dry-run    read the kernel, log the operations it would apply, change nothing\n"
         "kube-proxy flags honoured (override the file): --proxy-mode, --ipvs-scheduler,\n"
         "  --ipvs-sync-period, --ipvs-min-sync-period, --ipvs-exclude-cidrs, --ipvs-strict-arp,\n"
         "  --ipvs-tcp-timeout, --ipvs-tcpfin-timeout, --ipvs-udp-timeout, --cluster-cidr,\n"
         "  --hostname-override, --nodeport-addresses, --kubeconfig, --healthz-bind-address,\n"
         "  --metrics-bind-address, --masquerade-all\n",
         unavailable<run_name>},
        {"check", "validate the configuration and credentials, report on the host",
         "Usage: kipvs check [--strict] [--context NAME] [kube-proxy flags]\n\n"
         "Validates the configuration file and the kubeconfig, prints the effective\n"
         "configuration (defaults filled in) and reports host facts as warnings.\n"
         "Exits 2 for an error in a file it reads; host facts fail it only with --strict.\n"
         "  --strict          warnings make the check fail (exit 1)\n"
         "  --context NAME    kubeconfig context to use instead of current-context\n",
         run_check},
        {"plan", "print the desired kernel state computed from the sources",
         "Usage: kipvs plan [--format save|ipvsadm|json] [--follow]\n", unavailable<plan_name>},
        {"dump", "print what the kernel holds",
         "Usage: kipvs dump [--format ipvsadm|json|save]\n\n"
         "Prints the kernel's IPVS table (needs CAP_NET_ADMIN and the ip_vs module).\n"
         "  --format ipvsadm   the lines `ipvsadm -S -n` prints (default)\n"
         "  --format json      for machines\n"
         "  --format save      the whole state: not available in this build yet (exit 3)\n",
         run_dump},
        {"cleanup", "remove what IPVS mode created, and nothing else",
         "Usage: kipvs cleanup [--from iptables|nftables]\n", unavailable<cleanup_name>},
        {"modules", "load the IPVS kernel modules",
         "Usage: kipvs modules load [NAME...]\n\n"
         "Loads kernel modules without modprobe, from /lib/modules/$(uname -r) or\n"
         "kipvs.modules.directory, dependencies first. Without names: kipvs.modules.names\n"
         "(default ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack), dummy and the\n"
         "scheduler's module. A NAME may carry parameters: 'ip_vs conn_tab_bits=18'.\n"
         "Prints one line per module; exits 1 if any failed.\n",
         run_modules},
        {"version", "print the version and what the binary was built with",
         "Usage: kipvs version\n", run_version},
    };
    return table;
}

std::string general_usage() {
    std::string out =
        "kipvs: kube-proxy's IPVS mode as one static binary\n\n"
        "Usage: kipvs [global options] VERB [options]\n\nVerbs:\n";
    for (const auto& v : verbs()) {
        out += "  " + v.name + std::string(10 - v.name.size(), ' ') + v.summary + "\n";
    }
    out += "\n";
    out += common_options;
    out += "\nExit codes: 0 success, 1 runtime failure, 2 usage or configuration error,\n"
           "3 not available in this build.\n"
           "See kipvs VERB --help for a verb's options.\n";
    return out;
}

}  // namespace kipvs::cli
