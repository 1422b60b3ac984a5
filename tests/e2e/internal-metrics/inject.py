# Writes hand-built Ethernet frames on an interface through an AF_PACKET
# socket, so a test knows exactly which packets reach the TC hook on the other
# end of a veth: usage `inject.py IFNAME DST_MAC` with a JSON plan on stdin,
# a list of {kind, count, src?, dst?, size?, sport?, dport?}.
#   udp, tcp   `count` flows (one packet each, source ports sport, sport+1, ...)
#   non_ip     frames of an experimental ethertype (0x88b5)
#   other_l4   IPv4 ICMP echo requests
#   truncated  IPv4 ethertype with only 10 bytes of IP header
#   ext_limit  IPv6 with 7 destination-options headers before UDP
import ipaddress
import json
import socket
import struct
import sys

ifname, dst_mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', ''))
with open(f'/sys/class/net/{ifname}/address') as f:
    src_mac = bytes.fromhex(f.read().strip().replace(':', ''))
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((ifname, 0))


def eth(ethertype, payload):
    return dst_mac + src_mac + struct.pack('!H', ethertype) + payload


def ipv4(src, dst, proto, l4):
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0,
                      ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    return eth(0x0800, hdr + l4)


def ipv6(src, dst, nexthdr, payload):
    hdr = struct.pack('!IHBB16s16s', 6 << 28, len(payload), nexthdr, 64,
                      ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed)
    return eth(0x86DD, hdr + payload)


def l4(kind, sport, dport, size):
    body = b'k' * size
    if kind == 'udp':
        return 17, struct.pack('!HHHH', sport, dport, 8 + size, 0) + body
    return 6, struct.pack('!HHIIBBHHH', sport, dport, 1, 0, 5 << 4, 0x10, 65535, 0, 0) + body


def frames(step):
    kind, count = step['kind'], step['count']
    src, dst, size = step.get('src'), step.get('dst'), step.get('size', 0)
    if kind in ('udp', 'tcp'):
        sport, dport = step.get('sport', 1024), step.get('dport', 5201)
        for i in range(count):
            proto, seg = l4(kind, 1 + (sport - 1 + i) % 65535, dport + (sport - 1 + i) // 65535, size)
            yield ipv6(src, dst, proto, seg) if ':' in src else ipv4(src, dst, proto, seg)
    elif kind == 'non_ip':
        for _ in range(count):
            yield eth(0x88B5, b'\0' * 46)
    elif kind == 'other_l4':
        for _ in range(count):
            yield ipv4(src, dst, 1, struct.pack('!BBHHH', 8, 0, 0, 1, 1) + b'\0' * size)
    elif kind == 'truncated':
        for _ in range(count):
            yield eth(0x0800, b'\x45\0\0\x1c' + b'\0' * 6)
    elif kind == 'ext_limit':
        _, udp = l4('udp', 1000, 2000, 0)
        exts = b''.join(struct.pack('!BB6s', 60 if i < 6 else 17, 0, b'\x01\x04' + b'\0' * 4) for i in range(7))
        for _ in range(count):
            yield ipv6(src, dst, 60, exts + udp)
    else:
        raise SystemExit(f'inject.py: unknown kind {kind!r}')


# Built first, then sent in one tight loop: a flood must outrun the agent's
# 250 ms ring buffer polls to fill the ring buffer.
batch = [frame for step in json.load(sys.stdin) for frame in frames(step)]
for frame in batch:
    sock.send(frame)
print(json.dumps({'sent': len(batch)}))
