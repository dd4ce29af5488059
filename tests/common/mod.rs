//! Shared helpers for the integration tests: run the real `vpcsim` binary, build small captures.
#![allow(dead_code)]

use etherparse::PacketBuilder;
use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled example topology.
pub fn example() -> PathBuf {
    root().join("examples/two-tier.yaml")
}

/// A fixture under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// The third-party corpus, when present beside the checkout.
pub fn corpus(sub: &str) -> Option<PathBuf> {
    let p = root().join("../shared/corpus").join(sub);
    p.is_dir().then_some(p)
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `vpcsim` with arguments; the exit code is -1 when it was killed (e.g. by a panic abort).
pub fn vpcsim<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_vpcsim"))
        .args(args)
        .output()
        .expect("run vpcsim");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `vpcsim trace --json` on a topology; extra arguments follow the flow.
pub fn trace(topology: &Path, flow: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "trace".to_string(),
        "-t".into(),
        topology.display().to_string(),
        flow.into(),
        "--json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = vpcsim(&args);
    assert!(
        out.code == 0 || out.code == 1,
        "trace failed ({}): {}",
        out.code,
        out.stderr
    );
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {}", out.stdout))
}

/// Assert a trace's disposition, reason and deciding resource.
pub fn assert_verdict(v: &Value, disposition: &str, reason: Option<&str>, at: &str) {
    assert_eq!(v["disposition"], disposition, "{v:#}");
    assert_eq!(v["reason"].as_str(), reason, "{v:#}");
    assert_eq!(v["at"], at, "{v:#}");
}

/// A frame to put in a test capture.
pub struct Frame {
    pub ts_ns: u64,
    pub data: Vec<u8>,
}

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 2];

fn builder(
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
) -> etherparse::PacketBuilderStep<etherparse::IpHeaders> {
    let eth = PacketBuilder::ethernet2(MAC_A, MAC_B);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), ttl),
        (IpAddr::V6(s), IpAddr::V6(d)) => eth.ipv6(s.octets(), d.octets(), ttl),
        _ => panic!("mixed address families"),
    }
}

/// An Ethernet TCP segment with the given flags (SYN=2, ACK=16, FIN=1, RST=4, PSH=8).
pub fn tcp(src: &str, sport: u16, dst: &str, dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    tcp_ttl(src, sport, dst, dport, flags, payload, 64)
}

pub fn tcp_ttl(
    src: &str,
    sport: u16,
    dst: &str,
    dport: u16,
    flags: u8,
    payload: &[u8],
    ttl: u8,
) -> Vec<u8> {
    let mut b =
        builder(src.parse().unwrap(), dst.parse().unwrap(), ttl).tcp(sport, dport, 1000, 64240);
    if flags & 0x02 != 0 {
        b = b.syn();
    }
    if flags & 0x10 != 0 {
        b = b.ack(1);
    }
    if flags & 0x01 != 0 {
        b = b.fin();
    }
    if flags & 0x04 != 0 {
        b = b.rst();
    }
    if flags & 0x08 != 0 {
        b = b.psh();
    }
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

pub fn udp(src: &str, sport: u16, dst: &str, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    builder(src.parse().unwrap(), dst.parse().unwrap(), 64)
        .udp(sport, dport)
        .write(&mut out, payload)
        .unwrap();
    out
}

/// ICMP (or ICMPv6) echo request (`request`) or reply.
pub fn echo(src: &str, dst: &str, id: u16, request: bool) -> Vec<u8> {
    let (s, d): (IpAddr, IpAddr) = (src.parse().unwrap(), dst.parse().unwrap());
    let b = builder(s, d, 64);
    let mut out = Vec::new();
    match (s.is_ipv4(), request) {
        (true, true) => b
            .icmpv4_echo_request(id, 1)
            .write(&mut out, b"ping")
            .unwrap(),
        (true, false) => b.icmpv4_echo_reply(id, 1).write(&mut out, b"ping").unwrap(),
        (false, true) => b
            .icmpv6_echo_request(id, 1)
            .write(&mut out, b"ping")
            .unwrap(),
        (false, false) => b.icmpv6_echo_reply(id, 1).write(&mut out, b"ping").unwrap(),
    }
    out
}

/// Write a little-endian microsecond pcap with the given link type.
pub fn write_pcap(path: &Path, linktype: u32, frames: &[Frame]) {
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&0i32.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&262_144u32.to_le_bytes());
    b.extend_from_slice(&linktype.to_le_bytes());
    for f in frames {
        b.extend_from_slice(&((f.ts_ns / 1_000_000_000) as u32).to_le_bytes());
        b.extend_from_slice(&(((f.ts_ns % 1_000_000_000) / 1000) as u32).to_le_bytes());
        b.extend_from_slice(&(f.data.len() as u32).to_le_bytes());
        b.extend_from_slice(&(f.data.len() as u32).to_le_bytes());
        b.extend_from_slice(&f.data);
    }
    std::fs::write(path, b).unwrap();
}

/// Frames one second apart starting at 1,700,000,000 s.
pub fn frames(data: Vec<Vec<u8>>) -> Vec<Frame> {
    data.into_iter()
        .enumerate()
        .map(|(i, d)| Frame {
            ts_ns: (1_700_000_000 + i as u64) * 1_000_000_000,
            data: d,
        })
        .collect()
}

/// Replay a capture through a topology into `out`; returns the verdict lines. Panics on failure.
pub fn replay(topology: &Path, capture: &Path, out: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec![
        "replay".to_string(),
        "-t".into(),
        topology.display().to_string(),
        "--in".into(),
        capture.display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--quiet".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = vpcsim(&args);
    assert_eq!(o.code, 0, "replay failed: {}{}", o.stdout, o.stderr);
    verdicts(out)
}

pub fn verdicts(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("verdicts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
