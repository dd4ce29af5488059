//! `vpcsim diff`: the flows a change opens and closes, from the reachability matrices of the
//! topology before and after it.

use super::args::{parse_key_value, worker_threads, TopologyArgs};
use super::diff_identity::{
    group, groups_json, groups_text, rename_pairs, Identity, Side as IdSide,
};
use super::reach::out;
use super::stdio::errln;
use clap::Args;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use vpcsim_dataplane::reach::{self, Endpoint, Family, HeaderSet, Prepared, Start, DIMS, DST, SRC};
use vpcsim_dataplane::Topology;
use vpcsim_report::reach::{
    addresses, box_json, endpoint_name, family_name, services_text, sorted_boxes,
};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim diff --before examples/hub-and-spoke.yaml --after examples/hub-and-spoke.yaml \\
      --after-param ApplianceMode=disable
  vpcsim diff --before old.yaml --after new.yaml --json
  vpcsim diff --before old.yaml --after new.yaml --fail-on-change     # in CI

Both topologies are analysed for every packet (`vpcsim reach --matrix`): for each pair of
instances/interfaces and the internet, the flows whose requests arrive and whose replies return.
A flow the change makes work is OPENED, one it breaks is CLOSED. Resources are matched by logical
id, a snapshot's by its aws:cloudformation:logical-id tag, else by a Name tag unique on both
sides, so a template against its own export shows no change. --by-resource groups the changes
per resource that opened or closed them.

Exit codes: 0 ok (with --fail-on-change: nothing changed), 1 something changed and
--fail-on-change was given, 2 bad input.")]
pub struct DiffArgs {
    /// Template(s) of the topology before the change (repeatable, as --topology).
    #[arg(long, value_name = "FILE", required = true)]
    pub before: Vec<PathBuf>,
    /// Template(s) of the topology after the change (repeatable).
    #[arg(long, value_name = "FILE", required = true)]
    pub after: Vec<PathBuf>,
    /// Template parameter for both topologies (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub params: Vec<(String, String)>,
    /// Template parameter for the topology before the change only (repeatable).
    #[arg(long = "before-param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub before_params: Vec<(String, String)>,
    /// Template parameter for the topology after the change only (repeatable).
    #[arg(long = "after-param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub after_params: Vec<(String, String)>,
    /// Value for an Fn::ImportValue export (repeatable, both topologies).
    #[arg(long = "import", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    pub imports: Vec<(String, String)>,
    /// AWS::Region of the stacks.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// AWS::AccountId of the stacks.
    #[arg(long, default_value = "123456789012")]
    pub account_id: String,
    /// AWS service address ranges (ip-ranges.json format) for gateway endpoint prefix lists.
    #[arg(long, value_name = "FILE")]
    pub service_ranges: Option<PathBuf>,
    /// Treat every warning of either topology as an error (as --strict of other commands).
    #[arg(long)]
    pub strict: bool,
    /// Set an AWS quota for both topologies (repeatable, as --quota of other commands).
    #[arg(long = "quota", value_name = "NAME=N", value_parser = vpcsim_controlplane::quotas::parse_quota)]
    pub quotas: Vec<(String, u32)>,
    /// IPv6 instead of IPv4.
    #[arg(long)]
    pub ipv6: bool,
    /// Exit 1 when the change opens or closes any flow (for CI pipelines).
    #[arg(long)]
    pub fail_on_change: bool,
    /// Worker threads (default: the machine's cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Group the changes per resource (the rule that opened or closed them) instead of per pair.
    #[arg(long)]
    pub by_resource: bool,
}

/// One side's topology options, parsed the way `--topology` commands parse them so that every
/// option keeps its default.
#[derive(clap::Parser)]
struct Side {
    #[command(flatten)]
    topology: TopologyArgs,
}

impl DiffArgs {
    fn side(&self, files: &[PathBuf], extra: &[(String, String)]) -> Result<TopologyArgs, String> {
        let mut argv: Vec<std::ffi::OsString> = vec!["vpcsim".into()];
        for f in files {
            argv.push("--topology".into());
            argv.push(f.into());
        }
        for (k, v) in self.params.iter().chain(extra) {
            argv.push("--param".into());
            argv.push(format!("{k}={v}").into());
        }
        for (k, v) in &self.imports {
            argv.push("--import".into());
            argv.push(format!("{k}={v}").into());
        }
        argv.push("--region".into());
        argv.push(self.region.clone().into());
        argv.push("--account-id".into());
        argv.push(self.account_id.clone().into());
        if let Some(r) = &self.service_ranges {
            argv.push("--service-ranges".into());
            argv.push(r.into());
        }
        if self.strict {
            argv.push("--strict".into());
        }
        for (name, n) in &self.quotas {
            argv.push("--quota".into());
            argv.push(format!("{name}={n}").into());
        }
        <Side as clap::Parser>::try_parse_from(argv)
            .map(|s| s.topology)
            .map_err(|e| e.to_string())
    }
}

/// What one side says about each (from, to) pair, endpoints named, interface-side addresses
/// projected out (an instance keeps its identity when its address changes); the internet side
/// keeps its addresses, so narrowing who may connect shows up as closed flows.
pub(super) fn pairs(
    topo: &Topology,
    fam: Family,
    threads: usize,
) -> BTreeMap<(String, String), HeaderSet> {
    let prep = Prepared::new(topo);
    let m = reach::matrix(&prep, fam, threads);
    let d = fam.domain();
    let mut out: BTreeMap<(String, String), HeaderSet> = BTreeMap::new();
    for (f, t, s) in &m.cells {
        let (from, to) = (m.endpoints[*f], m.endpoints[*t]);
        let mut s = s.clone();
        if matches!(from, Endpoint::Eni(_)) {
            s = s.project_out(SRC, d.lo[SRC], d.hi[SRC]);
        }
        if matches!(to, Endpoint::Eni(_)) {
            s = s.project_out(DST, d.lo[DST], d.hi[DST]);
        }
        let key = (endpoint_name(topo, from), endpoint_name(topo, to));
        let e = out.entry(key).or_default();
        *e = e.union(&s);
    }
    out
}

/// The internet addresses (`internet`: public ranges the topology does not own) a set covers
/// on dimension `dim`: `None` when it is all of them.
fn internet_side(
    fam: Family,
    s: &HeaderSet,
    dim: usize,
    internet: &[(u128, u128)],
) -> Option<String> {
    let d = fam.domain();
    let mut only = s.clone();
    for k in 0..DIMS {
        if k != dim {
            only = only.project_out(k, d.lo[k], d.hi[k]);
        }
    }
    let mut ranges: Vec<(u128, u128)> = only.boxes().iter().map(|b| b.range(dim)).collect();
    ranges.sort_unstable();
    let missing = reach::ranges_minus(internet, &ranges);
    if missing.is_empty() {
        return None;
    }
    let outside: Vec<(u128, u128)> = {
        let mut o = internet.to_vec();
        o.sort_unstable();
        reach::ranges_minus(&[(0, fam.addr_max())], &o)
    };
    let inside = reach::ranges_minus(&ranges, &outside);
    if missing.len() <= 3 && inside.len() > missing.len() {
        let m: Vec<String> = missing
            .iter()
            .map(|&(lo, hi)| addresses(fam, lo, hi))
            .collect();
        return Some(format!("the internet except {}", m.join(",")));
    }
    let text: Vec<String> = inside
        .iter()
        .take(4)
        .map(|&(lo, hi)| addresses(fam, lo, hi))
        .collect();
    let more = if inside.len() > 4 {
        format!(" and {} more ranges", inside.len() - 4)
    } else {
        String::new()
    };
    Some(format!("{}{more}", text.join(",")))
}

struct Change {
    from: String,
    to: String,
    opened: HeaderSet,
    closed: HeaderSet,
}

/// What a set of flows of pair `from` → `to` is, in words.
pub(super) fn describe(
    fam: Family,
    (from, to): (&str, &str),
    s: &HeaderSet,
    internet: &[(u128, u128)],
) -> String {
    let mut t = services_text(fam, s);
    if from == "internet" {
        if let Some(a) = internet_side(fam, s, SRC, internet) {
            t.push_str(&format!(" (from {a})"));
        }
    }
    if to == "internet" {
        if let Some(a) = internet_side(fam, s, DST, internet) {
            t.push_str(&format!(" (to {a})"));
        }
    }
    t
}

pub fn run(args: &DiffArgs) -> i32 {
    let fam = if args.ipv6 { Family::V6 } else { Family::V4 };
    let mut topos = Vec::new();
    for (files, extra) in [
        (&args.before, &args.before_params),
        (&args.after, &args.after_params),
    ] {
        let side = match args.side(files, extra) {
            Ok(s) => s,
            Err(e) => {
                errln!("error: {e}");
                return 2;
            }
        };
        let Ok((loaded, topo)) = side.topology() else {
            return 2;
        };
        topos.push((loaded.model, topo));
    }
    let (before, after) = (&topos[0].1, &topos[1].1);
    let identity = Identity::new(
        &IdSide {
            model: &topos[0].0,
            topo: before,
        },
        &IdSide {
            model: &topos[1].0,
            topo: after,
        },
    );
    let threads = worker_threads(args.threads);
    let b = pairs(before, fam, threads);
    let a = rename_pairs(pairs(after, fam, threads), &identity);
    // What "the internet" is on each side: public addresses the topology does not own.
    let net_before = reach::sources(before, Start::Internet, fam);
    let net_after = reach::sources(after, Start::Internet, fam);
    let mut keys: Vec<&(String, String)> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    let empty = HeaderSet::new();
    let mut changes = Vec::new();
    for k in keys {
        let (sb, sa) = (b.get(k).unwrap_or(&empty), a.get(k).unwrap_or(&empty));
        let mut opened = sa.subtract(sb);
        let mut closed = sb.subtract(sa);
        opened.coalesce();
        closed.coalesce();
        if opened.is_empty() && closed.is_empty() {
            continue;
        }
        changes.push(Change {
            from: k.0.clone(),
            to: k.1.clone(),
            opened,
            closed,
        });
    }
    let groups = (args.json || args.by_resource).then(|| {
        let list: Vec<_> = changes
            .iter()
            .map(|c| (c.from.as_str(), c.to.as_str(), &c.opened, &c.closed))
            .collect();
        group(fam, before, after, &identity, &list)
    });
    let describe_flows = |pair: (&str, &str), s: &HeaderSet, opened: bool| {
        describe(fam, pair, s, if opened { &net_after } else { &net_before })
    };
    if args.json {
        let flows_json = |s: &HeaderSet| -> Value {
            json!(sorted_boxes(s)
                .iter()
                .map(|b| box_json(fam, b))
                .collect::<Vec<_>>())
        };
        let json = json!({
            "family": family_name(fam),
            "changed": !changes.is_empty(),
            "resources": groups_json(groups.as_deref().unwrap_or_default(), &describe_flows, &flows_json),
            "changes": changes.iter().map(|c| {
                let side = |s: &HeaderSet, net: &[(u128, u128)]| -> Value {
                    if s.is_empty() { Value::Null } else {
                        json!({
                            "services": describe(fam, (&c.from, &c.to), s, net),
                            "flows": sorted_boxes(s).iter().map(|b| box_json(fam, b)).collect::<Vec<_>>(),
                        })
                    }
                };
                json!({"from": c.from, "to": c.to, "opened": side(&c.opened, &net_after), "closed": side(&c.closed, &net_before)})
            }).collect::<Vec<_>>(),
        });
        out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        ));
    } else if changes.is_empty() {
        out(&format!(
            "no change: every pair reaches the same flows before and after ({})\n",
            family_name(fam)
        ));
    } else if let Some(groups) = &groups {
        out(&groups_text(family_name(fam), groups, &describe_flows));
    } else {
        let mut text = format!(
            "{} pair(s) change ({}): requests that arrive and whose replies return\n",
            changes.len(),
            family_name(fam)
        );
        for c in &changes {
            text.push_str(&format!("\n  {} → {}\n", c.from, c.to));
            if !c.opened.is_empty() {
                text.push_str(&format!(
                    "    + opened: {}\n",
                    describe(fam, (&c.from, &c.to), &c.opened, &net_after)
                ));
            }
            if !c.closed.is_empty() {
                text.push_str(&format!(
                    "    - closed: {}\n",
                    describe(fam, (&c.from, &c.to), &c.closed, &net_before)
                ));
            }
        }
        out(&text);
    }
    if args.fail_on_change && !changes.is_empty() {
        1
    } else {
        0
    }
}
