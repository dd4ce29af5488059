//! The whole pipeline per packet on the example topology, 10,000 flows, state kept.
//!
//! Traffic: app instances to the internet through the NAT gateway (SG + NACL + LPM + NAT + IGW),
//! the internet to the web server's Elastic IP, and web to app across subnets; both directions of
//! every flow, 64-byte frames. Setup opens every connection (SYN, SYN-ACK) so the measured loop is
//! the steady state of established flows: conntrack hits, NAT translations, route lookups, NACLs.
//!
//! `cargo bench --bench pipeline`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use vpcsim_controlplane::{compile, load_files, LoadOptions};
use vpcsim_dataplane::flow::Header;
use vpcsim_dataplane::packet::{self, tcp_flags, L4Spec, LinkType, Meta, PacketSpec};
use vpcsim_dataplane::{process, Disposition, NoTrace, Origin, State, Timestamp, Topology};

const FLOWS: usize = 10_000;

fn topology() -> Topology {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/two-tier.yaml");
    let loaded = load_files(&[path], &LoadOptions::default());
    assert!(!loaded.has_errors(), "example topology must load");
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

/// Frames of established flows in both directions, and the state that knows them.
fn workload(topo: &Topology) -> (Vec<Vec<u8>>, State) {
    let mut state = State::default();
    let now = Timestamp::from_secs(1_700_000_000);
    let app = |i: usize| {
        IpAddr::V4(if i % 2 == 0 {
            Ipv4Addr::new(10, 0, 2, 30)
        } else {
            Ipv4Addr::new(10, 0, 3, 4)
        })
    };
    let web = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 20));
    let web_public = topo
        .enis
        .iter()
        .find_map(|e| e.public_for(Ipv4Addr::new(10, 0, 1, 20)))
        .expect("web has an EIP");
    let mut frames = Vec::new();
    for i in 0..FLOWS {
        let port = 1024 + (i % 60_000) as u16;
        let internet = IpAddr::V4(Ipv4Addr::new(198, 51, 100, (i % 250) as u8 + 1));
        let (src, dst, dport) = match i % 3 {
            0 => (app(i), internet, 443),
            1 => (internet, IpAddr::V4(web_public), 443),
            _ => (web, app(i), 8080),
        };
        let mut h = Header {
            src,
            dst,
            proto: 6,
            src_port: port,
            dst_port: dport,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: tcp_flags::SYN,
            ttl: 64,
            len: 40,
        };
        let syn = frame(&h, tcp_flags::SYN);
        let meta = parse(&syn);
        let v = process(topo, &mut state, &meta, Origin::Auto, now, &mut NoTrace);
        assert_ne!(
            v.disposition,
            Disposition::Dropped,
            "setup flow {i} dropped: {:?}",
            v.reason
        );
        let reply = v.header.reply();
        let synack = frame(&reply, tcp_flags::SYN | tcp_flags::ACK);
        let rv = process(
            topo,
            &mut state,
            &parse(&synack),
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
        frames.push(frame(&h, tcp_flags::ACK));
        frames.push(frame(&reply, tcp_flags::ACK));
    }
    (frames, state)
}

fn parse(f: &[u8]) -> Meta {
    packet::parse(LinkType::Ethernet, f).expect("bench frames parse")
}

fn bench(c: &mut Criterion) {
    let topo = topology();
    let (frames, mut state) = workload(&topo);
    let metas: Vec<Meta> = frames.iter().map(|f| parse(f)).collect();
    let now = Timestamp::from_secs(1_700_000_001);
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(metas.len() as u64));
    g.bench_function("process_10k_flows_established", |b| {
        b.iter(|| {
            for m in &metas {
                let v = process(&topo, &mut state, m, Origin::Auto, now, &mut NoTrace);
                black_box(v.disposition);
            }
        })
    });
    g.bench_function("parse_and_process_10k_flows", |b| {
        b.iter(|| {
            for f in &frames {
                let m = parse(f);
                let v = process(&topo, &mut state, &m, Origin::Auto, now, &mut NoTrace);
                black_box(v.disposition);
            }
        })
    });
    g.bench_function("parse_only", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(parse(f));
            }
        })
    });
    g.finish();

    // Rule evaluation on its own: the example's private NACL and the app interface's groups.
    let mut g = c.benchmark_group("rules");
    let acl = &topo.network_acls[topo
        .subnets
        .iter()
        .position(|s| topo.name(s.res) == "PrivateSubnetA")
        .map(|s| topo.subnets[s].network_acl as usize)
        .unwrap_or(0)];
    let app_eni = topo
        .owner_of("10.0.2.30".parse().unwrap())
        .expect("app instance");
    let rules = &topo.enis[app_eni as usize].sg_egress;
    let headers: Vec<Header> = metas.iter().map(Header::from_meta).collect();
    g.throughput(Throughput::Elements(headers.len() as u64));
    g.bench_function("nacl_ingress_and_egress", |b| {
        b.iter(|| {
            for h in &headers {
                black_box(acl.evaluate_ingress(h).allowed());
                black_box(acl.evaluate_egress(h).allowed());
            }
        })
    });
    g.bench_function("sg_egress_rules", |b| {
        b.iter(|| {
            for h in &headers {
                black_box(vpcsim_dataplane::sg::evaluate(rules, h, h.dst, true).is_some());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
