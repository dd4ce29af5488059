//! Every drop reason the pipeline can emit, triggered through the real `vpcsim` binary.
//!
//! Each test asserts the disposition, the reason and the resource the verdict blames (`at`, a
//! logical id), and where it helps a positive control: the same scenario with the fix delivers.
//! Topologies are `examples/two-tier.yaml` and the small templates in `tests/fixtures/drops/`
//! (each one's description says what it is for). Tests name the SPEC §17 vector they implement.
//!
//! Who is blamed: a security group when the interface has exactly one, else the instance (the
//! union of its groups denied); the NACL for NACL drops; the route table for route drops; the
//! NatGateway, InternetGateway, egress-only gateway or peering connection for their own drops;
//! the instance for source/destination checks, TTL and connection tracking; `internet` for
//! frames that never reach the topology (unparsable, unmapped, orphan fragments).

mod common;

use common::*;
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use vpcsim_dataplane::verdict::DropReason;

/// Every reason, with the tests below that trigger it through the binary.
const COVERED: &[(&str, &[&str])] = &[
    (
        "SG_EGRESS_DENIED",
        &[
            "sg_egress_denied_blames_the_single_group",
            "sg_egress_denied_with_several_groups_blames_the_instance",
        ],
    ),
    (
        "SG_INGRESS_DENIED",
        &[
            "sg_ingress_denied_blames_the_single_group",
            "sg_ingress_denied_with_several_groups_blames_the_instance",
        ],
    ),
    (
        "NACL_EGRESS_DENIED",
        &[
            "nacl_egress_denied_by_the_star_rule",
            "nacl_egress_denies_replies_to_ports_it_does_not_allow",
        ],
    ),
    (
        "NACL_INGRESS_DENIED",
        &["nacl_ingress_denied_by_the_lowest_matching_rule"],
    ),
    (
        "NO_ROUTE",
        &[
            "no_route_without_a_matching_route",
            "no_route_for_link_local_destinations",
        ],
    ),
    (
        "BLACKHOLE_ROUTE",
        &["blackhole_route_to_a_deleted_nat_gateway"],
    ),
    (
        "SOURCE_DEST_CHECK",
        &[
            "source_dest_check_outbound_with_a_foreign_source",
            "source_dest_check_at_an_appliance",
        ],
    ),
    (
        "NO_PUBLIC_IP",
        &["no_public_ip_when_a_private_address_is_routed_to_the_igw"],
    ),
    ("NOT_MAPPED", &["not_mapped_public_address"]),
    (
        "NAT_NO_SESSION",
        &[
            "nat_no_session_for_unsolicited_inbound",
            "nat_no_session_for_tcp_without_syn",
        ],
    ),
    (
        "NAT_PORTS_EXHAUSTED",
        &[
            "nat_ports_exhausted_after_55000_connections_to_one_destination",
            "nat_secondary_eip_takes_connections_55001_to_110000",
        ],
    ),
    (
        "NAT_UNSUPPORTED",
        &[
            "nat_unsupported_protocols",
            "nat_unsupported_fragmented_tcp",
        ],
    ),
    ("EGRESS_ONLY", &["egress_only_gateway_refuses_inbound_ipv6"]),
    ("PEERING_NOT_TRANSITIVE", &["peering_is_not_transitive"]),
    ("TTL_EXCEEDED", &["ttl_exceeded_at_an_appliance"]),
    ("MALFORMED", &["malformed_and_unsupported_frames"]),
    ("UNSUPPORTED", &["malformed_and_unsupported_frames"]),
    (
        "NO_DESTINATION",
        &["no_destination_for_an_address_nobody_owns"],
    ),
    ("IGW_PRIVATE_ADDRESS", &["igw_drops_private_addresses"]),
    (
        "CONNTRACK_FULL",
        &["conntrack_full_refuses_new_connections"],
    ),
    (
        "FRAGMENT_ORPHAN",
        &["fragment_orphan_without_its_first_fragment"],
    ),
    (
        "FRAGMENT_TABLE_FULL",
        &["fragment_table_full_refuses_new_datagrams"],
    ),
    ("NAT_TABLE_FULL", &["nat_table_full_refuses_new_sessions"]),
    (
        "NLB_FLOW_TABLE_FULL",
        &["nlb_flow_table_full_refuses_new_flows"],
    ),
    (
        "TGW_NO_ATTACHMENT_IN_AZ",
        &["tgw_no_attachment_in_the_senders_zone"],
    ),
    (
        "TGW_NO_ASSOCIATION",
        &["tgw_attachment_without_an_association"],
    ),
    ("TGW_NO_ROUTE", &["tgw_no_route_without_propagation"]),
    (
        "TGW_BLACKHOLE_ROUTE",
        &["tgw_blackhole_route_drops_without_fallback"],
    ),
    ("VGW_NO_ROUTE", &["vgw_no_route_for_an_unknown_prefix"]),
    (
        "VGW_SOURCE_NOT_IN_VPC",
        &["vgw_carries_only_its_own_vpcs_traffic"],
    ),
    (
        "APPLIANCE_BYPASSED",
        &["appliance_bypassed_when_replies_skip_the_firewall"],
    ),
    (
        "VPCE_GATEWAY_PROTOCOL",
        &["vpce_gateway_carries_only_tcp_and_icmp_echo"],
    ),
    (
        "VPCE_NOT_INITIATOR",
        &["vpce_interface_endpoint_never_initiates"],
    ),
    (
        "INGRESS_APPLIANCE_NO_PUBLIC_IP",
        &["ingress_appliance_without_a_public_ip"],
    ),
    ("NLB_NO_LISTENER", &["nlb_no_listener_on_the_port"]),
    ("ALB_NO_LISTENER", &["alb_no_listener_on_the_port"]),
    (
        "HOST_PORT_CLOSED",
        &["host_port_closed_answers_a_syn_with_rst"],
    ),
    (
        "WAF_BLOCKED",
        &["waf_blocked_by_the_load_balancers_web_acl"],
    ),
    (
        "NLB_NO_TARGET",
        &[
            "nlb_no_target_in_the_nodes_zone_without_cross_zone",
            "nlb_no_target_registered",
        ],
    ),
    ("GWLB_MTU_EXCEEDED", &["gwlb_mtu_is_8500_bytes"]),
    (
        "TGW_MTU_EXCEEDED",
        &["tgw_mtu_is_8500_bytes_across_a_peering"],
    ),
    (
        "GWLB_NO_TARGET",
        &[
            "gwlb_no_target_in_the_nodes_zone_without_cross_zone",
            "gwlb_no_target_registered",
        ],
    ),
    (
        "NETWORK_FIREWALL_DROPPED",
        &["network_firewall_drops_by_rule_and_midstream"],
    ),
    (
        "NETWORK_FIREWALL_REJECTED",
        &["network_firewall_rejects_telnet"],
    ),
    (
        "NETWORK_FIREWALL_NOT_EVALUABLE",
        &["network_firewall_rule_with_an_unsupported_keyword"],
    ),
];

/// The list above names every reason the data plane defines, and only those.
#[test]
fn every_drop_reason_is_covered() {
    let listed: HashSet<&str> = COVERED.iter().map(|(r, _)| *r).collect();
    assert_eq!(listed.len(), COVERED.len(), "a reason is listed twice");
    for r in DropReason::ALL {
        assert!(
            listed.contains(r.as_str()),
            "{r} has no test in drop_reasons.rs"
        );
    }
    for r in &listed {
        assert!(
            DropReason::from_code(r).is_some(),
            "{r} is not a drop reason"
        );
    }
    let source = std::fs::read_to_string(root().join("tests/drop_reasons.rs")).unwrap();
    for (reason, tests) in COVERED {
        for t in *tests {
            assert!(
                source.contains(&format!("fn {t}()")),
                "{reason}: no test named {t}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn drops(name: &str) -> PathBuf {
    fixture(&format!("drops/{name}"))
}

fn assert_dropped(v: &Value, reason: &str, at: &str) {
    assert_verdict(v, "DROPPED", Some(reason), at);
}

fn assert_delivered(v: &Value, to: &str) {
    assert_verdict(v, "DELIVERED", None, to);
}

fn assert_exited(v: &Value, via: &str) {
    assert_verdict(v, "EXITED", None, via);
}

/// The source address a flow has when it leaves the topology (the public IP the internet sees).
fn exit_source(topology: &Path, flow: &str) -> String {
    let v = trace(topology, flow, &[]);
    assert_eq!(v["disposition"], "EXITED", "{v:#}");
    v["packet"]["src"].as_str().unwrap().to_string()
}

fn summary(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

/// An Ethernet frame carrying a hand-built IPv4 packet (for fragments, which the pcap builders
/// cannot make). `offset` is in 8-byte units; the header checksum is correct.
fn ipv4_frame(
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    id: u16,
    more_fragments: bool,
    offset: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&(20 + payload.len() as u16).to_be_bytes());
    ip.extend_from_slice(&id.to_be_bytes());
    ip.extend_from_slice(&((u16::from(more_fragments) << 13) | offset).to_be_bytes());
    ip.extend_from_slice(&[64, proto, 0, 0]);
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let sum = ip
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>();
    let sum = (sum & 0xffff) + (sum >> 16);
    let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    ip.extend_from_slice(payload);
    ethernet(0x0800, &ip)
}

/// The hand-built header is one etherparse accepts and whose checksum it agrees with.
#[test]
fn ipv4_frame_builds_valid_fragments() {
    let f = ipv4_frame(
        [10, 0, 2, 30],
        [8, 8, 8, 8],
        17,
        0x3333,
        true,
        185,
        &[0xdd; 8],
    );
    let h = etherparse::Ipv4HeaderSlice::from_slice(&f[14..]).unwrap();
    assert_eq!(h.header_checksum(), h.to_header().calc_header_checksum());
    assert_eq!(
        (h.fragments_offset().value(), h.more_fragments()),
        (185, true)
    );
    assert_eq!(
        (h.identification(), h.total_len(), h.protocol().0),
        (0x3333, 28, 17)
    );
}

fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A TCP header (no options) with the given flags, then `data`.
fn tcp_segment(sport: u16, dport: u16, flags: u8, data: &[u8]) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&1000u32.to_be_bytes());
    s.extend_from_slice(&0u32.to_be_bytes());
    s.extend_from_slice(&[5 << 4, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    s.extend_from_slice(data);
    s
}

/// A UDP header announcing a datagram of `total` bytes (header included), then `data`.
fn udp_header(sport: u16, dport: u16, total: u16, data: &[u8]) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&total.to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(data);
    s
}

const T0: u64 = 1_700_000_000 * 1_000_000_000;
const SECOND: u64 = 1_000_000_000;

fn at(ts_ns: u64, data: Vec<u8>) -> Frame {
    Frame { ts_ns, data }
}

/// Write `frames` as an Ethernet pcap in a fresh temporary directory and replay it.
fn replay_frames(topology: &Path, frames: &[Frame], extra: &[&str]) -> (TempDir, Vec<Value>) {
    let dir = TempDir::new().unwrap();
    let pcap = dir.path().join("in.pcap");
    write_pcap(&pcap, 1, frames);
    let out = dir.path().join("out");
    let v = replay(topology, &pcap, &out, extra);
    assert_eq!(v.len(), frames.len(), "one verdict line per frame");
    (dir, v)
}

// ---------------------------------------------------------------------------------------------
// Security groups

/// A single group on the interface: the group is blamed. LockedSg allows TCP 443, 8080 and ping
/// out, so SSH out is denied; HTTPS out is the control.
#[test]
fn sg_egress_denied_blames_the_single_group() {
    let t = drops("security-groups.yaml");
    assert_dropped(
        &trace(&t, "tcp 10.0.1.10:40000 -> 10.0.1.20:22", &[]),
        "SG_EGRESS_DENIED",
        "LockedSg",
    );
    assert_delivered(
        &trace(&t, "tcp 10.0.1.10:40000 -> 10.0.1.20:443", &[]),
        "Peer",
    );
}

/// Several groups: the union denied, so the instance is blamed.
#[test]
fn sg_egress_denied_with_several_groups_blames_the_instance() {
    let t = drops("security-groups.yaml");
    assert_dropped(
        &trace(&t, "tcp 10.0.1.30:40000 -> 10.0.1.20:22", &[]),
        "SG_EGRESS_DENIED",
        "Multi",
    );
    assert_delivered(
        &trace(&t, "tcp 10.0.1.30:40000 -> 10.0.1.20:443", &[]),
        "Peer",
    );
}

/// SPEC §17 vector 3 (control) and its negative: the internet reaches the web server's Elastic IP
/// on 443, not on 8080 (the public NACL admits 1024-65535, WebSg does not).
#[test]
fn sg_ingress_denied_blames_the_single_group() {
    let ex = example();
    let web = exit_source(&ex, "tcp 10.0.1.20:40000 -> 198.51.100.7:443");
    assert_dropped(
        &trace(&ex, &format!("tcp 192.0.2.9:50000 -> {web}:8080"), &[]),
        "SG_INGRESS_DENIED",
        "WebSg",
    );
    let ok = trace(&ex, &format!("tcp 192.0.2.9:50000 -> {web}:443"), &[]);
    assert_delivered(&ok, "WebInstance");
    assert_eq!(ok["packet"]["dst"], "10.0.1.20", "{ok:#}");

    let t = drops("security-groups.yaml");
    assert_dropped(
        &trace(&t, "tcp 10.0.1.10:40000 -> 10.0.1.20:8080", &[]),
        "SG_INGRESS_DENIED",
        "PeerSg",
    );
}

/// AppInstanceA has AppSg and AppSg2: neither admits TCP 9000 from the web tier.
#[test]
fn sg_ingress_denied_with_several_groups_blames_the_instance() {
    let ex = example();
    assert_dropped(
        &trace(&ex, "tcp 10.0.1.20:40000 -> 10.0.2.30:9000", &[]),
        "SG_INGRESS_DENIED",
        "AppInstanceA",
    );
    assert_delivered(
        &trace(&ex, "tcp 10.0.1.20:40000 -> 10.0.2.30:8080", &[]),
        "AppInstanceA",
    );

    let t = drops("security-groups.yaml");
    assert_dropped(
        &trace(&t, "tcp 10.0.1.10:40000 -> 10.0.1.30:8080", &[]),
        "SG_INGRESS_DENIED",
        "Multi",
    );
    assert_delivered(
        &trace(&t, "tcp 10.0.1.10:40000 -> 10.0.1.30:443", &[]),
        "Multi",
    );
}

/// SPEC §17 vector 34: Peer's group has no usable outbound rule, yet the echo reply leaves
/// (ICMP is tracked); the same group cannot start anything itself.
#[test]
fn sg_replies_leave_without_an_outbound_rule() {
    let t = drops("security-groups.yaml");
    let v = trace(&t, "icmp 10.0.1.10 -> 10.0.1.20", &["--return"]);
    assert_delivered(&v, "Peer");
    assert_delivered(&v["return"], "Locked");
    assert_dropped(
        &trace(&t, "icmp 10.0.1.20 -> 10.0.1.10", &[]),
        "SG_EGRESS_DENIED",
        "PeerSg",
    );
}

// ---------------------------------------------------------------------------------------------
// Network ACLs

/// SPEC §17 vectors 12 and 13: a NACL with only the `*` rules on PrivSubnet denies App → App2
/// (other subnet) on the way out, and logs REJECT on App; App → AppB in the same subnet never
/// meets the NACL and is delivered.
#[test]
fn nacl_egress_denied_by_the_star_rule() {
    let t = drops("nacl.yaml");
    assert_dropped(
        &trace(&t, "tcp 10.0.2.30:40000 -> 10.0.3.40:8080", &[]),
        "NACL_EGRESS_DENIED",
        "StarNacl",
    );
    let same = trace(&t, "tcp 10.0.2.30:40000 -> 10.0.2.31:8080", &["--return"]);
    assert_delivered(&same, "AppB");
    assert_delivered(&same["return"], "App");

    // Flow logs: the denied packet is a REJECT row on App's interface.
    let (dir, v) = replay_frames(
        &t,
        &frames(vec![tcp("10.0.2.30", 40000, "10.0.3.40", 8080, 2, b"")]),
        &[],
    );
    assert_eq!(v[0]["reason"], "NACL_EGRESS_DENIED");
    assert_eq!(v[0]["at"], "StarNacl");
    let log = std::fs::read_to_string(dir.path().join("out/flowlogs/App.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("10.0.2.30 10.0.3.40 40000 8080 6 ") && l.contains(" REJECT ")),
        "no REJECT row for App:\n{log}"
    );
}

/// SPEC §17 vector 15: inbound 90 deny TCP 22, 100 allow TCP from the VPC → SSH denied;
/// renumbered to 110 the deny comes after the allow → SSH delivered. The `*` rule of StarNacl
/// denies inbound too.
#[test]
fn nacl_ingress_denied_by_the_lowest_matching_rule() {
    let t = drops("nacl.yaml");
    let ssh = "tcp 10.0.1.10:40000 -> 10.0.3.40:22";
    assert_dropped(&trace(&t, ssh, &[]), "NACL_INGRESS_DENIED", "Priv2Nacl");
    assert_delivered(&trace(&t, ssh, &["--param", "DenySshRule=110"]), "App2");
    assert_dropped(
        &trace(&t, "tcp 10.0.3.40:40000 -> 10.0.2.30:8080", &[]),
        "NACL_INGRESS_DENIED",
        "StarNacl",
    );

    // The example: SSH to the web server from outside the admin range.
    let ex = example();
    let web = exit_source(&ex, "tcp 10.0.1.20:40000 -> 198.51.100.7:443");
    assert_dropped(
        &trace(&ex, &format!("tcp 192.0.2.9:50000 -> {web}:22"), &[]),
        "NACL_INGRESS_DENIED",
        "PublicNacl",
    );
    assert_delivered(
        &trace(&ex, &format!("tcp 203.0.113.9:50000 -> {web}:22"), &[]),
        "WebInstance",
    );
}

/// SPEC §17 vector 14: Priv2Nacl lets replies out to TCP 1024-65535 → request and reply pass;
/// with the range narrowed to 49152-65535 the reply to port 40000 is denied on its way out.
#[test]
fn nacl_egress_denies_replies_to_ports_it_does_not_allow() {
    let t = drops("nacl.yaml");
    let flow = "tcp 10.0.1.10:40000 -> 10.0.3.40:8080";
    let ok = trace(&t, flow, &["--return"]);
    assert_delivered(&ok, "App2");
    assert_delivered(&ok["return"], "Client");
    let narrow = trace(&t, flow, &["--return", "--param", "ReplyPortFrom=49152"]);
    assert_delivered(&narrow, "App2");
    assert_dropped(&narrow["return"], "NACL_EGRESS_DENIED", "Priv2Nacl");
}

// ---------------------------------------------------------------------------------------------
// Routes

/// A route table with only the local route: nothing leaves the VPC.
#[test]
fn no_route_without_a_matching_route() {
    let t = drops("routes.yaml");
    assert_dropped(
        &trace(&t, "udp 10.0.5.10:40000 -> 8.8.8.8:53", &[]),
        "NO_ROUTE",
        "IsolatedRouteTable",
    );
    assert_delivered(
        &trace(&t, "tcp 10.0.5.10:40000 -> 10.0.1.20:443", &[]),
        "EipInstance",
    );
}

/// SPEC §17 vector 23: link-local destinations other than the host services are never
/// forwarded, whatever the routes (the private tier's default route points at the NAT gateway);
/// IMDS is still answered.
#[test]
fn no_route_for_link_local_destinations() {
    let ex = example();
    assert_dropped(
        &trace(&ex, "tcp 10.0.2.30:40000 -> 169.254.168.5:443", &[]),
        "NO_ROUTE",
        "PrivateRouteTable",
    );
    assert_delivered(
        &trace(&ex, "tcp 10.0.2.30:40000 -> 169.254.169.254:80", &[]),
        "InstanceMetadataService",
    );
}

/// SPEC §17 vector 21: a route to a deleted NAT gateway is a blackhole, and the packet does not
/// fall back to the less specific route to the internet gateway (which other addresses use).
#[test]
fn blackhole_route_to_a_deleted_nat_gateway() {
    let t = drops("routes.yaml");
    assert_dropped(
        &trace(&t, "udp 10.0.1.20:40000 -> 8.8.8.8:53", &[]),
        "BLACKHOLE_ROUTE",
        "EdgeRouteTable",
    );
    assert_exited(
        &trace(&t, "udp 10.0.1.20:40000 -> 8.8.4.4:53", &[]),
        "InternetGateway",
    );
}

// ---------------------------------------------------------------------------------------------
// Source/destination check, appliances, TTL

/// SPEC §0.2 step 1 and §17 vector 37 (second half): an interface with the check on may not
/// send with a source it does not own.
#[test]
fn source_dest_check_outbound_with_a_foreign_source() {
    let ex = example();
    let b = trace(&ex, "tcp 10.0.3.4:40000 -> 93.184.216.34:443", &[]);
    assert_eq!(
        b["hops"][0]["resource"], "AppInstanceB",
        "10.0.3.4 is AppInstanceB: {b:#}"
    );
    assert_exited(&b, "InternetGateway");
    assert_dropped(
        &trace(
            &ex,
            "tcp 10.0.3.99:40000 -> 93.184.216.34:443",
            &["--from", "AppInstanceB"],
        ),
        "SOURCE_DEST_CHECK",
        "AppInstanceB",
    );

    // The appliance forwarding a packet of the server's (vector 37): dropped with the check on,
    // delivered with it off.
    let t = drops("appliance.yaml");
    let spoof = "tcp 10.0.3.40:443 -> 10.0.1.10:40000";
    assert_dropped(
        &trace(&t, spoof, &["--from", "Appliance"]),
        "SOURCE_DEST_CHECK",
        "Appliance",
    );
    assert_delivered(
        &trace(
            &t,
            spoof,
            &[
                "--from",
                "Appliance",
                "--param",
                "ApplianceSourceDestCheck=false",
            ],
        ),
        "Client",
    );
}

/// SPEC §17 vectors 22 and 37: the client subnet routes the server subnet through Appliance; with
/// its check on, the routed packet (not addressed to it) is dropped at the appliance; off, it is
/// forwarded and delivered.
#[test]
fn source_dest_check_at_an_appliance() {
    let t = drops("appliance.yaml");
    let flow = "tcp 10.0.1.10:40000 -> 10.0.3.40:443";
    let v = trace(&t, flow, &[]);
    assert_dropped(&v, "SOURCE_DEST_CHECK", "Appliance");
    assert!(
        v["hops"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["resource"] == "ClientRouteTable"
                && h["rule"]
                    .as_str()
                    .is_some_and(|r| r.contains("10.0.3.0/24"))),
        "the route through the appliance was used: {v:#}"
    );
    let fixed = trace(&t, flow, &["--param", "ApplianceSourceDestCheck=false"]);
    assert_delivered(&fixed, "Server");
    assert!(
        fixed["hops"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["resource"] == "Appliance"),
        "{fixed:#}"
    );
}

/// The appliance decrements the TTL when it forwards: TTL 1 expires there, TTL 2 arrives; a
/// routing loop ends the same way.
#[test]
fn ttl_exceeded_at_an_appliance() {
    let t = drops("appliance.yaml");
    let off = ["--param", "ApplianceSourceDestCheck=false"];
    assert_dropped(
        &trace(&t, "tcp 10.0.1.10:40000 -> 10.0.3.40:443 ttl 1", &off),
        "TTL_EXCEEDED",
        "Appliance",
    );
    assert_delivered(
        &trace(&t, "tcp 10.0.1.10:40000 -> 10.0.3.40:443 ttl 2", &off),
        "Server",
    );

    // A routing loop (the appliance's own subnet routes the server subnet back to it): the
    // packet goes round until it is declared looping, at the appliance.
    let looping = [
        "--param",
        "ApplianceSourceDestCheck=false",
        "--param",
        "InspectLoop=true",
    ];
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 10.0.3.40:443", &looping);
    assert_dropped(&v, "TTL_EXCEEDED", "Appliance");
    let passes = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["stage"] == "appliance")
        .count();
    assert!(passes > 2, "went round the loop: {v:#}");

    // The same through replay: the TTL comes from the captured IP header.
    let (_dir, v) = replay_frames(
        &t,
        &frames(vec![
            tcp_ttl("10.0.1.10", 40000, "10.0.3.40", 443, 2, b"", 1),
            tcp_ttl("10.0.1.10", 40001, "10.0.3.40", 443, 2, b"", 2),
        ]),
        &off,
    );
    assert_eq!(
        (&v[0]["reason"], &v[0]["at"]),
        (&Value::from("TTL_EXCEEDED"), &Value::from("Appliance"))
    );
    assert_eq!(
        (&v[1]["disposition"], &v[1]["at"]),
        (&Value::from("DELIVERED"), &Value::from("Server"))
    );
}

// ---------------------------------------------------------------------------------------------
// Internet gateway

/// SPEC §17 vector 1: a subnet without public addresses routed to the IGW; the same subnet's
/// instance with an Elastic IP gets out (vector 2: port unchanged, source = its public IP).
#[test]
fn no_public_ip_when_a_private_address_is_routed_to_the_igw() {
    let t = drops("routes.yaml");
    assert_dropped(
        &trace(&t, "tcp 10.0.1.30:40000 -> 198.51.100.7:443", &[]),
        "NO_PUBLIC_IP",
        "InternetGateway",
    );
    let ok = trace(&t, "tcp 10.0.1.20:40000 -> 198.51.100.7:443", &[]);
    assert_exited(&ok, "InternetGateway");
    assert_eq!(ok["packet"]["src_port"], 40000, "{ok:#}");
    assert_ne!(ok["packet"]["src"], "10.0.1.20", "{ok:#}");

    // Flow logs (vector 1): the instance's interface shows ACCEPT, the gateway drop is not a REJECT.
    let (dir, v) = replay_frames(
        &t,
        &frames(vec![tcp("10.0.1.30", 40000, "198.51.100.7", 443, 2, b"")]),
        &[],
    );
    assert_eq!(
        (&v[0]["reason"], &v[0]["at"]),
        (
            &Value::from("NO_PUBLIC_IP"),
            &Value::from("InternetGateway")
        )
    );
    let log = std::fs::read_to_string(dir.path().join("out/flowlogs/NoIpInstance.log")).unwrap();
    let rows: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" 40000 443 6 "))
        .collect();
    assert!(
        !rows.is_empty() && rows.iter().all(|l| l.contains(" ACCEPT ")),
        "{log}"
    );
}

/// SPEC §17 vector 4: a public address that maps to no interface. The pipeline cannot tell which
/// VPC's gateway would have seen it, so it blames `internet`. Vector 3 is the control.
#[test]
fn not_mapped_public_address() {
    let ex = example();
    assert_dropped(
        &trace(&ex, "tcp 192.0.2.9:50000 -> 203.0.113.99:443", &[]),
        "NOT_MAPPED",
        "internet",
    );
    let web = exit_source(&ex, "tcp 10.0.1.20:40000 -> 198.51.100.7:443");
    assert_delivered(
        &trace(&ex, &format!("tcp 192.0.2.9:50000 -> {web}:443"), &[]),
        "WebInstance",
    );
}

/// SPEC §17 vector 5 (egress to RFC 1918 and RFC 6598 space through the IGW) and §6.1's ingress
/// filter (a private source arriving from the internet).
#[test]
fn igw_drops_private_addresses() {
    let ex = example();
    assert_dropped(
        &trace(&ex, "tcp 10.0.1.20:40000 -> 10.1.2.3:443", &[]),
        "IGW_PRIVATE_ADDRESS",
        "InternetGateway",
    );
    assert_dropped(
        &trace(&ex, "tcp 10.0.1.20:40000 -> 100.64.1.1:443", &[]),
        "IGW_PRIVATE_ADDRESS",
        "InternetGateway",
    );
    let web = exit_source(&ex, "tcp 10.0.1.20:40000 -> 198.51.100.7:443");
    assert_dropped(
        &trace(&ex, &format!("tcp 10.9.9.9:40000 -> {web}:443"), &[]),
        "IGW_PRIVATE_ADDRESS",
        "InternetGateway",
    );
    assert_dropped(
        &trace(&ex, &format!("tcp 100.64.0.1:40000 -> {web}:443"), &[]),
        "IGW_PRIVATE_ADDRESS",
        "InternetGateway",
    );
    assert_delivered(
        &trace(&ex, &format!("tcp 192.0.2.9:40000 -> {web}:443"), &[]),
        "WebInstance",
    );
}

// ---------------------------------------------------------------------------------------------
// Local delivery

/// SPEC §17 vector 18 (model): the local route matches but no interface has the address; the
/// same inside the sender's own subnet (delivered at layer 2, so the subnet is blamed).
#[test]
fn no_destination_for_an_address_nobody_owns() {
    let ex = example();
    assert_dropped(
        &trace(&ex, "tcp 10.0.2.30:40000 -> 10.0.3.99:443", &[]),
        "NO_DESTINATION",
        "PrivateRouteTable",
    );
    assert_dropped(
        &trace(&ex, "tcp 10.0.2.30:40000 -> 10.0.2.99:443", &[]),
        "NO_DESTINATION",
        "PrivateSubnetA",
    );
    assert_eq!(
        trace(&ex, "tcp 10.0.2.30:40000 -> 10.0.3.4:8080", &[])["disposition"],
        "DELIVERED"
    );
}

// ---------------------------------------------------------------------------------------------
// NAT gateway

/// SPEC §17 vector 7: an unsolicited packet to the NAT gateway's Elastic IP. The source is in
/// the admin range so that the public NACL's SSH rule admits it and the NAT gateway decides
/// (from anywhere else the NACL drops it first). Vector 6 is the control: a reply of a
/// translated flow comes back.
#[test]
fn nat_no_session_for_unsolicited_inbound() {
    let ex = example();
    let nat = exit_source(&ex, "tcp 10.0.2.30:40000 -> 93.184.216.34:443");
    assert_dropped(
        &trace(&ex, &format!("tcp 203.0.113.9:50000 -> {nat}:22"), &[]),
        "NAT_NO_SESSION",
        "NatGateway",
    );
    assert_dropped(
        &trace(&ex, &format!("tcp 192.0.2.9:50000 -> {nat}:443"), &[]),
        "NAT_NO_SESSION",
        "NatGateway",
    );
    let dns = trace(&ex, "udp 10.0.2.30:45000 -> 8.8.8.8:53", &["--return"]);
    assert_exited(&dns, "InternetGateway");
    assert_eq!(dns["packet"]["src"], nat.as_str(), "{dns:#}");
    let port = dns["packet"]["src_port"].as_u64().unwrap();
    assert!((1024..=65535).contains(&port), "{dns:#}");
    assert_delivered(&dns["return"], "AppInstanceA");
    assert_eq!(dns["return"]["packet"]["dst"], "10.0.2.30");
    assert_eq!(dns["return"]["packet"]["dst_port"], 45000);
}

/// A TCP segment without SYN cannot open a NAT translation; SPEC §17 vector 9: after 351 s of
/// silence the next segment finds no translation, while keepalives every 300 s keep it.
#[test]
fn nat_no_session_for_tcp_without_syn() {
    const SYN: u8 = 2;
    const ACK: u8 = 16;
    let a = "10.0.2.30";
    let dst = "93.184.216.34";
    let (dir, v) = replay_frames(
        &example(),
        &[
            // 0: an ACK with no connection behind it.
            at(T0, tcp(a, 41000, dst, 443, ACK, b"data")),
            // 1, 2: two connections open.
            at(T0 + SECOND, tcp(a, 42000, dst, 443, SYN, b"")),
            at(T0 + SECOND, tcp(a, 43000, dst, 443, SYN, b"")),
            // 3: 43000 keeps its connection alive.
            at(
                T0 + 301 * SECOND,
                tcp(a, 43000, dst, 443, ACK, b"keepalive"),
            ),
            // 4: 42000 speaks again after 351 s of silence.
            at(T0 + 352 * SECOND, tcp(a, 42000, dst, 443, ACK, b"late")),
            // 5: 43000, 299 s after its keepalive.
            at(
                T0 + 600 * SECOND,
                tcp(a, 43000, dst, 443, ACK, b"still here"),
            ),
        ],
        &[],
    );
    for i in [0, 4] {
        assert_eq!(v[i]["disposition"], "DROPPED", "frame {i}: {}", v[i]);
        assert_eq!(v[i]["reason"], "NAT_NO_SESSION", "frame {i}: {}", v[i]);
        assert_eq!(v[i]["at"], "NatGateway", "frame {i}: {}", v[i]);
    }
    for i in [1, 2, 3, 5] {
        assert_eq!(v[i]["disposition"], "EXITED", "frame {i}: {}", v[i]);
    }
    assert_eq!(
        v[3]["packet"]["src_port"], v[2]["packet"]["src_port"],
        "same translation"
    );
    assert_eq!(
        v[5]["packet"]["src_port"], v[2]["packet"]["src_port"],
        "same translation"
    );
    let s = summary(&dir.path().join("out"));
    assert!(
        s["nat_gateway"]["IdleTimeoutCount"].as_u64().unwrap() >= 1,
        "{s:#}"
    );
}

/// SPEC §7.2: only TCP, UDP and ICMP echo are translated. The worker's security group and NACL
/// let everything out, so the NAT gateway is the one to refuse GRE and ICMP timestamps.
#[test]
fn nat_unsupported_protocols() {
    let t = drops("nat-two-eips.yaml");
    assert_dropped(
        &trace(&t, "47 10.0.2.30 -> 93.184.216.34", &[]),
        "NAT_UNSUPPORTED",
        "NatGateway",
    );
    assert_dropped(
        &trace(&t, "icmp 10.0.2.30 -> 93.184.216.34 type 13", &[]),
        "NAT_UNSUPPORTED",
        "NatGateway",
    );
    for ok in [
        "tcp 10.0.2.30:40000 -> 93.184.216.34:443",
        "udp 10.0.2.30:40000 -> 93.184.216.34:443",
        "icmp 10.0.2.30 -> 93.184.216.34",
    ] {
        assert_exited(&trace(&t, ok, &[]), "InternetGateway");
    }
}

/// SPEC §17 vector 10: a fragmented UDP datagram through the NAT gateway is forwarded (both
/// fragments); a fragmented TCP segment and a fragmented ICMP echo are dropped.
#[test]
fn nat_unsupported_fragmented_tcp() {
    let app = [10, 0, 2, 30];
    let remote = [93, 184, 216, 34];
    let dns = [8, 8, 8, 8];
    let (_dir, v) = replay_frames(
        &example(),
        &frames(vec![
            // A TCP segment split in two: the first fragment carries the header.
            ipv4_frame(
                app,
                remote,
                6,
                0x1111,
                true,
                0,
                &tcp_segment(40000, 443, 0x18, &[0xaa; 20]),
            ),
            // An ICMP echo request split in two.
            ipv4_frame(
                app,
                remote,
                1,
                0x1112,
                true,
                0,
                &[[8, 0, 0, 0, 0x12, 0x34, 0, 1].as_slice(), &[0xab; 16]].concat(),
            ),
            // A UDP datagram of 8 + 24 bytes split after 16 bytes of data.
            ipv4_frame(
                app,
                dns,
                17,
                0x2222,
                true,
                0,
                &udp_header(45000, 53, 32, &[0xbb; 16]),
            ),
            ipv4_frame(app, dns, 17, 0x2222, false, 3, &[0xcc; 8]),
        ]),
        &[],
    );
    for f in &v[..2] {
        assert_eq!(f["disposition"], "DROPPED", "{f}");
        assert_eq!(f["reason"], "NAT_UNSUPPORTED", "{f}");
        assert_eq!(f["at"], "NatGateway", "{f}");
    }
    for f in &v[2..] {
        assert_eq!(f["disposition"], "EXITED", "{f}");
        assert_eq!(f["at"], "InternetGateway", "{f}");
    }
    assert_eq!(
        v[2]["packet"]["src_port"], v[3]["packet"]["src_port"],
        "both fragments share the translation"
    );
}

/// `n` SYNs to `dst:dport`, 50 µs apart from `t0`, from the given (address, first source port)
/// clients in turn, each client counting its source port up.
fn syn_flood(t0: u64, clients: &[(&str, u16)], dst: &str, dport: u16, n: usize) -> Vec<Frame> {
    (0..n)
        .map(|i| {
            let (src, first) = clients[i % clients.len()];
            let port = first + (i / clients.len()) as u16;
            at(t0 + i as u64 * 50_000, tcp(src, port, dst, dport, 2, b""))
        })
        .collect()
}

/// SPEC §17 vector 8 and §7.3/§7.4: 55,000 simultaneous connections per NAT address to one
/// destination (IP, port, protocol). AppInstanceA and AppInstanceB open 55,001 connections to
/// 93.184.216.34:443 within 3 s: the last one fails (ErrorPortAllocation 1); a connection to
/// port 80 (another destination) still succeeds; 400 s later the idle connections have been
/// freed and a new one to 443 succeeds again.
#[test]
fn nat_ports_exhausted_after_55000_connections_to_one_destination() {
    let ex = example();
    let b = trace(&ex, "tcp 10.0.3.4:40000 -> 93.184.216.34:443", &[]);
    assert_eq!(b["hops"][0]["resource"], "AppInstanceB", "{b:#}");
    let nat = exit_source(&ex, "tcp 10.0.2.30:40000 -> 93.184.216.34:443");

    const N: usize = 55_001;
    let mut frames = syn_flood(
        T0,
        &[("10.0.2.30", 1024), ("10.0.3.4", 1024)],
        "93.184.216.34",
        443,
        N,
    );
    frames.push(at(
        T0 + 3 * SECOND,
        tcp("10.0.2.30", 60000, "93.184.216.34", 80, 2, b""),
    ));
    frames.push(at(
        T0 + 400 * SECOND,
        tcp("10.0.3.4", 60000, "93.184.216.34", 443, 2, b""),
    ));
    let (dir, v) = replay_frames(&ex, &frames, &[]);

    let exhausted: Vec<(usize, &Value)> = v
        .iter()
        .enumerate()
        .filter(|(_, l)| l["reason"] == "NAT_PORTS_EXHAUSTED")
        .collect();
    assert_eq!(exhausted.len(), 1, "{exhausted:?}");
    let (i, last) = exhausted[0];
    assert_eq!(i, N - 1, "the 55,001st connection fails: {last}");
    assert_eq!(last["at"], "NatGateway", "{last}");
    assert_eq!(last["disposition"], "DROPPED", "{last}");

    let mut outside = HashSet::new();
    for (i, l) in v.iter().enumerate() {
        if i == N - 1 {
            continue;
        }
        assert_eq!(l["disposition"], "EXITED", "frame {i}: {l}");
        assert_eq!(l["packet"]["src"], nat.as_str(), "frame {i}: {l}");
        let port = l["packet"]["src_port"].as_u64().unwrap();
        assert!((1024..=65535).contains(&port), "frame {i}: {l}");
        if i < N - 1 {
            assert!(
                outside.insert(port),
                "frame {i}: port {port} used twice: {l}"
            );
        }
    }
    assert_eq!(v[N]["packet"]["dst_port"], 80);
    assert_eq!(v[N + 1]["packet"]["dst_port"], 443);

    let s = summary(&dir.path().join("out"));
    assert_eq!(s["reasons"]["NAT_PORTS_EXHAUSTED"], 1, "{s:#}");
    assert_eq!(s["dispositions"]["EXITED"], N as u64 + 1, "{s:#}");
    assert_eq!(s["nat_gateway"]["ErrorPortAllocation"], 1, "{s:#}");
    // Every connection opened in the first seconds (55,000 to 443, one to 80) went idle.
    assert_eq!(s["nat_gateway"]["IdleTimeoutCount"], 55_001, "{s:#}");
}

/// SPEC §17 vector 8 (last sentence) and §7.3: with a secondary Elastic IP the gateway has
/// 55,000 more connections for the same destination: connection 55,001 leaves from the second
/// address, and only connection 110,001 fails.
#[test]
fn nat_secondary_eip_takes_connections_55001_to_110000() {
    let t = drops("nat-two-eips.yaml");
    let primary = exit_source(&t, "tcp 10.0.2.30:40000 -> 93.184.216.34:443");

    const N: usize = 110_001;
    let clients = [("10.0.2.30", 1024), ("10.0.2.31", 1024)];
    let (dir, v) = replay_frames(&t, &syn_flood(T0, &clients, "93.184.216.34", 443, N), &[]);
    let last = &v[N - 1];
    assert_dropped(last, "NAT_PORTS_EXHAUSTED", "NatGateway");
    let exited = &v[..N - 1];
    for (i, l) in exited.iter().enumerate() {
        assert_eq!(l["disposition"], "EXITED", "frame {i}: {l}");
        let port = l["packet"]["src_port"].as_u64().unwrap();
        assert!((1024..=65535).contains(&port), "frame {i}: {l}");
    }
    // The first 55,000 use the primary address; the next 55,000 the secondary one.
    assert!(exited[..55_000]
        .iter()
        .all(|l| l["packet"]["src"] == primary.as_str()));
    let secondary = exited[55_000]["packet"]["src"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(secondary, primary, "{}", exited[55_000]);
    assert!(exited[55_000..]
        .iter()
        .all(|l| l["packet"]["src"] == secondary.as_str()));
    // The second address is the NAT gateway's: unsolicited traffic to it meets the gateway.
    assert_dropped(
        &trace(&t, &format!("tcp 192.0.2.9:50000 -> {secondary}:443"), &[]),
        "NAT_NO_SESSION",
        "NatGateway",
    );
    let s = summary(&dir.path().join("out"));
    assert_eq!(s["nat_gateway"]["ErrorPortAllocation"], 1, "{s:#}");
    assert_eq!(s["reasons"]["NAT_PORTS_EXHAUSTED"], 1, "{s:#}");
}

// ---------------------------------------------------------------------------------------------
// IPv6, peering

/// SPEC §6.2: the egress-only gateway forwards the server's own IPv6 connections and their
/// replies, and refuses connections from the internet.
#[test]
fn egress_only_gateway_refuses_inbound_ipv6() {
    let t = drops("egress-only-ipv6.yaml");
    let out = vpcsim(["validate", "-t", t.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let model: Value = serde_json::from_str(&out.stdout).unwrap();
    let subnet = model["vpcs"][0]["subnets"][0]["ipv6_cidr"]
        .as_str()
        .unwrap();
    assert!(subnet.ends_with("::/64"), "{subnet}");
    // The template gives Server the subnet's ::10.
    let server = format!("{}10", subnet.trim_end_matches("/64"));

    assert_dropped(
        &trace(
            &t,
            &format!("tcp [2001:db8::1]:40000 -> [{server}]:22"),
            &[],
        ),
        "EGRESS_ONLY",
        "EgressOnlyGateway",
    );
    let ok = trace(
        &t,
        &format!("tcp [{server}]:40000 -> [2001:db8::1]:443"),
        &["--return"],
    );
    assert_exited(&ok, "EgressOnlyGateway");
    assert_eq!(ok["packet"]["src"], server.as_str(), "{ok:#}");
    assert_delivered(&ok["return"], "Server");
}

/// SPEC §17 vectors 28 and 29: B routes C's CIDR and the internet through pcx-AB; A does not
/// forward either. B → A and A → C (direct peerings) are the controls.
#[test]
fn peering_is_not_transitive() {
    let t = drops("peering.yaml");
    assert_dropped(
        &trace(&t, "tcp 10.1.1.10:40000 -> 10.2.1.10:443", &[]),
        "PEERING_NOT_TRANSITIVE",
        "PcxAB",
    );
    assert_dropped(
        &trace(&t, "tcp 10.1.1.10:40000 -> 198.51.100.7:443", &[]),
        "PEERING_NOT_TRANSITIVE",
        "PcxAB",
    );
    assert_delivered(
        &trace(&t, "tcp 10.1.1.10:40000 -> 10.0.1.10:443", &[]),
        "HostA",
    );
    assert_delivered(
        &trace(&t, "tcp 10.0.1.10:40000 -> 10.2.1.10:443", &[]),
        "HostC",
    );
}

// ---------------------------------------------------------------------------------------------
// Transit gateways, VPN edges and gateway route tables (fixtures in tests/fixtures/tgw/)

fn tgw(name: &str) -> PathBuf {
    fixture(&format!("tgw/{name}"))
}

fn ingress_example() -> PathBuf {
    root().join("examples/ingress-inspection.yaml")
}

/// SPEC §17 vector 38: AppA2 (us-east-1b) routes to the transit gateway, whose attachment has a
/// subnet only in us-east-1a. AppA1 in us-east-1a is the control.
#[test]
fn tgw_no_attachment_in_the_senders_zone() {
    let t = tgw("spokes.yaml");
    assert_dropped(
        &trace(&t, "tcp 10.1.2.10:40000 -> 10.2.1.10:443", &[]),
        "TGW_NO_ATTACHMENT_IN_AZ",
        "AttachA",
    );
    assert_delivered(
        &trace(&t, "tcp 10.1.1.10:40000 -> 10.2.1.10:443", &[]),
        "AppB",
    );
}

/// SPEC §9.2: with DefaultRouteTableAssociation off and no explicit association, what arrives
/// from the attachment has no route table to decide.
#[test]
fn tgw_attachment_without_an_association() {
    let v = trace(
        &tgw("spokes.yaml"),
        "tcp 10.1.1.10:40000 -> 10.2.1.10:443",
        &["--param", "DefaultAssociation=disable"],
    );
    assert_dropped(&v, "TGW_NO_ASSOCIATION", "AttachA");
}

/// SPEC §9.2: with DefaultRouteTablePropagation off the default table stays empty.
#[test]
fn tgw_no_route_without_propagation() {
    let v = trace(
        &tgw("spokes.yaml"),
        "tcp 10.1.1.10:40000 -> 10.2.1.10:443",
        &["--param", "DefaultPropagation=disable"],
    );
    assert_dropped(&v, "TGW_NO_ROUTE", "Tgw.DefaultRouteTable");
}

/// SPEC §17 vector 40: a static blackhole 10.9.0.0/16 and a propagated 10.9.1.0/24: the more
/// specific propagated route delivers, the rest of the blackhole drops (no fallback).
#[test]
fn tgw_blackhole_route_drops_without_fallback() {
    let t = tgw("route-priority.yaml");
    assert_dropped(
        &trace(&t, "tcp 10.0.1.10:40000 -> 10.9.2.5:443", &[]),
        "TGW_BLACKHOLE_ROUTE",
        "RouteTableX",
    );
    assert_delivered(
        &trace(&t, "tcp 10.0.1.10:40000 -> 10.9.1.5:443", &[]),
        "ServerW",
    );
}

/// SPEC §2.7: the VPC routes 10.0.0.0/8 to the virtual private gateway, which knows only the
/// on-premises prefixes of its connections; 10.30.0.1 is none of them. 10.20.1.1 (the office's
/// static route) is the control.
#[test]
fn vgw_no_route_for_an_unknown_prefix() {
    let t = tgw("vpn-edges.yaml");
    assert_dropped(
        &trace(&t, "tcp 10.0.2.30:40000 -> 10.30.0.1:443", &[]),
        "VGW_NO_ROUTE",
        "Vgw",
    );
    assert_exited(
        &trace(&t, "tcp 10.0.2.30:40000 -> 10.20.1.1:443", &[]),
        "Vgw",
    );
}

/// SPEC §2.7 / §8: the spoke reaches the hub VPC through the transit gateway and the hub routes
/// the office prefix to its virtual private gateway, which carries no transit traffic.
#[test]
fn vgw_carries_only_its_own_vpcs_traffic() {
    let t = tgw("vpn-edges.yaml");
    assert_dropped(
        &trace(&t, "tcp 10.1.1.10:40000 -> 10.20.1.1:443", &[]),
        "VGW_SOURCE_NOT_IN_VPC",
        "Vgw",
    );
}

/// SPEC §2.5 (INGRESS_RTB_TRAFFIC_REDIRECTION): the gateway route table steers the web subnet's
/// inbound traffic through the firewall, but the web subnet routes 0.0.0.0/0 straight to the
/// internet gateway. With the default template (replies through the firewall) it exits.
#[test]
fn appliance_bypassed_when_replies_skip_the_firewall() {
    let t = ingress_example();
    let flow = "tcp 10.0.1.20:40000 -> 192.0.2.9:443";
    assert_dropped(
        &trace(&t, flow, &["--param", "WebReturn=direct"]),
        "APPLIANCE_BYPASSED",
        "InternetGateway",
    );
    assert_exited(&trace(&t, flow, &[]), "InternetGateway");
}

/// SPEC §2.5 (INGRESS_RTB_NO_PUBLIC_IP): an appliance behind an internet gateway's route table
/// needs a public IPv4 address.
#[test]
fn ingress_appliance_without_a_public_ip() {
    let t = ingress_example();
    let flow = "tcp 192.0.2.9:50000 -> 203.0.113.20:443";
    assert_dropped(
        &trace(&t, flow, &["--param", "FirewallPublicIp=false"]),
        "INGRESS_APPLIANCE_NO_PUBLIC_IP",
        "Firewall",
    );
    assert_delivered(&trace(&t, flow, &[]), "Web");
}

// ---------------------------------------------------------------------------------------------
// Replay-only reasons

/// Frames that never reach the pipeline: a truncated IPv4 header is MALFORMED, ARP is
/// UNSUPPORTED; both are counted, blamed on `internet`, and have no packet.
#[test]
fn malformed_and_unsupported_frames() {
    let truncated = ethernet(0x0800, &[0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6]);
    let mut arp_body = vec![0, 1, 8, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 1, 10, 0, 1, 20];
    arp_body.extend_from_slice(&[0; 6]);
    arp_body.extend_from_slice(&[10, 0, 1, 1]);
    let arp = ethernet(0x0806, &arp_body);
    let ok = tcp("192.0.2.9", 50000, "203.0.113.99", 443, 2, b"");
    let (dir, v) = replay_frames(&example(), &frames(vec![truncated, arp, ok]), &[]);
    for (line, reason) in [(&v[0], "MALFORMED"), (&v[1], "UNSUPPORTED")] {
        assert_eq!(line["disposition"], "DROPPED", "{line}");
        assert_eq!(line["reason"], reason, "{line}");
        assert_eq!(line["at"], "internet", "{line}");
        assert!(line["packet"].is_null(), "{line}");
    }
    assert_eq!(v[2]["reason"], "NOT_MAPPED", "{}", v[2]);
    assert!(v[2]["packet"].is_object(), "{}", v[2]);
    let s = summary(&dir.path().join("out"));
    assert_eq!(s["packets"], 3, "{s:#}");
    assert_eq!(s["dispositions"]["DROPPED"], 3, "{s:#}");
    assert_eq!(s["reasons"]["MALFORMED"], 1, "{s:#}");
    assert_eq!(s["reasons"]["UNSUPPORTED"], 1, "{s:#}");
}

/// With room for two tracked connections, web → app fills the table (one entry at each
/// interface); the next new connection is refused at the sender, while the first connection's
/// reply still passes (it is tracked).
#[test]
fn conntrack_full_refuses_new_connections() {
    let web = "10.0.1.20";
    let app = "10.0.2.30";
    let (dir, v) = replay_frames(
        &example(),
        &frames(vec![
            tcp(web, 40001, app, 8080, 2, b""),
            tcp(web, 40002, app, 8080, 2, b""),
            tcp(app, 8080, web, 40001, 2 | 16, b""),
        ]),
        &["--conntrack-capacity", "2"],
    );
    assert_eq!(v[0]["disposition"], "DELIVERED", "{}", v[0]);
    assert_eq!(v[0]["at"], "AppInstanceA", "{}", v[0]);
    assert_eq!(v[1]["disposition"], "DROPPED", "{}", v[1]);
    assert_eq!(v[1]["reason"], "CONNTRACK_FULL", "{}", v[1]);
    assert_eq!(v[1]["at"], "WebInstance", "{}", v[1]);
    assert_eq!(v[2]["disposition"], "DELIVERED", "{}", v[2]);
    assert_eq!(v[2]["at"], "WebInstance", "{}", v[2]);
    assert_eq!(
        summary(&dir.path().join("out"))["reasons"]["CONNTRACK_FULL"],
        1
    );

    // With the default capacity the same capture is delivered throughout.
    let (_dir, v) = replay_frames(
        &example(),
        &frames(vec![
            tcp(web, 40001, app, 8080, 2, b""),
            tcp(web, 40002, app, 8080, 2, b""),
        ]),
        &[],
    );
    assert!(v.iter().all(|l| l["disposition"] == "DELIVERED"), "{v:?}");
}

/// A non-first fragment whose first fragment is not in the capture: its ports are unknown. The
/// same fragment after its first fragment is forwarded (the example's app tier may send DNS).
#[test]
fn fragment_orphan_without_its_first_fragment() {
    let app = [10, 0, 2, 30];
    let dns = [8, 8, 8, 8];
    let (_dir, v) = replay_frames(
        &example(),
        &frames(vec![
            ipv4_frame(app, dns, 17, 0x3333, false, 185, &[0xdd; 8]),
            ipv4_frame(
                app,
                dns,
                17,
                0x4444,
                true,
                0,
                &udp_header(45001, 53, 1488, &[0xee; 1472]),
            ),
            ipv4_frame(app, dns, 17, 0x4444, false, 185, &[0xdd; 8]),
        ]),
        &[],
    );
    assert_eq!(v[0]["disposition"], "DROPPED", "{}", v[0]);
    assert_eq!(v[0]["reason"], "FRAGMENT_ORPHAN", "{}", v[0]);
    assert_eq!(v[0]["at"], "AppInstanceA", "{}", v[0]);
    for f in &v[1..] {
        assert_eq!(f["disposition"], "EXITED", "{f}");
    }
}

/// With room for one datagram in reassembly, a second datagram whose first fragment arrives
/// while the first is incomplete is refused: its first fragment and its later one are
/// FRAGMENT_TABLE_FULL (never FRAGMENT_ORPHAN), counted in the summary. Once the first datagram
/// completes, the table has room again.
#[test]
fn fragment_table_full_refuses_new_datagrams() {
    let app = [10, 0, 2, 30];
    let dns = [8, 8, 8, 8];
    let first = |id| {
        ipv4_frame(
            app,
            dns,
            17,
            id,
            true,
            0,
            &udp_header(45001, 53, 1488, &[0xee; 1472]),
        )
    };
    let last = |id| ipv4_frame(app, dns, 17, id, false, 185, &[0xdd; 8]);
    let (dir, v) = replay_frames(
        &example(),
        &frames(vec![
            first(1),
            first(2),
            last(2),
            last(1),
            first(3),
            last(3),
        ]),
        &["--fragment-capacity", "1"],
    );
    let reasons: Vec<&str> = v
        .iter()
        .map(|l| l["reason"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(
        reasons,
        [
            "-",
            "FRAGMENT_TABLE_FULL",
            "FRAGMENT_TABLE_FULL",
            "-",
            "-",
            "-"
        ],
        "{v:?}"
    );
    assert_eq!(v[1]["at"], "AppInstanceA", "{}", v[1]);
    let s = summary(&dir.path().join("out"));
    assert_eq!(s["reasons"]["FRAGMENT_TABLE_FULL"], 2, "{s:#}");
    assert_eq!(s["state"]["fragments"]["refused"], 1, "{s:#}");
    assert_eq!(s["state"]["fragments"]["capacity"], 1, "{s:#}");
    assert_eq!(s["state"]["fragments"]["entries"], 0, "{s:#}");
}

/// With room for one NAT gateway session, a second connection through the gateway is refused
/// with NAT_TABLE_FULL (not NAT_PORTS_EXHAUSTED: ports are plenty); once the first session
/// idles out (350 s) a new one is admitted.
#[test]
fn nat_table_full_refuses_new_sessions() {
    let ex = example();
    let (dir, v) = replay_frames(
        &ex,
        &[
            at(T0, tcp("10.0.2.30", 40001, "93.184.216.34", 443, 2, b"")),
            at(
                T0 + SECOND,
                tcp("10.0.2.30", 40002, "93.184.216.34", 443, 2, b""),
            ),
            at(
                T0 + 400 * SECOND,
                tcp("10.0.2.30", 40003, "93.184.216.34", 443, 2, b""),
            ),
        ],
        &["--nat-capacity", "1"],
    );
    assert_eq!(v[0]["disposition"], "EXITED", "{}", v[0]);
    assert_eq!(v[1]["disposition"], "DROPPED", "{}", v[1]);
    assert_eq!(v[1]["reason"], "NAT_TABLE_FULL", "{}", v[1]);
    assert_eq!(v[1]["at"], "NatGateway", "{}", v[1]);
    assert_eq!(v[2]["disposition"], "EXITED", "{}", v[2]);
    let s = summary(&dir.path().join("out"));
    assert_eq!(s["state"]["nat_gateway_sessions"]["refused"], 1, "{s:#}");
    assert_eq!(
        s["nodes"]["nat-gateway-out"]["drops"]["NAT_TABLE_FULL"], 1,
        "{s:#}"
    );
}

/// With room for one load-balancer flow, a second client's flow is refused at the load
/// balancer with NLB_FLOW_TABLE_FULL; the first flow's packets still pass.
#[test]
fn nlb_flow_table_full_refuses_new_flows() {
    let t = fixture("nlb/internal.yaml");
    let (dir, v) = replay_frames(
        &t,
        &[
            at(T0, tcp("10.1.20.5", 40001, "10.1.0.4", 80, 2, b"")),
            at(T0 + SECOND, tcp("10.1.20.5", 40002, "10.1.0.4", 80, 2, b"")),
            at(
                T0 + 2 * SECOND,
                tcp("10.1.20.5", 40001, "10.1.0.4", 80, 16, b""),
            ),
        ],
        &["--nlb-flow-capacity", "1"],
    );
    assert_eq!(v[0]["disposition"], "DELIVERED", "{}", v[0]);
    assert_eq!(v[1]["reason"], "NLB_FLOW_TABLE_FULL", "{}", v[1]);
    assert_eq!(v[1]["at"], "Nlb", "{}", v[1]);
    assert_eq!(v[2]["disposition"], "DELIVERED", "{}", v[2]);
    let s = summary(&dir.path().join("out"));
    assert_eq!(s["state"]["nlb_flows"]["refused"], 1, "{s:#}");
    assert_eq!(s["state"]["nlb_flows"]["peak"], 1, "{s:#}");
}

/// A gateway endpoint carries only TCP and ICMP echo (SPEC §10.1,
/// `VPCE_GATEWAY_PROTOCOL_RESTRICTION`): UDP to S3 from a subnet routed through the S3 endpoint
/// is dropped there; TCP and ping from the same instance leave through it.
#[test]
fn vpce_gateway_carries_only_tcp_and_icmp_echo() {
    let t = root().join("examples/endpoints.yaml");
    let v = trace(&t, "udp 10.0.1.20:40000 -> 52.216.10.20:443", &[]);
    assert_dropped(&v, "VPCE_GATEWAY_PROTOCOL", "S3Endpoint");
    for flow in [
        "tcp 10.0.1.20:40000 -> 52.216.10.20:443",
        "icmp 10.0.1.20 -> 52.216.10.20 type 8 code 0",
    ] {
        let v = trace(&t, flow, &[]);
        assert_eq!(v["disposition"], "EXITED", "{flow}: {v:#}");
        assert_eq!(v["egress"], "S3Endpoint", "{flow}: {v:#}");
    }
}

/// A Network Load Balancer node drops what no listener serves (SPEC §11.3,
/// `ELB_LISTENERS_MISMATCH`); the port with a listener is delivered.
#[test]
fn nlb_no_listener_on_the_port() {
    let t = fixture("nlb/internal.yaml");
    let v = trace(&t, "tcp 10.1.20.5:40000 -> 10.1.0.4:81", &[]);
    assert_dropped(&v, "NLB_NO_LISTENER", "Nlb");
    let v = trace(&t, "udp 10.1.20.5:40000 -> 10.1.0.4:80", &[]);
    assert_dropped(&v, "NLB_NO_LISTENER", "Nlb");
    let v = trace(&t, "tcp 10.1.20.5:40000 -> 10.1.0.4:80", &[]);
    assert_delivered(&v, "Open");
}

/// An Application Load Balancer node ends connections only on listener ports (SPEC §11.2.2,
/// `ELB_LISTENERS_MISMATCH`); its security group admits every port in this fixture.
#[test]
fn alb_no_listener_on_the_port() {
    let t = fixture("alb/rules.yaml");
    let v = trace(&t, "tcp 10.0.10.50:40000 -> 10.0.0.4:81", &[]);
    assert_dropped(&v, "ALB_NO_LISTENER", "Alb");
    let v = trace(&t, "tcp 10.0.10.50:40000 -> 10.0.0.4:80", &[]);
    assert_delivered(&v, "Alb");
}

/// The web ACL associated with an Application Load Balancer blocks an HTTP request from an
/// address on its IP block list (SPEC §11.2.7, §19): dropped at the web ACL with 403; another
/// client passes it and reaches the target.
#[test]
fn waf_blocked_by_the_load_balancers_web_acl() {
    let t = fixture("alb-waf/web.yaml");
    let v = trace(
        &t,
        "tcp 203.0.113.9:40000 -> 198.18.0.1:80",
        &["--http", "GET /"],
    );
    assert_dropped(&v, "WAF_BLOCKED", "WebAcl");
    assert_eq!(v["http"]["response"]["status"], 403, "{v:#}");
    let v = trace(
        &t,
        "tcp 8.8.8.8:40000 -> 198.18.0.1:80",
        &["--http", "GET /"],
    );
    assert_delivered(&v, "WebGroup/0");
}

/// With `--hosts`, a TCP port a host does not list answers the SYN with a RST (connection
/// refused); a listed port and an unlisted host are delivered.
#[test]
fn host_port_closed_answers_a_syn_with_rst() {
    let t = fixture("alb/rules.yaml");
    let hosts = fixture("alb/web-down.hosts.yaml");
    let hosts = hosts.to_str().unwrap();
    let v = trace(
        &t,
        "tcp 10.0.10.50:40000 -> 10.0.10.60:443",
        &["--hosts", hosts],
    );
    assert_dropped(&v, "HOST_PORT_CLOSED", "Box");
    let v = trace(
        &t,
        "tcp 10.0.10.50:40000 -> 10.0.10.60:22",
        &["--hosts", hosts],
    );
    assert_delivered(&v, "Box");
    let v = trace(
        &t,
        "tcp 10.0.10.60:40000 -> 10.0.10.50:443",
        &["--hosts", hosts],
    );
    assert_delivered(&v, "Client");
}

/// Cross-zone load balancing is off by default on an NLB (SPEC §11.1): a node only uses targets
/// in its own Availability Zone (`ELB_NOT_CROSSZONE`). With it on, the same flow is delivered.
#[test]
fn nlb_no_target_in_the_nodes_zone_without_cross_zone() {
    let t = fixture("nlb/internal.yaml");
    let v = trace(&t, "tcp 10.1.20.5:40000 -> 10.1.0.4:9000", &[]);
    assert_dropped(&v, "NLB_NO_TARGET", "OnlyB");
    let v = trace(
        &t,
        "tcp 10.1.20.5:40000 -> 10.1.0.4:9000",
        &["--param", "CrossZone=true"],
    );
    assert_delivered(&v, "FarB");
}

/// A target group without targets: nothing to forward to.
#[test]
fn nlb_no_target_registered() {
    let t = fixture("nlb/internal.yaml");
    let v = trace(&t, "tcp 10.1.20.5:40000 -> 10.1.0.4:7000", &[]);
    assert_dropped(&v, "NLB_NO_TARGET", "Empty");
}

/// An interface endpoint only answers (SPEC §10.2, `VPCE_INTRA_VPC_TRAFFIC`): a packet its
/// interface sends on its own is dropped there; its reply to a consumer's connection is delivered.
#[test]
fn vpce_interface_endpoint_never_initiates() {
    let t = root().join("examples/endpoints.yaml");
    let v = trace(&t, "tcp 10.0.11.4:443 -> 10.0.1.10:40000", &[]);
    assert_dropped(&v, "VPCE_NOT_INITIATOR", "SsmEndpoint");
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 10.0.11.4:443", &["--return"]);
    assert_delivered(&v, "SsmEndpoint");
    assert_delivered(&v["return"], "AppA");
}

/// A Gateway Load Balancer node only uses appliances in its own Availability Zone while
/// cross-zone load balancing is off (SPEC §11.1, `ELBV2_NO_TARGETS_IN_AZ`); with it on, the same
/// flow is inspected and delivered.
#[test]
fn gwlb_no_target_in_the_nodes_zone_without_cross_zone() {
    let t = fixture("gwlb/zones.yaml");
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 10.0.2.20:5432", &[]);
    assert_dropped(&v, "GWLB_NO_TARGET", "Appliances");
    let v = trace(
        &t,
        "tcp 10.0.1.10:40000 -> 10.0.2.20:5432",
        &["--param", "CrossZone=true"],
    );
    assert_delivered(&v, "Server");
}

/// A GENEVE target group without appliances: nothing inspects the traffic, so nothing passes.
#[test]
fn gwlb_no_target_registered() {
    let t = fixture("gwlb/zones.yaml");
    let v = trace(
        &t,
        "tcp 10.0.1.10:40000 -> 10.0.2.20:5432",
        &["--param", "Targets=none", "--param", "CrossZone=true"],
    );
    assert_dropped(&v, "GWLB_NO_TARGET", "Appliances");
}

/// A Gateway Load Balancer carries packets of at most 8500 bytes (SPEC §11.4, §15, vector 42):
/// one byte more is dropped at the load balancer, not fragmented.
#[test]
fn gwlb_mtu_is_8500_bytes() {
    let dir = TempDir::new().unwrap();
    let cap = dir.path().join("in.pcap");
    // 20 (IPv4) + 20 (TCP) + payload.
    write_pcap(
        &cap,
        1,
        &frames(vec![
            tcp("198.51.100.7", 50000, "203.0.113.20", 443, 0x02, &[0; 8460]),
            tcp("198.51.100.7", 50001, "203.0.113.20", 443, 0x02, &[0; 8461]),
        ]),
    );
    let v = replay(
        &root().join("examples/gwlb.yaml"),
        &cap,
        &dir.path().join("out"),
        &[],
    );
    assert_eq!(v[0]["disposition"], "DELIVERED", "{}", v[0]);
    assert_eq!(v[1]["disposition"], "DROPPED", "{}", v[1]);
    assert_eq!(v[1]["reason"], "GWLB_MTU_EXCEEDED", "{}", v[1]);
    assert_eq!(v[1]["at"], "Gwlb", "{}", v[1]);
}

/// SPEC §9.4: VPC and peering attachments carry at most 8500 bytes; a larger packet is dropped
/// where it enters the first transit gateway, with no ICMP back.
#[test]
fn tgw_mtu_is_8500_bytes_across_a_peering() {
    let dir = TempDir::new().unwrap();
    let cap = dir.path().join("in.pcap");
    // 20 (IPv4) + 20 (TCP) + payload.
    write_pcap(
        &cap,
        1,
        &frames(vec![
            tcp("10.1.1.10", 50000, "10.2.1.10", 443, 0x02, &[0; 8460]),
            tcp("10.1.1.10", 50001, "10.2.1.10", 443, 0x02, &[0; 8461]),
        ]),
    );
    let v = replay(&tgw("peering.yaml"), &cap, &dir.path().join("out"), &[]);
    assert_eq!(v[0]["disposition"], "DELIVERED", "{}", v[0]);
    assert_eq!(v[1]["disposition"], "DROPPED", "{}", v[1]);
    assert_eq!(v[1]["reason"], "TGW_MTU_EXCEEDED", "{}", v[1]);
    assert_eq!(v[1]["at"], "AttachA", "{}", v[1]);
}

/// AWS Network Firewall (SPEC §20): a Suricata drop rule, and the reply of a flow arriving at an
/// endpoint that never saw it start (asymmetric routing, vector 97).
#[test]
fn network_firewall_drops_by_rule_and_midstream() {
    let t = root().join("examples/inspection.yaml");
    let v = trace(&t, "tcp 10.1.1.10:40000 -> 198.51.100.7:25", &[]);
    assert_dropped(&v, "NETWORK_FIREWALL_DROPPED", "Firewall");
    let v = trace(
        &t,
        "tcp 10.1.1.10:40000 -> 10.2.1.10:443",
        &["--return", "--param", "ApplianceMode=disable"],
    );
    assert_delivered(&v, "Web");
    assert_dropped(&v["return"], "NETWORK_FIREWALL_DROPPED", "Firewall");
}

/// A `reject` rule (SPEC §20.3, vector 96): dropped, and the client gets a TCP RST.
#[test]
fn network_firewall_rejects_telnet() {
    let t = root().join("examples/inspection.yaml");
    let v = trace(&t, "tcp 10.1.1.10:40000 -> 198.51.100.7:23", &[]);
    assert_dropped(&v, "NETWORK_FIREWALL_REJECTED", "Firewall");
}

/// A rule with a keyword outside vpcsim's Suricata subset that could decide the packet: its
/// fate is unknown, and said so rather than guessed (SPEC §20.5).
#[test]
fn network_firewall_rule_with_an_unsupported_keyword() {
    let t = fixture("network_firewall/lua.yaml");
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 198.51.100.7:443", &[]);
    assert_dropped(&v, "NETWORK_FIREWALL_NOT_EVALUABLE", "Firewall");
}
