//! Benchmarks of `vpcsim_dataplane::tables::lpm` (Poptrie longest-prefix match).
//!
//! Groups:
//! - `lpm_v4_1k`, `lpm_v4_100k`, `lpm_v4_1M`: random IPv4 prefixes with a length mix shaped
//!   like a real Internet table (mostly /24, /8–/32 overall), looked up with uniformly
//!   random addresses.
//! - `lpm_v6_100k`: random IPv6 prefixes /32–/64 under 2000::/3 (mostly /48 and /32), looked
//!   up with addresses of which half fall inside a stored prefix and half are random
//!   under 2000::/3.
//!
//! Each iteration looks up 1024 addresses taken in turn from a pool of 2^20 pre-generated
//! ones, so successive iterations touch different parts of the table (the table is not
//! artificially kept hot by reusing the same 1024 addresses). Throughput is reported in
//! lookups (elements) per second. Build time and `memory_bytes` are printed once per
//! table on stderr.
//!
//! Run: `cargo bench --bench lpm -- --warm-up-time 1 --measurement-time 3`

// criterion_group! defines an undocumented `pub fn`; a bench has no API to document.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vpcsim_dataplane::tables::lpm::{Lpm, LpmBuilder, LpmKey};

/// Lookups per criterion iteration.
const BATCH: usize = 1024;
/// Pre-generated lookup addresses (a power of two).
const POOL: usize = 1 << 20;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn u128(&mut self) -> u128 {
        ((self.next() as u128) << 64) | self.next() as u128
    }
}

/// An IPv4 prefix length drawn from a distribution roughly like a full BGP table:
/// ~56% /24, ~22% /22–/23, ~17% /16–/21, ~1% /8–/15, ~5% /25–/32.
fn v4_len(rng: &mut Rng) -> u8 {
    // (length, weight per mille)
    const WEIGHTS: &[(u8, u32)] = &[
        (8, 1),
        (9, 1),
        (10, 1),
        (11, 1),
        (12, 1),
        (13, 1),
        (14, 1),
        (15, 1),
        (16, 15),
        (17, 10),
        (18, 15),
        (19, 30),
        (20, 45),
        (21, 50),
        (22, 120),
        (23, 100),
        (24, 560),
        (25, 8),
        (26, 8),
        (27, 8),
        (28, 8),
        (29, 6),
        (30, 5),
        (31, 2),
        (32, 3),
    ];
    let total: u32 = WEIGHTS.iter().map(|w| w.1).sum();
    let mut r = rng.below(total as u64) as u32;
    for &(len, w) in WEIGHTS {
        if r < w {
            return len;
        }
        r -= w;
    }
    24
}

/// An IPv6 prefix length in /32–/64: 15% /32, 25% /33–/47, 50% /48, 10% /49–/64.
fn v6_len(rng: &mut Rng) -> u8 {
    match rng.below(100) {
        0..=14 => 32,
        15..=39 => 33 + rng.below(15) as u8,
        40..=89 => 48,
        _ => 49 + rng.below(16) as u8,
    }
}

/// Builds the table, printing build time and footprint once.
fn build<K: LpmKey>(name: &str, builder: &LpmBuilder<K>, insert_secs: f64) -> Lpm<K> {
    let start = Instant::now();
    let lpm = builder.build();
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{name}: {} prefixes, insert {:.1} ms, build {:.1} ms, memory_bytes {} ({:.2} MiB, {:.1} B/prefix); {lpm:?}",
        lpm.len(),
        insert_secs * 1e3,
        secs * 1e3,
        lpm.memory_bytes(),
        lpm.memory_bytes() as f64 / (1024.0 * 1024.0),
        lpm.memory_bytes() as f64 / lpm.len().max(1) as f64,
    );
    lpm
}

/// Benchmarks lookups of `addrs` (taken BATCH at a time, in turn) in `lpm`.
fn bench_lookups<K: LpmKey>(c: &mut Criterion, group: &str, lpm: &Lpm<K>, addrs: &[K]) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(BATCH as u64));
    let mut pos = 0usize;
    g.bench_function("lookup", |b| {
        b.iter(|| {
            let batch = &addrs[pos..pos + BATCH];
            pos = (pos + BATCH) % addrs.len();
            let mut acc = 0u32;
            for &a in batch {
                acc = acc.wrapping_add(lpm.lookup(black_box(a)).unwrap_or(1));
            }
            acc
        })
    });
    g.finish();
}

fn bench_v4(c: &mut Criterion) {
    for (label, n) in [("1k", 1_000), ("100k", 100_000), ("1M", 1_000_000)] {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ n as u64);
        let mut builder = LpmBuilder::<u32>::new();
        let start = Instant::now();
        let mut value = 0u32;
        while builder.len() < n {
            builder.insert(rng.next() as u32, v4_len(&mut rng), value);
            value += 1;
        }
        let insert_secs = start.elapsed().as_secs_f64();
        let name = format!("lpm_v4_{label}");
        let lpm = build(&name, &builder, insert_secs);
        drop(builder);
        let addrs: Vec<u32> = (0..POOL).map(|_| rng.next() as u32).collect();
        let hits = addrs.iter().filter(|&&a| lpm.lookup(a).is_some()).count();
        eprintln!(
            "{name}: {:.1}% of lookup addresses match a route",
            100.0 * hits as f64 / POOL as f64
        );
        bench_lookups(c, &name, &lpm, &addrs);
    }
}

fn bench_v6(c: &mut Criterion) {
    const N: usize = 100_000;
    /// 2000::/3, where all global unicast routes live.
    const GLOBAL: u128 = 0x2000_u128 << 112;
    let under_global = |x: u128| GLOBAL | (x >> 3);
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut builder = LpmBuilder::<u128>::new();
    let mut prefixes = Vec::with_capacity(N);
    let start = Instant::now();
    let mut value = 0u32;
    while builder.len() < N {
        let (p, len) = (under_global(rng.u128()), v6_len(&mut rng));
        builder.insert(p, len, value);
        prefixes.push((p, len));
        value += 1;
    }
    let insert_secs = start.elapsed().as_secs_f64();
    let name = "lpm_v6_100k";
    let lpm = build(name, &builder, insert_secs);
    drop(builder);
    let addrs: Vec<u128> = (0..POOL)
        .map(|i| {
            if i % 2 == 0 {
                let (p, len) = prefixes[rng.below(prefixes.len() as u64) as usize];
                let host = u128::MAX >> len;
                (p & !host) | (rng.u128() & host)
            } else {
                under_global(rng.u128())
            }
        })
        .collect();
    let hits = addrs.iter().filter(|&&a| lpm.lookup(a).is_some()).count();
    eprintln!(
        "{name}: {:.1}% of lookup addresses match a route",
        100.0 * hits as f64 / POOL as f64
    );
    bench_lookups(c, name, &lpm, &addrs);
}

criterion_group!(benches, bench_v4, bench_v6);
criterion_main!(benches);
