//! Replay outputs for Wireshark: `--annotate FILE.pcapng` (every input frame with a comment) and
//! `--dropped` (`out/_dropped.pcap`). Read back with `pcap-file`, as Wireshark reads them: the
//! comment is the Enhanced Packet Block's `opt_comment`.

mod common;

use common::{example, verdicts, vpcsim};
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use serde_json::Value;
use std::fs::File;
use std::path::{Path, PathBuf};

fn two_tier_capture() -> PathBuf {
    common::root().join("captures/two-tier.pcap")
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// (timestamp ns, bytes) of every frame of a pcap file.
fn pcap_frames(path: &Path) -> Vec<(u128, Vec<u8>)> {
    let mut r = PcapReader::new(File::open(path).unwrap()).unwrap();
    let mut out = vec![];
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        out.push((p.timestamp.as_nanos(), p.data.into_owned()));
    }
    out
}

/// (timestamp ns, bytes, comment) of every Enhanced Packet Block of a pcapng file.
fn annotated(path: &Path) -> Vec<(u128, Vec<u8>, String)> {
    let mut r = PcapNgReader::new(File::open(path).unwrap()).unwrap();
    let mut out = vec![];
    while let Some(b) = r.next_block() {
        if let Block::EnhancedPacket(epb) = b.unwrap() {
            let comments: Vec<String> = epb
                .options
                .iter()
                .filter_map(|o| match o {
                    EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                    _ => None,
                })
                .collect();
            assert_eq!(comments.len(), 1);
            out.push((
                epb.timestamp.as_nanos(),
                epb.data.into_owned(),
                comments[0].clone(),
            ));
        }
    }
    out
}

fn replay(out: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec![
        "replay".to_string(),
        "-t".into(),
        s(&example()),
        "--in".into(),
        s(&two_tier_capture()),
        "--out".into(),
        s(out),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let o = vpcsim(&args);
    (o.code, o.stderr)
}

/// Every input frame, unchanged and with its time, each commented with its verdict line's
/// disposition, reason and resource.
#[test]
fn annotate_comments_every_frame_with_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let pcapng = dir.path().join("annotated.pcapng");
    let (code, stderr) = replay(&out, &["--annotate", &s(&pcapng)]);
    assert_eq!(code, 0, "{stderr}");
    let frames = annotated(&pcapng);
    let input = pcap_frames(&two_tier_capture());
    let v = verdicts(&out);
    assert_eq!(frames.len(), input.len());
    assert_eq!(frames.len(), v.len());
    let mut hops_seen = 0;
    for (i, ((ts, data, comment), (in_ts, in_data))) in frames.iter().zip(&input).enumerate() {
        assert_eq!((ts, data), (in_ts, in_data), "frame {}", i + 1);
        let line: &Value = &v[i];
        let mut expected = format!(
            "vpcsim frame {}: {}",
            i + 1,
            line["disposition"].as_str().unwrap()
        );
        if let Some(r) = line["reason"].as_str() {
            expected += &format!(" {r}");
        }
        expected += &format!(" at={} hops=", line["at"].as_str().unwrap());
        assert!(comment.starts_with(&expected), "{comment} / {expected}");
        let hops: u32 = comment[expected.len()..].parse().unwrap();
        assert!(hops > 0, "{comment}");
        hops_seen += hops;
    }
    assert!(hops_seen > frames.len() as u32);
    // Frame 1 opens its flow: `trace` of the same packet has as many hops as its comment says.
    let p = &v[0]["packet"];
    let flow = format!(
        "{} {}:{} -> {}:{}",
        p["protocol"].as_str().unwrap(),
        p["src"].as_str().unwrap(),
        p["src_port"],
        p["dst"].as_str().unwrap(),
        p["dst_port"]
    );
    let t = common::trace(&example(), &flow, &[]);
    let hops = t["hops"].as_array().unwrap().len();
    assert!(
        frames[0].2.ends_with(&format!(" hops={hops}")),
        "{} / {flow}",
        frames[0].2
    );
}

/// Frames left out by --start are in the annotated file too, so its frame numbers are the
/// capture's; they say why they were not replayed.
#[test]
fn annotate_keeps_left_out_frames_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let pcapng = dir.path().join("a.pcapng");
    let (code, stderr) = replay(&out, &["--annotate", &s(&pcapng), "--start", "1700000005"]);
    assert_eq!(code, 0, "{stderr}");
    let frames = annotated(&pcapng);
    assert_eq!(frames.len(), 848);
    let v = verdicts(&out);
    let left_out: Vec<&String> = frames
        .iter()
        .map(|f| &f.2)
        .filter(|c| c.contains("not replayed: outside --start/--end"))
        .collect();
    assert_eq!(left_out.len() + v.len(), 848);
    assert!(!left_out.is_empty());
    for line in &v {
        let n = line["frame"].as_u64().unwrap() as usize;
        assert!(frames[n - 1].2.starts_with(&format!("vpcsim frame {n}: ")));
        assert!(!frames[n - 1].2.contains("not replayed"));
    }
}

#[test]
fn annotate_refuses_to_overwrite_the_capture() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("in.pcap");
    std::fs::copy(two_tier_capture(), &cap).unwrap();
    let before = std::fs::read(&cap).unwrap();
    let o = vpcsim([
        "replay",
        "-t",
        &s(&example()),
        "--in",
        &s(&cap),
        "--out",
        &s(&dir.path().join("out")),
        "--annotate",
        &s(&cap),
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("--annotate"), "{}", o.stderr);
    assert_eq!(std::fs::read(&cap).unwrap(), before);
}

/// `out/_dropped.pcap` holds exactly the dropped frames, as captured.
#[test]
fn dropped_frames_go_to_their_own_capture() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, stderr) = replay(&out, &["--dropped"]);
    assert_eq!(code, 0, "{stderr}");
    let v = verdicts(&out);
    let input = pcap_frames(&two_tier_capture());
    let expected: Vec<&(u128, Vec<u8>)> = v
        .iter()
        .filter(|l| l["disposition"] == "DROPPED")
        .map(|l| &input[l["frame"].as_u64().unwrap() as usize - 1])
        .collect();
    assert!(!expected.is_empty());
    let dropped = pcap_frames(&out.join("out/_dropped.pcap"));
    assert_eq!(dropped.len(), expected.len());
    for (got, want) in dropped.iter().zip(expected) {
        assert_eq!(got, want);
    }
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["dropped_capture"]["frames"], dropped.len());
    assert_eq!(summary["dropped_capture"]["not_ethernet"], 0);
    assert!(
        summary["files"]["out/_dropped.pcap"].is_object(),
        "{summary:#}"
    );
    // Without --dropped there is none, and a rerun removes the previous one.
    let (code, stderr) = replay(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!out.join("out/_dropped.pcap").exists());
}

/// With `--mirror` an interface's capture holds every packet that crossed it either way, as it
/// was there: exactly the packets its flow log counts as ACCEPT, in and out. The NAT gateway,
/// which no packet ends at, gets a capture of its own.
#[test]
fn mirror_captures_both_directions_of_every_interface() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, stderr) = replay(&out, &["--mirror"]);
    assert_eq!(code, 0, "{stderr}");
    for name in ["WebInstance", "AppInstanceA", "AppInstanceB", "NatGateway"] {
        let frames = pcap_frames(&out.join(format!("out/{name}.pcap")));
        let log = std::fs::read_to_string(out.join(format!("flowlogs/{name}.log"))).unwrap();
        let rows: Vec<Vec<&str>> = log
            .lines()
            .skip(1)
            .map(|l| l.split(' ').collect())
            .collect();
        let accepted: usize = rows
            .iter()
            .filter(|r| r[12] == "ACCEPT")
            .map(|r| r[8].parse::<usize>().unwrap())
            .sum();
        assert_eq!(frames.len(), accepted, "{name}");
        // Both directions: the interface's own address as source and as destination.
        // The interface's address is in every row, as srcaddr or dstaddr.
        let own = [rows[0][3], rows[0][4]]
            .into_iter()
            .find(|a| rows.iter().all(|r| r[3] == *a || r[4] == *a))
            .unwrap();
        let own: std::net::Ipv4Addr = own.parse().unwrap();
        let addr = |f: &Vec<u8>, at: usize| {
            std::net::Ipv4Addr::new(f[at], f[at + 1], f[at + 2], f[at + 3])
        };
        let sent = frames.iter().filter(|(_, f)| addr(f, 26) == own).count();
        let received = frames.iter().filter(|(_, f)| addr(f, 30) == own).count();
        assert!(
            sent > 0 && received > 0,
            "{name}: {sent} sent, {received} received"
        );
    }
    // Without it, the instances' captures hold only what arrives.
    let plain = dir.path().join("plain");
    let (code, stderr) = replay(&plain, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!plain.join("out/NatGateway.pcap").exists());
    let web = pcap_frames(&plain.join("out/WebInstance.pcap"));
    assert!(web.len() < pcap_frames(&out.join("out/WebInstance.pcap")).len());
}
