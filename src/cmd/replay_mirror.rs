//! `replay --mirror`: every interface's capture holds both directions, as VPC Traffic Mirroring
//! copies a network interface's inbound and outbound packets.
//!
//! Without it, `out/<Resource>.pcap` holds the frames as they arrive at their destination. With
//! it, each interface a packet crossed (its interface sightings, the ones its flow logs come
//! from) also gets the packet as it was there: leaving its source, entering and leaving a NAT
//! gateway or an appliance. A packet a security group or network ACL rejected at an interface
//! is not copied there: it never crossed it.

use super::{Outputs, ROUTER_MAC};
use vpcsim_capture::CaptureWriter;
use vpcsim_dataplane::verdict::{FlowAction, FlowDirection, Observation};
use vpcsim_dataplane::wire::{self, LinkType, Meta, Rewrite};
use vpcsim_dataplane::{ResId, Timestamp};
use vpcsim_report::json::Outcome;

impl Outputs<'_> {
    /// Copy the frame to the capture of every interface it crossed, rewritten to its header
    /// there; the arrival at the destination is in that capture already.
    pub(super) fn mirror_out(
        &mut self,
        ts: Timestamp,
        outcome: &Outcome,
        meta: &Meta,
        data: &[u8],
        orig_len: u32,
        observations: &[Observation],
    ) -> Result<(), String> {
        for obs in observations {
            let arrival = obs.direction == FlowDirection::Ingress;
            if obs.action != FlowAction::Accept
                || (arrival && outcome.delivered_eni == Some(obs.eni))
            {
                continue;
            }
            let h = &obs.header;
            let new = Rewrite {
                src: h.src,
                dst: h.dst,
                src_port: h.src_port,
                dst_port: h.dst_port,
                ttl: h.ttl,
            };
            self.scratch.clear();
            self.scratch.extend_from_slice(data);
            wire::rewrite(&mut self.scratch, meta, &new);
            let eni = &self.topo.enis[obs.eni];
            let (src_mac, dst_mac) = match arrival {
                true => (ROUTER_MAC, eni.mac),
                false => (eni.mac, ROUTER_MAC),
            };
            self.framed.clear();
            wire::to_ethernet(&self.scratch, meta, src_mac, dst_mac, &mut self.framed);
            let orig = self.framed.len() as u32 + orig_len.saturating_sub(data.len() as u32);
            let owner = eni.owner;
            let framed = std::mem::take(&mut self.framed);
            let written = self
                .capture_of(owner)
                .and_then(|w| w.write(ts, &framed, orig).map_err(|e| e.to_string()));
            self.framed = framed;
            written?;
        }
        Ok(())
    }

    /// The capture of a resource's interfaces, `out/<Resource>.pcap`, opened on first use.
    fn capture_of(&mut self, owner: ResId) -> Result<&mut CaptureWriter, String> {
        if !self.writers.contains_key(&owner) {
            let rel = format!(
                "{}/{}",
                super::PCAP_DIR,
                super::file_name(&self.topo, owner, "pcap")
            );
            let path = self.folder.claim(&rel)?;
            let w = CaptureWriter::create(&path, LinkType::Ethernet).map_err(|e| e.to_string())?;
            self.writers.insert(owner, w);
        }
        self.writers
            .get_mut(&owner)
            .ok_or_else(|| "the capture writer went missing".to_string())
    }
}
