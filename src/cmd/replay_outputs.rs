//! The output thread of `vpcsim replay`: verdict lines, rewritten frames into per-resource
//! pcaps, flow logs, while the reading thread runs the pipeline.

use super::*;

/// The topology the output thread names and files things by: replay's, borrowed for the whole
/// run, or a served region's compiled topology, which live mode swaps when the API changes it.
pub(crate) enum TopologyRef<'a> {
    /// Replay's topology.
    Borrowed(&'a Topology),
    /// A served region's topology of one moment.
    Served(std::sync::Arc<vpcsim_api::plane::Compiled>),
}

impl std::ops::Deref for TopologyRef<'_> {
    type Target = Topology;
    fn deref(&self) -> &Topology {
        match self {
            TopologyRef::Borrowed(t) => t,
            TopologyRef::Served(c) => &c.topology,
        }
    }
}

/// The output thread: rewrites frames into output pcaps and writes verdict lines, while the
/// reading thread runs the pipeline. Formatting and writing cost more than the pipeline itself.
pub(crate) struct Outputs<'a> {
    pub(super) topo: TopologyRef<'a>,
    pub(super) names: JsonNames,
    pub(super) folder: &'a OutputFolder,
    pub(super) verdicts: Option<BufWriter<File>>,
    pub(super) verdicts_path: PathBuf,
    pub(super) writers: FxHashMap<ResId, CaptureWriter>,
    pub(super) line: Vec<u8>,
    pub(super) scratch: Vec<u8>,
    pub(super) framed: Vec<u8>,
    pub(super) flowlogs: FlowLogs,
    /// Open flow-log files, by the resource that owns the interface (its file's name).
    pub(super) flowlog_files: FxHashMap<ResId, outdir::NamedWriter<BufWriter<File>>>,
    /// With `--flow-log-layout s3`, the flow logs go there instead.
    pub(super) flowlog_s3: Option<crate::cmd::flowlog_s3::S3Layout>,
    /// Flow-log records kept for the caller instead of written (`vpcsim serve`).
    pub(super) flow_records: Option<Vec<FlowRecord>>,
    pub(super) account: String,
    pub(super) region: String,
    pub(super) flows: FlowCount,
    /// `simulated.jsonl`, the lines of frames simulated hosts and nodes sent.
    pub(super) simulated: crate::cmd::replay_sim::SimulatedLines,
    /// `--mirror`: every interface a packet crossed gets it, both directions.
    pub(super) mirror: bool,
}

/// The Ethernet frame as it leaves at its exit or arrives at its interface, into `framed`: the
/// headers rewritten to the verdict's, from the router's MAC to the receiving interface's (the
/// internet's for an exit); `scratch` holds the rewritten packet. Returns where it ends (the
/// capture it belongs to). Live mode writes the same frame to the receiving namespace's link.
pub(crate) fn delivered_frame(
    topo: &Topology,
    v: &Outcome,
    meta: &Meta,
    data: &[u8],
    scratch: &mut Vec<u8>,
    framed: &mut Vec<u8>,
) -> ResId {
    let endpoint = v.delivered_to.or(v.egress).unwrap_or(v.at);
    let new = Rewrite {
        src: v.header.src,
        dst: v.header.dst,
        src_port: v.header.src_port,
        dst_port: v.header.dst_port,
        ttl: v.header.ttl,
    };
    let unchanged = new.src == meta.header.src
        && new.dst == meta.header.dst
        && new.src_port == meta.header.src_port
        && new.dst_port == meta.header.dst_port
        && new.ttl == meta.header.ttl;
    let bytes: &[u8] = if unchanged {
        data
    } else {
        scratch.clear();
        scratch.extend_from_slice(data);
        wire::rewrite(scratch, meta, &new);
        scratch
    };
    let dst_mac = v
        .delivered_eni
        .map(|e| topo.enis[e].mac)
        .unwrap_or(INTERNET_MAC);
    framed.clear();
    wire::to_ethernet(bytes, meta, ROUTER_MAC, dst_mac, framed);
    endpoint
}

/// What the output thread hands back for the summary.
pub(crate) struct Written {
    pub(super) flowlogs: FlowLogStats,
    pub(super) flows: (usize, bool),
    pub(super) flow_records: Vec<FlowRecord>,
}

impl<'a> Outputs<'a> {
    pub(crate) fn batch(&mut self, b: &Batch) -> Result<(), String> {
        for item in &b.items {
            match item {
                Item::Unparsed {
                    frame,
                    ts,
                    reason,
                    detail,
                } => {
                    if let Some(w) = self.verdicts.as_mut() {
                        self.line.clear();
                        write_verdict_line(
                            &mut self.line,
                            &self.names,
                            *frame,
                            *ts,
                            FrameVerdict::Unparsed {
                                reason: *reason,
                                detail,
                            },
                        );
                        w.write_all(&self.line)
                            .map_err(|e| format!("{}: {e}", self.verdicts_path.display()))?;
                    }
                }
                Item::DnsAnswer(a) => self.copy_out(a.to, a.ts, &a.frame)?,
                Item::Copy { to, ts, frame } => self.copy_out(*to, *ts, frame)?,
                Item::Judged {
                    frame,
                    ts,
                    outcome,
                    meta,
                    bytes,
                    writes_frame,
                    geneve,
                    orig_len,
                    observations,
                    extra,
                    simulated,
                } => {
                    // A later fragment carries no ports: its datagram's first fragment counted
                    // the flow.
                    if !matches!(meta.frag, Frag::Later { .. }) {
                        self.flows.add(&FlowKey::of(&meta.header).0);
                    }
                    for obs in &b.observations[observations.0 as usize..observations.1 as usize] {
                        self.flowlogs
                            .add(&self.topo, obs, *ts, obs.header.len as u64);
                    }
                    if let (Some((start, len)), Some(g)) = (*bytes, *geneve) {
                        let enc = &b.encapsulations[g as usize];
                        self.geneve_out(*ts, enc, meta, &b.arena[start..start + len], *orig_len)?;
                    }
                    if let (Some((start, len)), true) = (*bytes, *writes_frame) {
                        self.frame_out(
                            *ts,
                            outcome,
                            meta,
                            &b.arena[start..start + len],
                            *orig_len,
                        )?;
                    }
                    if let (Some((start, len)), true) = (*bytes, self.mirror) {
                        let seen =
                            &b.observations[observations.0 as usize..observations.1 as usize];
                        let data = &b.arena[start..start + len];
                        self.mirror_out(*ts, outcome, meta, data, *orig_len, seen)?;
                    }
                    if let (Some((start, len)), Some(DropReason::NetworkFirewallRejected)) =
                        (*bytes, outcome.reason)
                    {
                        self.reset_out(*ts, meta, &b.arena[start..start + len])?;
                    }
                    let out = match simulated {
                        true => self.simulated.open(self.folder)?,
                        false => self.verdicts.as_mut(),
                    };
                    if let Some(w) = out {
                        self.line.clear();
                        write_verdict_line(
                            &mut self.line,
                            &self.names,
                            *frame,
                            *ts,
                            FrameVerdict::Judged(outcome),
                        );
                        if let Some(x) = extra {
                            // Before the line's closing `}` and newline.
                            self.line.truncate(self.line.len() - 2);
                            self.line.extend_from_slice(x.as_bytes());
                            self.line.extend_from_slice(b"}\n");
                        }
                        w.write_all(&self.line).map_err(|e| e.to_string())?;
                    }
                }
            }
        }
        if self.flowlogs.due() {
            self.flush_flowlogs(false)?;
        }
        Ok(())
    }

    /// Write the flow-log records whose window has closed (or all of them), each to
    /// `flowlogs/<Resource>.log`, the file of the resource that owns the interface.
    fn flush_flowlogs(&mut self, all: bool) -> Result<(), String> {
        let (topo, folder, files) = (&*self.topo, self.folder, &mut self.flowlog_files);
        let header = self.flowlogs.format().header();
        let target = FlowLogTarget {
            account_id: &self.account,
            region: &self.region,
        };
        if let Some(kept) = self.flow_records.as_mut() {
            return self
                .flowlogs
                .flush_records(topo, &target, all, |eni, end_s, accept, line| {
                    kept.push(FlowRecord {
                        eni,
                        end_s,
                        accept,
                        line: String::from_utf8_lossy(line).trim_end().to_string(),
                    });
                    Ok(())
                })
                .map_err(|e| e.to_string());
        }
        if let Some(s3) = self.flowlog_s3.as_mut() {
            return self
                .flowlogs
                .flush(topo, &target, all, |eni, end, line| {
                    s3.write(topo, folder, &header, eni, end, line)
                })
                .and_then(|()| s3.close_old())
                .map_err(|e| e.to_string());
        }
        self.flowlogs
            .flush(topo, &target, all, |eni, _end, line| {
                let owner = topo.enis[eni].owner;
                let w = match files.entry(owner) {
                    std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        let rel = format!("{FLOWLOG_DIR}/{}", file_name(topo, owner, "log"));
                        let path = folder.claim(&rel).map_err(std::io::Error::other)?;
                        let f = outdir::create(&path).map_err(std::io::Error::other)?;
                        let mut w = outdir::NamedWriter::new(path, BufWriter::new(f));
                        // AWS's Athena table skips one line: the header S3 files start with.
                        w.write_all(header.as_bytes())?;
                        slot.insert(w)
                    }
                };
                w.write_all(line)
            })
            .map_err(|e| e.to_string())
    }

    /// A frame for `to`'s capture only: the resolver's response, what a load balancer sends.
    fn copy_out(&mut self, to: ResId, ts: Timestamp, frame: &[u8]) -> Result<(), String> {
        let w = match self.writers.entry(to) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let rel = format!("{PCAP_DIR}/{}", file_name(&self.topo, to, "pcap"));
                let path = self.folder.claim(&rel)?;
                slot.insert(
                    CaptureWriter::create(&path, LinkType::Ethernet).map_err(|e| e.to_string())?,
                )
            }
        };
        w.write(ts, frame, frame.len() as u32)
            .map_err(|e| e.to_string())
    }

    /// Write the frame as it leaves or arrives, headers rewritten to the verdict's.
    fn frame_out(
        &mut self,
        ts: Timestamp,
        v: &Outcome,
        meta: &Meta,
        data: &[u8],
        orig_len: u32,
    ) -> Result<(), String> {
        let endpoint = delivered_frame(
            &self.topo,
            v,
            meta,
            data,
            &mut self.scratch,
            &mut self.framed,
        );
        let w = match self.writers.entry(endpoint) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let rel = format!("{PCAP_DIR}/{}", file_name(&self.topo, endpoint, "pcap"));
                let path = self.folder.claim(&rel)?;
                slot.insert(
                    CaptureWriter::create(&path, LinkType::Ethernet).map_err(|e| e.to_string())?,
                )
            }
        };
        let orig = self.framed.len() as u32 + orig_len.saturating_sub(data.len() as u32);
        w.write(ts, &self.framed, orig).map_err(|e| e.to_string())
    }

    /// The TCP RST a Network Firewall `reject` rule sends back, written to the file of the
    /// client that sent the rejected segment.
    fn reset_out(&mut self, ts: Timestamp, meta: &Meta, data: &[u8]) -> Result<(), String> {
        let Some(eni) = self.topo.owner_of(meta.header.src) else {
            return Ok(());
        };
        let e = &self.topo.enis[eni];
        self.framed.clear();
        if !crate::cmd::firewall_logs::reset_frame(meta, data, ROUTER_MAC, e.mac, &mut self.framed)
        {
            return Ok(());
        }
        let w = match self.writers.entry(e.owner) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let rel = format!("{PCAP_DIR}/{}", file_name(&self.topo, e.owner, "pcap"));
                let path = self.folder.claim(&rel)?;
                slot.insert(
                    CaptureWriter::create(&path, LinkType::Ethernet).map_err(|e| e.to_string())?,
                )
            }
        };
        w.write(ts, &self.framed, self.framed.len() as u32)
            .map_err(|e| e.to_string())
    }

    /// The GENEVE datagram a Gateway Load Balancer appliance received (SPEC §11.4): outer IPv4,
    /// UDP 6081 and the AWS options in front of the client's packet as it was when wrapped,
    /// written to the appliance's file.
    fn geneve_out(
        &mut self,
        ts: Timestamp,
        enc: &Encapsulation,
        meta: &Meta,
        data: &[u8],
        orig_len: u32,
    ) -> Result<(), String> {
        let new = Rewrite {
            src: enc.inner.src,
            dst: enc.inner.dst,
            src_port: enc.inner.src_port,
            dst_port: enc.inner.dst_port,
            ttl: enc.inner.ttl,
        };
        self.scratch.clear();
        self.scratch.extend_from_slice(data);
        wire::rewrite(&mut self.scratch, meta, &new);
        let inner = self
            .scratch
            .get(usize::from(meta.l3_offset)..)
            .unwrap_or_default();
        let appliance = &self.topo.enis[enc.appliance];
        self.framed.clear();
        self.framed.extend_from_slice(&appliance.mac);
        self.framed.extend_from_slice(&ROUTER_MAC);
        self.framed.extend_from_slice(&[0x08, 0x00]);
        geneve::write_headers(enc, inner.len(), meta.header.is_v6(), &mut self.framed);
        self.framed.extend_from_slice(inner);
        let w = match self.writers.entry(appliance.owner) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let rel = format!(
                    "{PCAP_DIR}/{}",
                    file_name(&self.topo, appliance.owner, "pcap")
                );
                let path = self.folder.claim(&rel)?;
                slot.insert(
                    CaptureWriter::create(&path, LinkType::Ethernet).map_err(|e| e.to_string())?,
                )
            }
        };
        let orig = self.framed.len() as u32 + orig_len.saturating_sub(data.len() as u32);
        w.write(ts, &self.framed, orig).map_err(|e| e.to_string())
    }

    /// Live mode's writer: verdicts, per-resource pcaps and flow logs (AWS's default format, the
    /// 60-second interval) into `folder`.
    pub(crate) fn live(
        topo: TopologyRef<'a>,
        folder: &'a OutputFolder,
        verdicts: BufWriter<File>,
        verdicts_path: PathBuf,
        account: &str,
        region: &str,
    ) -> Outputs<'a> {
        Outputs {
            names: JsonNames::new(&topo),
            topo,
            folder,
            verdicts: Some(verdicts),
            verdicts_path,
            writers: FxHashMap::default(),
            line: Vec::with_capacity(512),
            scratch: Vec::with_capacity(65_536),
            framed: Vec::with_capacity(65_536),
            flowlogs: FlowLogs::with_format(
                flowlog::DEFAULT_CAPACITY,
                60,
                FlowLogFormat::default(),
            ),
            flowlog_files: FxHashMap::default(),
            flowlog_s3: None,
            account: account.to_string(),
            region: region.to_string(),
            flows: FlowCount::default(),
            simulated: Default::default(),
            mirror: false,
            flow_records: None,
        }
    }

    /// Live mode: the topology the next batches were judged against. When the API changed it,
    /// the open flow-log records are written under the old one first (their interfaces are the
    /// old topology's), and the open files are carried over by resource name.
    pub(crate) fn retarget(&mut self, next: TopologyRef<'a>) -> Result<(), String> {
        let same = match (&self.topo, &next) {
            (TopologyRef::Served(a), TopologyRef::Served(b)) => std::sync::Arc::ptr_eq(a, b),
            _ => false,
        };
        if same {
            return Ok(());
        }
        self.flush_flowlogs(true)?;
        let rekey = |old: &Topology, id: ResId| next.find_resource(old.name(id));
        let writers: Vec<_> = self.writers.drain().collect();
        for (id, w) in writers {
            match rekey(&self.topo, id) {
                Some(new) => {
                    self.writers.insert(new, w);
                }
                None => w.finish().map_err(|e| e.to_string())?,
            }
        }
        let files: Vec<_> = self.flowlog_files.drain().collect();
        for (id, mut w) in files {
            match rekey(&self.topo, id) {
                Some(new) => {
                    self.flowlog_files.insert(new, w);
                }
                None => w.flush().map_err(|e| e.to_string())?,
            }
        }
        self.names = JsonNames::new(&next);
        self.topo = next;
        Ok(())
    }

    /// Live mode: write every open flow-log record and flush the flow logs and verdicts, so what
    /// happened so far can be read while traffic keeps flowing (the pcaps are flushed as their
    /// buffers fill and at the end).
    pub(crate) fn flush_now(&mut self) -> Result<(), String> {
        self.flush_flowlogs(true)?;
        if let Some(w) = self.verdicts.as_mut() {
            w.flush()
                .map_err(|e| format!("{}: {e}", self.verdicts_path.display()))?;
        }
        for w in self.flowlog_files.values_mut() {
            w.flush().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Flush everything; hand back the flow-log counts and flow count for the summary.
    pub(crate) fn finish(mut self) -> Result<Written, String> {
        if let Some(mut w) = self.verdicts.take() {
            w.flush()
                .map_err(|e| format!("{}: {e}", self.verdicts_path.display()))?;
        }
        self.simulated.finish()?;
        for (_, w) in self.writers.drain() {
            w.finish().map_err(|e| e.to_string())?;
        }
        self.flush_flowlogs(true)?;
        for (_, mut w) in self.flowlog_files.drain() {
            w.flush().map_err(|e| e.to_string())?;
        }
        if let Some(s3) = self.flowlog_s3.take() {
            s3.finish().map_err(|e| e.to_string())?;
        }
        Ok(Written {
            flowlogs: FlowLogStats {
                capacity: self.flowlogs.capacity(),
                early_flushes: self.flowlogs.early_flushes,
                records: self.flowlogs.written,
            },
            flows: self.flows.count(),
            flow_records: self.flow_records.take().unwrap_or_default(),
        })
    }
}
