// A minimal DNS responder for the VM tests: answers A queries for one name
// with one IPv4 address, NXDOMAIN for anything else. It lets a test check
// that the static musl binary resolves an API server's name through DNS
// (musl's own resolver, /etc/resolv.conf), with no libc in the image.
// Usage: dns-responder LISTEN_ADDRESS NAME ADDRESS
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

// The question's name as "a.b.c" and the offset just past it, or -1.
long read_name(const unsigned char* msg, long length, long at, std::string& name) {
    while (at < length) {
        unsigned label = msg[at++];
        if (label == 0) return at;
        if (label > 63 || at + label > length) return -1;
        if (!name.empty()) name += '.';
        name.append(reinterpret_cast<const char*>(msg + at), label);
        at += label;
    }
    return -1;
}

bool same_name(std::string a, std::string b) {
    for (auto& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& c : b) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return a == b;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: dns-responder LISTEN_ADDRESS NAME ADDRESS\n");
        return 2;
    }
    in_addr listen{}, answer{};
    if (inet_pton(AF_INET, argv[1], &listen) != 1 || inet_pton(AF_INET, argv[3], &answer) != 1) {
        std::fprintf(stderr, "dns-responder: bad address\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(53);
    local.sin_addr = listen;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        std::perror("dns-responder: bind");
        return 1;
    }
    unsigned char msg[512];
    for (;;) {
        sockaddr_in peer{};
        socklen_t peer_len = sizeof peer;
        long n = recvfrom(fd, msg, sizeof msg - 16, 0, reinterpret_cast<sockaddr*>(&peer), &peer_len);
        if (n < 12) continue;
        std::string name;
        long end = read_name(msg, n, 12, name);
        if (end < 0 || end + 4 > n) continue;
        unsigned qtype = (msg[end] << 8) | msg[end + 1];
        long reply = end + 4;  // header + the question, echoed
        bool ours = same_name(name, argv[2]);
        msg[2] = 0x84 | (msg[2] & 0x01);  // response, authoritative, keep RD
        msg[3] = ours ? 0x00 : 0x03;      // NOERROR or NXDOMAIN
        msg[4] = 0, msg[5] = 1;           // one question
        msg[6] = 0, msg[7] = (ours && qtype == 1) ? 1 : 0;
        std::memset(msg + 8, 0, 4);
        if (ours && qtype == 1) {
            const unsigned char record[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4};
            std::memcpy(msg + reply, record, sizeof record);
            std::memcpy(msg + reply + sizeof record, &answer, 4);
            reply += sizeof record + 4;
        }
        sendto(fd, msg, static_cast<std::size_t>(reply), 0, reinterpret_cast<sockaddr*>(&peer), peer_len);
    }
}
