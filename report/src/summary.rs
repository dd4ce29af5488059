//! What a replay did in total: frames and bytes by disposition and drop reason, as
//! `summary.json` and as the lines `vpcsim replay` prints.

use serde_json::{json, Value};
use std::fmt::Write;
use std::path::Path;
use vpcsim_dataplane::pipeline::NodeCounters;
use vpcsim_dataplane::state::nat::NatMetrics;
use vpcsim_dataplane::state::{State, TableUse};
use vpcsim_dataplane::wire::LinkType;
use vpcsim_dataplane::{Disposition, DropReason};

/// What happened to every frame, by disposition and reason.
pub struct Counters {
    /// Frames read, parsed or not.
    pub packets: u64,
    /// Their captured bytes.
    pub bytes: u64,
    /// Frames per [`Disposition`] (indexed by its value); they add up to `packets`.
    pub dispositions: [u64; 3],
    /// Dropped frames per [`DropReason`] (indexed by its value).
    pub reasons: [u64; DropReason::COUNT],
}

// Written out: `Default` is derived for arrays of at most 32 elements, and there are more reasons.
impl Default for Counters {
    fn default() -> Self {
        Counters {
            packets: 0,
            bytes: 0,
            dispositions: [0; 3],
            reasons: [0; DropReason::COUNT],
        }
    }
}

impl Counters {
    /// Count one frame's verdict (the frame itself is counted by the reader, in `packets`).
    pub fn count(&mut self, d: Disposition, reason: Option<DropReason>) {
        self.dispositions[d as usize] += 1;
        if let Some(r) = reason {
            self.reasons[r as usize] += 1;
        }
    }
}

/// How the flow-log aggregation was used.
#[derive(Clone, Copy, Debug, Default)]
pub struct FlowLogStats {
    /// Records held at once before they are written early.
    pub capacity: usize,
    /// Records written.
    pub records: u64,
    /// Times the held records reached the capacity and were written before their window closed.
    pub early_flushes: u64,
}

/// A finished replay.
pub struct ReplaySummary<'a> {
    /// The capture replayed.
    pub input: &'a Path,
    /// Its first interface's link type.
    pub link_type: Option<LinkType>,
    /// What happened to its frames.
    pub counters: &'a Counters,
    /// Distinct flows (both directions of a connection are one).
    pub flows: usize,
    /// Whether `flows` is exact; past 65,536 flows it is an estimate.
    pub flows_exact: bool,
    /// The state tables at the end, for their capacities and how often they were hit.
    pub state: &'a State,
    /// How the flow-log aggregation was used.
    pub flowlogs: FlowLogStats,
    /// Wall-clock seconds from the first frame read to the last output written.
    pub elapsed_s: f64,
    /// The NAT gateways' CloudWatch metrics, summed.
    pub nat: &'a NatMetrics,
    /// Packets and drops per node of the stage graph.
    pub nodes: &'a NodeCounters,
    /// Why reading stopped early, when the capture ends with a corrupt record.
    pub read_error: Option<&'a str>,
    /// The files the replay wrote beside `summary.json`, relative to its folder, with their
    /// sizes in bytes.
    pub files: &'a [(String, u64)],
}

impl ReplaySummary<'_> {
    fn pps(&self) -> f64 {
        if self.elapsed_s > 0.0 {
            self.counters.packets as f64 / self.elapsed_s
        } else {
            0.0
        }
    }

    /// `summary.json`.
    pub fn to_json(&self) -> Value {
        let c = self.counters;
        json!({
            "input": self.input,
            "link_type": self.link_type.map(|l| l.pcap_value()),
            "packets": c.packets,
            "bytes": c.bytes,
            "flows": self.flows,
            "flows_estimated": !self.flows_exact,
            "elapsed_s": self.elapsed_s,
            "pps": self.pps(),
            "dispositions": Disposition::ALL.iter().map(|d| (d.as_str().to_string(), json!(c.dispositions[*d as usize]))).collect::<serde_json::Map<_, _>>(),
            "reasons": DropReason::ALL.iter().filter(|r| c.reasons[**r as usize] > 0).map(|r| (r.as_str().to_string(), json!(c.reasons[*r as usize]))).collect::<serde_json::Map<_, _>>(),
            "nat_gateway": {
                "ErrorPortAllocation": self.nat.error_port_allocation,
                "IdleTimeoutCount": self.nat.idle_timeout_count,
                "ConnectionAttemptCount": self.nat.connection_attempt_count,
            },
            "read_error": self.read_error,
            "nodes": self.nodes_json(),
            "files": self.files.iter().map(|(path, bytes)| (path.clone(), json!({"bytes": bytes}))).collect::<serde_json::Map<_, _>>(),
            "state": self.state_json(),
        })
    }

    /// Every bounded table: its capacity, what it held and how often its cap refused an entry.
    fn tables(&self) -> [(&'static str, TableUse); 4] {
        [
            ("conntrack", self.state.conntrack.table_use()),
            ("nat_gateway_sessions", self.state.nat.table_use()),
            ("nlb_flows", self.state.nlb.table_use()),
            ("fragments", self.state.fragments.table_use()),
        ]
    }

    fn state_json(&self) -> Value {
        let mut tables = serde_json::Map::new();
        for (name, t) in self.tables() {
            tables.insert(
                name.into(),
                json!({
                    "capacity": t.capacity,
                    "entries": t.entries,
                    "peak": t.peak,
                    "refused": t.refused,
                    "expired": t.expired,
                }),
            );
        }
        let f = self.flowlogs;
        tables.insert(
            "flow_logs".into(),
            json!({"capacity": f.capacity, "records": f.records, "early_flushes": f.early_flushes}),
        );
        Value::Object(tables)
    }

    /// `--stats`: one line per bounded table.
    fn state_text(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "state tables (capacity; peak entries; refused when full):"
        );
        for (name, t) in self.tables() {
            let _ = writeln!(
                out,
                "  {name:<24} {:>10}  peak {}, refused {}, expired {}",
                t.capacity, t.peak, t.refused, t.expired
            );
        }
        let f = self.flowlogs;
        let _ = writeln!(
            out,
            "  {:<24} {:>10}  records {}, early flushes {}",
            "flow_logs", f.capacity, f.records, f.early_flushes
        );
    }

    /// Per node, as VPP's `show errors`: the packets that entered it and what it dropped, by
    /// reason. `wire` is the frame parser, before the graph: every frame enters it, and it
    /// counts the frames that are not IP or cannot be parsed.
    fn nodes_json(&self) -> Value {
        let c = self.counters;
        let mut nodes = serde_json::Map::new();
        let wire_drops: serde_json::Map<String, Value> =
            [DropReason::Malformed, DropReason::Unsupported]
                .iter()
                .filter(|r| c.reasons[**r as usize] > 0)
                .map(|r| (r.as_str().to_string(), json!(c.reasons[*r as usize])))
                .collect();
        nodes.insert(
            "wire".into(),
            json!({"packets": c.packets, "drops": wire_drops}),
        );
        for (node, stats) in self.nodes.nodes() {
            let drops: serde_json::Map<String, Value> = stats
                .drops
                .iter()
                .map(|(r, n)| (r.as_str().to_string(), json!(n)))
                .collect();
            nodes.insert(
                node.name().to_string(),
                json!({"packets": stats.packets, "drops": drops}),
            );
        }
        Value::Object(nodes)
    }

    /// `--stats`: the per-node table, one line per node with its drops.
    fn nodes_text(&self, out: &mut String) {
        let c = self.counters;
        let _ = writeln!(out, "per node (packets in; drops by reason):");
        let wire: Vec<String> = [DropReason::Malformed, DropReason::Unsupported]
            .iter()
            .filter(|r| c.reasons[**r as usize] > 0)
            .map(|r| format!("{} {}", r.as_str(), c.reasons[*r as usize]))
            .collect();
        let _ = writeln!(
            out,
            "  {:<24} {:>10}  {}",
            "wire",
            c.packets,
            wire.join(", ")
        );
        for (node, stats) in self.nodes.nodes() {
            let drops: Vec<String> = stats
                .drops
                .iter()
                .map(|(r, n)| format!("{} {n}", r.as_str()))
                .collect();
            let line = format!(
                "  {:<24} {:>10}  {}",
                node.name(),
                stats.packets,
                drops.join(", ")
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }

    /// What `vpcsim replay` prints: counts by disposition, drop reasons from the most frequent,
    /// the speed when `stats`, and where the outputs went.
    pub fn text(&self, out_dir: &Path, stats: bool) -> String {
        let c = self.counters;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "replayed {} frames ({} bytes, {} flows{}) from {}",
            c.packets,
            c.bytes,
            self.flows,
            if self.flows_exact { "" } else { ", estimated" },
            self.input.display()
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
        if stats {
            self.nodes_text(&mut out);
            self.state_text(&mut out);
            let _ = writeln!(
                out,
                "elapsed {:.3} s, {:.3} Mpps (pcap in to all outputs; pipeline on one thread, output writing on another)",
                self.elapsed_s,
                self.pps() / 1e6
            );
        }
        let _ = writeln!(
            out,
            "outputs in {}: {}",
            out_dir.display(),
            self.files_text()
        );
        out
    }

    /// The files written, by kind: `verdicts.jsonl, out/ (3 pcaps), flowlogs/ (2 logs), summary.json`.
    fn files_text(&self) -> String {
        let mut parts = vec![];
        if self.files.iter().any(|(p, _)| p == "verdicts.jsonl") {
            parts.push("verdicts.jsonl".to_string());
        }
        for (dir, what) in [
            ("out/", "pcap"),
            ("flowlogs/", "log"),
            ("AWSLogs/", "flow log file"),
            ("firewall/", "log"),
        ] {
            let n = self
                .files
                .iter()
                .filter(|(p, _)| p.starts_with(dir))
                .count();
            if n > 0 {
                parts.push(format!(
                    "{dir} ({n} {what}{})",
                    if n == 1 { "" } else { "s" }
                ));
            }
        }
        parts.push("summary.json".to_string());
        parts.join(", ")
    }
}
