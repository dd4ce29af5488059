//! Flow logs as AWS delivers them to S3 (SPEC §12): the header line, custom formats with the
//! fields of versions 2 to 7, the aggregation interval, and loading them the way AWS's Athena
//! table does (DuckDB, when installed).

mod common;

use common::{example, fixture, replay, tcp, vpcsim, write_pcap, Frame};
use serde_json::Value;
use std::path::{Path, PathBuf};

const HEADER_V2: &str = "version account-id interface-id srcaddr dstaddr srcport dstport \
                         protocol packets bytes start end action log-status";

fn two_tier_capture() -> PathBuf {
    common::root().join("captures/two-tier.pcap")
}

/// Each flow-log file's lines, by file stem.
fn logs(out: &Path) -> Vec<(String, Vec<String>)> {
    let mut v: Vec<(String, Vec<String>)> = std::fs::read_dir(out.join("flowlogs"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let text = std::fs::read_to_string(&p).unwrap();
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, text.lines().map(str::to_string).collect())
        })
        .collect();
    v.sort();
    v
}

fn summary_records(out: &Path) -> u64 {
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    s["state"]["flow_logs"]["records"].as_u64().unwrap()
}

/// Every file starts with the field names; the records after it are those the summary counts.
#[test]
fn header_line_starts_every_file() {
    let dir = tempfile::tempdir().unwrap();
    replay(&example(), &two_tier_capture(), dir.path(), &[]);
    let files = logs(dir.path());
    assert!(files.len() >= 2, "{files:?}");
    let mut records = 0;
    for (name, lines) in &files {
        assert_eq!(lines[0], HEADER_V2, "{name}");
        assert!(lines[1..].iter().all(|l| l.starts_with("2 ")), "{name}");
        records += lines.len() as u64 - 1;
    }
    assert_eq!(records, summary_records(dir.path()));
}

const CUSTOM: &str = "${version} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} \
                      ${pkt-dstaddr} ${tcp-flags} ${type} ${vpc-id} ${subnet-id} ${instance-id} \
                      ${region} ${az-id} ${flow-direction} ${traffic-path} ${pkt-dst-aws-service} \
                      ${ecs-task-id}";

/// The NAT gateway's interface shows its own address in srcaddr/dstaddr and the true peer in
/// pkt-* (SPEC §7.6); the instance's rows show the end-to-end addresses.
#[test]
fn custom_format_on_a_nat_gateway_flow() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    replay(
        &example(),
        &two_tier_capture(),
        out,
        &["--flow-log-format", CUSTOM, "--region", "eu-west-1"],
    );
    let files = logs(out);
    let rows = |name: &str| -> Vec<Vec<String>> {
        let (_, lines) = files.iter().find(|(n, _)| n == name).unwrap();
        assert_eq!(lines[0], CUSTOM.replace("${", "").replace('}', ""));
        lines[1..]
            .iter()
            .map(|l| l.split(' ').map(str::to_string).collect())
            .collect()
    };
    let nat = rows("NatGateway");
    for r in &nat {
        assert_eq!(r.len(), 17, "{r:?}");
        // The highest version among the fields: ecs-* are version 7.
        assert_eq!(r[0], "7", "{r:?}");
        assert_eq!(r[7], "IPv4", "{r:?}");
        assert!(
            r[8].starts_with("vpc-") && r[9].starts_with("subnet-"),
            "{r:?}"
        );
        assert_eq!(
            r[10], "-",
            "a NAT gateway's interface has no instance: {r:?}"
        );
        assert_eq!((&r[11][..], &r[12][..]), ("eu-west-1", "-"), "{r:?}");
        assert_eq!((&r[15][..], &r[16][..]), ("-", "-"), "{r:?}");
        match &r[13][..] {
            "ingress" => assert_eq!(r[14], "-", "{r:?}"),
            "egress" => assert!(["1", "2"].contains(&&r[14][..]), "{r:?}"),
            d => panic!("flow-direction {d}"),
        }
    }
    // Client → NAT leg: dstaddr is the NAT's address, pkt-dstaddr the internet server.
    let client_leg = nat
        .iter()
        .find(|r| r[13] == "ingress" && r[3] != r[5] && r[3].starts_with("10."))
        .unwrap_or_else(|| panic!("no client leg with pkt-dstaddr: {nat:?}"));
    assert!(!client_leg[5].starts_with("10."), "{client_leg:?}");
    // Back to the client: srcaddr is the NAT's address, pkt-srcaddr the internet server.
    assert!(
        nat.iter()
            .any(|r| r[13] == "egress" && r[2] != r[4] && !r[4].starts_with("10.")),
        "{nat:?}"
    );
    // NAT → internet leg goes out through the internet gateway.
    assert!(
        nat.iter()
            .any(|r| r[13] == "egress" && r[14] == "2" && !r[3].starts_with("10.")),
        "{nat:?}"
    );
    let web = rows("WebInstance");
    for r in &web {
        assert!(r[10].starts_with("i-"), "{r:?}");
        assert_eq!((&r[2], &r[3]), (&r[4], &r[5]), "{r:?}");
    }
    // SYN from the client side and SYN-ACK (18) with FIN (1) from the server side, OR-ed.
    let flags: Vec<&str> = web.iter().map(|r| &r[6][..]).collect();
    assert!(flags.contains(&"3") && flags.contains(&"19"), "{flags:?}");
}

#[test]
fn unknown_field_is_an_error_listing_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let o = vpcsim([
        "replay",
        "-t",
        &example().display().to_string(),
        "--in",
        &two_tier_capture().display().to_string(),
        "--out",
        &dir.path().join("out").display().to_string(),
        "--flow-log-format",
        "${version} ${pkt-srcadr}",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("unknown flow log field `pkt-srcadr`"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("pkt-srcaddr") && o.stderr.contains("traffic-path"),
        "{}",
        o.stderr
    );
    assert!(!dir.path().join("out").exists());
    let o = vpcsim([
        "replay",
        "-t",
        &example().display().to_string(),
        "--in",
        &two_tier_capture().display().to_string(),
        "--out",
        &dir.path().join("out").display().to_string(),
        "--flow-log-interval",
        "300",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("60 or 600"), "{}", o.stderr);
}

/// One flow, a packet every 30 s for 6.5 minutes from 1,700,000,000 s: one 600 s window
/// (1,699,999,800 to 1,700,000,400), seven 60 s windows (they change at :40).
#[test]
fn interval_60_and_600_record_counts() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("in.pcap");
    let frames: Vec<Frame> = (0..14)
        .map(|i| Frame {
            ts_ns: (1_700_000_000 + 30 * i) * 1_000_000_000,
            data: tcp("192.0.2.9", 50000, "203.0.113.20", 443, 0x18, &[7u8; 100]),
        })
        .collect();
    write_pcap(&cap, 1, &frames);
    let topology = fixture("spec/fixture-f.yaml");
    let mut counts = Vec::new();
    for interval in [None, Some("60"), Some("600")] {
        let out = dir.path().join(format!("out-{interval:?}"));
        let extra: Vec<&str> = interval
            .map(|i| vec!["--flow-log-interval", i])
            .unwrap_or_default();
        let v = replay(&topology, &cap, &out, &extra);
        assert!(v.iter().all(|v| v["disposition"] == "DELIVERED"), "{v:?}");
        let files = logs(&out);
        assert_eq!(files.len(), 1, "{files:?}");
        let rows = &files[0].1[1..];
        let packets: u64 = rows
            .iter()
            .map(|l| l.split(' ').nth(8).unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(packets, 14, "{rows:?}");
        assert_eq!(rows.len() as u64, summary_records(&out));
        counts.push(rows.len());
    }
    assert_eq!(counts, [1, 7, 1], "default, 60 s, 600 s");
}

/// The Python that has DuckDB: `VPCSIM_PYTHON` or `python3`.
fn duckdb_python() -> Option<String> {
    let python = std::env::var("VPCSIM_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&python)
        .args(["-c", "import duckdb"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    ok.then_some(python)
}

/// AWS's Athena table for flow logs reads the files space-delimited and skips one header line;
/// DuckDB reading them the same way finds every record replay counted.
#[test]
fn flow_logs_load_in_duckdb_like_athena() {
    let Some(python) = duckdb_python() else {
        eprintln!("skipped: no Python with duckdb (set VPCSIM_PYTHON; .ci/run installs it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (name, extra) in [
        ("default", vec![]),
        ("custom", vec!["--flow-log-format", CUSTOM]),
    ] {
        let out = dir.path().join(name);
        replay(&example(), &two_tier_capture(), &out, &extra);
        let glob = out.join("flowlogs/*.log");
        let script = format!(
            "import duckdb; print(duckdb.sql(\"select count(*) from read_csv('{}', delim=' ', \
             header=true, all_varchar=true)\").fetchall()[0][0])",
            glob.display()
        );
        let o = std::process::Command::new(&python)
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let rows: u64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
        assert_eq!(rows, summary_records(&out), "{name}");
    }
}

/// Every `.log.gz` under `out/AWSLogs`, by path relative to `out`, with its lines.
fn s3_files(out: &Path) -> Vec<(String, Vec<String>)> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, found);
            } else {
                found.push(p);
            }
        }
    }
    let mut paths = vec![];
    walk(&out.join("AWSLogs"), &mut paths);
    let mut v: Vec<(String, Vec<String>)> = paths
        .iter()
        .map(|p| {
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap()),
                &mut text,
            )
            .unwrap_or_else(|e| panic!("{}: not gzip: {e}", p.display()));
            let rel = p.strip_prefix(out).unwrap().display().to_string();
            (rel, text.lines().map(str::to_string).collect())
        })
        .collect();
    v.sort();
    v
}

/// One flow, a packet every 30 s from 22:13:20 to 22:19:50 UTC on 2023-11-14, 60 s windows:
/// seven records, delivered in the files of 22:10 (end times up to 22:14:59) and 22:15, named and
/// foldered as AWS delivers to S3, gzipped, each starting with the header.
#[test]
fn s3_layout_names_files_per_flow_log_and_delivery_period() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("in.pcap");
    let frames: Vec<Frame> = (0..14)
        .map(|i| Frame {
            ts_ns: (1_700_000_000 + 30 * i) * 1_000_000_000,
            data: tcp("192.0.2.9", 50000, "203.0.113.20", 443, 0x18, &[7u8; 100]),
        })
        .collect();
    write_pcap(&cap, 1, &frames);
    let out = dir.path().join("out");
    replay(
        &fixture("spec/fixture-f.yaml"),
        &cap,
        &out,
        &[
            "--flow-log-layout",
            "s3",
            "--flow-log-interval",
            "60",
            "--account-id",
            "111122223333",
        ],
    );
    let files = s3_files(&out);
    assert_eq!(files.len(), 2, "{files:?}");
    let mut records = 0;
    let mut ids = vec![];
    for ((path, lines), (stamp, period_start)) in files.iter().zip([
        ("20231114T2210Z", 1_699_999_800u64),
        ("20231114T2215Z", 1_700_000_100),
    ]) {
        let prefix = "AWSLogs/111122223333/vpcflowlogs/us-east-1/2023/11/14/111122223333_vpcflowlogs_us-east-1_fl-";
        assert!(path.starts_with(prefix), "{path}");
        let rest = &path[prefix.len()..];
        let parts: Vec<&str> = rest.trim_end_matches(".log.gz").split('_').collect();
        assert!(rest.ends_with(".log.gz"), "{path}");
        assert_eq!(parts.len(), 3, "{path}");
        assert_eq!(parts[0].len(), 17, "flow log id: {path}");
        assert!(parts[0].bytes().all(|b| b.is_ascii_hexdigit()), "{path}");
        ids.push(parts[0].to_string());
        assert_eq!(parts[1], stamp, "{path}");
        assert_eq!(parts[2].len(), 8, "{path}");
        assert!(parts[2].bytes().all(|b| b.is_ascii_hexdigit()), "{path}");
        assert_eq!(lines[0], HEADER_V2, "{path}");
        for l in &lines[1..] {
            let end: u64 = l.split(' ').nth(11).unwrap().parse().unwrap();
            assert!(
                (period_start..period_start + 300).contains(&end),
                "{path}: {l}"
            );
        }
        records += lines.len() as u64 - 1;
    }
    assert_eq!(ids[0], ids[1], "one flow log (the VPC's)");
    assert_eq!(records, 7);
    assert_eq!(records, summary_records(&out));
    // The default per-resource files are not written besides.
    assert_eq!(std::fs::read_dir(out.join("flowlogs")).unwrap().count(), 0);
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let listed = s["files"].to_string();
    assert!(listed.contains("_20231114T2215Z_"), "{listed}");
    // A rerun with the default layout removes them, dated folders and all.
    replay(&fixture("spec/fixture-f.yaml"), &cap, &out, &[]);
    assert!(!out.join("AWSLogs/111122223333").exists());
    assert!(!out.join("AWSLogs/123456789012").exists());
}

#[test]
fn s3_layout_rejects_an_unknown_layout() {
    let dir = tempfile::tempdir().unwrap();
    let o = vpcsim([
        "replay",
        "-t",
        &example().display().to_string(),
        "--in",
        &two_tier_capture().display().to_string(),
        "--out",
        &dir.path().join("out").display().to_string(),
        "--flow-log-layout",
        "cloudwatch",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("files") && o.stderr.contains("s3"),
        "{}",
        o.stderr
    );
}

/// The S3 files load in DuckDB with the columns and types of AWS's Athena table for flow logs
/// (`skip.header.line.count` 1), gzip and all, without losing a record.
#[test]
fn s3_layout_loads_in_duckdb_like_athena() {
    let Some(python) = duckdb_python() else {
        eprintln!("skipped: no Python with duckdb (set VPCSIM_PYTHON; .ci/run installs it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    replay(
        &example(),
        &two_tier_capture(),
        &out,
        &["--flow-log-layout", "s3"],
    );
    let glob = out.join("AWSLogs/*/vpcflowlogs/*/*/*/*/*.log.gz");
    // AWS's Athena table: version int, account_id string, interface_id string, srcaddr string,
    // dstaddr string, srcport int, dstport int, protocol bigint, packets bigint, bytes bigint,
    // start bigint, end bigint, action string, log_status string.
    let columns = "{'version': 'INTEGER', 'account_id': 'VARCHAR', 'interface_id': 'VARCHAR', \
                   'srcaddr': 'VARCHAR', 'dstaddr': 'VARCHAR', 'srcport': 'INTEGER', \
                   'dstport': 'INTEGER', 'protocol': 'BIGINT', 'packets': 'BIGINT', \
                   'bytes': 'BIGINT', 'start': 'BIGINT', 'end': 'BIGINT', 'action': 'VARCHAR', \
                   'log_status': 'VARCHAR'}";
    let script = format!(
        "import duckdb; print(duckdb.sql(\"select count(*), sum(packets) from read_csv('{}', \
         delim=' ', header=true, columns={columns})\").fetchall()[0])",
        glob.display()
    );
    let o = std::process::Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let (rows, _) = text
        .trim()
        .trim_matches(|c| c == '(' || c == ')')
        .split_once(", ")
        .unwrap();
    assert_eq!(rows.parse::<u64>().unwrap(), summary_records(&out));
}
