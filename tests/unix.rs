//! Unix manners: `--version` with the commit, the top-level help (every command, every exit
//! code, what is modelled), `completions SHELL` and `man --out DIR`.

mod common;

use common::{root, vpcsim};
use std::collections::BTreeSet;

/// The commands the top-level help lists under "Commands:", `help` left out.
fn commands() -> Vec<String> {
    let o = vpcsim(["--help"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let section = o
        .stdout
        .split("Commands:\n")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .expect("a Commands: section");
    let names: Vec<String> = section
        .lines()
        // A command's line starts two spaces in; wrapped descriptions are indented further.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_string)
        .collect();
    for expected in [
        "validate",
        "trace",
        "replay",
        "gen",
        "report",
        "reach",
        "diff",
        "export",
        "graph",
        "completions",
        "man",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    names
}

#[test]
fn version_names_the_cargo_version_and_the_commit() {
    let o = vpcsim(["--version"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let line = o.stdout.trim_end();
    let prefix = format!("vpcsim {} (", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&prefix), "{line}");
    // `(49fffdd 2026-12-07)` from a checkout, `(unknown)` from a source tarball.
    let build = &line[prefix.len()..line.len() - 1];
    assert!(line.ends_with(')'), "{line}");
    let fields: Vec<&str> = build.split(' ').collect();
    match fields[..] {
        ["unknown"] => {}
        [hash, date] => {
            assert!(
                hash.len() >= 7 && hash.chars().all(|c| c.is_ascii_hexdigit()),
                "{line}"
            );
            assert!(
                date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-',
                "{line}"
            );
        }
        _ => panic!("unexpected build info: {line}"),
    }
    assert_eq!(vpcsim(["-V"]).stdout, o.stdout);
}

#[test]
fn top_level_help_lists_exit_codes_and_what_is_modelled() {
    let o = vpcsim(["--help"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let help = &o.stdout;
    for code in [
        "  0  success",
        "  1  a check's answer is negative",
        "  2  bad input or usage",
        "A closed pipe",
    ] {
        assert!(help.contains(code), "{code:?} in {help}");
    }
    // The line on what vpcsim models, held to README's "What vpcsim models". Help wraps at the
    // terminal width, so words are compared with line breaks removed.
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for modelled in [
        "route tables",
        "network ACLs",
        "security groups",
        "internet, egress-only and NAT gateways",
        "VPC peering",
        "transit gateways (with peering)",
        "VPN",
        "VPC endpoints",
        "Network, Gateway and Application Load Balancers",
        "AWS WAF",
        "AWS Network Firewall",
        "Route 53 with the VPC resolver",
        "CloudFormation templates",
        "Terraform plans and states",
        "describe-* snapshots",
        "`vpcsim serve` runs it as a service",
    ] {
        assert!(flat.contains(modelled), "{modelled:?} in {help}");
    }
}

#[test]
fn bash_completion_mentions_every_subcommand() {
    let o = vpcsim(["completions", "bash"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("complete -F _vpcsim"), "{}", o.stdout);
    for name in commands() {
        assert!(
            o.stdout.contains(&format!("vpcsim__subcmd__{name}")),
            "completion of {name}"
        );
    }
    // Options of a subcommand complete too.
    assert!(o.stdout.contains("--topology"));
}

#[test]
fn every_shell_gets_a_script_and_others_are_refused() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = vpcsim(["completions", shell]);
        assert_eq!(o.code, 0, "{shell}: {}", o.stderr);
        assert!(o.stdout.contains("replay"), "{shell}: {}", o.stdout);
    }
    let o = vpcsim(["completions", "tcsh"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("possible values"), "{}", o.stderr);
}

#[test]
fn man_writes_one_roff_page_per_command() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // A folder that does not exist yet is created.
    let dir = tmp.path().join("share/man/man1");
    let o = vpcsim(["man", "--out", dir.to_str().expect("utf-8 path")]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let written: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("man folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let mut expected: BTreeSet<String> =
        commands().iter().map(|c| format!("vpcsim-{c}.1")).collect();
    expected.insert("vpcsim.1".into());
    // Commands with subcommands get a page for each of them too.
    expected.extend(["vpcsim-live-status.1".into(), "vpcsim-live-down.1".into()]);
    assert_eq!(written, expected);
    // Each page is printed as it is written, for install scripts.
    assert_eq!(o.stdout.lines().count(), expected.len(), "{}", o.stdout);
    for name in &written {
        let page = std::fs::read_to_string(dir.join(name)).expect("page");
        let title = name.trim_end_matches(".1");
        assert!(
            page.starts_with(&format!(".TH {title} 1 ")),
            "{name}: {}",
            &page[..page.len().min(200)]
        );
        assert!(
            page.contains(".SH NAME") && page.contains(".SH SYNOPSIS"),
            "{name}"
        );
    }
    let replay = std::fs::read_to_string(dir.join("vpcsim-replay.1")).expect("page");
    assert!(replay.contains("\\-\\-topology"), "{replay}");
    let top = std::fs::read_to_string(dir.join("vpcsim.1")).expect("page");
    assert!(top.contains("vpcsim\\-replay(1)"), "{top}");
}

#[test]
fn man_into_a_file_exits_2_with_the_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("not-a-folder");
    std::fs::write(&file, "keep me").expect("write");
    let o = vpcsim(["man", "--out", file.to_str().expect("utf-8 path")]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.starts_with("error: --out ") && o.stderr.contains("not-a-folder"),
        "{}",
        o.stderr
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "keep me");
}

/// `gen` warns on stderr when most of what it generated would be dropped (and names the
/// reason seen most), and stays quiet when most of it gets through.
#[test]
fn gen_warns_when_most_generated_packets_would_drop() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.pcap");
    let gen = |topology: &str| {
        let t = root().join("examples").join(topology);
        let args = ["gen", "-t", t.to_str().unwrap(), "--flows", "100"];
        vpcsim(
            args.into_iter()
                .chain(["--seed", "1", "--out", out.to_str().unwrap()]),
        )
    };
    let quiet = gen("two-tier.yaml");
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert!(!quiet.stderr.contains("warning"), "{}", quiet.stderr);
    // The web application's security groups admit traffic only from the load balancer: besides
    // its HTTP requests to the listeners, nearly every flow gen draws is refused.
    let loud = gen("web-app.yaml");
    assert_eq!(loud.code, 0, "{}", loud.stderr);
    let w = loud
        .stderr
        .lines()
        .find(|l| l.starts_with("warning: "))
        .expect("a warning");
    assert!(
        w.contains("packets") && w.contains("are dropped by the topology, most often "),
        "{w}"
    );
    let reason = w
        .split("most often ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(
        ["NO_ROUTE", "SG_INGRESS_DENIED", "SG_EGRESS_DENIED"].contains(&reason),
        "{w}"
    );
}
