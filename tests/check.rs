//! `vpcsim check`: intent checks through the real binary. Every assertion kind passing and
//! failing, every selector kind, did-you-mean, exit codes 0/1/2, JUnit and SARIF parsed back.

mod common;

use common::{example, fixture, root, vpcsim, Output};
use serde_json::Value;
use std::path::Path;

fn policy(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let p = dir.path().join("policy.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

fn check(topology: &Path, policy: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "check".to_string(),
        "-t".into(),
        topology.display().to_string(),
        policy.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    vpcsim(&args)
}

fn check_json(topology: &Path, policy: &Path) -> (i32, Value) {
    let out = check(topology, policy, &["--json"]);
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    let v = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    (out.code, v)
}

/// The result of assertion `name`.
fn result<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no result {name}: {v:#}"))
}

fn example_named(name: &str) -> std::path::PathBuf {
    root().join("examples").join(name)
}

#[test]
fn example_policy_passes_with_one_line_per_assertion() {
    let out = check(&example(), &example_named("two-tier.policy.yaml"), &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let passes = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("PASS  "))
        .count();
    assert_eq!(passes, 6, "{}", out.stdout);
    assert!(!out.stdout.contains("FAIL"), "{}", out.stdout);
    let (_, v) = check_json(&example(), &example_named("two-tier.policy.yaml"));
    let kinds: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    for k in [
        "reach",
        "isolated",
        "passes-through",
        "no-open-ingress",
        "equivalent",
    ] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
    assert_eq!(v["failed"], 0);
}

#[test]
fn every_kind_fails_with_a_counterexample_and_its_trace() {
    let p = fixture("check/two-tier-fail.policy.yaml");
    let (code, v) = check_json(&example(), &p);
    assert_eq!(code, 1);
    assert_eq!(v["failed"], 5, "{v:#}");
    let r = result(&v, "web-ssh-to-app");
    assert_eq!(r["passed"], false);
    assert_eq!(r["resource"]["logical_id"], "PrivateNacl", "{r:#}");
    let c = &r["counterexample"];
    assert_eq!(c["from"], "WebInstance");
    assert_eq!(c["flow"], "tcp 10.0.1.20:40000 -> 10.0.2.30:22");
    assert!(
        c["trace"].as_str().unwrap().contains("NACL_INGRESS_DENIED"),
        "{c:#}"
    );
    // The counterexample is a real violation: `vpcsim trace` drops it too.
    let t = common::trace(
        &example(),
        "tcp 10.0.1.20:40000 -> 10.0.2.30:22",
        &["--from", "WebInstance"],
    );
    assert_eq!(t["disposition"], "DROPPED");

    let r = result(&v, "web-isolated-from-internet");
    assert_eq!(r["counterexample"]["from"], "internet");
    assert!(
        r["counterexample"]["flow"]
            .as_str()
            .unwrap()
            .ends_with("198.18.0.3:443"),
        "{r:#}"
    );
    assert!(r["counterexample"]["trace"]
        .as_str()
        .unwrap()
        .contains("DELIVERED to WebInstance"));

    let r = result(&v, "app-egress-through-web");
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains("avoids WebInstance"),
        "{r:#}"
    );
    assert!(
        r["counterexample"]["trace"]
            .as_str()
            .unwrap()
            .contains("NatGateway"),
        "{r:#}"
    );

    let r = result(&v, "no-https-from-anywhere");
    assert_eq!(r["resource"]["logical_id"], "WebSg");
    assert_eq!(
        r["counterexample"]["flow"],
        "tcp 198.51.100.7:40000 -> 198.18.0.3:443"
    );

    let r = result(&v, "same-as-app-port-9090");
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains("AppInstanceA → AppInstanceB"),
        "{r:#}"
    );
    assert!(
        r["counterexample"]["flow"]
            .as_str()
            .unwrap()
            .ends_with(":9090"),
        "{r:#}"
    );
}

#[test]
fn text_failure_shows_counterexample_trace_and_reproduce_line() {
    let out = check(&example(), &fixture("check/two-tier-fail.policy.yaml"), &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("FAIL  web-ssh-to-app (reach)"),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("counterexample (from WebInstance): tcp 10.0.1.20:40000 -> 10.0.2.30:22"));
    assert!(out
        .stdout
        .contains("DROPPED at PrivateNacl: NACL_INGRESS_DENIED"));
    assert!(out.stdout.contains("reproduce: vpcsim trace -t"));
    assert!(out.stdout.contains("5 assertion(s): 0 passed, 5 failed"));
}

#[test]
fn passes_through_an_appliance_and_through_a_nat_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(
        &dir,
        "version: 1
assertions:
  - name: inspected
    passes-through: { from: internet, to: Web, through: Firewall }
  - name: not-inspected-by-web
    passes-through: { from: internet, to: Firewall, through: Web }
",
    );
    let (code, v) = check_json(&example_named("ingress-inspection.yaml"), &p);
    assert_eq!(code, 1);
    assert_eq!(result(&v, "inspected")["passed"], true, "{v:#}");
    let r = result(&v, "not-inspected-by-web");
    assert_eq!(r["passed"], false, "{v:#}");
    assert!(r["counterexample"]["trace"]
        .as_str()
        .unwrap()
        .contains("Firewall"));
}

#[test]
fn every_selector_kind_resolves() {
    // The AWS id of WebSg, from a failing no-open-ingress.
    let (_, v) = check_json(&example(), &fixture("check/two-tier-fail.policy.yaml"));
    let sg_id = result(&v, "no-https-from-anywhere")["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sg_id.starts_with("sg-"));
    let dir = tempfile::tempdir().unwrap();
    let p = policy(
        &dir,
        &format!(
            "version: 1
assertions:
  - name: aws-id
    no-open-ingress: {{ groups: {sg_id}, ports: [443] }}
  - name: logical-id
    reach: {{ from: internet, to: WebInstance, protocol: tcp, ports: [443] }}
  - name: name-tag
    reach: {{ from: internet, to: web, protocol: tcp, ports: [443] }}
  - name: tag
    reach: {{ from: internet, to: {{ tag: {{ Name: web }} }}, protocol: tcp, ports: [80] }}
  - name: type
    isolated: {{ from: internet, to: {{ type: AWS::EC2::Instance }}, protocol: tcp, ports: [8080] }}
  - name: subnet
    isolated: {{ from: internet, to: {{ subnet: PrivateSubnetB }} }}
  - name: vpc
    isolated: {{ from: internet, to: {{ vpc: two-tier }}, protocol: udp }}
  - name: cidr
    isolated: {{ from: internet, to: 10.0.2.0/24 }}
  - name: list
    reach: {{ from: [AppInstanceA, AppInstanceB], to: internet, protocol: tcp, ports: [443] }}
"
        ),
    );
    let (code, v) = check_json(&example(), &p);
    assert_eq!(code, 1, "{v:#}");
    let r = result(&v, "aws-id");
    assert_eq!(r["passed"], false);
    assert_eq!(r["resource"]["id"], sg_id.as_str());
    for name in [
        "logical-id",
        "name-tag",
        "tag",
        "type",
        "subnet",
        "vpc",
        "cidr",
        "list",
    ] {
        assert_eq!(result(&v, name)["passed"], true, "{name}: {v:#}");
    }
}

#[test]
fn onprem_and_a_tag_on_a_customer_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(
        &dir,
        "version: 1
assertions:
  - name: office-ssh
    reach: { from: OfficeVpn, to: App, protocol: tcp, ports: [22] }
  - name: every-site-ssh
    reach: { from: onprem, to: App, protocol: tcp, ports: [22] }
  - name: datacenter-by-tag-isolated
    isolated: { from: { tag: { \"vpcsim:prefixes\": 172.16.0.0/12 } }, to: App, protocol: tcp, ports: [22] }
",
    );
    let (code, v) = check_json(&example_named("vpn.yaml"), &p);
    assert_eq!(code, 1);
    assert_eq!(result(&v, "office-ssh")["passed"], true, "{v:#}");
    let r = result(&v, "every-site-ssh");
    assert_eq!(r["passed"], false);
    assert_eq!(r["counterexample"]["from"], "DataCenterVpn", "{r:#}");
    assert_eq!(
        result(&v, "datacenter-by-tag-isolated")["passed"],
        true,
        "{v:#}"
    );
}

#[test]
fn unknown_selector_gets_did_you_mean_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(
        &dir,
        "version: 1
assertions:
  - name: typo
    reach:
      from: internet
      to: WebInstanse
      protocol: tcp
      ports: [443]
  - name: type-typo
    isolated: { from: internet, to: { type: AWS::EC2::Instanse } }
",
    );
    let out = check(&example(), &p, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(
        out.stderr.contains(":6: assertion typo, key `to`: no resource named \"WebInstanse\"; did you mean WebInstance?"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "no resource type named \"AWS::EC2::Instanse\"; did you mean AWS::EC2::Instance"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_policies_exit_2_with_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    for (text, want) in [
        ("version: 2\nassertions: []\n", ":1: key `version`"),
        (
            "version: 1\nassertions:\n  - name: a\n    reach: { form: internet, to: web }\n",
            "unknown field `form`",
        ),
        (
            "version: 1\nassertions:\n  - name: a\n    reach: { from: internet, to: web }\n    isolated: { from: internet, to: web }\n",
            "exactly one of",
        ),
        (
            "version: 1\nassertions:\n  - name: a\n    reach: { from: internet, to: web, ports: [443] }\n",
            "key `ports`: ports need protocol tcp or udp",
        ),
        (
            "version: 1\nassertions:\n  - name: a\n    passes-through: { from: internet, to: web }\n",
            "needs `through`",
        ),
        (
            "version: 1\nassertions:\n  - name: a\n    equivalent: { template: nowhere.yaml }\n",
            "key `template`",
        ),
        ("version: 1\nassertions: [\n", "policy.yaml:"),
    ] {
        let p = policy(&dir, text);
        let out = check(&example(), &p, &[]);
        assert_eq!(out.code, 2, "{text}: {}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(want), "{text}: {}", out.stderr);
    }
    // A topology that does not load is exit 2 as well.
    let p = policy(&dir, "version: 1\nassertions: []\n");
    let out = check(Path::new("/nonexistent.yaml"), &p, &[]);
    assert_eq!(out.code, 2);
}

#[test]
fn junit_xml_has_one_testcase_per_assertion() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("check.xml");
    let out = check(
        &example(),
        &fixture("check/two-tier-fail.policy.yaml"),
        &["--junit", xml.to_str().unwrap()],
    );
    assert_eq!(out.code, 1);
    let text = std::fs::read_to_string(&xml).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1);
    assert_eq!(suites[0].attribute("tests"), Some("5"));
    assert_eq!(suites[0].attribute("failures"), Some("5"));
    let cases: Vec<_> = suites[0]
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 5);
    let ssh = cases
        .iter()
        .find(|c| c.attribute("name") == Some("web-ssh-to-app"))
        .unwrap();
    let failure = ssh.children().find(|n| n.has_tag_name("failure")).unwrap();
    assert!(failure
        .attribute("message")
        .unwrap()
        .contains("NACL_INGRESS_DENIED"));
    assert!(failure
        .text()
        .unwrap()
        .contains("tcp 10.0.1.20:40000 -> 10.0.2.30:22"));

    // A passing run: test cases without failures.
    let out = check(
        &example(),
        &example_named("two-tier.policy.yaml"),
        &["--junit", xml.to_str().unwrap()],
    );
    assert_eq!(out.code, 0);
    let text = std::fs::read_to_string(&xml).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 6);
    assert!(doc.descendants().all(|n| !n.has_tag_name("failure")));
}

#[test]
fn sarif_has_one_result_per_violation_located_at_the_resource() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("check.sarif");
    let out = check(
        &example(),
        &fixture("check/two-tier-fail.policy.yaml"),
        &["--sarif", sarif.to_str().unwrap()],
    );
    assert_eq!(out.code, 1);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "vpcsim");
    assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 5);
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    let sg = results
        .iter()
        .find(|r| r["ruleId"] == "no-https-from-anywhere")
        .unwrap();
    assert_eq!(sg["level"], "error");
    let loc = &sg["locations"][0];
    assert!(loc["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("examples/two-tier.yaml"));
    // The line of `WebSg:` in the template.
    let template = std::fs::read_to_string(example()).unwrap();
    let line = template.lines().position(|l| l.trim() == "WebSg:").unwrap() + 1;
    assert_eq!(loc["physicalLocation"]["region"]["startLine"], line);
    assert_eq!(loc["logicalLocations"][0]["name"], "WebSg");
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        assert!(run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|rule| rule["id"] == id));
    }
    // No violation, no result.
    let out = check(
        &example(),
        &example_named("two-tier.policy.yaml"),
        &["--sarif", sarif.to_str().unwrap()],
    );
    assert_eq!(out.code, 0);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert!(v["runs"][0]["results"].as_array().unwrap().is_empty());
}

#[test]
fn reach_ranges_over_client_ports_unless_told_otherwise() {
    // The private ACL admits replies to 1024-65535 only: a client on port 80 gets no reply.
    let dir = tempfile::tempdir().unwrap();
    let p = policy(
        &dir,
        "version: 1
assertions:
  - name: ephemeral
    reach: { from: AppInstanceA, to: internet, protocol: tcp, ports: [443] }
  - name: low-source-ports
    reach: { from: AppInstanceA, to: internet, protocol: tcp, ports: [443], source-ports: [\"0-1023\"] }
",
    );
    let (code, v) = check_json(&example(), &p);
    assert_eq!(code, 1);
    assert_eq!(result(&v, "ephemeral")["passed"], true, "{v:#}");
    let r = result(&v, "low-source-ports");
    assert_eq!(r["passed"], false);
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains("reply is dropped by PrivateNacl"),
        "{r:#}"
    );
    let flow = r["counterexample"]["flow"].as_str().unwrap();
    let sport: u16 = flow
        .split(' ')
        .nth(1)
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(sport < 1024, "{flow}");
}

#[test]
fn no_open_ingress_groups_by_name_vpc_or_instance() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(
        &dir,
        "version: 1
assertions:
  - name: by-vpc
    no-open-ingress: { ports: [443], groups: { vpc: two-tier } }
  - name: by-instance
    no-open-ingress: { ports: [443], groups: WebInstance }
  - name: app-only
    no-open-ingress: { ports: [443], groups: AppInstanceA }
  - name: app-group
    no-open-ingress: { ports: [\"0-65535\"], groups: AppSg }
",
    );
    let (code, v) = check_json(&example(), &p);
    assert_eq!(code, 1);
    for name in ["by-vpc", "by-instance"] {
        let r = result(&v, name);
        assert_eq!(r["passed"], false, "{name}");
        assert_eq!(r["resource"]["logical_id"], "WebSg", "{name}");
    }
    assert_eq!(result(&v, "app-only")["passed"], true);
    assert_eq!(result(&v, "app-group")["passed"], true);
}

#[test]
fn a_load_balancer_selects_its_nodes() {
    // The Network Load Balancer's nodes are its interfaces: its public addresses are a
    // destination (from inside the VPC there is no route to them: the main table has none).
    let dir = tempfile::tempdir().unwrap();
    let p = policy(
        &dir,
        "version: 1
assertions:
  - name: client-to-nlb
    reach: { from: Client, to: Nlb, protocol: tcp, ports: [80] }
",
    );
    let (code, v) = check_json(&example_named("nlb.yaml"), &p);
    assert_eq!(code, 1, "{v:#}");
    let r = result(&v, "client-to-nlb");
    assert!(r["summary"].as_str().unwrap().contains("NO_ROUTE"), "{r:#}");
}

#[test]
fn ipv6_assertions() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(
        &dir,
        "version: 1
assertions:
  - name: server-out
    reach: { from: Server, to: internet, protocol: tcp, ports: [443], ipv6: true }
  - name: server-not-reachable-from-internet
    isolated: { from: internet, to: Server, ipv6: true }
  - name: through-eigw
    passes-through: { from: Server, to: internet, through: EgressOnlyGateway, ipv6: true }
  - name: no-v6-ssh
    no-open-ingress: { ports: [22], cidrs: [\"::/0\"] }
",
    );
    let (code, v) = check_json(&fixture("drops/egress-only-ipv6.yaml"), &p);
    assert_eq!(code, 1);
    for name in [
        "server-out",
        "server-not-reachable-from-internet",
        "through-eigw",
    ] {
        assert_eq!(result(&v, name)["passed"], true, "{name}: {v:#}");
    }
    let r = result(&v, "no-v6-ssh");
    assert_eq!(r["passed"], false);
    let flow = r["counterexample"]["flow"].as_str().unwrap();
    assert!(flow.starts_with("tcp [2001:db8::7]:40000 -> ["), "{flow}");
    // The counterexample parses as `vpcsim trace` takes it.
    common::trace(
        &fixture("drops/egress-only-ipv6.yaml"),
        flow,
        &["--from", "internet"],
    );
}
