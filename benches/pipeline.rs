//! The whole pipeline per packet on the example topology, 10,000 flows, state kept.
//!
//! Traffic: app instances to the internet through the NAT gateway (SG + NACL + LPM + NAT + IGW),
//! the internet to the web server's Elastic IP, and web to app across subnets; both directions of
//! every flow, 64-byte frames. Setup opens every connection (SYN, SYN-ACK) so the measured loop is
//! the steady state of established flows: conntrack hits, NAT translations, route lookups, NACLs.
//!
//! `cargo bench --bench pipeline`

// criterion_group! defines an undocumented `pub fn`; a bench has no API to document.
#![allow(missing_docs)]

mod support;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use support::{establish, foundation_flows, parse, topology};
use vpcsim_dataplane::topology::NaclIdx;
use vpcsim_dataplane::wire::Header;
use vpcsim_dataplane::wire::Meta;
use vpcsim_dataplane::{process, NoTrace, Origin, Timestamp};

fn bench(c: &mut Criterion) {
    let topo = topology("examples/two-tier.yaml");
    let (frames, mut state) = establish(&topo, foundation_flows(&topo));
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
        .find(|s| topo.name(s.res) == "PrivateSubnetA")
        .map_or(NaclIdx(0), |s| s.network_acl)];
    let app_eni = topo
        .owner_of("10.0.2.30".parse().unwrap())
        .expect("app instance");
    let rules = &topo.enis[app_eni].sg_egress;
    let headers: Vec<Header> = metas.iter().map(|m| m.header).collect();
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
                black_box(vpcsim_dataplane::tables::sg::evaluate(rules, h, h.dst, true).is_some());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
