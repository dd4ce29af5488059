//! Helpers of the replay tests with simulated hosts: TCP segments with sequence numbers, a
//! client's side of an HTTP exchange, and output captures read back with their checksums checked.

#![allow(dead_code)]

use super::common::Frame;
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use std::path::Path;

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const FIN: u8 = 0x01;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;

/// An Ethernet IPv4 TCP segment with sequence and acknowledgment numbers.
pub fn segment(
    src: (&str, u16),
    dst: (&str, u16),
    flags: u8,
    seq: u32,
    ack: u32,
    payload: &[u8],
) -> Vec<u8> {
    let s: std::net::Ipv4Addr = src.0.parse().unwrap();
    let d: std::net::Ipv4Addr = dst.0.parse().unwrap();
    let mut b = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(s.octets(), d.octets(), 64)
        .tcp(src.1, dst.1, seq, 64240);
    if flags & SYN != 0 {
        b = b.syn();
    }
    if flags & ACK != 0 {
        b = b.ack(ack);
    }
    if flags & FIN != 0 {
        b = b.fin();
    }
    if flags & PSH != 0 {
        b = b.psh();
    }
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

/// A client's side of one HTTP exchange: handshake, request, FIN. The client acknowledges a
/// server sequence space starting at 5000 (not the simulated host's, as in any capture).
pub fn client_exchange(client: (&str, u16), server: (&str, u16), request: &[u8]) -> Vec<Vec<u8>> {
    let n = request.len() as u32;
    vec![
        segment(client, server, SYN, 1000, 0, b""),
        segment(client, server, ACK, 1001, 5001, b""),
        segment(client, server, ACK | PSH, 1001, 5001, request),
        segment(client, server, ACK | FIN, 1001 + n, 5001, b""),
    ]
}

/// Frames 1 ms apart.
pub fn close_frames(data: Vec<Vec<u8>>) -> Vec<Frame> {
    data.into_iter()
        .enumerate()
        .map(|(i, d)| Frame {
            ts_ns: 1_700_000_000_000_000_000 + i as u64 * 1_000_000,
            data: d,
        })
        .collect()
}

/// The frames of a pcap (microsecond, little-endian, as replay writes them).
pub fn read_pcap(path: &Path) -> Vec<Vec<u8>> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= b.len() {
        let len = u32::from_le_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push(b[at + 16..at + 16 + len].to_vec());
        at += 16 + len;
    }
    out
}

/// A TCP segment read back: addresses, ports, flags, numbers, payload; panics unless the IPv4
/// and TCP checksums are right.
#[derive(Debug)]
pub struct Seg {
    pub src: String,
    pub dst: String,
    pub sport: u16,
    pub dport: u16,
    pub syn: bool,
    pub ack_flag: bool,
    pub fin: bool,
    pub rst: bool,
    pub seq: u32,
    pub ack: u32,
    pub payload: Vec<u8>,
}

pub fn parse_checked(frame: &[u8]) -> Option<Seg> {
    let p = SlicedPacket::from_ethernet(frame).ok()?;
    let Some(NetSlice::Ipv4(ip)) = &p.net else {
        return None;
    };
    let Some(TransportSlice::Tcp(tcp)) = &p.transport else {
        return None;
    };
    let h = ip.header().to_header();
    assert_eq!(
        h.header_checksum,
        h.calc_header_checksum(),
        "IPv4 checksum of {frame:02x?}"
    );
    let th = tcp.to_header();
    assert_eq!(
        th.checksum,
        th.calc_checksum_ipv4(&h, tcp.payload()).unwrap(),
        "TCP checksum"
    );
    Some(Seg {
        src: h
            .source
            .iter()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join("."),
        dst: h
            .destination
            .iter()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join("."),
        sport: th.source_port,
        dport: th.destination_port,
        syn: th.syn,
        ack_flag: th.ack,
        fin: th.fin,
        rst: th.rst,
        seq: th.sequence_number,
        ack: th.acknowledgment_number,
        payload: tcp.payload().to_vec(),
    })
}

/// The lines of `simulated.jsonl` (none when the file is absent).
pub fn simulated(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("simulated.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
