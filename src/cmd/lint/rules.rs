//! Rules that never decide: network ACL entries shadowed by lower-numbered entries, security
//! group rules subsumed by a broader rule of the same group, and groups nothing uses. Sets are
//! exact header sets (`vpcsim_dataplane::space`), restricted to headers that exist
//! (`reach::universe`), so "shadowed" means no packet at all reaches the entry.

use super::{Finding, Subject};
use vpcsim_dataplane::reach::{self, Family, HeaderSet, DST, SRC};
use vpcsim_dataplane::tables::nacl::NaclEntry;
use vpcsim_dataplane::tables::sg::{CompiledSgRule, SgPeer, SgRule};
use vpcsim_dataplane::topology::SgIdx;
use vpcsim_dataplane::Topology;

fn nacl_set(e: &NaclEntry, peer_dim: usize) -> (Family, HeaderSet) {
    let fam = Family::of_net(&e.cidr);
    let s = HeaderSet::from_boxes(e.boxes(fam, peer_dim)).intersect(&reach::universe(fam));
    (fam, s)
}

/// `NACL_ENTRY_SHADOWED`: every packet an entry matches is decided by lower-numbered entries.
pub fn nacl_shadowed(topo: &Topology, out: &mut Vec<Finding>) {
    for acl in topo.network_acls.iter() {
        for (entries, peer_dim, dir) in [
            (&acl.ingress, SRC, "inbound"),
            (&acl.egress, DST, "outbound"),
        ] {
            let sets: Vec<(Family, HeaderSet)> =
                entries.iter().map(|e| nacl_set(e, peer_dim)).collect();
            let mut before: [HeaderSet; 2] = [HeaderSet::new(), HeaderSet::new()];
            for (i, e) in entries.iter().enumerate() {
                let (fam, s) = &sets[i];
                let k = (*fam == Family::V6) as usize;
                if !s.is_empty() && s.subtract(&before[k]).is_empty() {
                    let overlapping: Vec<&NaclEntry> = (0..i)
                        .filter(|&j| sets[j].0 == *fam && !sets[j].1.intersect(s).is_empty())
                        .map(|j| &entries[j])
                        .collect();
                    let alone =
                        (0..i).find(|&j| sets[j].0 == *fam && s.subtract(&sets[j].1).is_empty());
                    let by: Vec<String> = match alone {
                        Some(j) => vec![entries[j].describe()],
                        None => overlapping.iter().map(|o| o.describe()).collect(),
                    };
                    let same = overlapping.iter().all(|o| o.allow == e.allow);
                    let fix = if same {
                        format!("delete entry {}: the entries before it already {} every packet it matches", e.number, if e.allow { "allow" } else { "deny" })
                    } else {
                        format!(
                            "renumber entry {} below {} if it should decide, else delete it",
                            e.number,
                            overlapping.first().map_or(0, |o| o.number)
                        )
                    };
                    out.push(Finding {
                        code: "NACL_ENTRY_SHADOWED",
                        subject: Subject::of(topo, e.res.unwrap_or(acl.res)),
                        message: format!(
                            "{} {dir} entry {} ({}) never decides: every packet it matches is decided by lower-numbered entries",
                            topo.name(acl.res),
                            e.number,
                            e.describe()
                        ),
                        by,
                        fix,
                    });
                }
                before[k] = before[k].union(s);
            }
        }
    }
}

/// What a written rule matches, per family (the two share coordinates, so they are never
/// compared with each other), with a group reference as an opaque peer (only the same
/// reference covers it).
type RuleSet = (Option<SgIdx>, [HeaderSet; 2]);

fn sg_set(g: SgIdx, r: &SgRule, peer_dim: usize) -> Option<RuleSet> {
    let (peers, group) = match &r.peer {
        SgPeer::Cidr(c) => (vec![*c], None),
        SgPeer::PrefixList { entries, .. } => (entries.clone(), None),
        SgPeer::Group(other) => (vec!["0.0.0.0/0".parse().ok()?], Some(*other)),
    };
    let mut s = [HeaderSet::new(), HeaderSet::new()];
    for peer in peers {
        let fam = Family::of_net(&peer);
        let c = CompiledSgRule {
            protocol: r.protocol,
            from_port: r.from_port,
            to_port: r.to_port,
            peer,
            group: g,
            rule: 0,
            by_reference: group.is_some(),
        };
        let k = (fam == Family::V6) as usize;
        let boxes = HeaderSet::from_boxes(c.boxes(fam, peer_dim));
        s[k] = s[k].union(&boxes.intersect(&reach::universe(fam)));
    }
    Some((group, s))
}

/// Every header of `a` is in `b`, family by family.
fn within(a: &[HeaderSet; 2], b: &[HeaderSet; 2]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.subtract(y).is_empty())
}

/// `SG_RULE_SUBSUMED`: a rule whose every packet a broader rule of the same group and
/// direction allows (of two identical rules, the later).
pub fn sg_subsumed(topo: &Topology, out: &mut Vec<Finding>) {
    for (g, sg) in topo.security_groups.iter_enumerated() {
        for (rules, peer_dim, dir) in [(&sg.ingress, SRC, "inbound"), (&sg.egress, DST, "outbound")]
        {
            let sets: Vec<Option<RuleSet>> = rules.iter().map(|r| sg_set(g, r, peer_dim)).collect();
            for (i, r) in rules.iter().enumerate() {
                let Some((gi, si)) = &sets[i] else { continue };
                if si.iter().all(HeaderSet::is_empty) {
                    continue;
                }
                let by = (0..rules.len()).find(|&j| {
                    let Some((gj, sj)) = &sets[j] else {
                        return false;
                    };
                    if j == i || gj != gi || !within(si, sj) {
                        return false;
                    }
                    // Identical rules cover each other: report only the later one.
                    j < i || !within(sj, si)
                });
                let Some(j) = by else { continue };
                out.push(Finding {
                    code: "SG_RULE_SUBSUMED",
                    subject: Subject::of(topo, sg.res),
                    message: format!(
                        "{} {dir} rule {i} ({}) allows nothing that rule {j} ({}) does not",
                        topo.name(sg.res),
                        r.text,
                        rules[j].text
                    ),
                    by: vec![rules[j].text.clone()],
                    fix: format!(
                        "delete {dir} rule {i} ({}) of {}",
                        r.text,
                        topo.name(sg.res)
                    ),
                });
            }
        }
    }
}

/// `SG_UNUSED`: a group no interface has and no other group's rule references (a VPC's
/// default group, `default_groups` by AWS id, is left alone: AWS does not let it be deleted).
pub fn sg_unused(topo: &Topology, default_groups: &[String], out: &mut Vec<Finding>) {
    for (g, sg) in topo.security_groups.iter_enumerated() {
        let res = topo.resource(sg.res);
        if res.logical_id.ends_with(".DefaultSecurityGroup") || default_groups.contains(&res.aws_id)
        {
            continue;
        }
        if topo.enis.iter().any(|e| e.security_groups.contains(&g)) {
            continue;
        }
        let referenced = topo.security_groups.iter_enumerated().any(|(o, other)| {
            o != g
                && other
                    .ingress
                    .iter()
                    .chain(&other.egress)
                    .any(|r| r.peer == SgPeer::Group(g))
        });
        if referenced {
            continue;
        }
        out.push(Finding {
            code: "SG_UNUSED",
            subject: Subject::of(topo, sg.res),
            message: format!(
                "security group {} is attached to no network interface and referenced by no other group",
                topo.name(sg.res)
            ),
            by: Vec::new(),
            fix: format!("delete {} or attach it where it was meant to be", topo.name(sg.res)),
        });
    }
}
