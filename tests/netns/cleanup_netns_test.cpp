// `kipvs cleanup --from iptables|nftables` run for real (the kipvs binary,
// inside the runner's network namespace) over what kube-proxy's iptables
// mode leaves, planted with the host's iptables-restore (legacy and nft,
// IPv4 and IPv6) beside kubelet's and someone else's chains; read back with
// iptables-save. And over what its nftables mode leaves, planted with the
// real nft in a namespace of each test's own, read back with nft.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernel/iptables.hpp"
#include "kernel/process.hpp"
#include "kernel/unique_fd.hpp"

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

TEST_CASE("cleanup --from needs iptables or nftables", "[cleanup]") {
    REQUIRE_FALSE(kipvs_binary().empty());  // meson sets KIPVS_BINARY
    auto run = run_process({kipvs_binary(), "--config", config_file(), "cleanup", "--from", "ipvs"});
    CHECK(run.exit_code == 2);
    CHECK(run.err.find("kube-proxy's other modes are iptables and nftables") != std::string::npos);
}

// --- kube-proxy's nftables mode, with the real nft ---------------------------

extern char** environ;

namespace {

// A network namespace of the test's own, so that the nftables ruleset is
// exactly what the test planted (the runner's holds the iptables-nft tables
// of the cases above); the runner's is back when it goes.
class FreshNetns {
public:
    FreshNetns() : previous_(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) {
        if (previous_.get() < 0) FAIL("open /proc/self/ns/net: " << std::strerror(errno));
        if (unshare(CLONE_NEWNET) != 0) FAIL("unshare(CLONE_NEWNET): " << std::strerror(errno));
    }
    ~FreshNetns() {
        if (setns(previous_.get(), CLONE_NEWNET) != 0)
            std::fprintf(stderr, "setns back to the runner's namespace: %s\n", std::strerror(errno));
    }
    FreshNetns(const FreshNetns&) = delete;
    FreshNetns& operator=(const FreshNetns&) = delete;

private:
    UniqueFd previous_;
};

bool have_nft() { return run_process({"sh", "-c", "command -v nft"}).exit_code == 0; }

std::string nft(const std::vector<std::string>& args, const std::string& input = "") {
    std::vector<std::string> argv{"nft"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run_process(argv, input);
    INFO("nft " << args.front() << " ...: " << result.err);
    REQUIRE(result.exit_code == 0);
    return result.out;
}

ProcessResult kipvs_cleanup(const std::vector<std::string>& args, const std::string& path = "") {
    std::vector<std::string> argv;
    if (!path.empty()) argv = {"env", "PATH=" + path};
    argv.insert(argv.end(), {kipvs_binary(), "--config", config_file(), "cleanup"});
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
}

// What kube-proxy's nftables mode keeps in its IPv4 table for one ClusterIP
// and NodePort service with one endpoint, and one service without endpoints:
// its hook chains, the services dispatch through verdict maps, the
// per-service and per-endpoint chains, masquerading, the endpoint check.
std::string kube_proxy_v4() {
    return R"(table ip kube-proxy {
    comment "rules for kube-proxy"
    set cluster-ips {
        type ipv4_addr
        elements = { 10.96.0.10, 10.96.0.11 }
    }
    set nodeport-ips {
        type ipv4_addr
        elements = { 192.0.2.4 }
    }
    map service-ips {
        type ipv4_addr . inet_proto . inet_service : verdict
    }
    map service-nodeports {
        type inet_proto . inet_service : verdict
    }
    map no-endpoint-services {
        type ipv4_addr . inet_proto . inet_service : verdict
        elements = { 10.96.0.11 . tcp . 80 : goto reject-chain }
    }
    chain mark-for-masquerade {
        meta mark set meta mark | 0x4000
    }
    chain masquerading {
        meta mark & 0x4000 == 0 return
        meta mark set meta mark ^ 0x4000
        masquerade fully-random
    }
    chain endpoint-5OJB2KTY-default/web/tcp/__10.244.0.5/80 {
        ip saddr 10.244.0.5 jump mark-for-masquerade
        meta l4proto tcp dnat to 10.244.0.5:80
    }
    chain service-ULMVA6XW-default/web/tcp/http {
        ip daddr 10.96.0.10 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
        numgen random mod 1 vmap { 0 : goto endpoint-5OJB2KTY-default/web/tcp/__10.244.0.5/80 }
    }
    chain services {
        ip daddr . meta l4proto . th dport vmap @service-ips
        ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
    }
    chain reject-chain {
        reject
    }
    chain service-endpoints-check {
        ip daddr . meta l4proto . th dport vmap @no-endpoint-services
    }
    chain filter-input {
        type filter hook input priority -110; policy accept;
        ct state new jump service-endpoints-check
    }
    chain nat-prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        jump services
    }
    chain nat-output {
        type nat hook output priority -100; policy accept;
        jump services
    }
    chain nat-postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        jump masquerading
    }
}
add element ip kube-proxy service-ips { 10.96.0.10 . tcp . 80 : goto service-ULMVA6XW-default/web/tcp/http }
add element ip kube-proxy service-nodeports { tcp . 30080 : goto service-ULMVA6XW-default/web/tcp/http }
)";
}

std::string kube_proxy_v6() {
    return R"(table ip6 kube-proxy {
    comment "rules for kube-proxy"
    set cluster-ips {
        type ipv6_addr
        elements = { fd00:96::10 }
    }
    map service-ips {
        type ipv6_addr . inet_proto . inet_service : verdict
    }
    chain mark-for-masquerade {
        meta mark set meta mark | 0x4000
    }
    chain service-ULMVA6XW-default/web/tcp/http {
        ip6 daddr fd00:96::10 tcp dport 80 ip6 saddr != fd00:244::/64 jump mark-for-masquerade
        meta l4proto tcp dnat to [fd00:244::5]:80
    }
    chain services {
        ip6 daddr . meta l4proto . th dport vmap @service-ips
    }
    chain nat-prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        jump services
    }
}
add element ip6 kube-proxy service-ips { fd00:96::10 . tcp . 80 : goto service-ULMVA6XW-default/web/tcp/http }
)";
}

// Tables that are not kube-proxy's nftables mode's, some named like it.
const char* const host_firewall = R"(table inet filter {
    set trusted {
        type ipv4_addr
        flags interval
        elements = { 192.0.2.0/24 }
    }
    chain input {
        type filter hook input priority filter; policy accept;
        ct state established,related accept
        ip saddr @trusted tcp dport 22 accept
    }
}
)";
const char* const other_kube_proxy = R"(table ip kube-proxy-other {
    chain services {
        ip daddr 10.96.0.10 counter
    }
}
)";
const char* const inet_kube_proxy = R"(table inet kube-proxy {
    comment "kube-proxy's name in a family its nftables mode does not use"
    chain filter-input {
        type filter hook input priority -110; policy accept;
    }
}
)";
const char* const kube_proxy_x = R"(table ip6 kube-proxy-x {
    map service-ips {
        type ipv6_addr . inet_proto . inet_service : verdict
    }
}
)";
const char* const flannel = R"(table ip flannel-ipv4 {
    chain postrtg {
        type nat hook postrouting priority srcnat; policy accept;
        ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 masquerade
    }
}
)";

// kubelet's chains, which it writes with iptables-nft: nftables tables
// ip/ip6 mangle and filter.
void plant_kubelet() {
    for (auto family : {Family::v4, Family::v6})
        ExecIptables(find_iptables(family, "nft"))
            .restore("*mangle\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n"
                     "*filter\n:KUBE-FIREWALL - [0:0]\n-A INPUT -j KUBE-FIREWALL\n"
                     "-A KUBE-FIREWALL -m mark --mark 0x8000/0x8000 -j DROP\nCOMMIT\n");
}

struct ListedTable {
    std::string name;  // "ip kube-proxy"
    std::string text;  // its lines as `nft list ruleset` prints them
};

std::vector<ListedTable> tables_in(const std::string& ruleset) {
    std::vector<ListedTable> tables;
    bool closed = true;
    std::istringstream in(ruleset);
    for (std::string line; std::getline(in, line);) {
        if (closed) tables.push_back({});
        closed = line == "}";
        tables.back().text += line + "\n";
        if (line.rfind("table ", 0) == 0) tables.back().name = line.substr(6, line.rfind(" {") - 6);
    }
    return tables;
}

std::vector<std::string> names(const std::vector<ListedTable>& tables) {
    std::vector<std::string> out;
    for (const auto& t : tables) out.push_back(t.name);
    return out;
}

bool is_kube_proxy_table(const std::string& name) { return name == "ip kube-proxy" || name == "ip6 kube-proxy"; }

std::string path_without_nft() {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
    std::string kept;
    for (std::string dir; std::getline(dirs, dir, ':');)
        if (!dir.empty() && ::access((dir + "/nft").c_str(), X_OK) != 0) kept += (kept.empty() ? "" : ":") + dir;
    return kept;
}

// A table with nftables' owner flag, made by an `nft -i` session of the
// test's: the kernel refuses to delete it from any other socket (EPERM) and
// drops it when the session ends. A real reason for `nft delete table` to fail.
class OwnedTable {
public:
    explicit OwnedTable(const std::string& table) {
        int fds[2];
        REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
        UniqueFd session_stdin(fds[0]);
        input_ = UniqueFd(fds[1]);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, session_stdin.get(), 0);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        char nft_name[] = "nft", interactive[] = "-i";
        char* argv[] = {nft_name, interactive, nullptr};
        int rc = posix_spawnp(&pid_, "nft", &actions, nullptr, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        REQUIRE(rc == 0);
        std::string command = "add table " + table + " { flags owner; }\n";
        REQUIRE(::write(input_.get(), command.data(), command.size()) == static_cast<ssize_t>(command.size()));
        for (int i = 0; i < 100 && !listed(table); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        REQUIRE(listed(table));
    }
    ~OwnedTable() { end(); }
    OwnedTable(const OwnedTable&) = delete;
    OwnedTable& operator=(const OwnedTable&) = delete;

    void end() {
        input_.reset();  // nft -i exits at the end of its input
        if (pid_ > 0) waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    static bool listed(const std::string& table) {
        auto names_now = names(tables_in(nft({"list", "ruleset"})));
        return std::find(names_now.begin(), names_now.end(), table) != names_now.end();
    }

private:
    UniqueFd input_;
    pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("cleanup --from nftables deletes kube-proxy's two tables and leaves every other byte", "[cleanup]") {
    REQUIRE_FALSE(kipvs_binary().empty());  // meson sets KIPVS_BINARY
    if (!have_nft()) FAIL("nft not found: scripts/setup installs nftables");
    FreshNetns netns;
    plant_kubelet();
    for (const std::string& table : {std::string(host_firewall), kube_proxy_v4(), std::string(other_kube_proxy),
                                     kube_proxy_v6(), std::string(inet_kube_proxy), std::string(kube_proxy_x),
                                     std::string(flannel)})
        nft({"-f", "-"}, table);
    std::string before = nft({"list", "ruleset"});
    auto listed = tables_in(before);
    auto planted_names = names(listed);
    std::sort(planted_names.begin(), planted_names.end());
    REQUIRE(planted_names == std::vector<std::string>{"inet filter", "inet kube-proxy", "ip filter", "ip flannel-ipv4",
                                                      "ip kube-proxy", "ip kube-proxy-other", "ip mangle",
                                                      "ip6 filter", "ip6 kube-proxy", "ip6 kube-proxy-x", "ip6 mangle"});
    REQUIRE_THAT(before, Catch::Contains("elements = { 10.96.0.10 . tcp . 80 : goto service-ULMVA6XW-default/web/tcp/http }"));
    std::string expected;
    for (const auto& t : listed)
        if (!is_kube_proxy_table(t.name)) expected += t.text;

    // cleanup has no dry run: asking for one changes nothing.
    auto dry = kipvs_cleanup({"--from", "nftables", "--dry-run"});
    CHECK(dry.exit_code == 2);
    CHECK(nft({"list", "ruleset"}) == before);

    auto run = kipvs_cleanup({"--from", "nftables"});
    INFO("stdout:\n" << run.out << "stderr:\n" << run.err);
    CHECK(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Contains("removed nftables table ip kube-proxy\n"));
    CHECK_THAT(run.out, Catch::Contains("removed nftables table ip6 kube-proxy\n"));
    CHECK(std::regex_replace(run.out, std::regex("removed nftables table ip6? kube-proxy\\n"), "")
              .find("nftables") == std::string::npos);
    std::string after = nft({"list", "ruleset"});
    CHECK(after == expected);
    for (const auto& t : tables_in(after)) CHECK_FALSE(is_kube_proxy_table(t.name));

    // Again: nothing of kube-proxy's is left, and it says so.
    auto again = kipvs_cleanup({"--from", "nftables"});
    INFO("second run stdout:\n" << again.out << "stderr:\n" << again.err);
    CHECK(again.exit_code == 0);
    CHECK(again.out.find("nftables") == std::string::npos);
    CHECK_THAT(again.err, Catch::Contains("nftables mode: no table ip kube-proxy or ip6 kube-proxy to remove\n"));
    CHECK(nft({"list", "ruleset"}) == expected);
}

TEST_CASE("cleanup --from nftables reports a table nft cannot delete in one log line and removes the other",
          "[cleanup]") {
    REQUIRE_FALSE(kipvs_binary().empty());  // meson sets KIPVS_BINARY
    if (!have_nft()) FAIL("nft not found: scripts/setup installs nftables");
    FreshNetns netns;
    nft({"-f", "-"}, kube_proxy_v6());
    OwnedTable held("ip kube-proxy");

    auto run = kipvs_cleanup({"--from", "nftables"});
    INFO("stdout:\n" << run.out << "stderr:\n" << run.err);
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.out, Catch::Contains("removed nftables table ip6 kube-proxy\n"));
    CHECK(run.out.find("removed nftables table ip kube-proxy\n") == std::string::npos);
    CHECK_THAT(run.err,
               Catch::Contains("cleanup: nft delete table ip kube-proxy: Error: Could not process rule: "
                               "Operation not permitted\n"));
    // Every stderr line is a log record: nft's echo of the command and its
    // caret line stay out.
    std::istringstream lines(run.err);
    for (std::string line; std::getline(lines, line);)
        CHECK(std::regex_search(line, std::regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z [a-z]+ ")));
    CHECK(names(tables_in(nft({"list", "ruleset"}))) == std::vector<std::string>{"ip kube-proxy"});

    // The kernel held it for its owner: once that session ends it is gone,
    // and cleanup has nothing left to fail on.
    held.end();
    CHECK_FALSE(OwnedTable::listed("ip kube-proxy"));
    auto again = kipvs_cleanup({"--from", "nftables"});
    INFO("second run stderr:\n" << again.err);
    CHECK(again.exit_code == 0);
}

TEST_CASE("cleanup --from nftables without nft on PATH says what it could not do", "[cleanup]") {
    REQUIRE_FALSE(kipvs_binary().empty());  // meson sets KIPVS_BINARY
    if (!have_nft()) FAIL("nft not found: scripts/setup installs nftables");
    FreshNetns netns;
    nft({"-f", "-"}, kube_proxy_v4());
    std::string before = nft({"list", "ruleset"});
    std::string path = path_without_nft();
    REQUIRE(run_process({"env", "PATH=" + path, "sh", "-c", "command -v nft"}).exit_code != 0);

    auto run = kipvs_cleanup({"--from", "nftables"}, path);
    INFO("stdout:\n" << run.out << "stderr:\n" << run.err);
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("nftables mode's tables (ip/ip6 kube-proxy) not checked"));
    CHECK_THAT(run.err, Catch::Contains("nft delete table ip kube-proxy"));
    CHECK(nft({"list", "ruleset"}) == before);
}
