#!/usr/bin/python3
"""The IPv6 probes anyscan --dryrun builds (tcp_synscan and icmp6_echoscan, with IPv4 ones
beside them in one mixed scan), decoded by a parser that is not ours: Debian's python3-scapy.
Every field a receiver reads is checked against RFC 8200 / RFC 9293 / RFC 4443, and scapy
recomputes the TCP and ICMPv6 checksums (over the IPv6 pseudo-header) from scratch.

Usage: ipv6_frames_decode_test.py ANYSCAN_BINARY
"""
import logging
import subprocess
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.layers.inet import IP, TCP  # noqa: E402
from scapy.layers.inet import UDP  # noqa: E402
from scapy.layers.inet6 import IPv6, ICMPv6EchoRequest  # noqa: E402
from scapy.layers.dns import DNS  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402

COMMON = ["--dryrun", "--dryrun-format", "text", "-q", "-b", "/dev/null", "-i", "lo", "--source-mac", "02:00:00:00:00:01",
          "-G", "02:00:00:00:00:02", "-S", "2001:2::1,198.18.0.1", "-e", "7", "--probe-ttl", "61"]
TARGETS6 = ["2001:2::2", "2001:2:0:ffff::1", "2001:2::a:b:c"]
PORTS = [22, 80, 443, 65535]


def frames(binary, extra):
    run = subprocess.run([binary] + COMMON + extra, capture_output=True, text=True, timeout=60,
                         check=False)
    assert run.returncode == 0, run.stderr
    return [bytes.fromhex(line.split(" hex=")[1]) for line in run.stdout.splitlines()]


def recomputed(packet, layer):
    """The layer's checksum as scapy computes it from the rest of the packet."""
    copy = Ether(bytes(packet))
    if layer is TCP or layer is UDP:
        del copy[layer].chksum
    else:
        del copy[layer].cksum
    return Ether(bytes(copy))[layer]


def check_ipv6(packet, next_header, payload_length, flow_label=0):
    ip6 = packet[IPv6]
    assert packet[Ether].type == 0x86DD
    assert packet[Ether].dst == "02:00:00:00:00:02" and packet[Ether].src == "02:00:00:00:00:01"
    assert ip6.version == 6 and ip6.tc == 0, ip6.summary()
    assert flow_label is None or ip6.fl == flow_label, ip6.fl
    assert ip6.nh == next_header and ip6.plen == payload_length, (ip6.nh, ip6.plen)
    assert ip6.hlim == 61, ip6.hlim
    assert ip6.src == "2001:2::1", ip6.src
    return ip6.dst


def main(binary):
    seen = set()
    v4 = 0
    for raw in frames(binary, ["-p", ",".join(map(str, PORTS))] + TARGETS6 + ["198.18.0.2"]):
        packet = Ether(raw)
        if IP in packet:  # the IPv4 target of the mixed scan
            assert packet[IP].src == "198.18.0.1" and packet[TCP].flags == "S"
            v4 += 1
            continue
        assert len(raw) == 14 + 40 + 24, len(raw)
        dst = check_ipv6(packet, 6, 24)
        tcp = packet[TCP]
        assert tcp.flags == "S" and tcp.ack == 0 and tcp.dataofs == 6, tcp.summary()
        assert tcp.options == [("MSS", 1440)], tcp.options
        assert tcp.window == 65535
        assert 32768 <= tcp.sport <= 60999, tcp.sport
        assert tcp.chksum == recomputed(packet, TCP).chksum, "TCP checksum"
        seen.add((dst, tcp.dport))
    want = {(t, p) for t in TARGETS6 for p in PORTS}
    assert seen == want, (sorted(seen), sorted(want))
    assert v4 == len(PORTS), v4

    echo = frames(binary, ["-M", "icmp6_echoscan"] + TARGETS6)
    assert len(echo) == len(TARGETS6), len(echo)
    targets = set()
    for raw in echo:
        packet = Ether(raw)
        assert len(raw) == 14 + 40 + 16, len(raw)
        targets.add(check_ipv6(packet, 58, 16))
        request = packet[ICMPv6EchoRequest]
        assert request.type == 128 and request.code == 0
        assert len(bytes(request.data)) == 8, request.data
        assert request.cksum == recomputed(packet, ICMPv6EchoRequest).cksum, "ICMPv6 checksum"
    assert targets == set(TARGETS6), targets

    # UDP over IPv6: the payload by port (DNS on 53), the cookie's bits in the flow label.
    udp = frames(binary, ["-M", "udp", "-p", "53,9"] + TARGETS6)
    assert len(udp) == 2 * len(TARGETS6), len(udp)
    labels = set()
    for raw in udp:
        packet = Ether(raw)
        length = len(raw) - 14 - 40
        check_ipv6(packet, 17, length, flow_label=None)
        labels.add(packet[IPv6].fl)
        datagram = packet[UDP]
        assert datagram.len == length and datagram.chksum != 0
        assert datagram.chksum == recomputed(packet, UDP).chksum, "UDP checksum"
        if datagram.dport == 53:
            question = DNS(bytes(datagram.payload)).qd
            assert question.qname == b"version.bind." and question.qtype == 16, question
        else:
            assert len(bytes(datagram.payload)) == 0
    assert len(labels) > 1, "the flow label carries cookie bits, so it varies"
    print("ok: %d TCP SYN, %d ICMPv6 echo and %d UDP frames decoded by scapy, checksums "
          "recomputed" % (len(want), len(echo), len(udp)))


if __name__ == "__main__":
    main(sys.argv[1])
