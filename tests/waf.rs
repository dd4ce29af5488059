//! AWS WAF (v2) resources through the real `vpcsim validate` (SPEC §19): a web ACL with an IP
//! set, a regex pattern set and a rule group loads, lists its rules and association, and warns
//! for what it cannot evaluate; bad statements are typed errors. The compiled web ACL of the
//! same template is then evaluated as the load balancer will call it.
//!
//! Topologies: `tests/fixtures/waf/web-acl.yaml` (web ACL `web-acl` on ALB `WebAlb`: IP block
//! list with a custom 429 response, a Count rule labelling curl, a rate rule scoped down by
//! that label, rule group `app-rules` with `big-bodies` excluded, a managed group, a CAPTCHA
//! rule) and `tests/fixtures/waf/bad-statements.yaml`.

mod common;

use common::*;
use serde_json::Value;
use vpcsim_controlplane::load::{load_files, LoadOptions};
use vpcsim_dataplane::waf::{log, NotEvaluated, WafAction, WafDecision, WafRequest, WafState};
use vpcsim_dataplane::Timestamp;

fn web_acl_fixture() -> std::path::PathBuf {
    fixture("waf/web-acl.yaml")
}

fn validate_json(path: &std::path::Path) -> (i32, Value) {
    let out = vpcsim(["validate", "-t", path.to_str().unwrap(), "--json"]);
    let v = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!("validate --json: {e}\n{}\n{}", out.stdout, out.stderr);
    });
    (out.code, v)
}

fn codes(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn validate_loads_web_acl_sets_and_rule_group_with_warnings() {
    let (code, v) = validate_json(&web_acl_fixture());
    assert_eq!(code, 0, "{v:#}");
    assert!(codes(&v, "errors").is_empty());
    let warnings = codes(&v, "warnings");
    assert!(warnings.contains(&"WAFManagedRuleGroupNotEvaluated".to_string()));
    assert!(warnings.contains(&"WAFNotSimulated".to_string()));
    let resources = &v["resources"];
    for kind in [
        "AWS::WAFv2::WebACL",
        "AWS::WAFv2::IPSet",
        "AWS::WAFv2::RegexPatternSet",
        "AWS::WAFv2::RuleGroup",
        "AWS::WAFv2::WebACLAssociation",
    ] {
        assert_eq!(resources[kind], 1, "{kind} in {resources:#}");
    }
    let acl = &v["web_acls"][0];
    assert_eq!(acl["logical_id"], "WebAcl");
    assert_eq!(acl["name"], "web-acl");
    assert!(acl["arn"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:wafv2:us-east-1:123456789012:regional/webacl/web-acl/"));
    assert_eq!(acl["default_action"], "Allow");
    assert_eq!(acl["associated_with"], serde_json::json!(["WebAlb"]));
    let rules: Vec<&str> = acl["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "ip-block-list",
            "tag-curl",
            "rate-per-ip",
            "app-rules",
            "aws-common",
            "captcha-login"
        ]
    );
}

#[test]
fn validate_text_names_the_web_acl_and_the_warnings() {
    let out = vpcsim(["validate", "-t", web_acl_fixture().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(
        "web ACL WebAcl (web-acl): 6 rules, default action Allow, associated with WebAlb"
    ));
    assert!(out
        .stdout
        .contains("WAFManagedRuleGroupNotEvaluated: rule aws-common"));
    assert!(out
        .stdout
        .contains("WAFNotSimulated: rule captcha-login: Captcha action"));
}

#[test]
fn bad_statements_are_typed_errors_and_unevaluated_ones_warn() {
    let (code, v) = validate_json(&fixture("waf/bad-statements.yaml"));
    assert_eq!(code, 2);
    let errors = codes(&v, "errors");
    assert_eq!(
        errors,
        [
            "WAFInvalidParameterException",
            "WAFInvalidParameterException",
            "WAFNonexistentItemException"
        ]
    );
    let messages: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(messages[0].contains("/0"), "{messages:?}");
    assert!(messages[1].contains("PositionalConstraint"), "{messages:?}");
    let warnings: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    for want in ["JsonBody", "CSS_DECODE", "SqliMatchStatement"] {
        assert!(
            warnings.iter().any(|w| w.contains(want)),
            "{want}: {warnings:?}"
        );
    }
}

/// The web ACL of the fixture as the load balancer sees it after compile.
fn compiled() -> vpcsim_dataplane::Topology {
    let loaded = load_files(&[web_acl_fixture()], &LoadOptions::default());
    assert!(!loaded.has_errors());
    vpcsim_controlplane::compile::compile(&loaded.model)
}

fn request<'a>(client: &str, path: &'a str, headers: &'a [(&'a str, &'a str)]) -> WafRequest<'a> {
    WafRequest {
        client_ip: client.parse().unwrap(),
        method: "GET",
        uri_path: path,
        query_string: "",
        http_version: "HTTP/1.1",
        headers,
        body: b"",
        countries: None,
    }
}

#[test]
fn compiled_web_acl_evaluates_the_fixture_rules() {
    let topo = compiled();
    let alb_id = topo
        .waf
        .associations
        .first()
        .map(|(r, _)| r.clone())
        .unwrap();
    let acl = topo.waf.web_acl_of(&alb_id).expect("web ACL of the ALB");
    let mut state = WafState::new(acl);
    let mut d = WafDecision::default();
    let now = Timestamp::from_secs(1_700_000_000);

    // Blocked by the IP set through X-Forwarded-For, with the custom response.
    let xff: &[(&str, &str)] = &[("X-Forwarded-For", "203.0.113.50")];
    acl.evaluate(&request("192.0.2.1", "/", xff), now, &mut state, &mut d);
    assert_eq!(d.action, WafAction::Block);
    assert_eq!(acl.rule_name(d.terminating.unwrap()), "ip-block-list");
    let resp = acl.block_response(&d).unwrap();
    assert_eq!(resp.status, 429);
    assert_eq!(
        resp.custom.unwrap().body.as_ref().unwrap().1,
        "Your address is blocked."
    );

    // Blocked inside the rule group by the regex set, after URL decoding and lowercasing.
    acl.evaluate(
        &request("192.0.2.1", "/WP-%41dmin/", &[]),
        now,
        &mut state,
        &mut d,
    );
    assert_eq!(
        acl.rule_name(d.terminating.unwrap()),
        "app-rules/block-bad-paths"
    );
    assert_eq!(acl.block_response(&d).unwrap().status, 403);

    // Allowed by default, but the managed group and the CAPTCHA rule are reported.
    acl.evaluate(
        &request("192.0.2.1", "/login", &[]),
        now,
        &mut state,
        &mut d,
    );
    assert_eq!((d.action, d.terminating), (WafAction::Allow, None));
    let why: Vec<NotEvaluated> = d.not_evaluated.iter().map(|(_, n)| *n).collect();
    assert_eq!(why, [NotEvaluated::ManagedRuleGroup, NotEvaluated::Captcha]);

    // The Count rule labels curl; the label exempts it from the rate rule.
    let curl: &[(&str, &str)] = &[("User-Agent", "Curl/8.1")];
    acl.evaluate(&request("192.0.2.1", "/", curl), now, &mut state, &mut d);
    assert_eq!(
        acl.label(d.labels[0]),
        "awswaf:123456789012:webacl:web-acl:client:curl"
    );
    let line = log::record(
        acl,
        &request("192.0.2.1", "/", curl),
        &d,
        &log::LogSource {
            timestamp: now,
            http_source_name: "ALB",
            http_source_id: "app/WebAlb/0123456789abcdef",
            request_id: "1-1",
        },
    );
    let rec: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(rec["terminatingRuleId"], "Default_Action");
    assert_eq!(rec["action"], "ALLOW");
    assert_eq!(rec["nonTerminatingMatchingRules"][0]["ruleId"], "tag-curl");
    assert_eq!(rec["httpRequest"]["clientIp"], "192.0.2.1");
    assert_eq!(rec["vpcsimNotEvaluated"][0]["ruleId"], "aws-common");
}

#[test]
fn compiled_rate_rule_blocks_after_the_next_check() {
    let topo = compiled();
    let acl = &topo.waf.web_acls[0];
    let mut state = WafState::new(acl);
    let mut d = WafDecision::default();
    let t0 = 1_700_000_000;
    for _ in 0..101 {
        acl.evaluate(
            &request("192.0.2.9", "/", &[]),
            Timestamp::from_secs(t0),
            &mut state,
            &mut d,
        );
        assert_eq!(d.action, WafAction::Allow);
    }
    // Checked again at the next 10-second tick: 101 > 100 in the 60 s window.
    acl.evaluate(
        &request("192.0.2.9", "/", &[]),
        Timestamp::from_secs(t0 + 10),
        &mut state,
        &mut d,
    );
    assert_eq!(acl.rule_name(d.terminating.unwrap()), "rate-per-ip");
    let rec: Value = serde_json::from_str(&log::record(
        acl,
        &request("192.0.2.9", "/", &[]),
        &d,
        &log::LogSource {
            timestamp: Timestamp::from_secs(t0 + 10),
            http_source_name: "ALB",
            http_source_id: "app/WebAlb/0123456789abcdef",
            request_id: "1-2",
        },
    ))
    .unwrap();
    assert_eq!(rec["terminatingRuleType"], "RATE_BASED");
    assert_eq!(rec["rateBasedRuleList"][0]["limitValue"], "192.0.2.9");
    assert_eq!(rec["rateBasedRuleList"][0]["maxRateAllowed"], 100);
    // Curl is labelled by the Count rule and so not counted by the scope-down.
    let curl: &[(&str, &str)] = &[("User-Agent", "curl/8.1")];
    acl.evaluate(
        &request("192.0.2.9", "/", curl),
        Timestamp::from_secs(t0 + 10),
        &mut state,
        &mut d,
    );
    assert_eq!(d.action, WafAction::Allow);
}

/// The README's "AWS WAF" example prints what the README shows (its `...` lines elide).
#[test]
fn readme_waf_example_is_real_output() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = &readme[readme.find("## AWS WAF\n").expect("README section")..];
    let block = section.split("```").nth(1).expect("code block");
    let mut lines = block.lines().filter(|l| !l.trim().is_empty());
    let command = lines.next().unwrap().trim_start_matches("$ vpcsim ");
    let out = vpcsim(command.split_whitespace());
    for line in lines.filter(|l| *l != "...") {
        assert!(
            out.stdout.contains(line),
            "{line:?} missing from:\n{}",
            out.stdout
        );
    }
}
