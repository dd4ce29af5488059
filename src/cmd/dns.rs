//! `vpcsim dns`: ask the VPC resolver a question from an instance's point of view, and print
//! the answer like `dig`, with the zone, record or rule that gave it. Also what `trace` uses to
//! resolve a name destination, and the options that feed the resolvers (`--dns-records`,
//! `--unhealthy-check`).

use super::args::{resolve_start, TopologyArgs};
use super::stdio::{errln, out, outln};
use clap::Args;
use serde_json::{json, Value};
use std::net::IpAddr;
use vpcsim_dataplane::dns::{self, Query, Rcode, RecordType, Resolution, Source};
use vpcsim_dataplane::pipeline::exchange::Exchange;
use vpcsim_dataplane::reach::Start;
use vpcsim_dataplane::topology::EniIdx;
use vpcsim_dataplane::wire::{Header, IpProtocol};
use vpcsim_dataplane::{Disposition, Origin, StateConfig, Topology, Trace};
use vpcsim_report::{json as rjson, text};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim dns -t examples/private-dns.yaml --from App db.internal.example
  vpcsim dns -t examples/private-dns.yaml --from App internal.example MX --json
  vpcsim dns -t examples/hybrid-dns.yaml --from App host.corp.example --dns-records examples/onprem.zone

Exit codes: 0 the resolver answered (any status: NOERROR, NXDOMAIN, SERVFAIL), 1 it did not
answer (EnableDnsSupport is false), 2 bad input.")]
pub struct DnsArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// The instance or interface that asks (a logical id, AWS id or Name tag, as `trace --from`).
    #[arg(long, value_name = "RESOURCE")]
    pub from: String,
    /// The name asked.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The record type: A, AAAA, CNAME, MX, TXT, SRV, PTR or NS.
    #[arg(value_name = "TYPE", default_value = "A")]
    pub rtype: String,
    /// Print JSON instead of dig-like text.
    #[arg(long)]
    pub json: bool,
}

/// A query a forwarding rule sent from an outbound endpoint's interface to a target resolver,
/// traced along the real path with its reply.
pub struct Forwarded {
    /// The endpoint interface it left.
    pub eni: EniIdx,
    /// The resolver it was sent to.
    pub target: (IpAddr, u16),
    /// The query and its reply, hop by hop.
    pub exchange: Exchange<Trace>,
}

impl Forwarded {
    /// Whether the query got there and its answer came back.
    pub fn reached(&self) -> bool {
        self.exchange.request.disposition != Disposition::Dropped
            && self
                .exchange
                .reply
                .as_ref()
                .is_some_and(|(v, _)| v.disposition != Disposition::Dropped)
    }
}

/// The source port forwarded queries leave the endpoint from (any ephemeral port does).
const FORWARD_SOURCE_PORT: u16 = 53_000;

/// Resolve `name` from interface `eni`'s VPC. Forwarded queries are traced from each of the
/// outbound endpoint's interfaces to each target in turn until one answers (SPEC §21.6).
pub fn resolve_from(
    topo: &Topology,
    eni: EniIdx,
    name: &str,
    qtype: RecordType,
) -> (Resolution, Vec<Forwarded>) {
    let e = &topo.enis[eni];
    let salt = e.private_v4.first().map_or(0, |a| u64::from(a.to_bits()));
    let mut attempts = Vec::new();
    let mut forward = |s: &Source| {
        let Source::Forward {
            endpoint: Some(x),
            targets,
            ..
        } = s
        else {
            return false;
        };
        let Some(ep) = topo.dns.endpoints.get(*x) else {
            return false;
        };
        for &from in &ep.enis {
            let Some(src) = topo.enis[from].primary_v4() else {
                continue;
            };
            for &(ip, port) in targets {
                let IpAddr::V4(_) = ip else { continue };
                let header = Header {
                    src: IpAddr::V4(src),
                    dst: ip,
                    proto: IpProtocol::UDP,
                    src_port: FORWARD_SOURCE_PORT,
                    dst_port: port,
                    icmp_type: 0,
                    icmp_code: 0,
                    tcp_flags: 0,
                    ttl: 64,
                    len: 28 + 40,
                };
                let exchange = super::trace::trace_exchange(
                    topo,
                    StateConfig::default(),
                    header,
                    Origin::Eni(from),
                );
                let f = Forwarded {
                    eni: from,
                    target: (ip, port),
                    exchange,
                };
                let ok = f.reached();
                attempts.push(f);
                if ok {
                    return true;
                }
            }
        }
        false
    };
    let r = topo.dns.resolve(
        Query {
            vpc: e.vpc,
            name,
            qtype,
            salt,
        },
        &mut forward,
    );
    (r, attempts)
}

/// Who answered, in words.
pub fn describe(topo: &Topology, s: &Source) -> String {
    let n = |r| topo.name(r).to_string();
    match s {
        Source::NoDnsSupport => "no answer: the VPC has EnableDnsSupport false".into(),
        Source::FirewallBlock {
            group,
            list,
            priority,
        } => format!(
            "DNS Firewall rule group {} blocked it (rule priority {priority}, domain list {})",
            n(*group),
            n(*list)
        ),
        Source::Forward {
            rule,
            targets,
            reached,
            ..
        } => {
            let to: Vec<String> = targets.iter().map(|(a, p)| format!("{a}:{p}")).collect();
            format!(
                "resolver rule {} forwarded it to {}{}",
                n(*rule),
                to.join(", "),
                if *reached {
                    ""
                } else {
                    " (no answer came back: SERVFAIL)"
                }
            )
        }
        Source::Zone {
            zone,
            private,
            record,
            set_identifier,
        } => {
            let kind = if *private { "private" } else { "public" };
            let zname = topo
                .dns
                .zones
                .iter()
                .find(|z| z.res == *zone)
                .map_or("", |z| z.name.as_str());
            let rec = match (record, set_identifier) {
                (Some(r), Some(id)) => format!(", record {} (set {id})", n(*r)),
                (Some(r), None) => format!(", record {}", n(*r)),
                (None, _) => String::new(),
            };
            format!("{kind} hosted zone {} ({zname}){rec}", n(*zone))
        }
        Source::Ec2 { domain, host } => match host {
            Some(h) => format!("EC2 name of {} in {domain}", n(*h)),
            None => format!("EC2 domain {domain}: no instance has that name"),
        },
        Source::AwsName { res } => format!("AWS name of {}", n(*res)),
        Source::Records => "--dns-records".into(),
        Source::Unknown => "no zone, rule or record in the model knows the name".into(),
    }
}

fn source_json(topo: &Topology, s: &Source) -> Value {
    let n = |r| json!(topo.name(r));
    let mut v = match s {
        Source::NoDnsSupport => json!({"kind": "none"}),
        Source::FirewallBlock {
            group,
            list,
            priority,
        } => {
            json!({"kind": "dns-firewall", "rule_group": n(*group), "domain_list": n(*list), "priority": priority, "action": "BLOCK"})
        }
        Source::Forward {
            rule,
            targets,
            reached,
            endpoint,
        } => json!({
            "kind": "resolver-rule",
            "rule": n(*rule),
            "endpoint": endpoint.and_then(|e| topo.dns.endpoints.get(e)).map(|e| topo.name(e.res)),
            "targets": targets.iter().map(|(a, p)| format!("{a}:{p}")).collect::<Vec<_>>(),
            "reached": reached,
        }),
        Source::Zone {
            zone,
            private,
            record,
            set_identifier,
        } => json!({
            "kind": if *private { "private-zone" } else { "public-zone" },
            "zone": n(*zone),
            "record": record.map(|r| topo.name(r)),
            "set_identifier": set_identifier,
        }),
        Source::Ec2 { domain, host } => {
            json!({"kind": "ec2", "domain": domain, "instance": host.map(|h| topo.name(h))})
        }
        Source::AwsName { res } => json!({"kind": "aws-name", "resource": n(*res)}),
        Source::Records => json!({"kind": "dns-records"}),
        Source::Unknown => json!({"kind": "unknown"}),
    };
    v["text"] = json!(describe(topo, s));
    v
}

/// The resolution as JSON: status, answers, authority, who answered, forwarded queries.
pub fn resolution_json(
    topo: &Topology,
    name: &str,
    qtype: RecordType,
    r: &Resolution,
    forwarded: &[Forwarded],
) -> Value {
    json!({
        "question": {"name": dns::normalize(name), "type": qtype.as_str()},
        "status": if r.answered() { json!(r.rcode.as_str()) } else { json!(null) },
        "answers": r.answers.iter().map(|a| json!({
            "name": a.name, "ttl": a.ttl, "type": a.data.record_type().as_str(), "data": a.data.to_text(),
        })).collect::<Vec<_>>(),
        "authority": r.soa.iter().map(|(z, ttl)| json!({"name": z, "ttl": ttl, "type": "SOA"})).collect::<Vec<_>>(),
        "answered_by": source_json(topo, &r.source),
        "chain": r.chain.iter().map(|s| source_json(topo, s)).collect::<Vec<_>>(),
        "alert": r.alert.map(|(g, l, p)| json!({"rule_group": topo.name(g), "domain_list": topo.name(l), "priority": p, "action": "ALERT"})),
        "forwarded": forwarded.iter().map(|f| json!({
            "from": topo.name(topo.enis[f.eni].res),
            "to": format!("{}:{}", f.target.0, f.target.1),
            "reached": f.reached(),
            "query": rjson::trace_json(topo, &f.exchange.request, &f.exchange.request_trace.hops),
            "reply": f.exchange.reply.as_ref().map(|(v, t)| rjson::trace_json(topo, v, &t.hops)),
        })).collect::<Vec<_>>(),
    })
}

fn print_text(
    topo: &Topology,
    server: &str,
    name: &str,
    qtype: RecordType,
    r: &Resolution,
    forwarded: &[Forwarded],
) {
    let fqdn = |n: &str| {
        if n.is_empty() {
            ".".to_string()
        } else {
            format!("{n}.")
        }
    };
    if !r.answered() {
        outln!(";; no answer from {server}: the VPC has EnableDnsSupport false (the resolver does not answer)");
        return;
    }
    outln!(";; ->>HEADER<<- status: {}", r.rcode.as_str());
    outln!(
        ";; QUESTION SECTION:\n;{}\t\tIN\t{}",
        fqdn(&dns::normalize(name)),
        qtype.as_str()
    );
    if !r.answers.is_empty() {
        outln!("\n;; ANSWER SECTION:");
        for a in &r.answers {
            outln!(
                "{}\t{}\tIN\t{}\t{}",
                fqdn(&a.name),
                a.ttl,
                a.data.record_type().as_str(),
                a.data.to_text()
            );
        }
    }
    if let Some((zone, ttl)) = &r.soa {
        outln!("\n;; AUTHORITY SECTION:\n{}\t{ttl}\tIN\tSOA\tns-0.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400", fqdn(zone));
    }
    outln!("");
    for s in &r.chain {
        outln!(";; via: {}", describe(topo, s));
    }
    outln!(";; answered by: {}", describe(topo, &r.source));
    if let Some((g, l, p)) = r.alert {
        outln!(
            ";; DNS Firewall alert: rule group {} (priority {p}, domain list {})",
            topo.name(g),
            topo.name(l)
        );
    }
    outln!(";; server: {server}");
    for f in forwarded {
        outln!(
            "\n;; forwarded from {} to {}:{}:",
            topo.name(topo.enis[f.eni].res),
            f.target.0,
            f.target.1
        );
        out!(
            "{}",
            text::trace_text(topo, &f.exchange.request, &f.exchange.request_trace.hops)
        );
        if let Some((v, t)) = &f.exchange.reply {
            outln!(";; its answer:");
            out!("{}", text::trace_text(topo, v, &t.hops));
        }
    }
}

/// The interface that asks: `--from` must name an instance or interface.
pub fn asking_interface(topo: &Topology, from: &str) -> Result<EniIdx, String> {
    match resolve_start(topo, from)? {
        Start::Eni(e) => Ok(e),
        _ => Err(format!(
            "--from {from}: the resolver answers instances and interfaces of a VPC"
        )),
    }
}

pub fn run(args: &DnsArgs) -> i32 {
    let Some(qtype) = RecordType::parse(&args.rtype).filter(|t| *t != RecordType::Soa) else {
        errln!(
            "error: unknown record type {:?}: use A, AAAA, CNAME, MX, TXT, SRV, PTR or NS",
            args.rtype
        );
        return 2;
    };
    let Ok((_, topo)) = args.topology.topology() else {
        return 2;
    };
    let eni = match asking_interface(&topo, &args.from) {
        Ok(e) => e,
        Err(e) => {
            errln!("error: {e}");
            return 2;
        }
    };
    let (r, forwarded) = resolve_from(&topo, eni, &args.name, qtype);
    let vpc = &topo.vpcs[topo.enis[eni].vpc];
    let server = match vpc.cidrs_v4.first() {
        Some(c) => format!(
            "{} (Amazon DNS of {}), asked by {}",
            IpAddr::V4((u32::from(c.network()) + 2).into()),
            topo.name(vpc.res),
            topo.name(topo.enis[eni].owner)
        ),
        None => format!(
            "169.254.169.253, asked by {}",
            topo.name(topo.enis[eni].owner)
        ),
    };
    if args.json {
        let mut v = resolution_json(&topo, &args.name, qtype, &r, &forwarded);
        v["server"] = json!(server);
        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print_text(&topo, &server, &args.name, qtype, &r, &forwarded);
    }
    if r.answered() {
        0
    } else {
        1
    }
}

/// The first address of the answer, for a flow spec's name destination: the type follows the
/// source's family.
pub fn address_for(
    topo: &Topology,
    eni: EniIdx,
    name: &str,
    v6: bool,
) -> Result<(IpAddr, Resolution), String> {
    let qtype = if v6 { RecordType::Aaaa } else { RecordType::A };
    let (r, _) = resolve_from(topo, eni, name, qtype);
    let addr = r.answers.iter().find_map(|a| match a.data {
        dns::RData::A(a) => Some(IpAddr::V4(a)),
        dns::RData::Aaaa(a) => Some(IpAddr::V6(a)),
        _ => None,
    });
    match (addr, r.rcode) {
        (Some(a), _) => Ok((a, r)),
        _ if !r.answered() => Err(format!(
            "{name}: no answer (the source's VPC has EnableDnsSupport false)"
        )),
        (None, Rcode::NoError) => Err(format!(
            "{name}: NOERROR with no {} record ({})",
            qtype.as_str(),
            describe(topo, &r.source)
        )),
        (None, rc) => Err(format!(
            "{name}: {} ({})",
            rc.as_str(),
            describe(topo, &r.source)
        )),
    }
}

/// `--dns-records FILE` and `--unhealthy-check`: the internet's names and the health checks
/// that fail, applied to the compiled resolvers.
pub fn apply_options(
    topo: &mut Topology,
    records: Option<&std::path::Path>,
    unhealthy: &[String],
) -> Result<(), String> {
    if let Some(path) = records {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--dns-records {}: {e}", path.display()))?;
        let shown = path.display().to_string();
        let res = topo.add_resource("dns-records", &shown, "vpcsim::DnsRecords", None);
        let (sets, errors) = dns::parse_records_file(&text, res);
        if !errors.is_empty() {
            let lines: Vec<String> = errors.iter().map(|e| format!("{shown}: {e}")).collect();
            return Err(format!("InvalidDnsRecords: {}", lines.join("; ")));
        }
        topo.dns.internet = sets;
    }
    for name in unhealthy {
        let found = topo.dns.health_checks.iter().position(|h| {
            let r = topo.resource(h.res);
            r.logical_id == *name || r.aws_id == *name
        });
        match found {
            Some(i) => topo.dns.health_checks[i].healthy = false,
            None => {
                return Err(format!(
                "--unhealthy-check {name}: no AWS::Route53::HealthCheck of that logical id or id"
            ))
            }
        }
    }
    Ok(())
}

/// The resource a trace's `dns` hop names: the record (else zone), rule, instance or service
/// that answered.
fn source_resource(s: &Source) -> vpcsim_dataplane::ResId {
    match s {
        Source::Zone {
            record: Some(r), ..
        } => *r,
        Source::Zone { zone, .. } => *zone,
        Source::Forward { rule, .. } => *rule,
        Source::FirewallBlock { group, .. } => *group,
        Source::Ec2 { host: Some(h), .. } => *h,
        Source::AwsName { res } => *res,
        _ => Topology::AMAZON_DNS,
    }
}

/// Resolve a flow spec's name destination from the source's VPC (the interface `--from` names,
/// else the one owning the source address) and write the address into `header`: the trace's
/// first hop, stage `dns`.
pub fn resolve_destination(
    topo: &Topology,
    origin: Origin,
    header: &mut vpcsim_dataplane::wire::Header,
    name: &str,
) -> Result<vpcsim_dataplane::trace::Hop, String> {
    use vpcsim_dataplane::trace::{Action, Hop, Stage};
    let eni = match origin {
        Origin::Eni(e) => Some(e),
        Origin::Auto => topo.owner_of(header.src),
        _ => None,
    }
    .ok_or_else(|| {
        format!(
            "{name}: a name destination is resolved by the source's VPC resolver, and {} is not an address of an interface in a VPC (use an address, or --from an instance)",
            header.src
        )
    })?;
    let (addr, r) = address_for(topo, eni, name, header.src.is_ipv6())?;
    header.dst = addr;
    let ttl = r.answers.last().map_or(0, |a| a.ttl);
    Ok(Hop {
        resource: source_resource(&r.source),
        stage: Stage::Dns,
        action: Action::Forward,
        rule: Some(format!("{} {}", r.rcode.as_str(), name)),
        detail: format!(
            "{name} is {addr} (TTL {ttl}): {}",
            describe(topo, &r.source)
        ),
        header: *header,
    })
}
