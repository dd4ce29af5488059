//! Network Load Balancers through the real `vpcsim` binary (SPEC §11.1, §11.3): listeners,
//! flow hashing and stickiness, cross-zone load balancing, client IP preservation per target
//! type, target health computed from the model (or overridden with `--target-health`), fail
//! open, the load balancer's own security groups, UDP listeners, and replay output bytes.
//!
//! Topologies: `examples/nlb.yaml` (internet-facing, two zones, node A 10.0.0.100 with Elastic
//! IP 198.18.0.1, node B 10.0.1.100 with public IP 198.18.0.2) and
//! `tests/fixtures/nlb/internal.yaml` (internal, one node 10.1.0.4, no security groups).

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn example_nlb() -> PathBuf {
    root().join("examples/nlb.yaml")
}

fn internal() -> PathBuf {
    fixture("nlb/internal.yaml")
}

/// Replay SYNs from `flows` client ports to `dst:dport` and count where they were delivered.
fn spread(
    topology: &Path,
    client: &str,
    dst: &str,
    dport: u16,
    flows: u16,
    extra: &[&str],
) -> BTreeMap<String, usize> {
    let dir = TempDir::new().unwrap();
    let cap = dir.path().join("in.pcap");
    let data = (0..flows)
        .map(|i| tcp(client, 20_000 + i * 7, dst, dport, 0x02, b""))
        .collect();
    write_pcap(&cap, 1, &frames(data));
    let v = replay(topology, &cap, &dir.path().join("out"), extra);
    let mut out = BTreeMap::new();
    for line in &v {
        assert_eq!(line["disposition"], "DELIVERED", "{line}");
        *out.entry(line["delivered_to"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    out
}

#[test]
fn flows_stick_to_their_target() {
    let dir = TempDir::new().unwrap();
    let cap = dir.path().join("in.pcap");
    // Three flows, each SYN, ACK, data, ACK: every packet of a flow lands on one target.
    let mut data = Vec::new();
    for round in 0..4u8 {
        for port in [40_001u16, 40_002, 40_003] {
            let flags = if round == 0 { 0x02 } else { 0x10 };
            data.push(tcp("203.0.113.9", port, "198.18.0.1", 80, flags, b"x"));
        }
    }
    write_pcap(&cap, 1, &frames(data));
    let v = replay(&example_nlb(), &cap, &dir.path().join("out"), &[]);
    assert_eq!(v.len(), 12);
    for (i, line) in v.iter().enumerate() {
        assert_eq!(line["disposition"], "DELIVERED", "{line}");
        assert_eq!(
            line["delivered_to"],
            v[i % 3]["delivered_to"],
            "frame {} moved to another target: {line}",
            i + 1
        );
    }
    // The hash is deterministic: trace picks the same target as replay did for the first flow.
    let t = trace(
        &example_nlb(),
        "tcp 203.0.113.9:40001 -> 198.18.0.1:80",
        &[],
    );
    assert_eq!(t["delivered_to"], v[0]["delivered_to"], "{t:#}");
}

#[test]
fn new_flows_spread_over_the_zones_healthy_targets() {
    let seen = spread(&example_nlb(), "203.0.113.9", "198.18.0.1", 80, 200, &[]);
    // Cross-zone off: node A (us-east-1a) only uses WebA1 and WebA2.
    assert_eq!(
        seen.keys().cloned().collect::<Vec<_>>(),
        ["WebA1", "WebA2"],
        "{seen:?}"
    );
    for n in seen.values() {
        assert!(*n > 60, "uneven spread {seen:?}");
    }
    // Node B (us-east-1b) only has WebB1.
    let seen = spread(&example_nlb(), "203.0.113.9", "198.18.0.2", 80, 20, &[]);
    assert_eq!(
        seen.keys().cloned().collect::<Vec<_>>(),
        ["WebB1"],
        "{seen:?}"
    );
}

#[test]
fn cross_zone_load_balancing_uses_every_zone() {
    let seen = spread(
        &example_nlb(),
        "203.0.113.9",
        "198.18.0.1",
        80,
        200,
        &["--param", "CrossZone=true"],
    );
    assert_eq!(
        seen.keys().cloned().collect::<Vec<_>>(),
        ["WebA1", "WebA2", "WebB1"],
        "{seen:?}"
    );
    for n in seen.values() {
        assert!(*n > 35, "uneven spread {seen:?}");
    }
    let v = trace(
        &example_nlb(),
        "tcp 203.0.113.9:40000 -> 198.18.0.1:80",
        &["--param", "CrossZone=true"],
    );
    let tg = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["stage"] == "nlb-target-group")
        .unwrap();
    assert!(
        tg["detail"].as_str().unwrap().contains("cross-zone"),
        "{tg:#}"
    );
}

#[test]
fn instance_targets_see_the_client_and_ip_targets_see_the_node() {
    // Instance target: client IP preserved, only the destination changes.
    let v = trace(
        &example_nlb(),
        "tcp 203.0.113.9:40000 -> 198.18.0.1:80",
        &["--return"],
    );
    assert_eq!(v["disposition"], "DELIVERED", "{v:#}");
    assert_eq!(v["packet"]["src"], "203.0.113.9");
    assert_eq!(v["packet"]["src_port"], 40000);
    assert_eq!(v["packet"]["dst_port"], 80);
    let hops: Vec<&str> = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["stage"].as_str().unwrap())
        .collect();
    for stage in ["nlb-listener", "nlb-target-group", "nlb-target"] {
        assert!(hops.contains(&stage), "{stage} missing: {hops:?}");
    }
    // The reply goes back through the node and leaves from the address the client used.
    let r = &v["return"];
    assert_eq!(r["disposition"], "EXITED", "{r:#}");
    assert_eq!(r["egress"], "InternetGateway");
    assert_eq!(r["packet"]["src"], "198.18.0.1");
    assert_eq!(r["packet"]["src_port"], 80);
    assert_eq!(r["packet"]["dst"], "203.0.113.9");

    // ip target over TCP: the source becomes the node's private address (NAT), and the reply
    // comes back to the node, which translates it back.
    let v = trace(
        &example_nlb(),
        "tcp 10.0.20.5:40000 -> 10.0.0.100:8080",
        &["--return"],
    );
    assert_verdict(&v, "DELIVERED", None, "ApiA");
    assert_eq!(v["packet"]["src"], "10.0.0.100");
    assert_ne!(v["packet"]["src_port"], 40000);
    assert_eq!(v["packet"]["dst"], "10.0.10.20");
    let r = &v["return"];
    assert_verdict(r, "DELIVERED", None, "Client");
    assert_eq!(r["packet"]["src"], "10.0.0.100");
    assert_eq!(r["packet"]["src_port"], 8080);
    assert_eq!(r["packet"]["dst_port"], 40000);

    // preserve_client_ip.enabled=true on the ip group: the client's address reaches the
    // target, whose security group only admits the load balancer's.
    let v = trace(
        &example_nlb(),
        "tcp 10.0.20.5:40000 -> 10.0.0.100:8080",
        &["--param", "ApiClientIpPreservation=true"],
    );
    assert_verdict(&v, "DROPPED", Some("SG_INGRESS_DENIED"), "ApiSg");
    assert_eq!(v["packet"]["src"], "10.0.20.5");
}

#[test]
fn unhealthy_targets_are_skipped() {
    let seen = spread(&internal(), "10.1.20.5", "10.1.0.4", 80, 60, &[]);
    assert_eq!(
        seen.keys().cloned().collect::<Vec<_>>(),
        ["Open"],
        "{seen:?}"
    );
}

#[test]
fn a_target_whose_group_denies_the_health_check_is_unhealthy() {
    let out = vpcsim(["validate", "-t", internal().to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let mixed = v["target_health"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["target_group"] == "Mixed")
        .unwrap();
    let by_name = |n: &str| {
        mixed["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("Open")["state"], "healthy");
    let closed = by_name("Closed");
    assert_eq!(closed["state"], "unhealthy", "{closed:#}");
    // The security group drops the check silently: AWS reports it as a timeout.
    assert_eq!(closed["reason"], "Target.Timeout");
    let why = closed["description"].as_str().unwrap();
    assert!(
        why.contains("ClosedSg") && why.contains("SG_INGRESS_DENIED"),
        "{why}"
    );
    // Text output lists every target with its state.
    let out = vpcsim(["validate", "-t", internal().to_str().unwrap()]);
    assert!(
        out.stdout.contains("target group Mixed (TCP instance):"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("(Closed): unhealthy (Target.Timeout)"),
        "{}",
        out.stdout
    );
}

#[test]
fn all_targets_unhealthy_fails_open() {
    // The health checks go to port 8081, which WebSg does not admit: every target is unhealthy
    // and the load balancer routes to all of them anyway.
    let args = ["--param", "WebHealthCheckPort=8081"];
    let seen = spread(&example_nlb(), "203.0.113.9", "198.18.0.1", 80, 100, &args);
    assert_eq!(
        seen.keys().cloned().collect::<Vec<_>>(),
        ["WebA1", "WebA2"],
        "{seen:?}"
    );
    let v = trace(
        &example_nlb(),
        "tcp 203.0.113.9:40000 -> 198.18.0.1:80",
        &args,
    );
    assert_eq!(v["disposition"], "DELIVERED", "{v:#}");
    let text = serde_json::to_string(&v["hops"]).unwrap();
    assert!(text.contains("fail open"), "{text}");
}

#[test]
fn target_health_file_overrides_computed_health() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("health.json");
    // describe-target-health shape, with the group named beside the descriptions.
    std::fs::write(
        &file,
        r#"[{"TargetGroup": "WebTargets", "TargetHealthDescriptions": [
              {"Target": {"Id": "WebA2", "Port": 80}, "TargetHealth": {"State": "unhealthy"}}]}]"#,
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let seen = spread(
        &example_nlb(),
        "203.0.113.9",
        "198.18.0.1",
        80,
        60,
        &["--target-health", f],
    );
    assert_eq!(
        seen.keys().cloned().collect::<Vec<_>>(),
        ["WebA1"],
        "{seen:?}"
    );
    let out = vpcsim([
        "validate",
        "-t",
        example_nlb().to_str().unwrap(),
        "--target-health",
        f,
    ]);
    assert!(
        out.stdout
            .contains("(WebA2): unhealthy (Target.FailedHealthChecks) — set by --target-health"),
        "{}",
        out.stdout
    );
    // Marking the unhealthy target healthy (flat entries, group by ARN-less logical id).
    std::fs::write(
        &file,
        r#"[{"TargetGroup": "Mixed", "Target": {"Id": "Closed"}, "TargetHealth": {"State": "healthy"}}]"#,
    )
    .unwrap();
    let seen = spread(
        &internal(),
        "10.1.20.5",
        "10.1.0.4",
        80,
        60,
        &["--target-health", f],
    );
    assert_eq!(
        seen.keys().cloned().collect::<Vec<_>>(),
        ["Closed", "Open"],
        "{seen:?}"
    );
    // A file naming nothing is bad input.
    std::fs::write(
        &file,
        r#"[{"TargetGroup": "WebTargets", "Target": {"Id": "Nobody"}, "TargetHealth": {"State": "healthy"}}]"#,
    )
    .unwrap();
    let out = vpcsim([
        "trace",
        "-t",
        example_nlb().to_str().unwrap(),
        "tcp 203.0.113.9:40000 -> 198.18.0.1:80",
        "--target-health",
        f,
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("no target named \"Nobody\" in target group WebTargets"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_load_balancers_security_group_filters_clients() {
    // NlbSg admits port 80 from anywhere but 8080 only from the VPC.
    let v = trace(
        &example_nlb(),
        "tcp 203.0.113.9:40000 -> 198.18.0.1:8080",
        &[],
    );
    assert_verdict(&v, "DROPPED", Some("SG_INGRESS_DENIED"), "NlbSg");
    let v = trace(
        &example_nlb(),
        "tcp 10.0.20.5:40000 -> 10.0.0.100:8080",
        &[],
    );
    assert_eq!(v["disposition"], "DELIVERED", "{v:#}");
}

#[test]
fn no_listener_and_no_target_are_explained_and_fixed() {
    for (flow, reason, extra) in [
        (
            "tcp 10.1.20.5:40000 -> 10.1.0.4:81",
            "NLB_NO_LISTENER",
            "Open",
        ),
        (
            "tcp 10.1.20.5:40000 -> 10.1.0.4:9000",
            "NLB_NO_TARGET",
            "FarB",
        ),
    ] {
        let v = trace(&internal(), flow, &["--fixes"]);
        assert_eq!(v["reason"], reason, "{v:#}");
        assert!(v["explanation"]["fix"].is_string(), "{v:#}");
        assert_eq!(v["fixes"]["then"], "DELIVERED", "{v:#}");
        let text = serde_json::to_string(&v["fixes"]).unwrap();
        assert!(text.contains(extra), "{text}");
    }
    let v = trace(
        &internal(),
        "tcp 10.1.20.5:40000 -> 10.1.0.4:7000",
        &["--fixes"],
    );
    assert_eq!(v["reason"], "NLB_NO_TARGET", "{v:#}");
    assert!(v["explanation"]["no_fix"].is_string(), "{v:#}");
}

#[test]
fn udp_listener_forwards_and_replies_come_back_from_the_node() {
    let v = trace(
        &example_nlb(),
        "udp 203.0.113.9:5353 -> 198.18.0.2:53",
        &["--return"],
    );
    // DnsTargets has cross-zone on: node B forwards to DnsA in us-east-1a.
    assert_verdict(&v, "DELIVERED", None, "DnsA");
    assert_eq!(v["packet"]["src"], "203.0.113.9");
    let r = &v["return"];
    assert_eq!(r["disposition"], "EXITED", "{r:#}");
    assert_eq!(r["packet"]["src"], "198.18.0.2");
    assert_eq!(r["packet"]["src_port"], 53);
    let listener = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["stage"] == "nlb-listener")
        .unwrap();
    assert_eq!(listener["resource"], "DnsListener", "{listener:#}");
    assert_eq!(listener["rule"], "UDP:53 → forward to DnsTargets");
}

/// (src, dst, src port, dst port) of every IPv4 TCP frame in a pcap, after checking the IPv4
/// header checksum and the TCP checksum.
fn tcp_frames(path: &Path) -> Vec<(String, String, u16, u16)> {
    let b = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut off = 24;
    let sum = |data: &[u8], mut acc: u32| {
        for w in data.chunks(2) {
            acc += u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]));
        }
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    };
    while off + 16 <= b.len() {
        let len = u32::from_le_bytes(b[off + 8..off + 12].try_into().unwrap()) as usize;
        let f = &b[off + 16..off + 16 + len];
        off += 16 + len;
        assert_eq!(&f[12..14], &[0x08, 0x00], "not IPv4");
        let ip = &f[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        assert_eq!(sum(&ip[..ihl], 0), 0xffff, "bad IPv4 header checksum");
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        let seg = &ip[ihl..total];
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&ip[12..20]);
        pseudo.extend_from_slice(&[0, ip[9]]);
        pseudo.extend_from_slice(&(seg.len() as u16).to_be_bytes());
        let acc = u32::from(sum(&pseudo, 0));
        assert_eq!(sum(seg, acc), 0xffff, "bad TCP checksum");
        let a = |x: &[u8]| format!("{}.{}.{}.{}", x[0], x[1], x[2], x[3]);
        out.push((
            a(&ip[12..16]),
            a(&ip[16..20]),
            u16::from_be_bytes([seg[0], seg[1]]),
            u16::from_be_bytes([seg[2], seg[3]]),
        ));
    }
    out
}

#[test]
fn replay_writes_the_rewritten_headers_at_the_target_and_the_client() {
    let dir = TempDir::new().unwrap();
    let cap = dir.path().join("in.pcap");
    let syn = tcp("10.0.20.5", 40000, "10.0.0.100", 8080, 0x02, b"");
    write_pcap(&cap, 1, &frames(vec![syn.clone()]));
    let first = replay(&example_nlb(), &cap, &dir.path().join("probe"), &[]);
    let port = first[0]["packet"]["src_port"].as_u64().unwrap() as u16;
    // The request, the target's SYN-ACK to the node, and the client's ACK.
    write_pcap(
        &cap,
        1,
        &frames(vec![
            syn,
            tcp("10.0.10.20", 8080, "10.0.0.100", port, 0x12, b""),
            tcp("10.0.20.5", 40000, "10.0.0.100", 8080, 0x10, b"hello"),
        ]),
    );
    let out = dir.path().join("out");
    let v = replay(&example_nlb(), &cap, &out, &[]);
    assert_verdict(&v[0], "DELIVERED", None, "ApiA");
    assert_verdict(&v[1], "DELIVERED", None, "Client");
    assert_verdict(&v[2], "DELIVERED", None, "ApiA");
    let at_target = tcp_frames(&out.join("out/ApiA.pcap"));
    let expect = (
        "10.0.0.100".to_string(),
        "10.0.10.20".to_string(),
        port,
        8080,
    );
    assert_eq!(at_target, vec![expect.clone(), expect], "{at_target:?}");
    let at_client = tcp_frames(&out.join("out/Client.pcap"));
    assert_eq!(
        at_client,
        vec![(
            "10.0.0.100".to_string(),
            "10.0.20.5".to_string(),
            8080,
            40000
        )]
    );
}

#[test]
fn load_errors_have_aws_codes() {
    let dir = TempDir::new().unwrap();
    let base = std::fs::read_to_string(internal()).unwrap();
    for (extra, code) in [
        (
            "  BadListener:\n    Type: AWS::ElasticLoadBalancingV2::Listener\n    Properties:\n      LoadBalancerArn: !Ref Nlb\n      Protocol: UDP\n      Port: 99\n      DefaultActions: [{ Type: forward, TargetGroupArn: !Ref Mixed }]\n",
            "IncompatibleProtocols",
        ),
        (
            "  Dup:\n    Type: AWS::ElasticLoadBalancingV2::Listener\n    Properties:\n      LoadBalancerArn: !Ref Nlb\n      Protocol: TCP\n      Port: 80\n      DefaultActions: [{ Type: forward, TargetGroupArn: !Ref Mixed }]\n",
            "DuplicateListener",
        ),
        (
            "  UdpTg:\n    Type: AWS::ElasticLoadBalancingV2::TargetGroup\n    Properties:\n      Protocol: UDP\n      Port: 53\n      VpcId: !Ref Vpc\n      TargetGroupAttributes: [{ Key: preserve_client_ip.enabled, Value: \"false\" }]\n",
            "ValidationError",
        ),
        (
            "  TwoInOneZone:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n    Properties:\n      Type: network\n      Scheme: internal\n      Subnets: [!Ref AppSubnetA, !Ref ClientSubnet]\n",
            "InvalidConfigurationRequest",
        ),
        (
            "  IpByInstance:\n    Type: AWS::ElasticLoadBalancingV2::TargetGroup\n    Properties:\n      TargetType: ip\n      Protocol: TCP\n      Port: 80\n      VpcId: !Ref Vpc\n      Targets: [{ Id: !Ref Open }]\n",
            "ValidationError",
        ),
    ] {
        let path = dir.path().join("bad.yaml");
        std::fs::write(&path, format!("{base}{extra}")).unwrap();
        let out = vpcsim(["validate", "-t", path.to_str().unwrap()]);
        assert_eq!(out.code, 2, "{extra}: {}", out.stdout);
        assert!(out.stdout.contains(code), "{code}: {}", out.stdout);
    }
    // Application load balancers load as such (tests/alb.rs), next to the network ones.
    let path = dir.path().join("alb.yaml");
    std::fs::write(
        &path,
        format!("{base}  Alb:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n    Properties:\n      Subnets: [!Ref AppSubnetA, !Ref AppSubnetB]\n  AlbTg:\n    Type: AWS::ElasticLoadBalancingV2::TargetGroup\n    Properties:\n      Protocol: HTTP\n      Port: 80\n      VpcId: !Ref Vpc\n  AlbListener:\n    Type: AWS::ElasticLoadBalancingV2::Listener\n    Properties:\n      LoadBalancerArn: !Ref Alb\n      Protocol: HTTP\n      Port: 80\n      DefaultActions: [{{ Type: forward, TargetGroupArn: !Ref AlbTg }}]\n"),
    )
    .unwrap();
    let out = vpcsim(["validate", "-t", path.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("application load balancer Alb (internet-facing"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_load_balancers_outbound_rules_are_explained_at_the_node() {
    // NlbSg may only send HTTPS into the VPC: the forwarded packet (still from the client, whose
    // address is preserved) is denied at the node, and the fix goes to NlbSg, not the client.
    let dir = TempDir::new().unwrap();
    let text = std::fs::read_to_string(example_nlb()).unwrap().replace(
        r#"        - { IpProtocol: "-1", CidrIp: 10.0.0.0/16 }"#,
        r#"        - { IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 10.0.0.0/16 }"#,
    );
    let path = dir.path().join("nlb-egress.yaml");
    std::fs::write(&path, text).unwrap();
    let v = trace(&path, "tcp 10.0.20.5:40000 -> 10.0.0.100:80", &["--fixes"]);
    assert_verdict(&v, "DROPPED", Some("SG_EGRESS_DENIED"), "NlbSg");
    let fix = v["explanation"]["fix"].as_str().unwrap();
    assert!(fix.contains("NlbSg"), "{fix}");
    assert_eq!(v["fixes"]["then"], "DELIVERED", "{v:#}");
}
