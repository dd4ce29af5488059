//! `vpcsim reach`: every packet at once, between two endpoints or between all of them.
//!
//! The answer comes from the symbolic walk of `vpcsim_dataplane::reach` (header space, not
//! sampled packets); this module picks the header set a question ranges over and prints the
//! parts the walk returns.

use super::args::{resolve_start, worker_threads, TopologyArgs};
use super::names;
use super::stdio::errln;
use clap::Args;
use vpcsim_dataplane::reach::{self, Family, Prepared, Start};
use vpcsim_dataplane::wire::IpProtocol;
use vpcsim_dataplane::Topology;
use vpcsim_report::reach::{family_name, matrix_json, matrix_text, reach_json, reach_text, Sides};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim reach -t examples/two-tier.yaml --from WebInstance --to AppInstanceA
  vpcsim reach -t examples/two-tier.yaml --from internet --to WebInstance --json
  vpcsim reach -t examples/two-tier.yaml --from AppInstanceA --to internet --protocol udp
  vpcsim reach -t examples/hub-and-spoke.yaml --from App --to Web
  vpcsim reach -t examples/vpn.yaml --from OfficeRouter --to App
  vpcsim reach -t examples/two-tier.yaml --matrix
  vpcsim reach -t examples/two-tier.yaml --matrix --ipv6 --json

What it answers: for every header at once (protocol, source and destination address, source and
destination port, ICMP type and code), whether a packet from --from gets to --to and whether its
reply gets back, and for every part that does not, the drop reason and the resource that decided.
The analysis is exact for the first packet of each flow and its reply on a fresh state (what
`vpcsim trace --return` shows one packet at a time); what depends on state a template does not
fix (the port a NAT gateway picks, the zone a transit gateway picks by flow hash when the zones
disagree) is listed as NOT ANALYSED, never guessed.

With --endpoint URL a running `vpcsim serve` answers on the live network of --region (printed
as JSON).

Exit codes: 0 ok, 2 bad input.")]
#[command(mut_arg("topology", |a| a.required(false).required_unless_present("endpoint")))]
pub struct ReachArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Ask a running `vpcsim serve` at URL (`http://127.0.0.1:4566`) about the network of
    /// --region; its JSON answer (what --json prints) is printed.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Where packets start: an instance or network interface (its own addresses are the
    /// sources), `internet` (every public address), a VPN connection or customer gateway (its
    /// on-premises prefixes) or a transit gateway attachment (any source).
    #[arg(long, value_name = "RESOURCE", required_unless_present = "matrix")]
    pub from: Option<String>,
    /// Where packets go: an instance or network interface (its private, IPv6 and public
    /// addresses), `internet` (public addresses the topology does not own), a VPN connection or
    /// customer gateway (its on-premises prefixes), or an address or CIDR. Default: anywhere.
    #[arg(long, value_name = "RESOURCE|CIDR")]
    pub to: Option<String>,
    /// Only this protocol: tcp, udp, icmp, icmpv6 or a number 0-255.
    #[arg(long, value_name = "PROTO")]
    pub protocol: Option<String>,
    /// IPv6 instead of IPv4 (the two families never mix).
    #[arg(long)]
    pub ipv6: bool,
    /// Every instance/interface pair and the internet in and out, instead of --from/--to.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub matrix: bool,
    /// Worker threads for --matrix (default: the machine's cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ReachArgs) -> i32 {
    if let Some(endpoint) = &args.endpoint {
        return super::serve_dataplane::reach_client(args, endpoint);
    }
    let Ok((_, topo)) = args.topology.topology() else {
        return 2;
    };
    match answer(&topo, &Question::of(args), args.json) {
        Ok(text) => {
            out(&text);
            0
        }
        Err(e) => {
            errln!("error: {e}");
            2
        }
    }
}

/// A reachability question, from the command line or `POST /_vpcsim/reach`.
#[derive(Debug, Default)]
pub(super) struct Question<'q> {
    pub(super) from: Option<&'q str>,
    pub(super) to: Option<&'q str>,
    pub(super) protocol: Option<&'q str>,
    pub(super) ipv6: bool,
    pub(super) matrix: bool,
    pub(super) threads: Option<usize>,
}

impl<'q> Question<'q> {
    fn of(args: &'q ReachArgs) -> Question<'q> {
        Question {
            from: args.from.as_deref(),
            to: args.to.as_deref(),
            protocol: args.protocol.as_deref(),
            ipv6: args.ipv6,
            matrix: args.matrix,
            threads: args.threads,
        }
    }
}

/// The answer as `vpcsim reach` prints it: tables, or JSON with `json`.
pub(super) fn answer(topo: &Topology, q: &Question, json: bool) -> Result<String, String> {
    let fam = if q.ipv6 { Family::V6 } else { Family::V4 };
    let prep = Prepared::new(topo);
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
    if q.matrix {
        let m = reach::matrix(&prep, fam, worker_threads(q.threads));
        return Ok(if json {
            pretty(&matrix_json(topo, &m))
        } else {
            matrix_text(topo, &m)
        });
    }
    let from = q.from.ok_or("--from is needed (or --matrix)")?;
    let start = resolve_start(topo, from)?;
    let dst = match q.to {
        None => vec![(0, fam.addr_max())],
        Some(to) => destinations(topo, to, fam)?,
    };
    let proto = q.protocol.map(parse_protocol).transpose()?;
    let src = reach::sources(topo, start, fam);
    let set = reach::with_addresses(&reach::protocol(fam, proto), &src, &dst);
    let summary = prep.analyse(start, fam, &set).summary();
    let to = q.to.unwrap_or("anywhere").to_string();
    if json {
        return Ok(pretty(&reach_json(topo, fam, from, &to, &summary)));
    }
    let label = |name: &str| match name {
        "internet" => "internet".to_string(),
        n => format!("({n})"),
    };
    let sides = Sides {
        src: (src.clone(), label(from)),
        dst: (dst.clone(), label(&to)),
    };
    Ok(reach_text(topo, fam, from, &to, &summary, &sides))
}

/// Write to stdout; see `stdio` for what happens when it fails.
pub fn out(text: &str) {
    super::stdio::out!("{text}");
}

fn parse_protocol(s: &str) -> Result<IpProtocol, String> {
    s.parse().map_err(|e| format!("--protocol {s}: {e}"))
}

/// `--to`: the destination addresses a question ranges over, sorted and disjoint.
fn destinations(topo: &Topology, to: &str, fam: Family) -> Result<Vec<(u128, u128)>, String> {
    let mut v: Vec<(u128, u128)> = Vec::new();
    if to.eq_ignore_ascii_case("internet") {
        return Ok(reach::sources(topo, Start::Internet, fam));
    }
    if let Ok(net) = to.parse::<ipnet::IpNet>() {
        return range_of(net, fam, to).map(|r| vec![r]);
    }
    if let Ok(a) = to.parse::<std::net::IpAddr>() {
        return range_of(ipnet::IpNet::from(a), fam, to).map(|r| vec![r]);
    }
    let r = match topo.find_resource(to) {
        Some(r) => r,
        None => {
            let (candidates, noun) = names::resources(topo, |r| {
                topo.eni_by_resource(r).is_some() || topo.vpn_connection_by_resource(r).is_some()
            });
            names::lookup(to, &candidates, &noun)
                .map_err(|e| format!("{e}; --to also takes `internet`, an address or a CIDR"))?
        }
    };
    if let Some(e) = topo.eni_by_resource(r) {
        let e = &topo.enis[e];
        match fam {
            Family::V4 => {
                for a in &e.private_v4 {
                    v.push((a.to_bits() as u128, a.to_bits() as u128));
                }
                for (_, p) in &e.public_v4 {
                    v.push((p.to_bits() as u128, p.to_bits() as u128));
                }
            }
            Family::V6 => v.extend(e.ipv6.iter().map(|a| (a.to_bits(), a.to_bits()))),
        }
    } else if let Some(c) = topo.vpn_connection_by_resource(r) {
        v = reach::sources(topo, Start::OnPrem(c), fam);
    } else {
        return Err(format!(
            "--to {to}: {} is not an instance, network interface, customer gateway or VPN connection",
            topo.resource(r).kind
        ));
    }
    if v.is_empty() {
        return Err(format!("--to {to}: it has no {} address", family_name(fam)));
    }
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

fn range_of(net: ipnet::IpNet, fam: Family, text: &str) -> Result<(u128, u128), String> {
    match (net, fam) {
        (ipnet::IpNet::V4(n), Family::V4) => Ok((
            n.network().to_bits() as u128,
            n.broadcast().to_bits() as u128,
        )),
        (ipnet::IpNet::V6(n), Family::V6) => Ok((n.network().to_bits(), n.broadcast().to_bits())),
        (ipnet::IpNet::V4(_), Family::V6) => Err(format!("--to {text}: an IPv4 range with --ipv6")),
        (ipnet::IpNet::V6(_), Family::V4) => {
            Err(format!("--to {text}: an IPv6 range needs --ipv6"))
        }
    }
}
