#include "fake_apiserver.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "test_support.hpp"

namespace kipvs::test {

FakeApiServer::FakeApiServer(const std::string& cert_dir, const std::string& cert, const std::string& client_ca) {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> args = {"python3", source_dir() + "/tests/unit/fake_apiserver.py",
                                      cert_dir + "/" + cert + ".crt", cert_dir + "/" + cert + ".key"};
    if (!client_ca.empty()) args.push_back(cert_dir + "/" + client_ca + ".crt");
    // Built before fork: the child only calls async-signal-safe functions.
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::close(in[0]); ::close(in[1]); ::close(out[0]); ::close(out[1]);
        // The system interpreter first: version-manager shims (pyenv) take a second to start.
        ::execv("/usr/bin/python3", argv.data());
        ::execvp("python3", argv.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
    std::string first = read_line();  // {"port": N}
    auto colon = first.find(':');
    if (colon == std::string::npos) throw std::runtime_error("fake API server did not start: " + first);
    port_ = std::atoi(first.c_str() + colon + 1);
}

FakeApiServer::~FakeApiServer() {
    if (to_ >= 0) ::close(to_);
    if (from_ >= 0) ::close(from_);
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
    }
}

std::string FakeApiServer::read_line() {
    std::string line;
    char c;
    while (::read(from_, &c, 1) == 1) {
        if (c == '\n') return line;
        line += c;
    }
    return line;
}

std::string FakeApiServer::command(const std::string& json) {
    std::string line = json + "\n";
    if (::write(to_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        throw std::runtime_error("fake API server is gone");
    return read_line();
}

const std::string& test_cert_dir() {
    static TempDir dir;
    static bool made = [] {
        std::string cmd = "sh " + source_dir() + "/tests/unit/make_test_certs.sh " + dir.path();
        return std::system(cmd.c_str()) == 0;
    }();
    if (!made) throw std::runtime_error("make_test_certs.sh failed (is openssl installed?)");
    return dir.path();
}

}  // namespace kipvs::test
