//! What `replay` does with simulated hosts and load balancer nodes (see [`super::hostsim`]):
//! each frame delivered to a simulated interface is handed to its stack, and what the stacks
//! send back goes through the pipeline like a captured frame, written, logged and counted.

use super::hostsim::logs::Logs;
use super::hostsim::{conversation, Conversation, HostSim, Sent};
use super::outdir::{self, OutputFolder};
use super::replay::{Batch, Item, Pipeline, ROUTER_MAC};
use rustc_hash::FxHashSet;
use serde_json::{json, Value};
use std::fs::File;
use std::io::{BufWriter, Write};
use vpcsim_capture::CaptureReader;
use vpcsim_dataplane::wire::{self, IpProtocol, LinkType, Meta, Rewrite};
use vpcsim_dataplane::{
    process, Disposition, DropReason, NoTrace, Origin, Timestamp, Topology, Verdict,
};
use vpcsim_report::json::Outcome;
use vpcsim_report::summary::Counters;

/// The simulation and its log files.
pub struct Sim<'a> {
    /// The simulated interfaces.
    pub hosts: HostSim<'a>,
    /// The access and WAF logs.
    pub logs: Logs<'a>,
    /// What the frames the simulated interfaces sent became.
    pub sent: Counters,
}

/// `DIR/simulated.jsonl`: the verdict lines of the frames simulated hosts and load balancer
/// nodes sent (`sent_by`), numbered with the captured frame that caused them; created with the
/// first.
#[derive(Default)]
pub struct SimulatedLines(Option<BufWriter<File>>);

impl SimulatedLines {
    /// The file, created on first use.
    pub fn open(&mut self, folder: &OutputFolder) -> Result<Option<&mut BufWriter<File>>, String> {
        if self.0.is_none() {
            let f = outdir::create(&folder.claim(SIMULATED)?)?;
            self.0 = Some(BufWriter::new(f));
        }
        Ok(self.0.as_mut())
    }

    /// Flush it.
    pub fn finish(&mut self) -> Result<(), String> {
        match self.0.as_mut() {
            Some(w) => w.flush().map_err(|e| format!("{SIMULATED}: {e}")),
            None => Ok(()),
        }
    }
}

const SIMULATED: &str = "simulated.jsonl";

/// Every TCP conversation of the capture: a connection whose answers it holds is not answered
/// again by a simulated host. A first pass over the file, before the replay (a regular file
/// only).
pub fn captured_conversations(
    paths: &[std::path::PathBuf],
) -> Result<FxHashSet<Conversation>, String> {
    let mut seen = FxHashSet::default();
    for path in paths {
        // A pipe or device (or `-`) cannot be read twice: its capture is taken as one-sided.
        if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let mut reader = CaptureReader::open(path).map_err(|e| e.to_string())?;
        while let Some(Ok(f)) = reader.next_frame() {
            if let Ok(m) = wire::parse(f.link, f.data) {
                let h = m.header;
                if h.proto == IpProtocol::TCP {
                    seen.insert(conversation((h.src, h.src_port), (h.dst, h.dst_port)));
                }
            }
        }
    }
    Ok(seen)
}

/// The IP packet of `data` as the pipeline delivered it (the verdict's addresses and ports).
fn delivered_ip(meta: &Meta, data: &[u8], v: &Verdict) -> Vec<u8> {
    let mut frame = data.to_vec();
    let new = Rewrite {
        src: v.header.src,
        dst: v.header.dst,
        src_port: v.header.src_port,
        dst_port: v.header.dst_port,
        ttl: v.header.ttl,
    };
    wire::rewrite(&mut frame, meta, &new);
    frame.split_off(usize::from(meta.l3_offset).min(frame.len()))
}

/// The extra fields of a verdict line: `http` for the frame that completed a request, and
/// `sent_by` for a frame a simulated interface sent.
fn extra(http: Option<Value>, sent_by: Option<&str>) -> Option<Box<str>> {
    let mut s = String::new();
    if let Some(h) = http {
        s.push_str(",\"http\":");
        s.push_str(&h.to_string());
    }
    if let Some(by) = sent_by {
        s.push_str(",\"sent_by\":");
        s.push_str(&json!(by).to_string());
    }
    (!s.is_empty()).then(|| s.into_boxed_str())
}

impl Pipeline<'_> {
    /// Hand a judged frame to the simulated interface it reached; the extra fields of its
    /// verdict line.
    pub(super) fn simulate_delivery(
        &mut self,
        meta: &Meta,
        data: &[u8],
        v: &Verdict,
        ts: Timestamp,
    ) -> Option<Box<str>> {
        let sim = self.sim.as_mut()?;
        if v.disposition != Disposition::Delivered || v.delivered_eni.is_none() {
            return None;
        }
        let http = sim
            .hosts
            .delivered(&meta.header, v, delivered_ip(meta, data, v), ts);
        extra(http, None)
    }

    /// Push what the simulated interfaces send through the pipeline until they are quiet.
    pub(super) fn pump(&mut self, batch: &mut Batch, now: Timestamp) -> Result<(), String> {
        if self.sim.is_none() {
            return Ok(());
        }
        loop {
            while let Some(sent) = self.sim.as_mut().and_then(|s| s.hosts.next()) {
                self.sent_frame(sent, batch);
            }
            let more = self.sim.as_mut().is_some_and(|s| s.hosts.settle(now));
            if !more {
                break;
            }
        }
        match self.sim.as_mut() {
            Some(sim) => sim.hosts.write_logs(&mut sim.logs),
            None => Ok(()),
        }
    }

    /// One packet a simulated interface sent, judged like a captured frame.
    fn sent_frame(&mut self, sent: Sent, batch: &mut Batch) {
        let topo: &Topology = self.topo;
        let Ok(meta) = wire::parse(LinkType::Raw, &sent.ip) else {
            return;
        };
        let v = process(
            topo,
            self.state,
            &meta,
            Origin::Eni(sent.from),
            sent.ts,
            &mut NoTrace,
        );
        // Counted apart from the frames read, so verdicts.jsonl keeps Wireshark's numbering.
        let frame_no = self.frames_read;
        if let Some(sim) = self.sim.as_mut() {
            let c = &mut sim.sent;
            c.packets += 1;
            c.bytes += sent.ip.len() as u64;
            c.count(v.disposition, v.reason);
        }
        let first = batch.observations.len() as u32;
        batch.observations.extend(v.observations().copied());
        let observations = (first, batch.observations.len() as u32);
        let start = batch.arena.len();
        batch.arena.extend_from_slice(&sent.ip);
        if let Some(lb) = sent.to_client_of {
            // The load balancer's own capture: the frame as the node sent it.
            let mut framed = Vec::with_capacity(14 + sent.ip.len());
            let mac = topo.enis[sent.from].mac;
            wire::to_ethernet(&sent.ip, &meta, mac, ROUTER_MAC, &mut framed);
            batch.items.push(Item::Copy {
                to: lb,
                ts: sent.ts,
                frame: framed,
            });
        }
        let owner = topo.name(topo.enis[sent.from].owner).to_string();
        let http = match self.sim.as_mut() {
            Some(sim) => {
                sim.hosts
                    .delivered(&meta.header, &v, delivered_ip(&meta, &sent.ip, &v), sent.ts)
            }
            None => None,
        };
        batch.items.push(Item::Judged {
            frame: frame_no,
            ts: sent.ts,
            outcome: Outcome::from(&v),
            meta,
            bytes: Some((start, sent.ip.len())),
            writes_frame: v.disposition != Disposition::Dropped,
            geneve: None,
            orig_len: sent.ip.len() as u32,
            observations,
            extra: extra(http, Some(&owner)),
            simulated: true,
        });
    }
}

/// The simulation's counts for summary.json.
pub fn summary(sim: &Sim<'_>) -> Value {
    let s = &sim.hosts.stats;
    let c = &sim.sent;
    let reasons: serde_json::Map<String, Value> = DropReason::ALL
        .iter()
        .filter(|&&r| c.reasons[r as usize] > 0)
        .map(|&r| (r.as_str().to_string(), json!(c.reasons[r as usize])))
        .collect();
    json!({
        "frames_sent": c.packets,
        "bytes_sent": c.bytes,
        "dispositions": {
            "DELIVERED": c.dispositions[Disposition::Delivered as usize],
            "EXITED": c.dispositions[Disposition::Exited as usize],
            "DROPPED": c.dispositions[Disposition::Dropped as usize],
        },
        "reasons": reasons,
        "host_requests": s.host_requests,
        "alb_requests": s.alb_requests,
        "syns_over_capacity": s.syns_over_capacity,
    })
}

/// The logs' folder and the simulation, for a replay into `folder`.
pub fn open<'a>(hosts: HostSim<'a>, folder: &'a OutputFolder) -> Sim<'a> {
    Sim {
        hosts,
        logs: Logs::new(folder),
        sent: Counters::default(),
    }
}
