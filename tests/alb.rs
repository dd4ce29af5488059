//! Application Load Balancers through the real `vpcsim` binary (SPEC §11.2): nodes and their
//! addresses, listeners (ALB_NO_LISTENER), every rule condition and action with `trace --http`,
//! the backend connection from the node through security groups and NACLs (504 when blocked),
//! simulated hosts (`--hosts`: RST for an unlisted port, HOST_PORT_CLOSED, 502), target health
//! reasons, and the pinned JSON contract.
//!
//! Topologies: `examples/web-app.yaml` (nodes 10.0.0.4/198.18.0.1 and 10.0.1.4/198.18.0.2) and
//! `tests/fixtures/alb/rules.yaml` (same network; a rule per condition type and action).

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn web_app() -> PathBuf {
    root().join("examples/web-app.yaml")
}

fn web_hosts() -> String {
    root()
        .join("examples/web-app.hosts.yaml")
        .display()
        .to_string()
}

fn rules() -> PathBuf {
    fixture("alb/rules.yaml")
}

fn down_hosts() -> String {
    fixture("alb/web-down.hosts.yaml").display().to_string()
}

const CLIENT: &str = "tcp 203.0.113.9:40000 -> 198.18.0.1:80";

/// `trace --json --http REQUEST` with extra arguments.
fn http(topology: &Path, flow: &str, request: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--http", request];
    args.extend_from_slice(extra);
    trace(topology, flow, &args)
}

fn status(v: &Value) -> Option<u64> {
    v["http"]["response"]["status"].as_u64()
}

fn stages(v: &Value) -> Vec<String> {
    v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["stage"].as_str().unwrap().to_string())
        .collect()
}

fn hop<'v>(v: &'v Value, stage: &str) -> &'v Value {
    v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["stage"] == stage)
        .unwrap_or_else(|| panic!("no {stage} hop: {v:#}"))
}

#[test]
fn validate_lists_node_addresses() {
    let out = vpcsim(["validate", "-t", web_app().to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let lb = &v["load_balancers"][0];
    assert_eq!(lb["load_balancer"], "Alb");
    assert_eq!(lb["scheme"], "internet-facing");
    let nodes: Vec<(String, String)> = lb["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["private_ip"].as_str().unwrap().to_string(),
                n["public_ip"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        nodes,
        [
            ("10.0.0.4".into(), "198.18.0.1".into()),
            ("10.0.1.4".into(), "198.18.0.2".into())
        ]
    );
    let text = vpcsim(["validate", "-t", web_app().to_str().unwrap()]);
    assert!(
        text.stdout
            .contains("node Alb.PublicSubnetA (us-east-1a): private 10.0.0.4, public 198.18.0.1"),
        "{}",
        text.stdout
    );
}

#[test]
fn tcp_without_http_stops_at_the_node() {
    for flow in [CLIENT, "tcp 10.0.10.10:40000 -> 10.0.1.4:80"] {
        let v = trace(&web_app(), flow, &[]);
        assert_verdict(&v, "DELIVERED", None, "Alb");
        assert_eq!(v["delivered_to"], "Alb", "{v:#}");
        assert!(stages(&v).contains(&"alb-listener".to_string()), "{v:#}");
    }
}

#[test]
fn no_listener_on_the_port_is_dropped_at_the_load_balancer_with_a_fix() {
    let v = trace(
        &rules(),
        "tcp 203.0.113.9:40000 -> 198.18.0.1:8081",
        &["--fixes"],
    );
    assert_verdict(&v, "DROPPED", Some("ALB_NO_LISTENER"), "Alb");
    assert_eq!(v["explanation"]["code"], "ELB_LISTENERS_MISMATCH");
    assert_eq!(v["fixes"]["then"], "DELIVERED", "{v:#}");
    assert!(v["fixes"]["changes"][0]
        .as_str()
        .unwrap()
        .contains("listener on port 8081"));
}

#[test]
fn forward_to_a_target_follows_the_pinned_contract() {
    let v = http(
        &web_app(),
        CLIENT,
        "GET /api/users",
        &[
            "--header",
            "Host: shop.example.com",
            "--hosts",
            &web_hosts(),
        ],
    );
    assert_verdict(&v, "DELIVERED", None, "ApiA");
    assert_eq!(v["delivered_to"], "ApiA");
    let h = &v["http"];
    assert_eq!(h["request"]["method"], "GET");
    assert_eq!(h["request"]["path"], "/api/users");
    assert_eq!(h["request"]["host"], "shop.example.com");
    assert_eq!(h["response"]["status"], 200);
    assert_eq!(h["response"]["from"], "ApiA");
    assert!(h["response"].get("location").is_none());
    let s = stages(&v);
    let at = |st: &str| s.iter().position(|x| x == st).unwrap();
    assert!(at("alb-listener") < at("alb-rule") && at("alb-rule") < at("alb-target"));
    assert!(hop(&v, "alb-rule")["rule"]
        .as_str()
        .unwrap()
        .contains("priority 10: path-pattern /api/*"));
    let target = hop(&v, "alb-target");
    assert_eq!(target["resource"], "ApiTargets");
    assert!(target["rule"].as_str().unwrap().contains("10.0.10.20:8080"));
    let detail = target["detail"].as_str().unwrap();
    for header in [
        "X-Forwarded-For: 203.0.113.9",
        "X-Forwarded-Proto: http",
        "X-Forwarded-Port: 80",
    ] {
        assert!(detail.contains(header), "{detail}");
    }
    assert_eq!(
        h["response"]["forwarded_headers"]["X-Forwarded-For"],
        "203.0.113.9"
    );
    // The backend connection leaves the node's private address and passes the ALB's group,
    // then the target's.
    let backend: Vec<&Value> = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .skip_while(|h| h["stage"] != "alb-target")
        .collect();
    assert_eq!(backend[1]["packet"]["src"], "10.0.0.4");
    assert!(backend
        .iter()
        .any(|h| h["stage"] == "sg-egress" && h["resource"] == "AlbSg"));
    assert!(backend
        .iter()
        .any(|h| h["stage"] == "sg-ingress" && h["resource"] == "ApiSg"));
    assert_eq!(v["packet"]["dst"], "10.0.10.20");
}

#[test]
fn default_action_and_the_hosts_status() {
    let v = http(
        &web_app(),
        CLIENT,
        "GET /index.html",
        &["--hosts", &web_hosts()],
    );
    assert_verdict(&v, "DELIVERED", None, "WebA");
    assert_eq!(hop(&v, "alb-rule")["rule"], "default");
    // Without --hosts the application is assumed up.
    let v = http(&web_app(), CLIENT, "GET /anything", &[]);
    assert_eq!(status(&v), Some(200));
    // ApiA answers 404 outside its paths (per the hosts file).
    let v = http(&web_app(), CLIENT, "GET /api", &["--hosts", &web_hosts()]);
    assert_eq!(
        hop(&v, "alb-rule")["rule"],
        "default",
        "/api does not match /api/*"
    );
}

#[test]
fn every_condition_type() {
    let cases: &[(&str, &str, &[&str], &str)] = &[
        (CLIENT, "DELETE /x", &[], "MethodRule"),
        // Method is case-sensitive.
        (CLIENT, "delete /x", &[], "Listener"),
        (
            "tcp 192.0.2.9:40000 -> 198.18.0.1:80",
            "GET /",
            &[],
            "SourceRule",
        ),
        // source-ip is the TCP peer, never X-Forwarded-For.
        (
            CLIENT,
            "GET /",
            &["--header", "X-Forwarded-For: 192.0.2.9"],
            "Listener",
        ),
        (
            CLIENT,
            "GET /",
            &["--header", "x-debug: ON-please"],
            "HeaderRule",
        ),
        (CLIENT, "GET /?Version=V7", &[], "QueryRule"),
        // `?` is exactly one character.
        (CLIENT, "GET /?version=v", &[], "Listener"),
        (
            CLIENT,
            "GET /",
            &["--header", "Host: A.SHOP.example.com:80"],
            "HostRule",
        ),
        // `*.shop.example.com` does not match the apex.
        (
            CLIENT,
            "GET /",
            &["--header", "Host: shop.example.com"],
            "Listener",
        ),
        (CLIENT, "GET /API/v1", &[], "CasePathRule"),
        // path-pattern is case-sensitive.
        (CLIENT, "GET /api/v1", &[], "Listener"),
    ];
    for (flow, request, extra, rule) in cases {
        let v = http(&rules(), flow, request, extra);
        assert_eq!(
            hop(&v, "alb-rule")["resource"],
            *rule,
            "{request} {extra:?}: {v:#}"
        );
    }
}

#[test]
fn fixed_response_and_redirect_are_answered_by_the_load_balancer() {
    let v = http(&rules(), CLIENT, "DELETE /x", &[]);
    assert_verdict(&v, "DELIVERED", None, "Alb");
    assert_eq!(v["delivered_to"], "Alb");
    assert_eq!(status(&v), Some(405));
    assert_eq!(v["http"]["response"]["from"], "Alb");
    let v = http(
        &rules(),
        CLIENT,
        "GET /a/b?q=1",
        &["--header", "Host: www.shop.example.com"],
    );
    assert_verdict(&v, "DELIVERED", None, "Alb");
    assert_eq!(status(&v), Some(302));
    assert_eq!(
        v["http"]["response"]["location"],
        "https://www.shop.example.com/a/b?q=1"
    );
    let v = http(&web_app(), CLIENT, "GET /old/page", &[]);
    assert_eq!(status(&v), Some(301));
    assert_eq!(
        v["http"]["response"]["location"],
        "http://web-app-216ce7e045.us-east-1.elb.amazonaws.com/new/old/page"
    );
}

#[test]
fn weighted_forward_and_group_stickiness() {
    // Weight 0 never receives a request.
    for port in 40000..40010 {
        let flow = format!("tcp 203.0.113.9:{port} -> 198.18.0.1:80");
        let v = http(&rules(), &flow, "GET /canary/x", &[]);
        assert_eq!(hop(&v, "alb-target")["resource"], "ApiTargets", "{v:#}");
    }
    // Equal weights: both groups get requests; the AWSALBTG cookie pins one.
    let mut seen = std::collections::BTreeSet::new();
    for port in 40000..40020 {
        let flow = format!("tcp 203.0.113.9:{port} -> 198.18.0.1:80");
        let v = http(&rules(), &flow, "GET /sticky/x", &[]);
        seen.insert(
            hop(&v, "alb-target")["resource"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        let v = http(
            &rules(),
            &flow,
            "GET /sticky/x",
            &["--header", "Cookie: a=b; AWSALBTG=WebTargets"],
        );
        assert_eq!(hop(&v, "alb-target")["resource"], "WebTargets");
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
}

#[test]
fn empty_and_lambda_groups() {
    let v = http(&rules(), CLIENT, "GET /empty", &[]);
    assert_eq!(status(&v), Some(503));
    let v = http(&rules(), CLIENT, "GET /lambda", &[]);
    assert!(hop(&v, "alb-target")["detail"]
        .as_str()
        .unwrap()
        .contains("not simulated"));
    let out = vpcsim(["validate", "-t", rules().to_str().unwrap()]);
    assert!(
        out.stdout.contains("NotSimulated: Lambda targets"),
        "{}",
        out.stdout
    );
}

#[test]
fn backend_blocked_by_a_security_group_is_a_504() {
    let v = http(
        &web_app(),
        CLIENT,
        "GET /api/users",
        &["--param", "ApiPortFromAlb=9090"],
    );
    assert_verdict(&v, "DROPPED", Some("SG_INGRESS_DENIED"), "ApiSg");
    assert_eq!(status(&v), Some(504));
    assert_eq!(v["http"]["response"]["from"], "Alb");
    // Every target failed its check (Target.Timeout): fail open, still chosen.
    assert!(hop(&v, "alb-target")["detail"]
        .as_str()
        .unwrap()
        .contains("fail open"));
}

#[test]
fn host_refuses_an_unlisted_port() {
    let v = trace(
        &rules(),
        "tcp 10.0.10.50:40000 -> 10.0.10.60:80",
        &["--hosts", &down_hosts(), "--return"],
    );
    assert_verdict(&v, "DROPPED", Some("HOST_PORT_CLOSED"), "Box");
    assert!(v["explanation"]["no_fix"].as_str().is_some(), "{v:#}");
    assert!(
        v["return"].is_null(),
        "a refused connection has no reply: {v:#}"
    );
    let v = trace(
        &rules(),
        "tcp 10.0.10.50:40000 -> 10.0.10.60:22",
        &["--hosts", &down_hosts()],
    );
    assert_verdict(&v, "DELIVERED", None, "Box");
    // Through the load balancer: the target's RST becomes a 502.
    let v = http(&rules(), CLIENT, "GET /", &["--hosts", &down_hosts()]);
    assert_verdict(&v, "DROPPED", Some("HOST_PORT_CLOSED"), "WebA");
    assert_eq!(status(&v), Some(502));
}

#[test]
fn target_health_reasons() {
    let health = |extra: &[&str]| -> Value {
        let mut args = vec!["validate", "-t", "", "--json"];
        let t = rules();
        args[2] = t.to_str().unwrap();
        args.extend_from_slice(extra);
        let out = vpcsim(&args);
        serde_json::from_str(&out.stdout).unwrap()
    };
    let v = health(&["--hosts", &down_hosts()]);
    let target = |g: &str| -> Value {
        v["target_health"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["target_group"] == g)
            .unwrap()["targets"][0]
            .clone()
    };
    assert_eq!(
        target("ApiTargets")["reason"],
        "Target.ResponseCodeMismatch"
    );
    assert!(target("ApiTargets")["description"]
        .as_str()
        .unwrap()
        .contains("[500]"));
    assert_eq!(target("WebTargets")["reason"], "Target.FailedHealthChecks");
    let v = health(&[]);
    assert_eq!(
        v["target_health"][0]["targets"][0]["state"], "healthy",
        "{v:#}"
    );
    let out = vpcsim([
        "validate",
        "-t",
        web_app().to_str().unwrap(),
        "--json",
        "--param",
        "ApiPortFromAlb=9090",
    ]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let api = v["target_health"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["target_group"] == "ApiTargets")
        .unwrap();
    assert_eq!(api["targets"][0]["reason"], "Target.Timeout");
    assert_eq!(api["targets"][0]["state"], "unhealthy");
}

#[test]
fn bad_hosts_files_and_requests_are_clear_errors() {
    let dir = tempfile::TempDir::new().unwrap();
    let typo = dir.path().join("typo.yaml");
    std::fs::write(&typo, "WebAA:\n  - {port: 80}\n").unwrap();
    let out = vpcsim([
        "trace",
        "-t",
        web_app().to_str().unwrap(),
        CLIENT,
        "--hosts",
        typo.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("did you mean") && out.stderr.contains("WebA"),
        "{}",
        out.stderr
    );
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "WebA:\n  - {port: 80, colour: red}\n").unwrap();
    let out = vpcsim([
        "trace",
        "-t",
        web_app().to_str().unwrap(),
        CLIENT,
        "--hosts",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--hosts"), "{}", out.stderr);
    let out = vpcsim([
        "trace",
        "-t",
        web_app().to_str().unwrap(),
        CLIENT,
        "--http",
        "GET",
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--http"), "{}", out.stderr);
}

#[test]
fn invalid_alb_templates_are_refused() {
    let dir = tempfile::TempDir::new().unwrap();
    let src = std::fs::read_to_string(web_app()).unwrap();
    for (from, to, code) in [
        (
            "Subnets: [!Ref PublicSubnetA, !Ref PublicSubnetB]",
            "Subnets: [!Ref PublicSubnetA]",
            "InvalidConfigurationRequest",
        ),
        ("Priority: 10", "Priority: 5", "PriorityInUse"),
        (
            "StatusCode: HTTP_301",
            "StatusCode: HTTP_307",
            "InvalidParameterValue",
        ),
    ] {
        let p = dir.path().join("t.yaml");
        std::fs::write(&p, src.replace(from, to)).unwrap();
        let out = vpcsim(["validate", "-t", p.to_str().unwrap()]);
        assert_eq!(out.code, 2, "{from}: {}", out.stdout);
        assert!(out.stdout.contains(code), "{from}: {}", out.stdout);
    }
}

#[test]
fn the_matrix_reaches_listener_ports_at_layer_4() {
    let out = vpcsim(["reach", "-t", web_app().to_str().unwrap(), "--matrix"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    for from in ["internet", "WebA"] {
        for node in ["Alb.PublicSubnetA", "Alb.PublicSubnetB"] {
            assert!(
                rows.iter().any(|r| r == &[from, node, "tcp", "80"]),
                "{from} -> {node}: {}",
                out.stdout
            );
        }
    }
    // Only the listener port: reach from the internet shows the rest blocked at the node's group.
    let out = vpcsim([
        "reach",
        "-t",
        rules().to_str().unwrap(),
        "--from",
        "internet",
        "--to",
        "Alb",
    ]);
    assert!(
        out.stdout.contains("ALB_NO_LISTENER at Alb"),
        "{}",
        out.stdout
    );
}

#[test]
fn https_listeners_keep_certificates_and_authenticate_is_not_simulated() {
    let out = vpcsim(["validate", "-t", rules().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("LoginRule: NotSimulated: authenticate-oidc"),
        "{}",
        out.stdout
    );
    let flow = "tcp 203.0.113.9:40000 -> 198.18.0.2:443";
    let v = http(&rules(), flow, "GET /admin/x", &[]);
    // The listener's certificate and the ListenerCertificate's.
    assert_eq!(
        hop(&v, "alb-listener")["rule"],
        "HTTPS:443 (2 certificates)"
    );
    assert_eq!(hop(&v, "alb-rule")["resource"], "LoginRule");
    assert_eq!(
        v["http"]["response"]["forwarded_headers"]["X-Forwarded-Proto"],
        "https"
    );
    assert_eq!(
        v["http"]["response"]["forwarded_headers"]["X-Forwarded-Port"],
        "443"
    );
    // An HTTPS listener needs a certificate.
    let dir = tempfile::TempDir::new().unwrap();
    let src = std::fs::read_to_string(rules()).unwrap().replace(
        "      Certificates: [{ CertificateArn: \"arn:aws:acm:us-east-1:123456789012:certificate/default\" }]\n",
        "",
    );
    let p = dir.path().join("t.yaml");
    std::fs::write(&p, src).unwrap();
    let out = vpcsim(["validate", "-t", p.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(out.stdout.contains("CertificateNotFound"), "{}", out.stdout);
}

#[test]
fn internal_load_balancers_have_private_nodes_only() {
    let dir = tempfile::TempDir::new().unwrap();
    let src = std::fs::read_to_string(web_app())
        .unwrap()
        .replace("Scheme: internet-facing", "Scheme: internal");
    let p = dir.path().join("internal.yaml");
    std::fs::write(&p, src).unwrap();
    let out = vpcsim(["validate", "-t", p.to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let lb = &v["load_balancers"][0];
    assert_eq!(lb["scheme"], "internal");
    assert!(lb["dns_name"].as_str().unwrap().starts_with("internal-"));
    assert!(lb["nodes"][0]["public_ip"].is_null(), "{lb:#}");
    let v = trace(&p, CLIENT, &[]);
    assert_eq!(v["disposition"], "DROPPED", "{v:#}");
    let v = http(&p, "tcp 10.0.10.10:40000 -> 10.0.1.4:80", "GET /api/x", &[]);
    assert_verdict(&v, "DELIVERED", None, "ApiA");
}
