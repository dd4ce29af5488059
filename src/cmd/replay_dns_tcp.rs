//! The VPC resolver over TCP port 53 in `replay` (SPEC §21.1: the resolver answers on UDP and
//! TCP). Each segment the asker sends gets the resolver's segment back, without connection
//! state: a SYN its SYN-ACK (the resolver accepts), a segment carrying queries (each behind its
//! 2-byte length, RFC 1035 §4.2.2) the responses the same way, a FIN its FIN-ACK. Sequence
//! numbers come from the segment itself: the resolver's initial sequence number is a hash of the
//! connection's addresses and ports, and afterwards the asker's acknowledgment number says
//! where the resolver's stream is.

use super::replay_dns::{respond, DnsAnswer};
use etherparse::PacketBuilder;
use std::net::IpAddr;
use vpcsim_dataplane::pipeline::exchange::REPLY_DELAY_NS;
use vpcsim_dataplane::topology::EniIdx;
use vpcsim_dataplane::wire::Meta;
use vpcsim_dataplane::{Timestamp, Topology};

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// The resolver's receive window in its segments.
const WINDOW: u16 = 65535;

/// The fields of the asker's segment the answer depends on.
struct Segment<'a> {
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &'a [u8],
}

/// The TCP segment of a frame, its payload bounded by the IP length (not the Ethernet padding).
fn segment<'a>(meta: &Meta, data: &'a [u8]) -> Option<Segment<'a>> {
    let l3 = usize::from(meta.l3_offset);
    let l4 = usize::from(meta.l4_offset);
    let ip_end = match data.get(l3)? >> 4 {
        4 => l3 + usize::from(u16::from_be_bytes([*data.get(l3 + 2)?, *data.get(l3 + 3)?])),
        6 => l3 + 40 + usize::from(u16::from_be_bytes([*data.get(l3 + 4)?, *data.get(l3 + 5)?])),
        _ => return None,
    };
    let tcp = data.get(l4..ip_end.min(data.len()))?;
    let word = |i: usize| Some(u32::from_be_bytes(tcp.get(i..i + 4)?.try_into().ok()?));
    let header_len = usize::from(tcp.get(12)? >> 4) * 4;
    Some(Segment {
        seq: word(4)?,
        ack: word(8)?,
        flags: *tcp.get(13)?,
        payload: tcp.get(header_len..)?,
    })
}

/// The resolver's initial sequence number on a connection: stable for a given connection, so
/// that a replay writes the same bytes every run.
fn initial_sequence(src: (IpAddr, u16), dst: (IpAddr, u16)) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    let text = format!("{}:{}>{}:{}", src.0, src.1, dst.0, dst.1);
    for b in text.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h
}

/// The responses to the whole DNS messages of a stream chunk, each behind its length; `None`
/// when the chunk holds no whole query.
fn responses(topo: &Topology, eni: EniIdx, mut stream: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    while stream.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([stream[0], stream[1]]));
        let Some(msg) = stream.get(2..2 + len) else {
            break;
        };
        if let Some((_, r)) = respond(topo, eni, msg) {
            // A TCP message holds at most 65,535 bytes; vpcsim's answers never come near.
            let n = u16::try_from(r.len()).ok()?;
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(&r);
        }
        stream = &stream[2 + len..];
    }
    (!out.is_empty()).then_some(out)
}

/// The resolver's segment in reply to a segment to TCP port 53 from interface `eni`.
pub fn answer(
    topo: &Topology,
    eni: EniIdx,
    meta: &Meta,
    data: &[u8],
    ts: Timestamp,
    router_mac: [u8; 6],
) -> Option<DnsAnswer> {
    let h = &meta.header;
    let s = segment(meta, data)?;
    if s.flags & RST != 0 {
        return None;
    }
    let isn = initial_sequence((h.src, h.src_port), (h.dst, h.dst_port));
    let (seq, ack, flags, payload) = if s.flags & SYN != 0 {
        (isn, s.seq.wrapping_add(1), SYN | ACK, Vec::new())
    } else {
        let seq = if s.flags & ACK != 0 {
            s.ack
        } else {
            isn.wrapping_add(1)
        };
        let fin = u32::from(s.flags & FIN != 0);
        let consumed = u32::try_from(s.payload.len()).ok()?;
        let ack = s.seq.wrapping_add(consumed).wrapping_add(fin);
        let payload = responses(topo, eni, s.payload).unwrap_or_default();
        // A bare acknowledgment needs nothing back.
        if payload.is_empty() && fin == 0 {
            return None;
        }
        let flags = ACK | if fin == 1 { FIN } else { 0 };
        (seq, ack, flags, payload)
    };
    let frame = write_segment(
        (h.dst, h.dst_port),
        (h.src, h.src_port),
        (router_mac, topo.enis[eni].mac),
        (seq, ack, flags),
        &payload,
    )?;
    Some(DnsAnswer {
        to: topo.enis[eni].owner,
        ts: Timestamp(ts.0 + REPLY_DELAY_NS),
        frame,
    })
}

/// An Ethernet frame with one TCP segment, checksums computed.
fn write_segment(
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    (src_mac, dst_mac): ([u8; 6], [u8; 6]),
    (seq, ack, flags): (u32, u32, u8),
    payload: &[u8],
) -> Option<Vec<u8>> {
    const TTL: u8 = 64;
    let eth = PacketBuilder::ethernet2(src_mac, dst_mac);
    let ip = match (src.0, dst.0) {
        (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), TTL),
        (IpAddr::V6(s), IpAddr::V6(d)) => eth.ipv6(s.octets(), d.octets(), TTL),
        _ => return None,
    };
    let mut b = ip.tcp(src.1, dst.1, seq, WINDOW).ack(ack);
    if flags & SYN != 0 {
        b = b.syn();
    }
    if flags & FIN != 0 {
        b = b.fin();
    }
    if !payload.is_empty() {
        b = b.psh();
    }
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).ok()?;
    Some(out)
}
