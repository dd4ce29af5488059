//! VPC Flow Logs in the default (version 2) format, aggregated per interface, flow, action and
//! 60-second window of packet time (SPEC §12).
//!
//! `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status`

use rustc_hash::FxHashMap;
use std::io::{self, Write};
use std::net::IpAddr;
use vpcsim_dataplane::verdict::{FlowAction, FlowDirection, Observation};
use vpcsim_dataplane::{Idx, Timestamp, Topology};

/// Aggregation interval in seconds (the 60 s option; Nitro instances always use it).
pub const WINDOW_S: u64 = 60;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    eni: Idx,
    window: u64,
    src: IpAddr,
    dst: IpAddr,
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
    order: u64,
}

#[derive(Default)]
pub struct FlowLogs {
    records: FxHashMap<Key, Record>,
    next_order: u64,
}

impl FlowLogs {
    /// Count one packet seen at an interface.
    #[inline]
    pub fn add(&mut self, topo: &Topology, obs: &Observation, ts: Timestamp, bytes: u64) {
        let eni = &topo.enis[obs.eni as usize];
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
            window: secs / WINDOW_S,
            src,
            dst,
            src_port: if ports { h.src_port } else { 0 },
            dst_port: if ports { h.dst_port } else { 0 },
            proto: h.proto,
            accept: obs.action == FlowAction::Accept,
        };
        let order = self.next_order;
        let r = self.records.entry(key).or_insert_with(|| Record {
            packets: 0,
            bytes: 0,
            start: secs,
            end: secs,
            order,
        });
        if r.order == order {
            self.next_order += 1;
        }
        r.packets += 1;
        r.bytes += bytes;
        r.start = r.start.min(secs);
        r.end = r.end.max(secs);
    }

    /// Records grouped by interface, each group sorted by window and first appearance.
    pub fn write(
        &self,
        topo: &Topology,
        account_id: &str,
        mut open: impl FnMut(Idx) -> io::Result<Box<dyn Write>>,
    ) -> io::Result<usize> {
        let mut by_eni: FxHashMap<Idx, Vec<(&Key, &Record)>> = FxHashMap::default();
        for (k, r) in &self.records {
            by_eni.entry(k.eni).or_default().push((k, r));
        }
        let mut enis: Vec<Idx> = by_eni.keys().copied().collect();
        enis.sort_unstable();
        for eni in &enis {
            let rows = by_eni.get_mut(eni).map(std::mem::take).unwrap_or_default();
            let mut rows = rows;
            rows.sort_by_key(|(k, r)| (k.window, r.order));
            let mut w = open(*eni)?;
            let id = &topo.resource(topo.enis[*eni as usize].res).aws_id;
            for (k, r) in rows {
                writeln!(
                    w,
                    "2 {account_id} {id} {} {} {} {} {} {} {} {} {} {} OK",
                    k.src,
                    k.dst,
                    k.src_port,
                    k.dst_port,
                    k.proto,
                    r.packets,
                    r.bytes,
                    r.start,
                    r.end,
                    if k.accept { "ACCEPT" } else { "REJECT" },
                )?;
            }
            w.flush()?;
        }
        Ok(enis.len())
    }
}
