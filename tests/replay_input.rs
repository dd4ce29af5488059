//! What replay reads and which frames it replays: `-` for standard input and output (`replay
//! --in -`, `-t -`, `gen --out -`, `trace --html -`), rotated capture sets (several `--in`),
//! `--filter` (tcpdump syntax, compiled by libpcap) and `--start`/`--end`. A frame left out is
//! counted in summary.json, never lost silently.

mod common;

use common::{example, fixture, replay, tcp, verdicts, vpcsim, write_pcap, Frame};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn two_tier_capture() -> PathBuf {
    common::root().join("captures/two-tier.pcap")
}

/// Run vpcsim with `stdin` on its standard input; (exit code, stdout bytes, stderr).
fn vpcsim_stdin(args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vpcsim"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let bytes = stdin.to_vec();
    // Written from another thread: a child that exits early must not leave us blocked.
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn summary(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The records of a pcap file: (header, records as whole byte runs).
fn pcap_records(bytes: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut at = 24;
    let mut records = vec![];
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        records.push(bytes[at..at + 16 + caplen].to_vec());
        at += 16 + caplen;
    }
    (bytes[..24].to_vec(), records)
}

/// The same frames as a pcapng file: a section header, one Ethernet interface with nanosecond
/// timestamps, one Enhanced Packet Block per frame.
fn pcap_to_pcapng(pcap: &[u8]) -> Vec<u8> {
    fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
        let padded = body.len().next_multiple_of(4);
        let len = (12 + padded) as u32;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(body);
        out.resize(out.len() + padded - body.len(), 0);
        out.extend_from_slice(&len.to_le_bytes());
    }
    let (_, records) = pcap_records(pcap);
    let mut out = vec![];
    let mut shb = vec![];
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut out, 0x0a0d_0d0a, &shb);
    // Link type 1, snaplen 0, if_tsresol = 9 (nanoseconds), end of options.
    let mut idb = vec![1, 0, 0, 0, 0, 0, 0, 0];
    idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
    block(&mut out, 1, &idb);
    for r in records {
        let secs = u32::from_le_bytes(r[0..4].try_into().unwrap()) as u64;
        let nanos = u32::from_le_bytes(r[4..8].try_into().unwrap()) as u64;
        let ts = secs * 1_000_000_000 + nanos;
        let mut epb = vec![];
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&r[8..16]);
        epb.extend_from_slice(&r[16..]);
        epb.resize(epb.len().next_multiple_of(4), 0);
        block(&mut out, 6, &epb);
    }
    out
}

/// A replay from a file, for comparison.
fn reference(dir: &Path) -> (PathBuf, String) {
    let out = dir.join("reference");
    replay(&example(), &two_tier_capture(), &out, &[]);
    let v = std::fs::read_to_string(out.join("verdicts.jsonl")).unwrap();
    (out, v)
}

#[test]
fn replay_reads_pcap_and_pcapng_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let (_, expected) = reference(dir.path());
    let pcap = std::fs::read(two_tier_capture()).unwrap();
    for (name, bytes) in [("pcap", pcap.clone()), ("pcapng", pcap_to_pcapng(&pcap))] {
        let out = dir.path().join(name);
        let (code, stdout, stderr) = vpcsim_stdin(
            &[
                "replay",
                "-t",
                &s(&example()),
                "--in",
                "-",
                "--out",
                &s(&out),
            ],
            &bytes,
        );
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(
            String::from_utf8_lossy(&stdout).starts_with("replayed 848 frames"),
            "{name}"
        );
        let got = std::fs::read_to_string(out.join("verdicts.jsonl")).unwrap();
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn template_on_stdin() {
    let yaml = std::fs::read(example()).unwrap();
    let flow = "tcp 10.0.1.20:33895 -> 10.0.3.4:8080";
    let from_file = vpcsim(["trace", "-t", &s(&example()), flow, "--json"]);
    // Named as the file's stack, the ids (derived from the stack name) are the same.
    let (code, stdout, stderr) =
        vpcsim_stdin(&["trace", "-t", "two-tier=-", flow, "--json"], &yaml);
    assert_eq!(code, from_file.code, "{stderr}");
    let a: Value = serde_json::from_str(&from_file.stdout).unwrap();
    let b: Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(a["disposition"], b["disposition"]);
    assert_eq!(a["hops"], b["hops"]);
    // The stack on standard input is named `stdin`.
    let (code, stdout, stderr) = vpcsim_stdin(&["validate", "-t", "-", "--json"], &yaml);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        String::from_utf8_lossy(&stdout).contains("stdin"),
        "{}",
        String::from_utf8_lossy(&stdout)
    );
    // A template that is not one, on standard input, is the usual load error.
    let (code, stdout, stderr) = vpcsim_stdin(&["validate", "-t", "-"], b"\xff\xfe");
    assert_eq!(code, 2, "{stderr}");
    let stdout = String::from_utf8_lossy(&stdout);
    assert!(stdout.contains("-: InvalidTemplate.Encoding"), "{stdout}");
}

#[test]
fn stdin_feeds_only_one_of_in_and_topology() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, _, stderr) =
        vpcsim_stdin(&["replay", "-t", "-", "--in", "-", "--out", &s(&out)], b"");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("standard input"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn gen_writes_the_capture_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("g.pcap");
    let o = vpcsim([
        "gen",
        "-t",
        &s(&example()),
        "--flows",
        "20",
        "--out",
        &s(&file),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let (code, stdout, stderr) = vpcsim_stdin(
        &["gen", "-t", &s(&example()), "--flows", "20", "--out", "-"],
        b"",
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        std::fs::read(&file).unwrap(),
        "the same pcap, byte for byte"
    );
    assert!(stderr.contains("to standard output"), "{stderr}");
    // And it replays from a pipe.
    let out = dir.path().join("out");
    let (code, _, stderr) = vpcsim_stdin(
        &[
            "replay",
            "-t",
            &s(&example()),
            "--in",
            "-",
            "--out",
            &s(&out),
        ],
        &stdout,
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        summary(&out)["packets"],
        verdicts(&out).len(),
        "every frame has a verdict"
    );
}

#[test]
fn trace_html_to_stdout() {
    let flow = "icmp 10.0.2.30 -> 8.8.8.8";
    let o = vpcsim(["trace", "-t", &s(&example()), flow, "--html", "-"]);
    assert!(o.code == 0 || o.code == 1, "{}", o.stderr);
    assert!(
        o.stdout.starts_with("<!DOCTYPE html>"),
        "{}",
        &o.stdout[..100.min(o.stdout.len())]
    );
    assert!(o.stdout.trim_end().ends_with("</html>"), "the page alone");
    let o = vpcsim(["trace", "-t", &s(&example()), flow, "--html", "-", "--json"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("standard output"), "{}", o.stderr);
}

/// A rotated set read in order is the same capture as the whole file: the same verdicts, frame
/// numbers running on across files.
#[test]
fn several_inputs_are_one_capture() {
    let dir = tempfile::tempdir().unwrap();
    let (_, expected) = reference(dir.path());
    let bytes = std::fs::read(two_tier_capture()).unwrap();
    let (header, records) = pcap_records(&bytes);
    let mut parts = vec![];
    for (i, chunk) in records.chunks(300).enumerate() {
        let p = dir.path().join(format!("part{i}.pcap"));
        let mut b = header.clone();
        for r in chunk {
            b.extend_from_slice(r);
        }
        std::fs::write(&p, b).unwrap();
        parts.push(s(&p));
    }
    assert_eq!(parts.len(), 3);
    let out = dir.path().join("out");
    let mut args = vec!["replay", "-t", "", "--out", "", "--quiet"];
    let (t, o) = (s(&example()), s(&out));
    args[2] = &t;
    args[4] = &o;
    for p in &parts {
        args.extend(["--in", p]);
    }
    let r = vpcsim(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(out.join("verdicts.jsonl")).unwrap(),
        expected
    );
    let sm = summary(&out);
    assert_eq!(sm["inputs"].as_array().unwrap().len(), 3, "{sm:#}");
    assert_eq!(sm["packets"], 848);
    // A missing later file stops the run like a corrupt capture: what was read is written.
    let r = vpcsim([
        "replay",
        "-t",
        &t,
        "--out",
        &o,
        "--in",
        &parts[0],
        "--in",
        &s(&dir.path().join("nope.pcap")),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nope.pcap"), "{}", r.stderr);
    assert_eq!(verdicts(&out).len(), 300);
}

/// `--filter` keeps what tcpdump would; the rest is counted, and frames keep their numbers in
/// the capture (as Wireshark shows them).
#[test]
fn filter_replays_only_matching_frames_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = vpcsim([
        "replay",
        "-t",
        &s(&example()),
        "--in",
        &s(&two_tier_capture()),
        "--out",
        &s(&out),
        "--filter",
        "tcp dst port 8080",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = verdicts(&out);
    assert!(!v.is_empty());
    let sm = summary(&out);
    let left_out = sm["filtered_out"]["filter"].as_u64().unwrap();
    assert_eq!(v.len() as u64 + left_out, 848, "{sm:#}");
    assert_eq!(sm["filtered_out"]["time_window"], 0);
    assert!(
        o.stdout.contains(&format!("left out {left_out} frames")),
        "{}",
        o.stdout
    );
    let (reference_out, _) = reference(dir.path());
    let all = verdicts(&reference_out);
    for line in &v {
        let n = line["frame"].as_u64().unwrap() as usize;
        let original = &all[n - 1];
        assert_eq!(original["frame"], line["frame"]);
        assert_eq!(original["disposition"], line["disposition"], "{line}");
    }
    // tcpdump keeps exactly the frames whose first packet header goes to port 8080.
    let expected = all
        .iter()
        .filter(|l| l["packet"]["dst_port"] == 8080 && l["packet"]["protocol"] == "tcp")
        .count();
    assert!(expected > 0);
    assert_eq!(v.len(), expected);
}

#[test]
fn bad_filter_fails_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = vpcsim([
        "replay",
        "-t",
        &s(&example()),
        "--in",
        &s(&two_tier_capture()),
        "--out",
        &s(&out),
        "--filter",
        "tcp port",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("--filter `tcp port`"), "{}", o.stderr);
    assert!(!out.exists());
}

/// Ten frames a second apart from 1,700,000,000 s (22:13:20 UTC); `--start` inclusive, `--end`
/// exclusive, in Unix seconds (with a fraction) or RFC 3339.
#[test]
fn start_and_end_select_a_time_window() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("in.pcap");
    let frames: Vec<Frame> = (0..10)
        .map(|i| Frame {
            ts_ns: (1_700_000_000 + i) * 1_000_000_000,
            data: tcp("192.0.2.9", 50000, "203.0.113.20", 443, 0x18, b"x"),
        })
        .collect();
    write_pcap(&cap, 1, &frames);
    let topology = fixture("spec/fixture-f.yaml");
    for (start, end, kept) in [
        ("1700000003", "2023-11-14T22:13:27Z", vec![4, 5, 6, 7]),
        ("1700000002.5", "1700000004.000000001", vec![4, 5]),
        (
            "2023-11-14T23:13:25+01:00",
            "1800000000",
            vec![6, 7, 8, 9, 10],
        ),
    ] {
        let out = dir.path().join(format!("out-{start}"));
        let v = replay(&topology, &cap, &out, &["--start", start, "--end", end]);
        let frames: Vec<u64> = v.iter().map(|l| l["frame"].as_u64().unwrap()).collect();
        assert_eq!(frames, kept, "{start} {end}");
        let sm = summary(&out);
        assert_eq!(sm["filtered_out"]["time_window"], 10 - kept.len() as u64);
    }
    for (start, end, message) in [
        ("5", "4", "--end must be after --start"),
        ("yesterday", "4", "RFC 3339"),
    ] {
        let o = vpcsim([
            "replay",
            "-t",
            &s(&topology),
            "--in",
            &s(&cap),
            "--out",
            &s(&dir.path().join("bad")),
            "--start",
            start,
            "--end",
            end,
        ]);
        assert_eq!(o.code, 2, "{}", o.stderr);
        assert!(o.stderr.contains(message), "{}", o.stderr);
    }
}
