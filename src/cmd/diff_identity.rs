//! `vpcsim diff` across deployments: the same resource has another AWS id in a template's
//! simulation, in the snapshot of its stack and in a second snapshot, so the two sides are
//! matched by what survives a deployment (the `aws:cloudformation:logical-id` tag that
//! CloudFormation puts on stack resources, else a `Name` tag unique on both sides), and every
//! flow that changes is put down to the resource that decides it.

use super::check::assert::first_point;
use super::check::equivalent::place;
use super::trace::trace_exchange;
use std::collections::{BTreeMap, HashMap};
use vpcsim_controlplane::model::Model;
use vpcsim_dataplane::reach::{Family, HeaderSet, DST, SRC};
use vpcsim_dataplane::{Disposition, ResId, StateConfig, Topology, Verdict};

/// One side of the diff: what was loaded and what it compiled to.
pub(super) struct Side<'a> {
    pub model: &'a Model,
    pub topo: &'a Topology,
}

impl Side<'_> {
    /// What stays the same across deployments: the stack's logical id (from the tag, for a
    /// snapshot), for implicit resources (`vpc-1.MainRouteTable`) that of their owner.
    fn stack_key(&self, name: &str) -> String {
        let tags = &self.model.stack_logical_ids;
        if let Some(lid) = tags.get(name) {
            return lid.clone();
        }
        if let Some((owner, rest)) = name.split_once('.') {
            if let Some(lid) = tags.get(owner) {
                return format!("{lid}.{rest}");
            }
        }
        name.to_string()
    }
}

/// How the after side's names map onto the before side's, both ways.
pub(super) struct Identity {
    /// After-side name → before-side name, for the resources matched.
    to_before: HashMap<String, String>,
    /// Before-side name → after-side name.
    to_after: HashMap<String, String>,
}

impl Identity {
    /// Match the resources of the two sides: by stack logical id first, then by a `Name` tag
    /// that exactly one resource carries on each side.
    pub(super) fn new(before: &Side, after: &Side) -> Identity {
        let mut by_key: HashMap<String, String> = HashMap::new();
        let mut names_before: HashMap<&str, Vec<&str>> = HashMap::new();
        for r in before.topo.resources.iter() {
            by_key
                .entry(before.stack_key(&r.logical_id))
                .or_insert_with(|| r.logical_id.clone());
            if let Some(n) = r.name.as_deref().filter(|n| !n.is_empty()) {
                names_before.entry(n).or_default().push(&r.logical_id);
            }
        }
        let mut names_after: HashMap<&str, usize> = HashMap::new();
        for r in after.topo.resources.iter() {
            if let Some(n) = r.name.as_deref().filter(|n| !n.is_empty()) {
                *names_after.entry(n).or_default() += 1;
            }
        }
        let mut to_before = HashMap::new();
        let mut to_after = HashMap::new();
        for r in after.topo.resources.iter() {
            let by_name = || {
                let n = r.name.as_deref()?;
                let b = names_before.get(n)?;
                (b.len() == 1 && names_after.get(n) == Some(&1)).then(|| b[0].to_string())
            };
            let matched = by_key
                .get(&after.stack_key(&r.logical_id))
                .cloned()
                .or_else(by_name);
            if let Some(b) = matched {
                if !to_after.contains_key(&b) {
                    to_after.insert(b.clone(), r.logical_id.clone());
                    to_before.insert(r.logical_id.clone(), b);
                }
            }
        }
        Identity {
            to_before,
            to_after,
        }
    }

    /// The before side's name of an after-side resource (its own name when unmatched).
    pub(super) fn before_name(&self, after_name: &str) -> String {
        rename(after_name, &self.to_before)
    }

    /// The after side's name of a before-side resource.
    fn after_name(&self, before_name: &str) -> String {
        rename(before_name, &self.to_after)
    }
}

/// `name` through `map`; an on-premises endpoint (`on-prem:<connection>`) by its connection.
fn rename(name: &str, map: &HashMap<String, String>) -> String {
    if let Some(conn) = name.strip_prefix("on-prem:") {
        return format!("on-prem:{}", rename(conn, map));
    }
    map.get(name).cloned().unwrap_or_else(|| name.to_string())
}

/// The after side's pairs under the before side's names (two after-side names that map to one
/// pair are united).
pub(super) fn rename_pairs(
    pairs: BTreeMap<(String, String), HeaderSet>,
    id: &Identity,
) -> BTreeMap<(String, String), HeaderSet> {
    let mut out: BTreeMap<(String, String), HeaderSet> = BTreeMap::new();
    for ((from, to), s) in pairs {
        let e = out
            .entry((id.before_name(&from), id.before_name(&to)))
            .or_default();
        *e = e.union(&s);
    }
    out
}

/// Flows of one pair put down to one resource.
pub(super) struct Attributed {
    pub from: String,
    pub to: String,
    /// Opened (gets through after only) or closed.
    pub opened: bool,
    pub flows: HeaderSet,
}

/// What one resource's change did: the rule that decides on the side where the flows get
/// through and where they do not, and the flows.
#[derive(Default)]
pub(super) struct ResourceChange {
    /// The resource's CloudFormation type.
    pub kind: String,
    /// `(side, rule)`: the rule or route of the resource that decided, before and after.
    pub rules: Vec<(&'static str, String)>,
    pub flows: Vec<Attributed>,
}

/// Where a traced exchange stopped: the resource that dropped the request or its reply, and
/// the exchange's hops of that resource with their rules.
struct Outcome {
    blamed: Option<ResId>,
    rules: Vec<(ResId, String)>,
}

fn dropped_at(v: &Verdict) -> Option<ResId> {
    (v.disposition == Disposition::Dropped).then_some(v.at)
}

/// Trace one packet of `flows` from `from` to `to` (names of `topo`'s side).
fn trace(topo: &Topology, fam: Family, from: &str, to: &str, flows: &HeaderSet) -> Option<Outcome> {
    let mut p = first_point(flows)?;
    let start = place(topo, from, fam, &mut p, SRC)?;
    place(topo, to, fam, &mut p, DST)?;
    // From the internet, an interface is reached at its public address.
    if from == "internet" && fam == Family::V4 {
        let e = topo.eni_by_resource(topo.find_resource(to)?)?;
        let private = fam.addr(p[DST]);
        let public = topo.enis[e]
            .public_v4
            .iter()
            .find(|(a, _)| std::net::IpAddr::V4(*a) == private)
            .or(topo.enis[e].public_v4.first())?
            .1;
        p[DST] = public.to_bits() as u128;
    }
    let flow = super::check::assert::flow_spec(fam, &p);
    let header = super::flowspec::parse(&flow).ok()?;
    let t = trace_exchange(topo, StateConfig::default(), header, start.origin());
    let blamed = dropped_at(&t.request).or_else(|| t.reply.as_ref().and_then(|r| dropped_at(&r.0)));
    let mut rules = Vec::new();
    let hops = t
        .request_trace
        .hops
        .iter()
        .chain(t.reply.iter().flat_map(|r| r.1.hops.iter()));
    for h in hops {
        if let Some(rule) = &h.rule {
            rules.push((h.resource, rule.clone()));
        }
    }
    Some(Outcome { blamed, rules })
}

/// Attribute each changed flow to the resource that drops it on the side where it does not get
/// through (the before side for an opened flow, the after side for a closed one), one traced
/// packet per box of the change. Flows no concrete trace puts down to a resource (the analysis
/// counts headers that depend on a flow hash as not reaching) are kept under `None`.
pub(super) fn attribute(
    fam: Family,
    before: &Topology,
    after: &Topology,
    id: &Identity,
    change: (&str, &str, &HeaderSet, bool),
) -> Vec<(Option<String>, ResourceChange)> {
    let (from, to, set, opened) = change;
    let (fails, passes) = if opened {
        (before, after)
    } else {
        (after, before)
    };
    // Names of the failing and passing sides (the pair is named as on the before side).
    let name_in = |t: &Topology, n: &str| {
        if std::ptr::eq(t, after) {
            id.after_name(n)
        } else {
            n.to_string()
        }
    };
    let to_before = |t: &Topology, r: ResId| {
        let n = t.name(r);
        if std::ptr::eq(t, after) {
            id.before_name(n)
        } else {
            n.to_string()
        }
    };
    let mut out: Vec<(Option<String>, ResourceChange)> = Vec::new();
    for b in set.boxes() {
        let flows = HeaderSet::from_box(*b);
        let (ff, ft) = (name_in(fails, from), name_in(fails, to));
        let fail = trace(fails, fam, &ff, &ft, &flows);
        let blamed = fail.as_ref().and_then(|o| o.blamed);
        let key = blamed.map(|r| to_before(fails, r));
        let i = match out.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                let mut c = ResourceChange::default();
                if let Some(r) = blamed {
                    c.kind = fails.resource(r).kind.clone();
                    let (fside, pside) = if opened {
                        ("before", "after")
                    } else {
                        ("after", "before")
                    };
                    let name = to_before(fails, r);
                    // The rule as the before side names its resource.
                    let rule_of = |o: &Outcome, t: &Topology| {
                        o.rules
                            .iter()
                            .find(|(res, _)| to_before(t, *res) == name)
                            .map(|(res, rule)| rule.replace(t.name(*res), &name))
                    };
                    if let Some(rule) = fail.as_ref().and_then(|o| rule_of(o, fails)) {
                        c.rules.push((fside, rule));
                    }
                    let (pf, pt) = (name_in(passes, from), name_in(passes, to));
                    if let Some(rule) =
                        trace(passes, fam, &pf, &pt, &flows).and_then(|o| rule_of(&o, passes))
                    {
                        c.rules.push((pside, rule));
                    }
                    if !opened {
                        c.rules.reverse();
                    }
                }
                out.push((key, c));
                out.len() - 1
            }
        };
        let c = &mut out[i].1;
        match c
            .flows
            .iter_mut()
            .find(|a| a.from == from && a.to == to && a.opened == opened)
        {
            Some(a) => a.flows.add_box(*b),
            None => c.flows.push(Attributed {
                from: from.to_string(),
                to: to.to_string(),
                opened,
                flows,
            }),
        }
    }
    out
}

/// Every change of every pair, attributed and grouped per resource: resources by name, then
/// what no trace puts down to one.
pub(super) fn group(
    fam: Family,
    before: &Topology,
    after: &Topology,
    id: &Identity,
    changes: &[(&str, &str, &HeaderSet, &HeaderSet)],
) -> Vec<(Option<String>, ResourceChange)> {
    let mut groups: BTreeMap<(bool, String), ResourceChange> = BTreeMap::new();
    for &(from, to, opened, closed) in changes {
        for (set, is_open) in [(opened, true), (closed, false)] {
            if set.is_empty() {
                continue;
            }
            for (key, c) in attribute(fam, before, after, id, (from, to, set, is_open)) {
                let g = groups
                    .entry((key.is_none(), key.unwrap_or_default()))
                    .or_default();
                if g.kind.is_empty() {
                    g.kind = c.kind;
                }
                for r in c.rules {
                    if !g.rules.contains(&r) {
                        g.rules.push(r);
                    }
                }
                g.flows.extend(c.flows);
            }
        }
    }
    groups
        .into_iter()
        .map(|((none, name), mut c)| {
            for a in &mut c.flows {
                a.flows.coalesce();
            }
            c.rules.sort_by_key(|(side, _)| *side == "after");
            ((!none).then_some(name), c)
        })
        .collect()
}

/// `describe(pair, flows, opened)`: the flows in words.
pub(super) type Describe<'a> = &'a dyn Fn((&str, &str), &HeaderSet, bool) -> String;

/// The groups as text: each resource, its deciding rule on each side, and its flows per pair.
pub(super) fn groups_text(
    fam_name: &str,
    groups: &[(Option<String>, ResourceChange)],
    describe: Describe,
) -> String {
    let mut text = format!(
        "{} resource(s) change what gets through ({fam_name}): requests that arrive and whose replies return\n",
        groups.len()
    );
    for (name, c) in groups {
        match name {
            Some(n) => text.push_str(&format!("\n  {n} ({})\n", c.kind)),
            None => text.push_str(
                "\n  (no single resource: the flows depend on a flow hash or on state)\n",
            ),
        }
        for (side, rule) in &c.rules {
            text.push_str(&format!("    {side}: {rule}\n"));
        }
        for a in &c.flows {
            let sign = if a.opened { "+ opened" } else { "- closed" };
            text.push_str(&format!(
                "    {} → {}: {sign}: {}\n",
                a.from,
                a.to,
                describe((&a.from, &a.to), &a.flows, a.opened)
            ));
        }
    }
    text
}

/// The groups as JSON (`resources` of `vpcsim diff --json`).
pub(super) fn groups_json(
    groups: &[(Option<String>, ResourceChange)],
    describe: Describe,
    flows_json: &dyn Fn(&HeaderSet) -> serde_json::Value,
) -> serde_json::Value {
    use serde_json::json;
    let list: Vec<serde_json::Value> = groups
        .iter()
        .map(|(name, c)| {
            let rule = |side: &str| {
                c.rules
                    .iter()
                    .find(|(s, _)| *s == side)
                    .map(|(_, r)| r.clone())
            };
            json!({
                "resource": name,
                "type": (!c.kind.is_empty()).then_some(&c.kind),
                "rule_before": rule("before"),
                "rule_after": rule("after"),
                "changes": c.flows.iter().map(|a| json!({
                    "from": a.from,
                    "to": a.to,
                    "change": if a.opened { "opened" } else { "closed" },
                    "services": describe((&a.from, &a.to), &a.flows, a.opened),
                    "flows": flows_json(&a.flows),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::Value::Array(list)
}
