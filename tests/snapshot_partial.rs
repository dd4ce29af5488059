//! Partial and unusual snapshots through the binary: dangling references load as AWS would
//! treat them (blackhole routes, rules that match nothing, skipped resources) with coded
//! warnings; `--strict` makes them errors; `--quota` sets the quotas an account really has;
//! accounts of a multi-account snapshot resolve each other's peerings and groups; every set of
//! the third-party corpus loads and traces.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use vpcsim_controlplane::model::EniOwner;
use vpcsim_controlplane::snapshot::load_snapshot;
use vpcsim_controlplane::LoadOptions;

fn snapshot(name: &str) -> PathBuf {
    fixture("snapshot").join(name)
}

fn validate_json(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "validate".to_string(),
        "-t".into(),
        dir.display().to_string(),
        "--json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = vpcsim(&args);
    let v = serde_json::from_str(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", o.stdout, o.stderr));
    (o.code, v)
}

/// (logical id, code) of each finding of `kind` ("warnings" or "errors").
fn findings(v: &Value, kind: &str) -> Vec<(String, String)> {
    v[kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["logical_id"].as_str().unwrap_or_default().to_string(),
                d["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has(list: &[(String, String)], id: &str, code: &str) -> bool {
    list.iter().any(|(i, c)| i == id && c == code)
}

#[test]
fn dangling_references_load_as_warnings_with_aws_semantics() {
    let (code, v) = validate_json(&snapshot("partial"), &[]);
    assert_eq!(code, 0, "{v:#}");
    assert!(findings(&v, "errors").is_empty(), "{v:#}");
    let w = findings(&v, "warnings");
    for (id, code) in [
        // A route to a gateway the snapshot lacks is a blackhole.
        ("rtb-0b00000000000001", "UnresolvedReference.RouteTarget"),
        // A rule naming an absent group matches nothing.
        ("sg-0b00000000000001", "UnresolvedReference.Group"),
        // A rule naming a group of an unpeered VPC is stale: it matches nothing.
        ("sg-0b00000000000001", "StaleSecurityGroupRule"),
        // Resources whose parent is absent are skipped.
        ("nat-0b00000000000001", "UnresolvedReference.Parent"),
        ("rtb-0b00000000000009", "UnresolvedReference.Parent"),
        // A subnet outside its VPC's blocks cannot hold anything.
        ("subnet-0b00000000000003", "InvalidSubnet.Range"),
        // An interface keeps the groups that are present.
        ("eni-0b00000000000002", "UnresolvedReference"),
        // An interface described twice: the copy in describe-instances is checked too.
        ("eni-0b00000000000001", "UnresolvedReference"),
    ] {
        assert!(has(&w, id, code), "{id} {code}: {v:#}");
    }
    // Each warning is a structured object naming the file.
    for d in v["warnings"].as_array().unwrap() {
        assert!(
            d["file"].as_str().unwrap().ends_with("snapshot.json"),
            "{d}"
        );
        assert!(!d["message"].as_str().unwrap().is_empty(), "{d}");
    }
    assert_eq!(v["resources"]["AWS::EC2::Instance"], 2, "{v:#}");
    assert_eq!(v["resources"]["AWS::EC2::RouteTable"], 2, "{v:#}");
    assert!(v["resources"]["AWS::EC2::NatGateway"].is_null(), "{v:#}");

    // The text output lists them with a count.
    let o = vpcsim(["validate", "-t", &snapshot("partial").display().to_string()]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("warnings (8):"), "{}", o.stdout);
}

#[test]
fn partial_snapshot_traces_with_blackhole_and_summary_line() {
    let dir = snapshot("partial");
    let v = trace(&dir, "tcp 10.30.1.10:1000 -> 8.8.8.8:443", &[]);
    assert_verdict(
        &v,
        "DROPPED",
        Some("BLACKHOLE_ROUTE"),
        "rtb-0b00000000000001",
    );
    // Present rules still apply; the absent group's rule admits nothing.
    let v = trace(&dir, "tcp 10.30.1.10:1000 -> 10.30.1.20:22", &[]);
    assert_eq!(v["disposition"], "DELIVERED", "{v:#}");
    let v = trace(&dir, "tcp 10.30.1.10:1000 -> 10.30.1.20:80", &[]);
    assert_eq!(v["reason"], "SG_INGRESS_DENIED", "{v:#}");
    // Commands other than validate summarise the warnings on one line.
    let o = vpcsim([
        "trace",
        "-t",
        &dir.display().to_string(),
        "tcp 10.30.1.10:1000 -> 10.30.1.20:22",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stderr.trim(),
        "8 warnings; `vpcsim validate` lists them",
        "{}",
        o.stderr
    );
}

#[test]
fn strict_turns_warnings_into_errors() {
    let dir = snapshot("partial");
    let (code, v) = validate_json(&dir, &["--strict"]);
    assert_eq!(code, 2, "{v:#}");
    assert!(findings(&v, "warnings").is_empty(), "{v:#}");
    let e = findings(&v, "errors");
    assert!(
        has(
            &e,
            "rtb-0b00000000000001",
            "UnresolvedReference.RouteTarget"
        ),
        "{v:#}"
    );
    let o = vpcsim([
        "trace",
        "-t",
        &dir.display().to_string(),
        "--strict",
        "tcp 10.30.1.10:1000 -> 10.30.1.20:22",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("igw-0b0000000000dead"), "{}", o.stderr);
    // A clean snapshot is unaffected.
    let (code, v) = validate_json(&snapshot("two-accounts"), &["--strict"]);
    assert_eq!(code, 0, "{v:#}");
}

#[test]
fn quota_above_default_is_a_warning_for_snapshots_and_settable() {
    let dir = snapshot("quota");
    let (code, v) = validate_json(&dir, &[]);
    assert_eq!(code, 0, "{v:#}");
    let w = findings(&v, "warnings");
    assert!(
        has(
            &w,
            "sg-0d00000000000001",
            "RulesPerSecurityGroupLimitExceeded"
        ),
        "{v:#}"
    );
    // The account's real quota: no finding when it allows the rules, an error when it does not.
    let (code, v) = validate_json(&dir, &["--quota", "rules-per-sg=1000"]);
    assert_eq!(code, 0, "{v:#}");
    assert!(findings(&v, "warnings").is_empty(), "{v:#}");
    let (code, v) = validate_json(&dir, &["--quota", "rules-per-sg=65"]);
    assert_eq!(code, 2, "{v:#}");
    let e = findings(&v, "errors");
    assert!(
        has(
            &e,
            "sg-0d00000000000001",
            "RulesPerSecurityGroupLimitExceeded"
        ),
        "{v:#}"
    );
    let (code, _) = validate_json(&dir, &["--strict"]);
    assert_eq!(code, 2);
    // Unknown names and bad values are refused by the argument parser, naming the known ones.
    let o = vpcsim([
        "validate",
        "-t",
        &dir.display().to_string(),
        "--quota",
        "rules=3",
    ]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("rules-per-sg"), "{}", o.stderr);
    let o = vpcsim([
        "validate",
        "-t",
        &dir.display().to_string(),
        "--quota",
        "rules-per-sg=many",
    ]);
    assert_eq!(o.code, 2);
}

#[test]
fn templates_keep_the_default_quota_unless_raised() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("many-rules.yaml");
    let rules: String = (0..61)
        .map(|i| {
            format!("        - {{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 10.{i}.0.0/16}}\n")
        })
        .collect();
    let template = format!(
        "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties: {{CidrBlock: 10.0.0.0/16}}\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: many\n      VpcId: !Ref Vpc\n      SecurityGroupIngress:\n{rules}"
    );
    std::fs::write(&path, template).unwrap();
    let (code, v) = validate_json(&path, &[]);
    assert_eq!(code, 2, "{v:#}");
    assert!(
        has(
            &findings(&v, "errors"),
            "Sg",
            "RulesPerSecurityGroupLimitExceeded"
        ),
        "{v:#}"
    );
    let (code, v) = validate_json(&path, &["--quota", "rules-per-sg=100"]);
    assert_eq!(code, 0, "{v:#}");
}

#[test]
fn two_accounts_resolve_peering_and_groups_across_accounts() {
    let dir = snapshot("two-accounts");
    let (code, v) = validate_json(&dir, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert!(findings(&v, "warnings").is_empty(), "{v:#}");
    let accounts: Vec<&str> = v["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(accounts, ["111111111111", "222222222222"], "{v:#}");
    assert_eq!(v["resources"]["AWS::EC2::VPCPeeringConnection"], 1, "{v:#}");
    // Allowed by account 2's rule naming account 1's group across the peering.
    let t = trace(&dir, "tcp 10.50.1.10:1000 -> 10.60.1.10:443", &[]);
    assert_eq!(t["disposition"], "DELIVERED", "{t:#}");
    let crossed = t["hops"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["stage"] == "peering" && h["id"] == "pcx-0c00000000000001");
    assert!(crossed, "{t:#}");
    let t = trace(&dir, "tcp 10.50.1.10:1000 -> 10.60.1.10:22", &[]);
    assert_eq!(t["reason"], "SG_INGRESS_DENIED", "{t:#}");
}

/// Every snapshot set of the third-party corpus loads (warnings allowed) and one trace between
/// two of its interfaces runs.
#[test]
fn corpus_sets_all_load_and_trace() {
    let Some(corpus) = corpus("aws-snapshots") else {
        eprintln!("corpus not present; skipped");
        return;
    };
    let mut sets: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("aws_configs").is_dir())
        .collect();
    sets.sort();
    assert!(sets.len() >= 25, "{} sets", sets.len());
    let mut traced = 0;
    for set in &sets {
        let (code, v) = validate_json(set, &[]);
        assert_eq!(code, 0, "{}: {v:#}", set.display());
        let loaded = load_snapshot(std::slice::from_ref(set), &LoadOptions::default());
        let m = &loaded.model;
        let addrs: Vec<String> = m
            .enis
            .iter()
            .filter(|e| matches!(e.owner, EniOwner::Instance(..) | EniOwner::Standalone))
            .filter_map(|e| e.private_v4.first().map(|a| a.to_string()))
            .collect();
        let flow = match addrs.as_slice() {
            [a, b, ..] => format!("tcp {a}:40000 -> {b}:443"),
            [a] => format!("tcp {a}:40000 -> 198.51.100.7:443"),
            [] => continue,
        };
        let t = trace(set, &flow, &[]);
        assert!(t["disposition"].is_string(), "{}: {t:#}", set.display());
        traced += 1;
    }
    assert!(traced >= 20, "only {traced} sets traced");
}

/// Only regular files (and links to them) are read, each up to 256 MiB: a link to `/dev/zero`
/// is refused rather than read until memory runs out.
#[cfg(unix)]
#[test]
fn snapshot_reads_only_bounded_regular_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::copy(
        snapshot("quota").join("snapshot.json"),
        dir.join("vpc.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.json")).unwrap();
    // A link to a regular file is read; a link to a directory is not walked (no loops).
    std::os::unix::fs::symlink("vpc.json", dir.join("link.json")).unwrap();
    std::os::unix::fs::symlink("..", dir.join("parent")).unwrap();
    // Sparse: larger than the limit without taking the space.
    let huge = std::fs::File::create(dir.join("huge.json")).unwrap();
    huge.set_len(vpcsim_controlplane::snapshot::MAX_SNAPSHOT_FILE_BYTES + 1)
        .unwrap();
    let (code, v) = validate_json(dir, &[]);
    assert_eq!(code, 2, "{v:#}");
    let errors = v["errors"].as_array().unwrap();
    let refused = |file: &str, code: &str| {
        errors
            .iter()
            .any(|e| e["file"].as_str().unwrap().ends_with(file) && e["code"] == code)
    };
    assert!(
        refused("zero.json", "InvalidSnapshot.NotRegularFile"),
        "{v:#}"
    );
    assert!(refused("huge.json", "InvalidSnapshot.TooLarge"), "{v:#}");
    assert_eq!(errors.len(), 2, "{v:#}");
    // The linked copy was read too: its resources are described twice.
    assert!(
        v["warnings"].as_array().unwrap().iter().any(|w| w["file"]
            .as_str()
            .unwrap()
            .ends_with("vpc.json")
            && w["code"] == "InvalidSnapshot.Duplicate"),
        "{v:#}"
    );
}

/// The reader takes files from memory as it takes them from a directory.
#[test]
fn snapshot_loads_from_memory_like_a_directory() {
    use vpcsim_controlplane::snapshot::{load_snapshot_files, SnapshotFile};
    let dir = snapshot("two-accounts");
    let mut files = Vec::new();
    for account in ["111111111111", "222222222222"] {
        let rel = PathBuf::from(format!(
            "aws_configs/accounts/{account}/us-east-1/snapshot.json"
        ));
        files.push(SnapshotFile {
            bytes: std::fs::read(dir.join(&rel)).unwrap(),
            path: rel,
        });
    }
    let mem = load_snapshot_files(&files, &LoadOptions::default());
    let disk = load_snapshot(&[dir], &LoadOptions::default());
    assert!(mem.diagnostics.is_empty(), "{:?}", mem.diagnostics);
    assert_eq!(mem.model.counts(), disk.model.counts());
    let accounts: Vec<&str> = mem
        .model
        .templates
        .iter()
        .map(|t| t.account_id.as_str())
        .collect();
    assert_eq!(accounts, ["111111111111", "222222222222"]);
}

/// Hand-edited JSON of the wrong shape: one coded error per real mistake, naming the file, the
/// resource and the field; what sits in a refused resource is not blamed as well.
#[test]
fn wrong_json_types_name_file_resource_and_field_once() {
    let (code, v) = validate_json(&snapshot("wrong"), &[]);
    assert_eq!(code, 2, "{v:#}");
    let errors = v["errors"].as_array().unwrap();
    let error = |id: Option<&str>, code: &str, file: &str, words: &str| {
        errors.iter().any(|e| {
            e["logical_id"].as_str() == id
                && e["code"] == code
                && e["file"].as_str().unwrap().ends_with(file)
                && e["message"].as_str().unwrap().contains(words)
        })
    };
    for (id, code, file, words) in [
        (
            None,
            "InvalidSnapshot.DuplicateKey",
            "duplicate.json",
            "\"InternetGatewayId\"",
        ),
        (
            Some("subnet-0e00000000000001"),
            "InvalidSnapshot.Type",
            "snapshot.json",
            "CidrBlock must be a string, not 12345",
        ),
        (
            Some("subnet-0e00000000000002"),
            "InvalidSnapshot.MissingField",
            "snapshot.json",
            "CidrBlock",
        ),
        (
            Some("sg-0e00000000000002"),
            "InvalidSnapshot.Type",
            "snapshot.json",
            "IpPermissions[0].FromPort must be a number, not \"443\"",
        ),
        (
            Some("i-0e00000000000003"),
            "InvalidSnapshot.Type",
            "snapshot.json",
            "State must be an object",
        ),
        (
            Some("i-0e00000000000004"),
            "InvalidSnapshot.Type",
            "snapshot.json",
            "NetworkInterfaces must be a list, not \"none\"",
        ),
        (
            Some("sg-0e00000000000003"),
            "InvalidParameterValue",
            "snapshot.json",
            "FromPort 443 and ToPort 70000",
        ),
    ] {
        assert!(error(id, code, file, words), "{id:?} {code}: {v:#}");
    }
    // Nothing else: the NAT gateway and interfaces of the refused subnets, and the interface
    // of the refused instance, are follow-ons.
    assert_eq!(errors.len(), 7, "{v:#}");
    assert!(v["warnings"].as_array().unwrap().is_empty(), "{v:#}");
    let text = v.to_string();
    assert!(!text.contains("Some("), "{v:#}");
    assert!(!text.contains("InvalidIPAddress.InUse"), "{v:#}");
}
