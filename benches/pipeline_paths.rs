//! The whole pipeline per packet along three paths, measured in one run so their ratios come
//! from the same (noisy) machine:
//!
//! - `paths/foundation`: the `pipeline/process_10k_flows_established` workload of
//!   `benches/pipeline.rs` (examples/two-tier.yaml: NAT gateway, internet to an Elastic IP, web
//!   to app).
//! - `paths/transit_gateway`: spoke to spoke through a transit gateway
//!   (tests/fixtures/tgw/spokes.yaml: SG, route to the TGW, attachment subnet NACL, TGW route
//!   table, the other VPC's route table, NACL, SG).
//! - `paths/network_load_balancer`: clients to an NLB and the targets' replies
//!   (examples/nlb.yaml: internet clients through the IGW to instance targets that keep the
//!   client address, and clients in the VPC to ip targets that see the node's address).
//!
//! Each has 10,000 flows; setup opens every connection (SYN, SYN-ACK) so the measured loop is
//! both directions of established flows, 64-byte frames, state kept.
//!
//! `cargo bench --bench pipeline_paths`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use vpcsim_controlplane::{compile, load_files, LoadOptions};
use vpcsim_dataplane::flow::Header;
use vpcsim_dataplane::packet::{self, tcp_flags, L4Spec, LinkType, Meta, PacketSpec};
use vpcsim_dataplane::{process, Disposition, NoTrace, Origin, State, Timestamp, Topology};

const FLOWS: usize = 10_000;

fn topology(rel: &str) -> Topology {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let loaded = load_files(&[path], &LoadOptions::default());
    assert!(!loaded.has_errors(), "{rel} must load");
    compile(&loaded.model)
}

fn frame(h: &Header, flags: u8) -> Vec<u8> {
    let mut out = Vec::new();
    packet::build(
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

fn parse(f: &[u8]) -> Meta {
    packet::parse(LinkType::Ethernet, f).expect("bench frames parse")
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

/// Open each flow (SYN, then the reply the destination sends to the header it received) and
/// return both directions' established frames with the state that knows them.
fn establish(
    topo: &Topology,
    flows: impl Iterator<Item = (IpAddr, IpAddr, u16, u16)>,
) -> (Vec<Meta>, State) {
    let mut state = State::default();
    let now = Timestamp::from_secs(1_700_000_000);
    let mut metas = Vec::new();
    for (i, (src, dst, sport, dport)) in flows.enumerate() {
        let mut h = Header {
            src,
            dst,
            proto: 6,
            src_port: sport,
            dst_port: dport,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: tcp_flags::SYN,
            ttl: 64,
            len: 40,
        };
        let v = process(
            topo,
            &mut state,
            &parse(&frame(&h, tcp_flags::SYN)),
            Origin::Auto,
            now,
            &mut NoTrace,
        );
        assert_ne!(
            v.disposition,
            Disposition::Dropped,
            "setup flow {i} dropped: {:?}",
            v.reason
        );
        let reply = v.header.reply();
        let rv = process(
            topo,
            &mut state,
            &parse(&frame(&reply, tcp_flags::SYN | tcp_flags::ACK)),
            Origin::Auto,
            now,
            &mut NoTrace,
        );
        assert_ne!(
            rv.disposition,
            Disposition::Dropped,
            "setup reply {i} dropped: {:?}",
            rv.reason
        );
        h.tcp_flags = tcp_flags::ACK;
        metas.push(parse(&frame(&h, tcp_flags::ACK)));
        metas.push(parse(&frame(&reply, tcp_flags::ACK)));
    }
    (metas, state)
}

fn foundation(topo: &Topology) -> (Vec<Meta>, State) {
    let web_public = topo
        .enis
        .iter()
        .find_map(|e| e.public_for(Ipv4Addr::new(10, 0, 1, 20)))
        .expect("web has an EIP");
    establish(
        topo,
        (0..FLOWS).map(|i| {
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
        }),
    )
}

fn transit_gateway(topo: &Topology) -> (Vec<Meta>, State) {
    establish(
        topo,
        (0..FLOWS).map(|i| {
            let port = 1024 + (i % 60_000) as u16;
            let (a, b) = (v4([10, 1, 1, 10]), v4([10, 2, 1, 10]));
            if i % 2 == 0 {
                (a, b, port, 443)
            } else {
                (b, a, port, 8443)
            }
        }),
    )
}

fn network_load_balancer(topo: &Topology) -> (Vec<Meta>, State) {
    establish(
        topo,
        (0..FLOWS).map(|i| {
            let port = 1024 + (i % 60_000) as u16;
            let internet = v4([198, 51, 100, (i % 250) as u8 + 1]);
            // Node A's Elastic IP and node B's public IP; node A's private address.
            match i % 3 {
                0 => (internet, v4([198, 18, 0, 1]), port, 80),
                1 => (internet, v4([198, 18, 0, 2]), port, 80),
                _ => (v4([10, 0, 20, 5]), v4([10, 0, 0, 100]), port, 8080),
            }
        }),
    )
}

/// Builds a path's packets and the state that makes their flows established.
type Workload = fn(&Topology) -> (Vec<Meta>, State);

fn bench(c: &mut Criterion) {
    let paths: [(&str, &str, Workload); 3] = [
        ("foundation", "examples/two-tier.yaml", foundation),
        (
            "transit_gateway",
            "tests/fixtures/tgw/spokes.yaml",
            transit_gateway,
        ),
        (
            "network_load_balancer",
            "examples/nlb.yaml",
            network_load_balancer,
        ),
    ];
    let now = Timestamp::from_secs(1_700_000_001);
    let mut g = c.benchmark_group("paths");
    for (name, file, workload) in paths {
        let topo = topology(file);
        let (metas, mut state) = workload(&topo);
        // Every measured packet must pass: a drop would make the path look cheaper than it is.
        for m in &metas {
            let v = process(&topo, &mut state, m, Origin::Auto, now, &mut NoTrace);
            assert_ne!(
                v.disposition,
                Disposition::Dropped,
                "{name}: {:?}",
                v.reason
            );
        }
        g.throughput(Throughput::Elements(metas.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                for m in &metas {
                    let v = process(&topo, &mut state, m, Origin::Auto, now, &mut NoTrace);
                    black_box(v.disposition);
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
