#include <catch2/catch.hpp>

#include <cstdlib>

#include "config/config.hpp"
#include "config/kubeconfig.hpp"
#include "error.hpp"
#include "test_support.hpp"

using namespace kipvs;
using namespace kipvs::config;

namespace {

std::string data(const std::string& name) { return test::source_dir() + "/tests/unit/data/" + name; }

std::string base64(const std::string& in) {
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        for (int s = 18; s >= 0; s -= 6) out += alphabet[(v >> s) & 63];
    }
    if (i < in.size()) {
        unsigned v = (unsigned char)in[i] << 16 | (i + 1 < in.size() ? (unsigned char)in[i + 1] << 8 : 0);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += i + 1 < in.size() ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string kubeconfig(const std::string& cluster_extra, const std::string& user_extra,
                       const std::string& current = "default") {
    return "apiVersion: v1\nkind: Config\n"
           "clusters:\n- name: k3s\n  cluster:\n    server: https://127.0.0.1:6443\n" +
           cluster_extra +
           "contexts:\n- name: default\n  context:\n    cluster: k3s\n    user: proxy\n"
           "current-context: " +
           current + "\nusers:\n- name: proxy\n  user:\n" + user_extra;
}

std::string failure(const std::string& path, const std::string& context = "") {
    try {
        load_kubeconfig(path, context);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(loaded)";
}

}  // namespace

TEST_CASE("embedded certificate data and a client key pair load", "[kubeconfig]") {
    test::TempDir dir;
    std::string ca = test::read_file(data("ca.crt"));
    std::string path = dir.write(
        "kc", kubeconfig("    certificate-authority-data: " + base64(ca) + "\n",
                         "    client-certificate-data: " + base64(test::read_file(data("client.crt"))) +
                             "\n    client-key-data: " + base64(test::read_file(data("client.key"))) + "\n"));
    auto creds = load_kubeconfig(path);
    CHECK(creds.server.to_string() == "https://127.0.0.1:6443");
    CHECK(creds.ca_pem == ca);
    CHECK(creds.auth_summary() == "client certificate");
    CHECK(creds.context == "default");
    CHECK(creds.cluster == "k3s");
}

TEST_CASE("file references are relative to the kubeconfig, tokens are checked", "[kubeconfig]") {
    test::TempDir dir;
    dir.write("ca.crt", test::read_file(data("ca.crt")));
    dir.write("token", "abc.def\n");
    std::string path = dir.write("kc", kubeconfig("    certificate-authority: ca.crt\n    tls-server-name: kubernetes\n",
                                                  "    tokenFile: token\n"));
    auto creds = load_kubeconfig(path);
    CHECK(creds.token_file == dir.path() + "/token");
    CHECK(creds.tls_server_name == "kubernetes");
    CHECK(creds.auth_summary() == "token file " + dir.path() + "/token");
}

TEST_CASE("broken kubeconfigs name the file, the position and the field", "[kubeconfig]") {
    test::TempDir dir;
    std::string cert = base64(test::read_file(data("client.crt")));
    std::string key = base64(test::read_file(data("client.key")));

    SECTION("missing file") {
        CHECK(failure(dir.path() + "/absent") == dir.path() + "/absent: cannot read kubeconfig: No such file or directory");
    }
    SECTION("bad base64") {
        std::string p = dir.write("kc", kubeconfig("    certificate-authority-data: '%%%not base64'\n", ""));
        CHECK(failure(p) == p + ":7:33: clusters[k3s].cluster.certificate-authority-data: not valid base64");
    }
    SECTION("bad PEM") {
        std::string p = dir.write("kc", kubeconfig("    certificate-authority-data: " + base64("hello") + "\n", ""));
        CHECK(failure(p).find(p + ":7:33: clusters[k3s].cluster.certificate-authority-data: not a PEM certificate") == 0);
    }
    SECTION("missing CA file") {
        std::string p = dir.write("kc", kubeconfig("    certificate-authority: nowhere.crt\n", ""));
        CHECK(failure(p) == p + ":7:28: clusters[k3s].cluster.certificate-authority: cannot read " + dir.path() +
                                "/nowhere.crt: No such file or directory");
    }
    SECTION("context pointing nowhere") {
        std::string p = dir.write("kc", kubeconfig("", "    token: t\n", "elsewhere"));
        CHECK(failure(p) == p + ": context \"elsewhere\" is not defined in contexts (named by current-context)");
        std::string q = dir.write("kc2", kubeconfig("", "    token: t\n"));
        CHECK(failure(q, "other") == q + ": context \"other\" is not defined in contexts");
    }
    SECTION("key that does not match the certificate") {
        std::string other = base64(test::read_file(data("other.key")));
        std::string p = dir.write("kc", kubeconfig("", "    client-certificate-data: " + cert +
                                                           "\n    client-key-data: " + other + "\n"));
        CHECK(failure(p).find("users[proxy].user.client-key-data: does not match the client certificate") !=
              std::string::npos);
    }
    SECTION("certificate without key") {
        std::string p = dir.write("kc", kubeconfig("", "    client-certificate-data: " + cert + "\n"));
        CHECK(failure(p).find("client-certificate given without client-key") != std::string::npos);
    }
    SECTION("exec plugins are named as unsupported") {
        std::string p = dir.write("kc", kubeconfig("", "    exec:\n      command: aws\n"));
        CHECK(failure(p) == p + ":17:7: users[proxy].user.exec: exec credential plugins are not supported by kipvs; "
                                "use a client certificate or a token");
    }
    SECTION("auth-provider is named as unsupported") {
        std::string p = dir.write("kc", kubeconfig("", "    auth-provider:\n      name: gcp\n"));
        CHECK(failure(p).find("users[proxy].user.auth-provider: auth-provider credential plugins are not supported") !=
              std::string::npos);
    }
    SECTION("plain http is refused unless allowed") {
        std::string text = kubeconfig("", "    token: t\n");
        text.replace(text.find("https://"), 8, "http://");
        std::string p = dir.write("kc", text);
        CHECK(failure(p).find("clusters[k3s].cluster.server: plain http is refused") != std::string::npos);
        CHECK(load_kubeconfig(p, "", true).server.scheme == "http");
    }
    SECTION("an empty token file") {
        dir.write("empty", "\n");
        std::string p = dir.write("kc", kubeconfig("", "    tokenFile: empty\n"));
        CHECK(failure(p).find("users[proxy].user.tokenFile: " + dir.path() + "/empty is empty") != std::string::npos);
    }
    SECTION("a server that is not a URL") {
        std::string text = kubeconfig("", "    token: t\n");
        text.replace(text.find("https://127.0.0.1:6443"), 22, "127.0.0.1:6443");
        std::string p = dir.write("kc", text);
        CHECK(failure(p) == p + ":6:13: clusters[k3s].cluster.server: \"127.0.0.1:6443\" is not an https:// URL");
    }
}

TEST_CASE("server URLs: names, IPv4, IPv6, default port, base path", "[kubeconfig]") {
    CHECK(ServerUrl::parse("https://api.example:6443")->host == "api.example");
    CHECK(ServerUrl::parse("https://[fd00::1]:6443")->host == "fd00::1");
    CHECK(ServerUrl::parse("https://[fd00::1]:6443")->to_string() == "https://[fd00::1]:6443");
    CHECK(ServerUrl::parse("https://10.0.0.1")->port == "443");
    CHECK(ServerUrl::parse("https://10.0.0.1/k8s/clusters/c-1/")->path == "/k8s/clusters/c-1");
    for (const char* bad : {"10.0.0.1:6443", "ftp://x", "https://", "https://x:0", "https://x:99999", "https://u@x"}) {
        INFO(bad);
        CHECK_FALSE(ServerUrl::parse(bad));
    }
}

TEST_CASE("base64 decoding is strict", "[kubeconfig]") {
    CHECK(decode_base64("aGVsbG8=") == "hello");
    CHECK(decode_base64("aGVs\nbG8=") == "hello");
    CHECK(decode_base64("aGVsbG8") == "hello");
    CHECK_FALSE(decode_base64("aGVsbG8=x"));
    CHECK_FALSE(decode_base64("a"));
    CHECK_FALSE(decode_base64("aGVs*G8="));
}

TEST_CASE("the kubeconfig search order", "[kubeconfig]") {
    test::TempDir dir;
    Config config;
    std::vector<std::string> searched;
    config.kubeconfig = "/explicit";
    CHECK(locate_kubeconfig(config, searched)->reason == "clientConnection.kubeconfig");

    config.kubeconfig.clear();
    std::string env_path = dir.write("env-kubeconfig", "");
    setenv("KUBECONFIG", (dir.path() + "/absent:" + env_path).c_str(), 1);
    setenv("HOME", dir.path().c_str(), 1);
    searched.clear();
    auto found = locate_kubeconfig(config, searched);
    REQUIRE(found);
    CHECK(found->path == env_path);
    CHECK(found->reason == "$KUBECONFIG");
    CHECK(searched.front() == dir.path() + "/absent");

    unsetenv("KUBECONFIG");
    searched.clear();
    locate_kubeconfig(config, searched);
    REQUIRE(searched.size() >= 4);
    CHECK(searched[0] == "/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig");
    CHECK(searched[1] == "/etc/kipvs/kubeconfig");
    CHECK(searched[2] == "/etc/rancher/k3s/k3s.yaml");
    CHECK(searched.back() == dir.path() + "/.kube/config");
}
