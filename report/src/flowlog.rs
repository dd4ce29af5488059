//! VPC Flow Logs, aggregated per interface, flow, direction, action and window of packet time
//! (60 or 600 s, SPEC §12.1), in the default (version 2) format or a custom one
//! ([`crate::flowlog_format`]).

use crate::flowlog_format::{self, FlowLogFormat, RecordContext, RecordView};
use rustc_hash::FxHashMap;
use std::io;
use std::net::IpAddr;
use vpcsim_dataplane::topology::EniIdx;
use vpcsim_dataplane::verdict::{FlowAction, FlowDirection, Observation};
use vpcsim_dataplane::{Timestamp, Topology};

/// AWS's default maximum aggregation interval, seconds.
pub const DEFAULT_INTERVAL_S: u64 = 600;
/// The aggregation intervals AWS offers, seconds.
pub const INTERVALS_S: [u64; 2] = [60, 600];

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    eni: EniIdx,
    window: u64,
    src: IpAddr,
    dst: IpAddr,
    pkt_src: IpAddr,
    pkt_dst: IpAddr,
    egress: bool,
    src_port: u16,
    dst_port: u16,
    proto: u8,
    accept: bool,
}

struct Record {
    packets: u64,
    bytes: u64,
    start: u64,
    end: u64,
    tcp_flags: u8,
}

/// Records held at once by default: [`FlowLogs::new`].
pub const DEFAULT_CAPACITY: usize = 262_144;

/// Records are kept in the order their flows first appeared; the map only finds them. A capture
/// in time order therefore needs no sort when the logs are written.
///
/// Records are written once their window has closed, as AWS publishes them, so memory follows
/// the flows of the last two windows rather than of the whole capture. A window counts as
/// closed once a packet of the window after next arrives: a minute of grace for captures
/// slightly out of time order. When more than the capacity of records are open at once they
/// are all written early (counted in [`FlowLogs::early_flushes`]): a flow may then have two
/// records for one window, as AWS also writes when its aggregation is cut short.
pub struct FlowLogs {
    index: FxHashMap<Key, u32>,
    records: Vec<(Key, Record)>,
    capacity: usize,
    interval_s: u64,
    /// Whether records are also told apart by the addresses in the packet: only when the
    /// format shows them, so a default-format log has one row per flow as it reads.
    by_packet_addresses: bool,
    format: FlowLogFormat,
    oldest_window: u64,
    latest_window: u64,
    /// Times the held records reached the capacity and were written before their window closed.
    pub early_flushes: u64,
    /// Records written so far.
    pub written: u64,
}

impl Default for FlowLogs {
    fn default() -> Self {
        FlowLogs::new(DEFAULT_CAPACITY)
    }
}

/// Where the records go besides their interface: the account and Region they name.
pub struct FlowLogTarget<'a> {
    /// The account that owns the interfaces.
    pub account_id: &'a str,
    /// The Region of the interfaces.
    pub region: &'a str,
}

impl FlowLogs {
    /// An empty aggregation in the default format and interval that holds at most `capacity`
    /// records (at least one).
    pub fn new(capacity: usize) -> FlowLogs {
        FlowLogs::with_format(capacity, DEFAULT_INTERVAL_S, FlowLogFormat::default())
    }

    /// An empty aggregation over windows of `interval_s` seconds (at least one) whose records
    /// are written in `format`.
    pub fn with_format(capacity: usize, interval_s: u64, format: FlowLogFormat) -> FlowLogs {
        FlowLogs {
            index: FxHashMap::default(),
            records: Vec::new(),
            capacity: capacity.max(1),
            interval_s: interval_s.max(1),
            by_packet_addresses: format.fields().iter().any(|f| f.uses_packet_addresses()),
            format,
            oldest_window: u64::MAX,
            latest_window: 0,
            early_flushes: 0,
            written: 0,
        }
    }

    /// Records held, not yet written.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether every record has been written.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The format records are written in.
    pub fn format(&self) -> &FlowLogFormat {
        &self.format
    }

    /// The most records held at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Count one packet seen at an interface.
    #[inline]
    pub fn add(&mut self, topo: &Topology, obs: &Observation, ts: Timestamp, bytes: u64) {
        let eni = &topo.enis[obs.eni];
        let h = &obs.header;
        // The interface's own side is always its primary private IPv4 (SPEC §12.2, §5).
        let own = |a: IpAddr| match (a, eni.primary_v4()) {
            (IpAddr::V4(_), Some(p)) => IpAddr::V4(p),
            (a, _) => a,
        };
        let (src, dst) = match obs.direction {
            FlowDirection::Egress => (own(h.src), h.dst),
            FlowDirection::Ingress => (h.src, own(h.dst)),
        };
        let ports = h.has_ports();
        let secs = ts.secs();
        let key = Key {
            eni: obs.eni,
            window: secs / self.interval_s,
            src,
            dst,
            pkt_src: if self.by_packet_addresses { h.src } else { src },
            pkt_dst: if self.by_packet_addresses { h.dst } else { dst },
            egress: obs.direction == FlowDirection::Egress,
            src_port: if ports { h.src_port } else { 0 },
            dst_port: if ports { h.dst_port } else { 0 },
            proto: h.proto.0,
            accept: obs.action == FlowAction::Accept,
        };
        self.latest_window = self.latest_window.max(key.window);
        self.oldest_window = self.oldest_window.min(key.window);
        let next = self.records.len() as u32;
        let i = *self.index.entry(key).or_insert(next) as usize;
        if i == self.records.len() {
            self.records.push((
                key,
                Record {
                    packets: 0,
                    bytes: 0,
                    start: secs,
                    end: secs,
                    tcp_flags: 0,
                },
            ));
        }
        let r = &mut self.records[i].1;
        r.packets += 1;
        r.bytes += bytes;
        r.start = r.start.min(secs);
        r.end = r.end.max(secs);
        r.tcp_flags |= flowlog_format::reported_tcp_flags(h.proto, h.tcp_flags);
    }

    /// Whether [`FlowLogs::flush`] has records to write: a window has closed, or the capacity
    /// is reached.
    #[inline]
    pub fn due(&self) -> bool {
        self.records.len() >= self.capacity
            || (!self.records.is_empty()
                && self.latest_window >= self.oldest_window.saturating_add(2))
    }

    /// Write the records of closed windows, or every record when the capacity is reached or
    /// `all` (at the end of the capture), each interface's in window order and then in order
    /// of first appearance. `line` writes one record's line to its interface's log, given the
    /// record's end time (which decides the file AWS delivers it in).
    pub fn flush(
        &mut self,
        topo: &Topology,
        target: &FlowLogTarget,
        all: bool,
        mut line: impl FnMut(EniIdx, u64, &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        self.flush_records(topo, target, all, |eni, end, _, l| line(eni, end, l))
    }

    /// [`FlowLogs::flush`], also telling `line` whether the record is an `ACCEPT` (a flow log's
    /// `TrafficType` picks records by it).
    pub fn flush_records(
        &mut self,
        topo: &Topology,
        target: &FlowLogTarget,
        all: bool,
        mut line: impl FnMut(EniIdx, u64, bool, &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let everything = all || self.records.len() >= self.capacity;
        if everything && !all {
            self.early_flushes += 1;
        }
        let limit = if everything {
            u64::MAX
        } else {
            self.latest_window.saturating_sub(2)
        };
        let mut rows: Vec<u32> = (0..self.records.len() as u32)
            .filter(|&i| self.records[i as usize].0.window <= limit)
            .collect();
        // Stable and nearly free on a capture in time order; orders windows otherwise.
        rows.sort_by_key(|&i| self.records[i as usize].0.window);
        let mut buf = Vec::with_capacity(160);
        let cx = RecordContext {
            account_id: target.account_id,
            region: target.region,
            version: self.format.version(),
        };
        for &i in &rows {
            let (k, r) = &self.records[i as usize];
            let view = RecordView {
                eni: k.eni,
                src: k.src,
                dst: k.dst,
                pkt_src: k.pkt_src,
                pkt_dst: k.pkt_dst,
                src_port: k.src_port,
                dst_port: k.dst_port,
                proto: k.proto,
                egress: k.egress,
                accept: k.accept,
                packets: r.packets,
                bytes: r.bytes,
                start: r.start,
                end: r.end,
                tcp_flags: r.tcp_flags,
            };
            flowlog_format::write_record(&mut buf, topo, &cx, &self.format, &view);
            line(k.eni, r.end, k.accept, &buf)?;
        }
        self.written += rows.len() as u64;
        if everything {
            self.records.clear();
            self.index.clear();
        } else {
            self.records.retain(|(k, _)| k.window > limit);
            self.index.clear();
            for (i, (k, _)) in self.records.iter().enumerate() {
                self.index.insert(*k, i as u32);
            }
        }
        // A table that held more than a quarter of its capacity gives the memory back.
        if self.records.capacity() > 4 * self.records.len().max(1024) {
            self.records.shrink_to_fit();
            self.index.shrink_to_fit();
        }
        self.oldest_window = self
            .records
            .iter()
            .map(|(k, _)| k.window)
            .min()
            .unwrap_or(u64::MAX);
        Ok(())
    }
}
