//! `vpcsim trace`: one packet, every hop.

use super::app_layer;
use super::args::{origin, StateArgs, TopologyArgs};
use super::flowspec;
use super::hosts::HostsArgs;
use super::stdio::{errln, out, outln};
use clap::{Args, ValueEnum};
use serde_json::json;
use vpcsim_controlplane::{compile, Model};
use vpcsim_dataplane::alb::hosts::Hosts;
use vpcsim_dataplane::pipeline::exchange::{exchange, Exchange};
use vpcsim_dataplane::pipeline::Origin;
use vpcsim_dataplane::trace::Hop;
use vpcsim_dataplane::wire::Header;
use vpcsim_dataplane::{
    Disposition, DropReason, State, StateConfig, Timestamp, Topology, Trace, Verdict,
};
use vpcsim_report::explain;
use vpcsim_report::{html, json, text};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim trace -t examples/two-tier.yaml 'tcp 10.0.1.20:40000 -> 198.51.100.7:443'
  vpcsim trace -t examples/two-tier.yaml 'tcp 192.0.2.9:50000 -> 198.18.0.3:443' --return
  vpcsim trace -t examples/two-tier.yaml 'udp 10.0.2.30:45000 -> 8.8.8.8:53' --json
  vpcsim trace -t examples/two-tier.yaml 'tcp 10.0.2.30:40000 -> 10.0.3.4:22' --expect dropped
  vpcsim trace -t examples/two-tier.yaml 'icmp 10.0.2.30 -> 8.8.8.8' --return --html trace.html
  vpcsim trace --endpoint http://127.0.0.1:4566 'tcp 10.0.1.20:40000 -> 10.0.2.30:5432'

Exit codes: 0 ok (or --expect met), 1 --expect not met, 2 bad input.")]
#[command(mut_arg("topology", |a| a.required(false).required_unless_present("endpoint")))]
pub struct TraceArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Ask a running `vpcsim serve` at URL (`http://127.0.0.1:4566`) to trace the packet
    /// through the network of --region, and print its JSON answer (what --json prints).
    #[arg(long, value_name = "URL", conflicts_with_all = ["html", "fixes", "with_return", "sni", "http"])]
    pub endpoint: Option<String>,
    /// The packet: `PROTO SRC[:PORT] -> DST[:PORT]`, PROTO tcp, udp, icmp [type T code C], icmpv6
    /// or a protocol number; IPv6 as `[2001:db8::1]:443`; optionally `ttl N` at the end.
    #[arg(value_name = "FLOW")]
    pub flow: String,
    /// Where the packet starts: a logical id or AWS id of an instance or interface, a customer
    /// gateway or VPN connection (on-premises), a transit gateway attachment, or `internet`.
    /// Default: the interface that owns the source address, else the VPN whose on-premises
    /// prefixes hold it, else the internet.
    #[arg(long, value_name = "RESOURCE")]
    pub from: Option<String>,
    /// Also trace the reply, through the state the first packet created.
    #[arg(long = "return")]
    pub with_return: bool,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also print the sequence of changes (security-group and NACL rules, routes, Elastic IPs,
    /// source/destination checks) that would let the packet (and its reply) through, each one
    /// applied and traced again.
    #[arg(long)]
    pub fixes: bool,
    /// Also write the trace as a self-contained HTML page: the topology map with the path (and
    /// the reply's, with --return) drawn across it, every hop clickable for its rule and detail.
    /// `-` prints the page on standard output instead of the trace (not with --json).
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
    /// Exit 1 unless the packet (and its reply, with --return) ends this way.
    #[arg(long, value_enum)]
    pub expect: Option<Expect>,
    /// The packet is a TLS ClientHello for server name NAME (AWS Network Firewall domain lists
    /// and `tls.sni` rules see it).
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// An HTTP request on the traced TCP connection, `'GET /api/users'`: AWS Network Firewall
    /// `http` rules see it on the way, the Application Load Balancer the connection reaches
    /// evaluates it (its rules, then its own connection to a target), or the host it reaches
    /// answers it (`--hosts`).
    #[arg(long, value_name = "REQUEST")]
    pub http: Option<String>,
    /// A header of that HTTP request, `'Host: shop.example.com'` (repeatable); `Host` is also
    /// what Network Firewall domain lists and `http.host` rules match.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// A CIDR→country file (`CIDR,CC` per line) for AWS WAF geo match statements; without it
    /// they are reported as not evaluated.
    #[arg(long, value_name = "FILE", requires = "http")]
    pub geo_countries: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub hosts: HostsArgs,
    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Expect {
    Delivered,
    Exited,
    Dropped,
}

impl Expect {
    fn as_str(self) -> &'static str {
        match self {
            Expect::Delivered => "delivered",
            Expect::Exited => "exited",
            Expect::Dropped => "dropped",
        }
    }

    fn matches(self, d: Disposition) -> bool {
        matches!(
            (self, d),
            (Expect::Delivered, Disposition::Delivered)
                | (Expect::Exited, Disposition::Exited)
                | (Expect::Dropped, Disposition::Dropped)
        )
    }
}

/// When a trace happens: any fixed instant, so the same question always gets the same answer.
const TRACE_TIME: Timestamp = Timestamp::from_secs(1_700_000_000);

/// A packet and its reply from a fresh state, traced hop by hop: what `trace --return` and each
/// flow of `vpcsim report` show.
pub fn trace_exchange(
    topo: &Topology,
    config: StateConfig,
    header: Header,
    origin: Origin,
) -> Exchange<Trace> {
    exchange(topo, &mut State::new(config), header, origin, TRACE_TIME)
}

/// One trace; the reply is kept only with `--return`, so that `--expect`, `--fixes` and the
/// output look at it only when asked.
fn trace_once(
    topo: &Topology,
    args: &TraceArgs,
    header: Header,
    origin: Origin,
    hosts: &Hosts,
) -> Exchange<Trace> {
    let mut state = State::new(args.state.config());
    let app = app_layer::from_args(args.sni.as_deref(), args.http.as_deref(), &args.headers)
        .unwrap_or_default();
    let mut t = match app_layer::handshake(topo, &mut state, header, origin, TRACE_TIME, &app) {
        Some(failed) => failed,
        None => {
            state.firewall.app = app;
            exchange(topo, &mut state, header, origin, TRACE_TIME)
        }
    };
    // A closed port refuses the connection: there is no reply to trace.
    if hosts.refuse(topo, &mut t.request, &mut t.request_trace) {
        t.reply = None;
    }
    if !args.with_return {
        t.reply = None;
    }
    t
}

/// The first drop of a trace (the request's, else the reply's) with its hops, and whether it
/// is the reply's.
fn first_drop(t: &Exchange<Trace>) -> Option<(&Verdict, &[Hop], bool)> {
    if t.request.disposition == Disposition::Dropped {
        return Some((&t.request, &t.request_trace.hops, false));
    }
    match &t.reply {
        Some((rv, rt)) if rv.disposition == Disposition::Dropped => Some((rv, &rt.hops, true)),
        _ => None,
    }
}

/// `--fixes`: apply suggested changes one after another, each traced again, until the packet
/// (and its reply) gets through or no change is left to suggest.
fn fix_sequence(
    args: &TraceArgs,
    header: Header,
    mut model: Model,
) -> (Vec<String>, Option<Exchange<Trace>>, Topology) {
    let mut steps = Vec::new();
    for _ in 0..8 {
        let topo = compile(&model);
        let Ok(origin) = origin(&topo, args.from.as_deref()) else {
            return (steps, None, topo);
        };
        let hosts = args.hosts.load(&topo).unwrap_or_default();
        let t = trace_once(&topo, args, header, origin, &hosts);
        let Some((v, hops, is_reply)) = first_drop(&t) else {
            return (steps, Some(t), topo);
        };
        let Some(change) = explain::explain(&topo, &model, v, hops, is_reply).and_then(|e| e.fix)
        else {
            return (steps, Some(t), topo);
        };
        steps.push(change.describe(&model));
        change.apply(&mut model);
    }
    let topo = compile(&model);
    (steps, None, topo)
}

pub fn run(args: &TraceArgs) -> i32 {
    if let Some(endpoint) = &args.endpoint {
        return remote(args, endpoint);
    }
    match run_local(args) {
        Ok(code) => code,
        Err(e) => {
            errln!("error: {e}");
            2
        }
    }
}

/// The trace on a topology loaded here: its exit code, or the error that keeps it from running.
fn run_local(args: &TraceArgs) -> Result<i32, String> {
    super::dash::one_stdout(args.json, args.html.as_deref())?;
    // A destination given as a name is resolved once the topology is loaded.
    let name_dst = flowspec::destination_name(&args.flow);
    let spec = name_dst
        .as_ref()
        .map_or(args.flow.as_str(), |(_, s)| s.as_str());
    let mut header = flowspec::parse(spec).and_then(|h| {
        let app = app_layer::from_args(args.sni.as_deref(), args.http.as_deref(), &args.headers)?;
        app_layer::carrying(&app, h)
    })?;
    let Ok((loaded, mut topo)) = args.topology.topology() else {
        return Ok(2);
    };
    let (request, hosts) =
        super::alb::prepare(args.http.as_deref(), &args.headers, &args.hosts, &mut topo)?;
    let countries = super::alb::countries(args.geo_countries.as_deref())?;
    let topo = topo;
    let origin = origin(&topo, args.from.as_deref())?;
    let dns_hop = name_dst
        .as_ref()
        .map(|(name, _)| super::dns::resolve_destination(&topo, origin, &mut header, name))
        .transpose()?;
    let mut t = trace_once(&topo, args, header, origin, &hosts);
    if let Some(hop) = dns_hop {
        t.request_trace.hops.insert(0, hop);
    }
    let http = request.as_ref().map(|r| {
        let ctx = super::alb::HttpContext {
            hosts: &hosts,
            countries: countries.as_ref(),
            config: args.state.config(),
        };
        super::alb::http_trace(&topo, &ctx, &mut t, r, TRACE_TIME)
    });
    let t = t;
    let v = &t.request;
    let mut ok = args.expect.is_none_or(|e| e.matches(v.disposition));
    if let Some((rv, _)) = &t.reply {
        ok &= args.expect.is_none_or(|e| e.matches(rv.disposition));
    }
    let model = &loaded.model;
    let explanation = explain::explain(&topo, model, v, &t.request_trace.hops, false);
    let reply_explanation = t
        .reply
        .as_ref()
        .and_then(|(rv, rt)| explain::explain(&topo, model, rv, &rt.hops, true));
    let asymmetry = t.reply.as_ref().and_then(|(rv, rt)| {
        explain::asymmetry(&topo, &header, &t.request_trace.hops, rv, &rt.hops)
    });
    let fixes =
        // A web ACL's block is not a packet drop a re-trace could verify a change against.
        (args.fixes && first_drop(&t).is_some_and(|(v, ..)| v.reason != Some(DropReason::WafBlocked)))
            .then(|| fix_sequence(args, header, model.clone()));
    if let Some(path) = &args.html {
        let page = html::trace_page(
            &topo,
            &html::TracePage {
                flow: &args.flow,
                sources: &html::sources(&args.topology.topology),
                forward: html::PathView {
                    verdict: v,
                    hops: &t.request_trace.hops,
                    notes: html::explanation_notes(explanation.as_ref(), model),
                },
                ret: t.reply.as_ref().map(|(rv, rt)| html::PathView {
                    verdict: rv,
                    hops: &rt.hops,
                    notes: html::explanation_notes(reply_explanation.as_ref(), model),
                }),
                return_asked: args.with_return,
                index_href: None,
            },
        );
        if super::dash::is_dash(path) {
            // Standard output holds the page alone, for a pipe or a redirect.
            out!("{page}");
            return Ok(if ok { 0 } else { 1 });
        }
        std::fs::write(path, page).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    if args.json {
        let mut out = json::trace_json(&topo, v, &t.request_trace.hops);
        if let Some(h) = &http {
            out["http"] = h.clone();
        }
        if let Some(e) = &explanation {
            out["explanation"] = e.to_json(model);
        }
        if let Some((rv, rt)) = &t.reply {
            let mut r = json::trace_json(&topo, rv, &rt.hops);
            r["explanation"] = json!(reply_explanation.as_ref().map(|e| e.to_json(model)));
            out["return"] = r;
        } else if args.with_return {
            out["return"] = json!(null);
        }
        if let Some(a) = &asymmetry {
            out["asymmetric"] = a.clone();
        }
        if let Some((steps, after, ftopo)) = &fixes {
            out["fixes"] = json!({
                "changes": steps,
                "then": after.as_ref().map(|a| a.request.disposition.as_str()),
                "then_return": after.as_ref().and_then(|a| a.reply.as_ref()).map(|(rv, _)| rv.disposition.as_str()),
                "final": after.as_ref().map(|a| text::final_line(ftopo, first_drop(a).map_or(&a.request, |d| d.0))),
            });
        }
        json::complete_trace_keys(&mut out);
        outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        out!("{}", text::trace_text(&topo, v, &t.request_trace.hops));
        if let Some(h) = &http {
            super::alb::print_http(h);
        }
        print_explanation(explanation.as_ref(), model);
        if let Some((rv, rt)) = &t.reply {
            outln!("\nreturn path:");
            out!("{}", text::trace_text(&topo, rv, &rt.hops));
            print_explanation(reply_explanation.as_ref(), model);
        } else if args.with_return {
            match text::answered_on_host(&topo, v) {
                Some(answer) => outln!("\nreturn path: {answer}"),
                None => outln!("\nreturn path: none (the packet was dropped)"),
            }
        }
        if let Some(a) = &asymmetry {
            outln!("\nasymmetric path:");
            for n in a["notes"].as_array().into_iter().flatten() {
                outln!("  {}", n.as_str().unwrap_or_default());
            }
        }
        if let Some((steps, after, ftopo)) = &fixes {
            outln!("\nchanges that let it through:");
            for (i, s) in steps.iter().enumerate() {
                outln!("  {}. {s}", i + 1);
            }
            match after {
                Some(a) => {
                    let end = first_drop(a).map_or(&a.request, |d| d.0);
                    outln!("  then: {}", text::final_line(ftopo, end));
                }
                None => outln!("  then: still dropped after 8 changes"),
            }
        }
    }
    Ok(if ok { 0 } else { 1 })
}

/// `--endpoint`: a running `vpcsim serve` traces the packet; its JSON is printed as is.
fn remote(args: &TraceArgs, endpoint: &str) -> i32 {
    match super::serve::trace_remote(
        endpoint,
        &args.flow,
        args.from.as_deref(),
        &args.topology.region,
    ) {
        Ok(out) => {
            outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            let ok = args.expect.is_none_or(|e| {
                out["disposition"]
                    .as_str()
                    .is_some_and(|d| d.eq_ignore_ascii_case(e.as_str()))
            });
            if ok {
                0
            } else {
                1
            }
        }
        Err(e) => {
            errln!("error: {e}");
            2
        }
    }
}

fn print_explanation(e: Option<&explain::Explanation>, model: &Model) {
    let Some(e) = e else { return };
    outln!("  why: {} ({})", e.message, e.code);
    match (&e.fix, e.no_fix) {
        (Some(f), _) => outln!("  fix: {}", f.describe(model)),
        (None, Some(why)) => outln!("  fix: none — {why}"),
        (None, None) => {}
    }
}
