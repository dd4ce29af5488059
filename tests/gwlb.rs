//! Gateway Load Balancers through the real `vpcsim` binary (SPEC §10.3, §11.4): GWLB endpoints
//! as route targets in a gateway route table and in subnet tables, both directions of a flow
//! through the same appliance, flow stickiness (5-, 3- and 2-tuple), the appliance's security
//! group and GENEVE, unhealthy appliances (fail open), zones without appliances, and the GENEVE
//! frames replay writes at the appliance.
//!
//! Topologies: `examples/gwlb.yaml` (internet → Web 203.0.113.20 / 10.0.1.20 inspected by
//! Appliance1 10.9.1.10 and Appliance2 10.9.1.11; the load balancer node is 10.9.1.4) and
//! `tests/fixtures/gwlb/zones.yaml` (east-west between 10.0.1.10 and 10.0.2.20 through an
//! endpoint in us-east-1b; the only appliance is in us-east-1a).

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn example_gwlb() -> PathBuf {
    root().join("examples/gwlb.yaml")
}

fn zones() -> PathBuf {
    fixture("gwlb/zones.yaml")
}

const INBOUND: &str = "tcp 198.51.100.7:50000 -> 203.0.113.20:443";

fn hops<'a>(v: &'a Value, stage: &str) -> Vec<&'a Value> {
    v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["stage"] == stage)
        .collect()
}

fn appliance_of(v: &Value) -> String {
    let a = hops(v, "appliance");
    assert_eq!(a.len(), 1, "{v:#}");
    a[0]["resource"].as_str().unwrap().to_string()
}

#[test]
fn inbound_and_reply_cross_the_same_appliance() {
    let v = trace(&example_gwlb(), INBOUND, &["--return"]);
    assert_verdict(&v, "DELIVERED", None, "Web");
    assert_verdict(&v["return"], "EXITED", None, "InternetGateway");
    // In: the gateway route table steers the translated packet to the endpoint.
    let route = &hops(&v, "route")[0];
    assert_eq!(route["resource"], "IngressRouteTable", "{v:#}");
    assert!(route["rule"]
        .as_str()
        .unwrap()
        .contains("InspectionEndpoint"));
    for stage in ["gwlb-endpoint", "gwlb", "geneve-encap", "geneve-decap"] {
        assert_eq!(hops(&v, stage).len(), 1, "{stage}: {v:#}");
        assert_eq!(hops(&v["return"], stage).len(), 1, "{stage}: {v:#}");
    }
    // The appliance sees the GENEVE datagram from the node, UDP 6081.
    let encap = hops(&v, "geneve-encap")[0];
    assert_eq!(encap["packet"]["protocol"], "udp");
    assert_eq!(encap["packet"]["src"], "10.9.1.4");
    assert_eq!(encap["packet"]["dst_port"], 6081);
    assert!(encap["detail"].as_str().unwrap().contains("0x0108"));
    // Out: the web subnet's default route goes to the endpoint, then the endpoint subnet's
    // table to the internet gateway.
    let back_routes = hops(&v["return"], "route");
    assert_eq!(back_routes[0]["resource"], "WebRouteTable");
    assert_eq!(back_routes[1]["resource"], "EndpointRouteTable");
    assert_eq!(appliance_of(&v), appliance_of(&v["return"]));
    // The reply's GENEVE datagram belongs to the request's: the appliance's group tracks it.
    let sg = hops(&v["return"], "sg-ingress");
    assert_eq!(sg[0]["resource"], "ApplianceSg");
    assert_eq!(sg[0]["detail"], "part of a tracked connection", "{v:#}");
}

#[test]
fn east_west_through_routes_more_specific_than_local() {
    let v = trace(
        &zones(),
        "tcp 10.0.1.10:40000 -> 10.0.2.20:5432",
        &["--return", "--param", "CrossZone=true"],
    );
    assert_verdict(&v, "DELIVERED", None, "Server");
    assert_verdict(&v["return"], "DELIVERED", None, "Client");
    assert_eq!(appliance_of(&v), "Appliance");
    assert_eq!(appliance_of(&v["return"]), "Appliance");
    assert!(hops(&v, "gwlb")[0]["detail"]
        .as_str()
        .unwrap()
        .contains("us-east-1b"));
}

#[test]
fn no_appliance_in_the_zone_without_cross_zone() {
    let v = trace(&zones(), "tcp 10.0.1.10:40000 -> 10.0.2.20:5432", &[]);
    assert_verdict(&v, "DROPPED", Some("GWLB_NO_TARGET"), "Appliances");
    let v = trace(
        &zones(),
        "tcp 10.0.1.10:40000 -> 10.0.2.20:5432",
        &["--param", "Targets=none", "--param", "CrossZone=true"],
    );
    assert_verdict(&v, "DROPPED", Some("GWLB_NO_TARGET"), "Appliances");
}

#[test]
fn appliance_security_group_must_admit_geneve() {
    let v = trace(&example_gwlb(), INBOUND, &["--param", "GenevePort=6082"]);
    assert_verdict(&v, "DROPPED", Some("SG_INGRESS_DENIED"), "ApplianceSg");
    let last = v["hops"].as_array().unwrap().last().unwrap();
    assert_eq!(last["packet"]["protocol"], "udp");
    assert_eq!(last["packet"]["dst_port"], 6081);
}

#[test]
fn unhealthy_appliances_fail_open() {
    // Health checks on 8080 are not admitted by the appliances' group: both are unhealthy.
    let v = trace(
        &example_gwlb(),
        INBOUND,
        &["--param", "HealthCheckPort=8080"],
    );
    assert_verdict(&v, "DELIVERED", None, "Web");
    let detail = hops(&v, "gwlb")[0]["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("fail open"), "{detail}");
    let v = trace(&example_gwlb(), INBOUND, &[]);
    let detail = hops(&v, "gwlb")[0]["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("one of 2 healthy"), "{detail}");
}

/// The load balancer node has an interface of its own (`<Gwlb>.<Subnet>`, as AWS gives every
/// node one): its health checks are packets like any other, through the pipeline, so the trace
/// of one shows what decides it; its address takes nothing but the replies to them.
#[test]
fn health_checks_are_packets_from_the_node_interface() {
    let check = "tcp 10.9.1.4:43210 -> 10.9.1.10:80";
    let v = trace(&example_gwlb(), check, &["--return"]);
    assert_verdict(&v, "DELIVERED", None, "Appliance1");
    assert_eq!(v["hops"][0]["resource"], "Gwlb.ApplianceSubnet", "{v:#}");
    assert_eq!(v["return"]["delivered_to"], "Gwlb.ApplianceSubnet", "{v:#}");
    // A check the appliance's group does not admit: why the appliance is unhealthy.
    let v = trace(&example_gwlb(), "tcp 10.9.1.4:43210 -> 10.9.1.10:8080", &[]);
    assert_verdict(&v, "DROPPED", Some("SG_INGRESS_DENIED"), "ApplianceSg");
    // Nothing else is for the node's own address.
    let v = trace(&example_gwlb(), "tcp 10.9.1.10:40000 -> 10.9.1.4:22", &[]);
    assert_verdict(
        &v,
        "DROPPED",
        Some("NO_DESTINATION"),
        "Gwlb.ApplianceSubnet",
    );
}

/// Frames of an Ethernet pcap written by replay.
fn pcap_frames(path: &Path) -> Vec<Vec<u8>> {
    let b = std::fs::read(path).unwrap_or_default();
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= b.len() {
        let len = u32::from_le_bytes(b[off + 8..off + 12].try_into().unwrap()) as usize;
        out.push(b[off + 16..off + 16 + len].to_vec());
        off += 16 + len;
    }
    out
}

/// Replay one SYN per client port to the web server; count the GENEVE frames per appliance.
fn spread(extra: &[&str]) -> (usize, usize) {
    let dir = TempDir::new().unwrap();
    let cap = dir.path().join("in.pcap");
    let data = (0..40u16)
        .map(|i| {
            tcp(
                "198.51.100.7",
                30_000 + i * 11,
                "203.0.113.20",
                443,
                0x02,
                b"",
            )
        })
        .collect();
    write_pcap(&cap, 1, &frames(data));
    let out = dir.path().join("out");
    for v in replay(&example_gwlb(), &cap, &out, extra) {
        assert_eq!(v["disposition"], "DELIVERED", "{v}");
    }
    (
        pcap_frames(&out.join("out/Appliance1.pcap")).len(),
        pcap_frames(&out.join("out/Appliance2.pcap")).len(),
    )
}

#[test]
fn five_tuple_spreads_flows_two_and_three_tuple_pin_them() {
    let (a, b) = spread(&[]);
    assert_eq!(a + b, 40);
    assert!(a > 0 && b > 0, "5-tuple: {a} / {b}");
    for s in ["source_ip_dest_ip", "source_ip_dest_ip_proto"] {
        let (a, b) = spread(&["--param", &format!("Stickiness={s}")]);
        assert!((a, b) == (40, 0) || (a, b) == (0, 40), "{s}: {a} / {b}");
    }
}

#[test]
fn replay_writes_the_geneve_frames_the_appliance_receives() {
    let dir = TempDir::new().unwrap();
    let cap = dir.path().join("in.pcap");
    write_pcap(
        &cap,
        1,
        &frames(vec![
            tcp("198.51.100.7", 50000, "203.0.113.20", 443, 0x02, b""),
            tcp("10.0.1.20", 443, "198.51.100.7", 50000, 0x12, b""),
        ]),
    );
    let out = dir.path().join("out");
    let v = replay(&example_gwlb(), &cap, &out, &[]);
    assert_eq!(v[0]["delivered_to"], "Web");
    assert_eq!(v[1]["egress"], "InternetGateway");
    let at_web = pcap_frames(&out.join("out/Web.pcap"));
    let mut at_appliance = pcap_frames(&out.join("out/Appliance1.pcap"));
    at_appliance.extend(pcap_frames(&out.join("out/Appliance2.pcap")));
    assert_eq!(at_appliance.len(), 2, "both directions are wrapped");
    let f = &at_appliance[0];
    assert_eq!(
        f.len(),
        at_web[0].len() + 68,
        "68 bytes of GENEVE encapsulation"
    );
    assert_eq!(&f[12..14], &[0x08, 0x00], "outer IPv4");
    let ip = &f[14..];
    assert_eq!(ip[0], 0x45);
    assert_eq!(ip[9], 17, "UDP");
    assert_eq!(&ip[12..16], &[10, 9, 1, 4], "from the load balancer node");
    let udp = &ip[20..];
    assert_eq!(u16::from_be_bytes([udp[2], udp[3]]), 6081);
    let g = &udp[8..];
    assert_eq!(g[0] >> 6, 0, "GENEVE version 0");
    assert_eq!((g[0] & 0x3f) * 4, 32, "options length");
    assert_eq!(u16::from_be_bytes([g[2], g[3]]), 0x0800, "inner IPv4");
    let mut opts = Vec::new();
    let mut o = &g[8..40];
    while o.len() >= 4 {
        let len = usize::from(o[3] & 0x1f) * 4;
        opts.push((u16::from_be_bytes([o[0], o[1]]), o[2], len));
        o = &o[4 + len..];
    }
    assert_eq!(opts, vec![(0x0108, 1, 8), (0x0108, 2, 8), (0x0108, 3, 4)]);
    // The client's packet as the appliance received it: after the internet gateway's NAT,
    // identical to what reaches the web server.
    assert_eq!(&f[14 + 68..], &at_web[0][14..]);
    // The reply is wrapped by the same node to the same appliance.
    assert_eq!(&at_appliance[1][14 + 12..14 + 20], &ip[12..20]);
}

#[test]
fn load_errors_have_aws_codes() {
    let dir = TempDir::new().unwrap();
    let base = std::fs::read_to_string(example_gwlb()).unwrap();
    for (extra, code) in [
        (
            "  BadPort:\n    Type: AWS::ElasticLoadBalancingV2::TargetGroup\n    Properties:\n      Protocol: GENEVE\n      Port: 6082\n      VpcId: !Ref ApplianceVpc\n",
            "ValidationError",
        ),
        (
            "  PortListener:\n    Type: AWS::ElasticLoadBalancingV2::Listener\n    Properties:\n      LoadBalancerArn: !Ref Gwlb\n      Protocol: TCP\n      Port: 80\n      DefaultActions: [{ Type: forward, TargetGroupArn: !Ref ApplianceTargets }]\n",
            "ValidationError",
        ),
        (
            "  Stray:\n    Type: AWS::EC2::VPCEndpoint\n    Properties:\n      VpcEndpointType: GatewayLoadBalancer\n      VpcId: !Ref Vpc\n      SubnetIds: [!Ref EndpointSubnet]\n      ServiceName: com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0\n",
            "InvalidServiceName",
        ),
        (
            "  OtherZone:\n    Type: AWS::EC2::Subnet\n    Properties: { VpcId: !Ref Vpc, CidrBlock: 10.0.5.0/24, AvailabilityZone: us-east-1c }\n  ZoneC:\n    Type: AWS::EC2::VPCEndpoint\n    Properties:\n      VpcEndpointType: GatewayLoadBalancer\n      VpcId: !Ref Vpc\n      SubnetIds: [!Ref OtherZone]\n      ServiceName: !Sub com.amazonaws.vpce.${AWS::Region}.${EndpointService}\n",
            "InvalidParameter",
        ),
    ] {
        let path = dir.path().join("bad.yaml");
        std::fs::write(&path, format!("{base}{extra}")).unwrap();
        let out = vpcsim(["validate", "-t", path.to_str().unwrap()]);
        assert_eq!(out.code, 2, "{extra}: {}", out.stdout);
        assert!(out.stdout.contains(code), "{code}: {}", out.stdout);
    }
}

/// SPEC §17 vector 42 with AWS's numbers: an 8500-byte packet reaches the appliance as an
/// 8568-byte GENEVE datagram (68 bytes of encapsulation).
#[test]
fn an_8500_byte_packet_reaches_the_appliance_as_8568_bytes() {
    let dir = TempDir::new().unwrap();
    let cap = dir.path().join("in.pcap");
    write_pcap(
        &cap,
        1,
        &frames(vec![tcp(
            "198.51.100.7",
            50000,
            "203.0.113.20",
            443,
            0x02,
            &[0; 8460],
        )]),
    );
    let out = dir.path().join("out");
    let v = replay(&example_gwlb(), &cap, &out, &[]);
    assert_eq!(v[0]["disposition"], "DELIVERED", "{}", v[0]);
    let mut at_appliance = pcap_frames(&out.join("out/Appliance1.pcap"));
    at_appliance.extend(pcap_frames(&out.join("out/Appliance2.pcap")));
    let ip = &at_appliance[0][14..];
    assert_eq!(ip.len(), 8568);
    assert_eq!(usize::from(u16::from_be_bytes([ip[2], ip[3]])), 8568);
}

/// The gateway route table sends the web subnet's inbound traffic through the endpoint; a web
/// subnet that sends its own traffic straight to the internet gateway bypasses the inspection
/// (SPEC §2.5, `INGRESS_RTB_TRAFFIC_REDIRECTION`).
#[test]
fn outbound_traffic_that_bypasses_the_endpoint_is_dropped() {
    let out = "tcp 10.0.1.20:40000 -> 198.51.100.7:443";
    let v = trace(&example_gwlb(), out, &["--param", "WebReturn=direct"]);
    assert_verdict(&v, "DROPPED", Some("APPLIANCE_BYPASSED"), "InternetGateway");
    let v = trace(
        &example_gwlb(),
        INBOUND,
        &["--param", "WebReturn=direct", "--return"],
    );
    assert_verdict(&v, "DELIVERED", None, "Web");
    assert_verdict(
        &v["return"],
        "DROPPED",
        Some("APPLIANCE_BYPASSED"),
        "InternetGateway",
    );
    let v = trace(&example_gwlb(), out, &[]);
    assert_verdict(&v, "EXITED", None, "InternetGateway");
    assert_eq!(hops(&v, "appliance").len(), 1, "{v:#}");
}
