//! A resource name that does not exist answers "did you mean …?" with the closest names and the
//! list of names of the type the option takes, the same wording for every option (exit 2).

mod common;

use common::{example, fixture, root, vpcsim, Output};

const FLOW: &str = "tcp 10.0.1.20:40000 -> 198.51.100.7:443";
const TWO_TIER_LIST: &str = "(instances and interfaces: AppInstanceA, AppInstanceA.eth0, \
AppInstanceB, AppInstanceB.eth0, NatGateway, NatGateway.eni, WebInstance, WebInstance.eth0)";

fn ex() -> String {
    example().display().to_string()
}

fn refused(args: &[&str]) -> String {
    let o: Output = vpcsim(args);
    assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
    assert!(o.stdout.is_empty(), "{args:?}: {}", o.stdout);
    o.stderr
}

#[test]
fn trace_from_typo_suggests_the_instance() {
    let e = refused(&["trace", "-t", &ex(), FLOW, "--from", "WebInstanse"]);
    assert_eq!(
        e.trim_end(),
        format!(
            "error: no instance or interface named \"WebInstanse\"; did you mean WebInstance? {TWO_TIER_LIST}"
        )
    );
}

#[test]
fn case_and_name_tags_count_as_spellings() {
    let e = refused(&["trace", "-t", &ex(), FLOW, "--from", "webinstance"]);
    assert!(e.contains("did you mean WebInstance?"), "{e}");
    // WebInstance's Name tag is `web`.
    let e = refused(&["trace", "-t", &ex(), FLOW, "--from", "wep"]);
    assert!(e.contains("did you mean web?"), "{e}");
}

#[test]
fn reach_from_and_to_typos_suggest_names() {
    let e = refused(&["reach", "-t", &ex(), "--from", "WebInstanse"]);
    assert!(
        e.contains("no instance or interface named \"WebInstanse\"; did you mean WebInstance?"),
        "{e}"
    );
    let e = refused(&[
        "reach",
        "-t",
        &ex(),
        "--from",
        "WebInstance",
        "--to",
        "AppInstanseA",
    ]);
    assert!(
        e.contains("named \"AppInstanseA\"; did you mean AppInstanceA or AppInstanceB?"),
        "{e}"
    );
    assert!(
        e.contains("--to also takes `internet`, an address or a CIDR"),
        "{e}"
    );
}

#[test]
fn replay_at_typo_suggests_the_instance() {
    let dir = tempfile::tempdir().unwrap();
    let cap = root().join("captures/two-tier.pcap").display().to_string();
    let out = dir.path().join("out").display().to_string();
    let e = refused(&[
        "replay",
        "-t",
        &ex(),
        "--in",
        &cap,
        "--out",
        &out,
        "--at",
        "AppInstancB",
    ]);
    assert!(
        e.contains("named \"AppInstancB\"; did you mean AppInstanceB"),
        "{e}"
    );
}

#[test]
fn the_kinds_named_are_those_the_topology_has() {
    let vpn = root().join("examples/vpn.yaml").display().to_string();
    let e = refused(&["trace", "-t", &vpn, FLOW, "--from", "OfficeRoutr"]);
    assert!(
        e.contains("no instance, interface, customer gateway, VPN connection or virtual private gateway named \"OfficeRoutr\"; did you mean OfficeRouter?"),
        "{e}"
    );
}

#[test]
fn no_close_name_gets_only_the_list() {
    let e = refused(&["trace", "-t", &ex(), FLOW, "--from", "Zzzzqq"]);
    assert!(!e.contains("did you mean"), "{e}");
    assert!(
        e.contains(&format!("named \"Zzzzqq\" {TWO_TIER_LIST}")),
        "{e}"
    );
}

#[test]
fn the_list_is_capped_at_twenty() {
    let t = fixture("names/many-instances.yaml").display().to_string();
    let e = refused(&["reach", "-t", &t, "--from", "Zebra"]);
    assert!(!e.contains("did you mean"), "{e}");
    assert!(
        e.contains("Host10, Host10.eth0, and 30 more)"),
        "25 instances and their interfaces, 20 listed: {e}"
    );
    assert!(!e.contains("Host11"), "{e}");
    // At most three suggestions, closest first.
    let e = refused(&["reach", "-t", &t, "--from", "Host1"]);
    assert!(e.contains("did you mean Host01, Host10 or Host11?"), "{e}");
}

#[test]
fn a_name_tag_on_several_resources_asks_for_an_id() {
    let t = fixture("names/many-instances.yaml").display().to_string();
    let e = refused(&["reach", "-t", &t, "--from", "twin"]);
    assert!(
        e.contains("\"twin\" names several instances and interfaces: Host01, Host02; give a logical id or AWS id"),
        "{e}"
    );
}

#[test]
fn target_health_names_suggest_groups_and_targets() {
    let dir = tempfile::tempdir().unwrap();
    let nlb = root().join("examples/nlb.yaml").display().to_string();
    let flow = "tcp 203.0.113.9:40000 -> 198.18.0.1:80";
    for (group, target, says) in [
        (
            "WebTargts",
            "WebA1",
            "no target group named \"WebTargts\"; did you mean WebTargets? (target groups: ApiTargets, DnsTargets, WebTargets)",
        ),
        (
            "WebTargets",
            "WebA3",
            "no target named \"WebA3\" in target group WebTargets; did you mean WebA1, WebA2 or WebB1? (targets: WebA1, WebA2, WebB1)",
        ),
    ] {
        let file = dir.path().join("health.json");
        std::fs::write(
            &file,
            format!(
                r#"[{{"TargetGroup": "{group}", "Target": {{"Id": "{target}"}}, "TargetHealth": {{"State": "healthy"}}}}]"#
            ),
        )
        .unwrap();
        let f = file.display().to_string();
        let e = refused(&["trace", "-t", &nlb, flow, "--target-health", &f]);
        assert!(e.contains(says), "{e}");
    }
}
