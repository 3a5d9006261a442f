// `kipvs cleanup --from iptables|nftables` run for real (the kipvs binary,
// inside the runner's network namespace) over what kube-proxy's iptables
// mode leaves, planted with the host's iptables-restore (legacy and nft,
// IPv4 and IPv6) beside kubelet's and someone else's chains; read back with
// iptables-save.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

#include "kernel/iptables.hpp"
#include "kernel/process.hpp"

using namespace kipvs;
using namespace kipvs::kernel;
using model::Family;

namespace {

std::string kipvs_binary() {
    const char* path = std::getenv("KIPVS_BINARY");
    return path != nullptr ? path : "";
}

std::string config_file() {
    std::string path = "/tmp/kipvs-cleanup-netns.yaml";
    std::ofstream(path) << "apiVersion: kipvs.io/v1alpha1\nkind: KipvsConfiguration\n";
    return path;
}

// What kube-proxy v1.30's iptables mode writes for one ClusterIP service
// with one endpoint, plus kubelet's chains (KUBE-FIREWALL,
// KUBE-KUBELET-CANARY) and foreign ones (MY-*, KUBE-ROUTER-INPUT), which
// must survive.
std::string planted(Family family) {
    bool v4 = family == Family::v4;
    std::string vip = v4 ? "10.96.0.10" : "fd00:96::10";
    std::string ep = v4 ? "10.244.0.5" : "fd00:244::5";
    std::string ep_port = v4 ? ep + ":80" : "[" + ep + "]:80";
    return "*mangle\n"
           ":KUBE-PROXY-CANARY - [0:0]\n"
           ":KUBE-KUBELET-CANARY - [0:0]\n"
           "COMMIT\n"
           "*filter\n"
           ":KUBE-FORWARD - [0:0]\n"
           ":KUBE-SERVICES - [0:0]\n"
           ":KUBE-NODEPORTS - [0:0]\n"
           ":KUBE-EXTERNAL-SERVICES - [0:0]\n"
           ":KUBE-PROXY-FIREWALL - [0:0]\n"
           ":KUBE-FIREWALL - [0:0]\n"
           ":KUBE-ROUTER-INPUT - [0:0]\n"
           ":MY-FILTER - [0:0]\n"
           "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j "
           "KUBE-PROXY-FIREWALL\n"
           "-A INPUT -m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS\n"
           "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service "
           "portals\" -j KUBE-EXTERNAL-SERVICES\n"
           "-A INPUT -j KUBE-FIREWALL\n"
           "-A INPUT -j KUBE-ROUTER-INPUT\n"
           "-A INPUT -p tcp -m tcp --dport 22 -j MY-FILTER\n"
           "-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n"
           "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j "
           "KUBE-SERVICES\n"
           "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j "
           "KUBE-SERVICES\n"
           "-A OUTPUT -j KUBE-FIREWALL\n"
           "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n"
           "-A KUBE-FIREWALL -m mark --mark 0x8000/0x8000 -j DROP\n"
           "-A KUBE-ROUTER-INPUT -p udp -m udp --dport 4789 -j ACCEPT\n"
           "-A MY-FILTER -j ACCEPT\n"
           "COMMIT\n"
           "*nat\n"
           ":KUBE-SERVICES - [0:0]\n"
           ":KUBE-NODEPORTS - [0:0]\n"
           ":KUBE-POSTROUTING - [0:0]\n"
           ":KUBE-MARK-MASQ - [0:0]\n"
           ":KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]\n"
           ":KUBE-SEP-ABCDEF1234567890 - [0:0]\n"
           ":KUBE-FW-NPX46M4PTMTKRN6Y - [0:0]\n"
           ":MY-NAT - [0:0]\n"
           "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
           "-A PREROUTING -j MY-NAT\n"
           "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
           "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n"
           "-A POSTROUTING -o eth9 -j MASQUERADE\n"
           "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n"
           "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"
           "-A KUBE-POSTROUTING -j MASQUERADE\n"
           "-A KUBE-SERVICES -d " + vip + " -p tcp -m comment --comment \"default/web cluster IP\" -m tcp --dport 80 "
           "-j KUBE-SVC-NPX46M4PTMTKRN6Y\n"
           "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports\" -m addrtype --dst-type LOCAL -j "
           "KUBE-NODEPORTS\n"
           "-A KUBE-SVC-NPX46M4PTMTKRN6Y -j KUBE-SEP-ABCDEF1234567890\n"
           "-A KUBE-FW-NPX46M4PTMTKRN6Y -j KUBE-MARK-MASQ\n"
           "-A KUBE-SEP-ABCDEF1234567890 -s " + ep + " -j KUBE-MARK-MASQ\n"
           "-A KUBE-SEP-ABCDEF1234567890 -p tcp -m tcp -j DNAT --to-destination " + ep_port + "\n"
           "-A MY-NAT -p tcp -m tcp --dport 8080 -j REDIRECT --to-ports 80\n"
           "COMMIT\n";
}

// iptables-save's rules and chain names, without comments or counters.
std::string saved(const IptablesTools& tools) {
    auto out = run_process({tools.save});
    REQUIRE(out.exit_code == 0);
    std::string text = std::regex_replace(out.out, std::regex("^#.*\\n", std::regex::multiline), "");
    return std::regex_replace(text, std::regex(" \\[[0-9]+:[0-9]+\\]"), "");
}

// Every chain name of kube-proxy's iptables mode left in a save.
std::vector<std::string> kube_proxy_chains_in(const std::string& text) {
    std::vector<std::string> found;
    std::regex chain(":(KUBE-[A-Z0-9-]+) ");  // a declaration, counters stripped or not
    for (auto it = std::sregex_iterator(text.begin(), text.end(), chain); it != std::sregex_iterator(); ++it) {
        std::string name = (*it)[1];
        if (name != "KUBE-FIREWALL" && name != "KUBE-KUBELET-CANARY" && name != "KUBE-ROUTER-INPUT")
            found.push_back(name);
    }
    return found;
}

struct Combo {
    const char* backend;
    Family family;
};
const Combo combos[] = {{"legacy", Family::v4}, {"nft", Family::v4}, {"legacy", Family::v6}, {"nft", Family::v6}};

}  // namespace

TEST_CASE("cleanup --from iptables removes iptables mode's chains on both backends and families", "[cleanup]") {
    REQUIRE_FALSE(kipvs_binary().empty());  // meson sets KIPVS_BINARY
    for (const auto& c : combos) {
        INFO(c.backend << " " << model::family_name(c.family));
        ExecIptables iptables(find_iptables(c.family, c.backend));
        iptables.restore(planted(c.family));
        REQUIRE(kube_proxy_chains_in(saved(iptables.tools())).size() == 13);
    }

    auto run = run_process({kipvs_binary(), "--config", config_file(), "cleanup", "--from", "iptables"});
    INFO("stdout:\n" << run.out << "stderr:\n" << run.err);
    CHECK(run.exit_code == 0);
    CHECK(run.out.find("removed IPv4 legacy nat KUBE-SVC-NPX46M4PTMTKRN6Y\n") != std::string::npos);
    CHECK(run.out.find("removed IPv6 nft filter jump INPUT -> KUBE-NODEPORTS\n") != std::string::npos);

    for (const auto& c : combos) {
        INFO(c.backend << " " << model::family_name(c.family));
        std::string after = saved(find_iptables(c.family, c.backend));
        CHECK(kube_proxy_chains_in(after).empty());
        CHECK(after.find("kubernetes") == std::string::npos);
        // kubelet's and the foreign chains and rules, untouched.
        for (const char* line : {":KUBE-KUBELET-CANARY -\n", ":KUBE-FIREWALL -\n", ":KUBE-ROUTER-INPUT -\n",
                                 ":MY-FILTER -\n", ":MY-NAT -\n", "-A INPUT -j KUBE-FIREWALL\n",
                                 "-A INPUT -j KUBE-ROUTER-INPUT\n", "-A INPUT -p tcp -m tcp --dport 22 -j MY-FILTER\n",
                                 "-A OUTPUT -j KUBE-FIREWALL\n",
                                 "-A KUBE-FIREWALL -m mark --mark 0x8000/0x8000 -j DROP\n",
                                 "-A KUBE-ROUTER-INPUT -p udp -m udp --dport 4789 -j ACCEPT\n", "-A MY-FILTER -j ACCEPT\n",
                                 "-A PREROUTING -j MY-NAT\n", "-A POSTROUTING -o eth9 -j MASQUERADE\n",
                                 "-A MY-NAT -p tcp -m tcp --dport 8080 -j REDIRECT --to-ports 80\n"})
            CHECK_THAT(after, Catch::Contains(line));
    }

    // A second run finds nothing of kube-proxy's left.
    auto again = run_process({kipvs_binary(), "--config", config_file(), "cleanup", "--from", "iptables"});
    CHECK(again.exit_code == 0);
    CHECK(again.out.find("removed") == std::string::npos);
}

TEST_CASE("cleanup --from iptables keeps a kube-proxy chain a foreign chain still jumps to", "[cleanup]") {
    REQUIRE_FALSE(kipvs_binary().empty());  // meson sets KIPVS_BINARY
    ExecIptables iptables(find_iptables(Family::v4, "nft"));
    iptables.restore("*nat\n:KUBE-EXT-KEEP - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-SVC-GONE - [0:0]\n:MY-LB - [0:0]\n"
                     "-A PREROUTING -j MY-LB\n-A MY-LB -d 203.0.113.7/32 -j KUBE-EXT-KEEP\n"
                     "-A KUBE-EXT-KEEP -j KUBE-MARK-MASQ\n-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n"
                     "-A KUBE-SVC-GONE -j KUBE-MARK-MASQ\nCOMMIT\n");
    auto run = run_process({kipvs_binary(), "--config", config_file(), "cleanup", "--from", "iptables"});
    INFO("stdout:\n" << run.out << "stderr:\n" << run.err);
    CHECK(run.exit_code == 0);
    CHECK(run.out.find("kept IPv4 nft nat KUBE-EXT-KEEP: the foreign chain MY-LB jumps to it\n") != std::string::npos);
    std::string after = saved(iptables.tools());
    CHECK(after.find("-A MY-LB -d 203.0.113.7/32 -j KUBE-EXT-KEEP\n") != std::string::npos);
    CHECK(after.find("-A KUBE-EXT-KEEP -j KUBE-MARK-MASQ\n") != std::string::npos);
    CHECK(after.find("-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n") != std::string::npos);
    CHECK(after.find("KUBE-SVC-GONE") == std::string::npos);
}

TEST_CASE("cleanup --from nftables without nft says what it could not do", "[cleanup]") {
    REQUIRE_FALSE(kipvs_binary().empty());  // meson sets KIPVS_BINARY
    if (run_process({"sh", "-c", "command -v nft"}).exit_code == 0) {
        WARN("nft is installed: the missing-nft case is not checked here");
        return;
    }
    auto run = run_process({kipvs_binary(), "--config", config_file(), "cleanup", "--from", "nftables"});
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("nftables mode's tables (ip/ip6 kube-proxy) not checked") != std::string::npos);
    CHECK(run.err.find("nft delete table ip kube-proxy") != std::string::npos);
}

TEST_CASE("cleanup --from needs iptables or nftables", "[cleanup]") {
    REQUIRE_FALSE(kipvs_binary().empty());  // meson sets KIPVS_BINARY
    auto run = run_process({kipvs_binary(), "--config", config_file(), "cleanup", "--from", "ipvs"});
    CHECK(run.exit_code == 2);
    CHECK(run.err.find("kube-proxy's other modes are iptables and nftables") != std::string::npos);
}

TEST_CASE("cleanup --from nftables deletes only kube-proxy's tables through nft", "[cleanup]") {
    REQUIRE_FALSE(kipvs_binary().empty());
    // The host has no nft: a stand-in on PATH that lists tables as nft does
    // and records what it is asked to delete.
    std::string dir = "/tmp/kipvs-cleanup-nft";
    run_process({"rm", "-rf", dir});
    run_process({"mkdir", "-p", dir});
    std::ofstream(dir + "/nft") << "#!/bin/sh\n"
                                   "echo \"$*\" >>" << dir << "/calls\n"
                                   "[ \"$*\" = 'list tables' ] && printf 'table inet filter\\ntable ip kube-proxy\\n"
                                   "table ip6 kube-proxy\\ntable ip kube-proxy-other\\n'\n"
                                   "exit 0\n";
    REQUIRE(run_process({"chmod", "+x", dir + "/nft"}).exit_code == 0);
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/sbin:/usr/bin:/sbin:/bin";
    auto run = run_process({"env", "PATH=" + dir + ":" + path, kipvs_binary(), "--config", config_file(), "cleanup",
                            "--from", "nftables"});
    INFO("stdout:\n" << run.out << "stderr:\n" << run.err);
    CHECK(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Contains("removed nftables table ip kube-proxy\n"));
    CHECK_THAT(run.out, Catch::Contains("removed nftables table ip6 kube-proxy\n"));
    std::ifstream calls(dir + "/calls");
    std::string all((std::istreambuf_iterator<char>(calls)), std::istreambuf_iterator<char>());
    CHECK(all == "list tables\ndelete table ip kube-proxy\ndelete table ip6 kube-proxy\n");
}
