#!/usr/bin/python3
"""Every built-in UDP payload, as anyscan --dryrun sends it, decoded by a parser that is not
ours: dnspython (DNS, NetBIOS name service), pysnmp/pyasn1 (SNMP), xdrlib (ONC RPC), the
email/HTTP header parser (SSDP, SIP), struct by the RFC (NTP, memcached, CoAP). The IPv4 and
UDP checksums are recomputed here from scratch.

Usage: udp_payloads_decode_test.py ANYSCAN_BINARY
"""
import email.parser
import struct
import subprocess
import sys
import warnings

import dns.message
import dns.rdataclass
import dns.rdatatype
from pyasn1.codec.ber import decoder
from pysnmp.proto import api

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import xdrlib

PORTS = [53, 111, 123, 137, 161, 1900, 5060, 5683, 11211, 9]
TARGETS = ["198.18.0.2", "198.18.0.3"]


def ones_sum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def frames(binary):
    run = subprocess.run(
        [binary, "--dryrun", "--dryrun-format", "text", "-q", "-M", "udp", "-p", ",".join(map(str, PORTS)), "-b",
         "/dev/null", "-i", "lo", "--source-mac", "02:00:00:00:00:01", "-G",
         "02:00:00:00:00:02", "-S", "198.18.0.1", "-e", "7"] + TARGETS,
        capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    out = []
    for line in run.stdout.splitlines():
        out.append(bytes.fromhex(line.split(" hex=")[1]))
    assert len(out) == len(PORTS) * len(TARGETS), run.stdout
    return out


def check_frame(frame):
    """Returns (daddr, dport, payload) after checking both checksums."""
    ip = frame[14:34]
    assert ip[0] == 0x45 and ip[9] == 17, ip.hex()
    assert ones_sum(ip) == 0xFFFF, "IPv4 header checksum"
    total = struct.unpack("!H", ip[2:4])[0]
    assert total == len(frame) - 14
    udp = frame[34:]
    sport, dport, length, check = struct.unpack("!HHHH", udp[:8])
    assert length == len(udp) and check != 0
    pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, length)
    assert ones_sum(pseudo + udp) == 0xFFFF, "UDP checksum"
    return ".".join(map(str, ip[16:20])), dport, udp[8:]


def decode_dns(payload):
    msg = dns.message.from_wire(payload)
    q = msg.question[0]
    assert str(q.name) == "version.bind." and q.rdtype == dns.rdatatype.TXT, q
    assert q.rdclass == dns.rdataclass.CH and msg.id == struct.unpack("!H", payload[:2])[0]
    return msg.id


def decode_netbios(payload):
    msg = dns.message.from_wire(payload)  # RFC 1002 name service packets are DNS-shaped
    q = msg.question[0]
    assert q.rdtype == 33 and q.rdclass == dns.rdataclass.IN, q  # NBSTAT, IN
    label = q.name.labels[0]
    name = bytes(((label[i] - 65) << 4) | (label[i + 1] - 65) for i in range(0, 32, 2))
    assert name == b"*" + b"\0" * 15, name  # first-level encoding of "*"
    return msg.id


def decode_snmp(payload):
    version = api.decodeMessageVersion(payload)
    assert version == api.protoVersion2c
    module = api.protoModules[version]
    message, rest = decoder.decode(payload, asn1Spec=module.Message())
    assert rest == b""
    assert str(module.apiMessage.getCommunity(message)) == "public"
    pdu = module.apiMessage.getPDU(message)
    assert pdu.isSameTypeWith(module.GetRequestPDU())
    (oid, _), = [(o, v) for o, v in module.apiPDU.getVarBinds(pdu)]
    assert str(oid) == "1.3.6.1.2.1.1.1.0", oid
    request_id = int(module.apiPDU.getRequestID(pdu))
    assert 0x40000000 <= request_id < 0x80000000, request_id
    return request_id


def decode_ntp(payload):
    assert len(payload) == 48
    first = payload[0]
    assert (first >> 6, (first >> 3) & 7, first & 7) == (0, 4, 3), "LI 0, version 4, client"
    transmit = struct.unpack("!Q", payload[40:48])[0]
    assert transmit != 0 and payload[1:40] == b"\0" * 39
    return transmit


def decode_rpc(payload):
    u = xdrlib.Unpacker(payload)
    xid = u.unpack_uint()
    assert u.unpack_uint() == 0 and u.unpack_uint() == 2  # CALL, RPC version 2
    assert (u.unpack_uint(), u.unpack_uint(), u.unpack_uint()) == (100000, 2, 0)  # NULL
    for _ in range(2):  # credentials, verifier: AUTH_NULL, empty
        assert u.unpack_uint() == 0 and u.unpack_opaque() == b""
    u.done()
    return xid


def decode_http_like(payload, request_line, required):
    text = payload.decode("ascii")
    assert text.endswith("\r\n\r\n"), text
    first, rest = text.split("\r\n", 1)
    assert first == request_line, first
    headers = email.parser.Parser().parsestr(rest)
    for name, value in required.items():
        assert headers[name] is not None, name
        if value is not None:
            assert headers[name] == value, (name, headers[name])
    return None


def decode_memcached(payload):
    request_id, seq, total, reserved = struct.unpack("!HHHH", payload[:8])
    assert (seq, total, reserved) == (0, 1, 0) and payload[8:] == b"version\r\n"
    return request_id


def decode_coap(payload):
    first, code, message_id = struct.unpack("!BBH", payload[:4])
    assert (first >> 6, (first >> 4) & 3, first & 15) == (1, 0, 0), "v1, CON, no token"
    assert code == 0x01, "GET"
    options, at, number = [], 4 + (first & 15), 0
    while at < len(payload):
        delta, length = payload[at] >> 4, payload[at] & 15
        assert delta < 13 and length < 13, "no extended option fields in ours"
        number += delta
        options.append((number, payload[at + 1:at + 1 + length].decode()))
        at += 1 + length
    assert options == [(11, ".well-known"), (11, "core")], options  # Uri-Path
    return message_id


DECODERS = {
    53: decode_dns,
    111: decode_rpc,
    123: decode_ntp,
    137: decode_netbios,
    161: decode_snmp,
    1900: lambda p: decode_http_like(
        p, "M-SEARCH * HTTP/1.1",
        {"HOST": "239.255.255.250:1900", "MAN": '"ssdp:discover"', "MX": "1", "ST": "ssdp:all"}),
    5060: lambda p: decode_http_like(
        p, "OPTIONS sip:anyscan.invalid SIP/2.0",
        {"Via": None, "From": None, "To": None, "Call-ID": None, "CSeq": "1 OPTIONS",
         "Max-Forwards": "70", "Content-Length": "0"}),
    5683: decode_coap,
    11211: decode_memcached,
    9: lambda p: (assert_empty(p)),
}


def assert_empty(payload):
    assert payload == b"", payload
    return None


def main():
    identifiers = {}
    for frame in frames(sys.argv[1]):
        daddr, dport, payload = check_frame(frame)
        try:
            identifiers.setdefault(dport, set()).add(DECODERS[dport](payload))
        except Exception as error:  # name the payload that failed
            print("FAIL port %d (%s): %r\n  payload %s" % (dport, daddr, error, payload.hex()))
            return 1
        print("ok port %d to %s: %d bytes" % (dport, daddr, len(payload)))
    # The echoed identifiers carry the cookie: different for the two targets.
    for port in (53, 111, 123, 161, 11211, 5683):
        assert len(identifiers[port]) == 2, (port, identifiers[port])
    return 0


if __name__ == "__main__":
    sys.exit(main())
