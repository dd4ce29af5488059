//! `vpcsim replay`: a capture through the topology, frame by frame.
//!
//! Outputs (DESIGN.md "Replay outputs"): `verdicts.jsonl`, `out/<Resource>.pcap` with the
//! rewritten frames as they leave at each exit or arrive at each interface, `flowlogs/<Resource>.log`
//! and `summary.json`.

use super::annotate::{Fate, Taps};
use super::args::{StateArgs, TopologyArgs};
use super::firewall_logs::FirewallLogs;
use super::outdir::{self, file_name, OutputFolder, FLOWLOG_DIR, PCAP_DIR, VERDICTS};
use super::replay_input::{FrameFilter, Inputs};
use super::stdio::{errln, out};
#[path = "replay_mirror.rs"]
mod mirror;
#[path = "replay_outputs.rs"]
pub(super) mod outputs;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use outputs::{Outputs, Written};
use rustc_hash::FxHashMap;
use serde_json::json;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;
use vpcsim_capture::{CaptureReader, CaptureWriter, Frame};
use vpcsim_dataplane::verdict::Observation;
use vpcsim_dataplane::wire::geneve::{self, Encapsulation};
use vpcsim_dataplane::wire::FlowKey;
use vpcsim_dataplane::wire::{self, Frag, IpProtocol, LinkType, Meta, ParseError, Rewrite};
use vpcsim_dataplane::{Disposition, DropReason, Origin, ResId, State, Timestamp, Topology};
use vpcsim_report::flowlog::{self, FlowLogTarget, FlowLogs};
use vpcsim_report::flowlog_format::FlowLogFormat;
use vpcsim_report::flows::FlowCount;
use vpcsim_report::json::{write_verdict_line, FrameVerdict, JsonNames, Outcome};
use vpcsim_report::summary::{Counters, FlowLogStats, ReplaySummary};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim replay -t examples/two-tier.yaml --in captures/two-tier.pcap --out out/
  vpcsim replay -t examples/two-tier.yaml --in capture.pcapng --out out/ --at WebInstance --stats

Each frame starts at the interface that owns its source address, or arrives from the internet when
no interface does (--at overrides). Frames that are not IP are counted as UNSUPPORTED, broken ones
as MALFORMED; nothing is skipped silently: the disposition counts add up to the frames read.

With --endpoint URL a running `vpcsim serve` replays the capture through the live network of
--region (its connection-tracking and NAT state included); --out then gets the summary.json and
verdicts.jsonl it answers.")]
#[command(mut_arg("topology", |a| a.required(false).required_unless_present("endpoint")))]
pub struct ReplayArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Ask a running `vpcsim serve` at URL (`http://127.0.0.1:4566`) to replay the capture
    /// (one file) through the network of --region.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Capture to replay (pcap or pcapng; Ethernet, raw IP, Linux SLL/SLL2, BSD loopback; VLAN tags are stripped).
    /// `-` reads it from standard input. Repeat for a rotated capture set: the files are read
    /// one after another, in the order given, as one capture.
    #[arg(long = "in", short = 'i', value_name = "CAPTURE", required = true)]
    pub input: Vec<PathBuf>,
    #[command(flatten)]
    pub selection: super::replay_input::FrameSelection,
    /// Directory for the outputs (created if missing). The files the previous replay into it
    /// wrote are removed first (it lists them in `.vpcsim-manifest`); no other file is touched.
    #[arg(
        long = "out",
        short = 'o',
        value_name = "DIR",
        required_unless_present = "endpoint"
    )]
    pub out: Option<PathBuf>,
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
    /// Flow-log records held before they are written; past it every open record is written
    /// early (counted as `early_flushes` in summary.json), so memory does not grow with the
    /// number of flows.
    #[arg(long, default_value_t = flowlog::DEFAULT_CAPACITY, value_name = "N")]
    pub flowlog_capacity: usize,
    /// Flow log record format, AWS's `LogFormat`: `${field}` names of versions 2 to 7 separated
    /// by spaces, e.g. '${version} ${vpc-id} ${srcaddr} ${pkt-srcaddr} ${tcp-flags}'. Default:
    /// AWS's default (version 2) format.
    #[arg(long, value_name = "FORMAT", value_parser = FlowLogFormat::parse)]
    pub flow_log_format: Option<FlowLogFormat>,
    /// Flow log maximum aggregation interval in seconds: 60 or 600 (AWS's default).
    #[arg(long, value_name = "SECONDS", default_value_t = flowlog::DEFAULT_INTERVAL_S,
          value_parser = parse_interval)]
    pub flow_log_interval: u64,
    /// Where the flow logs go: `files` (flowlogs/<Resource>.log) or `s3`, gzipped files per VPC
    /// and 5-minute delivery, named and foldered as AWS delivers them to S3
    /// (AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/…log.gz).
    #[arg(long, value_name = "LAYOUT", value_enum, default_value_t)]
    pub flow_log_layout: super::flowlog_s3::FlowLogLayout,
    #[command(flatten)]
    pub wireshark: super::annotate::WiresharkArgs,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub hosts: super::hosts::HostsArgs,
    /// CIDR→country file for WAF geo-match statements (as `trace --geo-countries`).
    #[arg(long, value_name = "FILE")]
    pub geo_countries: Option<PathBuf>,
}

fn parse_interval(s: &str) -> Result<u64, String> {
    s.parse()
        .ok()
        .filter(|n| flowlog::INTERVALS_S.contains(n))
        .ok_or_else(|| format!("`{s}`: AWS offers 60 or 600 seconds"))
}

pub(super) const ROUTER_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01];
pub(super) const INTERNET_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x00, 0xfe];

impl ReplayArgs {
    /// `--out` (always given without --endpoint).
    pub(super) fn out_dir(&self) -> &std::path::Path {
        self.out.as_deref().unwrap_or(std::path::Path::new("."))
    }
}

pub fn run(args: &ReplayArgs) -> i32 {
    if let Some(endpoint) = &args.endpoint {
        return super::serve_dataplane::replay_client(args, endpoint);
    }
    match replay(args) {
        Ok(()) => 0,
        Err(e) => {
            errln!("error: {e}");
            2
        }
    }
}

/// One frame's outcome on its way to the output thread; the frame's bytes, when it leaves or
/// arrives somewhere, sit in the batch's arena.
pub(super) enum Item {
    Judged {
        frame: u64,
        ts: Timestamp,
        outcome: Outcome,
        meta: Meta,
        bytes: Option<(usize, usize)>,
        /// The frame leaves or arrives somewhere (not only seen by an appliance on the way).
        writes_frame: bool,
        /// The packet passed a Gateway Load Balancer appliance: index of how it was wrapped in
        /// the batch's `encapsulations` (the frame it received goes to the appliance's file).
        geneve: Option<u32>,
        orig_len: u32,
        /// Range of this frame's interface sightings in the batch's `observations`.
        observations: (u32, u32),
        /// More fields of its verdict line (`http`, `sent_by`), as JSON text starting with `,`.
        extra: Option<Box<str>>,
        /// Sent by a simulated host or node: its line goes to `simulated.jsonl`.
        simulated: bool,
    },
    /// A frame for a resource's capture only (what a load balancer sends its clients).
    Copy {
        to: ResId,
        ts: Timestamp,
        frame: Vec<u8>,
    },
    Unparsed {
        frame: u64,
        ts: Timestamp,
        reason: DropReason,
        detail: &'static str,
    },
    /// The VPC resolver's response to a query frame, for the asking interface's capture.
    DnsAnswer(super::replay_dns::DnsAnswer),
}

#[derive(Default)]
pub(super) struct Batch {
    pub(super) items: Vec<Item>,
    pub(super) arena: Vec<u8>,
    pub(super) observations: Vec<Observation>,
    pub(super) encapsulations: Vec<Encapsulation>,
}

const BATCH: usize = 2048;

fn replay(args: &ReplayArgs) -> Result<(), String> {
    let inputs = Inputs::new(&args.input, &args.topology.topology)?;
    let Ok((loaded, mut topo)) = args.topology.topology() else {
        return Err("cannot replay: the topology did not load".into());
    };
    let hosts = args.hosts.load(&topo)?;
    if args.hosts.hosts.is_some() {
        vpcsim_dataplane::alb::health::check(&mut topo, &hosts);
    }
    let account = loaded
        .model
        .templates
        .first()
        .map(|t| t.account_id.clone())
        .unwrap_or_else(|| args.topology.account_id.clone());
    let region = loaded
        .model
        .templates
        .first()
        .map(|t| t.region.clone())
        .unwrap_or_else(|| args.topology.region.clone());
    let network = Network {
        topo: &topo,
        hosts,
        account,
        region,
    };
    let done = replay_through(
        args,
        inputs,
        network,
        State::new(args.state.config()),
        Sinks::default(),
    )?;
    out!("{}", done.text);
    done.filter.print_left_out();
    // As tcpdump does: what was read is replayed and written, and the run still fails.
    match done.read_error {
        Some(e) => Err(format!(
            "corrupt capture after frame {n}: {e} (the outputs hold the {n} frames read before it)",
            n = done.frames_read
        )),
        None => Ok(()),
    }
}

/// The network a replay runs through: a topology loaded from files, or a server region's.
pub(super) struct Network<'t> {
    pub(super) topo: &'t Topology,
    pub(super) hosts: vpcsim_dataplane::alb::hosts::Hosts,
    /// The account and Region flow-log records name.
    pub(super) account: String,
    pub(super) region: String,
}

/// What a replay hands back besides its files, for callers that keep them (`vpcsim serve`).
#[derive(Default)]
pub(super) struct Sinks {
    /// Flow-log records go here, per interface, instead of `flowlogs/`.
    pub(super) flow_records: bool,
    /// Snapshots of the per-resource counters at each minute of packet time.
    pub(super) minutes: bool,
}

/// One flow-log record, kept instead of written.
pub(super) struct FlowRecord {
    pub(super) eni: vpcsim_dataplane::topology::EniIdx,
    /// The record's end, seconds since the epoch.
    pub(super) end_s: u64,
    pub(super) accept: bool,
    pub(super) line: String,
}

/// A finished replay.
pub(super) struct Replayed {
    /// The state after the last frame (a server keeps it).
    pub(super) state: State,
    /// What `summary.json` holds.
    pub(super) summary: serde_json::Value,
    /// What `vpcsim replay` prints.
    pub(super) text: String,
    pub(super) filter: FrameFilter,
    pub(super) read_error: Option<String>,
    pub(super) frames_read: u64,
    /// With [`Sinks::flow_records`].
    pub(super) flow_records: Vec<FlowRecord>,
    /// With [`Sinks::minutes`]: `(minute start in seconds, counters then)`, and the counters
    /// after the last frame with the minute it fell in.
    pub(super) minutes: Vec<(
        u64,
        vpcsim_dataplane::state::resource_metrics::ResourceMetrics,
    )>,
}

/// Replays `args`'s capture through `network`, starting from `state`: the per-frame path of
/// `vpcsim replay` and `POST /_vpcsim/replay` alike.
pub(super) fn replay_through(
    args: &ReplayArgs,
    mut inputs: Inputs,
    network: Network,
    mut state: State,
    sinks: Sinks,
) -> Result<Replayed, String> {
    let topo = network.topo;
    let countries = super::alb::countries(args.geo_countries.as_deref())?;
    let captured = super::replay_sim::captured_conversations(&args.input)?;
    let origin =
        super::args::origin(topo, args.at.as_deref()).map_err(|e| e.replace("--from", "--at"))?;
    let reader = inputs.open_next().ok_or("no capture to replay")??;
    let link_type = reader.link_type();
    let mut filter = FrameFilter::new(&args.selection, link_type.map(|l| l.pcap_value()))?;
    let folder = OutputFolder::open(args.out_dir(), &args.input)?;
    let verdicts_path = args.out_dir().join(VERDICTS);
    let verdicts: Option<BufWriter<File>> = if args.no_verdicts {
        None
    } else {
        let f = outdir::create(&folder.claim(VERDICTS)?)?;
        Some(BufWriter::with_capacity(1 << 20, f))
    };
    let (account, region) = (network.account, network.region);
    let mut pipeline = Pipeline {
        topo,
        state: &mut state,
        origin,
        counters: Counters::default(),
        firewall_logs: FirewallLogs::open(topo, &folder)?,
        sim: Some(super::replay_sim::open(
            super::hostsim::HostSim::new(
                topo,
                network.hosts,
                args.hosts.hosts.is_some(),
                captured,
                countries,
                args.state.config(),
            ),
            &folder,
        )),
        frames_read: 0,
        taps: Taps::open(&args.wireshark, &args.input, &folder)?,
        minutes: sinks.minutes.then(Vec::new),
    };
    let progress = progress_bar(args, inputs.total_len());
    let started = Instant::now();
    let outputs = Outputs {
        topo: outputs::TopologyRef::Borrowed(topo),
        names: JsonNames::new(topo),
        folder: &folder,
        verdicts,
        verdicts_path,
        writers: FxHashMap::default(),
        line: Vec::with_capacity(512),
        scratch: Vec::with_capacity(65_536),
        framed: Vec::with_capacity(65_536),
        flowlogs: FlowLogs::with_format(
            args.flowlog_capacity,
            args.flow_log_interval,
            args.flow_log_format.clone().unwrap_or_default(),
        ),
        flowlog_files: FxHashMap::default(),
        flowlog_s3: (args.flow_log_layout == super::flowlog_s3::FlowLogLayout::S3)
            .then(|| super::flowlog_s3::S3Layout::new(&account, &region)),
        flow_records: sinks.flow_records.then(Vec::new),
        account,
        region,
        flows: FlowCount::default(),
        simulated: Default::default(),
        mirror: args.wireshark.mirror,
    };
    let (written, read_error) =
        pipeline.run(reader, &mut inputs, &mut filter, outputs, progress.as_ref())?;
    let written = written?;
    std::mem::replace(&mut pipeline.firewall_logs, FirewallLogs::none())
        .finish(topo, pipeline.state)?;
    let dropped_capture = std::mem::take(&mut pipeline.taps).finish()?;
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    let files = folder.files()?;
    let summary = ReplaySummary {
        input: inputs.first(),
        link_type,
        counters: &pipeline.counters,
        flows: written.flows.0,
        flows_exact: written.flows.1,
        state: pipeline.state,
        flowlogs: written.flowlogs,
        elapsed_s: elapsed,
        nat: &pipeline.state.nat.metrics,
        nodes: &pipeline.state.nodes,
        read_error: read_error.as_deref(),
        files: &files,
    };
    let mut summary_json = summary.to_json();
    let text = summary.text(args.out_dir(), args.stats);
    if let Some(sim) = &mut pipeline.sim {
        sim.logs.finish()?;
        summary_json["simulated_hosts"] = super::replay_sim::summary(sim);
    }
    filter.add_to_summary(&mut summary_json, &args.input);
    if let Some(d) = dropped_capture {
        summary_json["dropped_capture"] = d;
    }
    if !topo.network_firewalls.firewalls.is_empty() {
        summary_json["network_firewall"] = json!({
            "custom_actions": super::firewall_logs::custom_metrics(topo, pipeline.state),
        });
    }
    folder
        .write_summary(&(serde_json::to_string_pretty(&summary_json).unwrap_or_default() + "\n"))?;
    let mut minutes = pipeline.minutes.take().unwrap_or_default();
    if let Some(&(last, _)) = minutes.last() {
        minutes.push((last, pipeline.state.resources.clone()));
    }
    Ok(Replayed {
        state: std::mem::take(pipeline.state),
        summary: summary_json,
        text,
        filter,
        read_error,
        frames_read: pipeline.frames_read,
        flow_records: written.flow_records,
        minutes,
    })
}

/// A progress bar on a terminal, for captures large enough to wait for.
fn progress_bar(args: &ReplayArgs, len: u64) -> Option<ProgressBar> {
    (!args.quiet && std::io::stderr().is_terminal() && len > 16 << 20).then(|| {
        let pb = ProgressBar::new(len);
        pb.set_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb
    })
}

/// The reading thread's side of a replay: the pipeline, its state and the counters.
pub(super) struct Pipeline<'a> {
    pub(super) topo: &'a Topology,
    /// Connection tracking, NAT and flow state (the served region's, in live mode).
    pub(super) state: &'a mut State,
    /// Where frames start; live mode sets it per frame, to the link the frame came from.
    pub(super) origin: Origin,
    pub(super) counters: Counters,
    pub(super) firewall_logs: FirewallLogs,
    /// The simulated hosts and load balancer nodes.
    pub(super) sim: Option<super::replay_sim::Sim<'a>>,
    /// Frames read from the captures, replayed or left out; numbers the frames as Wireshark
    /// does.
    pub(super) frames_read: u64,
    /// `--annotate` and `--dropped`.
    pub(super) taps: Taps,
    /// With [`Sinks::minutes`]: the counters as each new minute of packet time began.
    pub(super) minutes: Option<
        Vec<(
            u64,
            vpcsim_dataplane::state::resource_metrics::ResourceMetrics,
        )>,
    >,
}

impl Pipeline<'_> {
    /// Read every frame and judge it on this thread while `outputs` writes on another. Returns
    /// what the output thread wrote and why reading stopped early, if it did.
    fn run(
        &mut self,
        reader: CaptureReader,
        inputs: &mut Inputs,
        filter: &mut FrameFilter,
        outputs: Outputs,
        progress: Option<&ProgressBar>,
    ) -> Result<(Result<Written, String>, Option<String>), String> {
        std::thread::scope(|scope| {
            // Full batches go to the output thread; emptied ones come back for reuse.
            let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Batch>(8);
            let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Batch>();
            let writer = scope.spawn(move || -> Result<Written, String> {
                let mut outputs = outputs;
                for mut b in full_rx {
                    outputs.batch(&b)?;
                    b.items.clear();
                    b.arena.clear();
                    b.observations.clear();
                    b.encapsulations.clear();
                    let _ = empty_tx.send(b);
                }
                outputs.finish()
            });
            let mut batch = Batch::default();
            let send = |batch: &mut Batch| -> Result<(), ()> {
                let next = empty_rx.try_recv().unwrap_or_default();
                full_tx.send(std::mem::replace(batch, next)).map_err(|_| ())
            };
            let mut failed = false;
            let mut pump_error = None;
            let position = |bytes| progress.map_or((), |pb| pb.set_position(bytes));
            let read_error = inputs.read_all(reader, filter, position, |frame, left_out| {
                self.frames_read += 1;
                if let Some(why) = left_out {
                    let fate = Fate::LeftOut(why);
                    self.taps.frame(self.topo, self.frames_read, frame, fate);
                    return true;
                }
                self.frame(frame, &mut batch);
                if let Err(e) = self.pump(&mut batch, frame.ts) {
                    pump_error = Some(e);
                    return false;
                }
                failed = batch.items.len() >= BATCH && send(&mut batch).is_err();
                !failed
            });
            let read_error = read_error.or(pump_error);
            if !failed && !batch.items.is_empty() {
                let _ = send(&mut batch);
            }
            drop(full_tx);
            match writer.join() {
                Ok(written) => Ok((written, read_error)),
                Err(_) => Err("the output thread failed".into()),
            }
        })
    }

    /// Judge one frame into the batch: counted, parsed, pushed through the pipeline, and its
    /// bytes kept when it leaves or arrives somewhere.
    pub(super) fn frame(&mut self, frame: &Frame, batch: &mut Batch) {
        let ts = frame.ts;
        if let Some(m) = &mut self.minutes {
            let minute = ts.secs() - ts.secs() % 60;
            if m.last().is_none_or(|&(last, _)| last != minute) {
                m.push((minute, self.state.resources.clone()));
            }
        }
        let c = &mut self.counters;
        c.packets += 1;
        c.bytes += frame.data.len() as u64;
        let meta = match wire::parse(frame.link, frame.data) {
            Ok(meta) => meta,
            Err(e) => {
                let (reason, detail) = match e {
                    ParseError::Unsupported(d) => (DropReason::Unsupported, d),
                    ParseError::Malformed(d) => (DropReason::Malformed, d),
                };
                c.count(Disposition::Dropped, Some(reason));
                let fate = Fate::Unparsed { reason, detail };
                self.taps.frame(self.topo, self.frames_read, frame, fate);
                batch.items.push(Item::Unparsed {
                    frame: self.frames_read,
                    ts,
                    reason,
                    detail,
                });
                return;
            }
        };
        if !self.topo.network_firewalls.firewalls.is_empty() {
            let app = &mut self.state.firewall.app;
            match super::app_layer::l4_payload(&meta, frame.data) {
                (IpProtocol::UDP, p) if meta.header.dst_port == 53 => {
                    super::app_layer::from_dns_query(app, p)
                }
                (IpProtocol::TCP, p) => super::app_layer::from_payload(app, p),
                _ => super::app_layer::from_payload(app, &[]),
            }
        }
        // The resolver's answers in a capture arrive on the host, unfiltered.
        let answer_frame = match self.origin {
            Origin::Auto => vpcsim_dataplane::dns::resolver_answer(self.topo, &meta.header),
            _ => None,
        };
        let (v, hops) = match answer_frame {
            Some(v) => (v, 0),
            None => (self.taps).judge(self.topo, self.state, &meta, self.origin, ts),
        };
        let fate = Fate::Judged {
            verdict: &v,
            meta: &meta,
            hops,
        };
        self.taps.frame(self.topo, self.frames_read, frame, fate);
        self.firewall_logs.packet(self.topo, self.state);
        let c = &mut self.counters;
        c.count(v.disposition, v.reason);
        let first = batch.observations.len() as u32;
        batch.observations.extend(v.observations().copied());
        let observations = (first, batch.observations.len() as u32);
        let endpoint = v.delivered_to.or(v.egress);
        let writes_frame = v.disposition != Disposition::Dropped
            && !matches!(endpoint, Some(e) if e == Topology::AMAZON_DNS || e == Topology::IMDS || e == Topology::TIME_SYNC);
        let geneve = v.geneve.map(|e| {
            batch.encapsulations.push(e);
            batch.encapsulations.len() as u32 - 1
        });
        let rejected = v.reason == Some(DropReason::NetworkFirewallRejected);
        let bytes = (writes_frame || geneve.is_some() || rejected || self.taps.mirror).then(|| {
            let start = batch.arena.len();
            batch.arena.extend_from_slice(frame.data);
            (start, frame.data.len())
        });
        let answer = super::replay_dns::answer(
            self.topo,
            &meta,
            frame.data,
            &v,
            self.origin,
            ts,
            ROUTER_MAC,
        );
        let extra = self.simulate_delivery(&meta, frame.data, &v, ts);
        batch.items.push(Item::Judged {
            frame: self.frames_read,
            ts,
            outcome: Outcome::from(&v),
            meta,
            bytes,
            writes_frame,
            geneve,
            orig_len: frame.orig_len,
            observations,
            extra,
            simulated: false,
        });
        if let Some(a) = answer {
            batch.items.push(Item::DnsAnswer(a));
        }
    }
}
