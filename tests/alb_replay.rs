//! Replay through an Application Load Balancer with simulated hosts, through the real binary
//! (SPEC §11.2): the client's connection ends at the node, the request goes through the web ACL
//! and the rules, the node opens its own connection to the target (node address as source,
//! X-Forwarded-* headers) and relays the answer; fixed responses, redirects and WAF blocks are
//! answered by the node; access logs and WAF logs are written.
//!
//! Topology: `examples/web-app.yaml` (node 10.0.0.4 behind 198.18.0.1; web targets WebA
//! 10.0.10.10 and WebB 10.0.11.10 on port 80, API targets 10.0.10.20 and 10.0.11.20 on 8080).

mod common;
mod replay_support;

use common::*;
use replay_support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn web_app() -> PathBuf {
    root().join("examples/web-app.yaml")
}

fn web_hosts() -> String {
    root()
        .join("examples/web-app.hosts.yaml")
        .display()
        .to_string()
}

const NODE: (&str, u16) = ("198.18.0.1", 80);

fn request(path: &str, host: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n")
        .into_bytes()
}

fn run(frames: Vec<Vec<u8>>, extra: &[&str]) -> (tempfile::TempDir, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("in.pcap");
    write_pcap(&cap, 1, &close_frames(frames));
    let out = dir.path().join("out");
    let v = replay(&web_app(), &cap, &out, extra);
    (dir, v)
}

fn segments(path: &Path) -> Vec<Seg> {
    read_pcap(path)
        .iter()
        .filter_map(|f| parse_checked(f))
        .collect()
}

/// What the load balancer sent its client, as one byte string.
fn client_bytes(dir: &Path, client_port: u16) -> String {
    let segs = segments(&dir.join("out/out/Alb.pcap"));
    let mut bytes = Vec::new();
    for s in segs
        .iter()
        .filter(|s| s.dport == client_port && s.sport == 80)
    {
        bytes.extend_from_slice(&s.payload);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn http_line(verdicts: &[Value]) -> &Value {
    verdicts
        .iter()
        .find(|v| v["http"].is_object())
        .expect("a verdict line with http")
}

fn access_log(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("out/alb/Alb.log"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The space-separated fields of an access-log line, quoted ones kept whole.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[test]
fn forwarded_request_reaches_the_target_and_the_response_returns_to_the_client() {
    let req = request("/api/users", "shop.example.com");
    let frames = client_exchange(("203.0.113.9", 40000), NODE, &req);
    let (dir, verdicts) = run(frames, &["--hosts", &web_hosts()]);
    let d = dir.path();
    let line = http_line(&verdicts);
    assert!(line["sent_by"].is_null());
    assert_eq!(line["http"]["request"]["method"], "GET");
    assert_eq!(line["http"]["request"]["path"], "/api/users");
    assert_eq!(line["http"]["request"]["host"], "shop.example.com");
    assert_eq!(line["http"]["response"]["status"], 200);
    let target = line["http"]["response"]["from"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(target == "ApiA" || target == "ApiB", "{target}");
    // The backend connection the node opened: node address as source, forwarded headers.
    let backend = segments(&d.join(format!("out/out/{target}.pcap")));
    let syn = backend
        .iter()
        .find(|s| s.syn && !s.ack_flag)
        .expect("backend SYN");
    assert_eq!((syn.src.as_str(), syn.dport), ("10.0.0.4", 8080));
    assert!(syn.sport >= 1024);
    let payload: Vec<u8> = backend.iter().flat_map(|s| s.payload.clone()).collect();
    let text = String::from_utf8_lossy(&payload);
    assert!(text.starts_with("GET /api/users HTTP/1.1\r\n"), "{text}");
    assert!(text.contains("X-Forwarded-For: 203.0.113.9\r\n"), "{text}");
    assert!(text.contains("X-Forwarded-Proto: http\r\n"), "{text}");
    assert!(text.contains("X-Forwarded-Port: 80\r\n"), "{text}");
    // The target's answers reach the node, the node's answers reach the client.
    let back = segments(&d.join("out/out/Alb.pcap"));
    assert!(back
        .iter()
        .any(|s| s.src != "10.0.0.4" && s.sport == 8080 && s.syn && s.ack_flag));
    let to_client = client_bytes(d, 40000);
    assert!(to_client.starts_with("HTTP/1.1 200 OK\r\n"), "{to_client}");
    let syn_ack = back
        .iter()
        .find(|s| s.dport == 40000 && s.syn && s.ack_flag)
        .expect("the node's SYN-ACK");
    assert_eq!(syn_ack.ack, 1001);
    // Access log: AWS's field order.
    let log = access_log(d);
    assert_eq!(log.len(), 1);
    let f = fields(&log[0]);
    assert_eq!(f[0], "http");
    assert!(f[1].starts_with("2023-11-14T22:13:20.00"), "{}", f[1]);
    assert!(f[2].starts_with("app/"), "{}", f[2]);
    assert_eq!(f[3], "203.0.113.9:40000");
    assert!(f[4].ends_with(":8080"), "{}", f[4]);
    assert_eq!((f[8].as_str(), f[9].as_str()), ("200", "200"));
    assert_eq!(f[10], req.len().to_string());
    assert_eq!(f[12], "GET http://shop.example.com:80/api/users HTTP/1.1");
    assert_eq!(f[13], "curl/8.5.0");
    assert!(f[16].contains(":targetgroup/"), "{}", f[16]);
    assert_eq!(f[20], "10");
    assert_eq!(f[22], "waf,forward");
    assert_eq!(f.len(), 29);
}

#[test]
fn fixed_response_and_redirect_are_answered_by_the_node() {
    let mut frames = client_exchange(
        ("203.0.113.9", 40001),
        NODE,
        &request("/", "maintenance.example.com"),
    );
    frames.extend(client_exchange(
        ("203.0.113.9", 40002),
        NODE,
        &request("/old/page", "shop.example.com"),
    ));
    let (dir, verdicts) = run(frames, &["--hosts", &web_hosts()]);
    let d = dir.path();
    let http: Vec<&Value> = verdicts.iter().filter(|v| v["http"].is_object()).collect();
    assert_eq!(http.len(), 2);
    assert_eq!(http[0]["http"]["response"]["status"], 503);
    assert_eq!(http[0]["http"]["response"]["from"], "Alb");
    assert_eq!(http[1]["http"]["response"]["status"], 301);
    let location = "http://shop.example.com/new/old/page";
    assert_eq!(http[1]["http"]["response"]["location"], location);
    let fixed = client_bytes(d, 40001);
    assert!(fixed.starts_with("HTTP/1.1 503 "), "{fixed}");
    assert!(fixed.ends_with("back soon"), "{fixed}");
    let redirect = client_bytes(d, 40002);
    assert!(
        redirect.starts_with("HTTP/1.1 301 Moved Permanently\r\n"),
        "{redirect}"
    );
    assert!(
        redirect.contains(&format!("Location: {location}\r\n")),
        "{redirect}"
    );
    let log = access_log(d);
    let f0 = fields(&log[0]);
    assert_eq!(
        (f0[4].as_str(), f0[8].as_str(), f0[9].as_str()),
        ("-", "503", "-")
    );
    assert_eq!(f0[22], "waf,fixed-response");
    let f1 = fields(&log[1]);
    assert_eq!(f1[22], "waf,redirect");
    assert_eq!(f1[23], location);
}

#[test]
fn waf_block_answers_403_and_logs_the_request() {
    let frames = client_exchange(
        ("198.51.100.7", 40003),
        NODE,
        &request("/", "shop.example.com"),
    );
    let (dir, verdicts) = run(frames, &["--hosts", &web_hosts()]);
    let d = dir.path();
    let line = http_line(&verdicts);
    assert_eq!(line["http"]["response"]["status"], 403);
    assert_eq!(line["http"]["response"]["from"], "WebAcl");
    let answer = client_bytes(d, 40003);
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
    let waf = std::fs::read_to_string(d.join("out/waf/WebAcl.log")).unwrap();
    let records: Vec<Value> = waf
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r["action"], "BLOCK");
    assert_eq!(r["terminatingRuleId"], "block-list");
    assert_eq!(r["terminatingRuleType"], "REGULAR");
    assert_eq!(r["httpSourceName"], "ALB");
    assert_eq!(r["formatVersion"], 1);
    assert_eq!(r["httpRequest"]["clientIp"], "198.51.100.7");
    assert_eq!(r["httpRequest"]["uri"], "/");
    assert_eq!(r["httpRequest"]["httpMethod"], "GET");
    assert!(r["webaclId"]
        .as_str()
        .unwrap()
        .contains(":regional/webacl/"));
    let f = fields(&access_log(d)[0]);
    assert_eq!((f[4].as_str(), f[8].as_str()), ("-", "403"));
    assert_eq!(f[22], "waf");
}

#[test]
fn refused_backend_gives_502() {
    let down = fixture("alb_replay/web-down.hosts.yaml")
        .display()
        .to_string();
    let frames = client_exchange(
        ("203.0.113.9", 40004),
        NODE,
        &request("/", "shop.example.com"),
    );
    let (dir, verdicts) = run(frames, &["--hosts", &down]);
    let line = http_line(&verdicts);
    assert_eq!(line["http"]["response"]["status"], 502);
    let answer = client_bytes(dir.path(), 40004);
    assert!(
        answer.starts_with("HTTP/1.1 502 Bad Gateway\r\n"),
        "{answer}"
    );
    let f = fields(&access_log(dir.path())[0]);
    assert_eq!((f[8].as_str(), f[9].as_str()), ("502", "-"));
}

#[test]
fn gen_then_replay_delivers_requests_with_responses() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("gen.pcap");
    let t = web_app();
    let g = vpcsim([
        "gen",
        "-t",
        t.to_str().unwrap(),
        "--flows",
        "20",
        "--out",
        cap.to_str().unwrap(),
    ]);
    assert_eq!(g.code, 0, "{}", g.stderr);
    assert!(
        g.stdout
            .contains("4 HTTP requests to load balancer listeners"),
        "{}",
        g.stdout
    );
    let out = dir.path().join("out");
    // Without --hosts every target answers every path with 200.
    let verdicts = replay(&t, &cap, &out, &[]);
    let mut answered: Vec<(String, u64, String)> = verdicts
        .iter()
        .filter(|v| v["http"].is_object())
        .map(|v| {
            (
                v["http"]["request"]["path"].as_str().unwrap().to_string(),
                v["http"]["response"]["status"].as_u64().unwrap(),
                v["http"]["response"]["from"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    answered.sort();
    // One request per rule (paths and hosts drawn from the conditions) and one for the default.
    assert_eq!(answered.len(), 4, "{answered:?}");
    assert_eq!(answered[0].0, "/");
    assert!(answered.iter().any(|(p, s, _)| p == "/old/x" && *s == 301));
    assert!(answered
        .iter()
        .any(|(p, s, f)| p == "/api/x" && *s == 200 && f.starts_with("Api")));
    assert!(answered.iter().any(|(_, s, f)| *s == 503 && f == "Alb"));
    assert!(answered
        .iter()
        .any(|(p, s, f)| p == "/" && *s == 200 && f.starts_with("Web")));
    let log = std::fs::read_to_string(out.join("alb/Alb.log")).unwrap();
    assert_eq!(log.lines().count(), 4, "{log}");
}

#[test]
fn rate_based_rule_counts_requests_across_the_capture_in_packet_time() {
    // 210 requests from one client, one every 50 ms: 200 in the first 10-second evaluation tick
    // pass (the rate is re-checked at ticks, SPEC §19.5); past the limit of 100 per 5 minutes,
    // the rate rule blocks from the next tick on.
    let mut frames = Vec::new();
    for i in 0..210u64 {
        let conn = client_exchange(
            ("203.0.113.50", 30000 + i as u16),
            NODE,
            &request("/", "shop.example.com"),
        );
        for (j, data) in conn.into_iter().enumerate() {
            frames.push(Frame {
                ts_ns: 1_700_000_000_000_000_000 + i * 50_000_000 + j as u64 * 1_000_000,
                data,
            });
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("in.pcap");
    write_pcap(&cap, 1, &frames);
    let out = dir.path().join("out");
    let verdicts = replay(&web_app(), &cap, &out, &["--hosts", &web_hosts()]);
    let statuses: Vec<u64> = verdicts
        .iter()
        .filter_map(|v| v["http"]["response"]["status"].as_u64())
        .collect();
    assert_eq!(statuses.len(), 210);
    assert!(statuses[..200].iter().all(|&s| s == 200), "{statuses:?}");
    assert_eq!(*statuses.last().unwrap(), 403, "{statuses:?}");
    let waf = std::fs::read_to_string(out.join("waf/WebAcl.log")).unwrap();
    let last: Value = serde_json::from_str(waf.lines().last().unwrap()).unwrap();
    assert_eq!(last["terminatingRuleId"], "rate-per-client");
    assert_eq!(last["terminatingRuleType"], "RATE_BASED");
    assert_eq!(last["action"], "BLOCK");
}

#[test]
fn dropped_backend_connection_gives_504_and_its_drop_is_judged() {
    // ApiSg admits 9090 instead of 8080: the node's SYN to the API target is dropped.
    let frames = client_exchange(
        ("203.0.113.9", 40005),
        NODE,
        &request("/api/users", "x.example.com"),
    );
    let (dir, verdicts) = run(
        frames,
        &["--hosts", &web_hosts(), "--param", "ApiPortFromAlb=9090"],
    );
    let line = http_line(&verdicts);
    assert_eq!(line["http"]["response"]["status"], 504);
    let answer = client_bytes(dir.path(), 40005);
    assert!(answer.starts_with("HTTP/1.1 504 "), "{answer}");
    let sent = simulated(&dir.path().join("out"));
    let syn = sent
        .iter()
        .find(|v| v["packet"]["dst_port"] == 8080)
        .expect("the backend SYN's line");
    assert_eq!(syn["disposition"], "DROPPED");
    assert_eq!(syn["reason"], "SG_INGRESS_DENIED");
    assert_eq!(syn["sent_by"], "Alb");
    let f = fields(&access_log(dir.path())[0]);
    assert_eq!((f[8].as_str(), f[9].as_str()), ("504", "-"));
    assert_eq!(f[24], "-");
}
