//! Evaluating assertions: each over every header at once (the symbolic walk of `reach`), and,
//! for a violation, one concrete packet of the violating set traced hop by hop.

use super::super::flowspec;
use super::super::trace::trace_exchange;
use super::policy::{port_ranges, Flows, OpenIngress};
use super::select::{self, Selected, Tags};
use serde_yaml_ng::Value;
use vpcsim_dataplane::reach::{
    self, Class, Family, Fate, HeaderSet, Point, Prepared, Start, DPORT, DST, PROTO, SPORT, SRC,
};
use vpcsim_dataplane::tables::sg::SgPeer;
use vpcsim_dataplane::wire::IpProtocol;
use vpcsim_dataplane::{ResId, StateConfig, Topology};
use vpcsim_report::text;

/// One concrete packet that violates an assertion, and what happens to it.
pub struct Counterexample {
    /// As `vpcsim trace` takes it: `tcp 1.0.0.0:40000 -> 10.0.1.10:443`.
    pub flow: String,
    /// Where it starts (`--from` of `vpcsim trace`).
    pub from: String,
    /// What goes wrong with it, in a line.
    pub why: String,
    /// The hops of the request (and of its reply, when there is one).
    pub trace: String,
}

/// The answer for one assertion.
pub struct Answer {
    pub passed: bool,
    /// One line: what holds, or what does not.
    pub summary: String,
    pub counterexample: Option<Counterexample>,
    /// The resource to point a CI annotation at, when one is to blame.
    pub resource: Option<ResId>,
}

/// A bad selector or option: exit 2, with the key it was found under.
pub struct BadKey {
    pub key: &'static str,
    pub message: String,
}

fn bad(key: &'static str) -> impl Fn(String) -> BadKey {
    move |message| BadKey { key, message }
}

/// The headers an assertion ranges over (protocol, destination ports; every address).
fn headers(fam: Family, f: &Flows, sports: (u16, u16)) -> Result<HeaderSet, BadKey> {
    let set = dst_ports(fam, f.protocol.as_deref(), f.ports.as_deref())?;
    let sports = match &f.source_ports {
        None => vec![sports],
        Some(v) => port_ranges(v).map_err(bad("source-ports"))?,
    };
    // Source ports exist for TCP and UDP only; other headers keep their 0.
    let ports = Class::Ports.universe(fam);
    let mut out = set.subtract(&ports);
    let d = fam.domain();
    for (lo, hi) in sports {
        if let Some(b) = d.with(SPORT, lo as u128, hi as u128) {
            out = out.union(&set.intersect(&ports).intersect_box(&b));
        }
    }
    Ok(out)
}

fn dst_ports(
    fam: Family,
    protocol: Option<&str>,
    ports: Option<&[Value]>,
) -> Result<HeaderSet, BadKey> {
    let proto = match protocol {
        None | Some("all") | Some("-1") => None,
        Some(p) => Some(
            p.parse::<IpProtocol>()
                .map_err(|e| bad("protocol")(format!("{p}: {e}")))?,
        ),
    };
    let set = reach::protocol(fam, proto);
    let Some(ports) = ports else {
        return Ok(set);
    };
    if !matches!(proto, Some(IpProtocol::TCP | IpProtocol::UDP)) {
        return Err(bad("ports")("ports need protocol tcp or udp".into()));
    }
    let ranges = port_ranges(ports).map_err(bad("ports"))?;
    let mut out = HeaderSet::new();
    let d = fam.domain();
    for (lo, hi) in ranges {
        if let Some(b) = d.with(DPORT, lo as u128, hi as u128) {
            out = out.union(&set.intersect_box(&b));
        }
    }
    Ok(out)
}

/// What the flows of an assertion range over: per start, the headers.
struct Question {
    fam: Family,
    starts: Vec<(Start, String)>,
    dst: Vec<(u128, u128)>,
    set: HeaderSet,
    to: String,
    services: String,
    source_ports: String,
}

/// Source ports by default: a `reach` holds for the ephemeral ports clients use (1024-65535);
/// `isolated` and `passes-through` hold for every port.
const CLIENT_PORTS: (u16, u16) = (1024, 65535);
const EVERY_PORT: (u16, u16) = (0, 65535);

fn question(
    topo: &Topology,
    tags: &Tags,
    f: &Flows,
    sports: (u16, u16),
) -> Result<Question, BadKey> {
    let fam = if f.ipv6 { Family::V6 } else { Family::V4 };
    let from = select::resolve(topo, tags, &f.from).map_err(bad("from"))?;
    let to = select::resolve(topo, tags, &f.to).map_err(bad("to"))?;
    let starts = from.starts(topo).map_err(bad("from"))?;
    if starts.is_empty() {
        return Err(bad("from")(format!(
            "{} selects no interface, internet or on-premises network to send from",
            select::show(&f.from)
        )));
    }
    let dst = to.addresses(topo, fam);
    if dst.is_empty() {
        return Err(bad("to")(format!(
            "{} has no {} address",
            select::show(&f.to),
            vpcsim_report::reach::family_name(fam)
        )));
    }
    let set = headers(fam, f, sports)?;
    let services = match (&f.protocol, &f.ports) {
        (None, _) => "any protocol".to_string(),
        (Some(p), None) => p.clone(),
        (Some(p), Some(ports)) => format!(
            "{p} {}",
            ports.iter().map(select::show).collect::<Vec<_>>().join(",")
        ),
    };
    let source_ports = match &f.source_ports {
        None => format!("{}-{}", sports.0, sports.1),
        Some(v) => v.iter().map(select::show).collect::<Vec<_>>().join(","),
    };
    Ok(Question {
        source_ports,
        fam,
        starts,
        dst,
        set,
        to: select::show(&f.to),
        services,
    })
}

/// The destinations a start can address: from the internet only public addresses (an
/// instance's private address is not routable there).
fn dst_for(q: &Question, start: Start) -> Vec<(u128, u128)> {
    if start != Start::Internet {
        return q.dst.clone();
    }
    let private = reach::ranges_minus(&[(0, q.fam.addr_max())], &reach::public_ranges(q.fam));
    reach::ranges_minus(&q.dst, &private)
}

/// `reach`: every header from every source gets to the destinations and its reply gets back.
pub fn reach_all(topo: &Topology, tags: &Tags, f: &Flows) -> Result<Answer, BadKey> {
    let q = question(topo, tags, f, CLIENT_PORTS)?;
    let prep = Prepared::new(topo);
    for (start, label) in &q.starts {
        let src = reach::sources(topo, *start, q.fam);
        let dst = dst_for(&q, *start);
        if dst.is_empty() {
            return Ok(Answer {
                passed: false,
                summary: format!("{label} cannot reach {}: it has no public address", q.to),
                counterexample: None,
                resource: None,
            });
        }
        let set = reach::with_addresses(&q.set, &src, &dst);
        if set.is_empty() {
            continue;
        }
        let a = prep.analyse(*start, q.fam, &set);
        let missing = set.subtract(&a.summary().complete_set());
        if let Some(p) = first_point(&missing) {
            let (why, at) = match a.outcome_at(&p) {
                Some(o) if !o.request.arrives() => (
                    format!("the request is {}", fate_text(topo, &o.request)),
                    blame(&o.request),
                ),
                Some(o) => match o.reply {
                    Some(r) => (
                        format!(
                            "the request arrives but its reply is {}",
                            fate_text(topo, &r)
                        ),
                        blame(&r),
                    ),
                    None => (
                        "the request arrives but its reply does not get back".into(),
                        None,
                    ),
                },
                None => ("not analysed".into(), None),
            };
            return Ok(Answer {
                passed: false,
                summary: format!("{label} does not reach {} on {}: {why}", q.to, q.services),
                counterexample: Some(counterexample(topo, q.fam, *start, label, &p, why)),
                resource: at,
            });
        }
    }
    Ok(Answer {
        passed: true,
        summary: format!(
            "{} → {} on {}: every request arrives and its reply returns (every source address, source ports {})",
            labels(&q.starts),
            q.to,
            q.services,
            q.source_ports
        ),
        counterexample: None,
        resource: None,
    })
}

/// `isolated`: no request from any source arrives at the destinations (nor could, depending
/// on a flow hash), and none is left undecided.
pub fn isolated(topo: &Topology, tags: &Tags, f: &Flows) -> Result<Answer, BadKey> {
    let q = question(topo, tags, f, EVERY_PORT)?;
    let prep = Prepared::new(topo);
    for (start, label) in &q.starts {
        let src = reach::sources(topo, *start, q.fam);
        let set = reach::with_addresses(&q.set, &src, &dst_for(&q, *start));
        for part in prep.walk(*start, q.fam, &set) {
            let leaks = part.fate.alternatives().iter().any(|f| {
                matches!(
                    f,
                    Fate::Delivered { .. } | Fate::Exited { .. } | Fate::NotAnalysed(_)
                )
            });
            let Some(p) = first_point(&part.set).filter(|_| leaks) else {
                continue;
            };
            let why = match &part.fate {
                Fate::NotAnalysed(w) => format!("cannot be shown isolated: {w}"),
                f => format!("the request is {}", fate_text(topo, f)),
            };
            return Ok(Answer {
                passed: false,
                summary: format!("{label} reaches {} on {}: {why}", q.to, q.services),
                counterexample: Some(counterexample(topo, q.fam, *start, label, &p, why)),
                resource: deliverer(&part.fate),
            });
        }
    }
    Ok(Answer {
        passed: true,
        summary: format!(
            "no request from {} arrives at {} on {}",
            labels(&q.starts),
            q.to,
            q.services
        ),
        counterexample: None,
        resource: None,
    })
}

/// `passes-through`: every request that arrives went through one of `through`'s resources.
pub fn passes_through(topo: &Topology, tags: &Tags, f: &Flows) -> Result<Answer, BadKey> {
    let q = question(topo, tags, f, EVERY_PORT)?;
    let through_v = f
        .through
        .as_ref()
        .ok_or_else(|| bad("through")("missing".into()))?;
    let through: Selected = select::resolve(topo, tags, through_v).map_err(bad("through"))?;
    let mut waypoints: Vec<ResId> = through.resources.iter().copied().collect();
    for e in through.enis(topo) {
        waypoints.push(topo.enis[e].res);
        waypoints.push(topo.enis[e].owner);
    }
    waypoints.sort_unstable();
    waypoints.dedup();
    let via = select::show(through_v);
    let prep = Prepared::new(topo);
    let mut arrived = false;
    for (start, label) in &q.starts {
        let src = reach::sources(topo, *start, q.fam);
        let set = reach::with_addresses(&q.set, &src, &dst_for(&q, *start));
        for part in prep.walk_via(*start, q.fam, &set, &waypoints) {
            let arrives = part
                .fate
                .alternatives()
                .iter()
                .any(|f| matches!(f, Fate::Delivered { .. } | Fate::Exited { .. }));
            if !arrives {
                continue;
            }
            arrived = true;
            if part.passed() {
                continue;
            }
            let Some(p) = first_point(&part.set) else {
                continue;
            };
            let why = format!(
                "the request is {} without passing {via}",
                fate_text(topo, &part.fate)
            );
            return Ok(Answer {
                passed: false,
                summary: format!(
                    "a path from {label} to {} on {} avoids {via}: {why}",
                    q.to, q.services
                ),
                counterexample: Some(counterexample(topo, q.fam, *start, label, &p, why)),
                resource: deliverer(&part.fate),
            });
        }
    }
    let note = if arrived {
        ""
    } else {
        " (no request arrives at all)"
    };
    Ok(Answer {
        passed: true,
        summary: format!(
            "every request from {} that arrives at {} on {} passes {via}{note}",
            labels(&q.starts),
            q.to,
            q.services
        ),
        counterexample: None,
        resource: None,
    })
}

/// `no-open-ingress`: no inbound rule of the selected groups admits any of the CIDRs on any of
/// the ports.
pub fn no_open_ingress(topo: &Topology, tags: &Tags, o: &OpenIngress) -> Result<Answer, BadKey> {
    let groups: Option<Selected> = o
        .groups
        .as_ref()
        .map(|g| select::resolve(topo, tags, g))
        .transpose()
        .map_err(bad("groups"))?;
    let proto: IpProtocol = o
        .protocol
        .as_deref()
        .unwrap_or("tcp")
        .parse()
        .map_err(|e| bad("protocol")(format!("{e}")))?;
    if proto != IpProtocol::TCP && proto != IpProtocol::UDP {
        return Err(bad("protocol")(
            "no-open-ingress checks tcp or udp ports".into(),
        ));
    }
    let ports = port_ranges(&o.ports).map_err(bad("ports"))?;
    let cidrs: Vec<ipnet::IpNet> = o
        .cidrs
        .clone()
        .unwrap_or_else(|| vec!["0.0.0.0/0".into(), "::/0".into()])
        .iter()
        .map(|c| {
            c.parse::<ipnet::IpNet>()
                .map_err(|e| bad("cidrs")(format!("{c}: {e}")))
        })
        .collect::<Result<_, _>>()?;
    // A group is selected by name, by its VPC, or through an interface that has it.
    let member_groups: Vec<vpcsim_dataplane::topology::SgIdx> = groups
        .as_ref()
        .map(|s| {
            s.enis(topo)
                .iter()
                .flat_map(|e| topo.enis[*e].security_groups.clone())
                .collect()
        })
        .unwrap_or_default();
    for (g, sg) in topo.security_groups.iter_enumerated() {
        let picked = groups.as_ref().is_none_or(|s| {
            s.resources.contains(&sg.res)
                || s.resources.contains(&topo.vpcs[sg.vpc].res)
                || member_groups.contains(&g)
        });
        if !picked {
            continue;
        }
        for rule in &sg.ingress {
            let peers: Vec<ipnet::IpNet> = match &rule.peer {
                SgPeer::Cidr(c) => vec![*c],
                SgPeer::PrefixList { entries, .. } => entries.clone(),
                SgPeer::Group(_) => continue,
            };
            let proto_ok = rule.protocol.is_none() || rule.protocol == Some(proto);
            let port = ports.iter().find_map(|&(lo, hi)| {
                let (a, b) = match rule.protocol {
                    None => (0, 65535),
                    Some(_) => (rule.from_port, rule.to_port),
                };
                let (lo2, hi2) = (a.max(lo as i32), b.min(hi as i32));
                (lo2 <= hi2).then_some(lo2 as u16)
            });
            let open = cidrs.iter().find(|c| peers.iter().any(|p| p.contains(*c)));
            let (true, Some(port), Some(cidr)) = (proto_ok, port, open) else {
                continue;
            };
            let name = topo.name(sg.res);
            let why = format!(
                "{name} admits {cidr} on {proto} {port}: inbound rule {}",
                rule.text
            );
            let eni = topo
                .enis
                .iter_enumerated()
                .find(|(_, e)| e.security_groups.contains(&g))
                .map(|(i, _)| i);
            let counterexample =
                eni.and_then(|e| open_counterexample(topo, e, *cidr, proto, port, &why));
            return Ok(Answer {
                passed: false,
                summary: why,
                counterexample,
                resource: Some(sg.res),
            });
        }
    }
    let ports: Vec<String> = o.ports.iter().map(select::show).collect();
    let cidrs: Vec<String> = cidrs.iter().map(|c| c.to_string()).collect();
    Ok(Answer {
        passed: true,
        summary: format!(
            "no security group admits {} on {proto} {}",
            cidrs.join(" or "),
            ports.join(",")
        ),
        counterexample: None,
        resource: None,
    })
}

/// A packet from the open CIDR (a documentation address when it holds one) to an interface of
/// the group.
fn open_counterexample(
    topo: &Topology,
    eni: vpcsim_dataplane::topology::EniIdx,
    cidr: ipnet::IpNet,
    proto: IpProtocol,
    port: u16,
    why: &str,
) -> Option<Counterexample> {
    let e = &topo.enis[eni];
    let (src, dst, fam) = match cidr {
        ipnet::IpNet::V4(c) => {
            let doc: std::net::Ipv4Addr = [198, 51, 100, 7].into();
            let src = if c.contains(&doc) { doc } else { c.network() };
            let dst = e
                .public_v4
                .first()
                .map(|p| p.1)
                .or_else(|| e.primary_v4())?;
            (src.to_bits() as u128, dst.to_bits() as u128, Family::V4)
        }
        ipnet::IpNet::V6(c) => {
            let doc: std::net::Ipv6Addr = "2001:db8::7".parse().ok()?;
            let src = if c.contains(&doc) { doc } else { c.network() };
            (src.to_bits(), e.ipv6.first()?.to_bits(), Family::V6)
        }
    };
    if topo.owner_of(fam.addr(src)).is_some() {
        return None;
    }
    let p: Point = [src, dst, proto.0 as u128, 40000, port as u128];
    let why = if fam == Family::V4 && e.public_v4.is_empty() {
        format!("{why} (the interface has no public address: the trace shows what the internet gets; what reaches it privately, over a VPN or a peering, is admitted)")
    } else {
        why.to_string()
    };
    Some(counterexample(
        topo,
        fam,
        Start::Internet,
        "internet",
        &p,
        why,
    ))
}

/// A point of a set, with round values where the set allows them (source port 40000).
pub fn first_point(s: &HeaderSet) -> Option<Point> {
    let mut boxes = s.boxes().to_vec();
    boxes.sort_by_key(|b| b.lo);
    let b = boxes.first()?;
    let mut p = b.lo;
    let within = |d: usize, v: u128| (b.lo[d]..=b.hi[d]).contains(&v);
    if within(SPORT, 40000) {
        p[SPORT] = 40000;
    }
    // A service port rather than port 0 when the set leaves the choice.
    let proto = IpProtocol(p[PROTO] as u8);
    let service = if proto == IpProtocol::UDP { 53 } else { 443 };
    if Class::of(proto) == Class::Ports && within(DPORT, service) {
        p[DPORT] = service;
    }
    // A host rather than a network address.
    for d in [SRC, DST] {
        if b.hi[d] - b.lo[d] >= 8 {
            p[d] = b.lo[d] + 7;
        }
    }
    Some(p)
}

/// The packet of a point as `vpcsim trace` takes it.
pub fn flow_spec(fam: Family, p: &Point) -> String {
    let proto = IpProtocol(p[PROTO] as u8);
    let addr = |a: u128| fam.addr(a);
    let with_port = |a: u128, port: u128| match fam {
        Family::V4 => format!("{}:{port}", addr(a)),
        Family::V6 => format!("[{}]:{port}", addr(a)),
    };
    match proto {
        IpProtocol::TCP | IpProtocol::UDP => format!(
            "{proto} {} -> {}",
            with_port(p[SRC], p[SPORT]),
            with_port(p[DST], p[DPORT])
        ),
        IpProtocol::ICMP | IpProtocol::ICMPV6 => format!(
            "{proto} {} -> {} type {} code {}",
            addr(p[SRC]),
            addr(p[DST]),
            p[DPORT] >> 8,
            p[DPORT] & 0xff
        ),
        _ => format!("{} {} -> {}", proto.0, addr(p[SRC]), addr(p[DST])),
    }
}

/// Trace a point from `start`: the request's hops and, when it arrived, the reply's.
pub fn counterexample(
    topo: &Topology,
    fam: Family,
    start: Start,
    from: &str,
    p: &Point,
    why: String,
) -> Counterexample {
    let flow = flow_spec(fam, p);
    let trace = match flowspec::parse(&flow) {
        Ok(h) => {
            let t = trace_exchange(topo, StateConfig::default(), h, start.origin());
            let mut s = text::trace_text(topo, &t.request, &t.request_trace.hops);
            if let Some((rv, rt)) = &t.reply {
                s.push_str("return path:\n");
                s.push_str(&text::trace_text(topo, rv, &rt.hops));
            }
            s
        }
        Err(e) => format!("(cannot trace {flow}: {e})\n"),
    };
    Counterexample {
        flow,
        from: from.to_string(),
        why,
        trace,
    }
}

/// `dropped by PublicNacl (NACL_INGRESS_DENIED)`, `delivered to WebInstance`.
pub fn fate_text(topo: &Topology, f: &Fate) -> String {
    match f {
        Fate::Delivered { to, .. } => format!("delivered to {}", topo.name(*to)),
        Fate::Exited { via, .. } => format!("let out through {}", topo.name(*via)),
        Fate::Dropped { reason, at } => format!("dropped by {} ({reason})", topo.name(*at)),
        Fate::OneOf(v) => format!(
            "one of: {} (by flow hash)",
            v.iter()
                .map(|f| fate_text(topo, f))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Fate::NotAnalysed(w) => format!("not analysed ({w})"),
    }
}

fn blame(f: &Fate) -> Option<ResId> {
    f.alternatives().iter().find_map(|f| match f {
        Fate::Dropped { at, .. } => Some(*at),
        _ => None,
    })
}

fn deliverer(f: &Fate) -> Option<ResId> {
    f.alternatives().iter().find_map(|f| match f {
        Fate::Delivered { to, .. } => Some(*to),
        Fate::Exited { via, .. } => Some(*via),
        _ => None,
    })
}

fn labels(starts: &[(Start, String)]) -> String {
    let mut names: Vec<&str> = starts.iter().map(|(_, l)| l.as_str()).collect();
    names.dedup();
    if names.len() > 4 {
        format!("{} and {} more", names[..4].join(", "), names.len() - 4)
    } else {
        names.join(", ")
    }
}
