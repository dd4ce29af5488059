//! `vpcsim replay`: a capture through the topology, frame by frame.
//!
//! Outputs (DESIGN.md "Replay outputs"): `verdicts.jsonl`, `out/<Resource>.pcap` with the
//! rewritten frames as they leave at each exit or arrive at each interface, `flowlogs/<Resource>.log`
//! and `summary.json`.

use crate::capture::{CaptureReader, CaptureWriter};
use crate::fastfmt::{push_ip, push_ts, push_u64};
use crate::flowlog::FlowLogs;
use crate::topo::{StateArgs, TopologyArgs};
use clap::Args;
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::json;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use vpcsim_dataplane::flow::{FlowKey, Header};
use vpcsim_dataplane::packet::{self, LinkType, ParseError, Rewrite};
use vpcsim_dataplane::{
    process, Disposition, DropReason, NoTrace, ResId, State, Topology, Verdict,
};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim replay -t examples/two-tier.yaml --in captures/two-tier.pcap --out out/
  vpcsim replay -t examples/two-tier.yaml --in capture.pcapng --out out/ --at WebInstance --stats

Each frame starts at the interface that owns its source address, or arrives from the internet when
no interface does (--at overrides). Frames that are not IP are counted as UNSUPPORTED, broken ones
as MALFORMED; nothing is skipped silently: the disposition counts add up to the frames read.")]
pub struct ReplayArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Capture to replay (pcap or pcapng; Ethernet, raw IP, Linux SLL/SLL2, BSD loopback; VLAN tags are stripped).
    #[arg(long = "in", short = 'i', value_name = "CAPTURE")]
    pub input: PathBuf,
    /// Directory for the outputs (created if missing; existing output files are replaced).
    #[arg(long = "out", short = 'o', value_name = "DIR")]
    pub out: PathBuf,
    /// Where the capture was taken: every frame starts at this instance or interface (logical id or
    /// AWS id), or `internet`.
    #[arg(long, value_name = "RESOURCE")]
    pub at: Option<String>,
    /// Print packets, Mpps and per-reason counters when done.
    #[arg(long)]
    pub stats: bool,
    /// Do not write verdicts.jsonl (the other outputs are still written).
    #[arg(long)]
    pub no_verdicts: bool,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub state: StateArgs,
}

/// What happened to every frame, by disposition and reason.
#[derive(Default)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
    pub dispositions: [u64; 3],
    pub reasons: [u64; DropReason::COUNT],
}

impl Counters {
    fn count(&mut self, d: Disposition, reason: Option<DropReason>) {
        self.dispositions[d as usize] += 1;
        if let Some(r) = reason {
            self.reasons[r as usize] += 1;
        }
    }
}

/// JSON-escaped resource names, computed once so writing a verdict line formats no strings.
fn json_names(topo: &Topology) -> Vec<String> {
    topo.resources
        .iter()
        .map(|r| serde_json::to_string(&r.logical_id).unwrap_or_else(|_| "\"?\"".into()))
        .collect()
}

fn write_packet(buf: &mut Vec<u8>, h: &Header) {
    buf.extend_from_slice(b"{\"protocol\":\"");
    match h.proto {
        6 => buf.extend_from_slice(b"tcp"),
        17 => buf.extend_from_slice(b"udp"),
        1 => buf.extend_from_slice(b"icmp"),
        58 => buf.extend_from_slice(b"icmpv6"),
        n => push_u64(buf, n as u64),
    }
    buf.extend_from_slice(b"\",\"src\":\"");
    push_ip(buf, h.src);
    buf.extend_from_slice(b"\",\"dst\":\"");
    push_ip(buf, h.dst);
    buf.push(b'"');
    if h.has_ports() {
        buf.extend_from_slice(b",\"src_port\":");
        push_u64(buf, h.src_port as u64);
        buf.extend_from_slice(b",\"dst_port\":");
        push_u64(buf, h.dst_port as u64);
    } else if h.is_icmp() {
        buf.extend_from_slice(b",\"icmp_type\":");
        push_u64(buf, h.icmp_type as u64);
        buf.extend_from_slice(b",\"icmp_code\":");
        push_u64(buf, h.icmp_code as u64);
    }
    buf.push(b'}');
}

/// One line of verdicts.jsonl, written by hand: this runs once per frame.
fn write_verdict_line(
    buf: &mut Vec<u8>,
    names: &[String],
    frame: u64,
    ts_ns: u64,
    v: Option<&Verdict>,
    failure: Option<(DropReason, &str)>,
) {
    buf.extend_from_slice(b"{\"frame\":");
    push_u64(buf, frame);
    buf.extend_from_slice(b",\"ts\":");
    push_ts(buf, ts_ns);
    match (v, failure) {
        (Some(v), _) => {
            buf.extend_from_slice(b",\"disposition\":\"");
            buf.extend_from_slice(v.disposition.as_str().as_bytes());
            buf.extend_from_slice(b"\",\"reason\":");
            match v.reason {
                Some(r) => {
                    buf.push(b'"');
                    buf.extend_from_slice(r.as_str().as_bytes());
                    buf.push(b'"');
                }
                None => buf.extend_from_slice(b"null"),
            }
            buf.extend_from_slice(b",\"at\":");
            buf.extend_from_slice(names[v.at.0 as usize].as_bytes());
            if let Some(d) = v.delivered_to {
                buf.extend_from_slice(b",\"delivered_to\":");
                buf.extend_from_slice(names[d.0 as usize].as_bytes());
            }
            if let Some(e) = v.egress {
                buf.extend_from_slice(b",\"egress\":");
                buf.extend_from_slice(names[e.0 as usize].as_bytes());
            }
            buf.extend_from_slice(b",\"packet\":");
            write_packet(buf, &v.header);
        }
        (None, Some((reason, detail))) => {
            let _ = write!(
                buf,
                ",\"disposition\":\"DROPPED\",\"reason\":\"{}\",\"at\":\"internet\",\"detail\":\"{detail}\",\"packet\":null",
                reason.as_str()
            );
        }
        (None, None) => buf.extend_from_slice(b",\"packet\":null"),
    }
    buf.extend_from_slice(b"}\n");
}

/// File name for a resource's output: its logical id, made safe for any file system.
fn file_name(topo: &Topology, r: ResId, ext: &str) -> String {
    let name: String = topo
        .name(r)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}.{ext}")
}

const ROUTER_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01];
const INTERNET_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x00, 0xfe];

fn create_dir(p: &Path) -> Result<(), String> {
    std::fs::create_dir_all(p).map_err(|e| format!("{}: cannot create directory: {e}", p.display()))
}

pub fn run(args: &ReplayArgs) -> i32 {
    match replay(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn replay(args: &ReplayArgs) -> Result<(), String> {
    let Ok((loaded, topo)) = args.topology.topology() else {
        return Err("cannot replay: the topology did not load".into());
    };
    let origin =
        crate::trace::origin(&topo, args.at.as_deref()).map_err(|e| e.replace("--from", "--at"))?;
    let mut reader = CaptureReader::open(&args.input).map_err(|e| e.to_string())?;
    let link_type = reader.link_type();
    create_dir(&args.out)?;
    create_dir(&args.out.join("out"))?;
    create_dir(&args.out.join("flowlogs"))?;
    let verdicts_path = args.out.join("verdicts.jsonl");
    let mut verdicts: Option<BufWriter<File>> = if args.no_verdicts {
        None
    } else {
        let f = File::create(&verdicts_path)
            .map_err(|e| format!("{}: {e}", verdicts_path.display()))?;
        Some(BufWriter::with_capacity(1 << 20, f))
    };
    let names = json_names(&topo);
    let mut writers: FxHashMap<ResId, CaptureWriter> = FxHashMap::default();
    let mut flowlogs = FlowLogs::default();
    let mut flows: FxHashSet<FlowKey> = FxHashSet::default();
    let mut state = State::new(args.state.config());
    let mut c = Counters::default();
    let mut line = Vec::with_capacity(512);
    let mut scratch: Vec<u8> = Vec::with_capacity(65_536);
    let mut framed: Vec<u8> = Vec::with_capacity(65_536);
    let mut read_error = None;
    let progress = (!args.quiet && std::io::stderr().is_terminal() && reader.len() > 16 << 20)
        .then(|| {
            let pb = indicatif::ProgressBar::new(reader.len());
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            pb
        });
    let started = Instant::now();
    loop {
        if let Some(pb) = &progress {
            if c.packets % 65_536 == 0 {
                pb.set_position(reader.position());
            }
        }
        let frame = match reader.next_frame() {
            None => break,
            Some(Err(e)) => {
                read_error = Some(e.to_string());
                break;
            }
            Some(Ok(f)) => f,
        };
        c.packets += 1;
        c.bytes += frame.data.len() as u64;
        let ts = frame.ts;
        let meta = match packet::parse(frame.link, frame.data) {
            Ok(m) => m,
            Err(e) => {
                let (reason, detail) = match e {
                    ParseError::Unsupported(d) => (DropReason::Unsupported, d),
                    ParseError::Malformed(d) => (DropReason::Malformed, d),
                };
                c.count(Disposition::Dropped, Some(reason));
                if let Some(w) = verdicts.as_mut() {
                    line.clear();
                    write_verdict_line(
                        &mut line,
                        &names,
                        c.packets,
                        ts.0,
                        None,
                        Some((reason, detail)),
                    );
                    w.write_all(&line).map_err(|e| e.to_string())?;
                }
                continue;
            }
        };
        let v = process(&topo, &mut state, &meta, origin, ts, &mut NoTrace);
        c.count(v.disposition, v.reason);
        flows.insert(FlowKey::of(&Header::from_meta(&meta)).0);
        for obs in v.observations() {
            flowlogs.add(&topo, obs, ts, obs.header.len as u64);
        }
        if v.disposition != Disposition::Dropped {
            let endpoint = v.delivered_to.or(v.egress).unwrap_or(v.at);
            if endpoint != Topology::AMAZON_DNS
                && endpoint != Topology::IMDS
                && endpoint != Topology::TIME_SYNC
            {
                let new = Rewrite {
                    src: v.header.src,
                    dst: v.header.dst,
                    src_port: v.header.src_port,
                    dst_port: v.header.dst_port,
                    ttl: v.header.ttl,
                };
                let unchanged = new.src == meta.src
                    && new.dst == meta.dst
                    && new.src_port == meta.src_port
                    && new.dst_port == meta.dst_port
                    && new.ttl == meta.ttl;
                let bytes: &[u8] = if unchanged {
                    frame.data
                } else {
                    scratch.clear();
                    scratch.extend_from_slice(frame.data);
                    packet::rewrite(&mut scratch, &meta, &new);
                    &scratch
                };
                let dst_mac = v
                    .delivered_eni
                    .map(|e| topo.enis[e as usize].mac)
                    .unwrap_or(INTERNET_MAC);
                framed.clear();
                packet::to_ethernet(bytes, &meta, ROUTER_MAC, dst_mac, &mut framed);
                let w = match writers.entry(endpoint) {
                    std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        let path = args
                            .out
                            .join("out")
                            .join(file_name(&topo, endpoint, "pcap"));
                        slot.insert(
                            CaptureWriter::create(&path, LinkType::Ethernet)
                                .map_err(|e| e.to_string())?,
                        )
                    }
                };
                let orig =
                    framed.len() as u32 + frame.orig_len.saturating_sub(frame.data.len() as u32);
                w.write(ts, &framed, orig).map_err(|e| e.to_string())?;
            }
        }
        if let Some(w) = verdicts.as_mut() {
            line.clear();
            write_verdict_line(&mut line, &names, c.packets, ts.0, Some(&v), None);
            w.write_all(&line).map_err(|e| e.to_string())?;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    if let Some(mut w) = verdicts {
        w.flush()
            .map_err(|e| format!("{}: {e}", verdicts_path.display()))?;
    }
    for (_, w) in writers {
        w.finish().map_err(|e| e.to_string())?;
    }
    let account = loaded
        .model
        .templates
        .first()
        .map(|t| t.account_id.clone())
        .unwrap_or_else(|| args.topology.account_id.clone());
    let flowlog_dir = args.out.join("flowlogs");
    flowlogs
        .write(&topo, &account, |eni| {
            let owner = topo.enis[eni as usize].owner;
            let path = flowlog_dir.join(file_name(&topo, owner, "log"));
            let f = File::create(&path)?;
            Ok(Box::new(BufWriter::new(f)) as Box<dyn Write>)
        })
        .map_err(|e| format!("{}: {e}", flowlog_dir.display()))?;
    let pps = if elapsed > 0.0 {
        c.packets as f64 / elapsed
    } else {
        0.0
    };
    let summary = json!({
        "input": args.input,
        "link_type": link_type.map(|l| l.pcap_value()),
        "packets": c.packets,
        "bytes": c.bytes,
        "flows": flows.len(),
        "elapsed_s": elapsed,
        "pps": pps,
        "dispositions": Disposition::ALL.iter().map(|d| (d.as_str().to_string(), json!(c.dispositions[*d as usize]))).collect::<serde_json::Map<_, _>>(),
        "reasons": DropReason::ALL.iter().filter(|r| c.reasons[**r as usize] > 0).map(|r| (r.as_str().to_string(), json!(c.reasons[*r as usize]))).collect::<serde_json::Map<_, _>>(),
        "nat_gateway": {
            "ErrorPortAllocation": state.nat.metrics.error_port_allocation,
            "IdleTimeoutCount": state.nat.metrics.idle_timeout_count,
            "ConnectionAttemptCount": state.nat.metrics.connection_attempt_count,
        },
        "read_error": read_error,
    });
    let summary_path = args.out.join("summary.json");
    std::fs::write(
        &summary_path,
        serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n",
    )
    .map_err(|e| format!("{}: {e}", summary_path.display()))?;
    print_summary(args, &c, flows.len(), elapsed);
    if let Some(e) = read_error {
        eprintln!(
            "warning: the capture ends with a corrupt record after frame {}: {e}",
            c.packets
        );
    }
    Ok(())
}

fn print_summary(args: &ReplayArgs, c: &Counters, flows: usize, elapsed: f64) {
    let mut out = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(
        out,
        "replayed {} frames ({} bytes, {flows} flows) from {}",
        c.packets,
        c.bytes,
        args.input.display()
    );
    for d in Disposition::ALL {
        let _ = writeln!(
            out,
            "  {:<10} {:>10}",
            d.as_str(),
            c.dispositions[d as usize]
        );
    }
    let mut reasons: Vec<(DropReason, u64)> = DropReason::ALL
        .iter()
        .map(|r| (*r, c.reasons[*r as usize]))
        .filter(|(_, n)| *n > 0)
        .collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    for (r, n) in &reasons {
        let _ = writeln!(out, "    {:<24} {:>10}", r.as_str(), n);
    }
    if args.stats {
        let mpps = if elapsed > 0.0 {
            c.packets as f64 / elapsed / 1e6
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "elapsed {elapsed:.3} s, {mpps:.3} Mpps (pcap in to all outputs, one thread)"
        );
    }
    let _ = writeln!(
        out,
        "outputs in {}: verdicts.jsonl, out/*.pcap, flowlogs/*.log, summary.json",
        args.out.display()
    );
    print!("{out}");
}
