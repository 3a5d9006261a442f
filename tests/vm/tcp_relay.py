#!/usr/bin/env python3
"""Joins stdin/stdout to a TCP connection to 127.0.0.1:PORT.

qemu's guestfwd runs one of these per guest connection ("cmd:" form), so a
guest behind the restricted user network reaches one host service on
loopback and nothing else. Usage: tcp_relay.py PORT
"""
import os
import socket
import sys
import threading


def main():
    sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))

    def upstream():
        while True:
            data = os.read(0, 65536)
            if not data:
                sock.shutdown(socket.SHUT_WR)
                return
            sock.sendall(data)

    threading.Thread(target=upstream, daemon=True).start()
    while True:
        data = sock.recv(65536)
        if not data:
            return
        os.write(1, data)


if __name__ == "__main__":
    main()
