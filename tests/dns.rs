//! Route 53 and the VPC resolver through the real binary: `vpcsim dns`, name destinations in
//! `trace`, and the resolver's response frames in `replay` (SPEC §21).

mod common;

use common::*;
use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn private_dns() -> PathBuf {
    root().join("examples/private-dns.yaml")
}

fn hybrid_dns() -> PathBuf {
    root().join("examples/hybrid-dns.yaml")
}

/// `vpcsim dns --json` from `from`; `extra` after the name (a type, options).
fn dig(topology: &Path, from: &str, name: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "dns".to_string(),
        "-t".into(),
        topology.display().to_string(),
        "--from".into(),
        from.into(),
        name.into(),
        "--json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = vpcsim(&args);
    assert!(
        out.code == 0 || out.code == 1,
        "dns failed ({}): {}",
        out.code,
        out.stderr
    );
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {}", out.stdout))
}

fn data(v: &Value) -> Vec<String> {
    v["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["type"].as_str().unwrap(),
                a["data"].as_str().unwrap()
            )
        })
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn every_record_type_of_the_private_zone() {
    let t = private_dns();
    let a = dig(&t, "App", "db.internal.example", &[]);
    assert_eq!(a["status"], "NOERROR");
    assert_eq!(data(&a), ["A 10.0.3.40"]);
    assert_eq!(a["answers"][0]["ttl"], 300);
    assert_eq!(a["answered_by"]["kind"], "private-zone");
    assert_eq!(a["answered_by"]["zone"], "InternalZone");
    assert_eq!(a["answered_by"]["record"], "DbRecord");
    assert_eq!(
        data(&dig(&t, "App", "v6.internal.example", &["AAAA"])),
        ["AAAA fd00:10::40"]
    );
    assert_eq!(
        data(&dig(&t, "App", "internal.example", &["MX"])),
        ["MX 10 mail.internal.example."]
    );
    assert_eq!(
        data(&dig(&t, "App", "internal.example", &["TXT"])),
        ["TXT \"v=spf1 -all\""]
    );
    assert_eq!(
        data(&dig(&t, "App", "_ldap._tcp.internal.example", &["SRV"])),
        ["SRV 0 5 389 db.internal.example."]
    );
    // A CNAME is followed to its target's address.
    let c = dig(&t, "App", "www.internal.example", &[]);
    assert_eq!(data(&c), ["CNAME api.internal.example.", "A 10.0.1.100"]);
    assert_eq!(
        data(&dig(&t, "App", "www.internal.example", &["CNAME"])),
        ["CNAME api.internal.example."]
    );
}

#[test]
fn an_alias_answers_with_the_load_balancers_addresses_and_its_ttl() {
    let a = dig(&private_dns(), "App", "api.internal.example", &[]);
    assert_eq!(data(&a), ["A 10.0.1.100"]);
    assert_eq!(a["answers"][0]["ttl"], 60);
    assert_eq!(a["answered_by"]["record"], "ApiAlias");
}

/// An Application Load Balancer's DNS name answers with its nodes' public addresses (it is
/// internet-facing), asked from an Auto Scaling instance behind it.
#[test]
fn an_application_load_balancers_name_answers_with_its_nodes() {
    let t = common::root().join("examples/web-app.yaml");
    let v = common::vpcsim(["validate", "-t", t.to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_str(&v.stdout).unwrap();
    let lb = &v["load_balancers"][0];
    let name = lb["dns_name"].as_str().unwrap();
    let mut want: Vec<String> = lb["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| format!("A {}", n["public_ip"].as_str().unwrap()))
        .collect();
    want.sort();
    let a = dig(&t, "WebGroup/0", name, &[]);
    let mut got = data(&a);
    got.sort();
    assert_eq!(got, want, "{a:#}");
}

#[test]
fn routing_policies_weighted_failover_multivalue() {
    let t = private_dns();
    // Weighted 90/10: the pick depends on the asker; both records are reachable.
    let w = dig(&t, "App", "web.internal.example", &[]);
    assert_eq!(w["answers"].as_array().unwrap().len(), 1);
    let set = w["answered_by"]["set_identifier"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(set == "blue" || set == "green", "{w:#}");
    let sets: std::collections::BTreeSet<String> = ["App", "Db", "WebBlue", "WebGreen"]
        .iter()
        .map(|f| {
            dig(&t, f, "web.internal.example", &[])["answered_by"]["set_identifier"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(sets.contains("blue"), "{sets:?}");
    // Failover: the primary while its health check passes, the secondary once it fails.
    let f = dig(&t, "App", "status.internal.example", &[]);
    assert_eq!(
        (data(&f), f["answered_by"]["set_identifier"].clone()),
        (vec!["A 10.0.4.10".to_string()], "primary".into())
    );
    let f = dig(
        &t,
        "App",
        "status.internal.example",
        &["--unhealthy-check", "BlueCheck"],
    );
    assert_eq!(
        (data(&f), f["answered_by"]["set_identifier"].clone()),
        (vec!["A 10.0.4.11".to_string()], "secondary".into())
    );
    // Multivalue: every healthy record.
    assert_eq!(
        data(&dig(&t, "App", "pool.internal.example", &[])),
        ["A 10.0.4.10", "A 10.0.4.11"]
    );
    let bad = vpcsim([
        "dns",
        "-t",
        t.to_str().unwrap(),
        "--from",
        "App",
        "x.internal.example",
        "--unhealthy-check",
        "NoSuchCheck",
    ]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("NoSuchCheck"), "{}", bad.stderr);
}

#[test]
fn weighted_records_with_a_failing_health_check_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let t = write(
        dir.path(),
        "w.yaml",
        r#"
Resources:
  Vpc: { Type: AWS::EC2::VPC, Properties: { CidrBlock: 10.0.0.0/16, EnableDnsHostnames: true } }
  Subnet: { Type: AWS::EC2::Subnet, Properties: { VpcId: !Ref Vpc, CidrBlock: 10.0.1.0/24 } }
  App: { Type: AWS::EC2::Instance, Properties: { ImageId: ami-1, SubnetId: !Ref Subnet, PrivateIpAddress: 10.0.1.5 } }
  Zone: { Type: AWS::Route53::HostedZone, Properties: { Name: w.example, VPCs: [{ VPCId: !Ref Vpc, VPCRegion: us-east-1 }] } }
  Check: { Type: AWS::Route53::HealthCheck, Properties: { HealthCheckConfig: { Type: TCP, IPAddress: 10.0.1.9, Port: 80 } } }
  Records:
    Type: AWS::Route53::RecordSetGroup
    Properties:
      HostedZoneId: !Ref Zone
      RecordSets:
        - { Name: a.w.example, Type: A, TTL: "60", SetIdentifier: heavy, Weight: 255, HealthCheckId: !Ref Check, ResourceRecords: [10.0.1.9] }
        - { Name: a.w.example, Type: A, TTL: "60", SetIdentifier: light, Weight: 1, ResourceRecords: [10.0.1.10] }
        - { Name: a.w.example, Type: A, TTL: "60", SetIdentifier: off, Weight: 0, ResourceRecords: [10.0.1.11] }
"#,
    );
    assert_eq!(
        data(&dig(
            &t,
            "App",
            "a.w.example",
            &["--unhealthy-check", "Check"]
        )),
        ["A 10.0.1.10"]
    );
}

#[test]
fn ec2_host_names_in_both_region_forms_and_public_names() {
    let t = private_dns();
    let a = dig(&t, "App", "ip-10-0-3-40.ec2.internal", &[]);
    assert_eq!(data(&a), ["A 10.0.3.40"]);
    assert_eq!(a["answered_by"]["kind"], "ec2");
    assert_eq!(a["answered_by"]["instance"], "Db");
    assert_eq!(
        dig(&t, "App", "ip-10-0-3-99.ec2.internal", &[])["status"],
        "NXDOMAIN"
    );
    assert_eq!(
        data(&dig(&t, "App", "40.3.0.10.in-addr.arpa", &["PTR"])),
        ["PTR ip-10-0-3-40.ec2.internal."]
    );
    // Outside us-east-1 the name is <region>.compute.internal; the us-east-1 form is unknown.
    let west = ["--region", "eu-west-1", "--zones", "eu-west-1=us-east-1a"];
    let r = dig(&t, "App", "ip-10-0-3-40.eu-west-1.compute.internal", &west);
    assert_eq!(data(&r), ["A 10.0.3.40"]);
    assert_eq!(
        dig(&t, "App", "ip-10-0-3-40.ec2.internal", &west)["status"],
        "NXDOMAIN"
    );
}

#[test]
fn without_dns_support_the_resolver_does_not_answer_and_hostnames_off_hides_private_zones() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(private_dns()).unwrap();
    let off = write(
        dir.path(),
        "off.yaml",
        &base.replace("EnableDnsSupport: true", "EnableDnsSupport: false"),
    );
    let out = vpcsim([
        "dns",
        "-t",
        off.to_str().unwrap(),
        "--from",
        "App",
        "db.internal.example",
    ]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("no answer"), "{}", out.stdout);
    let v = dig(&off, "App", "db.internal.example", &[]);
    assert_eq!(v["status"], Value::Null);
    // The zone is kept but the VPC cannot use it: a warning, and NXDOMAIN from public DNS.
    let no_names = write(
        dir.path(),
        "nonames.yaml",
        &base.replace("EnableDnsHostnames: true", "EnableDnsHostnames: false"),
    );
    let val = vpcsim(["validate", "-t", no_names.to_str().unwrap()]);
    assert!(
        val.stdout.contains("PrivateZoneNeedsDnsAttributes")
            || val.stderr.contains("PrivateZoneNeedsDnsAttributes"),
        "{}{}",
        val.stdout,
        val.stderr
    );
    let v = dig(&no_names, "App", "db.internal.example", &[]);
    assert_eq!(v["status"], "NXDOMAIN");
    assert_eq!(v["answered_by"]["kind"], "unknown");
}

#[test]
fn nxdomain_nodata_and_names_from_a_records_file() {
    let t = private_dns();
    let nx = dig(&t, "App", "missing.internal.example", &[]);
    assert_eq!(nx["status"], "NXDOMAIN");
    assert_eq!(nx["authority"][0]["name"], "internal.example");
    assert_eq!(nx["authority"][0]["ttl"], 900);
    // The name exists with another type: NODATA.
    let nodata = dig(&t, "App", "db.internal.example", &["AAAA"]);
    assert_eq!(
        (
            nodata["status"].as_str(),
            nodata["answers"].as_array().unwrap().len()
        ),
        (Some("NOERROR"), 0)
    );
    assert_eq!(
        dig(&t, "App", "api.github.example", &[])["status"],
        "NXDOMAIN"
    );
    let dir = tempfile::tempdir().unwrap();
    let records = write(
        dir.path(),
        "internet.zone",
        "; the internet\napi.github.example. 120 IN A 203.0.113.10\n",
    );
    let r = dig(
        &t,
        "App",
        "api.github.example",
        &["--dns-records", records.to_str().unwrap()],
    );
    assert_eq!(
        (r["status"].as_str(), data(&r)),
        (Some("NOERROR"), vec!["A 203.0.113.10".to_string()])
    );
    assert_eq!(r["answers"][0]["ttl"], 120);
    assert_eq!(r["answered_by"]["kind"], "dns-records");
    let bad = write(dir.path(), "bad.zone", "x.example. IN A 999.0.0.1\n");
    let out = vpcsim([
        "dns",
        "-t",
        t.to_str().unwrap(),
        "--from",
        "App",
        "x.example",
        "--dns-records",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("InvalidDnsRecords") && out.stderr.contains("line 1"),
        "{}",
        out.stderr
    );
}

/// A rule beats a private zone of the same name, which beats public DNS; a more specific
/// private zone beats a less specific rule (SPEC §21.2).
#[test]
fn resolution_order_rule_then_private_zone_then_public() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(hybrid_dns()).unwrap();
    let t = write(
        dir.path(),
        "order.yaml",
        &format!(
            "{base}
  CorpZone:
    Type: AWS::Route53::HostedZone
    Properties: {{ Name: corp.example, VPCs: [{{ VPCId: !Ref Vpc, VPCRegion: us-east-1 }}] }}
  CorpHost:
    Type: AWS::Route53::RecordSet
    Properties: {{ HostedZoneId: !Ref CorpZone, Name: host.corp.example, Type: A, TTL: \"60\", ResourceRecords: [10.0.1.99] }}
  PublicCorp:
    Type: AWS::Route53::HostedZone
    Properties: {{ Name: public.example }}
  PublicHost:
    Type: AWS::Route53::RecordSet
    Properties: {{ HostedZoneId: !Ref PublicCorp, Name: www.public.example, Type: A, TTL: \"60\", ResourceRecords: [198.51.100.1] }}
  PrivatePublic:
    Type: AWS::Route53::HostedZone
    Properties: {{ Name: public.example, VPCs: [{{ VPCId: !Ref Vpc, VPCRegion: us-east-1 }}] }}
"
        ),
    );
    let records = write(
        dir.path(),
        "onprem.zone",
        "host.corp.example. 300 IN A 192.168.10.20\n",
    );
    let r = dig(
        &t,
        "App",
        "host.corp.example",
        &["--dns-records", records.to_str().unwrap()],
    );
    assert_eq!(data(&r), ["A 192.168.10.20"], "{r:#}");
    assert_eq!(r["answered_by"]["kind"], "resolver-rule");
    assert_eq!(r["answered_by"]["rule"], "CorpRule");
    let z = dig(&t, "App", "app.cloud.corp.example", &[]);
    assert_eq!(
        (z["answered_by"]["kind"].as_str(), data(&z)),
        (Some("private-zone"), vec!["A 10.0.1.10".to_string()])
    );
    // The private zone public.example hides the public one of the same name: NXDOMAIN.
    let p = dig(&t, "App", "www.public.example", &[]);
    assert_eq!(
        (p["status"].as_str(), p["answered_by"]["zone"].as_str()),
        (Some("NXDOMAIN"), Some("PrivatePublic"))
    );
}

#[test]
fn forwarding_follows_the_path_and_an_endpoint_security_group_can_stop_it() {
    let t = hybrid_dns();
    let records = root().join("examples/onprem.zone");
    let ok = dig(
        &t,
        "App",
        "host.corp.example",
        &["--dns-records", records.to_str().unwrap()],
    );
    assert_eq!(data(&ok), ["A 192.168.10.20"]);
    let f = &ok["forwarded"][0];
    assert_eq!(
        (f["from"].as_str(), f["to"].as_str(), f["reached"].as_bool()),
        (
            Some("OutboundEndpoint.ip0"),
            Some("192.168.0.2:53"),
            Some(true)
        )
    );
    assert_eq!(f["query"]["disposition"], "EXITED");
    assert_eq!(f["reply"]["disposition"], "DELIVERED");
    let blocked = dig(
        &t,
        "App",
        "host.corp.example",
        &[
            "--dns-records",
            records.to_str().unwrap(),
            "--param",
            "EndpointEgress=10.0.0.0/16",
        ],
    );
    assert_eq!(blocked["status"], "SERVFAIL");
    assert_eq!(blocked["answered_by"]["reached"], false);
    let tries = blocked["forwarded"].as_array().unwrap();
    assert_eq!(tries.len(), 2, "both endpoint addresses are tried");
    for t in tries {
        assert_eq!(t["query"]["reason"], "SG_EGRESS_DENIED");
        assert_eq!(t["query"]["at"], "EndpointSg");
    }
}

#[test]
fn dns_firewall_block_responses_and_alert() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(private_dns()).unwrap();
    let t = write(
        dir.path(),
        "fw.yaml",
        &format!(
            "{base}
  NodataList:
    Type: AWS::Route53Resolver::FirewallDomainList
    Properties: {{ Domains: [quiet.example] }}
  OverrideList:
    Type: AWS::Route53Resolver::FirewallDomainList
    Properties: {{ Domains: [ads.example] }}
  AlertList:
    Type: AWS::Route53Resolver::FirewallDomainList
    Properties: {{ Domains: ['*.internal.example'] }}
  MoreFirewall:
    Type: AWS::Route53Resolver::FirewallRuleGroup
    Properties:
      FirewallRules:
        - {{ Priority: 1, Action: BLOCK, BlockResponse: NODATA, FirewallDomainListId: !Ref NodataList }}
        - {{ Priority: 2, Action: BLOCK, BlockResponse: OVERRIDE, BlockOverrideDomain: db.internal.example, BlockOverrideTtl: 30, BlockOverrideDnsType: CNAME, FirewallDomainListId: !Ref OverrideList }}
        - {{ Priority: 3, Action: ALERT, FirewallDomainListId: !Ref AlertList }}
  MoreFirewallAssociation:
    Type: AWS::Route53Resolver::FirewallRuleGroupAssociation
    Properties: {{ FirewallRuleGroupId: !Ref MoreFirewall, VpcId: !Ref Vpc, Priority: 200 }}
"
        ),
    );
    let nx = dig(&t, "App", "c2.malware.example", &[]);
    assert_eq!(
        (nx["status"].as_str(), nx["answered_by"]["kind"].as_str()),
        (Some("NXDOMAIN"), Some("dns-firewall"))
    );
    // `*.malware.example` does not match malware.example itself.
    assert_eq!(
        dig(&t, "App", "malware.example", &[])["answered_by"]["kind"],
        "unknown"
    );
    let nodata = dig(&t, "App", "quiet.example", &[]);
    assert_eq!(
        (
            nodata["status"].as_str(),
            nodata["answers"].as_array().unwrap().len()
        ),
        (Some("NOERROR"), 0)
    );
    assert_eq!(nodata["answered_by"]["rule_group"], "MoreFirewall");
    let o = dig(&t, "App", "ads.example", &[]);
    assert_eq!(data(&o), ["CNAME db.internal.example.", "A 10.0.3.40"]);
    assert_eq!(o["answers"][0]["ttl"], 30);
    let alert = dig(&t, "App", "db.internal.example", &[]);
    assert_eq!(data(&alert), ["A 10.0.3.40"]);
    assert_eq!(alert["alert"]["rule_group"], "MoreFirewall");
}

#[test]
fn trace_with_a_name_destination_starts_with_the_dns_hop() {
    let t = private_dns();
    let v = trace(&t, "tcp 10.0.2.30 -> db.internal.example:5432", &[]);
    assert_verdict(&v, "DELIVERED", None, "Db");
    let first = &v["hops"][0];
    assert_eq!(
        (first["stage"].as_str(), first["resource"].as_str()),
        (Some("dns"), Some("DbRecord"))
    );
    assert!(
        first["detail"].as_str().unwrap().contains("InternalZone"),
        "{first:#}"
    );
    assert_eq!(v["packet"]["dst"], "10.0.3.40");
    let text = vpcsim([
        "trace",
        "-t",
        t.to_str().unwrap(),
        "tcp 10.0.2.30 -> db.internal.example:5432",
    ]);
    assert!(
        text.stdout.lines().nth(1).unwrap().contains("dns"),
        "{}",
        text.stdout
    );
    let nx = vpcsim([
        "trace",
        "-t",
        t.to_str().unwrap(),
        "tcp 10.0.2.30 -> nope.internal.example:5432",
    ]);
    assert_eq!(nx.code, 2);
    assert!(nx.stderr.contains("NXDOMAIN"), "{}", nx.stderr);
    // The address form is unchanged.
    let plain = trace(&t, "tcp 10.0.2.30 -> 10.0.3.40:5432", &[]);
    assert_eq!(plain["hops"][0]["stage"], "origin");
}

#[test]
fn load_errors_have_route53_codes() {
    let dir = tempfile::tempdir().unwrap();
    let t = write(
        dir.path(),
        "bad.yaml",
        r#"
Resources:
  Vpc: { Type: AWS::EC2::VPC, Properties: { CidrBlock: 10.0.0.0/16 } }
  Subnet: { Type: AWS::EC2::Subnet, Properties: { VpcId: !Ref Vpc, CidrBlock: 10.0.1.0/24 } }
  Zone: { Type: AWS::Route53::HostedZone, Properties: { Name: z.example } }
  Outside: { Type: AWS::Route53::RecordSet, Properties: { HostedZoneId: !Ref Zone, Name: a.other.example, Type: A, TTL: "60", ResourceRecords: [10.0.0.1] } }
  Caa: { Type: AWS::Route53::RecordSet, Properties: { HostedZoneId: !Ref Zone, Name: z.example, Type: CAA, TTL: "60", ResourceRecords: ['0 issue "x"'] } }
  OneAddress:
    Type: AWS::Route53Resolver::ResolverEndpoint
    Properties: { Direction: OUTBOUND, SecurityGroupIds: [], IpAddresses: [{ SubnetId: !Ref Subnet }] }
  List: { Type: AWS::Route53Resolver::FirewallDomainList, Properties: { Domains: ["bad domain!"] } }
  InAccountZone: { Type: AWS::Route53::RecordSet, Properties: { HostedZoneName: existing.example., Name: a.existing.example, Type: A, TTL: "60", ResourceRecords: [10.0.0.1] } }
"#,
    );
    let out = vpcsim(["validate", "-t", t.to_str().unwrap()]);
    let all = format!("{}{}", out.stdout, out.stderr);
    for code in [
        "InvalidChangeBatch",
        "UnsupportedRecordType",
        "InvalidRequestException",
        "ValidationException",
        "HostedZoneNotLoaded",
    ] {
        assert!(all.contains(code), "{code} missing: {all}");
    }
}

/// Read the `.pcap` vpcsim wrote: every frame's bytes.
fn read_frames(path: &Path) -> Vec<Vec<u8>> {
    let mut r = vpcsim_capture::CaptureReader::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(f) = r.next_frame() {
        out.push(f.unwrap().data.to_vec());
    }
    out
}

fn query(id: u16, name: &str, t: RecordType) -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(id).set_recursion_desired(true);
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
    m.to_vec().unwrap()
}

#[test]
fn replay_answers_queries_with_frames_that_parse_back_and_check_out() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("q.pcap");
    write_pcap(
        &cap,
        1,
        &frames(vec![
            udp(
                "10.0.2.30",
                40001,
                "10.0.0.2",
                53,
                &query(0x1111, "db.internal.example.", RecordType::A),
            ),
            udp(
                "10.0.2.30",
                40002,
                "169.254.169.253",
                53,
                &query(0x2222, "missing.internal.example.", RecordType::A),
            ),
            udp(
                "10.0.2.30",
                40003,
                "10.0.0.2",
                53,
                &query(0x3333, "a.malware.example.", RecordType::A),
            ),
        ]),
    );
    let out = dir.path().join("out");
    let v = replay(&private_dns(), &cap, &out, &[]);
    assert!(v.iter().all(|l| l["disposition"] == "DELIVERED"), "{v:?}");
    let answers = read_frames(&out.join("out/App.pcap"));
    assert_eq!(answers.len(), 3);
    let mut seen = Vec::new();
    for f in &answers {
        let p = etherparse::SlicedPacket::from_ethernet(f).unwrap();
        let Some(etherparse::NetSlice::Ipv4(ip)) = &p.net else {
            panic!("not IPv4")
        };
        let Some(etherparse::TransportSlice::Udp(u)) = &p.transport else {
            panic!("not UDP")
        };
        let h = ip.header();
        assert_eq!(
            h.header_checksum(),
            h.to_header().calc_header_checksum(),
            "IPv4 checksum"
        );
        let payload = u.payload();
        let udp_h = u.to_header();
        assert_eq!(
            udp_h.checksum,
            udp_h.calc_checksum_ipv4(&h.to_header(), payload).unwrap(),
            "UDP checksum"
        );
        assert_eq!(
            (udp_h.source_port, h.destination_addr().to_string()),
            (53, "10.0.2.30".to_string())
        );
        let m = Message::from_vec(payload).unwrap();
        assert_eq!(m.message_type(), MessageType::Response);
        seen.push((
            m.id(),
            h.source_addr().to_string(),
            udp_h.destination_port,
            m,
        ));
    }
    seen.sort_by_key(|s| s.0);
    let (id, src, port, m) = &seen[0];
    assert_eq!((*id, src.as_str(), *port), (0x1111, "10.0.0.2", 40001));
    assert_eq!(m.response_code(), ResponseCode::NoError);
    assert_eq!(m.answers().len(), 1);
    assert_eq!(m.answers()[0].ttl(), 300);
    assert!(matches!(m.answers()[0].data(), RData::A(a) if a.0.to_string() == "10.0.3.40"));
    let (id, src, _, m) = &seen[1];
    assert_eq!((*id, src.as_str()), (0x2222, "169.254.169.253"));
    assert_eq!(m.response_code(), ResponseCode::NXDomain);
    assert_eq!(m.name_servers()[0].record_type(), RecordType::SOA);
    assert_eq!(m.name_servers()[0].ttl(), 900);
    assert_eq!(
        seen[2].3.response_code(),
        ResponseCode::NXDomain,
        "DNS Firewall block"
    );
}

#[test]
fn replay_sends_no_answer_without_dns_support() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(private_dns()).unwrap();
    let off = write(
        dir.path(),
        "off.yaml",
        &base.replace("EnableDnsSupport: true", "EnableDnsSupport: false"),
    );
    let cap = dir.path().join("q.pcap");
    write_pcap(
        &cap,
        1,
        &frames(vec![udp(
            "10.0.2.30",
            40001,
            "169.254.169.253",
            53,
            &query(7, "db.internal.example.", RecordType::A),
        )]),
    );
    let out = dir.path().join("out");
    replay(&off, &cap, &out, &[]);
    assert!(!out.join("out/App.pcap").exists());
}

#[test]
fn gen_looks_names_up_before_connecting_and_replay_delivers_the_answers() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("gen.pcap");
    let t = private_dns();
    let o = vpcsim([
        "gen",
        "-t",
        t.to_str().unwrap(),
        "--flows",
        "40",
        "--out",
        cap.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let frames = read_frames(&cap);
    let dns: Vec<(usize, Message, String)> = frames
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let p = etherparse::SlicedPacket::from_ethernet(f).ok()?;
            let Some(etherparse::TransportSlice::Udp(u)) = &p.transport else {
                return None;
            };
            let Some(etherparse::NetSlice::Ipv4(ip)) = &p.net else {
                return None;
            };
            // Generated UDP flows to the internet use port 53 too, with filler payloads.
            let h = ip.header();
            let resolver: std::net::Ipv4Addr = "10.0.0.2".parse().unwrap();
            let to_resolver = h.destination_addr() == resolver && u.destination_port() == 53;
            let from_resolver = h.source_addr() == resolver && u.source_port() == 53;
            (to_resolver || from_resolver).then(|| {
                (
                    i,
                    Message::from_vec(u.payload()).unwrap(),
                    h.destination_addr().to_string(),
                )
            })
        })
        .collect();
    assert!(!dns.is_empty(), "no DNS exchange in the generated capture");
    let (qi, q, to) = &dns[0];
    assert_eq!(
        (q.message_type(), to.as_str()),
        (MessageType::Query, "10.0.0.2")
    );
    let (ai, a, _) = dns
        .iter()
        .find(|(_, m, _)| m.message_type() == MessageType::Response && m.id() == q.id())
        .unwrap();
    assert!(ai > qi);
    assert_eq!(a.response_code(), ResponseCode::NoError);
    assert!(!a.answers().is_empty());
    let out = dir.path().join("out");
    let v = replay(&t, &cap, &out, &[]);
    let answers: Vec<&Value> = v.iter().filter(|l| l["packet"]["src_port"] == 53).collect();
    assert!(!answers.is_empty());
    for l in answers {
        assert_eq!(l["disposition"], "DELIVERED", "{l}");
    }
}
