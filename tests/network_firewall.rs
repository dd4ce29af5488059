//! AWS Network Firewall through the real `vpcsim` binary (SPEC §20): endpoints as route targets
//! in subnet and gateway route tables, the stateless engine (every match attribute and action,
//! custom actions, default actions), the stateful engine in both rule orders with every default
//! action, domain lists traced with `--sni` and `--header 'Host: …'`, the Suricata subset,
//! rules outside it, asymmetric routing, reachability, `examples/inspection.yaml` and the
//! `aws-samples-anfw` corpus templates.
//!
//! Most tests fill `tests/fixtures/network_firewall/base.yaml` (App 10.0.1.10 behind firewall
//! endpoint A; the internet gateway's route table sends replies to endpoint `ReturnEndpoint`)
//! with a policy and rule groups of their own.

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;
use tempfile::TempDir;

const OUT: &str = "tcp 10.0.1.10:40000 -> 198.51.100.7:443";

/// The base fixture with `policy` (a YAML flow mapping) and `groups` (rule group resources).
fn topology(policy: &str, groups: &[(&str, &str)]) -> (TempDir, PathBuf) {
    topology_with(policy, groups, "")
}

/// [`topology`] with more resources (`extra`, YAML at resource level).
fn topology_with(policy: &str, groups: &[(&str, &str)], extra: &str) -> (TempDir, PathBuf) {
    let base = std::fs::read_to_string(fixture("network_firewall/base.yaml")).unwrap();
    let mut g = String::from(extra);
    for (name, props) in groups {
        g.push_str(&format!(
            "  {name}:\n    Type: AWS::NetworkFirewall::RuleGroup\n    Properties: {props}\n"
        ));
    }
    let text = base
        .replace(
            r#"{StatelessDefaultActions: ["aws:pass"], StatelessFragmentDefaultActions: ["aws:pass"]}"#,
            policy,
        )
        .replace("  # rule groups\n", &g);
    assert_ne!(text, base, "the fixture's placeholders moved");
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("firewall.yaml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// A policy forwarding everything to stateful groups `refs` (`[{ResourceArn: ..}]`), with
/// `extra` entries appended.
fn stateful_policy(refs: &str, extra: &str) -> String {
    format!(
        r#"{{StatelessDefaultActions: ["aws:forward_to_sfe"], StatelessFragmentDefaultActions: ["aws:forward_to_sfe"], StatefulRuleGroupReferences: {refs}{extra}}}"#
    )
}

/// A stateful group of Suricata rules (`\n`-separated), in `order`.
fn suricata_group(rules: &str, order: &str) -> String {
    format!(
        r#"{{RuleGroupName: g, Type: STATEFUL, Capacity: 100, RuleGroup: {{RulesSource: {{RulesString: "{rules}"}}, StatefulRuleOptions: {{RuleOrder: {order}}}}}}}"#
    )
}

fn fw_hops(v: &Value) -> Vec<&Value> {
    v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["stage"] == "network-firewall")
        .collect()
}

/// The rule column of the firewall's last hop.
fn last_rule(v: &Value) -> String {
    fw_hops(v)
        .last()
        .unwrap_or_else(|| panic!("no firewall hop: {v:#}"))["rule"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn dropped(v: &Value, reason: &str, rule: &str) {
    assert_verdict(v, "DROPPED", Some(reason), "Firewall");
    assert_eq!(last_rule(v), rule, "{v:#}");
}

fn exited(v: &Value) {
    assert_verdict(v, "EXITED", None, "Igw");
    assert!(!fw_hops(v).is_empty(), "{v:#}");
}

// ---- stateless engine ------------------------------------------------------------------------

const STATELESS: &str = r#"{RuleGroupName: sl, Type: STATELESS, Capacity: 100, RuleGroup: {RulesSource: {StatelessRulesAndCustomActions: {
  CustomActions: [{ActionName: Counted, ActionDefinition: {PublishMetricAction: {Dimensions: [{Value: counted}]}}}],
  StatelessRules: [
    {Priority: 10, RuleDefinition: {Actions: ["aws:drop"], MatchAttributes: {Sources: [{AddressDefinition: 10.0.1.10/32}], Destinations: [{AddressDefinition: 198.51.100.0/24}], Protocols: [6], DestinationPorts: [{FromPort: 22, ToPort: 22}]}}},
    {Priority: 20, RuleDefinition: {Actions: ["aws:drop", Counted], MatchAttributes: {SourcePorts: [{FromPort: 5000, ToPort: 5999}]}}},
    {Priority: 30, RuleDefinition: {Actions: ["aws:pass"], MatchAttributes: {Protocols: [17], DestinationPorts: [{FromPort: 53, ToPort: 53}]}}},
    {Priority: 40, RuleDefinition: {Actions: ["aws:drop"], MatchAttributes: {Protocols: [6], DestinationPorts: [{FromPort: 8443, ToPort: 8443}], TCPFlags: [{Flags: [ACK], Masks: [ACK, SYN]}]}}},
    {Priority: 50, RuleDefinition: {Actions: ["aws:forward_to_sfe"], MatchAttributes: {Destinations: [{AddressDefinition: 203.0.113.0/24}]}}}
  ]}}}}"#;

fn stateless_policy(default: &str) -> String {
    format!(
        r#"{{StatelessDefaultActions: ["{default}"], StatelessFragmentDefaultActions: ["aws:drop"], StatelessRuleGroupReferences: [{{ResourceArn: !Ref Sl, Priority: 1}}], StatefulRuleGroupReferences: [{{ResourceArn: !Ref Sf}}]}}"#
    )
}

const DROP_SMTP: &str = r#"{RuleGroupName: sf, Type: STATEFUL, Capacity: 10, RuleGroup: {RulesSource: {RulesString: "drop tcp any any -> any 25 (msg:\"smtp\"; sid:25;)"}}}"#;

#[test]
fn stateless_rules_match_addresses_ports_and_protocols() {
    let policy = stateless_policy("aws:forward_to_sfe");
    let (_d, t) = topology(&policy, &[("Sl", STATELESS), ("Sf", DROP_SMTP)]);
    // Sources, destinations, protocol and destination port: priority 10.
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 198.51.100.7:22", &[]);
    dropped(
        &v,
        "NETWORK_FIREWALL_DROPPED",
        "stateless Sl priority 10: aws:drop",
    );
    // Another destination: not rule 10.
    exited(&trace(&t, "tcp 10.0.1.10:40000 -> 192.0.2.7:22", &[]));
    // Source ports, with a custom action that publishes a metric.
    let v = trace(&t, "tcp 10.0.1.10:5500 -> 192.0.2.7:80", &[]);
    dropped(
        &v,
        "NETWORK_FIREWALL_DROPPED",
        "stateless Sl priority 20: aws:drop",
    );
    let detail = fw_hops(&v)[0]["detail"].as_str().unwrap();
    assert!(detail.contains("CustomAction=Counted"), "{detail}");
    // aws:pass: no stateful inspection at all.
    let v = trace(&t, "udp 10.0.1.10:40000 -> 198.51.100.7:53", &[]);
    exited(&v);
    assert_eq!(fw_hops(&v).len(), 1, "{v:#}");
    assert_eq!(last_rule(&v), "stateless Sl priority 30: aws:pass");
    // aws:forward_to_sfe by rule, then the stateful drop of SMTP.
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 203.0.113.9:25", &[]);
    dropped(&v, "NETWORK_FIREWALL_DROPPED", "stateful Sf sid 25: drop");
    assert_eq!(
        fw_hops(&v)[0]["rule"],
        "stateless Sl priority 50: aws:forward_to_sfe"
    );
    // The stateless default forwards what no rule matched.
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 192.0.2.7:25", &[]);
    assert_eq!(
        fw_hops(&v)[0]["rule"],
        "stateless default: aws:forward_to_sfe"
    );
    dropped(&v, "NETWORK_FIREWALL_DROPPED", "stateful Sf sid 25: drop");
}

#[test]
fn stateless_tcp_flags_look_only_at_masked_bits() {
    let policy = stateless_policy("aws:forward_to_sfe");
    let (_d, t) = topology(&policy, &[("Sl", STATELESS), ("Sf", DROP_SMTP)]);
    // A SYN has ACK clear: the rule (ACK set, SYN clear) does not match it.
    exited(&trace(&t, "tcp 10.0.1.10:40000 -> 198.51.100.7:8443", &[]));
    // The request's data segment (PSH|ACK) matches; its handshake went through first.
    let v = trace(
        &t,
        "tcp 10.0.1.10:40000 -> 198.51.100.7:8443",
        &["--sni", "a.example"],
    );
    dropped(
        &v,
        "NETWORK_FIREWALL_DROPPED",
        "stateless Sl priority 40: aws:drop",
    );
}

#[test]
fn stateless_default_actions_drop_or_pass() {
    let (_d, t) = topology(
        &stateless_policy("aws:drop"),
        &[("Sl", STATELESS), ("Sf", DROP_SMTP)],
    );
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 192.0.2.7:25", &[]);
    dropped(
        &v,
        "NETWORK_FIREWALL_DROPPED",
        "stateless default: aws:drop",
    );
    let (_d, t) = topology(
        &stateless_policy("aws:pass"),
        &[("Sl", STATELESS), ("Sf", DROP_SMTP)],
    );
    // aws:pass skips the stateful engine: SMTP goes out.
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 192.0.2.7:25", &[]);
    exited(&v);
    assert_eq!(last_rule(&v), "stateless default: aws:pass");
}

#[test]
fn replay_counts_custom_actions_in_the_summary() {
    let policy = stateless_policy("aws:forward_to_sfe");
    let (d, t) = topology(&policy, &[("Sl", STATELESS), ("Sf", DROP_SMTP)]);
    let cap = d.path().join("in.pcap");
    write_pcap(
        &cap,
        1,
        &frames(vec![
            tcp("10.0.1.10", 5500, "192.0.2.7", 80, 0x02, &[]),
            tcp("10.0.1.10", 5501, "192.0.2.7", 80, 0x02, &[]),
            tcp("10.0.1.10", 40000, "192.0.2.7", 80, 0x02, &[]),
        ]),
    );
    let out = d.path().join("out");
    let v = replay(&t, &cap, &out, &[]);
    assert_eq!(v[0]["reason"], "NETWORK_FIREWALL_DROPPED", "{:#}", v[0]);
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["network_firewall"]["custom_actions"]["Firewall"]["CustomAction=Counted"], 2,
        "{:#}",
        summary["network_firewall"]
    );
}

// ---- stateful engine: orders and default actions -----------------------------------------------

const DROP_THEN_PASS: &str = r#"drop tcp any any -> any 80 (msg:\"drop web\"; sid:1;)\npass tcp any any -> any 80 (msg:\"pass web\"; sid:2;)"#;

#[test]
fn default_action_order_evaluates_pass_rules_first() {
    let (_d, t) = topology(
        &stateful_policy("[{ResourceArn: !Ref G}]", ""),
        &[("G", &suricata_group(DROP_THEN_PASS, "DEFAULT_ACTION_ORDER"))],
    );
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 198.51.100.7:80", &["--return"]);
    exited(&v);
    assert_eq!(last_rule(&v), "stateful G sid 2: pass");
    // The reply belongs to a passed flow.
    assert_verdict(&v["return"], "DELIVERED", None, "App");
    assert!(last_rule(&v["return"]).contains("sid 2"));
}

#[test]
fn strict_order_takes_rules_as_written() {
    let (_d, t) = topology(
        &stateful_policy(
            "[{ResourceArn: !Ref G, Priority: 10}]",
            ", StatefulEngineOptions: {RuleOrder: STRICT_ORDER}",
        ),
        &[("G", &suricata_group(DROP_THEN_PASS, "STRICT_ORDER"))],
    );
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 198.51.100.7:80", &[]);
    dropped(&v, "NETWORK_FIREWALL_DROPPED", "stateful G sid 1: drop");
    assert!(fw_hops(&v).last().unwrap()["detail"]
        .as_str()
        .unwrap()
        .contains("drop web"));
}

const ALLOW_EXAMPLE: &str = r#"{RuleGroupName: allow, Type: STATEFUL, Capacity: 10, RuleGroup: {RulesSource: {RulesSourceList: {Targets: [".example.com"], TargetTypes: [TLS_SNI, HTTP_HOST], GeneratedRulesType: ALLOWLIST}}, StatefulRuleOptions: {RuleOrder: STRICT_ORDER}}}"#;

fn strict_with_defaults(defaults: &str) -> (TempDir, PathBuf) {
    topology(
        &stateful_policy(
            "[{ResourceArn: !Ref Allow, Priority: 10}]",
            &format!(
                ", StatefulDefaultActions: [{defaults}], StatefulEngineOptions: {{RuleOrder: STRICT_ORDER}}"
            ),
        ),
        &[("Allow", ALLOW_EXAMPLE)],
    )
}

#[test]
fn drop_strict_drops_even_the_handshake() {
    let (_d, t) = strict_with_defaults(r#""aws:drop_strict""#);
    let v = trace(&t, OUT, &[]);
    dropped(
        &v,
        "NETWORK_FIREWALL_DROPPED",
        "stateful default: aws:drop_strict",
    );
    // With --sni the handshake is traced, since it is what gets dropped.
    let v = trace(&t, OUT, &["--sni", "www.example.com"]);
    dropped(
        &v,
        "NETWORK_FIREWALL_DROPPED",
        "stateful default: aws:drop_strict",
    );
}

#[test]
fn drop_established_lets_handshakes_through_and_domain_rules_decide() {
    let (_d, t) = strict_with_defaults(r#""aws:drop_established""#);
    // The SYN is not established: it passes, and so does its reply.
    let v = trace(&t, OUT, &["--return"]);
    exited(&v);
    assert_eq!(last_rule(&v), "stateful default: pass");
    assert_verdict(&v["return"], "DELIVERED", None, "App");
    // The ClientHello of an allowed name passes (wildcard: the domain itself and subdomains).
    for name in ["www.example.com", "example.com", "A.B.EXAMPLE.COM"] {
        let v = trace(&t, OUT, &["--sni", name, "--return"]);
        exited(&v);
        assert_eq!(last_rule(&v), "stateful Allow sid 1: pass", "{name}");
        assert_verdict(&v["return"], "DELIVERED", None, "App");
    }
    // Another name: the generated catch-all drops it.
    let v = trace(&t, OUT, &["--sni", "badexample.com"]);
    dropped(&v, "NETWORK_FIREWALL_DROPPED", "stateful Allow sid 3: drop");
    // HTTP by Host header, the port ignored.
    let http = "tcp 10.0.1.10:40000 -> 198.51.100.7:80";
    let v = trace(
        &t,
        http,
        &["--http", "GET /a", "--header", "Host: api.example.com:80"],
    );
    exited(&v);
    assert_eq!(last_rule(&v), "stateful Allow sid 2: pass");
    let v = trace(&t, http, &["--header", "Host: evil.test"]);
    dropped(&v, "NETWORK_FIREWALL_DROPPED", "stateful Allow sid 4: drop");
}

#[test]
fn alert_defaults_log_without_dropping() {
    let (_d, t) = strict_with_defaults(r#""aws:alert_strict""#);
    let v = trace(&t, OUT, &[]);
    exited(&v);
    let h = fw_hops(&v);
    assert!(h.last().unwrap()["detail"]
        .as_str()
        .unwrap()
        .contains("aws:alert_strict logs an alert"));
    let (_d, t) = strict_with_defaults(r#""aws:drop_established", "aws:alert_established""#);
    // Not established: no alert, passes.
    let v = trace(&t, OUT, &[]);
    assert_eq!(last_rule(&v), "stateful default: pass");
    // An established packet no rule passes: dropped (the alert goes with it). A UDP flow is
    // established only once both directions were seen, so its first datagram passes.
    let v = trace(&t, "udp 10.0.1.10:40000 -> 198.51.100.7:53", &["--return"]);
    exited(&v);
    assert_verdict(&v["return"], "DELIVERED", None, "App");
}

// ---- Suricata subset ---------------------------------------------------------------------------

fn default_order(rules: &str) -> (TempDir, PathBuf) {
    topology(
        &stateful_policy("[{ResourceArn: !Ref G}]", ""),
        &[("G", &suricata_group(rules, "DEFAULT_ACTION_ORDER"))],
    )
}

#[test]
fn suricata_addresses_ports_groups_and_variables() {
    let rules = r#"drop tcp $HOME_NET any -> [198.51.100.0/24, !198.51.100.7] [80, 8000:8080] (msg:\"web out\"; sid:10;)\ndrop udp any any -> any 123 (sid:11;)\ndrop icmp any any -> any any (sid:12;)\nreject tcp any any -> $EXTERNAL_NET !443 (sid:13;)"#;
    let (_d, t) = default_order(rules);
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 198.51.100.8:8080", &[]);
    dropped(&v, "NETWORK_FIREWALL_DROPPED", "stateful G sid 10: drop");
    // The negated address inside the group is not matched; the reject below catches it.
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 198.51.100.7:80", &[]);
    dropped(&v, "NETWORK_FIREWALL_REJECTED", "stateful G sid 13: reject");
    let v = trace(&t, "udp 10.0.1.10:40000 -> 192.0.2.1:123", &[]);
    dropped(&v, "NETWORK_FIREWALL_DROPPED", "stateful G sid 11: drop");
    let v = trace(&t, "icmp 10.0.1.10 -> 192.0.2.1", &[]);
    dropped(&v, "NETWORK_FIREWALL_DROPPED", "stateful G sid 12: drop");
    // !443: port 443 passes.
    exited(&trace(&t, OUT, &[]));
}

#[test]
fn suricata_flow_keywords() {
    let rules = r#"drop tcp any any -> any 443 (flow:to_client; sid:20;)\ndrop tcp any any -> any 443 (flow:established, to_server; sid:21;)\ndrop tcp any 8443 -> any any (flow:to_client; sid:22;)"#;
    let (_d, t) = default_order(rules);
    // The SYN is to the server and not established: neither 20 nor 21.
    let v = trace(&t, OUT, &["--return"]);
    exited(&v);
    assert_verdict(&v["return"], "DELIVERED", None, "App");
    // The reply goes to the client.
    let v = trace(
        &t,
        "tcp 10.0.1.10:40000 -> 198.51.100.7:8443",
        &["--return"],
    );
    exited(&v);
    dropped(
        &v["return"],
        "NETWORK_FIREWALL_DROPPED",
        "stateful G sid 22: drop",
    );
    // A data segment of an established connection: sid 21.
    let v = trace(&t, OUT, &["--sni", "x.test"]);
    dropped(&v, "NETWORK_FIREWALL_DROPPED", "stateful G sid 21: drop");
}

#[test]
fn suricata_content_sticky_buffers_and_priority() {
    let rules = r#"drop tls any any -> any any (tls.sni; content:\"BAD\"; nocase; msg:\"bad sni\"; sid:30;)\ndrop tls any any -> any any (tls.sni; content:\"bad\"; priority:1; sid:31;)\ndrop http any any -> any any (http.host; content:\"evil.test\"; startswith; endswith; sid:32;)"#;
    let (_d, t) = default_order(rules);
    // Both drop rules match; priority 1 goes first among drops.
    let v = trace(&t, OUT, &["--sni", "very-bad.test"]);
    dropped(&v, "NETWORK_FIREWALL_DROPPED", "stateful G sid 31: drop");
    // Only the nocase rule matches upper case.
    let v = trace(&t, OUT, &["--sni", "VERY-BAD.test"]);
    dropped(&v, "NETWORK_FIREWALL_DROPPED", "stateful G sid 30: drop");
    assert!(fw_hops(&v).last().unwrap()["detail"]
        .as_str()
        .unwrap()
        .contains("bad sni"));
    exited(&trace(&t, OUT, &["--sni", "good.test"]));
    let http = "tcp 10.0.1.10:40000 -> 198.51.100.7:80";
    let v = trace(&t, http, &["--header", "Host: evil.test"]);
    dropped(&v, "NETWORK_FIREWALL_DROPPED", "stateful G sid 32: drop");
    // startswith+endswith: exactly that name.
    exited(&trace(&t, http, &["--header", "Host: www.evil.test"]));
    // A tls rule never matches HTTP.
    exited(&trace(&t, http, &["--header", "Host: bad.test"]));
}

#[test]
fn domain_deny_and_reject_lists() {
    let deny = r#"{RuleGroupName: deny, Type: STATEFUL, Capacity: 10, RuleGroup: {RulesSource: {RulesSourceList: {Targets: ["evil.com"], TargetTypes: [HTTP_HOST], GeneratedRulesType: DENYLIST}}}}"#;
    let reject = r#"{RuleGroupName: rej, Type: STATEFUL, Capacity: 10, RuleGroup: {RulesSource: {RulesSourceList: {Targets: [".bad.org"], TargetTypes: [TLS_SNI], GeneratedRulesType: REJECTLIST}}}}"#;
    let (_d, t) = topology(
        &stateful_policy("[{ResourceArn: !Ref Deny}, {ResourceArn: !Ref Rej}]", ""),
        &[("Deny", deny), ("Rej", reject)],
    );
    let http = "tcp 10.0.1.10:40000 -> 198.51.100.7:80";
    let v = trace(&t, http, &["--header", "Host: evil.com"]);
    dropped(&v, "NETWORK_FIREWALL_DROPPED", "stateful Deny sid 1: drop");
    // No leading dot: only that exact name.
    exited(&trace(&t, http, &["--header", "Host: www.evil.com"]));
    let v = trace(&t, OUT, &["--sni", "x.bad.org"]);
    dropped(
        &v,
        "NETWORK_FIREWALL_REJECTED",
        "stateful Rej sid 1: reject",
    );
}

#[test]
fn rules_outside_the_subset_warn_and_are_not_evaluable() {
    let rules = r#"drop tcp any any -> any 443 (lua:script.lua; sid:40;)\nalert ip any any -> any any (geoip:dst,RU; sid:41;)"#;
    let (_d, t) = default_order(rules);
    let out = vpcsim(["validate", "-t", t.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("UnsupportedRuleKeyword: rule sid 40: lua"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("rule sid 41: geoip"), "{}", out.stdout);
    // The drop rule could decide: the verdict is unknown, said so.
    let v = trace(&t, OUT, &[]);
    dropped(
        &v,
        "NETWORK_FIREWALL_NOT_EVALUABLE",
        "stateful G sid 40: drop",
    );
    // The alert rule never decides: a note, and the packet goes on.
    let v = trace(&t, "tcp 10.0.1.10:40000 -> 198.51.100.7:80", &[]);
    exited(&v);
    assert!(fw_hops(&v).iter().any(|h| h["detail"]
        .as_str()
        .unwrap()
        .contains("alert rule not evaluable (geoip)")));
}

#[test]
fn bad_rule_groups_fail_the_load() {
    for (group, code) in [
        (
            suricata_group(
                r#"block tcp any any -> any any (sid:1;)"#,
                "DEFAULT_ACTION_ORDER",
            ),
            "InvalidRequestException",
        ),
        (
            suricata_group(
                r#"drop tcp any any -> any any (priority:2; sid:1;)"#,
                "STRICT_ORDER",
            ),
            "InvalidRequestException",
        ),
    ] {
        let (_d, t) = topology(
            &stateful_policy("[{ResourceArn: !Ref G}]", ""),
            &[("G", &group)],
        );
        let out = vpcsim(["validate", "-t", t.to_str().unwrap()]);
        assert_ne!(out.code, 0, "{}", out.stdout);
        assert!(
            out.stdout.contains(code) || out.stderr.contains(code),
            "{}{}",
            out.stdout,
            out.stderr
        );
    }
}

// ---- flows -----------------------------------------------------------------------------------

#[test]
fn asymmetric_routing_drops_the_reply_midstream() {
    let (_d, t) = topology(&stateful_policy("[]", ""), &[]);
    let v = trace(&t, OUT, &["--return"]);
    assert_verdict(&v["return"], "DELIVERED", None, "App");
    // Replies come back through endpoint B, which never saw the flow start.
    let v = trace(&t, OUT, &["--return", "--param", "ReturnEndpoint=1"]);
    exited(&v);
    dropped(
        &v["return"],
        "NETWORK_FIREWALL_DROPPED",
        "StreamExceptionPolicy DROP",
    );
    let detail = fw_hops(&v["return"]).last().unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.starts_with("asymmetric routing: the flow started at endpoint vpce-"),
        "{detail}"
    );
}

#[test]
fn endpoint_ids_resolve_in_az_order() {
    let (_d, t) = topology(&stateful_policy("[]", ""), &[]);
    let v = trace(&t, OUT, &[]);
    let route = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["stage"] == "route")
        .unwrap();
    assert!(
        route["rule"]
            .as_str()
            .unwrap()
            .contains("Firewall.us-east-1a"),
        "{route:#}"
    );
}

// ---- replay: payloads and logs -------------------------------------------------------------------

const LOGGING: &str = "  Logging:\n    Type: AWS::NetworkFirewall::LoggingConfiguration\n    Properties: {FirewallArn: !Ref Firewall, LoggingConfiguration: {LogDestinationConfigs: [{LogType: ALERT, LogDestinationType: S3, LogDestination: {bucketName: b}}, {LogType: FLOW, LogDestinationType: S3, LogDestination: {bucketName: b}}]}}\n";

/// A minimal TLS ClientHello naming `name`.
fn client_hello(name: &str) -> Vec<u8> {
    let n = name.len();
    let mut ext = vec![0, 0];
    ext.extend(((n + 5) as u16).to_be_bytes());
    ext.extend(((n + 3) as u16).to_be_bytes());
    ext.push(0);
    ext.extend((n as u16).to_be_bytes());
    ext.extend(name.as_bytes());
    let mut body = vec![3, 3];
    body.extend([0; 32]);
    body.extend([0, 0, 2, 0x13, 0x01, 1, 0]);
    body.extend((ext.len() as u16).to_be_bytes());
    body.extend(ext);
    let mut hs = vec![1, 0];
    hs.extend((body.len() as u16).to_be_bytes());
    hs.extend(body);
    let mut rec = vec![22, 3, 1];
    rec.extend((hs.len() as u16).to_be_bytes());
    rec.extend(hs);
    rec
}

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn replay_reads_client_hellos_and_writes_alert_and_flow_logs() {
    let (d, t) = topology_with(
        &stateful_policy(
            "[{ResourceArn: !Ref Allow, Priority: 10}]",
            ", StatefulDefaultActions: [\"aws:drop_established\"], StatefulEngineOptions: {RuleOrder: STRICT_ORDER}",
        ),
        &[("Allow", ALLOW_EXAMPLE)],
        LOGGING,
    );
    let cap = d.path().join("in.pcap");
    let (syn, ack, psh) = (0x02, 0x10, 0x18);
    write_pcap(
        &cap,
        1,
        &frames(vec![
            tcp("10.0.1.10", 40000, "198.51.100.7", 443, syn, &[]),
            tcp("198.51.100.7", 443, "198.18.0.1", 40000, syn | ack, &[]),
            tcp("10.0.1.10", 40000, "198.51.100.7", 443, ack, &[]),
            tcp(
                "10.0.1.10",
                40000,
                "198.51.100.7",
                443,
                psh,
                &client_hello("www.example.com"),
            ),
            tcp("10.0.1.10", 40001, "198.51.100.7", 443, syn, &[]),
            tcp("198.51.100.7", 443, "198.18.0.1", 40001, syn | ack, &[]),
            tcp(
                "10.0.1.10",
                40001,
                "198.51.100.7",
                443,
                psh,
                &client_hello("evil.test"),
            ),
        ]),
    );
    let out = d.path().join("out");
    let v = replay(&t, &cap, &out, &[]);
    let dispositions: Vec<&str> = v
        .iter()
        .map(|x| x["disposition"].as_str().unwrap())
        .collect();
    assert_eq!(dispositions[3], "EXITED", "{v:#?}");
    assert_eq!(dispositions[1], "DELIVERED", "{v:#?}");
    // The second connection's ClientHello names a host outside the allow list.
    assert_eq!(v[6]["reason"], "NETWORK_FIREWALL_DROPPED", "{:#}", v[6]);
    let alerts = lines(&out.join("firewall/Firewall.alert.log"));
    assert_eq!(alerts.len(), 1, "{alerts:#?} {:#}", v[6]);
    let a = &alerts[0];
    assert_eq!(a["firewall_name"], "test-firewall");
    assert_eq!(a["availability_zone"], "us-east-1a");
    assert_eq!(a["event"]["event_type"], "alert");
    assert_eq!(a["event"]["alert"]["action"], "blocked");
    assert_eq!(a["event"]["alert"]["signature_id"], 3, "{alerts:#?} {v:#?}");
    assert_eq!(a["event"]["proto"], "TCP");
    assert_eq!(a["event"]["src_port"], 40001);
    let flows = lines(&out.join("firewall/Firewall.flow.log"));
    let first = flows
        .iter()
        .find(|f| f["event"]["src_port"] == 40000)
        .expect("the client's direction");
    assert_eq!(first["event"]["event_type"], "netflow");
    assert_eq!(first["event"]["netflow"]["pkts"], 3);
    assert_eq!(first["event"]["tcp"]["syn"], true);
    assert!(
        flows.iter().any(|f| f["event"]["src_port"] == 443),
        "{flows:#?}"
    );
}

/// Frames of an Ethernet pcap written by replay.
fn pcap_frames(path: &std::path::Path) -> Vec<Vec<u8>> {
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

/// The one's-complement sum of 16-bit words, folded.
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for p in parts {
        for c in p.chunks(2) {
            sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[test]
fn replay_writes_the_rst_of_a_reject_to_the_client() {
    let (d, t) = default_order(r#"reject tcp any any -> any 23 (msg:\"no telnet\"; sid:9;)"#);
    let cap = d.path().join("in.pcap");
    write_pcap(
        &cap,
        1,
        &frames(vec![tcp("10.0.1.10", 40000, "198.51.100.7", 23, 0x02, &[])]),
    );
    let out = d.path().join("out");
    let v = replay(&t, &cap, &out, &[]);
    assert_eq!(v[0]["reason"], "NETWORK_FIREWALL_REJECTED", "{:#}", v[0]);
    let sent = tcp("10.0.1.10", 40000, "198.51.100.7", 23, 0x02, &[]);
    let seq = u32::from_be_bytes(sent[38..42].try_into().unwrap());
    let at_app = pcap_frames(&out.join("out/App.pcap"));
    assert_eq!(at_app.len(), 1, "the client gets one RST");
    let f = &at_app[0];
    let ip = &f[14..34];
    let tcp_header = &f[34..54];
    assert_eq!(&ip[12..16], &[198, 51, 100, 7], "from the server's address");
    assert_eq!(&ip[16..20], &[10, 0, 1, 10]);
    assert_eq!(ip[9], 6);
    assert_eq!(checksum(&[ip]), 0, "IPv4 header checksum");
    assert_eq!(u16::from_be_bytes([tcp_header[0], tcp_header[1]]), 23);
    assert_eq!(u16::from_be_bytes([tcp_header[2], tcp_header[3]]), 40000);
    assert_eq!(tcp_header[13], 0x14, "RST|ACK");
    // A SYN takes one sequence number: the RST acknowledges it.
    let ack = u32::from_be_bytes(tcp_header[8..12].try_into().unwrap());
    assert_eq!(ack, seq.wrapping_add(1));
    let pseudo = [
        &ip[12..20],
        &[0, 6],
        &(tcp_header.len() as u16).to_be_bytes()[..],
    ]
    .concat();
    assert_eq!(checksum(&[&pseudo, tcp_header]), 0, "TCP checksum");
}

/// A DNS query message for `name` (type A).
fn dns_query(name: &str) -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend(label.as_bytes());
    }
    m.extend([0, 0, 1, 0, 1]);
    m
}

#[test]
fn replay_matches_dns_query_names() {
    let (d, t) = default_order(
        r#"drop dns $HOME_NET any -> any any (dns.query; content:\"EVIL\"; nocase; sid:50;)"#,
    );
    let cap = d.path().join("in.pcap");
    write_pcap(
        &cap,
        1,
        &frames(vec![
            udp(
                "10.0.1.10",
                40000,
                "198.51.100.53",
                53,
                &dns_query("evil.example"),
            ),
            udp(
                "10.0.1.10",
                40001,
                "198.51.100.53",
                53,
                &dns_query("good.example"),
            ),
        ]),
    );
    let v = replay(&t, &cap, &d.path().join("out"), &[]);
    assert_eq!(v[0]["reason"], "NETWORK_FIREWALL_DROPPED", "{:#}", v[0]);
    assert_eq!(v[1]["disposition"], "EXITED", "{:#}", v[1]);
}

// ---- reach ---------------------------------------------------------------------------------------

#[test]
fn reach_reports_payload_rules_as_depending_on_payload() {
    let (_d, t) = strict_with_defaults(r#""aws:drop_established""#);
    let out = vpcsim([
        "reach",
        "-t",
        t.to_str().unwrap(),
        "--from",
        "App",
        "--to",
        "internet",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("depends on payload"), "{}", out.stdout);
    let rules = r#"drop tcp any any -> any 22 (sid:1;)"#;
    let (_d, t) = default_order(rules);
    let out = vpcsim([
        "reach",
        "-t",
        t.to_str().unwrap(),
        "--from",
        "App",
        "--to",
        "internet",
    ]);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains(" 22 ") && l.contains("NETWORK_FIREWALL_DROPPED at Firewall")),
        "{}",
        out.stdout
    );
}

// ---- the example and the corpus ----------------------------------------------------------------

fn inspection() -> PathBuf {
    root().join("examples/inspection.yaml")
}

#[test]
fn inspection_example_allows_denies_drops_and_rejects() {
    let t = inspection();
    let out443 = "tcp 10.1.1.10:40000 -> 198.51.100.7:443";
    let v = trace(&t, out443, &["--sni", "www.example.com", "--return"]);
    assert_verdict(&v, "EXITED", None, "Igw");
    assert_verdict(&v["return"], "DELIVERED", None, "App");
    let v = trace(&t, out443, &["--sni", "evil.example.net"]);
    dropped(
        &v,
        "NETWORK_FIREWALL_DROPPED",
        "stateful AllowedDomains sid 5: drop",
    );
    let v = trace(&t, "tcp 10.1.1.10:40000 -> 198.51.100.7:25", &[]);
    dropped(
        &v,
        "NETWORK_FIREWALL_DROPPED",
        "stateful EgressRules sid 101: drop",
    );
    let v = trace(&t, "tcp 10.1.1.10:40000 -> 198.51.100.7:23", &[]);
    dropped(
        &v,
        "NETWORK_FIREWALL_REJECTED",
        "stateful EgressRules sid 100: reject",
    );
    let v = trace(&t, "tcp 10.1.1.10:40000 -> 198.51.100.7:3389", &[]);
    dropped(
        &v,
        "NETWORK_FIREWALL_DROPPED",
        "stateless NoRdp priority 10: aws:drop",
    );
    let east_west = "tcp 10.1.1.10:40000 -> 10.2.1.10:443";
    let v = trace(&t, east_west, &["--return"]);
    assert_verdict(&v["return"], "DELIVERED", None, "App");
    let v = trace(
        &t,
        east_west,
        &["--return", "--param", "ApplianceMode=disable"],
    );
    assert_verdict(&v, "DELIVERED", None, "Web");
    dropped(
        &v["return"],
        "NETWORK_FIREWALL_DROPPED",
        "StreamExceptionPolicy DROP",
    );
}

#[test]
fn corpus_anfw_templates_load_and_packets_cross_the_firewall() {
    let Some(dir) = corpus("cfn/aws-samples-anfw") else {
        eprintln!("skipped: ../shared/corpus/cfn/aws-samples-anfw is not present");
        return;
    };
    let mut seen = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("yaml") {
            continue;
        }
        let out = vpcsim(["validate", "-t", path.to_str().unwrap()]);
        assert_eq!(
            out.code,
            0,
            "{}: {}{}",
            path.display(),
            out.stdout,
            out.stderr
        );
        assert!(
            !out.stdout.contains("names no VPC endpoint"),
            "{}",
            out.stdout
        );
        seen += 1;
    }
    assert!(seen > 0);
    let t = corpus("cfn/aws-samples-anfw")
        .unwrap()
        .join("anfw-centralized-egress-east-west-2az-template.yaml");
    if t.exists() {
        let v = trace(&t, "tcp 10.1.1.7:40000 -> 198.51.100.7:443", &["--return"]);
        assert_eq!(v["disposition"], "EXITED", "{v:#}");
        assert!(!fw_hops(&v).is_empty());
        assert_eq!(v["return"]["disposition"], "DELIVERED", "{v:#}");
        assert!(!fw_hops(&v["return"]).is_empty());
    }
}
