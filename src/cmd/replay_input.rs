//! What `replay` reads: one or several captures (a rotated set, in the order given, or `-` for
//! standard input) and which of their frames it replays (`--filter`, `--start`, `--end`).
//!
//! A frame left out is counted, by why, in the summary: the frames read are always the frames
//! replayed plus those left out.

use super::dash;
use super::stdio::outln;
use clap::Args;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use vpcsim_capture::{CaptureReader, Frame};
use vpcsim_dataplane::Timestamp;

/// `replay`'s selection of frames.
#[derive(Args, Debug, Clone, Default)]
pub struct FrameSelection {
    /// Replay only the frames this tcpdump filter expression matches (`pcap-filter(7)`, e.g.
    /// 'tcp port 443 and not net 10.0.9.0/24'), compiled by libpcap for each link type in the
    /// capture. Frames it rejects are counted as `filtered_out.filter` in summary.json.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Replay only frames captured at or after this time: RFC 3339
    /// (`2023-11-14T22:13:20Z`) or Unix seconds (`1700000000`, `1700000000.5`).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub start: Option<Timestamp>,
    /// Replay only frames captured before this time (same forms as --start).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub end: Option<Timestamp>,
}

/// `--start`/`--end`: RFC 3339 or Unix seconds, to the nanosecond.
pub fn parse_time(s: &str) -> Result<Timestamp, String> {
    let bad =
        || format!("`{s}`: expected RFC 3339 (2023-11-14T22:13:20Z) or Unix seconds (1700000000)");
    if let Some((secs, frac)) = s.split_once('.').or(Some((s, ""))) {
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if digits(secs) && (frac.is_empty() || (digits(frac) && frac.len() <= 9)) {
            let secs: u64 = secs.parse().map_err(|_| bad())?;
            let nanos: u64 = format!("{frac:0<9}").parse().map_err(|_| bad())?;
            return secs
                .checked_mul(1_000_000_000)
                .and_then(|n| n.checked_add(nanos))
                .map(Timestamp)
                .ok_or_else(bad);
        }
    }
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| bad())?;
    u64::try_from(t.unix_timestamp_nanos())
        .map(Timestamp)
        .map_err(|_| format!("`{s}`: before 1970"))
}

/// Decides frame by frame what is replayed, and counts what is not.
pub struct FrameFilter {
    start: Timestamp,
    end: Timestamp,
    bpf: Option<bpf::Filter>,
    /// Frames outside `--start`/`--end`.
    pub outside_window: u64,
    /// Frames `--filter` rejected.
    pub not_matching: u64,
}

impl FrameFilter {
    /// The filter the flags ask for; a bad expression is an error before anything is read.
    pub fn new(sel: &FrameSelection, first_link: Option<u32>) -> Result<FrameFilter, String> {
        if let (Some(s), Some(e)) = (sel.start, sel.end) {
            if e <= s {
                return Err("--end must be after --start".into());
            }
        }
        let bpf = match &sel.filter {
            Some(expr) => Some(bpf::Filter::new(expr, first_link)?),
            None => None,
        };
        Ok(FrameFilter {
            start: sel.start.unwrap_or(Timestamp(0)),
            end: sel.end.unwrap_or(Timestamp(u64::MAX)),
            bpf,
            outside_window: 0,
            not_matching: 0,
        })
    }

    /// Why `frame` is left out (the flag that leaves it out, counted), or `None` to replay it.
    #[inline]
    pub fn left_out(&mut self, frame: &Frame) -> Result<Option<&'static str>, String> {
        if frame.ts < self.start || frame.ts >= self.end {
            self.outside_window += 1;
            return Ok(Some("--start/--end"));
        }
        if let Some(f) = self.bpf.as_mut() {
            if !f.matches(frame.link.pcap_value(), frame.data)? {
                self.not_matching += 1;
                return Ok(Some("--filter"));
            }
        }
        Ok(None)
    }

    /// The frames left out, by why, for summary.json.
    pub fn summary(&self) -> Value {
        json!({"filter": self.not_matching, "time_window": self.outside_window})
    }

    /// Frames left out, by why (`filtered_out`), and the captures when there were several
    /// (`inputs`), in summary.json.
    pub fn add_to_summary(&self, summary: &mut Value, inputs: &[PathBuf]) {
        summary["filtered_out"] = self.summary();
        if inputs.len() > 1 {
            summary["inputs"] = json!(inputs);
        }
    }

    /// A line under the text summary when frames were left out.
    pub fn print_left_out(&self) {
        let n = self.not_matching + self.outside_window;
        if n > 0 {
            outln!(
                "left out {n} frames: {} not matching --filter, {} outside --start/--end",
                self.not_matching,
                self.outside_window
            );
        }
    }
}

/// The captures of one replay, read one after another.
pub struct Inputs<'a> {
    paths: &'a [PathBuf],
    next: usize,
}

impl<'a> Inputs<'a> {
    /// The captures in the order given; at most one may be `-`, and not when `-t -` takes
    /// standard input already.
    pub fn new(paths: &'a [PathBuf], topologies: &[PathBuf]) -> Result<Inputs<'a>, String> {
        let all = paths.iter().chain(topologies).map(PathBuf::as_path);
        if dash::stdin_claimed_twice(all) {
            return Err("standard input (`-`) can feed only one of --in and -t".into());
        }
        Ok(Inputs { paths, next: 0 })
    }

    /// Open the next capture, if any is left.
    pub fn open_next(&mut self) -> Option<Result<CaptureReader, String>> {
        let path = self.paths.get(self.next)?;
        self.next += 1;
        Some(dash::capture_reader(path))
    }

    /// Every frame of `first` and then of the captures not opened yet, in order, to `each` with
    /// why it is left out (`None`: replay it); `each` returns false to stop. `position` hears
    /// the bytes read so far now and then. Returns why reading stopped early, if it did: a
    /// corrupt or missing capture, or a filter libpcap cannot compile for a later link type.
    pub fn read_all(
        &mut self,
        first: CaptureReader,
        filter: &mut FrameFilter,
        position: impl Fn(u64),
        mut each: impl FnMut(&Frame, Option<&'static str>) -> bool,
    ) -> Option<String> {
        let mut reader = first;
        // Bytes of the captures before the one being read, for the progress bar.
        let mut done_bytes = 0;
        let mut n: u64 = 0;
        loop {
            loop {
                if n % 65_536 == 0 {
                    position(done_bytes + reader.position());
                }
                n += 1;
                let frame = match reader.next_frame() {
                    None => break,
                    Some(Err(e)) => return Some(e.to_string()),
                    Some(Ok(f)) => f,
                };
                let why = match filter.left_out(&frame) {
                    Ok(why) => why,
                    Err(e) => return Some(e),
                };
                if !each(&frame, why) {
                    return None;
                }
            }
            done_bytes += reader.position();
            reader = match self.open_next()? {
                Ok(r) => r,
                Err(e) => return Some(e),
            };
        }
    }

    /// The captures' bytes in all, when known (not for standard input).
    pub fn total_len(&self) -> u64 {
        self.paths
            .iter()
            .filter(|p| !dash::is_dash(p))
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// The first capture, which the summary names.
    pub fn first(&self) -> &Path {
        self.paths.first().map_or(Path::new("-"), PathBuf::as_path)
    }
}

#[cfg(feature = "filter")]
mod bpf {
    use pcap::{BpfProgram, Capture, Linktype};

    /// `--filter`, compiled once per link type the capture holds (a pcapng file may hold
    /// several).
    pub struct Filter {
        expr: String,
        programs: Vec<(u32, BpfProgram)>,
    }

    impl Filter {
        /// Compile `expr` for the first link type, when known, so a bad expression fails
        /// before anything is read.
        pub fn new(expr: &str, first_link: Option<u32>) -> Result<Filter, String> {
            let mut f = Filter {
                expr: expr.to_string(),
                programs: Vec::new(),
            };
            f.program(first_link.unwrap_or(1))?;
            Ok(f)
        }

        fn program(&mut self, link: u32) -> Result<&BpfProgram, String> {
            let i = match self.programs.iter().position(|(l, _)| *l == link) {
                Some(i) => i,
                None => {
                    let dlt = i32::try_from(link).map_err(|_| format!("link type {link}"))?;
                    let program = Capture::dead(Linktype(dlt))
                        .and_then(|c| c.compile(&self.expr, true))
                        .map_err(|e| format!("--filter `{}`: {e}", self.expr))?;
                    self.programs.push((link, program));
                    self.programs.len() - 1
                }
            };
            Ok(&self.programs[i].1)
        }

        /// Whether the frame, of link type `link`, matches.
        #[inline]
        pub fn matches(&mut self, link: u32, data: &[u8]) -> Result<bool, String> {
            Ok(self.program(link)?.filter(data))
        }
    }
}

#[cfg(not(feature = "filter"))]
mod bpf {
    /// Built without libpcap: `--filter` is refused.
    pub struct Filter;

    impl Filter {
        pub fn new(_expr: &str, _first_link: Option<u32>) -> Result<Filter, String> {
            Err(
                "--filter needs libpcap, and this vpcsim was built without it (cargo's \
                 `filter` feature, on by default)"
                    .into(),
            )
        }

        pub fn matches(&mut self, _link: u32, _data: &[u8]) -> Result<bool, String> {
            Ok(true)
        }
    }
}
