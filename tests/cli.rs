//! The command line: help texts, exit codes (0 success, 1 a check's answer is negative, 2 bad
//! input or usage) and error messages that name what is wrong, and loading several stacks
//! (`--import`, `Fn::ImportValue` between templates).

mod common;

use common::{example, fixture, vpcsim, Output};
use serde_json::Value;
use std::path::Path;

fn spec(name: &str) -> String {
    fixture(&format!("spec/{name}")).display().to_string()
}

fn ex() -> String {
    example().display().to_string()
}

fn run(args: &[&str]) -> Output {
    vpcsim(args)
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", o.stdout))
}

/// The errors of `validate --json`.
fn errors(o: &Output) -> Vec<Value> {
    json(o)["errors"].as_array().expect("errors").clone()
}

#[test]
fn help_of_every_subcommand_shows_examples() {
    let top = run(&["--help"]);
    assert_eq!(top.code, 0);
    for sub in ["validate", "trace", "replay", "gen"] {
        assert!(top.stdout.contains(sub), "top-level help lists {sub}");
        for flag in ["--help", "-h"] {
            let o = run(&[sub, flag]);
            assert_eq!(o.code, 0, "{sub} {flag}: {}", o.stderr);
            assert!(
                o.stdout.contains("Usage: vpcsim"),
                "{sub} {flag}: {}",
                o.stdout
            );
        }
        let o = run(&[sub, "--help"]);
        assert!(
            o.stdout.contains("Examples:") && o.stdout.contains(&format!("vpcsim {sub} ")),
            "{sub} --help shows examples: {}",
            o.stdout
        );
        // `vpcsim help SUB` is the same text.
        assert_eq!(run(&["help", sub]).stdout, o.stdout, "{sub}");
    }
    let v = run(&["--version"]);
    assert_eq!(v.code, 0);
    assert!(v.stdout.starts_with("vpcsim "), "{}", v.stdout);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["frobnicate"][..],
        &["trace"][..],
        &["trace", "-t", "x.yaml"][..],
        &["replay", "-t", "x.yaml", "--in", "a.pcap"][..],
        &["validate", "--nope"][..],
        &["gen", "-t", "x.yaml", "--flows", "many", "--out", "x.pcap"][..],
    ] {
        let o = run(args);
        assert_eq!(o.code, 2, "{args:?}: {}{}", o.stdout, o.stderr);
        assert!(!o.stderr.is_empty(), "{args:?}: says why");
    }
}

#[test]
fn bad_flow_spec_exit_2_with_a_clear_message() {
    for (flow, says) in [
        (
            "tcp 10.0.1.20:40000 198.51.100.7:443",
            "expected `PROTO SRC[:PORT] -> DST[:PORT]`",
        ),
        (
            "tcp 10.0.1.20:40000 -> 198.51.100.7",
            "needs a destination port",
        ),
        ("foo 10.0.1.20 -> 198.51.100.7", "unknown protocol \"foo\""),
        (
            "tcp 10.0.1.20:1 -> [2001:db8::1]:443",
            "same address family",
        ),
        ("tcp 10.0.1.999:1 -> 198.51.100.7:443", "10.0.1.999"),
        ("tcp 10.0.1.20:70000 -> 198.51.100.7:443", "70000"),
        ("tcp 10.0.1.20:1 -> 198.51.100.7:443 ttl x", "TTL"),
        ("", "expected"),
    ] {
        let o = run(&["trace", "-t", &ex(), flow]);
        assert_eq!(o.code, 2, "{flow:?}: {}{}", o.stdout, o.stderr);
        assert!(o.stdout.is_empty(), "{flow:?}: nothing printed on stdout");
        assert!(o.stderr.starts_with("error: "), "{flow:?}: {}", o.stderr);
        assert!(
            o.stderr.contains(says),
            "{flow:?}: {:?} should mention {says:?}",
            o.stderr
        );
    }
}

#[test]
fn unknown_from_or_at_exit_2() {
    let flow = "tcp 10.0.1.20:40000 -> 198.51.100.7:443";
    let o = run(&["trace", "-t", &ex(), flow, "--from", "NoSuchThing"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("no instance or interface named \"NoSuchThing\""),
        "{}",
        o.stderr
    );
    // A resource that is not an instance or interface cannot be an origin either.
    let o = run(&["trace", "-t", &ex(), flow, "--from", "Vpc"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("AWS::EC2::VPC"), "{}", o.stderr);
    // AWS ids and `internet` are accepted.
    let o = run(&["trace", "-t", &ex(), flow, "--from", "internet", "--json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);

    let dir = tempfile::tempdir().unwrap();
    let cap = common::root().join("captures/two-tier.pcap");
    let out = dir.path().join("out");
    let o = run(&[
        "replay",
        "-t",
        &ex(),
        "--in",
        &cap.display().to_string(),
        "--out",
        &out.display().to_string(),
        "--at",
        "NoSuchThing",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("no instance or interface named \"NoSuchThing\""),
        "{}",
        o.stderr
    );
}

#[test]
fn missing_files_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-template.yaml");
    let m = missing.display().to_string();
    for args in [
        vec!["validate", "-t", &m],
        vec!["validate", "-t", &m, "--json"],
        vec!["trace", "-t", &m, "tcp 10.0.1.20:1 -> 198.51.100.7:443"],
    ] {
        let o = run(&args);
        assert_eq!(o.code, 2, "{args:?}");
        assert!(
            o.stdout.contains("no-such-template.yaml")
                || o.stderr.contains("no-such-template.yaml"),
            "{args:?}: {}{}",
            o.stdout,
            o.stderr
        );
    }
    let o = run(&["validate", "-t", &m, "--json"]);
    let e = errors(&o);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0]["code"], "InvalidTemplate");
    assert!(e[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("no-such-template.yaml"));

    // A missing capture.
    let cap = dir
        .path()
        .join("no-such-capture.pcap")
        .display()
        .to_string();
    let out = dir.path().join("out").display().to_string();
    let o = run(&["replay", "-t", &ex(), "--in", &cap, "--out", &out]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("no-such-capture.pcap"), "{}", o.stderr);
    // A file that is not a capture.
    let o = run(&["replay", "-t", &ex(), "--in", &ex(), "--out", &out]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("two-tier.yaml"), "{}", o.stderr);
}

#[test]
fn broken_yaml_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broken.yaml");
    std::fs::write(
        &p,
        "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties: { CidrBlock: 10.0.0.0/16\n  Other: [\n",
    )
    .unwrap();
    let ps = p.display().to_string();
    let o = run(&["validate", "-t", &ps]);
    assert_eq!(o.code, 2);
    let text = format!("{}{}", o.stdout, o.stderr);
    assert!(
        text.contains("broken.yaml") && text.contains("line 5"),
        "{text}"
    );

    let o = run(&["validate", "-t", &ps, "--json"]);
    assert_eq!(o.code, 2);
    let e = errors(&o);
    assert_eq!(e[0]["code"], "InvalidTemplate", "{e:?}");
    assert!(e[0]["file"].as_str().unwrap().ends_with("broken.yaml"));
    assert!(
        e[0]["message"].as_str().unwrap().contains("line 5"),
        "{e:?}"
    );

    // The same for trace and replay, which refuse to run on a broken topology.
    let o = run(&["trace", "-t", &ps, "tcp 10.0.0.5:1 -> 198.51.100.7:443"]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("broken.yaml") && o.stderr.contains("line 5"),
        "{}",
        o.stderr
    );

    // Broken JSON names the line too.
    let j = dir.path().join("broken.json");
    std::fs::write(
        &j,
        "{\n  \"Resources\": {\n    \"Vpc\": {\n      \"Type\": \"AWS::EC2::VPC\",,\n",
    )
    .unwrap();
    let o = run(&["validate", "-t", &j.display().to_string()]);
    assert_eq!(o.code, 2);
    let text = format!("{}{}", o.stdout, o.stderr);
    assert!(
        text.contains("broken.json") && text.contains("line 4"),
        "{text}"
    );
}

#[test]
fn expect_not_met_exit_1() {
    let dropped = "tcp 192.0.2.9:50000 -> 198.18.0.99:22";
    let delivered = "tcp 10.0.1.20:40000 -> 10.0.3.4:8080";
    let o = run(&["trace", "-t", &ex(), dropped, "--expect", "delivered"]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("DROPPED"),
        "the trace is still printed: {}",
        o.stdout
    );
    let o = run(&["trace", "-t", &ex(), dropped, "--expect", "dropped"]);
    assert_eq!(o.code, 0);
    let o = run(&["trace", "-t", &ex(), delivered, "--expect", "delivered"]);
    assert_eq!(o.code, 0, "{}", o.stdout);
    let o = run(&[
        "trace",
        "-t",
        &ex(),
        delivered,
        "--expect",
        "exited",
        "--json",
    ]);
    assert_eq!(o.code, 1);
    assert_eq!(json(&o)["disposition"], "DELIVERED");
    // Without --expect a drop is an answer, not a failure.
    assert_eq!(run(&["trace", "-t", &ex(), dropped]).code, 0);
    // --expect with --return: both directions must match.
    let o = run(&[
        "trace",
        "-t",
        &ex(),
        delivered,
        "--return",
        "--expect",
        "delivered",
    ]);
    assert_eq!(o.code, 0, "{}", o.stdout);
    let o = run(&[
        "trace",
        "-t",
        &ex(),
        "tcp 10.0.1.20:40000 -> 198.51.100.7:443",
        "--return",
        "--expect",
        "exited",
    ]);
    assert_eq!(
        o.code, 1,
        "the reply is DELIVERED, not EXITED: {}",
        o.stdout
    );
    // An invalid value is a usage error.
    assert_eq!(
        run(&["trace", "-t", &ex(), delivered, "--expect", "maybe"]).code,
        2
    );
}

/// A link-local service answers on the host: `--return` says so instead of tracing a reply
/// from somewhere else, and the exchange counts as delivered.
#[test]
fn return_of_a_link_local_service_is_answered_on_the_host() {
    for dst in ["10.0.0.2", "169.254.169.253"] {
        let flow = format!("udp 10.0.2.30:45000 -> {dst}:53");
        let o = run(&[
            "trace",
            "-t",
            &ex(),
            &flow,
            "--return",
            "--expect",
            "delivered",
        ]);
        assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
        assert!(
            o.stdout.ends_with(
                "DELIVERED to AmazonProvidedDNS\n\nreturn path: answered on the host by AmazonProvidedDNS; not filtered\n"
            ),
            "{}",
            o.stdout
        );
        let o = run(&["trace", "-t", &ex(), &flow, "--return", "--json"]);
        let v = json(&o);
        assert_eq!(v["disposition"], "DELIVERED");
        assert_eq!(v["return"], Value::Null, "{v:#}");
    }
}

#[test]
fn unknown_param_exit_2() {
    let o = run(&[
        "validate",
        "-t",
        &ex(),
        "--param",
        "NoSuchParameter=1",
        "--json",
    ]);
    assert_eq!(o.code, 2);
    let e = errors(&o);
    assert!(
        e.iter().any(|e| e["code"] == "UnknownParameter"
            && e["message"].as_str().unwrap().contains("NoSuchParameter")),
        "{e:?}"
    );
    let o = run(&[
        "trace",
        "-t",
        &ex(),
        "tcp 10.0.1.20:1 -> 198.51.100.7:443",
        "--param",
        "NoSuchParameter=1",
    ]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("UnknownParameter"), "{}", o.stderr);
    // A malformed --param is a usage error too.
    assert_eq!(
        run(&["validate", "-t", &ex(), "--param", "NoEqualsSign"]).code,
        2
    );
    // A declared one is fine and takes effect.
    let flow = "tcp 10.0.1.20:40000 -> 10.0.3.4:9090";
    let o = run(&[
        "trace",
        "-t",
        &ex(),
        flow,
        "--param",
        "AppPort=9090",
        "--expect",
        "delivered",
    ]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let o = run(&["trace", "-t", &ex(), flow, "--expect", "dropped"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
}

#[test]
fn import_satisfies_import_value() {
    let t = spec("import-cidr.yaml");
    let o = run(&[
        "validate",
        "-t",
        &t,
        "--import",
        "shared-VpcCidr=10.9.0.0/16",
        "--json",
    ]);
    assert_eq!(o.code, 0, "{}", o.stdout);
    let j = json(&o);
    assert_eq!(j["vpcs"][0]["cidrs"][0], "10.9.0.0/16");
    assert_eq!(j["vpcs"][0]["subnets"][0]["cidr"], "10.9.0.0/24");

    let o = run(&["validate", "-t", &t, "--json"]);
    assert_eq!(o.code, 2);
    let e = errors(&o);
    assert!(!e.is_empty());
    for err in &e {
        assert_eq!(err["code"], "UnresolvedImport", "{err}");
        assert!(
            err["message"].as_str().unwrap().contains("shared-VpcCidr"),
            "{err}"
        );
        assert!(err["file"].as_str().unwrap().ends_with("import-cidr.yaml"));
        assert!(err["logical_id"].is_string(), "{err}");
    }
    let o = run(&["validate", "-t", &t]);
    assert_eq!(o.code, 2);
    assert!(format!("{}{}", o.stdout, o.stderr).contains("shared-VpcCidr"));
}

#[test]
fn second_template_imports_the_first_ones_exports() {
    let (net, app) = (spec("export-network.yaml"), spec("import-app.yaml"));
    let o = run(&["validate", "-t", &net, "-t", &app, "--json"]);
    assert_eq!(o.code, 0, "{}", o.stdout);
    let j = json(&o);
    assert_eq!(j["templates"].as_array().unwrap().len(), 2);
    assert_eq!(j["templates"][0]["stack"], "export-network");
    assert_eq!(j["resources"]["AWS::EC2::Instance"], 1);

    // The instance of the second stack sits in the first stack's subnet and is reachable.
    let flow = "tcp 192.0.2.9:50000 -> 203.0.113.70:443";
    let o = run(&[
        "trace",
        "-t",
        &net,
        "-t",
        &app,
        flow,
        "--return",
        "--json",
        "--expect",
        "delivered",
    ]);
    let v = json(&o);
    common::assert_verdict(&v, "DELIVERED", None, "Web");
    common::assert_verdict(&v["return"], "EXITED", None, "Igw");

    // In the other order the exports do not exist yet when the importer loads.
    let o = run(&["validate", "-t", &app, "-t", &net, "--json"]);
    assert_eq!(o.code, 2);
    let e = errors(&o);
    assert!(
        e.iter().all(|e| e["code"] == "UnresolvedImport"
            && e["message"].as_str().unwrap().contains("export-network-")),
        "{e:?}"
    );
}

/// `validate` prints what it loaded and exits 0 on the example; `--json` is the same in JSON.
#[test]
fn validate_example_ok() {
    let o = run(&["validate", "-t", &ex()]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("OK: no errors"), "{}", o.stdout);
    assert!(o.stdout.contains("10.0.0.0/16"));
    let o = run(&["validate", "-t", &ex(), "--json"]);
    assert_eq!(o.code, 0);
    let j = json(&o);
    assert!(j["errors"].as_array().unwrap().is_empty());
    assert_eq!(j["vpcs"][0]["cidrs"][0], "10.0.0.0/16");
    assert!(Path::new(j["templates"][0]["file"].as_str().unwrap()).ends_with("two-tier.yaml"));
}
