//! `vpcsim replay` outputs (DESIGN.md "Replay outputs"): summary.json, verdicts.jsonl,
//! out/<Resource>.pcap with rewritten frames and correct checksums, VPC flow logs in the default
//! format (SPEC §12), `--at`, every supported input format, and the determinism of `gen` and
//! `replay`.

mod common;

use common::{echo, example, fixture, replay, tcp, udp, vpcsim, write_pcap, Frame};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

const T0: u64 = 1_700_000_000;
const SEC: u64 = 1_000_000_000;
const SERVICES: [&str; 3] = [
    "AmazonProvidedDNS",
    "InstanceMetadataService",
    "AmazonTimeSyncService",
];

fn spec(name: &str) -> String {
    fixture(&format!("spec/{name}")).display().to_string()
}

fn fixture_f() -> PathBuf {
    fixture("spec/fixture-f.yaml")
}

fn two_tier_capture() -> PathBuf {
    common::root().join("captures/two-tier.pcap")
}

/// Frames at the given offsets (milliseconds after T0).
fn at(frames: Vec<(u64, Vec<u8>)>) -> Vec<Frame> {
    frames
        .into_iter()
        .map(|(ms, data)| Frame {
            ts_ns: T0 * SEC + ms * 1_000_000,
            data,
        })
        .collect()
}

fn summary(out: &Path) -> Value {
    let s = std::fs::read_to_string(out.join("summary.json")).expect("summary.json");
    serde_json::from_str(&s).expect("summary.json is JSON")
}

/// The summary's disposition counts add up to `packets` and its reasons to the drops.
fn check_summary(s: &Value) {
    let packets = s["packets"].as_u64().expect("packets");
    let d = s["dispositions"].as_object().expect("dispositions");
    let total: u64 = d.values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(total, packets, "dispositions add up to packets: {s:#}");
    let reasons: u64 = s["reasons"]
        .as_object()
        .expect("reasons")
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(
        reasons,
        d.get("DROPPED").and_then(Value::as_u64).unwrap_or(0),
        "every drop has one reason: {s:#}"
    );
    // Per node (VPP's `show errors`): every frame enters `wire`, and the nodes' drops, summed
    // per reason, are the summary's reasons.
    let nodes = s["nodes"].as_object().expect("nodes");
    assert_eq!(nodes["wire"]["packets"].as_u64(), Some(packets), "{s:#}");
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    for n in nodes.values() {
        assert!(n["packets"].as_u64().is_some(), "{n}");
        for (r, k) in n["drops"].as_object().expect("drops") {
            *by_reason.entry(r.clone()).or_default() += k.as_u64().unwrap();
        }
    }
    let want: BTreeMap<String, u64> = s["reasons"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(r, k)| (r.clone(), k.as_u64().unwrap()))
        .collect();
    assert_eq!(by_reason, want, "node drops add up to the reasons: {s:#}");
}

// ------------------------------------------------------------------------- pcap reading

struct Pcap {
    linktype: u32,
    frames: Vec<(u64, Vec<u8>)>,
}

/// A classic pcap file (either byte order, micro- or nanosecond).
fn read_pcap(path: &Path) -> Pcap {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let le = u32::from_le_bytes(b[0..4].try_into().unwrap());
    let be = u32::from_be_bytes(b[0..4].try_into().unwrap());
    let (big, nano) = match (le, be) {
        (0xa1b2_c3d4, _) => (false, false),
        (0xa1b2_3c4d, _) => (false, true),
        (_, 0xa1b2_c3d4) => (true, false),
        (_, 0xa1b2_3c4d) => (true, true),
        _ => panic!("{}: not a pcap", path.display()),
    };
    let u32at = |o: usize| {
        let a: [u8; 4] = b[o..o + 4].try_into().unwrap();
        if big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    };
    let linktype = u32at(20) & 0x0fff_ffff;
    let mut frames = Vec::new();
    let mut off = 24;
    while off + 16 <= b.len() {
        let (secs, frac, incl) = (
            u64::from(u32at(off)),
            u64::from(u32at(off + 4)),
            u32at(off + 8) as usize,
        );
        let ts = secs * SEC + if nano { frac } else { frac * 1000 };
        frames.push((ts, b[off + 16..off + 16 + incl].to_vec()));
        off += 16 + incl;
    }
    assert_eq!(off, b.len(), "{}: trailing bytes", path.display());
    Pcap { linktype, frames }
}

// ------------------------------------------------------------------------- packet checks

fn csum_add(mut sum: u32, data: &[u8]) -> u32 {
    for c in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    sum
}

fn csum_fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The addresses and ports of an IP packet as seen in a frame.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    ports: Option<(u16, u16)>,
}

/// Parse an Ethernet frame and verify its IPv4 header checksum and its TCP/UDP/ICMP checksum
/// (unfragmented packets, complete captures only).
fn check_frame(frame: &[u8]) -> Result<Seen, String> {
    if frame.len() < 14 {
        return Err("short Ethernet frame".into());
    }
    let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    let ip = &frame[14..];
    let (src, dst, proto, l4, pseudo): (IpAddr, IpAddr, u8, &[u8], u32) = match ethertype {
        0x0800 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            if ip[0] >> 4 != 4 || ihl < 20 || ip.len() < ihl {
                return Err("bad IPv4 header".into());
            }
            if csum_fold(csum_add(0, &ip[..ihl])) != 0 {
                return Err("IPv4 header checksum".into());
            }
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            if total > ip.len() || total < ihl {
                return Err(format!("IPv4 total length {total} vs {}", ip.len()));
            }
            let frag = u16::from_be_bytes([ip[6], ip[7]]);
            let l4 = &ip[ihl..total];
            let mut pseudo = csum_add(0, &ip[12..20]);
            pseudo = csum_add(pseudo, &[0, ip[9]]);
            pseudo = csum_add(pseudo, &(l4.len() as u16).to_be_bytes());
            let s: [u8; 4] = ip[12..16].try_into().unwrap();
            let d: [u8; 4] = ip[16..20].try_into().unwrap();
            if frag & 0x3fff != 0 {
                // A fragment: the L4 checksum covers the whole datagram.
                return Ok(Seen {
                    src: s.into(),
                    dst: d.into(),
                    proto: ip[9],
                    ports: None,
                });
            }
            (s.into(), d.into(), ip[9], l4, pseudo)
        }
        0x86dd => {
            if ip.len() < 40 {
                return Err("short IPv6 header".into());
            }
            let plen = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
            let l4 = &ip[40..40 + plen];
            let mut pseudo = csum_add(0, &ip[8..40]);
            pseudo = csum_add(pseudo, &(l4.len() as u32).to_be_bytes());
            pseudo = csum_add(pseudo, &[0, 0, 0, ip[6]]);
            let s: [u8; 16] = ip[8..24].try_into().unwrap();
            let d: [u8; 16] = ip[24..40].try_into().unwrap();
            (s.into(), d.into(), ip[6], l4, pseudo)
        }
        t => return Err(format!("ethertype {t:#06x}")),
    };
    let ports = match proto {
        6 | 17 => {
            let stored = u16::from_be_bytes([
                l4[if proto == 6 { 16 } else { 6 }],
                l4[if proto == 6 { 17 } else { 7 }],
            ]);
            if !(proto == 17 && stored == 0 && src.is_ipv4())
                && csum_fold(csum_add(pseudo, l4)) != 0
            {
                return Err(format!("protocol {proto} checksum"));
            }
            Some((
                u16::from_be_bytes([l4[0], l4[1]]),
                u16::from_be_bytes([l4[2], l4[3]]),
            ))
        }
        1 => {
            if csum_fold(csum_add(0, l4)) != 0 {
                return Err("ICMP checksum".into());
            }
            None
        }
        58 => {
            if csum_fold(csum_add(pseudo, l4)) != 0 {
                return Err("ICMPv6 checksum".into());
            }
            None
        }
        _ => None,
    };
    Ok(Seen {
        src,
        dst,
        proto,
        ports,
    })
}

/// The packet of a verdict line as the frame should show it.
fn expected(v: &Value) -> (IpAddr, IpAddr, Option<(u16, u16)>) {
    let p = &v["packet"];
    let ports = p["src_port"]
        .as_u64()
        .map(|s| (s as u16, p["dst_port"].as_u64().unwrap() as u16));
    (
        p["src"].as_str().unwrap().parse().unwrap(),
        p["dst"].as_str().unwrap().parse().unwrap(),
        ports,
    )
}

/// Every out/<Resource>.pcap holds exactly, in order, the frames whose verdict ends at that
/// resource, with the rewritten addresses and ports and correct checksums.
fn check_out_pcaps(out: &Path, lines: &[Value]) -> BTreeMap<String, Vec<(usize, Seen)>> {
    let mut by_end: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for v in lines {
        if v["disposition"] == "DROPPED" {
            continue;
        }
        let end = v["delivered_to"]
            .as_str()
            .or(v["egress"].as_str())
            .unwrap()
            .to_string();
        if !SERVICES.contains(&end.as_str()) {
            by_end.entry(end).or_default().push(v);
        }
    }
    let mut files: Vec<String> = std::fs::read_dir(out.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let names: Vec<String> = by_end.keys().map(|k| format!("{k}.pcap")).collect();
    assert_eq!(files, names, "one output pcap per endpoint");
    let mut seen = BTreeMap::new();
    for (end, vs) in &by_end {
        let p = read_pcap(&out.join("out").join(format!("{end}.pcap")));
        assert_eq!(p.linktype, 1, "{end}: LINKTYPE_ETHERNET");
        assert_eq!(p.frames.len(), vs.len(), "{end}: one frame per verdict");
        let mut list = Vec::new();
        for ((ts, f), v) in p.frames.iter().zip(vs) {
            let s = check_frame(f).unwrap_or_else(|e| panic!("{end}: frame {}: {e}", v["frame"]));
            let (src, dst, ports) = expected(v);
            assert_eq!((s.src, s.dst), (src, dst), "{end}: {v}");
            if s.ports.is_some() {
                assert_eq!(s.ports, ports, "{end}: {v}");
            }
            let vts = v["ts"].as_f64().unwrap();
            assert!(
                ((*ts as f64) / 1e9 - vts).abs() < 1e-5,
                "{end}: timestamp {ts} vs {v}"
            );
            list.push((v["frame"].as_u64().unwrap() as usize, s));
        }
        seen.insert(end.clone(), list);
    }
    seen
}

// ------------------------------------------------------------------------- flow logs

/// The header line of the default format, as AWS writes it at the top of S3 files.
const HEADER_V2: &str = "version account-id interface-id srcaddr dstaddr srcport dstport \
                         protocol packets bytes start end action log-status";

/// Rows of every flow-log file after the header, by file stem.
fn flowlogs(out: &Path) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut m = BTreeMap::new();
    for e in std::fs::read_dir(out.join("flowlogs")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&p).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(HEADER_V2),
            "{}: no header line",
            p.display()
        );
        let rows = lines
            .map(|l| l.split(' ').map(str::to_string).collect())
            .collect();
        m.insert(name, rows);
    }
    m
}

/// The default (version 2) format, field by field (SPEC §12.2).
fn check_flowlog_row(r: &[String], account: &str) {
    assert_eq!(r.len(), 14, "{r:?}");
    assert_eq!(r[0], "2", "{r:?}");
    assert_eq!(r[1], account, "{r:?}");
    assert!(r[2].starts_with("eni-") && r[2].len() > 4, "{r:?}");
    let (s, d): (IpAddr, IpAddr) = (r[3].parse().unwrap(), r[4].parse().unwrap());
    assert_eq!(s.is_ipv4(), d.is_ipv4(), "{r:?}");
    r[5].parse::<u16>().unwrap();
    r[6].parse::<u16>().unwrap();
    r[7].parse::<u8>().unwrap();
    let (packets, bytes) = (r[8].parse::<u64>().unwrap(), r[9].parse::<u64>().unwrap());
    assert!(packets >= 1 && bytes >= 20 * packets, "{r:?}");
    let (start, end) = (r[10].parse::<u64>().unwrap(), r[11].parse::<u64>().unwrap());
    assert!(
        start <= end && start / 60 == end / 60,
        "one 60 s window: {r:?}"
    );
    assert!(r[12] == "ACCEPT" || r[12] == "REJECT", "{r:?}");
    assert_eq!(r[13], "OK", "{r:?}");
}

fn find<'a>(
    rows: &'a [Vec<String>],
    src: &str,
    dst: &str,
    sport: u16,
    dport: u16,
    proto: u8,
) -> Vec<&'a Vec<String>> {
    rows.iter()
        .filter(|r| {
            r[3] == src
                && r[4] == dst
                && r[5] == sport.to_string()
                && r[6] == dport.to_string()
                && r[7] == proto.to_string()
        })
        .collect()
}

// ------------------------------------------------------------------------- tests

/// The bundled capture: summary, verdicts and output pcaps agree frame for frame.
#[test]
fn two_tier_capture_summary_verdicts_and_out_pcaps() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let input = read_pcap(&two_tier_capture());
    let lines = replay(&example(), &two_tier_capture(), out, &[]);
    let s = summary(out);
    check_summary(&s);
    assert_eq!(s["packets"].as_u64().unwrap(), input.frames.len() as u64);
    assert_eq!(
        lines.len(),
        input.frames.len(),
        "one verdict line per frame"
    );
    let mut counted: BTreeMap<String, u64> = BTreeMap::new();
    for (i, (v, (ts, _))) in lines.iter().zip(&input.frames).enumerate() {
        assert_eq!(v["frame"], (i + 1) as u64, "frames are numbered from 1");
        assert!(((*ts as f64) / 1e9 - v["ts"].as_f64().unwrap()).abs() < 1e-5);
        let d = v["disposition"].as_str().unwrap();
        assert!(["DELIVERED", "EXITED", "DROPPED"].contains(&d), "{v}");
        assert_eq!(v["reason"].is_null(), d != "DROPPED", "{v}");
        match d {
            "DELIVERED" => assert!(v["delivered_to"].is_string(), "{v}"),
            "EXITED" => assert!(v["egress"].is_string(), "{v}"),
            _ => {}
        }
        *counted.entry(d.to_string()).or_default() += 1;
    }
    for (d, n) in &counted {
        assert_eq!(s["dispositions"][d], *n, "{d}");
    }
    // The input is well-formed, so its checksums are valid; so must the rewritten ones be.
    for (_, f) in &input.frames {
        check_frame(f).unwrap();
    }
    let seen = check_out_pcaps(out, &lines);

    // AppInstanceA (10.0.2.30) reaches the internet through the NAT gateway: in
    // out/InternetGateway.pcap its frames carry the NAT gateway's Elastic IP and a port in
    // 1024-65535.
    let nat = common::trace(&example(), "udp 10.0.2.30:45000 -> 8.8.8.8:53", &[]);
    let eip: IpAddr = nat["packet"]["src"].as_str().unwrap().parse().unwrap();
    assert!(!eip.to_string().starts_with("10."), "{nat:#}");
    let app_a: IpAddr = "10.0.2.30".parse().unwrap();
    let mut natted = 0;
    for (frame, s) in &seen["InternetGateway"] {
        let orig = check_frame(&input.frames[frame - 1].1).unwrap();
        if orig.src == app_a {
            natted += 1;
            assert_eq!(s.src, eip, "frame {frame}");
            assert_eq!(s.dst, orig.dst, "destination preserved, frame {frame}");
            if let (Some((p, dp)), Some((_, odp))) = (s.ports, orig.ports) {
                assert!(p >= 1024, "frame {frame}: port {p}");
                assert_eq!(dp, odp, "frame {frame}");
            }
        }
    }
    assert!(
        natted > 0,
        "the capture has AppInstanceA traffic through the NAT gateway"
    );
}

/// Flow logs of the bundled capture: default format, 60 s windows, one interface per file.
#[test]
fn two_tier_flow_logs_default_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    replay(
        &example(),
        &two_tier_capture(),
        out,
        &["--account-id", "111122223333"],
    );
    let logs = flowlogs(out);
    assert!(
        logs.contains_key("NatGateway") && logs.contains_key("WebInstance"),
        "{:?}",
        logs.keys()
    );
    let mut ids = std::collections::BTreeSet::new();
    for (name, rows) in &logs {
        assert!(!rows.is_empty(), "{name}");
        for r in rows {
            check_flowlog_row(r, "111122223333");
        }
        assert!(
            rows.iter().all(|r| r[2] == rows[0][2]),
            "{name}: one interface per file"
        );
        assert!(
            ids.insert(rows[0][2].clone()),
            "{name}: interface ids differ between files"
        );
        // Rows are unique per (flow, action, window).
        let mut keys = std::collections::BTreeSet::new();
        for r in rows {
            let window = r[10].parse::<u64>().unwrap() / 60;
            assert!(
                keys.insert((r[3..8].to_vec(), r[12].clone(), window)),
                "{name}: duplicate row {r:?}"
            );
        }
    }
}

/// Aggregation per flow, action and 60 s window of packet time, with packets, bytes, start and
/// end (SPEC §12.1/§12.2), and the instance's rows show end-to-end addresses.
#[test]
fn flow_log_aggregation_per_window() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("in.pcap");
    // T0 is 1,700,000,000 = 28,333,333 windows + 20 s: windows change at T0 + 40 s.
    let syn = tcp("192.0.2.9", 50000, "203.0.113.20", 443, 0x02, b"");
    let data = tcp("192.0.2.9", 50000, "203.0.113.20", 443, 0x18, &[7u8; 100]);
    let frames = at(vec![
        (0, syn.clone()),
        (5_000, data.clone()),
        (39_000, data.clone()),
        (41_000, data.clone()),
        (99_000, data.clone()),
        (101_000, data.clone()),
    ]);
    write_pcap(&cap, 1, &frames);
    let out = dir.path().join("out");
    let lines = replay(&fixture_f(), &cap, &out, &["--flow-log-interval", "60"]);
    assert!(
        lines.iter().all(|v| v["disposition"] == "DELIVERED"),
        "{lines:?}"
    );
    let logs = flowlogs(&out);
    assert_eq!(logs.keys().collect::<Vec<_>>(), ["Web"]);
    let rows = &logs["Web"];
    for r in rows {
        check_flowlog_row(r, "123456789012");
    }
    let ip_len = |f: &Vec<u8>| (f.len() - 14) as u64;
    let t = |s: u64| (T0 + s).to_string();
    let want = [
        (3u64, ip_len(&syn) + 2 * ip_len(&data), t(0), t(39)),
        (2, 2 * ip_len(&data), t(41), t(99)),
        (1, ip_len(&data), t(101), t(101)),
    ];
    assert_eq!(rows.len(), 3, "{rows:?}");
    for (r, (packets, bytes, start, end)) in rows.iter().zip(want) {
        assert_eq!(
            &r[3..8],
            ["192.0.2.9", "10.0.1.20", "50000", "443", "6"],
            "{r:?}"
        );
        assert_eq!(r[8], packets.to_string(), "{r:?}");
        assert_eq!(r[9], bytes.to_string(), "bytes are IP lengths: {r:?}");
        assert_eq!((&r[10], &r[11]), (&start, &end), "{r:?}");
        assert_eq!(r[12], "ACCEPT");
    }
}

/// Replay one capture (frames at ms offsets) through fixture F plus overlays.
fn replay_f(
    overlays: &[&str],
    extra: &[&str],
    frames: Vec<(u64, Vec<u8>)>,
) -> (Vec<Value>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("in.pcap");
    write_pcap(&cap, 1, &at(frames));
    let mut args: Vec<String> = Vec::new();
    for o in overlays {
        args.push("-t".into());
        args.push(spec(o));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let v = replay(&fixture_f(), &cap, &dir.path().join("out"), &refs);
    (v, dir)
}

/// SPEC §12.5: a security-group denial of an inbound packet is one REJECT row on the destination
/// interface; an outbound denial a REJECT row on the source.
#[test]
fn flow_log_reject_rows_for_security_groups() {
    let (v, dir) = replay_f(
        &["v34-no-egress-sg.yaml"],
        &[],
        vec![
            (0, tcp("192.0.2.9", 50000, "203.0.113.20", 22, 0x02, b"")),
            (1, echo("10.0.1.34", "192.0.2.9", 3, true)),
        ],
    );
    assert_eq!(v[0]["reason"], "SG_INGRESS_DENIED");
    assert_eq!(v[1]["reason"], "SG_EGRESS_DENIED");
    let logs = flowlogs(&dir.path().join("out"));
    assert_eq!(
        logs.keys().collect::<Vec<_>>(),
        ["P34", "Web"],
        "no other interface logs"
    );
    let web = find(&logs["Web"], "192.0.2.9", "10.0.1.20", 50000, 22, 6);
    assert_eq!(logs["Web"].len(), 1);
    assert_eq!(web[0][12], "REJECT");
    let p34 = find(&logs["P34"], "10.0.1.34", "192.0.2.9", 0, 0, 1);
    assert_eq!(logs["P34"].len(), 1);
    assert_eq!(p34[0][12], "REJECT");
}

/// SPEC §12.5: NACL denials are logged on the interface on the side of the boundary where the
/// drop happens: the destination for inbound rules, the source for outbound rules.
#[test]
fn flow_log_reject_rows_for_network_acls() {
    // Inbound: PUB's NACL denies SSH to web.
    let (v, dir) = replay_f(
        &["v15-nacl-order.yaml"],
        &[],
        vec![(0, tcp("192.0.2.9", 50000, "203.0.113.20", 22, 0x02, b""))],
    );
    assert_eq!(v[0]["reason"], "NACL_INGRESS_DENIED");
    let logs = flowlogs(&dir.path().join("out"));
    assert_eq!(logs.keys().collect::<Vec<_>>(), ["Web"]);
    assert_eq!(
        find(&logs["Web"], "192.0.2.9", "10.0.1.20", 50000, 22, 6)[0][12],
        "REJECT"
    );

    // Outbound: PRIV's deny-all NACL stops app → app2; app logs it, app2 sees nothing.
    let (v, dir) = replay_f(
        &["v12-custom-nacl.yaml"],
        &[],
        vec![(0, tcp("10.0.2.30", 40000, "10.0.3.40", 8080, 0x02, b""))],
    );
    assert_eq!(v[0]["reason"], "NACL_EGRESS_DENIED");
    let logs = flowlogs(&dir.path().join("out"));
    assert_eq!(logs.keys().collect::<Vec<_>>(), ["App"]);
    assert_eq!(
        find(&logs["App"], "10.0.2.30", "10.0.3.40", 40000, 8080, 6)[0][12],
        "REJECT"
    );
}

/// SPEC §12.5 ICMP example: SG admits inbound ICMP (no outbound rule) and the NACL admits inbound
/// ICMP only: the echo request is ACCEPT, the echo reply (allowed by SG state) REJECT, both on
/// the instance's interface. With the default NACL both rows are ACCEPT.
#[test]
fn flow_log_icmp_request_accept_reply_reject() {
    let frames = vec![
        (0, echo("192.0.2.9", "203.0.113.34", 5, true)),
        (10, echo("10.0.1.34", "192.0.2.9", 5, false)),
    ];
    let (v, dir) = replay_f(
        &["v34-no-egress-sg.yaml", "nacl-icmp-in-only.yaml"],
        &[],
        frames.clone(),
    );
    assert_eq!(v[0]["disposition"], "DELIVERED", "{}", v[0]);
    assert_eq!(v[1]["reason"], "NACL_EGRESS_DENIED", "{}", v[1]);
    let logs = flowlogs(&dir.path().join("out"));
    let rows = &logs["P34"];
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        find(rows, "192.0.2.9", "10.0.1.34", 0, 0, 1)[0][12],
        "ACCEPT"
    );
    assert_eq!(
        find(rows, "10.0.1.34", "192.0.2.9", 0, 0, 1)[0][12],
        "REJECT"
    );

    let (v, dir) = replay_f(&["v34-no-egress-sg.yaml"], &[], frames);
    assert_eq!(v[1]["disposition"], "EXITED", "{}", v[1]);
    let logs = flowlogs(&dir.path().join("out"));
    assert!(
        logs["P34"].iter().all(|r| r[12] == "ACCEPT"),
        "{:?}",
        logs["P34"]
    );
    assert_eq!(logs["P34"].len(), 2);
}

/// SPEC §7.6 / §12.5: through a NAT gateway, the NAT gateway's interface logs four legs with its
/// own private address in srcaddr/dstaddr; the instance logs the end-to-end addresses.
#[test]
fn flow_log_nat_gateway_rows() {
    let (first, _d) = replay_f(
        &[],
        &[],
        vec![(0, udp("10.0.2.30", 45000, "8.8.8.8", 53, b"q"))],
    );
    let p = first[0]["packet"]["src_port"].as_u64().unwrap() as u16;
    let (v, dir) = replay_f(
        &[],
        &[],
        vec![
            (0, udp("10.0.2.30", 45000, "8.8.8.8", 53, b"q")),
            (20, udp("8.8.8.8", 53, "198.51.100.10", p, b"answer")),
        ],
    );
    assert_eq!(v[0]["egress"], "IgwA");
    assert_eq!(v[1]["delivered_to"], "App");
    let logs = flowlogs(&dir.path().join("out"));
    assert_eq!(logs.keys().collect::<Vec<_>>(), ["App", "Nat1"]);
    let nat = &logs["Nat1"];
    let nat_ip = "10.0.1.10";
    for (src, dst, sp, dp) in [
        ("10.0.2.30", nat_ip, 45000, 53),
        (nat_ip, "8.8.8.8", p, 53),
        ("8.8.8.8", nat_ip, 53, p),
        (nat_ip, "10.0.2.30", 53, 45000),
    ] {
        let r = find(nat, src, dst, sp, dp, 17);
        assert_eq!(
            r.len(),
            1,
            "{src}:{sp} → {dst}:{dp} on the NAT gateway: {nat:?}"
        );
        assert_eq!(r[0][12], "ACCEPT");
    }
    assert_eq!(nat.len(), 4, "{nat:?}");
    let app = &logs["App"];
    assert_eq!(
        find(app, "10.0.2.30", "8.8.8.8", 45000, 53, 17).len(),
        1,
        "{app:?}"
    );
    assert_eq!(
        find(app, "8.8.8.8", "10.0.2.30", 53, 45000, 17).len(),
        1,
        "{app:?}"
    );
    assert_eq!(
        app.len(),
        2,
        "the instance never sees the NAT address: {app:?}"
    );
    assert_ne!(nat[0][2], app[0][2], "different interfaces");
}

/// `--at` makes every frame start at the given resource (or the internet).
#[test]
fn at_overrides_the_origin() {
    let frames = vec![
        (0, tcp("192.0.2.9", 50000, "203.0.113.20", 443, 0x02, b"")),
        (1, tcp("10.0.1.20", 40000, "203.0.113.20", 443, 0x02, b"")),
    ];
    let (auto, _d) = replay_f(&[], &[], frames.clone());
    assert_eq!(auto[0]["delivered_to"], "Web", "{}", auto[0]);
    assert_ne!(auto[1]["reason"], "IGW_PRIVATE_ADDRESS", "{}", auto[1]);

    // Taken at web: 192.0.2.9 is not web's address, so source/destination check drops it.
    let (at_web, _d) = replay_f(&[], &["--at", "Web"], frames.clone());
    assert_eq!(at_web[0]["reason"], "SOURCE_DEST_CHECK", "{}", at_web[0]);
    assert_eq!(at_web[0]["at"], "Web");
    // Taken on the internet: a private source is dropped by the internet gateway.
    let (at_inet, _d) = replay_f(&[], &["--at", "internet"], frames);
    assert_eq!(at_inet[0]["delivered_to"], "Web", "{}", at_inet[0]);
    assert_eq!(
        at_inet[1]["reason"], "IGW_PRIVATE_ADDRESS",
        "{}",
        at_inet[1]
    );
    assert_eq!(at_inet[1]["at"], "IgwA");
}

// ------------------------------------------------------------------------- input formats

/// Frames used for the input-format tests: TCP in, TCP out via NAT, ICMP, UDP.
fn sample_frames() -> Vec<Vec<u8>> {
    vec![
        tcp("192.0.2.9", 50000, "203.0.113.20", 443, 0x02, b""),
        tcp("10.0.2.30", 40000, "93.184.216.34", 443, 0x02, b""),
        echo("10.0.1.20", "192.0.2.9", 11, true),
        udp("10.0.2.30", 45000, "8.8.8.8", 53, b"query"),
    ]
}

/// IP packet of an Ethernet frame built by the common helpers.
fn ip_of(f: &[u8]) -> &[u8] {
    &f[14..]
}

fn sll(f: &[u8]) -> Vec<u8> {
    let mut h = vec![0, 0, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 1, 0, 0];
    h.extend_from_slice(&f[12..14]);
    h.extend_from_slice(ip_of(f));
    h
}

fn sll2(f: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&f[12..14]); // protocol
    h.extend_from_slice(&[0, 0]); // reserved
    h.extend_from_slice(&2u32.to_be_bytes()); // interface index
    h.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
    h.push(0); // packet type
    h.push(6);
    h.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0, 0]);
    h.extend_from_slice(ip_of(f));
    h
}

fn loopback(f: &[u8]) -> Vec<u8> {
    let mut h = 2u32.to_le_bytes().to_vec(); // AF_INET, host byte order
    h.extend_from_slice(ip_of(f));
    h
}

fn vlan(f: &[u8], tags: &[(u16, u16)]) -> Vec<u8> {
    let mut h = f[..12].to_vec();
    for (tpid, vid) in tags {
        h.extend_from_slice(&tpid.to_be_bytes());
        h.extend_from_slice(&vid.to_be_bytes());
    }
    h.extend_from_slice(&f[12..]);
    h
}

/// A pcapng file: section header, one interface (microseconds), enhanced packet blocks.
fn write_pcapng(path: &Path, linktype: u16, frames: &[Frame]) {
    fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
        let pad = (4 - body.len() % 4) % 4;
        let len = (12 + body.len() + pad) as u32;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(body);
        out.extend(std::iter::repeat_n(0u8, pad));
        out.extend_from_slice(&len.to_le_bytes());
    }
    let mut b = Vec::new();
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut b, 0x0a0d_0d0a, &shb);
    let mut idb = linktype.to_le_bytes().to_vec();
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&262_144u32.to_le_bytes());
    block(&mut b, 1, &idb);
    for f in frames {
        let us = f.ts_ns / 1000;
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend_from_slice(&((us >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(us as u32).to_le_bytes());
        epb.extend_from_slice(&(f.data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(f.data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&f.data);
        block(&mut b, 6, &epb);
    }
    std::fs::write(path, b).unwrap();
}

/// The verdict fields that do not depend on the input's framing.
fn essence(v: &Value) -> Value {
    serde_json::json!([
        v["frame"],
        v["ts"],
        v["disposition"],
        v["reason"],
        v["at"],
        v["delivered_to"],
        v["egress"],
        v["packet"]
    ])
}

/// pcapng, Linux SLL and SLL2, raw IP, BSD loopback, 802.1Q and QinQ inputs replay exactly like
/// plain Ethernet, and their outputs are Ethernet pcaps with the same rewritten packets.
#[test]
fn every_input_format_replays_the_same() {
    let base = sample_frames();
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, write: &dyn Fn(&Path)| -> (Vec<Value>, PathBuf) {
        let cap = dir.path().join(name);
        write(&cap);
        let out = dir.path().join(format!("{name}.out"));
        let v = replay(&fixture_f(), &cap, &out, &[]);
        let s = summary(&out);
        check_summary(&s);
        assert_eq!(s["packets"], 4, "{name}");
        (v, out)
    };
    let frames_of = |data: Vec<Vec<u8>>| {
        at(data
            .into_iter()
            .enumerate()
            .map(|(i, d)| (i as u64 * 10, d))
            .collect())
    };
    let (reference, ref_out) = run("eth.pcap", &|p| write_pcap(p, 1, &frames_of(base.clone())));
    assert!(
        reference.iter().all(|v| v["disposition"] != "DROPPED"),
        "{reference:?}"
    );
    let ref_pcaps = check_out_pcaps(&ref_out, &reference);
    type Conv = fn(&[u8]) -> Vec<u8>;
    let cases: Vec<(&str, u32, bool, Conv)> = vec![
        ("eth.pcapng", 1, true, |f| f.to_vec()),
        ("sll.pcap", 113, false, sll),
        ("sll.pcapng", 113, true, sll),
        ("sll2.pcap", 276, false, sll2),
        ("raw.pcap", 101, false, |f| f[14..].to_vec()),
        ("loopback.pcap", 0, false, loopback),
        ("vlan.pcap", 1, false, |f| vlan(f, &[(0x8100, 42)])),
        ("qinq.pcap", 1, false, |f| {
            vlan(f, &[(0x88a8, 7), (0x8100, 42)])
        }),
        ("qinq-8100.pcapng", 1, true, |f| {
            vlan(f, &[(0x8100, 7), (0x8100, 42)])
        }),
    ];
    for (name, linktype, ng, conv) in cases {
        let data: Vec<Vec<u8>> = base.iter().map(|f| conv(f)).collect();
        let (v, out) = run(name, &|p| {
            if ng {
                write_pcapng(p, linktype as u16, &frames_of(data.clone()))
            } else {
                write_pcap(p, linktype, &frames_of(data.clone()))
            }
        });
        let a: Vec<Value> = v.iter().map(essence).collect();
        let b: Vec<Value> = reference.iter().map(essence).collect();
        assert_eq!(a, b, "{name}");
        let pcaps = check_out_pcaps(&out, &v);
        assert_eq!(pcaps, ref_pcaps, "{name}: output pcaps");
    }
}

/// Frames that are not IP, or broken, are counted (UNSUPPORTED, MALFORMED), never skipped.
#[test]
fn non_ip_and_broken_frames_are_counted() {
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x08, 0x06]);
    arp.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    arp.extend_from_slice(&[0u8; 20]);
    let good = tcp("192.0.2.9", 50000, "203.0.113.20", 443, 0x02, b"");
    let mut truncated = good.clone();
    truncated.truncate(14 + 12); // inside the IPv4 header
    let mut bad_version = good.clone();
    bad_version[14] = 0x75;
    let (v, dir) = replay_f(
        &[],
        &[],
        vec![(0, arp), (1, truncated), (2, bad_version), (3, good)],
    );
    assert_eq!(v.len(), 4);
    assert_eq!(
        (&v[0]["disposition"], &v[0]["reason"]),
        (&Value::from("DROPPED"), &Value::from("UNSUPPORTED")),
        "{}",
        v[0]
    );
    assert_eq!(v[1]["reason"], "MALFORMED", "{}", v[1]);
    assert_eq!(v[2]["disposition"], "DROPPED", "{}", v[2]);
    assert_eq!(v[3]["delivered_to"], "Web");
    for (i, l) in v.iter().enumerate() {
        assert_eq!(l["frame"], (i + 1) as u64);
    }
    let s = summary(&dir.path().join("out"));
    check_summary(&s);
    assert_eq!(s["packets"], 4);
    assert_eq!(s["reasons"]["UNSUPPORTED"], 1, "{s:#}");
}

// ------------------------------------------------------------------------- determinism

fn gen(seed: u64, flows: u64, out: &Path) {
    let o = vpcsim([
        "gen".to_string(),
        "-t".into(),
        example().display().to_string(),
        "--flows".into(),
        flows.to_string(),
        "--seed".into(),
        seed.to_string(),
        "--out".into(),
        out.display().to_string(),
    ]);
    assert_eq!(o.code, 0, "gen: {}{}", o.stdout, o.stderr);
}

/// `gen` is deterministic: the same seed gives the same bytes, another seed other bytes.
#[test]
fn gen_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a.pcap"),
        dir.path().join("b.pcap"),
        dir.path().join("c.pcap"),
    );
    gen(7, 200, &a);
    gen(7, 200, &b);
    gen(8, 200, &c);
    let (a, b, c) = (
        std::fs::read(a).unwrap(),
        std::fs::read(b).unwrap(),
        std::fs::read(c).unwrap(),
    );
    assert!(a.len() > 24);
    assert_eq!(a, b, "same seed, same bytes");
    assert_ne!(a, c, "different seed, different capture");
}

/// Generated traffic for the example replays without NAT_NO_SESSION drops: the replies `gen`
/// writes are addressed to the translated address and port.
#[test]
fn gen_then_replay_has_no_nat_no_session() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("gen.pcap");
    gen(11, 1000, &cap);
    let out = dir.path().join("out");
    let lines = replay(&example(), &cap, &out, &[]);
    let s = summary(&out);
    check_summary(&s);
    assert_eq!(lines.len() as u64, s["packets"].as_u64().unwrap());
    assert!(
        s["reasons"].get("NAT_NO_SESSION").is_none(),
        "{:#}",
        s["reasons"]
    );
    assert!(s["dispositions"]["EXITED"].as_u64().unwrap() > 0);
    for f in read_pcap(&cap).frames {
        check_frame(&f.1).unwrap();
    }
    check_out_pcaps(&out, &lines);
}

/// Replaying twice gives byte-identical verdicts, flow logs and output pcaps (nothing depends
/// on the wall clock), and the same summary apart from the timing fields.
#[test]
fn replay_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    replay(&example(), &two_tier_capture(), &a, &[]);
    replay(&example(), &two_tier_capture(), &b, &[]);
    let read = |p: PathBuf| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert_eq!(
        read(a.join("verdicts.jsonl")),
        read(b.join("verdicts.jsonl"))
    );
    for sub in ["out", "flowlogs"] {
        let mut names: Vec<_> = std::fs::read_dir(a.join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert!(!names.is_empty());
        for n in names {
            assert_eq!(
                read(a.join(sub).join(&n)),
                read(b.join(sub).join(&n)),
                "{sub}/{n:?}"
            );
        }
    }
    let (mut sa, mut sb) = (summary(&a), summary(&b));
    for s in [&mut sa, &mut sb] {
        let o = s.as_object_mut().unwrap();
        for k in ["elapsed_s", "pps", "input"] {
            o.remove(k);
        }
    }
    assert_eq!(sa, sb);
    // --no-verdicts writes everything else the same.
    let c = dir.path().join("c");
    let o = vpcsim([
        "replay".to_string(),
        "-t".into(),
        example().display().to_string(),
        "--in".into(),
        two_tier_capture().display().to_string(),
        "--out".into(),
        c.display().to_string(),
        "--no-verdicts".into(),
        "--quiet".into(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!c.join("verdicts.jsonl").exists());
    assert_eq!(
        read(a.join("flowlogs/NatGateway.log")),
        read(c.join("flowlogs/NatGateway.log"))
    );
}

/// The checksum verification used above rejects corrupted frames (so the checks are not vacuous).
#[test]
fn checksum_verification_detects_corruption() {
    for f in sample_frames() {
        check_frame(&f).unwrap();
        let n = f.len();
        let mut ip = f.clone();
        ip[14 + 8] ^= 1; // TTL: header checksum
        assert!(check_frame(&ip).is_err());
        let mut l4 = f.clone();
        l4[n - 1] ^= 0x40; // last payload or header byte: L4 checksum
        assert!(check_frame(&l4).is_err(), "{f:?}");
    }
}
