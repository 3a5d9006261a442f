// An SCTP server and client for the VM tests (busybox has no SCTP client):
// one-to-one style sockets, so no libsctp.
//   sctp-responder ADDRESS PORT NAME   accepts associations and sends NAME on
//                                      each; backgrounds itself once listening
//   sctp-responder ask ADDRESS PORT    connects, prints what it receives
//                                      (exit 1 after 3 s without it)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "responder_address.hpp"

namespace {

bool endpoint(const char* address, const char* port, sockaddr_in& out) {
    return parse_responder_address("sctp-responder", address, port, out);
}

int ask(char** argv) {
    sockaddr_in server;
    if (!endpoint(argv[2], argv[3], server)) return 2;
    int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    if (fd < 0) {
        std::perror("sctp-responder: socket");
        return 1;
    }
    timeval timeout{3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
        std::perror("sctp-responder: connect");
        return 1;
    }
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    close(fd);
    if (n <= 0) return 1;
    buf[n] = '\0';
    std::printf("%s\n", buf);
    return 0;
}

int serve(char** argv) {
    sockaddr_in local;
    if (!endpoint(argv[1], argv[2], local)) return 2;
    int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 || listen(fd, 16) != 0) {
        std::perror("sctp-responder: listen");
        return 1;
    }
    // Listening before the parent returns: the caller may connect at once.
    if (fork() != 0) return 0;
    setsid();
    std::freopen("/dev/null", "r", stdin);
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    for (;;) {
        int c = accept(fd, nullptr, nullptr);
        if (c < 0) continue;
        send(c, argv[3], std::strlen(argv[3]), 0);
        close(c);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::strcmp(argv[1], "ask") == 0) return ask(argv);
    if (argc == 4) return serve(argv);
    std::fprintf(stderr, "usage: sctp-responder ADDRESS PORT NAME | sctp-responder ask ADDRESS PORT\n");
    return 2;
}
