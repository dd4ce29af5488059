//! `vpcsim diff` across deployments, through the binary: resources are matched by the
//! `aws:cloudformation:logical-id` tag (which `export` writes) and by Name tags, so a template
//! against its own export, and two snapshots whose ids differ, show no change; a changed rule
//! shows up as that change, put down to the resource that holds it.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn export(dir: &Path) -> PathBuf {
    let out = dir.join("export");
    let o = vpcsim([
        "export",
        "-t",
        example().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    out
}

fn diff(before: &Path, after: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "diff".to_string(),
        "--before".into(),
        before.display().to_string(),
        "--after".into(),
        after.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    vpcsim(args)
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The exported file named `name` (`SecurityGroups.json`).
fn file(dir: &Path, name: &str) -> PathBuf {
    files(dir)
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == name))
        .unwrap_or_else(|| panic!("no {name} under {}", dir.display()))
}

/// Every AWS id (`vpc-0a1b…`: a lowercase prefix, a dash, 8 or more hex digits) with its
/// digits reversed: another deployment of the same stack, consistently across files.
fn other_ids(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let hex_start = i + 1;
        if b[i] == b'-' && i > 0 && b[i - 1].is_ascii_lowercase() {
            let mut j = hex_start;
            while j < b.len() && (b[j].is_ascii_digit() || (b'a'..=b'f').contains(&b[j])) {
                j += 1;
            }
            let word_ends = j == b.len() || !b[j].is_ascii_alphanumeric();
            if j - hex_start >= 8 && word_ends {
                out.push('-');
                out.extend(text[hex_start..j].chars().rev());
                i = j;
                continue;
            }
        }
        out.push(b[i] as char);
        i += 1;
    }
    out
}

#[test]
fn template_against_its_own_export_shows_no_change() {
    let dir = TempDir::new().unwrap();
    let snap = export(dir.path());
    let o = diff(&example(), &snap, &["--fail-on-change"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.starts_with("no change"), "{}", o.stdout);
    let o = diff(&example(), &snap, &["--json"]);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["changed"], false, "{v:#}");
    assert_eq!(v["changes"], serde_json::json!([]));
    assert_eq!(v["resources"], serde_json::json!([]));
}

#[test]
fn two_snapshots_with_other_ids_but_the_same_tags_show_no_change() {
    let dir = TempDir::new().unwrap();
    let a = export(dir.path());
    let b = dir.path().join("other");
    for p in files(&a) {
        let to = b.join(p.strip_prefix(&a).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&to, other_ids(&text)).unwrap();
    }
    let before = std::fs::read_to_string(file(&a, "Reservations.json")).unwrap();
    let after = std::fs::read_to_string(file(&b, "Reservations.json")).unwrap();
    assert_ne!(before, after, "the ids were rewritten");
    let o = diff(&a, &b, &["--fail-on-change"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.starts_with("no change"), "{}", o.stdout);
}

#[test]
fn a_changed_security_group_rule_is_that_change_of_that_group() {
    let dir = TempDir::new().unwrap();
    let snap = export(dir.path());
    // WebSg admits HTTP on 8080 instead of 80 (the public ACL admits both).
    let sgs = file(&snap, "SecurityGroups.json");
    let text = std::fs::read_to_string(&sgs).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let mut changed = 0;
    for g in v["SecurityGroups"].as_array_mut().unwrap() {
        let web = g["Tags"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| t["Key"] == "aws:cloudformation:logical-id" && t["Value"] == "WebSg");
        if !web {
            continue;
        }
        for p in g["IpPermissions"].as_array_mut().unwrap() {
            if p["FromPort"] == 80 {
                p["FromPort"] = 8080.into();
                p["ToPort"] = 8080.into();
                changed += 1;
            }
        }
    }
    assert_eq!(changed, 1, "{text}");
    std::fs::write(&sgs, serde_json::to_string_pretty(&v).unwrap()).unwrap();

    let o = diff(&example(), &snap, &["--json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["changed"], true);
    let resources = v["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 1, "{:#}", v["resources"]);
    let r = &resources[0];
    assert_eq!(r["resource"], "WebSg", "{r:#}");
    assert_eq!(r["type"], "AWS::EC2::SecurityGroup");
    let changes = r["changes"].as_array().unwrap();
    let from_internet = |kind: &str| {
        changes
            .iter()
            .find(|c| c["from"] == "internet" && c["to"] == "WebInstance" && c["change"] == kind)
            .unwrap_or_else(|| panic!("no {kind} internet → WebInstance: {r:#}"))["services"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(from_internet("opened"), "tcp 8080");
    assert_eq!(from_internet("closed"), "tcp 80");
    // Every pair that changed is WebSg's doing, and only WebInstance's inbound changed.
    for c in changes {
        assert_eq!(c["to"], "WebInstance", "{c:#}");
    }
    assert!(
        r["rule_after"].as_str().unwrap_or("").contains("8080"),
        "{r:#}"
    );

    // The text grouped per resource says the same.
    let o = diff(&example(), &snap, &["--by-resource"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("1 resource(s) change"), "{}", o.stdout);
    assert!(
        o.stdout.contains("WebSg (AWS::EC2::SecurityGroup)"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("internet → WebInstance: + opened: tcp 8080"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("internet → WebInstance: - closed: tcp 80"),
        "{}",
        o.stdout
    );
}
