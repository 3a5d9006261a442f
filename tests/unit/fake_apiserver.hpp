#pragma once
// Drives tests/unit/fake_apiserver.py (a TLS API server on 127.0.0.1) from a
// test: starts it with fresh certificates, sends it commands, reads answers.
#include <string>

namespace kipvs::test {

class FakeApiServer {
public:
    // cert: the server certificate to present ("server", "wrongsan", "rogue"),
    // from the directory make_test_certs.sh filled. client_ca ("ca"): require
    // a client certificate that CA signed (mutual TLS); empty: none asked for.
    FakeApiServer(const std::string& cert_dir, const std::string& cert = "server", const std::string& client_ca = "");
    ~FakeApiServer();
    FakeApiServer(const FakeApiServer&) = delete;
    FakeApiServer& operator=(const FakeApiServer&) = delete;

    int port() const { return port_; }
    std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
    // One JSON command line; returns the one-line answer.
    std::string command(const std::string& json);

private:
    std::string read_line();
    int pid_ = -1;
    int to_ = -1;
    int from_ = -1;
    int port_ = 0;
};

// Makes the certificates (make_test_certs.sh) in a fresh directory once per run.
const std::string& test_cert_dir();

}  // namespace kipvs::test
