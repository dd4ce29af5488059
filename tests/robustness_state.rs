//! State under load (issue 13): every state table is bounded, and a full one is a counted,
//! named event, never a wrong verdict. The captures are built here and replayed through the
//! real binary.

mod common;

use common::{example, vpcsim, write_pcap, Frame};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use tempfile::TempDir;

const T0: u64 = 1_700_000_000 * 1_000_000_000;
const SECOND: u64 = 1_000_000_000;
/// The example's web instance, as the internet reaches it.
const WEB_PUBLIC: [u8; 4] = [198, 18, 0, 3];

/// An Ethernet frame carrying a hand-built IPv4 packet; `offset` is in 8-byte units.
fn ipv4_frame(
    src: [u8; 4],
    dst: [u8; 4],
    id: u16,
    more: bool,
    offset: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&(20 + payload.len() as u16).to_be_bytes());
    ip.extend_from_slice(&id.to_be_bytes());
    ip.extend_from_slice(&((u16::from(more) << 13) | offset).to_be_bytes());
    ip.extend_from_slice(&[64, 6, 0, 0]);
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let sum = ip
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>();
    let sum = (sum & 0xffff) + (sum >> 16);
    let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    ip.extend_from_slice(payload);
    f.extend_from_slice(&ip);
    f
}

/// A TCP SYN header (no options) and four bytes of data: 24 bytes, a whole first fragment.
fn syn(sport: u16, dport: u16) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&1000u32.to_be_bytes());
    s.extend_from_slice(&0u32.to_be_bytes());
    s.extend_from_slice(&[5 << 4, 0x02, 0xfa, 0xf0, 0, 0, 0, 0]);
    s.extend_from_slice(b"data");
    s
}

/// One of 50 internet hosts.
fn host(i: usize) -> [u8; 4] {
    [203, 0, 113, 1 + (i % 50) as u8]
}

/// Datagram `i` of a stream at `rate` per second: two TCP fragments to the web instance's port
/// 443, the second right after the first; each datagram is its own connection.
fn fragmented(i: usize, t0: u64, rate: u64) -> [Frame; 2] {
    let ts = t0 + i as u64 * SECOND / rate;
    let (src, id) = (host(i), (i / 50) as u16);
    let sport = 1024 + (i / 50) as u16;
    [
        Frame {
            ts_ns: ts,
            data: ipv4_frame(src, WEB_PUBLIC, id, true, 0, &syn(sport, 443)),
        },
        Frame {
            ts_ns: ts + 1000,
            data: ipv4_frame(src, WEB_PUBLIC, id, false, 3, &[0xdd; 8]),
        },
    ]
}

fn replay_summary(dir: &Path, frames: &[Frame], extra: &[&str]) -> Value {
    let pcap = dir.join("in.pcap");
    write_pcap(&pcap, 1, frames);
    let out = dir.join("out");
    let mut args = vec!["replay", "-t"];
    let t = example();
    let t = t.to_str().unwrap();
    let (p, o) = (pcap.to_str().unwrap(), out.to_str().unwrap());
    args.extend([t, "--in", p, "--out", o, "--quiet"]);
    args.extend(extra);
    let r = vpcsim(&args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

/// Far more datagrams than the table holds, at a rate that keeps more in flight over the 30 s
/// reassembly timeout than it holds too (the 5,000 per second against 65,536, scaled
/// down with --fragment-capacity): each datagram is forgotten once its last byte passes, so
/// every frame is delivered, none is an orphan, and the table never holds more than one.
#[test]
fn valid_fragmented_traffic_is_delivered_past_the_table_size() {
    const N: usize = 20_000;
    let frames: Vec<Frame> = (0..N).flat_map(|i| fragmented(i, T0, 5_000)).collect();
    let dir = TempDir::new().unwrap();
    let s = replay_summary(
        dir.path(),
        &frames,
        &["--fragment-capacity", "1000", "--no-verdicts"],
    );
    assert_eq!(s["dispositions"]["DELIVERED"], 2 * N as u64, "{s:#}");
    assert!(s["reasons"]["FRAGMENT_ORPHAN"].is_null(), "{s:#}");
    assert!(s["reasons"]["FRAGMENT_TABLE_FULL"].is_null(), "{s:#}");
    let f = &s["state"]["fragments"];
    assert_eq!(
        (f["peak"].as_u64(), f["refused"].as_u64()),
        (Some(1), Some(0)),
        "{s:#}"
    );
    // A later fragment is part of its datagram's flow, not a flow of its own.
    assert_eq!(s["flows"], N as u64, "{s:#}");
    assert_eq!(s["flows_estimated"], false, "{s:#}");
}

/// Datagrams whose last fragment never comes: past the cap, new ones are refused and counted
/// (FRAGMENT_TABLE_FULL, also for their later fragments), the held ones expire 30 s after their
/// first fragment, oldest first, and the table takes datagrams again; long after the last
/// refusal a lone later fragment is an orphan again.
#[test]
fn incomplete_datagrams_expire_and_a_full_table_is_counted() {
    let mut frames = Vec::new();
    for i in 0..300 {
        let [first, _] = fragmented(i, T0, 1_000);
        frames.push(first);
    }
    let [_, later] = fragmented(299, T0, 1_000);
    frames.push(later);
    frames.extend((300..400).flat_map(|i| fragmented(i, T0 + 40 * SECOND, 1_000)));
    let [_, mut lone] = fragmented(999, T0, 1_000);
    lone.ts_ns = T0 + 80 * SECOND;
    frames.push(lone);
    let dir = TempDir::new().unwrap();
    let s = replay_summary(dir.path(), &frames, &["--fragment-capacity", "100"]);
    assert_eq!(s["reasons"]["FRAGMENT_TABLE_FULL"], 201, "{s:#}");
    assert_eq!(s["reasons"]["FRAGMENT_ORPHAN"], 1, "{s:#}");
    assert_eq!(s["dispositions"]["DELIVERED"], 100 + 200, "{s:#}");
    let f = &s["state"]["fragments"];
    assert_eq!(f["refused"], 200, "{s:#}");
    assert_eq!(f["expired"], 100, "{s:#}");
    assert_eq!(f["peak"], 100, "{s:#}");
    assert_eq!(
        s["nodes"]["internet-gateway-in"]["drops"]["FRAGMENT_TABLE_FULL"], 201,
        "{s:#}"
    );
}

/// A SYN flood from `n` distinct internet sources to the web instance, 20,000 per second.
fn syn_flood(n: usize) -> Vec<Frame> {
    (0..n)
        .map(|i| {
            let a = 0x0b00_0000u32 + i as u32;
            let data = common::tcp(
                &std::net::Ipv4Addr::from(a).to_string(),
                40000,
                "198.18.0.3",
                443,
                2,
                b"",
            );
            Frame {
                ts_ns: T0 + i as u64 * SECOND / 20_000,
                data,
            }
        })
        .collect()
}

/// Peak resident memory (VmHWM, KiB) of a replay of `frames`, read from /proc while it runs.
fn replay_peak_kib(dir: &Path, frames: &[Frame], extra: &[&str]) -> Option<u64> {
    let pcap = dir.join("in.pcap");
    write_pcap(&pcap, 1, frames);
    let mut child = Command::new(env!("CARGO_BIN_EXE_vpcsim"))
        .args(["replay", "-t"])
        .arg(example())
        .arg("--in")
        .arg(&pcap)
        .arg("--out")
        .arg(dir.join("out"))
        .arg("--quiet")
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = None;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak = hwm.or(peak);
        }
        if let Some(s) = child.try_wait().unwrap() {
            assert!(s.success(), "replay failed: {s}");
            return peak;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// With capped state, peak memory does not follow the number of distinct flows: a flood of
/// 200,000 sources peaks within a few MiB of one of 50,000 (before the caps on flow-log records
/// and the flow count, the 150,000 more flows cost about 60 MiB).
#[test]
fn peak_memory_does_not_grow_with_distinct_flows() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("skipped: no /proc to read the replay's peak memory from");
        return;
    }
    let caps = [
        "--conntrack-capacity",
        "10000",
        "--flowlog-capacity",
        "20000",
        "--no-verdicts",
    ];
    let dir = TempDir::new().unwrap();
    let small = replay_peak_kib(dir.path(), &syn_flood(50_000), &caps);
    let dir = TempDir::new().unwrap();
    let large = replay_peak_kib(dir.path(), &syn_flood(200_000), &caps);
    let s: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(s["state"]["conntrack"]["peak"], 10_000, "{s:#}");
    assert!(
        s["state"]["conntrack"]["refused"].as_u64() > Some(100_000),
        "{s:#}"
    );
    assert!(
        s["state"]["flow_logs"]["early_flushes"].as_u64() > Some(0),
        "{s:#}"
    );
    assert_eq!(s["flows_estimated"], true, "{s:#}");
    let flows = s["flows"].as_u64().unwrap();
    assert!((196_000..204_000).contains(&flows), "{s:#}");
    let (Some(small), Some(large)) = (small, large) else {
        panic!("no VmHWM read");
    };
    eprintln!("peak RSS: 50,000 flows {small} KiB, 200,000 flows {large} KiB");
    // Measured on the 2-core dev machine: 11.5 to 13.3 MiB apart from run to run (the peaks
    // are sampled; linking libpcap for `replay --filter` adds about 1.5 MiB of library pages
    // that do not always show in the shorter run's peak). The regression this guards against
    // was 60 MiB.
    assert!(
        large < small + 16 * 1024,
        "50k flows: {small} KiB, 200k flows: {large} KiB"
    );
}

/// `gen` refuses what it cannot write (more than a billion packets, pcap timestamps past 2106,
/// more than ten million flows) with exit 2 before writing anything, so neither the output
/// nor a partial file is left behind.
#[test]
fn gen_refuses_absurd_sizes_without_leaving_a_file() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("x.pcap");
    let t = example();
    for extra in [
        &["--flows", "1", "--exchanges", "4000000000"][..],
        &["--flows", "1", "--start", "4294967295"],
        &["--flows", "20000000"],
        &["--flows", "1", "--duration", "inf"],
    ] {
        let mut args = vec![
            "gen",
            "-t",
            t.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let r = vpcsim(&args);
        assert_eq!(r.code, 2, "{extra:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.starts_with("error: --"), "{extra:?}: {}", r.stderr);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{extra:?} left {left:?}");
    }
}

/// A long flow is generated packet by packet (nothing per packet is held): one flow of 100,000
/// exchanges is 200,006 packets, and the file is complete when `gen` says so.
#[test]
fn gen_streams_long_flows() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("long.pcap");
    let t = example();
    let r = vpcsim([
        "gen",
        "-t",
        t.to_str().unwrap(),
        "--flows",
        "1",
        "--seed",
        "3",
        "--exchanges",
        "100000",
        "--payload",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let packets: u64 = r.stdout.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(packets == 200_006 || packets == 200_000, "{}", r.stdout);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["long.pcap"]);
    let replayed = vpcsim([
        "replay",
        "-t",
        t.to_str().unwrap(),
        "--in",
        out.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
        "--no-verdicts",
        "--quiet",
    ]);
    assert!(
        replayed
            .stdout
            .starts_with(&format!("replayed {packets} frames")),
        "{}",
        replayed.stdout
    );
}
