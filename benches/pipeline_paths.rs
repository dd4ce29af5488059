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
//! After criterion's measurements the bench prints the ratios of the paths to the foundation,
//! measured interleaved: round after round, one pass of every path's packets back to back,
//! the ratio taken per round and the median reported. On a shared machine the throughput of
//! each path swings by a factor of two within seconds; a few milliseconds apart, the paths see
//! the same machine, so their ratio is stable where criterion's separate numbers are not.
//!
//! `cargo bench --bench pipeline_paths`

// criterion_group! defines an undocumented `pub fn`; a bench has no API to document.
#![allow(missing_docs)]

mod support;

use criterion::{criterion_group, Criterion, Throughput};
use std::hint::black_box;
use std::net::IpAddr;
use std::time::Instant;
use support::{establish, foundation_flows, parse, topology, v4, FLOWS};
use vpcsim_dataplane::wire::Meta;
use vpcsim_dataplane::{process, Disposition, NoTrace, Origin, State, Timestamp, Topology};

/// Established frames of `flows`, parsed once: the paths measure the pipeline, not the parser.
fn metas(
    topo: &Topology,
    flows: impl Iterator<Item = (IpAddr, IpAddr, u16, u16)>,
) -> (Vec<Meta>, State) {
    let (frames, state) = establish(topo, flows);
    (frames.iter().map(|f| parse(f)).collect(), state)
}

fn foundation(topo: &Topology) -> (Vec<Meta>, State) {
    metas(topo, foundation_flows(topo))
}

fn transit_gateway(topo: &Topology) -> (Vec<Meta>, State) {
    metas(
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
    metas(
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

/// The paths, each with the topology it runs on.
const PATHS: [(&str, &str, Workload); 3] = [
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

/// A path ready to run: its topology, packets and state.
struct Path {
    name: &'static str,
    topo: Topology,
    metas: Vec<Meta>,
    state: State,
}

const NOW: Timestamp = Timestamp::from_secs(1_700_000_001);

fn paths() -> Vec<Path> {
    PATHS
        .iter()
        .map(|&(name, file, workload)| {
            let topo = topology(file);
            let (metas, mut state) = workload(&topo);
            // Every measured packet must pass: a drop would make the path look cheaper than it is.
            for m in &metas {
                let v = process(&topo, &mut state, m, Origin::Auto, NOW, &mut NoTrace);
                assert_ne!(
                    v.disposition,
                    Disposition::Dropped,
                    "{name}: {:?}",
                    v.reason
                );
            }
            Path {
                name,
                topo,
                metas,
                state,
            }
        })
        .collect()
}

impl Path {
    fn run(&mut self) {
        for m in &self.metas {
            let v = process(
                &self.topo,
                &mut self.state,
                m,
                Origin::Auto,
                NOW,
                &mut NoTrace,
            );
            black_box(v.disposition);
        }
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("paths");
    for mut p in paths() {
        g.throughput(Throughput::Elements(p.metas.len() as u64));
        g.bench_function(p.name, |b| b.iter(|| p.run()));
    }
    g.finish();
}

/// Rounds of the interleaved comparison: about three seconds.
const ROUNDS: usize = 200;

/// Each path's throughput relative to the foundation's, measured interleaved (see the module
/// documentation): median and quartiles over the rounds.
fn interleaved() {
    let mut paths = paths();
    for p in &mut paths {
        p.run(); // warm the caches and the tables
    }
    let mut ratios = vec![Vec::with_capacity(ROUNDS); paths.len()];
    for _ in 0..ROUNDS {
        let pps: Vec<f64> = paths
            .iter_mut()
            .map(|p| {
                let t = Instant::now();
                p.run();
                p.metas.len() as f64 / t.elapsed().as_secs_f64()
            })
            .collect();
        for (r, x) in ratios.iter_mut().zip(&pps) {
            r.push(x / pps[0]);
        }
    }
    println!(
        "interleaved, {ROUNDS} rounds: throughput relative to paths/foundation (median, quartiles)"
    );
    for (p, r) in paths.iter().zip(&mut ratios).skip(1) {
        r.sort_by(f64::total_cmp);
        let q = |f: f64| 100.0 * r[((r.len() - 1) as f64 * f).round() as usize];
        println!(
            "  paths/{:<24} {:5.1}%  ({:.1}%–{:.1}%)",
            p.name,
            q(0.5),
            q(0.25),
            q(0.75)
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo bench` passes --bench; `cargo test --benches` runs each benchmark once, without it.
    if std::env::args().any(|a| a == "--bench") {
        interleaved();
    }
}
