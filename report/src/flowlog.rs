//! VPC Flow Logs in the default (version 2) format, aggregated per interface, flow, action and
//! 60-second window of packet time (SPEC §12).
//!
//! `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status`

use crate::fastfmt::{push_ip, push_u64};
use rustc_hash::FxHashMap;
use std::io::{self, Write};
use std::net::IpAddr;
use vpcsim_dataplane::topology::{EniIdx, Table};
use vpcsim_dataplane::verdict::{FlowAction, FlowDirection, Observation};
use vpcsim_dataplane::{Timestamp, Topology};

/// Aggregation interval in seconds (the 60 s option; Nitro instances always use it).
pub const WINDOW_S: u64 = 60;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    eni: EniIdx,
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
}

/// Records are kept in the order their flows first appeared; the map only finds them. A capture
/// in time order therefore needs no sort when the logs are written.
#[derive(Default)]
pub struct FlowLogs {
    index: FxHashMap<Key, u32>,
    records: Vec<(Key, Record)>,
}

impl FlowLogs {
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
            window: secs / WINDOW_S,
            src,
            dst,
            src_port: if ports { h.src_port } else { 0 },
            dst_port: if ports { h.dst_port } else { 0 },
            proto: h.proto.0,
            accept: obs.action == FlowAction::Accept,
        };
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
                },
            ));
        }
        let r = &mut self.records[i].1;
        r.packets += 1;
        r.bytes += bytes;
        r.start = r.start.min(secs);
        r.end = r.end.max(secs);
    }

    /// Write each interface's records, by window and then first appearance.
    pub fn write(
        &self,
        topo: &Topology,
        account_id: &str,
        mut open: impl FnMut(EniIdx) -> io::Result<Box<dyn Write>>,
    ) -> io::Result<usize> {
        let mut by_eni: Table<EniIdx, Vec<u32>> = Table::from(vec![Vec::new(); topo.enis.len()]);
        for (i, (k, _)) in self.records.iter().enumerate() {
            by_eni[k.eni].push(i as u32);
        }
        let mut files = 0;
        for (eni, rows) in by_eni.iter_enumerated_mut() {
            if rows.is_empty() {
                continue;
            }
            files += 1;
            // Stable and nearly free on a capture in time order; orders windows otherwise.
            rows.sort_by_key(|&i| self.records[i as usize].0.window);
            let rows = rows.iter().map(|&i| {
                let (k, r) = &self.records[i as usize];
                (k, r)
            });
            let mut w = open(eni)?;
            let id = &topo.resource(topo.enis[eni].res).aws_id;
            let mut line = Vec::with_capacity(160);
            for (k, r) in rows {
                line.clear();
                line.extend_from_slice(b"2 ");
                line.extend_from_slice(account_id.as_bytes());
                line.push(b' ');
                line.extend_from_slice(id.as_bytes());
                for a in [k.src, k.dst] {
                    line.push(b' ');
                    push_ip(&mut line, a);
                }
                for n in [
                    k.src_port as u64,
                    k.dst_port as u64,
                    k.proto as u64,
                    r.packets,
                    r.bytes,
                    r.start,
                    r.end,
                ] {
                    line.push(b' ');
                    push_u64(&mut line, n);
                }
                line.extend_from_slice(if k.accept {
                    b" ACCEPT OK\n"
                } else {
                    b" REJECT OK\n"
                });
                w.write_all(&line)?;
            }
            w.flush()?;
        }
        Ok(files)
    }
}
