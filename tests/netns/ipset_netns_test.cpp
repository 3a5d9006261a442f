// libipset against the host kernel's real ipsets, read back with the
// independent `ipset save`.
#include <catch2/catch.hpp>

#include <cstdio>
#include <memory>
#include <sstream>

#include "error.hpp"
#include "kernel/ipset_libipset.hpp"
#include "kernel/ipset_sync.hpp"
#include "kernel/kube_sets.hpp"
#include "netlink_counter.hpp"

using namespace kipvs;
using namespace kipvs::kernel;
using model::Family;

namespace {

std::string run(const std::string& command) {
    std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(command.c_str(), "r"), &pclose);
    REQUIRE(pipe);
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
    return out;
}

// What `ipset save SET` says: the create line without its random initval,
// and the entries.
struct Saved {
    std::string header;
    std::set<std::string> entries;
};

Saved saved(const std::string& set) {
    Saved s;
    std::istringstream lines(run("ipset save " + set + " 2>&1"));
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("create ", 0) == 0) {
            s.header = line.substr(0, line.find(" bucketsize"));
        } else if (line.rfind("add ", 0) == 0) {
            s.entries.insert(line.substr(5 + set.size()));
        }
    }
    return s;
}

std::set<std::string> sample_entries(SetType type, Family family) {
    bool v4 = family == Family::v4;
    std::string a = v4 ? "10.96.0.1" : "fd00:96::1";
    std::string b = v4 ? "10.244.1.5" : "fd00:244::5";
    switch (type) {
        case SetType::hash_ip: return {a, b};
        case SetType::hash_ip_port: return {a + ",tcp:443", a + ",udp:53", b + ",sctp:9000"};
        case SetType::hash_ip_port_ip: return {b + ",tcp:8080," + b};
        case SetType::hash_ip_port_net:
            return {a + ",tcp:443," + (v4 ? "192.0.2.0/24" : "2001:db8::/32"), a + ",tcp:443," + b};
        case SetType::bitmap_port: return {"30080", "30443"};
    }
    return {};
}

}  // namespace

TEST_CASE("every set of IPVS mode is created, filled and read back as ipset save shows it", "[ipset]") {
    LibIpset kernel;
    IpsetSync sync(kernel);
    for (auto family : {Family::v4, Family::v6}) {
        for (const auto& info : kube_sets()) {
            auto spec = kube_set_spec(info.id, family, 65536);
            auto want = sample_entries(info.type, family);
            auto result = sync.sync(spec, want);
            INFO(spec.name);
            CHECK(result.failures.empty());
            Saved s = saved(spec.name);
            CHECK(s.header == "create " + spec.create_arguments());
            CHECK(s.entries == want);
            CHECK(kernel.entries(spec.name) == want);
        }
    }
    CHECK(run("ipset list -n | grep -c ^KUBE-") == "34\n");
}

TEST_CASE("a second apply of the same content makes zero kernel writes", "[ipset]") {
    LibIpset kernel;
    IpsetSync sync(kernel);
    auto spec = kube_set_spec(KubeSet::cluster_ip, Family::v4, 65536);
    std::set<std::string> want;
    for (int i = 0; i < 500; ++i) want.insert("10.96." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ",tcp:80");
    sync.sync(spec, want);
    std::size_t sends = test::netlink_sends();
    auto again = sync.sync(spec, want);
    CHECK(again.added + again.deleted == 0);
    CHECK(test::netlink_sends() == sends);

    // A fresh kipvs (restart) adopts the content with reads only.
    LibIpset restarted;
    IpsetSync adopt(restarted);
    auto adopted = adopt.sync(spec, want);
    CHECK(adopted.added + adopted.deleted == 0);
    CHECK(restarted.commands_sent() == 1);  // the create -exist, nothing else

    // One changed entry: a small batch, not a rebuild.
    want.erase(want.begin());
    want.insert("10.96.9.9,tcp:80");
    sends = test::netlink_sends();
    auto one = adopt.sync(spec, want);
    CHECK(one.added == 1);
    CHECK(one.deleted == 1);
    CHECK_FALSE(one.replaced);
    // libipset's protocol check, the set's header and type queries, one del
    // and one add message: constant, whatever the set's size.
    CHECK(test::netlink_sends() - sends <= 5);
    CHECK(saved(spec.name).entries == want);
}

TEST_CASE("replacing most of a set swaps the content in whole and leaves no temporary set", "[ipset]") {
    LibIpset kernel;
    IpsetSync sync(kernel);
    auto spec = kube_set_spec(KubeSet::ipvs_ips, Family::v4, 65536);
    sync.sync(spec, {"10.96.0.1", "10.96.0.2", "10.96.0.3", "10.96.0.4"});
    auto result = sync.sync(spec, {"10.96.0.1", "10.96.5.5"});
    CHECK(result.replaced);
    CHECK(saved(spec.name).entries == std::set<std::string>{"10.96.0.1", "10.96.5.5"});
    CHECK(run("ipset list -n | grep -c kipvs-swap || true") == "0\n");
}

TEST_CASE("a set whose maxelem changed keeps its name and content", "[ipset]") {
    LibIpset kernel;
    IpsetSync sync(kernel);
    auto small = kube_set_spec(KubeSet::external_ip, Family::v4, 1000);
    sync.sync(small, {"192.0.2.10,tcp:80"});
    IpsetSync later(kernel);
    auto bigger = kube_set_spec(KubeSet::external_ip, Family::v4, 200000);
    CHECK(later.sync(bigger, {"192.0.2.10,tcp:80", "192.0.2.11,tcp:80"}).failures.empty());
    Saved s = saved(bigger.name);
    CHECK(s.header == "create " + bigger.create_arguments());
    CHECK(s.entries.size() == 2);
}

TEST_CASE("an invalid entry in the middle leaves the previous content intact", "[ipset]") {
    LibIpset kernel;
    IpsetSync sync(kernel);
    auto spec = kube_set_spec(KubeSet::load_balancer, Family::v4, 65536);
    sync.sync(spec, {"192.0.2.1,tcp:80"});
    std::size_t sends = test::netlink_sends();
    auto result = sync.sync(spec, {"192.0.2.2,tcp:80", "192.0.2.3,gre:80", "192.0.2.4,tcp:80"});
    REQUIRE(result.failures.size() == 1);
    CHECK(result.failures[0].entry == "192.0.2.3,gre:80");
    CHECK(test::netlink_sends() == sends);
    CHECK(saved(spec.name).entries == std::set<std::string>{"192.0.2.1,tcp:80"});
}

TEST_CASE("a kernel refusal in a batch names its entry", "[ipset]") {
    LibIpset kernel;
    SetSpec spec = kube_set_spec(KubeSet::ipvs_ips, Family::v6, 2);
    kernel.destroy(spec.name);
    kernel.ensure(spec);
    std::vector<IpsetChange> adds;
    for (const char* ip : {"fd00::1", "fd00::2", "fd00::3", "fd00::4"}) adds.push_back({IpsetChange::Kind::add, ip});
    auto failures = kernel.change(spec.name, adds);
    REQUIRE(failures.size() >= 1);
    CHECK(failures[0].entry == "fd00::3");
    CHECK(failures[0].message.find("full") != std::string::npos);
    CHECK(saved(spec.name).entries == std::set<std::string>{"fd00::1", "fd00::2"});
}

TEST_CASE("a set kipvs does not own is never touched", "[ipset]") {
    run("ipset create my-firewall hash:ip && ipset add my-firewall 198.51.100.7");
    LibIpset kernel;
    IpsetSync sync(kernel);
    CHECK_THROWS_AS(sync.sync(SetSpec{"my-firewall", SetType::hash_ip, Family::v4}, {}), Error);
    CHECK(saved("my-firewall").entries == std::set<std::string>{"198.51.100.7"});
}
