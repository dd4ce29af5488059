//! The VPC resolver answering in `replay`: a DNS query over UDP delivered to the Amazon DNS
//! server (the VPC's base + 2 or 169.254.169.253) gets its response frame, written to the
//! asking interface's capture. Security groups and network ACLs never see resolver traffic
//! (SPEC §21.1), so the response goes straight back to the interface that asked. A response
//! larger than the asker takes over UDP (512 bytes without EDNS0) is sent truncated, as Route 53
//! does; queries over TCP are answered by [`super::replay_dns_tcp`].

use super::dns::resolve_from;
use vpcsim_dataplane::dns::wire::{parse_query, response, truncated, DnsQuery, UdpFrame};
use vpcsim_dataplane::dns::RecordType;
use vpcsim_dataplane::pipeline::exchange::REPLY_DELAY_NS;
use vpcsim_dataplane::wire::{IpProtocol, Meta};
use vpcsim_dataplane::{Origin, ResId, Timestamp, Topology, Verdict};

/// The resolver's response frame's IPv4 TTL / IPv6 hop limit.
const RESPONSE_TTL: u8 = 64;

/// A response the resolver sends: to the capture of `to`, at `ts`.
pub struct DnsAnswer {
    /// The asking interface's owner (its capture's name).
    pub to: ResId,
    /// When it is sent: a millisecond after the query.
    pub ts: Timestamp,
    /// The Ethernet frame.
    pub frame: Vec<u8>,
}

/// The response to a query frame the pipeline delivered to the Amazon DNS server, if it is a
/// DNS query over UDP or TCP from an interface of a VPC with DNS support.
pub fn answer(
    topo: &Topology,
    meta: &Meta,
    data: &[u8],
    v: &Verdict,
    origin: Origin,
    ts: Timestamp,
    router_mac: [u8; 6],
) -> Option<DnsAnswer> {
    let h = &meta.header;
    if v.delivered_to != Some(Topology::AMAZON_DNS) || h.dst_port != 53 {
        return None;
    }
    let eni = match origin {
        Origin::Eni(e) => e,
        _ => topo.owner_of(h.src)?,
    };
    if h.proto == IpProtocol::TCP {
        return super::replay_dns_tcp::answer(topo, eni, meta, data, ts, router_mac);
    }
    if h.proto != IpProtocol::UDP {
        return None;
    }
    let payload = data.get(usize::from(meta.l4_offset) + 8..)?;
    let (q, mut msg) = respond(topo, eni, payload)?;
    if msg.len() > usize::from(q.udp_payload_size) {
        msg = truncated(&msg);
    }
    let mut frame = Vec::new();
    UdpFrame {
        src: (h.dst, 53),
        dst: (h.src, h.src_port),
        src_mac: router_mac,
        dst_mac: topo.enis[eni].mac,
        ttl: RESPONSE_TTL,
    }
    .write(&msg, &mut frame);
    Some(DnsAnswer {
        to: topo.enis[eni].owner,
        ts: Timestamp(ts.0 + REPLY_DELAY_NS),
        frame,
    })
}

/// The resolver's response message to DNS query message `payload` from interface `eni`; `None`
/// when it sends none (not a query, no DNS support).
pub(super) fn respond(
    topo: &Topology,
    eni: vpcsim_dataplane::topology::EniIdx,
    payload: &[u8],
) -> Option<(DnsQuery, Vec<u8>)> {
    let q = parse_query(payload)?;
    // A type vpcsim does not answer: the name's existence decides NOERROR or NXDOMAIN.
    let qtype = q.qtype.unwrap_or(RecordType::A);
    let (mut r, _) = resolve_from(topo, eni, &q.name, qtype);
    if !r.answered() {
        return None;
    }
    if q.qtype.is_none() {
        r.answers.clear();
    }
    let msg = response(&q, &r);
    Some((q, msg))
}
