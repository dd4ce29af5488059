//! Unix manners: `--version` with the commit, the top-level help (every exit code, what is
//! modelled).

mod common;

use common::vpcsim;

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
        "Network and Gateway Load Balancers",
        "CloudFormation templates",
        "Terraform plans and states",
        "describe-* snapshots",
    ] {
        assert!(flat.contains(modelled), "{modelled:?} in {help}");
    }
}
