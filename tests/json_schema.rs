//! The published JSON Schemas (`schema/verdict.schema.json`, `schema/trace.schema.json`) hold
//! for real output: every line of a replay's verdicts.jsonl (delivered, exited, dropped and
//! unparsed frames, IPv4 and IPv6, TCP, UDP, ICMP) and `trace --json` of delivered and dropped
//! packets, with and without `--return`. Every key is on every line, null when it does not apply.

mod common;

use common::{echo, example, fixture, replay, tcp, udp, vpcsim, write_pcap, Frame};
use serde_json::Value;
use std::path::Path;

/// The schemas' `$id`s resolve to the files in `schema/`, not to the network.
struct LocalSchemas;

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri
            .path()
            .as_str()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let text = std::fs::read_to_string(common::root().join("schema").join(&name))?;
        Ok(serde_json::from_str(&text)?)
    }
}

fn validator(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(common::root().join("schema").join(name)).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::options()
        .with_retriever(LocalSchemas)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

#[test]
fn every_verdict_line_matches_the_schema() {
    let v = validator("verdict.schema.json");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("two-tier");
    let lines = replay(
        &example(),
        &common::root().join("captures/two-tier.pcap"),
        &out,
        &[],
    );
    assert_eq!(lines.len(), 848);
    for l in &lines {
        assert_valid(&v, l);
    }
    let dispositions: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|l| l["disposition"].as_str().unwrap())
        .collect();
    assert_eq!(dispositions.len(), 3, "{dispositions:?}");
    // A frame of each kind: ICMP, UDP, IPv6, not IP at all, broken, with nanosecond times.
    let cap = dir.path().join("mixed.pcap");
    let mut not_ip = tcp("192.0.2.9", 1, "203.0.113.20", 2, 2, b"");
    not_ip[12..14].copy_from_slice(&[0x08, 0x06]);
    let mut broken = tcp("192.0.2.9", 1, "203.0.113.20", 2, 2, b"");
    broken.truncate(20);
    let frames = [
        echo("192.0.2.9", "203.0.113.20", 7, true),
        udp("192.0.2.9", 5353, "203.0.113.20", 53, b"q"),
        tcp("2001:db8::9", 4000, "2001:db8:1::20", 443, 2, b""),
        not_ip,
        broken,
    ];
    let frames: Vec<Frame> = frames
        .into_iter()
        .enumerate()
        .map(|(i, data)| Frame {
            ts_ns: 1_700_000_000_000_000_000 + i as u64 * 1_000_123,
            data,
        })
        .collect();
    write_pcap(&cap, 1, &frames);
    let out = dir.path().join("mixed");
    let lines = replay(&fixture("spec/fixture-f.yaml"), &cap, &out, &[]);
    assert_eq!(lines.len(), 5);
    for l in &lines {
        assert_valid(&v, l);
    }
    assert_eq!(lines[0]["packet"]["icmp_type"], 8);
    assert!(lines[0]["packet"]["src_port"].is_null());
    assert!(lines[1]["packet"]["icmp_type"].is_null());
    assert_eq!(lines[3]["reason"], "UNSUPPORTED");
    assert_eq!(lines[4]["reason"], "MALFORMED");
    assert!(lines[4]["packet"].is_null());
    // The schema does hold lines to it: a missing key, a packet key too many, a reason on a
    // delivered packet are each refused.
    let mut missing = lines[1].clone();
    missing.as_object_mut().unwrap().remove("egress");
    let mut extra = lines[1].clone();
    extra["packet"]["ttl"] = 64.into();
    let mut reason = lines[1].clone();
    reason["disposition"] = "DELIVERED".into();
    reason["reason"] = "SG_INGRESS_DENIED".into();
    for bad in [missing, extra, reason] {
        assert!(!v.is_valid(&bad), "{bad}");
    }
    // The capture's microseconds (write_pcap), exactly: ts_ns is what the file records.
    assert_eq!(lines[1]["ts_ns"], 1_700_000_000_001_000_000u64);
}

/// A nanosecond capture keeps its nanoseconds in `ts_ns`.
#[test]
fn nanosecond_capture_times_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let lines = replay(
        &example(),
        &common::root().join("captures/two-tier.pcap"),
        &out,
        &[],
    );
    let ns = lines[0]["ts_ns"].as_u64().unwrap();
    assert_ne!(ns % 1000, 0, "two-tier.pcap has nanosecond times: {ns}");
    let ts = lines[0]["ts"].as_f64().unwrap();
    assert!((ts - ns as f64 / 1e9).abs() < 1e-6);
}

fn trace_json(topology: &Path, flow: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "trace".to_string(),
        "-t".into(),
        topology.display().to_string(),
        flow.into(),
        "--json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = vpcsim(&args);
    assert!(o.code == 0 || o.code == 1, "{}", o.stderr);
    serde_json::from_str(&o.stdout).unwrap()
}

#[test]
fn trace_json_matches_the_schema() {
    let v = validator("trace.schema.json");
    for (flow, extra) in [
        ("tcp 10.0.1.20:33895 -> 10.0.3.4:8080", vec![]),
        ("tcp 10.0.1.20:33895 -> 10.0.3.4:8080", vec!["--return"]),
        ("icmp 10.0.2.30 -> 8.8.8.8", vec!["--return"]),
        ("tcp 198.51.100.7:40000 -> 10.0.3.4:22", vec!["--fixes"]),
        ("udp 10.0.2.30:5000 -> 10.0.3.4:9999", vec![]),
    ] {
        let t = trace_json(&example(), flow, &extra);
        assert_valid(&v, &t);
        if !extra.contains(&"--return") {
            assert!(t["return"].is_null(), "{flow}");
        }
        let mut bad = t.clone();
        bad["hops"][0]["packet"]
            .as_object_mut()
            .unwrap()
            .remove("dst_port");
        assert!(!v.is_valid(&bad), "a hop's packet without dst_port: {flow}");
    }
}
