//! Managed prefix lists and VPC endpoints through the real binary (SPEC §2.4, §4.3, §10):
//! prefix-list routes and security-group rules, the rule quota, gateway endpoints (S3) with the
//! service-ranges table and its override, interface endpoints.
//!
//! Topologies: `examples/endpoints.yaml` (the README's example) and the fixtures in
//! `tests/fixtures/endpoints/`, each described in its own Description.

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;
use tempfile::TempDir;

fn endpoints() -> PathBuf {
    root().join("examples/endpoints.yaml")
}

fn fx(name: &str) -> PathBuf {
    fixture(&format!("endpoints/{name}"))
}

/// Hops of a trace whose stage is `stage`.
fn hops<'a>(v: &'a Value, stage: &str) -> Vec<&'a Value> {
    v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["stage"] == stage)
        .collect()
}

fn rules(v: &Value, stage: &str) -> Vec<String> {
    hops(v, stage)
        .iter()
        .filter_map(|h| h["rule"].as_str().map(str::to_string))
        .collect()
}

fn resources(v: &Value) -> Vec<String> {
    v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["resource"].as_str().unwrap().to_string())
        .collect()
}

// ------------------------------------------------------------------------- gateway endpoints

/// S3 from a subnet whose route table has the endpoint leaves through the endpoint; the route
/// and the security-group rule that matched name the AWS-managed prefix list.
#[test]
fn s3_via_gateway_endpoint_exits_at_the_endpoint() {
    let v = trace(&endpoints(), "tcp 10.0.1.10:40000 -> 52.216.10.20:443", &[]);
    assert_verdict(&v, "EXITED", None, "S3Endpoint");
    assert_eq!(v["egress"], "S3Endpoint", "{v:#}");
    let route = rules(&v, "route").join(" | ");
    assert!(
        route
            .contains("com.amazonaws.us-east-1.s3 [pl-63a5400a, entry 52.216.0.0/15] → S3Endpoint"),
        "{route}"
    );
    let sg = rules(&v, "sg-egress").join(" | ");
    assert!(
        sg.contains("tcp 443 to com.amazonaws.us-east-1.s3 [pl-63a5400a]"),
        "{sg}"
    );
    assert!(!resources(&v).contains(&"NatGateway".to_string()), "{v:#}");
}

/// DynamoDB has its own endpoint and prefix list; both private tables are associated with it.
#[test]
fn dynamodb_via_its_gateway_endpoint() {
    let v = trace(&endpoints(), "tcp 10.0.1.20:40000 -> 52.119.230.1:443", &[]);
    assert_verdict(&v, "EXITED", None, "DynamoDbEndpoint");
    let route = rules(&v, "route").join(" | ");
    assert!(
        route.contains("com.amazonaws.us-east-1.dynamodb [pl-02cd2c6b, entry 52.119.224.0/20]"),
        "{route}"
    );
}

/// Other internet traffic from the same subnet still goes through the NAT gateway.
#[test]
fn other_internet_traffic_goes_through_nat() {
    let v = trace(&endpoints(), "tcp 10.0.1.10:40000 -> 198.51.100.7:80", &[]);
    assert_verdict(&v, "EXITED", None, "InternetGateway");
    assert!(resources(&v).contains(&"NatGateway".to_string()), "{v:#}");
}

/// Subnet B's route table is not associated with the endpoint: its S3 traffic takes the NAT
/// gateway and the internet gateway.
#[test]
fn route_table_without_the_endpoint_goes_through_nat() {
    let v = trace(&endpoints(), "tcp 10.0.2.10:40000 -> 52.216.10.20:443", &[]);
    assert_verdict(&v, "EXITED", None, "InternetGateway");
    assert!(resources(&v).contains(&"NatGateway".to_string()), "{v:#}");
    assert!(!resources(&v).contains(&"S3Endpoint".to_string()), "{v:#}");
}

/// The service's reply comes back through the endpoint, through the subnet's NACL and the
/// instance's connection tracking.
#[test]
fn s3_reply_comes_back_through_the_endpoint() {
    let v = trace(
        &endpoints(),
        "tcp 10.0.1.10:40000 -> 52.216.10.20:443",
        &["--return"],
    );
    let r = &v["return"];
    assert_verdict(r, "DELIVERED", None, "AppA");
    assert_eq!(r["hops"][0]["resource"], "S3Endpoint", "{r:#}");
    assert!(
        rules(r, "sg-ingress").is_empty() && !hops(r, "sg-ingress").is_empty(),
        "the reply passes by tracking, not by a rule: {r:#}"
    );
}

/// Endpoint policy absent: the default policy allows everything, so the endpoint passes any TCP
/// to the service; a PolicyDocument is recorded but not evaluated, and `validate` says so.
#[test]
fn endpoint_policy_absent_allows_all_and_present_is_reported_not_evaluated() {
    let v = trace(&endpoints(), "tcp 10.0.1.20:40000 -> 54.231.1.1:8443", &[]);
    assert_verdict(&v, "EXITED", None, "S3Endpoint");

    let dir = TempDir::new().unwrap();
    let text = std::fs::read_to_string(endpoints()).unwrap().replace(
        "      RouteTableIds: [!Ref PrivateRouteTableA]\n",
        "      RouteTableIds: [!Ref PrivateRouteTableA]\n      PolicyDocument: { Statement: [{ Effect: Deny, Principal: \"*\", Action: \"s3:*\", Resource: \"*\" }] }\n",
    );
    let t = dir.path().join("with-policy.yaml");
    std::fs::write(&t, text).unwrap();
    let out = vpcsim(["validate", "-t", t.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("S3Endpoint") && all.contains("PolicyDocument is recorded but not evaluated"),
        "{all}"
    );
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 52.216.10.20:443", &[]);
    assert_verdict(&v, "EXITED", None, "S3Endpoint");
}

/// `vpcsim` with `VPCSIM_SERVICE_RANGES` set.
fn vpcsim_with_ranges(ranges: &std::path::Path, args: &[&str]) -> Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vpcsim"))
        .args(args)
        .env("VPCSIM_SERVICE_RANGES", ranges)
        .output()
        .expect("run vpcsim");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `VPCSIM_SERVICE_RANGES` replaces the built-in table: S3 is now 192.0.2.0/24 only.
#[test]
fn service_ranges_file_overrides_the_builtin_table() {
    let f = fx("s3-ranges.json");
    let t = endpoints();
    let run = |flow: &str| -> Value {
        let out = vpcsim_with_ranges(&f, &["trace", "-t", t.to_str().unwrap(), flow, "--json"]);
        assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
        serde_json::from_str(&out.stdout).unwrap()
    };
    let v = run("tcp 10.0.1.20:40000 -> 192.0.2.9:443");
    assert_verdict(&v, "EXITED", None, "S3Endpoint");
    let v = run("tcp 10.0.1.20:40000 -> 52.216.10.20:443");
    assert_verdict(&v, "EXITED", None, "InternetGateway");

    let dir = TempDir::new().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"prefixes": [{"ip_prefix": "not-a-cidr", "region": "us-east-1", "service": "S3"}]}"#,
    )
    .unwrap();
    let out = vpcsim_with_ranges(
        &bad,
        &[
            "trace",
            "-t",
            t.to_str().unwrap(),
            "tcp 10.0.1.10:1 -> 52.216.10.20:443",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("InvalidServiceRanges"),
        "{}",
        out.stderr
    );
    let missing = dir.path().join("missing.json");
    let out = vpcsim_with_ranges(&missing, &["validate", "-t", t.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stdout.contains("InvalidServiceRanges"),
        "{}",
        out.stdout
    );
}

/// A region the built-in table does not cover: the endpoint is loaded with a warning and routes
/// nothing.
#[test]
fn region_without_ranges_warns() {
    // The example's subnets name us-east-1 zones, which ap-south-2 does not have.
    let dir = TempDir::new().unwrap();
    let text = std::fs::read_to_string(endpoints()).unwrap().replace(
        "AvailabilityZone: us-east-1",
        "AvailabilityZone: ap-south-2",
    );
    let t = dir.path().join("endpoints.yaml");
    std::fs::write(&t, text).unwrap();
    let out = vpcsim([
        "validate",
        "-t",
        t.to_str().unwrap(),
        "--region",
        "ap-south-2",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("InvalidServiceRanges"), "{all}");
}

/// A gateway endpoint for a service that has none is a load error.
#[test]
fn gateway_endpoint_for_other_service_is_an_error() {
    let dir = TempDir::new().unwrap();
    let text = std::fs::read_to_string(endpoints()).unwrap().replace(
        "ServiceName: !Sub com.amazonaws.${AWS::Region}.s3",
        "ServiceName: !Sub com.amazonaws.${AWS::Region}.sqs",
    );
    let t = dir.path().join("sqs.yaml");
    std::fs::write(&t, text).unwrap();
    let out = vpcsim(["validate", "-t", t.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("InvalidServiceName"),
        "{}",
        out.stdout
    );
}

// ------------------------------------------------------------------------- interface endpoints

/// Traffic to an interface endpoint's address is delivered to the endpoint (not an instance),
/// through the subnet NACLs and the endpoint's security group.
#[test]
fn interface_endpoint_delivered() {
    for dst in ["10.0.11.4", "10.0.12.4"] {
        let v = trace(
            &endpoints(),
            &format!("tcp 10.0.1.10:40000 -> {dst}:443"),
            &[],
        );
        assert_verdict(&v, "DELIVERED", None, "SsmEndpoint");
        assert_eq!(v["delivered_to"], "SsmEndpoint", "{v:#}");
        let sg = rules(&v, "sg-ingress").join(" | ");
        assert!(
            sg.contains("EndpointSg ingress 0: tcp 443 from 10.0.1.0/24"),
            "{sg}"
        );
        assert!(!hops(&v, "nacl-ingress").is_empty(), "{v:#}");
    }
    let v = trace(
        &endpoints(),
        "tcp 10.0.1.10:40000 -> 10.0.11.4:443",
        &["--return"],
    );
    assert_verdict(&v["return"], "DELIVERED", None, "AppA");
}

/// The endpoint's security group admits only subnet A.
#[test]
fn interface_endpoint_sg_denies() {
    let v = trace(&endpoints(), "tcp 10.0.2.10:40000 -> 10.0.12.4:443", &[]);
    assert_verdict(&v, "DROPPED", Some("SG_INGRESS_DENIED"), "EndpointSg");
}

/// Private DNS is recorded: it needs DNS support and hostnames on the VPC.
#[test]
fn private_dns_needs_vpc_dns_attributes() {
    let dir = TempDir::new().unwrap();
    let text = std::fs::read_to_string(endpoints())
        .unwrap()
        .replace("EnableDnsHostnames: true", "EnableDnsHostnames: false");
    let t = dir.path().join("nodns.yaml");
    std::fs::write(&t, text).unwrap();
    let out = vpcsim(["validate", "-t", t.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stdout.contains("SsmEndpoint") && out.stdout.contains("PrivateDnsEnabled"),
        "{}",
        out.stdout
    );
}

// ------------------------------------------------------------------------- prefix lists

/// A security-group rule with a customer-managed prefix list admits its entries, names the list,
/// and admits nothing else.
#[test]
fn prefix_list_sg_rule_match_and_mismatch() {
    let v = trace(&endpoints(), "tcp 203.0.113.9:50000 -> 198.18.0.3:22", &[]);
    assert_verdict(&v, "DELIVERED", None, "Bastion");
    let sg = rules(&v, "sg-ingress").join(" | ");
    assert!(sg.contains("tcp 22 from CorpNetworks [pl-"), "{sg}");

    let v = trace(&endpoints(), "tcp 198.51.100.7:50000 -> 198.18.0.3:22", &[]);
    assert_verdict(&v, "DROPPED", Some("SG_INGRESS_DENIED"), "BastionSg");

    // The AWS-managed S3 list in an egress rule: HTTPS to S3 only, not to the internet.
    let v = trace(&endpoints(), "tcp 10.0.1.10:40000 -> 198.51.100.7:443", &[]);
    assert_verdict(&v, "DROPPED", Some("SG_EGRESS_DENIED"), "AppSg");
}

/// A prefix-list route: its entries route like CIDRs (longest prefix first), a CIDR route with
/// the same prefix as an entry wins, and the trace names the list.
#[test]
fn prefix_list_route_match_and_precedence() {
    let t = fx("prefix-routes.yaml");
    // 198.51.100.0/24 (entry) beats 198.51.0.0/16 (CIDR route): longest prefix.
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 198.51.100.7:443", &[]);
    assert_eq!(v["disposition"], "EXITED", "{v:#}");
    let route = rules(&v, "route");
    assert!(
        route[0].starts_with("PartnerNets [pl-")
            && route[0].contains("entry 198.51.100.0/24] → Firewall (AppPartners)"),
        "{route:?}"
    );
    assert!(!hops(&v, "appliance").is_empty(), "{v:#}");

    // 203.0.113.0/25: the CIDR route and the entry have the same prefix; the CIDR route wins.
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 203.0.113.7:443", &[]);
    let route = rules(&v, "route");
    assert!(
        route[0].starts_with("203.0.113.0/25 → NatGateway (AppSameAsEntry)"),
        "{route:?}"
    );
    assert!(hops(&v, "appliance").is_empty(), "{v:#}");

    // Not in the list: the default route.
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 203.0.113.200:443", &[]);
    let route = rules(&v, "route");
    assert!(
        route[0].starts_with("0.0.0.0/0 → NatGateway (AppDefault)"),
        "{route:?}"
    );
}

/// A prefix-list reference counts its MaxEntries against the 60-rule quota, per family.
#[test]
fn prefix_list_counts_against_the_rule_quota() {
    let out = vpcsim(["validate", "-t", fx("quota.yaml").to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("TooManySg: RulesPerSecurityGroupLimitExceeded: 61 IPv4 inbound rules"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("FamilySg"), "{}", out.stdout);
}

/// Unknown prefix-list ids are load errors with AWS's code.
#[test]
fn unknown_prefix_list_is_an_error() {
    let dir = TempDir::new().unwrap();
    let text = std::fs::read_to_string(endpoints()).unwrap().replace(
        "DestinationPrefixListId: pl-63a5400a",
        "DestinationPrefixListId: pl-0000000000",
    );
    let t = dir.path().join("unknown.yaml");
    std::fs::write(&t, text).unwrap();
    let out = vpcsim(["validate", "-t", t.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stdout.contains("InvalidPrefixListID.NotFound"),
        "{}",
        out.stdout
    );
}

// ------------------------------------------------------------------------- replay

/// Replay: frames to S3 from subnet A end in out/S3Endpoint.pcap, from subnet B in
/// out/InternetGateway.pcap (after NAT).
#[test]
fn replay_writes_endpoint_output() {
    let dir = TempDir::new().unwrap();
    let cap = dir.path().join("in.pcap");
    let frames = vec![
        Frame {
            ts_ns: 1_000_000_000,
            data: tcp("10.0.1.10", 40000, "52.216.10.20", 443, 2, b""),
        },
        Frame {
            ts_ns: 1_000_100_000,
            data: tcp("10.0.2.10", 40001, "52.216.10.20", 443, 2, b""),
        },
        Frame {
            ts_ns: 1_000_200_000,
            data: tcp("52.216.10.20", 443, "10.0.1.10", 40000, 18, b""),
        },
    ];
    write_pcap(&cap, 1, &frames);
    let out = dir.path().join("out");
    let lines = replay(&endpoints(), &cap, &out, &[]);
    assert_eq!(lines[0]["disposition"], "EXITED", "{lines:?}");
    assert_eq!(lines[0]["egress"], "S3Endpoint", "{lines:?}");
    assert_eq!(lines[1]["egress"], "InternetGateway", "{lines:?}");
    assert_eq!(lines[2]["disposition"], "DELIVERED", "{lines:?}");
    assert_eq!(lines[2]["delivered_to"], "AppA", "{lines:?}");
    assert!(out.join("out/S3Endpoint.pcap").is_file());
    assert!(out.join("out/InternetGateway.pcap").is_file());
}

// ------------------------------------------------------------------------- README

/// Every `vpcsim` command in the README's "Prefix lists and VPC endpoints" section prints what
/// the README shows.
#[test]
fn readme_section_shows_real_output() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("## Prefix lists and VPC endpoints")
        .expect("README section");
    let rest = &readme[start + 3..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let mut checked = 0;
    for block in section.split("```console\n").skip(1) {
        let block = &block[..block.find("```").unwrap()];
        let (cmd, shown) = block.split_once('\n').unwrap();
        let cmd = cmd.strip_prefix("$ vpcsim ").expect("a vpcsim command");
        // Words, with single-quoted strings kept whole (the README quotes only flows).
        let words: Vec<String> = cmd
            .split('\'')
            .enumerate()
            .flat_map(|(i, part)| {
                if i % 2 == 1 {
                    vec![part.to_string()]
                } else {
                    part.split_whitespace().map(str::to_string).collect()
                }
            })
            .collect();
        let out = vpcsim(&words);
        assert_eq!(out.stdout.trim_end(), shown.trim_end(), "{cmd}");
        checked += 1;
    }
    assert_eq!(checked, 3, "commands in the section");
}
