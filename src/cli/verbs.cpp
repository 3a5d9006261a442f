#include <cstdio>

#include "cli/cli.hpp"

namespace kipvs::cli {
namespace {

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
         run_run},
        {"check", "validate the configuration and credentials, report on the host",
         "Usage: kipvs check [--strict] [--context NAME] [--offline] [--wait DURATION]\n"
         "                   [kube-proxy flags]\n\n"
         "Validates the configuration file and the kubeconfig, prints the effective\n"
         "configuration (defaults filled in) and reports host facts as warnings. Then\n"
         "lists the sources (API server or kipvs.manifests) once and shows what\n"
         "`kipvs run` would change in the kernel (the plan diffed against `kipvs dump`).\n"
         "Exits 2 for an error in a file it reads; host facts fail it only with --strict.\n"
         "  --strict          warnings make the check fail (exit 1)\n"
         "  --context NAME    kubeconfig context to use instead of current-context\n"
         "  --offline         contact no API server and read no kernel state\n"
         "  --wait DURATION   how long the sources get for their first list (default 10s)\n",
         run_check},
        {"plan", "print the desired kernel state computed from the sources",
         "Usage: kipvs plan [--format save|ipvsadm|json] [--follow] [kube-proxy flags]\n\n"
         "Computes what `kipvs run` would program from the sources (API server or\n"
         "kipvs.manifests) and the configuration, and prints it; the kernel is not\n"
         "touched. Both IPv4 and IPv6 are planned. Without CAP_NET_ADMIN the node's\n"
         "addresses cannot be read: the plan then has no NodePort virtual servers.\n"
         "  --format save      (default) the IPVS table as `ipvsadm -S -n`, the ipsets as\n"
         "                     `ipset save`, kube-ipvs0's addresses one per line, and\n"
         "                     kipvs's rules as `iptables-save`, each part after a # line\n"
         "  --format ipvsadm   the IPVS part only\n"
         "  --format json      all of it, for machines\n"
         "  --follow           keep watching; print each change as \"# change at TIME: WHAT\"\n"
         "                     and the changed lines (+ added, - removed); with json, the\n"
         "                     whole document again. Stops on SIGINT or SIGTERM.\n"
         "kube-proxy flags are those of kipvs run.\n",
         run_plan},
        {"dump", "print what the kernel holds",
         "Usage: kipvs dump [--format save|ipvsadm|json]\n\n"
         "Prints what the kernel holds of IPVS mode, in the formats of kipvs plan, so\n"
         "the two can be diffed (needs CAP_NET_ADMIN and the ip_vs module).\n"
         "  --format save      (default) the IPVS table as `ipvsadm -S -n`, kube-proxy's\n"
         "                     ipsets as `ipset save`, kube-ipvs0's addresses one per line,\n"
         "                     and kipvs's chains and jump rules as `iptables-save`\n"
         "  --format ipvsadm   the IPVS part only\n"
         "  --format json      all of it, for machines\n"
         "A family whose iptables is not installed is left out with a warning.\n",
         run_dump},
        {"cleanup", "remove what IPVS mode created, and nothing else",
         "Usage: kipvs cleanup [--from iptables|nftables]...\n\n"
         "Removes the virtual servers on kube-ipvs0's addresses and the NodePorts on node\n"
         "addresses (30000-32767), never one inside ipvs.excludeCIDRs or on any other\n"
         "address; kipvs's jump rules and chains (IPv4 and IPv6); the KUBE-* and KUBE-6-*\n"
         "sets; kube-ipvs0. Prints one line per object removed or kept.\n\n"
         "  --from iptables    also kube-proxy iptables mode's chains (KUBE-SERVICES,\n"
         "                     KUBE-SVC-*, KUBE-SEP-*, ...) and the jumps to them, IPv4\n"
         "                     and IPv6, legacy and nft backends; kubelet's chains stay\n"
         "  --from nftables    also nftables mode's tables ip/ip6 kube-proxy (needs nft)\n",
         run_cleanup},
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
