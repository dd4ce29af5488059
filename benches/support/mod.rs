//! Workloads shared by the pipeline benches: topologies, frames, and established flows.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use vpcsim_controlplane::{compile, load_files, LoadOptions};
use vpcsim_dataplane::wire::Header;
use vpcsim_dataplane::wire::{self, tcp_flags, IpProtocol, L4Spec, LinkType, Meta, PacketSpec};
use vpcsim_dataplane::{process, Disposition, NoTrace, Origin, State, Timestamp, Topology};

pub const FLOWS: usize = 10_000;

/// A topology of the repository, by path relative to its root.
pub fn topology(rel: &str) -> Topology {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let loaded = load_files(&[path], &LoadOptions::default());
    assert!(!loaded.has_errors(), "{rel} must load");
    compile(&loaded.model)
}

pub fn frame(h: &Header, flags: u8) -> Vec<u8> {
    let mut out = Vec::new();
    wire::build(
        &PacketSpec {
            src: h.src,
            dst: h.dst,
            src_mac: [2, 0, 0, 0, 0, 1],
            dst_mac: [2, 0, 0, 0, 0, 2],
            ttl: 64,
            l4: L4Spec::Tcp {
                src_port: h.src_port,
                dst_port: h.dst_port,
                seq: 1,
                ack: 1,
                flags,
                window: 1024,
            },
            payload_len: 0,
        },
        &mut out,
    );
    out
}

pub fn parse(f: &[u8]) -> Meta {
    wire::parse(LinkType::Ethernet, f).expect("bench frames parse")
}

pub fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

/// Open each TCP flow `(src, dst, sport, dport)` (SYN, then the reply the destination sends to
/// the header it received) and return both directions' established frames (64 bytes) with the
/// state that knows them.
pub fn establish(
    topo: &Topology,
    flows: impl Iterator<Item = (IpAddr, IpAddr, u16, u16)>,
) -> (Vec<Vec<u8>>, State) {
    let mut state = State::default();
    let now = Timestamp::from_secs(1_700_000_000);
    let mut frames = Vec::new();
    for (i, (src, dst, sport, dport)) in flows.enumerate() {
        let mut h = Header {
            src,
            dst,
            proto: IpProtocol::TCP,
            src_port: sport,
            dst_port: dport,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: tcp_flags::SYN,
            ttl: 64,
            len: 40,
        };
        let mut open = |h: &Header, flags: u8, what: &str| {
            let v = process(
                topo,
                &mut state,
                &parse(&frame(h, flags)),
                Origin::Auto,
                now,
                &mut NoTrace,
            );
            assert_ne!(
                v.disposition,
                Disposition::Dropped,
                "setup {what} {i} dropped: {:?}",
                v.reason
            );
            v
        };
        let reply = open(&h, tcp_flags::SYN, "flow").header.reply();
        open(&reply, tcp_flags::SYN | tcp_flags::ACK, "reply");
        h.tcp_flags = tcp_flags::ACK;
        frames.push(frame(&h, tcp_flags::ACK));
        frames.push(frame(&reply, tcp_flags::ACK));
    }
    (frames, state)
}

/// The foundation workload on examples/two-tier.yaml: app instances to the internet through
/// the NAT gateway, the internet to the web server's Elastic IP, web to app across subnets.
pub fn foundation_flows(topo: &Topology) -> impl Iterator<Item = (IpAddr, IpAddr, u16, u16)> {
    let web_public = topo
        .enis
        .iter()
        .find_map(|e| e.public_for(Ipv4Addr::new(10, 0, 1, 20)))
        .expect("web has an EIP");
    (0..FLOWS).map(move |i| {
        let port = 1024 + (i % 60_000) as u16;
        let app = if i % 2 == 0 {
            v4([10, 0, 2, 30])
        } else {
            v4([10, 0, 3, 4])
        };
        let internet = v4([198, 51, 100, (i % 250) as u8 + 1]);
        match i % 3 {
            0 => (app, internet, port, 443),
            1 => (internet, IpAddr::V4(web_public), port, 443),
            _ => (v4([10, 0, 1, 20]), app, port, 8080),
        }
    })
}
