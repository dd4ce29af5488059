//! ALB requests per second through `vpcsim replay`: HTTP requests to the Application Load
//! Balancer of `examples/web-app.yaml` with simulated hosts (`examples/web-app.hosts.yaml`).
//!
//! The capture (written once to `target/alb-replay-rps.pcap`): 2,000 one-sided client
//! connections from 250 internet addresses to the two nodes, each a handshake, one `GET`
//! (half `/api/...` to the API targets, half `/` to the web targets) and a FIN. Each replay
//! runs every connection end to end: the node's stack, WAF, rules, the backend connection to
//! the target's stack and back, the response to the client, access and WAF logs, outputs. The
//! bench runs the `vpcsim` binary, so the number includes loading the topology (a few ms).
//!
//! `cargo bench --bench alb_replay_rps`

// criterion_group! defines an undocumented `pub fn`; a bench has no API to document.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::{Path, PathBuf};
use std::process::Command;

const REQUESTS: u64 = 2_000;

fn segment(client: ([u8; 4], u16), node: [u8; 4], flags: u8, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut b = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(client.0, node, 64)
        .tcp(client.1, 80, seq, 64240);
    b = if flags & 0x02 != 0 { b.syn() } else { b.ack(2) };
    if flags & 0x01 != 0 {
        b = b.fin();
    }
    let mut out = Vec::new();
    b.write(&mut out, payload).expect("a small frame");
    out
}

/// A little-endian microsecond pcap of the client side of every request.
fn capture(path: &Path) {
    let mut b = Vec::new();
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 262_144, 1] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    let mut t = 1_700_000_000_000_000u64;
    for i in 0..REQUESTS {
        let client = ([203, 0, (i % 250) as u8, 10], 20_000 + i as u16);
        let node = [198, 18, 0, 1 + (i % 2) as u8];
        let path = if i % 2 == 0 { "/api/items" } else { "/" };
        let req =
            format!("GET {path} HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: bench\r\n\r\n");
        let frames = [
            segment(client, node, 0x02, 1000, b""),
            segment(client, node, 0x10, 1001, b""),
            segment(client, node, 0x10, 1001, req.as_bytes()),
            segment(client, node, 0x11, 1001 + req.len() as u32, b""),
        ];
        for f in frames {
            b.extend_from_slice(&((t / 1_000_000) as u32).to_le_bytes());
            b.extend_from_slice(&((t % 1_000_000) as u32).to_le_bytes());
            b.extend_from_slice(&(f.len() as u32).to_le_bytes());
            b.extend_from_slice(&(f.len() as u32).to_le_bytes());
            b.extend_from_slice(&f);
            t += 100;
        }
    }
    std::fs::write(path, b).expect("the capture is written");
}

fn bench(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let pcap = root.join("target/alb-replay-rps.pcap");
    capture(&pcap);
    let out = root.join("target/alb-replay-rps-out");
    let replay = || {
        let o = Command::new(env!("CARGO_BIN_EXE_vpcsim"))
            .args(["replay", "-t"])
            .arg(root.join("examples/web-app.yaml"))
            .arg("--hosts")
            .arg(root.join("examples/web-app.hosts.yaml"))
            .arg("--in")
            .arg(&pcap)
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .output()
            .expect("vpcsim runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    replay();
    let log = std::fs::read_to_string(out.join("alb/Alb.log")).expect("the access log");
    assert_eq!(log.lines().count() as u64, REQUESTS);
    assert!(
        log.lines().all(|l| l.contains(" 200 200 ")),
        "every request answered 200"
    );
    let mut g = c.benchmark_group("alb_replay");
    g.sample_size(10);
    g.throughput(Throughput::Elements(REQUESTS));
    g.bench_function("http_requests_through_alb_2000", |b| b.iter(replay));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
