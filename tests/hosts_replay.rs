//! Simulated hosts in `replay` through the real binary: a one-sided capture of a client gets
//! the host's answers (SYN-ACK, HTTP response, FIN handling) through the pipeline, written to the
//! capture of the interface or gateway that receives them with correct sequence numbers and
//! checksums; a port the hosts file does not list answers a RST.
//!
//! Topology: `tests/fixtures/hosts_replay/web.yaml` (Web 10.0.1.10 behind Elastic IP
//! 198.18.0.1, Client 10.0.1.20 in the same subnet).

mod common;
mod replay_support;

use common::*;
use replay_support::*;
use serde_json::Value;
use std::path::PathBuf;

fn web() -> PathBuf {
    fixture("hosts_replay/web.yaml")
}

fn web_hosts() -> String {
    fixture("hosts_replay/web.hosts.yaml").display().to_string()
}

fn run(frames: Vec<Vec<u8>>, extra: &[&str]) -> (tempfile::TempDir, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("in.pcap");
    write_pcap(&cap, 1, &close_frames(frames));
    let out = dir.path().join("out");
    let v = replay(&web(), &cap, &out, extra);
    (dir, v)
}

const REQUEST: &[u8] =
    b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: test\r\n\r\n";

#[test]
fn one_sided_client_gets_syn_ack_and_response_with_right_numbers_and_checksums() {
    let frames = client_exchange(("203.0.113.9", 40000), ("198.18.0.1", 80), REQUEST);
    let (dir, verdicts) = run(frames, &["--hosts", &web_hosts()]);
    // The answers leave through the internet gateway, source translated to the Elastic IP.
    let answers: Vec<Seg> = read_pcap(&dir.path().join("out/out/Igw.pcap"))
        .iter()
        .filter_map(|f| parse_checked(f))
        .collect();
    assert!(answers
        .iter()
        .all(|s| s.src == "198.18.0.1" && s.sport == 80 && s.dport == 40000));
    let syn_ack = answers
        .iter()
        .find(|s| s.syn && s.ack_flag)
        .expect("SYN-ACK");
    assert_eq!(syn_ack.ack, 1001);
    let response = answers
        .iter()
        .find(|s| !s.payload.is_empty())
        .expect("HTTP response");
    let text = String::from_utf8_lossy(&response.payload);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.ends_with("hello from web"), "{text}");
    assert_eq!(response.seq, syn_ack.seq.wrapping_add(1));
    assert_eq!(response.ack, 1001 + REQUEST.len() as u32);
    // The client's FIN is acknowledged and the host closes its side.
    let fin = answers.iter().find(|s| s.fin).expect("the host's FIN");
    assert_eq!(fin.ack, 1001 + REQUEST.len() as u32 + 1);
    // The request's frame carries the response in its verdict line; the answers are judged too.
    let req = verdicts
        .iter()
        .find(|v| v["http"].is_object())
        .expect("a verdict line with http");
    assert_eq!(req["http"]["request"]["path"], "/index.html");
    assert_eq!(req["http"]["request"]["host"], "www.example.com");
    assert_eq!(req["http"]["response"]["status"], 200);
    assert_eq!(req["http"]["response"]["from"], "Web");
    // verdicts.jsonl keeps one line per captured frame; the answers' lines are apart.
    assert_eq!(verdicts.len(), 4);
    let sent = simulated(&dir.path().join("out"));
    assert_eq!(sent.len(), answers.len());
    assert!(sent
        .iter()
        .all(|v| v["sent_by"] == "Web" && v["disposition"] == "EXITED"));
    // They count in the summary and the flow logs like any frame.
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["simulated_hosts"]["frames_sent"], answers.len());
    assert_eq!(summary["packets"], 4);
    assert_eq!(summary["simulated_hosts"]["host_requests"], 1);
    let flowlog = std::fs::read_to_string(dir.path().join("out/flowlogs/Web.log")).unwrap();
    assert!(
        flowlog
            .lines()
            .any(|l| l.contains("10.0.1.10 203.0.113.9 80 40000 6")),
        "{flowlog}"
    );
}

#[test]
fn path_status_from_the_hosts_file() {
    let req = b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n";
    let frames = client_exchange(("203.0.113.9", 40001), ("198.18.0.1", 80), req);
    let (dir, verdicts) = run(frames, &["--hosts", &web_hosts()]);
    let v = verdicts.iter().find(|v| v["http"].is_object()).unwrap();
    assert_eq!(v["http"]["response"]["status"], 404);
    let answers: Vec<Seg> = read_pcap(&dir.path().join("out/out/Igw.pcap"))
        .iter()
        .filter_map(|f| parse_checked(f))
        .collect();
    assert!(answers
        .iter()
        .any(|s| s.payload.starts_with(b"HTTP/1.1 404 Not Found\r\n")));
}

#[test]
fn unlisted_port_answers_rst() {
    let frames = vec![segment(
        ("203.0.113.9", 40002),
        ("198.18.0.1", 8080),
        SYN,
        7000,
        0,
        b"",
    )];
    let (dir, verdicts) = run(frames, &["--hosts", &web_hosts()]);
    let answers: Vec<Seg> = read_pcap(&dir.path().join("out/out/Igw.pcap"))
        .iter()
        .filter_map(|f| parse_checked(f))
        .collect();
    assert_eq!(answers.len(), 1, "{answers:?}");
    let rst = &answers[0];
    assert!(rst.rst && rst.ack_flag && !rst.syn);
    assert_eq!((rst.sport, rst.dport, rst.ack), (8080, 40002, 7001));
    assert_eq!(verdicts.len(), 1);
    let sent = simulated(&dir.path().join("out"));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["sent_by"], "Web");
    assert_eq!(sent[0]["frame"], 1);
}

#[test]
fn without_hosts_file_a_one_sided_capture_is_judged_not_answered() {
    let frames = client_exchange(("203.0.113.9", 40003), ("198.18.0.1", 8080), REQUEST);
    let (dir, verdicts) = run(frames, &[]);
    assert_eq!(verdicts.len(), 4);
    assert!(verdicts.iter().all(|v| v["http"].is_null()));
    assert!(simulated(&dir.path().join("out")).is_empty());
}

#[test]
fn answers_inside_the_vpc_reach_the_client_interface() {
    let frames = client_exchange(("10.0.1.20", 50000), ("10.0.1.10", 80), REQUEST);
    let (dir, _) = run(frames, &["--hosts", &web_hosts()]);
    let answers: Vec<Seg> = read_pcap(&dir.path().join("out/out/Client.pcap"))
        .iter()
        .filter_map(|f| parse_checked(f))
        .collect();
    assert!(answers
        .iter()
        .any(|s| s.syn && s.ack_flag && s.src == "10.0.1.10"));
    assert!(answers
        .iter()
        .any(|s| s.payload.starts_with(b"HTTP/1.1 200 OK")));
}

#[test]
fn a_two_sided_capture_is_not_answered_twice() {
    let mut frames = client_exchange(("10.0.1.20", 50001), ("10.0.1.10", 80), REQUEST);
    frames.insert(
        1,
        segment(
            ("10.0.1.10", 80),
            ("10.0.1.20", 50001),
            SYN | ACK,
            5000,
            1001,
            b"",
        ),
    );
    let (dir, verdicts) = run(frames, &["--hosts", &web_hosts()]);
    assert_eq!(verdicts.len(), 5);
    assert!(simulated(&dir.path().join("out")).is_empty());
}
