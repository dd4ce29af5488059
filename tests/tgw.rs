//! Transit gateways (SPEC §9), Site-to-Site VPN edges (§2.7, §2.8, §14.6) and gateway route
//! tables (§2.5), through the real `vpcsim` binary.
//!
//! Topologies: the three examples (`hub-and-spoke.yaml`, `vpn.yaml`, `ingress-inspection.yaml`)
//! and the fixtures in `tests/fixtures/tgw/` (each one's description says what it is for). Every
//! test asserts the disposition, the reason, the deciding resource (`at`) and the hops that
//! matter from `trace --json`.

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;
use tempfile::TempDir;

fn ex(name: &str) -> PathBuf {
    root().join("examples").join(name)
}

fn tgw(name: &str) -> PathBuf {
    fixture(&format!("tgw/{name}"))
}

/// The hops of a trace as `(stage, resource)`.
fn hops(v: &Value) -> Vec<(String, String)> {
    v["hops"]
        .as_array()
        .unwrap_or_else(|| panic!("no hops: {v:#}"))
        .iter()
        .map(|h| {
            (
                h["stage"].as_str().unwrap().to_string(),
                h["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The resources of the hops of one stage, in order.
fn at_stage(v: &Value, stage: &str) -> Vec<String> {
    hops(v)
        .into_iter()
        .filter(|(s, _)| s == stage)
        .map(|(_, r)| r)
        .collect()
}

/// The rule text of the first hop of `stage` at `resource`.
fn rule_of(v: &Value, stage: &str, resource: &str) -> String {
    v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["stage"] == stage && h["resource"] == resource)
        .and_then(|h| h["rule"].as_str())
        .unwrap_or_else(|| panic!("no {stage} hop with a rule at {resource}: {v:#}"))
        .to_string()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// Transit gateway: association, propagation, route priority

/// The hub-and-spoke example: the spokes' association (SpokeRouteTable) sends everything to the
/// inspection VPC; the inspection VPC's association (InspectionRouteTable, filled by the spokes'
/// propagation) sends it on to the other spoke. The request crosses a firewall on the way.
#[test]
fn association_decides_the_table_and_spokes_meet_only_through_inspection() {
    let v = trace(
        &ex("hub-and-spoke.yaml"),
        "tcp 10.1.1.10:40000 -> 10.2.1.10:443",
        &[],
    );
    assert_verdict(&v, "DELIVERED", None, "Web");
    assert_eq!(
        at_stage(&v, "tgw-route"),
        strs(&["SpokeRouteTable", "InspectionRouteTable"]),
        "{v:#}"
    );
    assert_eq!(
        at_stage(&v, "tgw-attachment"),
        strs(&[
            "SpokeAAttachment",
            "InspectionAttachment",
            "InspectionAttachment",
            "SpokeBAttachment"
        ]),
        "{v:#}"
    );
    let firewalls = at_stage(&v, "appliance");
    assert_eq!(firewalls.len(), 1, "{v:#}");
    assert!(firewalls[0].starts_with("Firewall"), "{v:#}");
    assert!(
        rule_of(&v, "tgw-route", "SpokeRouteTable").contains("SpokeDefaultToInspection"),
        "{v:#}"
    );
    assert!(
        rule_of(&v, "tgw-route", "InspectionRouteTable").contains("propagated from the VPC"),
        "{v:#}"
    );

    // The firewalls' policy applies to spoke-to-spoke traffic: SSH only from SpokeA.
    let ssh = trace(
        &ex("hub-and-spoke.yaml"),
        "tcp 10.2.1.10:40000 -> 10.1.1.10:22",
        &[],
    );
    assert_verdict(&ssh, "DROPPED", Some("SG_INGRESS_DENIED"), "FirewallSg");
    assert!(at_stage(&ssh, "deliver").is_empty(), "{ssh:#}");
}

/// With the gateway's defaults, every attachment associates with the default route table and
/// propagates its VPC CIDR into it; turning either default off breaks the path.
#[test]
fn default_association_and_propagation() {
    let t = tgw("spokes.yaml");
    let flow = "tcp 10.1.1.10:40000 -> 10.2.1.10:443";
    let v = trace(&t, flow, &[]);
    assert_verdict(&v, "DELIVERED", None, "AppB");
    assert_eq!(
        at_stage(&v, "tgw-route"),
        strs(&["Tgw.DefaultRouteTable"]),
        "{v:#}"
    );
    assert!(
        rule_of(&v, "tgw-route", "Tgw.DefaultRouteTable").starts_with("10.2.0.0/16 → AttachB"),
        "{v:#}"
    );
    let none = trace(&t, flow, &["--param", "DefaultAssociation=disable"]);
    assert_verdict(&none, "DROPPED", Some("TGW_NO_ASSOCIATION"), "AttachA");
    assert_eq!(
        hops(&none).last().unwrap(),
        &("tgw-route".to_string(), "AttachA".to_string())
    );
    // Propagation missing: the default table exists but holds no route.
    let empty = trace(&t, flow, &["--param", "DefaultPropagation=disable"]);
    assert_verdict(
        &empty,
        "DROPPED",
        Some("TGW_NO_ROUTE"),
        "Tgw.DefaultRouteTable",
    );
}

/// SPEC §17 vector 39: a static route beats a propagated one for the same prefix; deleting the
/// static route makes the propagated one visible and used.
#[test]
fn static_beats_propagated_for_the_same_prefix() {
    let t = tgw("route-priority.yaml");
    let flow = "tcp 10.0.1.10:40000 -> 10.8.1.5:443";
    let v = trace(&t, flow, &[]);
    assert!(
        rule_of(&v, "tgw-route", "RouteTableX").contains("(StaticToYRoute)"),
        "{v:#}"
    );
    assert_eq!(
        at_stage(&v, "tgw-attachment").last().map(String::as_str),
        Some("AttachY"),
        "{v:#}"
    );
    // Y has no route onwards: the packet went to Y, not to Z.
    assert_verdict(&v, "DROPPED", Some("NO_ROUTE"), "Y.MainRouteTable");

    let without = trace(&t, flow, &["--param", "StaticToY=false"]);
    assert_verdict(&without, "DELIVERED", None, "ServerZ");
    assert!(
        rule_of(&without, "tgw-route", "RouteTableX").contains("propagated"),
        "{without:#}"
    );
}

/// SPEC §17 vector 40: longest prefix first — a propagated /24 beats a static blackhole /16;
/// the blackhole drops the rest without falling back to anything less specific.
#[test]
fn longest_prefix_wins_and_blackhole_drops() {
    let t = tgw("route-priority.yaml");
    let w = trace(&t, "tcp 10.0.1.10:40000 -> 10.9.1.5:443", &[]);
    assert_verdict(&w, "DELIVERED", None, "ServerW");
    assert!(
        rule_of(&w, "tgw-route", "RouteTableX").starts_with("10.9.1.0/24 → AttachW"),
        "{w:#}"
    );
    let b = trace(&t, "tcp 10.0.1.10:40000 -> 10.9.2.5:443", &[]);
    assert_verdict(&b, "DROPPED", Some("TGW_BLACKHOLE_ROUTE"), "RouteTableX");
    assert!(
        rule_of(&b, "tgw-route", "RouteTableX").contains("blackhole"),
        "{b:#}"
    );
}

/// SPEC §17 vector 38 / §9.1: a subnet reaches the transit gateway only when the attachment has
/// a subnet in its Availability Zone.
#[test]
fn attachment_needs_a_subnet_in_the_senders_zone() {
    let t = tgw("spokes.yaml");
    let v = trace(&t, "tcp 10.1.2.10:40000 -> 10.2.1.10:443", &[]);
    assert_verdict(&v, "DROPPED", Some("TGW_NO_ATTACHMENT_IN_AZ"), "AttachA");
    assert!(at_stage(&v, "tgw-route").is_empty(), "{v:#}");
    // `--fixes` adds the sender's subnet to the attachment, and then the packet arrives.
    let f = trace(&t, "tcp 10.1.2.10:40000 -> 10.2.1.10:443", &["--fixes"]);
    assert_eq!(f["fixes"]["then"], "DELIVERED", "{f:#}");
}

/// Centralized egress: a spoke without an internet gateway reaches the internet through the
/// transit gateway and a NAT gateway in an egress VPC; the reply comes back the same way.
#[test]
fn centralized_egress_through_a_nat_gateway() {
    let v = trace(
        &tgw("central-egress.yaml"),
        "tcp 10.1.1.10:40000 -> 93.184.216.34:443",
        &["--return"],
    );
    assert_verdict(&v, "EXITED", None, "Igw");
    assert_eq!(v["packet"]["src"], "198.51.100.10", "{v:#}");
    assert_eq!(at_stage(&v, "nat-gateway"), strs(&["Nat"]), "{v:#}");
    assert_eq!(at_stage(&v, "tgw-route"), strs(&["SharedTable"]), "{v:#}");
    let r = &v["return"];
    assert_verdict(r, "DELIVERED", None, "App");
    assert_eq!(
        at_stage(r, "tgw-attachment"),
        strs(&["EgressAttachment", "SpokeAttachment"]),
        "{r:#}"
    );
}

/// SPEC §3.2: the transit gateway subnet's NACL applies inbound to instance → transit gateway
/// traffic and outbound to transit gateway → instance traffic. The restrictive NACL on spoke B's
/// attachment subnet lets HTTPS out to its instances and only replies back in.
#[test]
fn tgw_subnet_nacl_applies_to_traffic_crossing_it() {
    let t = tgw("spokes.yaml");
    let acl = ["--param", "TgwSubnetAcl=restrictive"];
    let ok = trace(&t, "tcp 10.1.1.10:40000 -> 10.2.1.10:443", &acl);
    assert_verdict(&ok, "DELIVERED", None, "AppB");
    let ssh = trace(&t, "tcp 10.1.1.10:40000 -> 10.2.1.10:22", &acl);
    assert_eq!(ssh["disposition"], "DROPPED", "{ssh:#}");
    assert_eq!(ssh["reason"], "NACL_EGRESS_DENIED", "{ssh:#}");
}

/// `--from` a transit gateway attachment starts the packet at the gateway.
#[test]
fn origin_at_an_attachment() {
    let v = trace(
        &tgw("spokes.yaml"),
        "tcp 10.1.1.10:40000 -> 10.2.1.10:443",
        &["--from", "AttachA"],
    );
    assert_verdict(&v, "DELIVERED", None, "AppB");
    assert_eq!(
        hops(&v)[0],
        ("origin".to_string(), "AttachA".to_string()),
        "{v:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// Appliance mode (SPEC §9.3)

/// With appliance mode on, both directions of every flow cross the same firewall. With it off,
/// the transit gateway keeps each direction in the zone it entered: the request (from SpokeA,
/// us-east-1a) crosses FirewallA, the reply (from SpokeB, us-east-1b) reaches FirewallB, which
/// never saw the request and drops it.
#[test]
fn appliance_mode_keeps_both_directions_on_one_firewall() {
    let t = ex("hub-and-spoke.yaml");
    for port in 40000..40016 {
        let flow = format!("tcp 10.1.1.10:{port} -> 10.2.1.10:443");
        let v = trace(&t, &flow, &["--return"]);
        assert_verdict(&v, "DELIVERED", None, "Web");
        assert_verdict(&v["return"], "DELIVERED", None, "App");
        let there = at_stage(&v, "appliance");
        let back = at_stage(&v["return"], "appliance");
        assert_eq!(there.len(), 1, "{v:#}");
        assert_eq!(there, back, "{flow}: request and reply cross one firewall");
        assert!(v["asymmetric"].is_null(), "{v:#}");
    }
}

#[test]
fn appliance_mode_off_drops_the_reply_at_the_other_zones_firewall() {
    let t = ex("hub-and-spoke.yaml");
    let off = ["--return", "--param", "ApplianceMode=disable"];
    let v = trace(&t, "tcp 10.1.1.10:40000 -> 10.2.1.10:443", &off);
    assert_verdict(&v, "DELIVERED", None, "Web");
    assert_eq!(at_stage(&v, "appliance"), strs(&["FirewallA"]), "{v:#}");
    let r = &v["return"];
    assert_verdict(r, "DROPPED", Some("SG_INGRESS_DENIED"), "FirewallSg");
    assert!(
        at_stage(r, "route").contains(&"InspectionTgwRouteTableB".to_string()),
        "the reply entered the inspection VPC in us-east-1b: {r:#}"
    );
    assert!(at_stage(r, "appliance").is_empty(), "{r:#}");
    assert!(
        v["asymmetric"]["notes"]
            .as_array()
            .is_some_and(|n| !n.is_empty()),
        "{v:#}"
    );
    // The explanation names appliance mode, and the fix turns it on.
    let f = trace(
        &t,
        "tcp 10.1.1.10:40000 -> 10.2.1.10:443",
        &["--return", "--param", "ApplianceMode=disable", "--fixes"],
    );
    let fix = f["return"]["explanation"]["fix"]
        .as_str()
        .unwrap_or_default();
    assert!(fix.contains("appliance mode"), "{f:#}");
    assert!(fix.contains("InspectionAttachment"), "{f:#}");
    assert_eq!(f["fixes"]["then_return"], "DELIVERED", "{f:#}");
}

// ---------------------------------------------------------------------------------------------
// VPN on a virtual private gateway

/// Propagated routes appear in the route table, a flow to on-premises EXITS through the virtual
/// private gateway, and its reply comes back from there.
#[test]
fn vpn_propagated_route_exits_via_the_vgw_and_the_reply_returns() {
    let v = trace(
        &ex("vpn.yaml"),
        "tcp 10.0.1.10:40000 -> 192.168.5.5:443",
        &["--return"],
    );
    assert_verdict(&v, "EXITED", None, "Vgw");
    assert_eq!(v["egress"], "Vgw", "{v:#}");
    assert_eq!(
        rule_of(&v, "route", "PrivateRouteTable"),
        "192.168.0.0/16 → Vgw (propagated)"
    );
    assert_eq!(at_stage(&v, "vgw"), strs(&["Vgw"]), "{v:#}");
    assert_eq!(at_stage(&v, "exit"), strs(&["OfficeVpn"]), "{v:#}");
    let r = &v["return"];
    assert_verdict(r, "DELIVERED", None, "App");
    assert_eq!(
        hops(r)[0],
        ("origin".to_string(), "OfficeRouter".to_string())
    );

    // The BGP-advertised data-center prefix, through the other connection.
    let dc = trace(
        &ex("vpn.yaml"),
        "tcp 10.0.1.10:40000 -> 172.16.9.9:443",
        &[],
    );
    assert_verdict(&dc, "EXITED", None, "Vgw");
    assert_eq!(at_stage(&dc, "exit"), strs(&["DataCenterVpn"]), "{dc:#}");
}

/// Propagation missing: without VPNGatewayRoutePropagation the route table has no route to
/// on-premises; the suggested fix is the static route that propagation would have installed.
#[test]
fn vpn_without_propagation_has_no_route() {
    let t = ex("vpn.yaml");
    let flow = "tcp 10.0.1.10:40000 -> 192.168.5.5:443";
    let off = ["--param", "RoutePropagation=disable", "--fixes"];
    let v = trace(&t, flow, &off);
    assert_verdict(&v, "DROPPED", Some("NO_ROUTE"), "PrivateRouteTable");
    assert!(at_stage(&v, "vgw").is_empty(), "{v:#}");
    assert_eq!(
        v["explanation"]["fix"],
        "add the route 192.168.0.0/16 → Vgw in route table PrivateRouteTable",
        "{v:#}"
    );
    assert_eq!(v["fixes"]["then"], "EXITED", "{v:#}");
}

/// On-premises addresses are an origin: by source address (the connection whose prefixes hold
/// it) or named with `--from` the customer gateway.
#[test]
fn onprem_origin_from_the_customer_gateway() {
    let t = ex("vpn.yaml");
    let auto = trace(&t, "tcp 192.168.1.7:50000 -> 10.0.1.10:22", &[]);
    assert_eq!(
        hops(&auto)[0],
        ("origin".to_string(), "OfficeRouter".to_string()),
        "{auto:#}"
    );
    assert_eq!(at_stage(&auto, "vgw"), strs(&["Vgw"]), "{auto:#}");
    let named = trace(
        &t,
        "tcp 192.168.1.7:50000 -> 10.0.1.10:22",
        &["--from", "OfficeRouter"],
    );
    assert_eq!(named["disposition"], auto["disposition"], "{named:#}");
    assert_eq!(hops(&named), hops(&auto));
    // A virtual private gateway forwards only into its own VPC.
    let out = trace(
        &t,
        "tcp 192.168.1.7:50000 -> 10.9.0.1:22",
        &["--from", "OfficeRouter"],
    );
    assert_verdict(&out, "DROPPED", Some("VGW_NO_ROUTE"), "Vgw");
}

/// SPEC §17 vectors 19 and 20: a static route beats a propagated one for the same prefix, and a
/// propagated prefix inside the VPC never beats the local route.
#[test]
fn vpn_static_beats_propagated_and_local_beats_both() {
    let t = tgw("vpn-edges.yaml");
    let v = trace(&t, "tcp 10.0.2.30:40000 -> 172.31.0.5:443", &[]);
    assert!(
        rule_of(&v, "route", "RtPriv").contains("InternetGateway"),
        "{v:#}"
    );
    assert!(at_stage(&v, "vgw").is_empty(), "{v:#}");
    let local = trace(&t, "tcp 10.0.2.30:40000 -> 10.0.5.9:443", &[]);
    assert!(
        rule_of(&local, "route", "RtPriv").contains("local"),
        "{local:#}"
    );
    // A propagated prefix the table has no static route for goes to the gateway.
    let office = trace(&t, "tcp 10.0.2.30:40000 -> 10.20.1.1:443", &[]);
    assert_verdict(&office, "EXITED", None, "Vgw");
    assert!(
        rule_of(&office, "route", "RtPriv").contains("(propagated)"),
        "{office:#}"
    );
}

/// SPEC §2.7: the virtual private gateway carries only its own VPC's traffic and only to the
/// prefixes it knows.
#[test]
fn vgw_refuses_transit_and_unknown_prefixes() {
    let t = tgw("vpn-edges.yaml");
    let transit = trace(&t, "tcp 10.1.1.10:40000 -> 10.20.1.1:443", &[]);
    assert_verdict(&transit, "DROPPED", Some("VGW_SOURCE_NOT_IN_VPC"), "Vgw");
    assert!(
        at_stage(&transit, "tgw-route").contains(&"TransitTable".to_string()),
        "{transit:#}"
    );
    let unknown = trace(&t, "tcp 10.0.2.30:40000 -> 10.30.0.1:443", &[]);
    assert_verdict(&unknown, "DROPPED", Some("VGW_NO_ROUTE"), "Vgw");
}

// ---------------------------------------------------------------------------------------------
// VPN attachments of a transit gateway

#[test]
fn tgw_vpn_attachments_static_and_bgp() {
    let t = tgw("tgw-vpn.yaml");
    let bgp = trace(&t, "tcp 10.1.1.10:40000 -> 192.168.1.1:443", &["--return"]);
    assert_verdict(&bgp, "EXITED", None, "BgpVpn");
    assert!(
        rule_of(&bgp, "tgw-route", "SharedTable").contains("propagated over BGP"),
        "{bgp:#}"
    );
    assert_verdict(&bgp["return"], "DELIVERED", None, "App");
    let stat = trace(&t, "tcp 10.1.1.10:40000 -> 172.16.1.1:443", &[]);
    assert_verdict(&stat, "EXITED", None, "StaticVpn");
    assert!(
        rule_of(&stat, "tgw-route", "SharedTable").contains("DataCenterRoute"),
        "{stat:#}"
    );
    // From on-premises through the BGP connection: the spoke's SG admits SSH from the office.
    let ssh = trace(
        &t,
        "tcp 192.168.1.1:50000 -> 10.1.1.10:22",
        &["--from", "BgpRouter"],
    );
    assert_verdict(&ssh, "DELIVERED", None, "App");
    assert_eq!(
        at_stage(&ssh, "tgw-route"),
        strs(&["SharedTable"]),
        "{ssh:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// Gateway route tables (SPEC §2.5)

/// The inspection appliance in front of a public subnet, both directions: the internet gateway's
/// route table steers the request to the firewall; the web subnet's table sends the reply back
/// through it.
#[test]
fn ingress_inspection_both_directions() {
    let t = ex("ingress-inspection.yaml");
    let v = trace(&t, "tcp 192.0.2.9:50000 -> 203.0.113.20:443", &["--return"]);
    assert_verdict(&v, "DELIVERED", None, "Web");
    assert!(
        rule_of(&v, "route", "IngressRouteTable").contains("10.0.1.0/24 → Firewall"),
        "{v:#}"
    );
    assert_eq!(at_stage(&v, "appliance"), strs(&["Firewall"]), "{v:#}");
    let r = &v["return"];
    assert_verdict(r, "EXITED", None, "InternetGateway");
    assert_eq!(at_stage(r, "appliance"), strs(&["Firewall"]), "{r:#}");
    assert_eq!(r["packet"]["src"], "203.0.113.20", "{r:#}");

    // The firewall's own traffic is not redirected.
    let own = trace(&t, "tcp 10.0.0.10:40000 -> 192.0.2.9:443", &[]);
    assert_verdict(&own, "EXITED", None, "InternetGateway");
}

#[test]
fn ingress_inspection_bypassed_and_without_public_ip() {
    let t = ex("ingress-inspection.yaml");
    let direct = trace(
        &t,
        "tcp 10.0.1.20:40000 -> 192.0.2.9:443",
        &["--param", "WebReturn=direct"],
    );
    assert_verdict(
        &direct,
        "DROPPED",
        Some("APPLIANCE_BYPASSED"),
        "InternetGateway",
    );
    assert!(at_stage(&direct, "appliance").is_empty(), "{direct:#}");
    // The reply of an inspected request fails the same way.
    let reply = trace(
        &t,
        "tcp 192.0.2.9:50000 -> 203.0.113.20:443",
        &["--return", "--param", "WebReturn=direct"],
    );
    assert_verdict(&reply, "DELIVERED", None, "Web");
    assert_verdict(
        &reply["return"],
        "DROPPED",
        Some("APPLIANCE_BYPASSED"),
        "InternetGateway",
    );
    let no_ip = trace(
        &t,
        "tcp 192.0.2.9:50000 -> 203.0.113.20:443",
        &["--param", "FirewallPublicIp=false"],
    );
    assert_verdict(
        &no_ip,
        "DROPPED",
        Some("INGRESS_APPLIANCE_NO_PUBLIC_IP"),
        "Firewall",
    );
}

/// A gateway route table on a virtual private gateway: traffic from the office to the server
/// subnet crosses the firewall, and so does the reply.
#[test]
fn vgw_edge_route_table_steers_through_the_firewall() {
    let t = tgw("vgw-ingress.yaml");
    let v = trace(&t, "tcp 192.168.1.7:50000 -> 10.0.1.20:22", &["--return"]);
    assert_verdict(&v, "DELIVERED", None, "Server");
    assert!(
        rule_of(&v, "route", "EdgeRouteTable").contains("Firewall"),
        "{v:#}"
    );
    assert_eq!(at_stage(&v, "appliance"), strs(&["Firewall"]), "{v:#}");
    let r = &v["return"];
    assert_verdict(r, "EXITED", None, "Vgw");
    assert_eq!(at_stage(r, "appliance"), strs(&["Firewall"]), "{r:#}");
}

/// Loading refuses gateway route tables AWS refuses (SPEC §2.5): a route to a NAT gateway or an
/// internet gateway in a table associated with an internet gateway.
#[test]
fn gateway_route_table_with_a_bad_target_is_refused() {
    let dir = TempDir::new().unwrap();
    let src = std::fs::read_to_string(ex("ingress-inspection.yaml")).unwrap();
    let bad = src.replace(
        "DestinationCidrBlock: 10.0.1.0/24, InstanceId: !Ref Firewall",
        "DestinationCidrBlock: 10.0.1.0/24, GatewayId: !Ref InternetGateway",
    );
    assert_ne!(bad, src, "the example changed: update this test");
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, bad).unwrap();
    let out = vpcsim(["validate", "-t", path.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("gateway route table"), "{all}");
    assert!(all.contains("WebSubnetViaFirewall"), "{all}");
}

// ---------------------------------------------------------------------------------------------
// Replay

/// A generated capture on the hub-and-spoke example replays with the verdicts trace gives:
/// spoke-to-spoke HTTPS and pings arrive (through a firewall), and flow logs are written only
/// for interfaces — the transit gateway has none of its own.
#[test]
fn replay_through_the_transit_gateway() {
    let dir = TempDir::new().unwrap();
    let pcap = dir.path().join("hub.pcap");
    let out = dir.path().join("out");
    let t = ex("hub-and-spoke.yaml");
    let g = vpcsim([
        "gen",
        "-t",
        t.to_str().unwrap(),
        "--flows",
        "200",
        "--out",
        pcap.to_str().unwrap(),
    ]);
    assert_eq!(g.code, 0, "{}", g.stderr);
    let r = vpcsim([
        "replay",
        "-t",
        t.to_str().unwrap(),
        "--in",
        pcap.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let d = &summary["dispositions"];
    let delivered = d["DELIVERED"].as_u64().unwrap_or(0);
    assert!(delivered > 0, "{summary:#}");
    let total: u64 = d
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(total, summary["packets"].as_u64().unwrap(), "{summary:#}");
    // Every verdict names a resource of the topology and agrees with trace for its packet.
    let verdicts = std::fs::read_to_string(out.join("verdicts.jsonl")).unwrap();
    let mut through_tgw = 0;
    for line in verdicts.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let p = &v["packet"];
        if p["protocol"] != "tcp" || v["disposition"] != "DELIVERED" {
            continue;
        }
        let (src, dst) = (p["src"].as_str().unwrap(), p["dst"].as_str().unwrap());
        let owner = match dst {
            "10.1.1.10" => "App",
            "10.2.1.10" => "Web",
            "10.100.1.10" => "FirewallA",
            "10.100.2.10" => "FirewallB",
            other => panic!("delivered to an address nobody owns: {other}: {v}"),
        };
        assert_eq!(v["delivered_to"], owner, "{v}");
        let spoke = |a: &str| a.starts_with("10.1.") || a.starts_with("10.2.");
        if spoke(src) && spoke(dst) {
            through_tgw += 1;
        }
    }
    assert!(
        through_tgw > 0,
        "no spoke-to-spoke TCP delivered: {summary:#}"
    );
    let logs: Vec<String> = std::fs::read_dir(out.join("flowlogs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!logs.is_empty());
    for l in &logs {
        assert!(
            ["App.log", "Web.log", "FirewallA.log", "FirewallB.log"].contains(&l.as_str()),
            "flow log for a non-interface: {l}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// README

/// Split a console command line the way a shell would for the README's commands: words, with
/// single-quoted strings kept whole.
fn shell_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// Every `vpcsim` command in the README's "Transit gateways, VPN and ingress routing" section
/// prints what the README shows (a block with an elided middle must end with the part shown).
#[test]
fn readme_section_shows_real_output() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("## Transit gateways, VPN and ingress routing")
        .expect("README section");
    let rest = &readme[start + 3..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let mut checked = 0;
    for block in section.split("```console\n").skip(1) {
        let block = &block[..block.find("```").unwrap()];
        let (cmd, shown) = block.split_once('\n').unwrap();
        let words = shell_words(cmd.strip_prefix("$ vpcsim ").expect("a vpcsim command"));
        let out = vpcsim(&words);
        let printed = out.stdout.trim_end();
        let shown = shown.trim_end();
        match shown.split_once(") ...\n\n") {
            Some((_, tail)) => assert!(printed.ends_with(tail), "{cmd}:\n{printed}"),
            None => assert_eq!(printed, shown, "{cmd}"),
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} commands in the section");
}

/// Transit gateway attachments vpcsim does not simulate (here a peering whose peer transit
/// gateway is not in the loaded templates) never fail the load: routes to them warn and act as
/// blackholes, associations and propagations naming them warn and are ignored.
#[test]
fn unsimulated_attachments_warn_and_blackhole() {
    let dir = TempDir::new().unwrap();
    let src = std::fs::read_to_string(tgw("route-priority.yaml")).unwrap();
    let with_peer = src.replacen(
        "  Blackhole9:",
        "  Peer:
    Type: AWS::EC2::TransitGatewayPeeringAttachment
    Properties: { TransitGatewayId: !Ref Tgw, PeerTransitGatewayId: tgw-0123456789abcdef0, PeerAccountId: \"123456789012\", PeerRegion: us-west-2 }
  ToPeer:
    Type: AWS::EC2::TransitGatewayRoute
    Properties: { TransitGatewayRouteTableId: !Ref RouteTableX, DestinationCidrBlock: 10.70.0.0/16, TransitGatewayAttachmentId: !Ref Peer }
  PeerPropagation:
    Type: AWS::EC2::TransitGatewayRouteTablePropagation
    Properties: { TransitGatewayAttachmentId: !Ref Peer, TransitGatewayRouteTableId: !Ref ReturnTable }
  Blackhole9:",
        1,
    );
    assert_ne!(with_peer, src);
    let path = dir.path().join("peer.yaml");
    std::fs::write(&path, with_peer).unwrap();
    let out = vpcsim(["validate", "-t", path.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("ToPeer: UnsupportedOperation")
            && out.stdout.contains("PeerPropagation: UnsupportedOperation")
            && out.stdout.contains(
                "Peer: UnsupportedOperation: peer transit gateway tgw-0123456789abcdef0 is not in the loaded templates"
            ),
        "{}",
        out.stdout
    );
    let v = trace(
        &path,
        "tcp 10.0.1.10:40000 -> 10.70.0.1:443",
        &["--from", "AttachX"],
    );
    assert_verdict(&v, "DROPPED", Some("TGW_BLACKHOLE_ROUTE"), "RouteTableX");
}

// ---------------------------------------------------------------------------------------------
// Transit gateway peering (SPEC §9.1, §9.2): `tests/fixtures/tgw/peering.yaml`

/// A request crosses from TgwA to TgwB over the peering (TableA's static route to the peering,
/// then TableB, the table associated with the peering's TgwB side), and its reply comes back
/// through TableB's static route and TableA.
#[test]
fn tgw_peering_request_and_reply_cross_the_peering() {
    let v = trace(
        &tgw("peering.yaml"),
        "tcp 10.1.1.10:40000 -> 10.2.1.10:443",
        &["--return"],
    );
    assert_verdict(&v, "DELIVERED", None, "AppB");
    assert_eq!(
        at_stage(&v, "tgw-route"),
        strs(&["TableA", "TableB"]),
        "{v:#}"
    );
    assert_eq!(
        at_stage(&v, "tgw-attachment"),
        strs(&["AttachA", "Peering", "AttachB"]),
        "{v:#}"
    );
    assert!(
        rule_of(&v, "tgw-route", "TableA").contains("10.2.0.0/16 → Peering (AToB)"),
        "{v:#}"
    );
    let r = &v["return"];
    assert_verdict(r, "DELIVERED", None, "AppA");
    assert_eq!(
        at_stage(r, "tgw-route"),
        strs(&["TableB", "TableA"]),
        "{r:#}"
    );
    assert!(
        rule_of(r, "tgw-route", "TableB").contains("10.1.0.0/16 → Peering (BToA)"),
        "{r:#}"
    );
}

/// Each owner must add a static route to the peering (AWS: "The owner of the accepter transit
/// gateway must also add a static route"): without TableB's route back, the request arrives but
/// the reply is dropped at TableB.
#[test]
fn tgw_peering_without_the_peer_side_static_route_drops_the_reply_at_the_peer() {
    let v = trace(
        &tgw("peering.yaml"),
        "tcp 10.1.1.10:40000 -> 10.2.1.10:443",
        &["--return", "--param", "PeerReturnRoute=absent"],
    );
    assert_verdict(&v, "DELIVERED", None, "AppB");
    assert_verdict(&v["return"], "DROPPED", Some("TGW_NO_ROUTE"), "TableB");
    // The fix is the static route AWS asks the accepter's owner for.
    let f = trace(
        &tgw("peering.yaml"),
        "tcp 10.2.1.10:443 -> 10.1.1.10:40000",
        &["--param", "PeerReturnRoute=absent", "--fixes"],
    );
    let fix = f["explanation"]["fix"].as_str().unwrap_or_default();
    assert!(
        fix.contains("10.1.0.0/16 → Peering") && fix.contains("TableB"),
        "{f:#}"
    );
    assert_eq!(f["fixes"]["then"], "DELIVERED", "{f:#}");
}

/// What arrives over the peering is routed by the table associated with the peering on the
/// receiving side; with none there, it is dropped at the attachment.
#[test]
fn tgw_peering_without_an_association_on_the_peer_side_drops_on_arrival() {
    let v = trace(
        &tgw("peering.yaml"),
        "tcp 10.1.1.10:40000 -> 10.2.1.10:443",
        &["--param", "PeerAssociation=absent"],
    );
    assert_verdict(&v, "DROPPED", Some("TGW_NO_ASSOCIATION"), "Peering");
    assert_eq!(
        at_stage(&v, "tgw-route"),
        strs(&["TableA", "Peering"]),
        "{v:#}"
    );
}

/// A peering attachment propagates nothing: a propagation of it warns and installs no route, so
/// without the static route the reply is still dropped at TableB.
#[test]
fn tgw_peering_propagation_installs_nothing() {
    let t = tgw("peering.yaml");
    let params = [
        "--param",
        "PeerPropagation=present",
        "--param",
        "PeerReturnRoute=absent",
    ];
    let mut args = vec!["validate", "-t", t.to_str().unwrap()];
    args.extend(params);
    let out = vpcsim(&args);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "PeeringPropagationB: UnsupportedOperation: a peering attachment propagates no routes"
        ),
        "{}",
        out.stdout
    );
    let v = trace(&t, "tcp 10.2.1.10:443 -> 10.1.1.10:40000", &params);
    assert_verdict(&v, "DROPPED", Some("TGW_NO_ROUTE"), "TableB");
}

/// One peering between two transit gateways (SPEC §9.1), a gateway does not peer with itself,
/// and `PeerRegion` must be the peer's Region.
#[test]
fn tgw_peering_twice_or_with_itself_is_refused() {
    let dir = TempDir::new().unwrap();
    let src = std::fs::read_to_string(tgw("peering.yaml")).unwrap();
    let extra = "  PeeringAgain:
    Type: AWS::EC2::TransitGatewayPeeringAttachment
    Properties: { TransitGatewayId: !Ref TgwB, PeerTransitGatewayId: !Ref TgwA, PeerAccountId: !Ref AWS::AccountId, PeerRegion: !Ref AWS::Region }
  PeeringSelf:
    Type: AWS::EC2::TransitGatewayPeeringAttachment
    Properties: { TransitGatewayId: !Ref TgwA, PeerTransitGatewayId: !Ref TgwA, PeerAccountId: !Ref AWS::AccountId, PeerRegion: !Ref AWS::Region }
  PeeringElsewhere:
    Type: AWS::EC2::TransitGatewayPeeringAttachment
    Properties: { TransitGatewayId: !Ref TgwB, PeerTransitGatewayId: !Ref TgwA, PeerAccountId: !Ref AWS::AccountId, PeerRegion: us-west-2 }
  TableA:";
    let doubled = src.replacen("  TableA:", extra, 1);
    assert_ne!(doubled, src);
    let path = dir.path().join("twice.yaml");
    std::fs::write(&path, doubled).unwrap();
    let out = vpcsim(["validate", "-t", path.to_str().unwrap()]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("PeeringAgain: DuplicateTransitGatewayAttachment")
            && out.stdout.contains("PeeringSelf: InvalidParameterValue")
            && out
                .stdout
                .contains("PeeringElsewhere: InvalidParameterValue: property PeerRegion"),
        "{}",
        out.stdout
    );
}

/// With `DefaultRouteTableAssociation: enable` on the peer transit gateway, its side of the
/// peering joins the default route table (and propagates nothing into it): a packet crossing
/// is looked up there, not dropped for a missing association.
#[test]
fn tgw_peering_side_joins_the_default_route_table() {
    let dir = TempDir::new().unwrap();
    let src = std::fs::read_to_string(tgw("peering.yaml")).unwrap();
    let extra = "  TgwC:
    Type: AWS::EC2::TransitGateway
  PeeringC:
    Type: AWS::EC2::TransitGatewayPeeringAttachment
    Properties: { TransitGatewayId: !Ref TgwA, PeerTransitGatewayId: !Ref TgwC, PeerAccountId: !Ref AWS::AccountId, PeerRegion: !Ref AWS::Region }
  AToC:
    Type: AWS::EC2::TransitGatewayRoute
    Properties: { TransitGatewayRouteTableId: !Ref TableA, DestinationCidrBlock: 10.3.0.0/16, TransitGatewayAttachmentId: !Ref PeeringC }
  TableA:";
    let with_c = src.replacen("  TableA:", extra, 1);
    assert_ne!(with_c, src);
    let path = dir.path().join("three.yaml");
    std::fs::write(&path, with_c).unwrap();
    let v = trace(&path, "tcp 10.1.1.10:40000 -> 10.3.0.5:443", &[]);
    assert_verdict(
        &v,
        "DROPPED",
        Some("TGW_NO_ROUTE"),
        "TgwC.DefaultRouteTable",
    );
    assert_eq!(
        at_stage(&v, "tgw-attachment"),
        strs(&["AttachA", "PeeringC"]),
        "{v:#}"
    );
}
