#!/usr/bin/env python3
"""Writes the seeds of the read_capture fuzz target into seeds/read_capture/.

Each seed is a small capture in one of the variants the reader handles, built around frames of
captures/two-tier.pcap so the fuzzer starts past the header checks:
  two-tier-4.pcap     the file's header and first four records (nanosecond pcap, Ethernet)
  be-usec-sll.pcap    big-endian microsecond pcap, Linux cooked capture, a truncated record
  v2.2-raw.pcap       pcap 2.2 (lengths swapped), raw IP
  kuznetzov.pcap      Kuznetzov's 24-byte record headers
  two-ifaces.pcapng   two interfaces (ns, 2^-20 s with an offset), a VLAN-tagged frame, EPB,
                      SPB, obsolete PB, an unknown block, comments
  two-sections.pcapng a big-endian section, then a little-endian one that resets interfaces

Run from fuzz/: python3 seeds/make_read_capture.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "read_capture")
CAPTURE = os.path.join(HERE, "..", "..", "captures", "two-tier.pcap")


def records(data, n):
    """The first n (header, frame) pairs of a little-endian pcap."""
    out, o = [], 24
    for _ in range(n):
        incl = struct.unpack_from("<I", data, o + 8)[0]
        out.append((data[o : o + 16], data[o + 16 : o + 16 + incl]))
        o += 16 + incl
    return out


def pcap_header(end, magic, minor, link):
    return struct.pack(end + "IHHiIII", magic, 2, minor, 0, 0, 65535, link)


def block(end, kind, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(end + "II", kind, n) + body + struct.pack(end + "I", n)


def option(end, code, value):
    return struct.pack(end + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def shb(end):
    return block(end, 0x0A0D0D0A, struct.pack(end + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(end, link, opts=b""):
    return block(end, 1, struct.pack(end + "HHI", link, 0, 0) + opts)


def epb(end, iface, t, frame, orig=None):
    body = struct.pack(end + "IIIII", iface, t >> 32, t & 0xFFFFFFFF, len(frame), orig or len(frame))
    body += frame + b"\0" * (-len(frame) % 4)
    return block(end, 6, body + option(end, 1, b"seed") + option(end, 0, b""))


def main():
    data = open(CAPTURE, "rb").read()
    recs = records(data, 4)
    frames = [f for _, f in recs]
    seeds = {}
    seeds["two-tier-4.pcap"] = data[:24] + b"".join(h + f for h, f in recs)

    # Linux cooked capture: packet type, ARPHRD_ETHER, address length, address, EtherType.
    sll = struct.pack(">HHH8sH", 0, 1, 6, frames[0][6:12] + b"\0\0", 0x0800) + frames[0][14:]
    rec = struct.pack(">IIII", 1_700_000_000, 250_000, 40, len(sll)) + sll[:40]
    seeds["be-usec-sll.pcap"] = pcap_header(">", 0xA1B2C3D4, 4, 113) + rec

    raw = frames[1][14:]
    rec = struct.pack("<IIII", 1_700_000_001, 5, len(raw) + 100, len(raw)) + raw
    seeds["v2.2-raw.pcap"] = pcap_header("<", 0xA1B2C3D4, 2, 101) + rec

    rec = struct.pack("<IIII", 1_700_000_002, 7, len(frames[2]), len(frames[2]))
    rec += struct.pack("<IHBB", 3, 0x0800, 0, 0) + frames[2]
    seeds["kuznetzov.pcap"] = pcap_header("<", 0xA1B2CD34, 4, 1) + rec

    vlan = frames[3][:12] + struct.pack(">HH", 0x8100, 42) + frames[3][12:]
    ng = shb("<")
    ng += idb("<", 1, option("<", 9, b"\x09") + option("<", 0, b""))
    ng += idb("<", 101, option("<", 9, b"\x94") + option("<", 14, struct.pack("<q", -2)) + option("<", 0, b""))
    ng += epb("<", 0, 1_700_000_000_000_000_000, vlan)
    ng += epb("<", 1, (1_700_000_000 << 20) + 12345, raw, len(raw) + 8)
    ng += block("<", 3, struct.pack("<I", len(frames[0])) + frames[0])
    ng += block("<", 2, struct.pack("<HHIII", 0, 0, 1, 2, len(frames[1])) + struct.pack("<I", len(frames[1])) + frames[1])
    ng += block("<", 0x80000001, b"custom")
    seeds["two-ifaces.pcapng"] = ng

    ng = shb(">") + idb(">", 1) + epb(">", 0, 1_700_000_000_000_000, frames[0])
    ng += shb("<") + idb("<", 101) + epb("<", 0, 1_700_000_000_000_001, raw)
    seeds["two-sections.pcapng"] = ng

    os.makedirs(OUT, exist_ok=True)
    for name, b in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(b)


if __name__ == "__main__":
    main()
