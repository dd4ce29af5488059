//! Replay outputs for Wireshark: `--annotate FILE.pcapng` (every input frame with a comment
//! saying what became of it) and `--dropped` (`out/_dropped.pcap`, the frames that were
//! dropped, as captured).
//!
//! Both are written on the reading thread, where the frame's bytes and link type are at hand,
//! and only when asked for.

use super::outdir::{OutputFolder, PCAP_DIR};
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use vpcsim_capture::{CaptureWriter, Frame};
use vpcsim_dataplane::trace::{Hop, Tracer};
use vpcsim_dataplane::wire::{self, LinkType, Meta};
use vpcsim_dataplane::{process, DropReason, NoTrace, Origin, State, Timestamp, Topology, Verdict};

/// The name of the dropped frames' capture in the output folder.
pub const DROPPED_PCAP: &str = "_dropped.pcap";

/// Counts the hops of a packet's path, for the annotation (the hops themselves are not kept).
#[derive(Default)]
pub struct HopCount(pub u32);

impl Tracer for HopCount {
    const ENABLED: bool = true;
    fn hop(&mut self, _hop: Hop) {
        self.0 += 1;
    }
}

/// `replay`'s outputs for Wireshark.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct WiresharkArgs {
    /// Also write every input frame to this pcapng file with a comment Wireshark shows
    /// (`pkt_comment`): `vpcsim frame N: DISPOSITION [REASON] at=RESOURCE hops=N`.
    #[arg(long, value_name = "FILE.pcapng")]
    pub annotate: Option<PathBuf>,
    /// Also write the dropped frames, as captured, to `out/_dropped.pcap`.
    #[arg(long)]
    pub dropped: bool,
    /// Every interface's capture holds both directions, as VPC Traffic Mirroring copies them:
    /// each packet also goes to the capture of every interface it crossed (leaving its source,
    /// through a NAT gateway or appliance), as it was there.
    #[arg(long)]
    pub mirror: bool,
}

/// What became of one frame, for [`Taps::frame`].
pub enum Fate<'a> {
    /// It went through the pipeline.
    Judged {
        /// The verdict.
        verdict: &'a Verdict,
        /// Its parsed headers.
        meta: &'a Meta,
        /// Hops on its path.
        hops: u32,
    },
    /// It did not parse.
    Unparsed {
        /// `MALFORMED` or `UNSUPPORTED`.
        reason: DropReason,
        /// What the parser found.
        detail: &'static str,
    },
    /// `--filter`, `--start` or `--end` left it out.
    LeftOut(&'static str),
}

/// The Wireshark outputs a replay was asked for.
#[derive(Default)]
pub struct Taps {
    annotate: Option<Annotated>,
    dropped: Option<Dropped>,
    /// The first write error; the replay reports it when done.
    error: Option<String>,
    /// `--mirror`: the output thread needs every frame's bytes.
    pub mirror: bool,
}

struct Annotated {
    path: PathBuf,
    writer: PcapNgWriter<BufWriter<File>>,
    /// Interface ids by link type: one Interface Description Block per link type seen.
    interfaces: Vec<u32>,
    comment: String,
}

struct Dropped {
    writer: CaptureWriter,
    written: u64,
    /// Dropped frames that could not be written as Ethernet (they did not parse and were not
    /// captured on Ethernet); they are in verdicts.jsonl all the same.
    not_ethernet: u64,
    framed: Vec<u8>,
}

impl Taps {
    /// Open the files asked for. `annotate` may not be one of the captures read.
    pub fn open(
        args: &WiresharkArgs,
        inputs: &[PathBuf],
        folder: &OutputFolder,
    ) -> Result<Taps, String> {
        let annotate = match args.annotate.as_deref() {
            None => None,
            Some(path) => {
                refuse_an_input(path, inputs)?;
                let f = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
                let writer = PcapNgWriter::new(BufWriter::with_capacity(1 << 20, f))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Some(Annotated {
                    path: path.to_path_buf(),
                    writer,
                    interfaces: Vec::new(),
                    comment: String::with_capacity(128),
                })
            }
        };
        let dropped = match args.dropped {
            false => None,
            true => {
                let path = folder.claim(&format!("{PCAP_DIR}/{DROPPED_PCAP}"))?;
                Some(Dropped {
                    writer: CaptureWriter::create(&path, LinkType::Ethernet)
                        .map_err(|e| e.to_string())?,
                    written: 0,
                    not_ethernet: 0,
                    framed: Vec::with_capacity(2048),
                })
            }
        };
        Ok(Taps {
            annotate,
            dropped,
            error: None,
            mirror: args.mirror,
        })
    }

    /// The packet through the pipeline, and the hops on its path when `--annotate` shows them
    /// (counting them builds them, so only then; 0 otherwise).
    pub fn judge(
        &self,
        topo: &Topology,
        state: &mut State,
        meta: &Meta,
        origin: Origin,
        ts: Timestamp,
    ) -> (Verdict, u32) {
        if self.annotate.is_none() {
            return (process(topo, state, meta, origin, ts, &mut NoTrace), 0);
        }
        let mut hops = HopCount::default();
        let v = process(topo, state, meta, origin, ts, &mut hops);
        (v, hops.0)
    }

    /// Record one frame's fate.
    pub fn frame(&mut self, topo: &Topology, number: u64, frame: &Frame, fate: Fate) {
        if self.error.is_some() {
            return;
        }
        let result = self
            .annotate
            .as_mut()
            .map_or(Ok(()), |a| a.write(topo, number, frame, &fate))
            .and_then(|()| {
                self.dropped
                    .as_mut()
                    .map_or(Ok(()), |d| d.write(frame, &fate))
            });
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// Flush the files; what `--dropped` wrote, for summary.json.
    pub fn finish(self) -> Result<Option<Value>, String> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if let Some(a) = self.annotate {
            let path = a.path;
            a.writer
                .into_inner()
                .flush()
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        match self.dropped {
            None => Ok(None),
            Some(d) => {
                let summary = json!({"frames": d.written, "not_ethernet": d.not_ethernet});
                d.writer.finish().map_err(|e| e.to_string())?;
                Ok(Some(summary))
            }
        }
    }
}

/// `--annotate` must not overwrite a capture being read.
fn refuse_an_input(path: &Path, inputs: &[PathBuf]) -> Result<(), String> {
    let same = |input: &PathBuf| match (path.canonicalize(), input.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    match inputs.iter().find(|i| same(i)) {
        Some(i) => Err(format!(
            "--annotate {}: that is the capture being replayed ({})",
            path.display(),
            i.display()
        )),
        None => Ok(()),
    }
}

impl Annotated {
    fn write(
        &mut self,
        topo: &Topology,
        number: u64,
        frame: &Frame,
        fate: &Fate,
    ) -> Result<(), String> {
        let link = frame.link.pcap_value();
        let interface = match self.interfaces.iter().position(|&l| l == link) {
            Some(i) => i as u32,
            None => {
                let idb = InterfaceDescriptionBlock {
                    linktype: DataLink::from(link),
                    snaplen: 0,
                    // pcap-file writes every timestamp in nanoseconds.
                    options: vec![InterfaceDescriptionOption::IfTsResol(9)],
                };
                self.writer
                    .write_pcapng_block(idb)
                    .map_err(|e| format!("{}: {e}", self.path.display()))?;
                self.interfaces.push(link);
                self.interfaces.len() as u32 - 1
            }
        };
        self.comment.clear();
        let c = &mut self.comment;
        let _ = write!(c, "vpcsim frame {number}: ");
        let _ = match fate {
            Fate::Judged {
                verdict: v, hops, ..
            } => {
                let _ = write!(c, "{}", v.disposition.as_str());
                if let Some(r) = v.reason {
                    let _ = write!(c, " {}", r.as_str());
                }
                write!(c, " at={} hops={hops}", topo.name(v.at))
            }
            Fate::Unparsed { reason, detail } => {
                write!(c, "DROPPED {} ({detail}) hops=0", reason.as_str())
            }
            Fate::LeftOut(why) => write!(c, "not replayed: outside {why}"),
        };
        let epb = EnhancedPacketBlock {
            interface_id: interface,
            timestamp: Duration::from_nanos(frame.ts.0),
            original_len: frame.orig_len.max(frame.data.len() as u32),
            data: Cow::Borrowed(frame.data),
            options: vec![EnhancedPacketOption::Comment(Cow::Borrowed(&self.comment))],
        };
        self.writer
            .write_pcapng_block(epb)
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

impl Dropped {
    fn write(&mut self, frame: &Frame, fate: &Fate) -> Result<(), String> {
        let meta = match fate {
            Fate::Judged { verdict, meta, .. } if verdict.is_dropped() => Some(*meta),
            Fate::Unparsed { .. } => None,
            _ => return Ok(()),
        };
        let bytes: &[u8] = match (frame.link, meta) {
            // As captured: the MACs show where it was taken.
            (LinkType::Ethernet, _) => frame.data,
            (_, Some(meta)) => {
                self.framed.clear();
                wire::to_ethernet(frame.data, meta, [0; 6], [0; 6], &mut self.framed);
                &self.framed
            }
            (_, None) => {
                self.not_ethernet += 1;
                return Ok(());
            }
        };
        let extra = frame.orig_len.saturating_sub(frame.data.len() as u32);
        self.written += 1;
        self.writer
            .write(frame.ts, bytes, bytes.len() as u32 + extra)
            .map_err(|e| e.to_string())
    }
}
