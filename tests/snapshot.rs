//! describe-* snapshots through the binary: `-t DIR` loads a snapshot, `vpcsim export` writes
//! one, and a template and its export trace the same; bad snapshots fail with coded errors; the
//! third-party corpus of real account snapshots loads without panics.

mod common;

use common::*;
use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use vpcsim_controlplane::model::EniOwner;
use vpcsim_controlplane::{load_files, LoadOptions};

fn snapshot(name: &str) -> PathBuf {
    fixture("snapshot").join(name)
}

/// What must match between a template and its export: the verdict and every hop's resource
/// (by AWS id: a snapshot names resources by id, a template by logical id), stage, action and
/// packet.
fn signature(v: &Value) -> Value {
    let hops: Vec<Value> = v["hops"]
        .as_array()
        .map(|h| {
            h.iter()
                .map(|h| serde_json::json!([h["id"], h["stage"], h["action"], h["packet"]]))
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({
        "disposition": v["disposition"],
        "reason": v["reason"],
        "hops": hops,
    })
}

/// Flows between every pair of interfaces (private and public addresses) and to and from the
/// internet, over the protocols the examples open and close.
fn flows(template: &Path) -> Vec<String> {
    let loaded = load_files(&[template.to_path_buf()], &LoadOptions::default());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let m = &loaded.model;
    let mut sources: Vec<IpAddr> = Vec::new();
    let mut targets: Vec<IpAddr> = vec!["198.51.100.7".parse().unwrap()];
    for (i, e) in m.enis.iter().enumerate() {
        for a in &e.private_v4 {
            if matches!(e.owner, EniOwner::Instance(..) | EniOwner::Standalone) {
                sources.push(IpAddr::V4(*a));
            }
            targets.push(IpAddr::V4(*a));
            if let Some(p) = m.public_ip_of(i, *a) {
                targets.push(IpAddr::V4(p));
            }
        }
    }
    // Service addresses behind gateway endpoints (and other prefix lists).
    for p in &m.prefix_lists {
        if let Some(ipnet::IpNet::V4(n)) = p.entries.first() {
            targets.push(IpAddr::V4(std::net::Ipv4Addr::from(
                u32::from(n.network()) + 1,
            )));
        }
    }
    // On-premises hosts behind VPN connections.
    for c in &m.vpn_connections {
        for p in c.prefixes(m) {
            if let ipnet::IpNet::V4(n) = p {
                let host = IpAddr::V4(std::net::Ipv4Addr::from(u32::from(n.network()) + 10));
                sources.push(host);
                targets.push(host);
            }
        }
    }
    let mut out = Vec::new();
    for src in sources
        .iter()
        .chain(["203.0.113.9".parse().as_ref().unwrap()])
    {
        for dst in &targets {
            if src == dst {
                continue;
            }
            for p in [22u16, 80, 443, 8080] {
                out.push(format!("tcp {src}:40000 -> {dst}:{p}"));
            }
            out.push(format!("udp {src}:40000 -> {dst}:53"));
            out.push(format!("icmp {src} -> {dst}"));
        }
    }
    out
}

fn export(template: &Path, out: &Path) -> Output {
    vpcsim([
        "export",
        "-t",
        &template.display().to_string(),
        "--out",
        &out.display().to_string(),
    ])
}

/// Export `template` (with template parameters `params`) and trace every flow of it (more than
/// `min_flows`) through both: the same verdicts and hops.
fn assert_round_trip(template: &Path, params: &[&str], min_flows: usize) {
    let name = template.display();
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "export".to_string(),
        "-t".into(),
        template.display().to_string(),
        "--out".into(),
        dir.path().display().to_string(),
    ];
    args.extend(params.iter().map(|p| p.to_string()));
    let o = vpcsim(&args);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("Vpcs.json"), "{}", o.stdout);
    let flows = flows(template);
    assert!(flows.len() > min_flows, "{name}: {} flows", flows.len());
    let mut delivered = 0;
    for f in &flows {
        let a = trace(template, f, params);
        let b = trace(dir.path(), f, &[]);
        assert_eq!(
            signature(&a),
            signature(&b),
            "{name}: {f}\ntemplate: {a:#}\nsnapshot: {b:#}"
        );
        delivered += (a["disposition"] == "DELIVERED") as usize;
    }
    assert!(delivered > 0, "{name}: no flow was delivered");
}

#[test]
fn round_trip_examples_trace_the_same() {
    // Every example (`export_writes_one_file_per_describe_call` checks what is left out).
    for name in [
        "two-tier.yaml",
        "ingress-inspection.yaml",
        "hub-and-spoke.yaml",
        "vpn.yaml",
        "endpoints.yaml",
        "nlb.yaml",
    ] {
        assert_round_trip(&root().join("examples").join(name), &[], 50);
    }
}

/// A transit gateway peering attachment: `describe-transit-gateway-peering-attachments` with
/// both sides, each side's association in `describe-transit-gateway-attachments`, static routes
/// to it in both gateways' tables. Also with the peer side's return route and association
/// missing, which must drop the same way.
#[test]
fn round_trip_tgw_peering_traces_the_same() {
    let template = fixture("tgw/peering.yaml");
    // Two instances and the internet: 36 flows.
    assert_round_trip(&template, &[], 30);
    assert_round_trip(&template, &["--param", "PeerReturnRoute=absent"], 30);
    assert_round_trip(&template, &["--param", "PeerAssociation=absent"], 30);
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(export(&template, dir.path()).code, 0);
    let base = dir.path().join("aws_configs/123456789012/us-east-1");
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(base.join(f)).unwrap()).unwrap()
    };
    let peerings = read("TransitGatewayPeeringAttachments.json");
    let p = &peerings["TransitGatewayPeeringAttachments"][0];
    assert_eq!(p["State"], "available", "{p:#}");
    assert_eq!(p["AccepterTgwInfo"]["Region"], "us-east-1", "{p:#}");
    let id = p["TransitGatewayAttachmentId"].as_str().unwrap();
    let attachments = read("TransitGatewayAttachments.json");
    let sides: Vec<&Value> = attachments["TransitGatewayAttachments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["TransitGatewayAttachmentId"] == id)
        .collect();
    assert_eq!(
        sides.len(),
        2,
        "one entry per transit gateway: {attachments:#}"
    );
    assert!(sides.iter().all(|a| a["ResourceType"] == "peering"));
}

/// A peering attachment still pending acceptance carries nothing: listed as not simulated, and
/// the static routes to it stay as blackholes with a warning, as AWS drops what they match.
#[test]
fn pending_tgw_peering_is_a_blackhole() {
    let template = fixture("tgw/peering.yaml");
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(export(&template, dir.path()).code, 0);
    let file = dir
        .path()
        .join("aws_configs/123456789012/us-east-1/TransitGatewayPeeringAttachments.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let pending = text.replace(
        "\"State\": \"available\"",
        "\"State\": \"pendingAcceptance\"",
    );
    assert_ne!(pending, text);
    std::fs::write(&file, pending).unwrap();
    let out = vpcsim(["validate", "-t", dir.path().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("UnsupportedOperation: route 10.2.0.0/16 → tgw-attach-"),
        "{}",
        out.stdout
    );
    let v = trace(dir.path(), "tcp 10.1.1.10:40000 -> 10.2.1.10:443", &[]);
    assert_eq!(v["disposition"], "DROPPED", "{v:#}");
    assert_eq!(v["reason"], "TGW_BLACKHOLE_ROUTE", "{v:#}");
}

#[test]
fn export_writes_one_file_per_describe_call() {
    let dir = tempfile::tempdir().unwrap();
    let o = export(&example(), dir.path());
    assert_eq!(o.code, 0, "{}", o.stderr);
    let base = dir.path().join("aws_configs/123456789012/us-east-1");
    let vpcs: Value =
        serde_json::from_str(&std::fs::read_to_string(base.join("Vpcs.json")).unwrap()).unwrap();
    assert_eq!(vpcs["Vpcs"][0]["CidrBlock"], "10.0.0.0/16");
    assert!(vpcs["Vpcs"][0]["VpcId"]
        .as_str()
        .unwrap()
        .starts_with("vpc-"));
    let res: Value =
        serde_json::from_str(&std::fs::read_to_string(base.join("Reservations.json")).unwrap())
            .unwrap();
    assert_eq!(res["Reservations"].as_array().unwrap().len(), 3);
    // The S3 bucket of the example is not a network resource: named, not silently dropped.
    assert!(o.stderr.contains("LogBucket"), "{}", o.stderr);
}

#[test]
fn exported_security_groups_keep_their_descriptions() {
    let dir = tempfile::tempdir().unwrap();
    let o = export(&example(), dir.path());
    assert_eq!(o.code, 0, "{}", o.stderr);
    let base = dir.path().join("aws_configs/123456789012/us-east-1");
    let sgs: Value =
        serde_json::from_str(&std::fs::read_to_string(base.join("SecurityGroups.json")).unwrap())
            .unwrap();
    let description = |name_part: &str| {
        sgs["SecurityGroups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["GroupName"].as_str().unwrap().ends_with(name_part))
            .map(|g| g["Description"].clone())
            .unwrap_or_else(|| panic!("no group {name_part} in {sgs}"))
    };
    // The template's GroupDescription, and AWS's own text for a VPC's default group.
    assert_eq!(description("WebSg"), "web tier");
    assert_eq!(description("default"), "default VPC security group");
    // Loaded back, the description survives a second export.
    let again = tempfile::tempdir().unwrap();
    let o = export(dir.path(), again.path());
    assert_eq!(o.code, 0, "{}", o.stderr);
    let text = std::fs::read_to_string(
        again
            .path()
            .join("aws_configs/123456789012/us-east-1/SecurityGroups.json"),
    )
    .unwrap();
    assert!(text.contains("\"web tier\""), "{text}");
}

#[test]
fn snapshot_traces_by_aws_id() {
    let small = snapshot("small");
    // The web instance's auto-assigned public address, from describe-instances.
    // Resources are named by AWS id; the Name tag is `at_name`.
    let v = trace(&small, "tcp 198.51.100.9:50000 -> 203.0.113.20:443", &[]);
    assert_verdict(&v, "DELIVERED", None, "i-0aaa000000000001");
    assert_eq!(v["delivered_to"], "i-0aaa000000000001");
    assert_eq!(v["at_name"], "web", "{v:#}");
    let v = trace(&small, "tcp 198.51.100.9:50000 -> 203.0.113.20:22", &[]);
    assert_verdict(
        &v,
        "DROPPED",
        Some("SG_INGRESS_DENIED"),
        "sg-0aaa000000000001",
    );
    assert_eq!(v["at_name"], "web-sg", "{v:#}");
    // NACL entry 90 denies 192.0.2.0/24 before rule 100 allows everything.
    let v = trace(&small, "tcp 192.0.2.9:50000 -> 203.0.113.20:443", &[]);
    assert_eq!(v["reason"], "NACL_INGRESS_DENIED", "{v:#}");
    // The db group admits the web group.
    let v = trace(
        &small,
        "tcp 10.20.1.10:40000 -> 10.20.2.20:5432",
        &["--from", "i-0aaa000000000001"],
    );
    assert_verdict(&v, "DELIVERED", None, "i-0aaa000000000002");
    // A Name tag that one resource carries works as well as its id.
    let by_tag = trace(
        &small,
        "tcp 10.20.1.10:40000 -> 10.20.2.20:5432",
        &["--from", "web"],
    );
    assert_eq!(by_tag["hops"], v["hops"], "{by_tag:#}");
    // Private subnet → NAT gateway (its EIP from describe-nat-gateways) → internet gateway.
    let v = trace(&small, "tcp 10.20.2.20:40000 -> 198.51.100.7:443", &[]);
    assert_eq!(v["disposition"], "EXITED", "{v:#}");
    let last = v["hops"].as_array().unwrap().last().unwrap();
    assert_eq!(last["packet"]["src"], "198.51.100.50", "{v:#}");
}

#[test]
fn snapshot_validate_counts_and_ignores_terminated() {
    let o = vpcsim([
        "validate",
        "-t",
        &snapshot("small").display().to_string(),
        "--json",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["resources"]["AWS::EC2::Instance"], 2, "{v:#}");
    assert_eq!(v["resources"]["AWS::EC2::NatGateway"], 1, "{v:#}");
    assert_eq!(v["resources"]["AWS::EC2::SecurityGroup"], 3, "{v:#}");
    assert_eq!(v["vpcs"][0]["vpc"], "vpc-0aaa000000000001", "{v:#}");
}

#[test]
fn bad_snapshot_fails_with_coded_errors_naming_file_and_id() {
    let o = vpcsim([
        "validate",
        "-t",
        &snapshot("bad").display().to_string(),
        "--json",
    ]);
    assert_eq!(o.code, 2, "{}\n{}", o.stdout, o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    let errors = v["errors"].as_array().unwrap();
    let has = |file: &str, id: Option<&str>, code: &str| {
        errors.iter().any(|e| {
            e["file"].as_str().unwrap().ends_with(file)
                && e["logical_id"].as_str() == id
                && e["code"] == code
        })
    };
    assert!(has("broken.json", None, "InvalidSnapshot.Json"), "{v:#}");
    assert!(
        has("mixed.json", None, "InvalidSnapshot.UnknownKey"),
        "{v:#}"
    );
    // JSON that is not describe-* output at all is ignored with a warning.
    assert!(
        v["warnings"].as_array().unwrap().iter().any(|w| {
            w["file"].as_str().unwrap().ends_with("mystery.json")
                && w["code"] == "InvalidSnapshot.NotDescribeOutput"
        }),
        "{v:#}"
    );
    // Dangling references are warnings (a partial export): the route is a blackhole, the
    // interface in an absent subnet is skipped.
    let warned = |file: &str, id: &str, code: &str| {
        v["warnings"].as_array().unwrap().iter().any(|w| {
            w["file"].as_str().unwrap().ends_with(file)
                && w["logical_id"] == id
                && w["code"] == code
        })
    };
    assert!(
        warned(
            "route-tables.json",
            "rtb-0aaa000000000002",
            "UnresolvedReference.RouteTarget"
        ),
        "{v:#}"
    );
    assert!(
        warned(
            "more-interfaces.json",
            "eni-0bad000000000001",
            "UnresolvedReference.Parent"
        ),
        "{v:#}"
    );
    // Loading went on: everything else is there.
    assert_eq!(v["resources"]["AWS::EC2::Instance"], 2, "{v:#}");
    // trace refuses a snapshot with errors, and says why.
    let t = vpcsim([
        "trace",
        "-t",
        &snapshot("bad").display().to_string(),
        "--strict",
        "tcp 10.20.1.10:1 -> 10.20.2.20:5432",
    ]);
    assert_eq!(t.code, 2);
    assert!(t.stderr.contains("broken.json"), "{}", t.stderr);
    assert!(t.stderr.contains("nat-0bad000000000404"), "{}", t.stderr);
}

#[test]
fn help_says_topology_takes_a_directory() {
    let o = vpcsim(["trace", "--help"]);
    assert!(o.stdout.contains("describe-* snapshot"), "{}", o.stdout);
    let o = vpcsim(["export", "--help"]);
    assert!(o.stdout.contains("aws_configs"), "{}", o.stdout);
}

/// Every snapshot set of the third-party corpus loads or fails with coded errors naming file
/// and resource; none panics.
#[test]
fn corpus_snapshots_load() {
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
    assert!(sets.len() >= 20, "{} sets", sets.len());
    let mut loaded_clean = 0;
    for set in &sets {
        let o = vpcsim(["validate", "-t", &set.display().to_string(), "--json"]);
        assert!(
            o.code == 0 || o.code == 2,
            "{}: exit {}\n{}",
            set.display(),
            o.code,
            o.stderr
        );
        let v: Value = serde_json::from_str(&o.stdout)
            .unwrap_or_else(|e| panic!("{}: {e}: {}", set.display(), o.stdout));
        for e in v["errors"].as_array().unwrap() {
            let code = e["code"].as_str().unwrap();
            assert!(!code.is_empty() && !code.contains(' '), "{e}");
            assert!(
                e["file"].as_str().unwrap().ends_with(".json"),
                "{}: {e}",
                set.display()
            );
            assert!(!e["message"].as_str().unwrap().is_empty(), "{e}");
        }
        if o.code == 0 {
            loaded_clean += 1;
        }
        if v["resources"]["AWS::EC2::VPC"].as_u64().unwrap_or(0) > 0 {
            assert!(!v["vpcs"].as_array().unwrap().is_empty(), "{v:#}");
        }
    }
    assert!(
        loaded_clean >= 15,
        "only {loaded_clean} sets loaded cleanly"
    );
}

/// A real account (test-nat-gateway: a jump host in a public subnet, instances behind a NAT
/// gateway): concrete traces.
#[test]
fn corpus_nat_gateway_account_traces() {
    let Some(set) = corpus("aws-snapshots/test-nat-gateway") else {
        eprintln!("corpus not present; skipped");
        return;
    };
    let v = trace(&set, "tcp 10.1.1.98:40000 -> 8.8.8.8:443", &[]);
    assert_eq!(v["disposition"], "EXITED", "{v:#}");
    assert_eq!(v["egress"], "igw-071753b9c23d8a9b2", "{v:#}");
    let last = v["hops"].as_array().unwrap().last().unwrap();
    // The NAT gateway's Elastic IP, from NatGatewayAddresses.
    assert_eq!(last["packet"]["src"], "3.135.127.225", "{v:#}");
    // SSH to the jump host's auto-assigned public address is open; RDP is not.
    let v = trace(&set, "tcp 8.8.8.8:40000 -> 18.216.129.140:22", &[]);
    assert_verdict(&v, "DELIVERED", None, "i-0b31b509174d7f5de");
    assert_eq!(v["at_name"], "Jump Host", "{v:#}");
    let v = trace(&set, "tcp 8.8.8.8:40000 -> 18.216.129.140:3389", &[]);
    assert_verdict(
        &v,
        "DROPPED",
        Some("SG_INGRESS_DENIED"),
        "sg-0253af84ae6485905",
    );
    let by_id = trace(
        &set,
        "tcp 10.1.1.98:40000 -> 8.8.8.8:443",
        &["--from", "i-0a128d26e59be60f3"],
    );
    assert_eq!(
        by_id["hops"][0]["resource"], "i-0a128d26e59be60f3",
        "{by_id:#}"
    );
}

/// A real account with a transit gateway between two VPCs (test-transit-gateway): the route
/// tables, attachments, association and propagations all come from the snapshot.
#[test]
fn corpus_transit_gateway_account_traces() {
    let Some(set) = corpus("aws-snapshots/test-transit-gateway") else {
        eprintln!("corpus not present; skipped");
        return;
    };
    let v = trace(&set, "tcp 10.10.10.157:40000 -> 192.168.1.106:22", &[]);
    assert_verdict(&v, "DELIVERED", None, "i-0b14080af811fda3d");
    let stages: Vec<&str> = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["stage"].as_str().unwrap())
        .collect();
    assert!(stages.contains(&"tgw-route"), "{v:#}");
    // The attachment in VPC A has a subnet in us-east-2c only: subnet-A2 (us-east-2a) cannot
    // reach the transit gateway.
    let v = trace(&set, "icmp 10.10.20.154 -> 192.168.1.106", &[]);
    assert_eq!(v["disposition"], "DROPPED", "{v:#}");
    assert_eq!(v["reason"], "TGW_NO_ATTACHMENT_IN_AZ", "{v:#}");
}

/// A real cross-account, cross-Region transit gateway peering (test-transit-gateway-peering,
/// us-east-1 ↔ us-west-1), known only from each account's describe-transit-gateway-attachments
/// (`ResourceType` peering): 10.20.0.0/16 reaches 192.168.0.0/16 through the static route to
/// the peering, but the east side of the peering is associated with the table that has only
/// 10.10.0.0/16, so the reply is dropped there.
#[test]
fn corpus_transit_gateway_peering_account_traces() {
    let Some(set) = corpus("aws-snapshots/test-transit-gateway-peering") else {
        eprintln!("corpus not present; skipped");
        return;
    };
    let v = trace(
        &set,
        "tcp 10.20.1.100:40000 -> 192.168.1.100:22",
        &["--return"],
    );
    assert_verdict(&v, "DELIVERED", None, "i-0afb0a59f6bf36397");
    let tables: Vec<&str> = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["stage"] == "tgw-route")
        .map(|h| h["resource"].as_str().unwrap())
        .collect();
    assert_eq!(
        tables,
        ["tgw-rtb-018a5e572ec3088d1", "tgw-rtb-00be87593fb2cd0ae"],
        "{v:#}"
    );
    assert_verdict(
        &v["return"],
        "DROPPED",
        Some("TGW_NO_ROUTE"),
        "tgw-rtb-05d2952671d1f460a",
    );
}

/// A real internal Network Load Balancer (test-load-balancer): node interfaces from
/// describe-network-interfaces, listener, target group and registered targets from elbv2 output.
#[test]
fn corpus_load_balancer_account_traces() {
    let Some(set) = corpus("aws-snapshots/test-load-balancer") else {
        eprintln!("corpus not present; skipped");
        return;
    };
    let v = trace(&set, "tcp 10.1.250.112:40000 -> 10.1.1.237:80", &[]);
    assert_eq!(v["disposition"], "DELIVERED", "{v:#}");
    let stages: Vec<&str> = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["stage"].as_str().unwrap())
        .collect();
    assert!(stages.contains(&"nlb-listener"), "{v:#}");
    let listener = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["stage"] == "nlb-listener")
        .unwrap();
    assert_eq!(
        listener["id"],
        "arn:aws:elasticloadbalancing:us-east-2:554773406868:listener/net/test-lb/725b996cb6be8fba/bad604160f6b5da7",
        "{v:#}"
    );
    // The target group registers port 22 on both instances.
    assert_eq!(
        v["hops"].as_array().unwrap().last().unwrap()["packet"]["dst_port"],
        22,
        "{v:#}"
    );
    // Nothing listens on 443.
    let v = trace(&set, "tcp 10.1.250.112:40000 -> 10.1.1.237:443", &[]);
    assert_eq!(v["disposition"], "DROPPED", "{v:#}");
}

/// A real S3 gateway endpoint (test-vpc-endpoint-gateway): the prefix list comes from
/// describe-prefix-lists, the route tables from describe-vpc-endpoints.
#[test]
fn corpus_gateway_endpoint_account_traces() {
    let Some(set) = corpus("aws-snapshots/test-vpc-endpoint-gateway") else {
        eprintln!("corpus not present; skipped");
        return;
    };
    // 52.216.0.0/15 is an entry of pl-63a5400a (com.amazonaws.us-east-1.s3) in the snapshot.
    let v = trace(&set, "tcp 10.1.101.36:40000 -> 52.216.1.1:443", &[]);
    assert_eq!(v["disposition"], "EXITED", "{v:#}");
    assert_eq!(v["egress"], "vpce-0b7357542bb7b83ec", "{v:#}");
    // The subnet's table has no internet route: everything else has nowhere to go.
    let v = trace(&set, "tcp 10.1.101.36:40000 -> 8.8.8.8:443", &[]);
    assert_eq!(v["reason"], "NO_ROUTE", "{v:#}");
}
