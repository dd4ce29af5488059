//! `equivalent`: two topologies reach the same flows, pair by pair, as `vpcsim diff` compares
//! them; a difference is shown as a packet traced in the topology where it does not get through.

use super::super::args::TopologyArgs;
use super::super::diff::pairs;
use super::assert::{counterexample, first_point, Answer, BadKey};
use super::policy::Equivalent;
use std::path::Path;
use vpcsim_dataplane::reach::{Family, HeaderSet, Point, Start, DST, SRC};
use vpcsim_dataplane::Topology;

/// Compare `topo` with the template the assertion names (relative to the policy's directory).
pub fn equivalent(
    topo: &Topology,
    args: &TopologyArgs,
    policy_dir: &Path,
    e: &Equivalent,
    threads: usize,
) -> Result<Answer, BadKey> {
    let path = policy_dir.join(&e.template);
    if !path.exists() {
        return Err(BadKey {
            key: "template",
            message: format!("{}: no such file", path.display()),
        });
    }
    let mut other_args = args.clone();
    other_args.topology = vec![path.clone()];
    other_args
        .params
        .extend(e.params.iter().map(|(k, v)| (k.clone(), v.clone())));
    let Ok((_, other)) = other_args.topology() else {
        return Err(BadKey {
            key: "template",
            message: format!("{}: the topology does not load", path.display()),
        });
    };
    let fam = if e.ipv6 { Family::V6 } else { Family::V4 };
    let ours = pairs(topo, fam, threads);
    let theirs = pairs(&other, fam, threads);
    let empty = HeaderSet::new();
    let mut keys: Vec<&(String, String)> = ours.keys().chain(theirs.keys()).collect();
    keys.sort();
    keys.dedup();
    let shown = e.template.display();
    for k in keys {
        let (a, b) = (
            ours.get(k).unwrap_or(&empty),
            theirs.get(k).unwrap_or(&empty),
        );
        // Only in theirs: traced here, where it fails; only in ours: traced there.
        for (only, fails_in, where_) in [
            (b.subtract(a), topo, "here"),
            (a.subtract(b), &other, "in the other"),
        ] {
            let Some(mut p) = first_point(&only) else {
                continue;
            };
            let Some(start) = place(fails_in, &k.0, fam, &mut p, SRC) else {
                continue;
            };
            if place(fails_in, &k.1, fam, &mut p, DST).is_none() {
                continue;
            }
            let why = format!(
                "{} → {}: this flow gets through in one topology only; traced {where_}",
                k.0, k.1
            );
            return Ok(Answer {
                passed: false,
                summary: format!("the topology differs from {shown}: {why}"),
                counterexample: Some(counterexample(fails_in, fam, start, &k.0, &p, why)),
                resource: None,
            });
        }
    }
    Ok(Answer {
        passed: true,
        summary: format!("every pair reaches the same flows as {shown}"),
        counterexample: None,
        resource: None,
    })
}

/// Put the address of endpoint `name` (as `vpcsim diff` names it) into dimension `dim` of `p`
/// (interfaces were projected out of the compared sets); the start a packet from it takes.
pub(crate) fn place(
    topo: &Topology,
    name: &str,
    fam: Family,
    p: &mut Point,
    dim: usize,
) -> Option<Start> {
    if name == "internet" {
        return Some(Start::Internet);
    }
    if let Some(conn) = name.strip_prefix("on-prem:") {
        let r = topo.find_resource(conn)?;
        return topo.vpn_connection_by_resource(r).map(Start::OnPrem);
    }
    let r = topo.find_resource(name)?;
    let e = topo.eni_by_resource(r)?;
    let eni = &topo.enis[e];
    p[dim] = match fam {
        Family::V4 => eni.primary_v4()?.to_bits() as u128,
        Family::V6 => eni.ipv6.first()?.to_bits(),
    };
    Some(Start::Eni(e))
}
