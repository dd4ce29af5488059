//! AWS WAF on an Application Load Balancer through the real `vpcsim` binary (SPEC §11.2.7,
//! §19): the `waf` hop between the listener and the rules, `WAF_BLOCKED` at the web ACL with 403
//! or a custom response, Count rules that do not terminate, statements that cannot be evaluated
//! offline (managed rule groups, geo matches without `--geo-countries`), and `vpcsim health`
//! listing an ALB target group whose target an Auto Scaling group registered.
//!
//! Topology: `tests/fixtures/alb-waf/web.yaml` (nodes 10.0.0.4/198.18.0.1 and
//! 10.0.1.4/198.18.0.2; web ACL `WebAcl` named `web-acl`; one instance `WebGroup/0`).

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;

fn web() -> PathBuf {
    fixture("alb-waf/web.yaml")
}

fn countries() -> String {
    fixture("alb-waf/countries.csv").display().to_string()
}

/// `trace --json --http 'GET /'` from `client` to the first node's public address.
fn get(client: &str, extra: &[&str]) -> Value {
    let flow = format!("tcp {client}:40000 -> 198.18.0.1:80");
    let mut args = vec!["--http", "GET /"];
    args.extend_from_slice(extra);
    trace(&web(), &flow, &args)
}

fn stages(v: &Value) -> Vec<&str> {
    v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["stage"].as_str().unwrap())
        .collect()
}

fn waf_hop(v: &Value) -> &Value {
    v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["stage"] == "waf")
        .unwrap_or_else(|| panic!("no waf hop: {v:#}"))
}

fn status(v: &Value) -> Option<u64> {
    v["http"]["response"]["status"].as_u64()
}

#[test]
fn allowed_request_passes_the_waf_hop_between_listener_and_rules() {
    let v = get("8.8.8.8", &[]);
    assert_verdict(&v, "DELIVERED", None, "WebGroup/0");
    assert_eq!(status(&v), Some(200), "{v:#}");
    let s = stages(&v);
    let at = |stage: &str| s.iter().position(|x| *x == stage).unwrap();
    assert!(
        at("alb-listener") < at("waf") && at("waf") < at("alb-rule"),
        "{s:?}"
    );
    let hop = waf_hop(&v);
    assert_eq!(hop["resource"], "WebAcl");
    assert_eq!(hop["action"], "allow");
    assert_eq!(
        hop["rule"],
        "web ACL web-acl, rule Default_Action, action ALLOW"
    );
}

#[test]
fn ip_set_block_answers_403_from_the_web_acl() {
    let v = get("203.0.113.9", &[]);
    assert_verdict(&v, "DROPPED", Some("WAF_BLOCKED"), "WebAcl");
    assert_eq!(status(&v), Some(403), "{v:#}");
    assert_eq!(v["http"]["response"]["from"], "WebAcl");
    let hop = waf_hop(&v);
    assert_eq!(hop["action"], "drop");
    assert_eq!(
        hop["rule"],
        "web ACL web-acl, rule ip-block-list, action BLOCK"
    );
    // A blocked request never reaches the listener rules or a target.
    assert!(!stages(&v).contains(&"alb-rule"), "{v:#}");
}

#[test]
fn custom_response_code_of_the_blocking_rule() {
    let v = get("198.51.100.7", &[]);
    assert_verdict(&v, "DROPPED", Some("WAF_BLOCKED"), "WebAcl");
    assert_eq!(status(&v), Some(429), "{v:#}");
    assert_eq!(
        waf_hop(&v)["rule"],
        "web ACL web-acl, rule slow-down, action BLOCK"
    );
}

#[test]
fn byte_match_on_a_header_given_with_header() {
    let v = get("8.8.8.8", &["--header", "X-Debug: ON"]);
    assert_verdict(&v, "DROPPED", Some("WAF_BLOCKED"), "WebAcl");
    assert_eq!(status(&v), Some(403));
    assert_eq!(
        waf_hop(&v)["rule"],
        "web ACL web-acl, rule no-debug-header, action BLOCK"
    );
    let v = get("8.8.8.8", &["--header", "X-Debug: off"]);
    assert_verdict(&v, "DELIVERED", None, "WebGroup/0");
}

#[test]
fn count_rule_is_listed_and_does_not_terminate() {
    let v = get("8.8.8.8", &["--header", "User-Agent: curl/8.5"]);
    assert_verdict(&v, "DELIVERED", None, "WebGroup/0");
    let hop = waf_hop(&v);
    assert_eq!(hop["action"], "allow");
    let detail = hop["detail"].as_str().unwrap();
    assert!(
        detail.contains("counted (not terminating): count-curl"),
        "{detail}"
    );
}

#[test]
fn managed_rule_group_is_reported_as_not_evaluated() {
    let v = get("8.8.8.8", &[]);
    let detail = waf_hop(&v)["detail"].as_str().unwrap().to_string();
    assert!(
        detail.contains("aws-common (managed rule groups are not evaluated)"),
        "{detail}"
    );
}

#[test]
fn geo_match_without_a_country_file_is_not_evaluated() {
    let v = get("192.0.2.9", &[]);
    assert_verdict(&v, "DELIVERED", None, "WebGroup/0");
    let detail = waf_hop(&v)["detail"].as_str().unwrap().to_string();
    assert!(
        detail.contains("geo-block (GeoMatchStatement needs a CIDR-to-country file)"),
        "{detail}"
    );
}

#[test]
fn geo_match_with_geo_countries_blocks_the_listed_country() {
    let c = countries();
    let v = get("192.0.2.9", &["--geo-countries", &c]);
    assert_verdict(&v, "DROPPED", Some("WAF_BLOCKED"), "WebAcl");
    assert_eq!(
        waf_hop(&v)["rule"],
        "web ACL web-acl, rule geo-block, action BLOCK"
    );
    // Another country passes, and the geo rule is no longer reported as not evaluated.
    let v = get("8.8.8.8", &["--geo-countries", &c]);
    assert_verdict(&v, "DELIVERED", None, "WebGroup/0");
    assert!(!waf_hop(&v)["detail"]
        .as_str()
        .unwrap()
        .contains("GeoMatchStatement"));
}

#[test]
fn bad_geo_countries_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "not-a-cidr,XX\n").unwrap();
    let out = vpcsim([
        "trace",
        "-t",
        web().to_str().unwrap(),
        "tcp 8.8.8.8:40000 -> 198.18.0.1:80",
        "--http",
        "GET /",
        "--geo-countries",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--geo-countries"), "{}", out.stderr);
    assert!(out.stderr.contains(":1:"), "{}", out.stderr);
}

#[test]
fn waf_blocked_is_explained_without_an_automatic_fix() {
    let v = get("203.0.113.9", &["--fixes"]);
    let e = &v["explanation"];
    assert_eq!(e["reason"], "WAF_BLOCKED", "{v:#}");
    assert!(e["fix"].is_null(), "{e:#}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("rule ip-block-list"),
        "{e:#}"
    );
    let no_fix = e["no_fix"].as_str().unwrap();
    assert!(no_fix.contains("keep the web ACL associated"), "{no_fix}");
    // No packet re-trace pretends a change let the request through.
    assert!(v["fixes"].is_null(), "{v:#}");
}

#[test]
fn health_lists_the_alb_group_with_the_auto_scaling_instance() {
    let out = vpcsim(["health", "-t", web().to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let groups: Value = serde_json::from_str(&out.stdout).unwrap();
    let g = &groups[0];
    assert_eq!(g["TargetGroup"], "WebTargets");
    assert_eq!(g["LoadBalancerType"], "application");
    let t = &g["TargetHealthDescriptions"][0];
    assert_eq!(t["Resource"], "WebGroup/0");
    assert_eq!(t["Target"]["Port"], 80);
    assert_eq!(t["TargetHealth"]["State"], "healthy");

    let hosts = fixture("alb-waf/sick.hosts.yaml");
    let out = vpcsim([
        "health",
        "-t",
        web().to_str().unwrap(),
        "--hosts",
        hosts.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("WebTargets (application load balancer)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("unhealthy  Target.ResponseCodeMismatch"),
        "{}",
        out.stdout
    );
}
