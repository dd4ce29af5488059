//! `vpcsim report`: a self-contained HTML report of a topology.
//!
//! `DIR/index.html` holds the topology map, a reachability summary and a table of every resource;
//! each `--flow` becomes `DIR/flow-N.html`, the same page as `vpcsim trace --html` (with the
//! reply), linked from the index. The reachability summary traces a few representative flows per
//! pair of instances: the ports the destination's security groups open to the source, so a red
//! cell means something other than that group (the source's outbound rules, an ACL, a route, a
//! gateway) stands in the way, or that no rule admits the source at all.

use super::args::TopologyArgs;
use super::flowspec;
use super::stdio::{errln, outln};
use super::trace::trace_exchange;
use clap::Args;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use vpcsim_dataplane::pipeline::Origin;
use vpcsim_dataplane::tables::sg::CompiledSgRule;
use vpcsim_dataplane::topology::{EniIdx, EniKind};
use vpcsim_dataplane::trace::Hop;
use vpcsim_dataplane::wire::IpProtocol;
use vpcsim_dataplane::{Disposition, StateConfig, Topology, Verdict};
use vpcsim_report::html::{self, FlowLink, PathView, Probe, ReachRow, ReportPage, TracePage};
use vpcsim_report::text;

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim report -t examples/two-tier.yaml --out report
  vpcsim report -t examples/two-tier.yaml --out report \\
      --flow 'tcp 10.0.2.30:40000 -> 198.51.100.7:443' --flow 'tcp 192.0.2.9:50000 -> 198.18.0.1:22'

Writes DIR/index.html: the topology map (VPCs, Availability Zones, subnets, instances, NAT
gateways, gateways, peerings and any other resource), a reachability summary for every pair of
instances/interfaces (and the internet), and a table of every resource with its CIDRs, addresses,
routes and rules. Each --flow becomes DIR/flow-N.html with the packet's path and its reply drawn
on the map, every hop clickable. The pages are self-contained (inline CSS, SVG and JS; they fetch
nothing) and the same input writes the same bytes.

Exit codes: 0 written, 2 bad input or a file that cannot be written.")]
pub struct ReportArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Directory for index.html and the flow pages (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A packet to trace, with its reply, onto its own page linked from the index (repeatable).
    /// Same syntax as `vpcsim trace`: `PROTO SRC[:PORT] -> DST[:PORT]`.
    #[arg(long = "flow", value_name = "FLOW")]
    pub flows: Vec<String>,
    /// Instances/interfaces paired up in the reachability summary: the first N in template order
    /// (N × (N − 1) pairs).
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub max_hosts: usize,
}

/// An internet host for probes: in TEST-NET-2, never an address of the topology.
const INTERNET_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
const INTERNET_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7);
/// Probes per pair: enough to show the ports that matter, few enough to read.
const MAX_PROBES: usize = 4;

fn endpoint(a: IpAddr, port: Option<u16>) -> String {
    match (a, port) {
        (IpAddr::V6(a), Some(p)) => format!("[{a}]:{p}"),
        (a, Some(p)) => format!("{a}:{p}"),
        (a, None) => a.to_string(),
    }
}

/// What to probe: protocol and destination port (TCP/UDP) or ICMP type.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Want {
    proto: IpProtocol,
    port: i32,
}

impl Want {
    fn from_rule(r: &CompiledSgRule) -> Want {
        match r.protocol {
            // An all-traffic rule: HTTPS stands for "anything".
            None => Want {
                proto: IpProtocol::TCP,
                port: 443,
            },
            Some(p @ (IpProtocol::TCP | IpProtocol::UDP)) => Want {
                proto: p,
                port: if r.from_port <= 443 && r.to_port >= 443 && r.to_port - r.from_port > 1000 {
                    443
                } else {
                    r.from_port.max(1)
                },
            },
            Some(p) => Want {
                proto: p,
                port: r.from_port,
            },
        }
    }

    fn label(&self) -> String {
        match self.proto {
            IpProtocol::TCP | IpProtocol::UDP => format!("{} {}", self.proto, self.port),
            IpProtocol::ICMP | IpProtocol::ICMPV6
                if self.port < 0 || self.port == 8 || self.port == 128 =>
            {
                "ping".into()
            }
            IpProtocol::ICMP | IpProtocol::ICMPV6 => format!("icmp type {}", self.port),
            p => format!("protocol {p}"),
        }
    }

    /// The flow spec, as `vpcsim trace` takes it.
    fn spec(&self, src: IpAddr, dst: IpAddr) -> String {
        match self.proto {
            IpProtocol::TCP | IpProtocol::UDP => format!(
                "{} {} -> {}",
                self.proto,
                endpoint(src, Some(40000)),
                endpoint(dst, Some(self.port as u16))
            ),
            IpProtocol::ICMP | IpProtocol::ICMPV6
                if self.port < 0 || self.port == 8 || self.port == 128 =>
            {
                format!("{} {src} -> {dst}", icmp_word(dst))
            }
            IpProtocol::ICMP | IpProtocol::ICMPV6 => {
                format!(
                    "{} {src} -> {dst} type {} code 0",
                    icmp_word(dst),
                    self.port
                )
            }
            p => format!("{p} {src} -> {dst}"),
        }
    }
}

/// The flow spec's ICMP for the address family: `trace` refuses the other one.
fn icmp_word(dst: IpAddr) -> &'static str {
    if dst.is_ipv4() {
        "icmp"
    } else {
        "icmpv6"
    }
}

/// Representative wants from rules whose peer admits `peer`; when none does, the first rule's
/// (or SSH when there are no rules) so the summary shows what blocks it.
fn wants(rules: &[CompiledSgRule], peer: IpAddr) -> Vec<Want> {
    let mut out: Vec<Want> = vec![];
    for r in rules.iter().filter(|r| r.peer.contains(&peer)) {
        let w = Want::from_rule(r);
        let family_ok = match w.proto {
            IpProtocol::ICMP => peer.is_ipv4(),
            IpProtocol::ICMPV6 => peer.is_ipv6(),
            _ => true,
        };
        if family_ok && !out.contains(&w) {
            out.push(w);
        }
        if out.len() == MAX_PROBES {
            break;
        }
    }
    if out.is_empty() {
        out.push(rules.first().map_or(
            Want {
                proto: IpProtocol::TCP,
                port: 22,
            },
            Want::from_rule,
        ));
    }
    out
}

fn probe(topo: &Topology, want: Want, src: IpAddr, dst: IpAddr, origin: Origin) -> Option<Probe> {
    let spec = want.spec(src, dst);
    let header = flowspec::parse(&spec).ok()?;
    let t = trace_exchange(topo, StateConfig::default(), header, origin);
    let (ok, outcome) = match &t.reply {
        Some((rv, _)) if rv.disposition == Disposition::Dropped => {
            (false, format!("reply {}", text::verdict_short(topo, rv)))
        }
        // No reply: the request was dropped, or a link-local service answered it on the host.
        _ => (
            t.request.disposition != Disposition::Dropped,
            text::verdict_short(topo, &t.request),
        ),
    };
    Some(Probe {
        label: want.label(),
        spec,
        ok,
        outcome,
    })
}

/// A source address inside `peer` that is on the internet: the probe host when it fits, else
/// the first address of the block; `None` for private blocks (no internet host has them).
fn internet_source(peer: &IpNet) -> Option<IpAddr> {
    match peer {
        IpNet::V4(n) => {
            if n.contains(&INTERNET_V4) {
                return Some(IpAddr::V4(INTERNET_V4));
            }
            let a = n.network();
            let o = a.octets();
            let private = a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || (o[0] == 100 && (o[1] & 0xc0) == 64);
            let host = if n.prefix_len() < 31 {
                Ipv4Addr::from_bits(a.to_bits() + 1)
            } else {
                a
            };
            (!private).then_some(IpAddr::V4(host))
        }
        IpNet::V6(n) => {
            if n.contains(&INTERNET_V6) {
                return Some(IpAddr::V6(INTERNET_V6));
            }
            let a = n.network();
            let global = (a.segments()[0] & 0xe000) == 0x2000;
            global.then(|| IpAddr::V6(Ipv6Addr::from_bits(a.to_bits() + 1)))
        }
    }
}

fn same_family(a: &[IpAddr], b: &[IpAddr]) -> Option<(IpAddr, IpAddr)> {
    a.iter().find_map(|x| {
        b.iter()
            .find(|y| y.is_ipv4() == x.is_ipv4())
            .map(|y| (*x, *y))
    })
}

/// The reachability summary: every ordered pair of the first `max_hosts` instances/interfaces,
/// then the internet to each host with a public address, and each host to the internet.
fn reachability(topo: &Topology, max_hosts: usize) -> (Vec<ReachRow>, Vec<String>) {
    // Managed interfaces that never start a connection of a user's are not probed.
    let hosts: Vec<EniIdx> = topo
        .enis
        .iter_enumerated()
        .filter(|(_, e)| {
            !matches!(
                e.kind,
                EniKind::NatGateway(_) | EniKind::GatewayLoadBalancer(_)
            )
        })
        .map(|(i, _)| i)
        .collect();
    let mut notes = vec![format!(
        "Each cell traces one packet and its reply from a fresh state (hover for the flow to give vpcsim trace); \
the ports are those the destination's security groups open to the source, and {INTERNET_V4} stands for an internet host."
    )];
    if hosts.len() > max_hosts {
        notes.push(format!(
            "{} instances/interfaces: pairs are shown for the first {max_hosts} (--max-hosts).",
            hosts.len()
        ));
    }
    let shown = &hosts[..hosts.len().min(max_hosts)];
    let name = |e: EniIdx| topo.name(topo.enis[e].owner).to_string();
    let addrs = |e: EniIdx| -> Vec<IpAddr> {
        let eni = &topo.enis[e];
        eni.private_v4
            .iter()
            .map(|a| IpAddr::V4(*a))
            .chain(eni.ipv6.iter().map(|a| IpAddr::V6(*a)))
            .collect()
    };
    let mut rows = vec![];
    for &a in shown {
        for &b in shown {
            if a == b {
                continue;
            }
            let Some((src, dst)) = same_family(&addrs(a), &addrs(b)) else {
                continue;
            };
            let probes = wants(&topo.enis[b].sg_ingress, src)
                .into_iter()
                .filter_map(|w| probe(topo, w, src, dst, Origin::Eni(a)))
                .collect();
            rows.push(ReachRow {
                from: name(a),
                to: name(b),
                probes,
            });
        }
    }
    for &h in shown {
        let eni = &topo.enis[h];
        // In from the internet, to the public address (or the IPv6 address, which is public).
        let dst = eni
            .public_v4
            .first()
            .map(|&(_, p)| IpAddr::V4(p))
            .or_else(|| eni.ipv6.first().map(|a| IpAddr::V6(*a)));
        if let Some(dst) = dst {
            let mut probes: Vec<Probe> = vec![];
            let mut seen: Vec<Want> = vec![];
            for r in &eni.sg_ingress {
                let Some(src) = internet_source(&r.peer).filter(|s| s.is_ipv4() == dst.is_ipv4())
                else {
                    continue;
                };
                let w = Want::from_rule(r);
                if seen.contains(&w) || probes.len() == MAX_PROBES {
                    continue;
                }
                seen.push(w);
                probes.extend(probe(topo, w, src, dst, Origin::Internet));
            }
            if !probes.is_empty() {
                rows.push(ReachRow {
                    from: "internet".into(),
                    to: name(h),
                    probes,
                });
            }
        }
        // Out to the internet, from the primary address.
        let src = eni
            .primary_v4()
            .map(IpAddr::V4)
            .or_else(|| eni.ipv6.first().map(|a| IpAddr::V6(*a)));
        if let Some(src) = src {
            let dst = if src.is_ipv4() {
                IpAddr::V4(INTERNET_V4)
            } else {
                IpAddr::V6(INTERNET_V6)
            };
            let probes = wants(&eni.sg_egress, dst)
                .into_iter()
                .filter_map(|w| probe(topo, w, src, dst, Origin::Eni(h)))
                .collect();
            rows.push(ReachRow {
                from: name(h),
                to: "internet".into(),
                probes,
            });
        }
    }
    (rows, notes)
}

pub fn run(args: &ReportArgs) -> i32 {
    // Parse every flow before writing anything: a typo should not leave half a report.
    let mut headers = vec![];
    for f in &args.flows {
        match flowspec::parse(f) {
            Ok(h) => headers.push(h),
            Err(e) => {
                errln!("error: --flow {f:?}: {e}");
                return 2;
            }
        }
    }
    let Ok((loaded, topo)) = args.topology.topology() else {
        return 2;
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        errln!("error: creating {}: {e}", args.out.display());
        return 2;
    }
    let sources = html::sources(&args.topology.topology);
    let write = |name: &str, page: String| -> Result<(), i32> {
        let path = args.out.join(name);
        std::fs::write(&path, page).map_err(|e| {
            errln!("error: writing {}: {e}", path.display());
            2
        })
    };
    let notes = |v: &Verdict, hops: &[Hop], reply: bool| {
        let e = vpcsim_report::explain::explain(&topo, &loaded.model, v, hops, reply);
        html::explanation_notes(e.as_ref(), &loaded.model)
    };
    let mut links = vec![];
    for (i, (flow, header)) in args.flows.iter().zip(headers).enumerate() {
        let t = trace_exchange(&topo, StateConfig::default(), header, Origin::Auto);
        let href = format!("flow-{}.html", i + 1);
        let page = html::trace_page(
            &topo,
            &TracePage {
                flow,
                sources: &sources,
                forward: PathView {
                    verdict: &t.request,
                    hops: &t.request_trace.hops,
                    notes: notes(&t.request, &t.request_trace.hops, false),
                },
                ret: t.reply.as_ref().map(|(v, rt)| PathView {
                    verdict: v,
                    hops: &rt.hops,
                    notes: notes(v, &rt.hops, true),
                }),
                return_asked: true,
                index_href: Some("index.html"),
            },
        );
        if let Err(code) = write(&href, page) {
            return code;
        }
        let mut verdicts = vec![(
            html::verdict_class(&t.request),
            text::verdict_short(&topo, &t.request),
        )];
        if let Some((rv, _)) = &t.reply {
            verdicts.push((
                html::verdict_class(rv),
                format!("reply {}", text::verdict_short(&topo, rv)),
            ));
        }
        links.push(FlowLink {
            href,
            flow: flow.clone(),
            verdicts,
        });
    }
    let (reach, notes) = reachability(&topo, args.max_hosts);
    let index = html::report_index(
        &topo,
        &ReportPage {
            sources: &sources,
            flows: &links,
            reach: &reach,
            notes: &notes,
        },
    );
    if let Err(code) = write("index.html", index) {
        return code;
    }
    outln!(
        "wrote {} ({} reachability rows, {} flow page{})",
        args.out.join("index.html").display(),
        reach.len(),
        links.len(),
        if links.len() == 1 { "" } else { "s" }
    );
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internet_sources_avoid_private_blocks() {
        let n = |s: &str| s.parse::<IpNet>().unwrap();
        assert_eq!(
            internet_source(&n("0.0.0.0/0")),
            Some(IpAddr::V4(INTERNET_V4))
        );
        assert_eq!(
            internet_source(&n("203.0.113.0/24")),
            Some("203.0.113.1".parse().unwrap())
        );
        assert_eq!(internet_source(&n("10.0.0.0/16")), None);
        assert_eq!(internet_source(&n("100.64.0.0/10")), None);
        assert_eq!(internet_source(&n("::/0")), Some(IpAddr::V6(INTERNET_V6)));
        assert_eq!(internet_source(&n("fd00::/8")), None);
    }

    #[test]
    fn probe_specs_parse_as_flows() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let v6a: IpAddr = "2001:db8::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8::2".parse().unwrap();
        for (w, s, d) in [
            (
                Want {
                    proto: IpProtocol::TCP,
                    port: 8080,
                },
                a,
                b,
            ),
            (
                Want {
                    proto: IpProtocol::UDP,
                    port: 53,
                },
                v6a,
                v6b,
            ),
            (
                Want {
                    proto: IpProtocol::ICMP,
                    port: -1,
                },
                a,
                b,
            ),
            (
                Want {
                    proto: IpProtocol::ICMP,
                    port: 3,
                },
                a,
                b,
            ),
            (
                Want {
                    proto: IpProtocol::ICMPV6,
                    port: 128,
                },
                v6a,
                v6b,
            ),
            (
                Want {
                    proto: IpProtocol(47),
                    port: 0,
                },
                a,
                b,
            ),
        ] {
            let spec = w.spec(s, d);
            flowspec::parse(&spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        }
    }
}
