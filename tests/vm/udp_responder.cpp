// A UDP server and client for the VM tests.
//   udp-responder ADDRESS PORT NAME       answers every datagram with NAME (so a
//                                         client sees which backend IPVS chose);
//                                         backgrounds itself once bound, stdio
//                                         on /dev/null (so `$(...)` returns)
//   udp-responder ask ADDRESS PORT [SOURCE_PORT]
//                                         sends one datagram and prints the answer
//                                         (exit 1 after 3 s without one)
// A fixed SOURCE_PORT is what a resolver that keeps its socket does: the
// same conntrack entry, again and again.
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
    return parse_responder_address("udp-responder", address, port, out);
}

int ask(int argc, char** argv) {
    sockaddr_in server;
    if (!endpoint(argv[2], argv[3], server)) return 2;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return 1;
    if (argc == 5) {
        sockaddr_in local;
        endpoint("0.0.0.0", argv[4], local);
        if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
            std::perror("udp-responder: bind");
            return 1;
        }
    }
    timeval timeout{3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (sendto(fd, "q", 1, 0, reinterpret_cast<sockaddr*>(&server), sizeof server) != 1) {
        std::perror("udp-responder: send");
        return 1;
    }
    char answer[512];
    ssize_t n = recv(fd, answer, sizeof answer - 1, 0);
    if (n < 0) {
        std::printf("NO-ANSWER\n");
        return 1;
    }
    answer[n] = '\0';
    std::printf("%s\n", answer);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 4 && argc <= 5 && std::strcmp(argv[1], "ask") == 0) return ask(argc, argv);
    if (argc != 4) {
        std::fprintf(stderr, "usage: udp-responder ADDRESS PORT NAME | udp-responder ask ADDRESS PORT [SOURCE_PORT]\n");
        return 2;
    }
    sockaddr_in address;
    if (!endpoint(argv[1], argv[2], address)) return 2;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        std::perror("udp-responder: bind");
        return 1;
    }
    if (daemon(0, 0) != 0) {
        std::perror("udp-responder: daemon");
        return 1;
    }
    const std::size_t name_length = std::strlen(argv[3]);
    char buffer[2048];
    for (;;) {
        sockaddr_in peer{};
        socklen_t peer_length = sizeof peer;
        if (recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&peer), &peer_length) < 0) continue;
        sendto(fd, argv[3], name_length, 0, reinterpret_cast<sockaddr*>(&peer), peer_length);
    }
}
