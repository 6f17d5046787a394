#!/usr/bin/env python3
"""Independent reader of the kernel's netdev generic-netlink family (no anyscan code): prints
"IFNAME 0xFEATURES" for every interface of the current network namespace, the xdp-features
bit mask as the kernel sends it, for the privileged test to compare anyscan-probe with.
Exit 69 when the kernel has no netdev family."""
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3


def attrs(payload):
    out, at = {}, 0
    while at + 4 <= len(payload):
        length, kind = struct.unpack_from("=HH", payload, at)
        if length < 4:
            break
        out[kind & 0x3FFF] = payload[at + 4:at + length]
        at += (length + 3) & ~3
    return out


def request(sock, kind, flags, cmd, payload=b""):
    body = struct.pack("=BBH", cmd, 1, 0) + payload
    sock.send(struct.pack("=IHHII", 16 + len(body), kind, NLM_F_REQUEST | flags, 1, 0) + body)


def messages(sock):
    while True:
        data = sock.recv(65536)
        at = 0
        while at < len(data):
            length, kind = struct.unpack_from("=IH", data, at)
            yield kind, data[at + 16:at + length]
            if kind in (NLMSG_DONE, NLMSG_ERROR):
                return
            at += (length + 3) & ~3


def main():
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    name = b"netdev\0"
    request(sock, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY,
            struct.pack("=HH", 4 + len(name), CTRL_ATTR_FAMILY_NAME) + name + b"\0")
    family = None
    for kind, body in messages(sock):
        if kind == NLMSG_ERROR:
            if struct.unpack_from("=i", body)[0] != 0:
                return 69
            continue
        family = struct.unpack_from("=H", attrs(body[4:])[CTRL_ATTR_FAMILY_ID])[0]
        break
    request(sock, family, NLM_F_DUMP, 1)
    for kind, body in messages(sock):
        if kind != family:
            continue
        a = attrs(body[4:])
        ifindex = struct.unpack_from("=I", a[1])[0]
        features = struct.unpack_from("=Q", a[3])[0] if 3 in a else 0
        print(socket.if_indextoname(ifindex), hex(features))
    return 0


sys.exit(main())
