//! The VPC resolver's answer to one query, in the order AWS documents (SPEC §21.2): DNS
//! Firewall, then the most specific of the resolver rules, private hosted zones and EC2's own
//! domains, then the Internet Resolver (public zones in the model, AWS's names, `--dns-records`).

use super::*;

/// A response code of the answers vpcsim gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rcode {
    /// The name exists (possibly without records of the type asked: NODATA).
    NoError,
    /// The name does not exist.
    NxDomain,
    /// The resolver could not get an answer (a forwarded query that never came back).
    ServFail,
}

impl Rcode {
    /// The name `dig` prints (`NXDOMAIN`).
    pub fn as_str(self) -> &'static str {
        match self {
            Rcode::NoError => "NOERROR",
            Rcode::NxDomain => "NXDOMAIN",
            Rcode::ServFail => "SERVFAIL",
        }
    }
}

/// One record of the answer section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The owner name, normalized.
    pub name: String,
    /// Its TTL.
    pub ttl: u32,
    /// Its value.
    pub data: RData,
}

/// Who answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The VPC has `EnableDnsSupport: false`: the resolver does not answer at all.
    NoDnsSupport,
    /// A DNS Firewall `BLOCK` rule answered.
    FirewallBlock {
        /// The rule group.
        group: ResId,
        /// The domain list that matched.
        list: ResId,
        /// The rule's priority.
        priority: u32,
    },
    /// A forwarding rule sent the query to resolvers outside the VPC.
    Forward {
        /// The rule.
        rule: ResId,
        /// The outbound endpoint (index into [`DnsView::endpoints`]).
        endpoint: Option<usize>,
        /// The resolvers it was sent to.
        targets: Vec<(IpAddr, u16)>,
        /// Whether the query reached one of them and came back.
        reached: bool,
    },
    /// A hosted zone answered; `record` is the record set chosen (none for negative answers).
    Zone {
        /// The hosted zone.
        zone: ResId,
        /// Whether it is a private zone.
        private: bool,
        /// The record set that answered.
        record: Option<ResId>,
        /// Its `SetIdentifier`, for weighted, failover and multivalue records.
        set_identifier: Option<String>,
    },
    /// EC2's own names (`ip-10-0-1-5.ec2.internal`, public names, reverse names).
    Ec2 {
        /// The autodefined domain that matched.
        domain: String,
        /// The instance named, if any.
        host: Option<ResId>,
    },
    /// A load balancer's or interface endpoint's DNS name.
    AwsName {
        /// The load balancer or endpoint.
        res: ResId,
    },
    /// A name from `--dns-records` (the internet, or what on-premises resolvers answer).
    Records,
    /// No one in the model knows the name.
    Unknown,
}

/// The resolver's answer to one query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// NOERROR, NXDOMAIN or SERVFAIL.
    pub rcode: Rcode,
    /// The answer section, CNAMEs first.
    pub answers: Vec<Answer>,
    /// For negative answers, the zone whose SOA goes in the authority section, with the TTL
    /// (SPEC §21.7: the lesser of the SOA's TTL and its minimum).
    pub soa: Option<(String, u32)>,
    /// Who answered (the last step of a CNAME chain).
    pub source: Source,
    /// Earlier steps of a CNAME chain, in order.
    pub chain: Vec<Source>,
    /// A DNS Firewall `ALERT` rule that matched: (group, list, priority).
    pub alert: Option<(ResId, ResId, u32)>,
}

impl Resolution {
    fn new(rcode: Rcode, source: Source) -> Resolution {
        Resolution {
            rcode,
            answers: Vec::new(),
            soa: None,
            source,
            chain: Vec::new(),
            alert: None,
        }
    }

    fn negative(rcode: Rcode, zone: &str, source: Source) -> Resolution {
        let mut r = Resolution::new(rcode, source);
        r.soa = Some((zone.to_string(), SOA_TTL.min(SOA_MINIMUM)));
        r
    }

    /// Whether the resolver sends any answer (it stays silent for a VPC without DNS support).
    pub fn answered(&self) -> bool {
        self.source != Source::NoDnsSupport
    }
}

/// One question to the resolver of a VPC.
#[derive(Clone, Copy, Debug)]
pub struct Query<'q> {
    /// The asking VPC.
    pub vpc: VpcIdx,
    /// The name, normalized.
    pub name: &'q str,
    /// The type asked.
    pub qtype: RecordType,
    /// What varies the weighted and multivalue picks between askers (their address, the
    /// query id): the same question from the same asker gets the same answer.
    pub salt: u64,
}

/// Most CNAMEs the resolver follows for one query.
const MAX_CNAME_CHAIN: usize = 8;

/// What the most specific domain match picked (SPEC §21.2 step 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Pick {
    Forward(usize),
    Zone(usize),
    AwsName(usize),
    Ec2,
    System,
}

impl DnsView {
    /// Answer `q` as the VPC's resolver does. `forward` sends a query to the resolvers of a
    /// forwarding rule along the real path (from the outbound endpoint's interfaces) and says
    /// whether it reached one and came back; what they answer is what `--dns-records` says.
    pub fn resolve(&self, q: Query<'_>, forward: &mut dyn FnMut(&Source) -> bool) -> Resolution {
        let name = normalize(q.name);
        let Some(v) = self.vpcs.get(q.vpc.index()) else {
            return Resolution::new(Rcode::ServFail, Source::NoDnsSupport);
        };
        if !v.support {
            return Resolution::new(Rcode::ServFail, Source::NoDnsSupport);
        }
        let mut alert = None;
        // A block answers at once; an override's CNAME is then followed like any other.
        let mut r = match self.firewall(q.vpc, &name, &mut alert) {
            Some(blocked) if blocked.answers.is_empty() => return blocked,
            Some(overridden) => overridden,
            None => self.lookup(q, &name, forward),
        };
        let mut seen = vec![name.clone()];
        while r.rcode == Rcode::NoError
            && q.qtype != RecordType::Cname
            && seen.len() <= MAX_CNAME_CHAIN
        {
            let Some(Answer {
                data: RData::Cname(target),
                ..
            }) = r.answers.last()
            else {
                break;
            };
            if seen.contains(target) {
                break;
            }
            let target = target.clone();
            seen.push(target.clone());
            let next = self.lookup(Query { name: &target, ..q }, &target, forward);
            let mut answers = std::mem::take(&mut r.answers);
            answers.extend(next.answers.iter().cloned());
            let mut chain = std::mem::take(&mut r.chain);
            chain.push(r.source);
            r = Resolution {
                answers,
                chain,
                ..next
            };
        }
        r.alert = alert;
        r
    }

    /// DNS Firewall (SPEC §21.8): groups by association priority, rules by priority; the first
    /// match ends evaluation. A block answers; an alert is noted and resolution goes on.
    fn firewall(
        &self,
        vpc: VpcIdx,
        name: &str,
        alert: &mut Option<(ResId, ResId, u32)>,
    ) -> Option<Resolution> {
        let mut groups: Vec<(u32, &FirewallRuleGroup)> = self
            .firewall
            .iter()
            .flat_map(|g| {
                g.vpcs
                    .iter()
                    .filter(|(v, _)| *v == vpc)
                    .map(move |(_, p)| (*p, g))
            })
            .collect();
        groups.sort_by_key(|(p, _)| *p);
        for (_, g) in groups {
            let Some(rule) = g.rules.iter().find(|r| r.matches(name)) else {
                continue;
            };
            let source = Source::FirewallBlock {
                group: g.res,
                list: rule.list,
                priority: rule.priority,
            };
            return match &rule.action {
                FirewallAction::Allow => None,
                FirewallAction::Alert => {
                    *alert = Some((g.res, rule.list, rule.priority));
                    None
                }
                FirewallAction::Block(BlockResponse::Nxdomain) => {
                    Some(Resolution::negative(Rcode::NxDomain, name, source))
                }
                FirewallAction::Block(BlockResponse::Nodata) => {
                    Some(Resolution::negative(Rcode::NoError, name, source))
                }
                FirewallAction::Block(BlockResponse::Override { domain, ttl }) => {
                    let mut r = Resolution::new(Rcode::NoError, source);
                    r.answers.push(Answer {
                        name: name.to_string(),
                        ttl: *ttl,
                        data: RData::Cname(domain.clone()),
                    });
                    // The override domain is then resolved like any other name.
                    Some(r)
                }
            };
        }
        None
    }

    /// One name, no CNAME chasing: the most specific of the VPC's rules and domains answers.
    fn lookup(
        &self,
        q: Query<'_>,
        name: &str,
        forward: &mut dyn FnMut(&Source) -> bool,
    ) -> Resolution {
        let v = &self.vpcs[q.vpc.index()];
        // Private zones and EC2's names need both attributes (SPEC §21.2, §21.3).
        let local = v.support && v.hostnames;
        let mut best: Option<(usize, Pick)> = None;
        let mut consider = |len: usize, pick: Pick| {
            if best.is_none_or(|(l, p)| len > l || (len == l && pick < p)) {
                best = Some((len, pick));
            }
        };
        for (i, r) in self.rules.iter().enumerate() {
            if r.vpcs.contains(&q.vpc) && in_domain(name, &r.domain) {
                let pick = match r.kind {
                    RuleKind::Forward { .. } => Pick::Forward(i),
                    RuleKind::System => Pick::System,
                };
                consider(r.domain.len(), pick);
            }
        }
        if local {
            for (i, z) in self.zones.iter().enumerate() {
                if z.private && z.vpcs.contains(&q.vpc) && in_domain(name, &z.name) {
                    consider(z.name.len(), Pick::Zone(i));
                }
            }
            for (i, a) in self.aws_names.iter().enumerate() {
                if a.vpcs.contains(&q.vpc) && a.name == name {
                    consider(a.name.len(), Pick::AwsName(i));
                }
            }
            if let Some(d) = ec2_domains(&v.region).iter().find(|d| in_domain(name, d)) {
                consider(d.len(), Pick::Ec2);
            }
        }
        match best {
            Some((_, Pick::Forward(i))) => self.forwarded(i, name, q.qtype, forward),
            Some((_, Pick::Zone(i))) => self.answer_from_zone(i, name, q.qtype, q.salt, 0),
            Some((_, Pick::AwsName(i))) => self.aws_name(i, name, q.qtype),
            Some((_, Pick::Ec2)) => self.ec2(q.vpc, name, q.qtype),
            // A system rule answers locally: the zones and names of the VPC that match, else
            // the Internet Resolver.
            Some((_, Pick::System)) => {
                let without_rules = DnsView {
                    rules: Vec::new(),
                    ..self.clone()
                };
                without_rules.lookup(q, name, forward)
            }
            None => self.internet(name, q.qtype, q.salt),
        }
    }

    fn forwarded(
        &self,
        rule: usize,
        name: &str,
        qtype: RecordType,
        forward: &mut dyn FnMut(&Source) -> bool,
    ) -> Resolution {
        let r = &self.rules[rule];
        let RuleKind::Forward { targets, endpoint } = &r.kind else {
            return Resolution::new(Rcode::ServFail, Source::Unknown);
        };
        let mut source = Source::Forward {
            rule: r.res,
            endpoint: *endpoint,
            targets: targets.clone(),
            reached: false,
        };
        let reached = endpoint.is_some() && forward(&source);
        if let Source::Forward {
            reached: ref mut r, ..
        } = source
        {
            *r = reached;
        }
        if !reached {
            return Resolution::new(Rcode::ServFail, source);
        }
        let mut answer = self.records_file(name, qtype);
        answer.source = source;
        answer
    }

    /// The Internet Resolver: public zones, AWS's public names, `--dns-records`.
    fn internet(&self, name: &str, qtype: RecordType, salt: u64) -> Resolution {
        let zone = self
            .zones
            .iter()
            .enumerate()
            .filter(|(_, z)| !z.private && in_domain(name, &z.name))
            .max_by_key(|(_, z)| z.name.len());
        if let Some((i, _)) = zone {
            return self.answer_from_zone(i, name, qtype, salt, 0);
        }
        if let Some(i) = self
            .aws_names
            .iter()
            .position(|a| a.vpcs.is_empty() && a.name == name)
        {
            return self.aws_name(i, name, qtype);
        }
        self.records_file(name, qtype)
    }

    fn records_file(&self, name: &str, qtype: RecordType) -> Resolution {
        let here: Vec<&RecordSet> = self.internet.iter().filter(|r| r.name == name).collect();
        if here.is_empty() {
            let mut r = Resolution::new(Rcode::NxDomain, Source::Unknown);
            r.soa = Some((String::new(), SOA_TTL.min(SOA_MINIMUM)));
            return r;
        }
        let mut r = Resolution::new(Rcode::NoError, Source::Records);
        let of = |t: RecordType| here.iter().filter(move |s| s.rtype == t);
        let picked: Vec<&&RecordSet> = match of(qtype).next() {
            Some(_) => of(qtype).collect(),
            None => of(RecordType::Cname).take(1).collect(),
        };
        for s in picked {
            if let RecordValue::Records(values) = &s.value {
                r.answers.extend(values.iter().map(|d| Answer {
                    name: name.to_string(),
                    ttl: s.ttl,
                    data: d.clone(),
                }));
            }
        }
        if r.answers.is_empty() {
            r.soa = Some((String::new(), SOA_TTL.min(SOA_MINIMUM)));
        }
        r
    }

    fn aws_name(&self, i: usize, name: &str, qtype: RecordType) -> Resolution {
        let a = &self.aws_names[i];
        let mut r = Resolution::new(Rcode::NoError, Source::AwsName { res: a.res });
        r.answers = address_answers(name, AWS_NAME_TTL, &a.addresses, qtype);
        if r.answers.is_empty() {
            r.soa = Some((name.to_string(), AWS_NAME_TTL));
        }
        r
    }

    /// EC2's autodefined domains (SPEC §21.3): IP names, public names (the private address
    /// from inside the instance's VPC), reverse names of private addresses.
    fn ec2(&self, vpc: VpcIdx, name: &str, qtype: RecordType) -> Resolution {
        let region = &self.vpcs[vpc.index()].region;
        let domain = ec2_domains(region)
            .into_iter()
            .find(|d| in_domain(name, d))
            .unwrap_or_default();
        let label = name.split('.').next().unwrap_or_default();
        let first_label_addr = |prefix: &str| {
            label
                .strip_prefix(prefix)
                .and_then(|rest| rest.replace('-', ".").parse::<Ipv4Addr>().ok())
                .filter(|_| name == format!("{label}.{domain}"))
        };
        let mut found: Option<(&Host, IpAddr)> = None;
        let mut ptr = None;
        if domain.ends_with(".internal") {
            if let Some(a) = first_label_addr("ip-") {
                found = self
                    .hosts
                    .iter()
                    .find(|h| h.private == a && self.same_region(h.vpc, region))
                    .map(|h| (h, IpAddr::V4(h.private)));
            }
        } else if domain.ends_with(".amazonaws.com") {
            if let Some(a) = first_label_addr("ec2-") {
                found = self
                    .hosts
                    .iter()
                    .find(|h| h.public == Some(a) && self.has_public_name(h))
                    .map(|h| {
                        let seen = if h.vpc == vpc { h.private } else { a };
                        (h, IpAddr::V4(seen))
                    });
            }
        } else if let Some(a) = reverse_v4(name) {
            if let Some(h) = self.hosts.iter().find(|h| h.private == a) {
                ptr = Some((h, self.ip_name(h)));
            }
        }
        let source = |host: Option<ResId>| Source::Ec2 {
            domain: domain.clone(),
            host,
        };
        if let Some((h, ptr_name)) = ptr {
            let mut r = Resolution::new(Rcode::NoError, source(Some(h.res)));
            if qtype == RecordType::Ptr {
                r.answers.push(Answer {
                    name: name.to_string(),
                    ttl: AWS_NAME_TTL,
                    data: RData::Ptr(ptr_name),
                });
            } else {
                r.soa = Some((domain.clone(), AWS_NAME_TTL));
            }
            return r;
        }
        let Some((h, addr)) = found else {
            return Resolution::negative(Rcode::NxDomain, &domain, source(None));
        };
        let mut r = Resolution::new(Rcode::NoError, source(Some(h.res)));
        r.answers = address_answers(name, AWS_NAME_TTL, &[addr], qtype);
        if r.answers.is_empty() {
            r.soa = Some((domain, AWS_NAME_TTL));
        }
        r
    }

    fn same_region(&self, vpc: VpcIdx, region: &str) -> bool {
        self.vpcs
            .get(vpc.index())
            .is_some_and(|v| v.region == region)
    }

    fn has_public_name(&self, h: &Host) -> bool {
        self.vpcs
            .get(h.vpc.index())
            .is_some_and(|v| v.support && v.hostnames)
    }

    /// The IP name of an instance (`ip-10-0-1-5.ec2.internal`).
    pub fn ip_name(&self, h: &Host) -> String {
        let region = self
            .vpcs
            .get(h.vpc.index())
            .map_or("us-east-1", |v| v.region.as_str());
        ip_name(h.private, region)
    }

    /// Answer from hosted zone `zi` (SPEC §21.5): the record sets of the name and type chosen by
    /// their routing policy; NXDOMAIN for a name the zone does not hold, NODATA for another type.
    fn answer_from_zone(
        &self,
        zi: usize,
        name: &str,
        qtype: RecordType,
        salt: u64,
        depth: usize,
    ) -> Resolution {
        let z = &self.zones[zi];
        let source = |s: Option<&RecordSet>| Source::Zone {
            zone: z.res,
            private: z.private,
            record: s.map(|s| s.res),
            set_identifier: s.and_then(|s| s.set_identifier.clone()),
        };
        let here: Vec<&RecordSet> = z.records.iter().filter(|r| r.name == name).collect();
        if here.is_empty() {
            // A name with records below it exists (an empty non-terminal): NODATA.
            let below = z
                .records
                .iter()
                .any(|r| r.name != name && in_domain(&r.name, name));
            let rcode = if below || name == z.name {
                Rcode::NoError
            } else {
                Rcode::NxDomain
            };
            return Resolution::negative(rcode, &z.name, source(None));
        }
        let of_type = |t: RecordType| -> Vec<&RecordSet> {
            here.iter().copied().filter(|r| r.rtype == t).collect()
        };
        let mut sets = of_type(qtype);
        if sets.is_empty() {
            sets = of_type(RecordType::Cname);
        }
        if sets.is_empty() {
            return Resolution::negative(Rcode::NoError, &z.name, source(None));
        }
        let chosen = self.choose(&sets, name, salt);
        let mut r = Resolution::new(Rcode::NoError, source(chosen.first().copied()));
        for s in chosen {
            match &s.value {
                RecordValue::Records(values) => r.answers.extend(values.iter().map(|d| Answer {
                    name: name.to_string(),
                    ttl: s.ttl,
                    data: d.clone(),
                })),
                RecordValue::AliasResource { addresses, .. } => {
                    r.answers
                        .extend(address_answers(name, AWS_NAME_TTL, addresses, qtype))
                }
                RecordValue::AliasRecord(target) if depth < MAX_CNAME_CHAIN => {
                    let t = self.answer_from_zone(zi, target, qtype, salt, depth + 1);
                    r.answers.extend(t.answers.into_iter().map(|a| Answer {
                        name: name.to_string(),
                        ..a
                    }));
                }
                RecordValue::AliasRecord(_) => {}
            }
        }
        if r.answers.is_empty() {
            r.soa = Some((z.name.clone(), SOA_TTL.min(SOA_MINIMUM)));
        }
        r
    }

    fn healthy(&self, s: &RecordSet) -> bool {
        let checked = s
            .health_check
            .and_then(|h| self.health_checks.get(h))
            .is_none_or(|h| h.healthy);
        let target = match &s.value {
            RecordValue::AliasResource { healthy, .. } => *healthy,
            _ => true,
        };
        checked && target
    }

    /// The record sets a routing policy answers with (SPEC §21.5).
    fn choose<'s>(&self, sets: &[&'s RecordSet], name: &str, salt: u64) -> Vec<&'s RecordSet> {
        let healthy: Vec<&RecordSet> = sets.iter().copied().filter(|s| self.healthy(s)).collect();
        match sets[0].routing {
            Routing::Simple => vec![sets[0]],
            Routing::Failover(_) => {
                let primary = sets.iter().find(|s| s.routing == Routing::Failover(true));
                let secondary = sets.iter().find(|s| s.routing == Routing::Failover(false));
                let pick = match (primary, secondary) {
                    (Some(p), _) if self.healthy(p) => p,
                    (Some(p), Some(s)) if !self.healthy(s) => p,
                    (_, Some(s)) => s,
                    (Some(p), None) => p,
                    (None, None) => &sets[0],
                };
                vec![*pick]
            }
            Routing::Multivalue => {
                let pool = if healthy.is_empty() {
                    sets.to_vec()
                } else {
                    healthy
                };
                pool.into_iter().take(MULTIVALUE_MAX).collect()
            }
            Routing::Weighted(_) => {
                let weight = |s: &RecordSet| match s.routing {
                    Routing::Weighted(w) => u64::from(w),
                    _ => 0,
                };
                // Non-zero healthy first; zero-weight only when those are all unhealthy; when
                // every record is unhealthy, all count as healthy (last resort).
                let nonzero: Vec<&RecordSet> =
                    healthy.iter().copied().filter(|s| weight(s) > 0).collect();
                let pool = if !nonzero.is_empty() {
                    nonzero
                } else if !healthy.is_empty() {
                    healthy
                } else {
                    let all_nonzero: Vec<&RecordSet> =
                        sets.iter().copied().filter(|s| weight(s) > 0).collect();
                    if all_nonzero.is_empty() {
                        sets.to_vec()
                    } else {
                        all_nonzero
                    }
                };
                let total: u64 = pool.iter().map(|s| weight(s)).sum();
                let h = fnv(name.as_bytes(), salt);
                if total == 0 {
                    return vec![pool[(h % pool.len() as u64) as usize]];
                }
                let mut at = h % total;
                for s in &pool {
                    if at < weight(s) {
                        return vec![s];
                    }
                    at -= weight(s);
                }
                vec![pool[0]]
            }
        }
    }
}

/// EC2's autodefined domains of a Region (SPEC §21.2), with the reverse zone of its names.
fn ec2_domains(region: &str) -> Vec<String> {
    let mut d: Vec<String> = if region == "us-east-1" {
        [
            "ec2.internal",
            "compute-1.internal",
            "compute-1.amazonaws.com",
        ]
        .map(String::from)
        .to_vec()
    } else {
        vec![
            format!("{region}.compute.internal"),
            format!("{region}.compute.amazonaws.com"),
        ]
    };
    d.push("in-addr.arpa".into());
    d
}

/// The IP name of a private address in a Region (SPEC §21.3).
pub fn ip_name(a: Ipv4Addr, region: &str) -> String {
    let [x, y, z, w] = a.octets();
    if region == "us-east-1" {
        format!("ip-{x}-{y}-{z}-{w}.ec2.internal")
    } else {
        format!("ip-{x}-{y}-{z}-{w}.{region}.compute.internal")
    }
}

/// The public DNS name of a public address in a Region (SPEC §21.3).
pub fn public_name(a: Ipv4Addr, region: &str) -> String {
    let [x, y, z, w] = a.octets();
    if region == "us-east-1" {
        format!("ec2-{x}-{y}-{z}-{w}.compute-1.amazonaws.com")
    } else {
        format!("ec2-{x}-{y}-{z}-{w}.{region}.compute.amazonaws.com")
    }
}

fn reverse_v4(name: &str) -> Option<Ipv4Addr> {
    let rest = name.strip_suffix(".in-addr.arpa")?;
    let o: Vec<u8> = rest
        .split('.')
        .map(|l| l.parse().ok())
        .collect::<Option<_>>()?;
    match o.as_slice() {
        [d, c, b, a] => Some(Ipv4Addr::new(*a, *b, *c, *d)),
        _ => None,
    }
}

fn address_answers(name: &str, ttl: u32, addrs: &[IpAddr], qtype: RecordType) -> Vec<Answer> {
    addrs
        .iter()
        .filter_map(|a| match (a, qtype) {
            (IpAddr::V4(a), RecordType::A) => Some(RData::A(*a)),
            (IpAddr::V6(a), RecordType::Aaaa) => Some(RData::Aaaa(*a)),
            _ => None,
        })
        .map(|data| Answer {
            name: name.to_string(),
            ttl,
            data,
        })
        .collect()
}

fn fnv(bytes: &[u8], salt: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
