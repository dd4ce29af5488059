//! `vpcsim trace`: one packet, every hop.

use crate::report;
use crate::topo::{StateArgs, TopologyArgs};
use clap::{Args, ValueEnum};
use serde_json::json;
use vpcsim_dataplane::packet::Frag;
use vpcsim_dataplane::pipeline::Origin;
use vpcsim_dataplane::{process_header, Disposition, State, Timestamp, Topology, Trace};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim trace -t examples/two-tier.yaml 'tcp 10.0.1.20:40000 -> 198.51.100.7:443'
  vpcsim trace -t examples/two-tier.yaml 'tcp 192.0.2.9:50000 -> 198.18.0.3:443' --return
  vpcsim trace -t examples/two-tier.yaml 'udp 10.0.2.30:45000 -> 8.8.8.8:53' --json
  vpcsim trace -t examples/two-tier.yaml 'tcp 10.0.2.30:40000 -> 10.0.3.4:22' --expect dropped

Exit codes: 0 ok (or --expect met), 1 --expect not met, 2 bad input.")]
pub struct TraceArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// The packet: `PROTO SRC[:PORT] -> DST[:PORT]`, PROTO tcp, udp, icmp [type T code C], icmpv6
    /// or a protocol number; IPv6 as `[2001:db8::1]:443`; optionally `ttl N` at the end.
    #[arg(value_name = "FLOW")]
    pub flow: String,
    /// Where the packet starts: a logical id or AWS id of an instance or interface, or `internet`.
    /// Default: the interface that owns the source address, else the internet.
    #[arg(long, value_name = "RESOURCE")]
    pub from: Option<String>,
    /// Also trace the reply, through the state the first packet created.
    #[arg(long = "return")]
    pub with_return: bool,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Exit 1 unless the packet (and its reply, with --return) ends this way.
    #[arg(long, value_enum)]
    pub expect: Option<Expect>,
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
    fn matches(self, d: Disposition) -> bool {
        matches!(
            (self, d),
            (Expect::Delivered, Disposition::Delivered)
                | (Expect::Exited, Disposition::Exited)
                | (Expect::Dropped, Disposition::Dropped)
        )
    }
}

/// Resolve `--from` to an origin.
pub fn origin(topo: &Topology, from: Option<&str>) -> Result<Origin, String> {
    let Some(from) = from else {
        return Ok(Origin::Auto);
    };
    if from.eq_ignore_ascii_case("internet") {
        return Ok(Origin::Internet);
    }
    let r = topo
        .find_resource(from)
        .ok_or_else(|| format!("--from {from}: no resource with that logical id or AWS id"))?;
    topo.eni_by_resource(r).map(Origin::Eni).ok_or_else(|| {
        format!(
            "--from {from}: {} is not an instance or network interface",
            topo.resource(r).kind
        )
    })
}

pub fn run(args: &TraceArgs) -> i32 {
    let header = match crate::flowspec::parse(&args.flow) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let Ok((_, topo)) = args.topology.topology() else {
        return 2;
    };
    let origin = match origin(&topo, args.from.as_deref()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let mut state = State::new(args.state.config());
    let now = Timestamp::from_secs(1_700_000_000);
    let mut trace = Trace::default();
    let v = process_header(
        &topo,
        &mut state,
        header,
        Frag::None,
        origin,
        now,
        &mut trace,
    );
    let mut ok = args.expect.is_none_or(|e| e.matches(v.disposition));
    let mut reply = None;
    if args.with_return && v.disposition != Disposition::Dropped {
        let back_origin = match v.delivered_eni {
            Some(e) => Origin::Eni(e),
            None => Origin::Internet,
        };
        let mut rtrace = Trace::default();
        let rv = process_header(
            &topo,
            &mut state,
            v.header.reply(),
            Frag::None,
            back_origin,
            Timestamp(now.0 + 1_000_000),
            &mut rtrace,
        );
        ok &= args.expect.is_none_or(|e| e.matches(rv.disposition));
        reply = Some((rv, rtrace));
    }
    if args.json {
        let mut out = report::trace_json(&topo, &v, &trace.hops);
        if let Some((rv, rt)) = &reply {
            out["return"] = report::trace_json(&topo, rv, &rt.hops);
        } else if args.with_return {
            out["return"] = json!(null);
        }
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        print!("{}", report::trace_text(&topo, &v, &trace.hops));
        if let Some((rv, rt)) = &reply {
            println!("\nreturn path:");
            print!("{}", report::trace_text(&topo, rv, &rt.hops));
        } else if args.with_return {
            println!("\nreturn path: none (the packet was dropped)");
        }
    }
    if ok {
        0
    } else {
        1
    }
}
