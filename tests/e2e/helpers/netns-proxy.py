#!/usr/bin/env python3
"""Forwards 127.0.0.1:<listen_port> of the caller's network namespace to
127.0.0.1:<target_port> inside another one (/run/netns/<name>), so a test (or
Prometheus) in the root namespace reaches an agent that runs inside a simulated
node without any route or address between the two namespaces."""
import ctypes
import os
import socket
import sys
import threading

CLONE_NEWNET = 0x40000000


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    netns, listen_port, target_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", listen_port))
    listener.listen(64)
    # From here on, new sockets (and threads) live in the node's namespace;
    # the listener stays where it was made.
    fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
        sys.exit(f"setns {netns}: errno {ctypes.get_errno()}")
    print(f"ready {listener.getsockname()[1]}", flush=True)
    while True:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", target_port), timeout=5)
            upstream.settimeout(None)
        except OSError:
            client.close()
            continue
        threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()


if __name__ == "__main__":
    main()
