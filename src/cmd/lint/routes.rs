//! Routes that can never be chosen, and subnets whose network ACL denies the replies to
//! traffic it lets out.

use super::{Finding, Subject};
use vpcsim_dataplane::reach::{
    self, Family, HBox, HeaderSet, Point, DPORT, DST, PROTO, SPORT, SRC,
};
use vpcsim_dataplane::tables::nacl::NaclEntry;
use vpcsim_dataplane::wire::IpProtocol;
use vpcsim_dataplane::Topology;

/// `ROUTE_NEVER_CHOSEN`: longest prefix match picks a more specific route for every address of
/// the route's prefix (or, for the same prefix, the route the table prefers: static before
/// propagated). A less specific route still carries whatever the more specific ones leave
/// uncovered, so only a prefix covered whole is reported.
pub fn never_chosen(topo: &Topology, out: &mut Vec<Finding>) {
    for rt in topo.route_tables.iter() {
        for (i, r) in rt.routes.iter().enumerate() {
            let fam = Family::of_net(&r.destination);
            let (lo, hi) = Family::prefix_range(&r.destination);
            let mut inner: Vec<(u128, u128)> = rt
                .routes
                .iter()
                .filter(|m| {
                    Family::of_net(&m.destination) == fam
                        && m.destination.prefix_len() > r.destination.prefix_len()
                        && r.destination.contains(&m.destination)
                })
                .map(|m| Family::prefix_range(&m.destination))
                .collect();
            inner.sort_unstable();
            let covered = reach::ranges_minus(&[(lo, hi)], &inner).is_empty();
            let winner = rt.lookup_index(fam.addr(lo)).map(|w| w as usize);
            let same_prefix =
                winner.filter(|&w| w != i && rt.routes[w].destination == r.destination);
            if !covered && same_prefix.is_none() {
                continue;
            }
            let by: Vec<String> = match same_prefix {
                Some(w) => vec![route_text(topo, &rt.routes[w])],
                None => rt
                    .routes
                    .iter()
                    .filter(|m| {
                        Family::of_net(&m.destination) == fam
                            && m.destination.prefix_len() > r.destination.prefix_len()
                            && r.destination.contains(&m.destination)
                    })
                    .map(|m| route_text(topo, m))
                    .collect(),
            };
            let why = if same_prefix.is_some() {
                "another route with the same destination wins"
            } else {
                "more specific routes cover its whole prefix"
            };
            out.push(Finding {
                code: "ROUTE_NEVER_CHOSEN",
                subject: Subject::of(topo, r.res.unwrap_or(rt.res)),
                message: format!(
                    "{} route {} is never chosen: {why}",
                    topo.name(rt.res),
                    route_text(topo, r)
                ),
                by,
                fix: format!(
                    "delete the route {} (or narrow the routes that cover it)",
                    r.destination
                ),
            });
        }
    }
}

fn route_text(topo: &Topology, r: &vpcsim_dataplane::topology::Route) -> String {
    let name = r
        .res
        .map(|x| format!(" ({})", topo.name(x)))
        .unwrap_or_default();
    format!("{} → {}{name}", r.destination, r.target_name)
}

/// What a direction of an ACL allows, first match by rule number, `*` denying the rest.
fn allowed(entries: &[NaclEntry], fam: Family, peer_dim: usize) -> HeaderSet {
    let universe = reach::universe(fam);
    let mut decided = HeaderSet::new();
    let mut allow = HeaderSet::new();
    for e in entries {
        let s = HeaderSet::from_boxes(e.boxes(fam, peer_dim)).intersect(&universe);
        let fresh = s.subtract(&decided);
        if e.allow {
            allow = allow.union(&fresh);
        }
        decided = decided.union(&s);
    }
    allow
}

/// Swap the two ends: the reply of each header.
fn replies(s: &HeaderSet) -> HeaderSet {
    HeaderSet::from_boxes(s.boxes().iter().filter_map(|b| {
        let mut r = [(0, 0); 5];
        for (d, slot) in r.iter_mut().enumerate() {
            *slot = b.range(d);
        }
        r.swap(SRC, DST);
        r.swap(SPORT, DPORT);
        HBox::new(r)
    }))
}

/// 198.51.100.7 or 2001:db8::7: an address of the documentation ranges.
fn doc_address(fam: Family) -> u128 {
    match fam {
        Family::V4 => u32::from(std::net::Ipv4Addr::new(198, 51, 100, 7)) as u128,
        Family::V6 => u128::from(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7)),
    }
}

/// A reply of a box that reads well: a documentation address as the peer, a well-known service
/// port, an ephemeral port 40000, the subnet's first usable address.
fn example(fam: Family, b: &HBox) -> Point {
    let pick = |d: usize, prefer: &[u128]| {
        let (lo, hi) = b.range(d);
        prefer
            .iter()
            .copied()
            .find(|v| (lo..=hi).contains(v))
            .unwrap_or(lo)
    };
    let mut p = b.lo;
    p[SRC] = pick(SRC, &[doc_address(fam)]);
    p[DST] = pick(DST, &[b.lo[DST] + 4]);
    p[SPORT] = pick(SPORT, &[53, 443, 123, 80]);
    p[DPORT] = pick(DPORT, &[40000]);
    p
}

/// `NACL_BLOCKS_RETURN_TRAFFIC`: a subnet's ACL lets TCP or UDP out (from an ephemeral port,
/// 1024-65535, to outside the subnet) but denies some of its replies inbound: the ACL is
/// stateless, so the connection fails although both security groups allow it.
pub fn return_traffic(topo: &Topology, out: &mut Vec<Finding>) {
    for s in topo.subnets.iter() {
        let acl = &topo.network_acls[s.network_acl];
        let cidrs = [
            s.cidr_v4.map(ipnet::IpNet::V4),
            s.cidr_v6.map(ipnet::IpNet::V6),
        ];
        for cidr in cidrs.into_iter().flatten() {
            let fam = Family::of_net(&cidr);
            let (lo, hi) = Family::prefix_range(&cidr);
            let d = fam.domain();
            let mut own = HeaderSet::new();
            for proto in [IpProtocol::TCP, IpProtocol::UDP] {
                let p = proto.0 as u128;
                if let Some(b) = d
                    .with(SRC, lo, hi)
                    .and_then(|b| b.with(PROTO, p, p))
                    .and_then(|b| b.with(SPORT, 1024, 0xffff))
                {
                    own.add_box(b);
                }
            }
            let leaving = allowed(&acl.egress, fam, DST)
                .intersect(&own)
                .subtract(&HeaderSet::from_boxes(d.with(DST, lo, hi)));
            let denied = replies(&leaving).subtract(&allowed(&acl.ingress, fam, SRC));
            let doc = doc_address(fam);
            let boxes = denied.boxes();
            let Some(b) = boxes
                .iter()
                .find(|b| (b.lo[SRC]..=b.hi[SRC]).contains(&doc))
                .or_else(|| boxes.iter().min_by_key(|b| b.lo))
            else {
                continue;
            };
            let p = example(fam, b);
            let proto = IpProtocol(p[PROTO] as u8);
            let deciding = acl
                .ingress
                .iter()
                .find(|e| e.boxes(fam, SRC).iter().any(|x| x.contains(&p)))
                .map_or("the default * deny".to_string(), |e| {
                    format!("entry {}", e.describe())
                });
            let (peer, port) = (fam.addr(p[SRC]), p[SPORT]);
            out.push(Finding {
                code: "NACL_BLOCKS_RETURN_TRAFFIC",
                subject: Subject::of(topo, acl.res),
                message: format!(
                    "{} of subnet {}: {proto} to {peer} port {port} may leave, but its reply ({proto} {peer}:{port} → {}:{}) is denied inbound by {deciding}",
                    topo.name(acl.res),
                    topo.name(s.res),
                    fam.addr(p[DST]),
                    p[DPORT]
                ),
                by: vec![deciding.clone()],
                fix: format!(
                    "add an inbound entry to {} allowing {proto} ports 1024-65535 from the addresses the subnet sends to (e.g. {peer}), numbered below the entry that denies it",
                    topo.name(acl.res)
                ),
            });
        }
    }
}
