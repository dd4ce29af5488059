//! Selectors of a policy: which interfaces, address ranges or resources an assertion is about.
//!
//! A selector is a name (AWS id, logical id or `Name` tag, of any resource: an instance, an
//! interface, a subnet, a VPC, a security group, a VPN connection...), `internet`, `onprem`, an
//! address or CIDR, a map `{tag: {Key: Value}}`, `{type: AWS::EC2::Instance}`, `{subnet: S}`,
//! `{vpc: V}`, or a list of these (their union).

use super::super::names::{self, Candidate, Noun};
use serde_yaml_ng::Value;
use std::collections::{BTreeMap, BTreeSet};
use vpcsim_controlplane::cfn::{parse_template, Node};
use vpcsim_dataplane::reach::{self, Family, Start};
use vpcsim_dataplane::topology::{EniIdx, EniKind, VpnConnIdx};
use vpcsim_dataplane::{ResId, Topology};

/// The tags of the templates' resources, by logical id (literal values only: a tag whose value
/// is computed, `!Sub`/`!Ref`, is not known before deployment).
#[derive(Default)]
pub struct Tags(BTreeMap<String, Vec<(String, String)>>);

impl Tags {
    /// Read the tags of every CloudFormation template among `files` (others have none here).
    pub fn read(files: &[std::path::PathBuf]) -> Tags {
        let mut out = BTreeMap::new();
        for f in files {
            let Ok(text) = std::fs::read_to_string(f) else {
                continue;
            };
            let Ok(t) = parse_template(f, &text) else {
                continue;
            };
            for r in &t.resources {
                let Node::Map(props) = &r.properties else {
                    continue;
                };
                let Some((_, Node::List(tags))) = props.iter().find(|(k, _)| k == "Tags") else {
                    continue;
                };
                let pairs = tags.iter().filter_map(|t| {
                    let Node::Map(kv) = t else { return None };
                    let get = |name: &str| {
                        kv.iter()
                            .find(|(k, _)| k == name)
                            .and_then(|(_, v)| match v {
                                Node::String(s) => Some(s.clone()),
                                Node::Number(n) => Some(n.to_string()),
                                Node::Bool(b) => Some(b.to_string()),
                                _ => None,
                            })
                    };
                    Some((get("Key")?, get("Value")?))
                });
                out.entry(r.logical_id.clone())
                    .or_insert_with(Vec::new)
                    .extend(pairs);
            }
        }
        Tags(out)
    }

    fn has(&self, logical_id: &str, key: &str, value: &str) -> bool {
        self.0
            .get(logical_id)
            .is_some_and(|t| t.iter().any(|(k, v)| k == key && v == value))
    }
}

/// What a selector denotes.
#[derive(Default, Debug, Clone)]
pub struct Selected {
    /// Resources named or matched.
    pub resources: BTreeSet<ResId>,
    /// Interfaces in a matched subnet, VPC or security group (instances' and standalone ones).
    pub members: BTreeSet<EniIdx>,
    pub internet: bool,
    pub onprem: bool,
    pub cidrs: Vec<ipnet::IpNet>,
}

impl Selected {
    fn add(&mut self, o: Selected) {
        self.resources.extend(o.resources);
        self.members.extend(o.members);
        self.internet |= o.internet;
        self.onprem |= o.onprem;
        self.cidrs.extend(o.cidrs);
    }

    fn is_empty(&self) -> bool {
        self.resources.is_empty()
            && self.members.is_empty()
            && !self.internet
            && !self.onprem
            && self.cidrs.is_empty()
    }

    /// The interfaces: those of the named resources (an instance's, a NAT gateway's, a load
    /// balancer's nodes) and the members of matched subnets, VPCs and groups.
    pub fn enis(&self, topo: &Topology) -> Vec<EniIdx> {
        let mut out: BTreeSet<EniIdx> = self.members.clone();
        for (i, e) in topo.enis.iter_enumerated() {
            // A service's interfaces belong to the service: a load balancer's nodes, a NAT
            // gateway's or an endpoint's interface.
            let service = match e.kind {
                EniKind::Host => None,
                EniKind::NatGateway(n) => Some(topo.nat_gateways[n].res),
                EniKind::VpcEndpoint(v) => Some(topo.vpc_endpoints[v].res),
                EniKind::NetworkLoadBalancer(l) => Some(topo.nlb.load_balancers[l].res),
                EniKind::GatewayLoadBalancer(l) => Some(topo.gwlb.load_balancers[l].res),
                EniKind::ApplicationLoadBalancer(l) => Some(topo.alb.get(l).res),
            };
            let named = [Some(e.res), Some(e.owner), service]
                .into_iter()
                .flatten()
                .any(|r| self.resources.contains(&r));
            if named {
                out.insert(i);
            }
        }
        out.into_iter().collect()
    }

    /// The VPN connections: every one for `onprem`, else those named (directly or by their
    /// customer gateway).
    fn connections(&self, topo: &Topology) -> Vec<VpnConnIdx> {
        let mut out: BTreeSet<VpnConnIdx> = BTreeSet::new();
        for (c, conn) in topo.vpn_connections.iter_enumerated() {
            if self.onprem || self.resources.contains(&conn.res) {
                out.insert(c);
            }
        }
        out.extend(
            self.resources
                .iter()
                .filter_map(|r| topo.vpn_connection_by_resource(*r)),
        );
        out.into_iter().collect()
    }

    /// Where flows from this selection start.
    pub fn starts(&self, topo: &Topology) -> Result<Vec<(Start, String)>, String> {
        if !self.cidrs.is_empty() {
            return Err("an address or CIDR can only be a destination; name the instance, subnet or VPC that sends".into());
        }
        let mut out: Vec<(Start, String)> = self
            .enis(topo)
            .into_iter()
            .map(|e| (Start::Eni(e), eni_label(topo, e)))
            .collect();
        if self.internet {
            out.push((Start::Internet, "internet".into()));
        }
        for c in self.connections(topo) {
            let name = topo.name(topo.vpn_connections[c].res);
            out.push((Start::OnPrem(c), name.to_string()));
        }
        Ok(out)
    }

    /// The destination addresses, sorted and disjoint.
    pub fn addresses(&self, topo: &Topology, fam: Family) -> Vec<(u128, u128)> {
        let mut v: Vec<u128> = Vec::new();
        for e in self.enis(topo) {
            let e = &topo.enis[e];
            match fam {
                Family::V4 => {
                    v.extend(e.private_v4.iter().map(|a| a.to_bits() as u128));
                    v.extend(e.public_v4.iter().map(|(_, p)| p.to_bits() as u128));
                }
                Family::V6 => v.extend(e.ipv6.iter().map(|a| a.to_bits())),
            }
        }
        let mut v: Vec<(u128, u128)> = v.into_iter().map(|a| (a, a)).collect();
        if self.internet {
            v.extend(reach::sources(topo, Start::Internet, fam));
        }
        for c in self.connections(topo) {
            v.extend(reach::sources(topo, Start::OnPrem(c), fam));
        }
        for n in &self.cidrs {
            let fits = matches!(
                (n, fam),
                (ipnet::IpNet::V4(_), Family::V4) | (ipnet::IpNet::V6(_), Family::V6)
            );
            if fits {
                v.push(Family::prefix_range(n));
            }
        }
        disjoint(v)
    }
}

/// Sorted, overlaps merged.
fn disjoint(mut v: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    v.sort_unstable();
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(v.len());
    for (lo, hi) in v {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// How a start is named in output: the instance (or interface) that sends.
pub fn eni_label(topo: &Topology, e: EniIdx) -> String {
    topo.name(topo.enis[e].owner).to_string()
}

/// Resolve a selector against a topology; errors say what was expected, with did-you-mean.
pub fn resolve(topo: &Topology, tags: &Tags, v: &Value) -> Result<Selected, String> {
    let mut out = Selected::default();
    match v {
        Value::String(s) => out.add(by_word(topo, s)?),
        Value::Sequence(items) => {
            for i in items {
                out.add(resolve(topo, tags, i)?);
            }
        }
        Value::Mapping(m) => {
            for (k, val) in m {
                let key = k.as_str().unwrap_or_default();
                let word = || {
                    val.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("`{key}` takes a name"))
                };
                match key {
                    "tag" => out.add(by_tag(topo, tags, val)?),
                    "type" => out.add(by_type(topo, &word()?)?),
                    "subnet" => out.add(by_kind(topo, &word()?, "AWS::EC2::Subnet", "subnet", "subnets")?),
                    "vpc" => out.add(by_kind(topo, &word()?, "AWS::EC2::VPC", "VPC", "VPCs")?),
                    other => {
                        return Err(format!(
                            "unknown selector key `{other}` (a selector is a name, internet, onprem, a CIDR, or one of tag, type, subnet, vpc)"
                        ))
                    }
                }
            }
        }
        other => return Err(format!("{other:?} is not a selector")),
    }
    if out.is_empty() {
        return Err(format!("{} selects nothing", show(v)));
    }
    Ok(out)
}

/// A selector as written, in YAML's flow style, for messages: `WebInstance`,
/// `{tag: {Name: web}}`, `[AppInstanceA, AppInstanceB]`.
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "~".into(),
        Value::Sequence(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        Value::Mapping(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", show(k), show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Tagged(t) => show(&t.value),
    }
}

fn by_word(topo: &Topology, s: &str) -> Result<Selected, String> {
    let mut out = Selected::default();
    if s.eq_ignore_ascii_case("internet") {
        out.internet = true;
    } else if s.eq_ignore_ascii_case("onprem") {
        out.onprem = true;
    } else if let Ok(n) = s.parse::<ipnet::IpNet>() {
        out.cidrs.push(n.trunc());
    } else if let Ok(a) = s.parse::<std::net::IpAddr>() {
        out.cidrs.push(ipnet::IpNet::from(a));
    } else {
        let (candidates, _) = names::resources(topo, |_| true);
        let r = names::lookup(s, &candidates, &Noun::new("resource", "resources"))
            .map_err(|e| format!("{e}; a selector is also internet, onprem or a CIDR"))?;
        out = of_resource(topo, r);
    }
    Ok(out)
}

/// A resource and, when it groups interfaces (a subnet, VPC or security group), its members.
fn of_resource(topo: &Topology, r: ResId) -> Selected {
    let mut out = Selected::default();
    out.resources.insert(r);
    for (i, e) in topo.enis.iter_enumerated() {
        if e.kind != EniKind::Host {
            continue;
        }
        let member = topo.subnets[e.subnet].res == r
            || topo.vpcs[e.vpc].res == r
            || e.security_groups
                .iter()
                .any(|g| topo.security_groups[*g].res == r);
        if member {
            out.members.insert(i);
        }
    }
    out
}

fn by_kind(
    topo: &Topology,
    name: &str,
    kind: &str,
    one: &str,
    many: &str,
) -> Result<Selected, String> {
    let (candidates, _) = names::resources(topo, |r| topo.resource(r).kind == kind);
    let r = names::lookup(name, &candidates, &Noun::new(one, many))?;
    Ok(of_resource(topo, r))
}

fn by_type(topo: &Topology, kind: &str) -> Result<Selected, String> {
    let mut out = Selected::default();
    for (r, res) in topo.resources.iter_enumerated() {
        if res.kind == kind {
            out.add(of_resource(topo, r));
        }
    }
    if out.is_empty() {
        let mut kinds: Vec<&str> = topo.resources.iter().map(|r| r.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let candidates: Vec<Candidate<usize>> = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| Candidate {
                value: i,
                shown: k.to_string(),
                spellings: vec![k.to_string()],
            })
            .collect();
        return Err(names::not_found(
            kind,
            &candidates,
            &Noun::new("resource type", "resource types in the topology"),
            "",
        ));
    }
    Ok(out)
}

fn by_tag(topo: &Topology, tags: &Tags, v: &Value) -> Result<Selected, String> {
    let Value::Mapping(m) = v else {
        return Err("`tag` takes a map {Key: Value}".into());
    };
    let mut out = Selected::default();
    for (k, val) in m {
        let (Some(k), Some(val)) = (k.as_str(), scalar(val)) else {
            return Err("`tag` takes a map {Key: Value} of strings".into());
        };
        let mut hit = false;
        for (r, res) in topo.resources.iter_enumerated() {
            let named = k == "Name" && res.name.as_deref() == Some(val.as_str());
            if named || tags.has(&res.logical_id, k, &val) {
                hit = true;
                out.add(of_resource(topo, r));
            }
        }
        if !hit {
            return Err(format!("no resource is tagged {k}={val}"));
        }
    }
    Ok(out)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
