//! Verdicts, packets and hops as JSON: the shapes DESIGN.md gives for `vpcsim trace --json` and
//! for the lines of replay's `verdicts.jsonl`.

use crate::fastfmt::{push_ip, push_ts, push_u64};
use serde_json::{json, Value};
use vpcsim_dataplane::flow::Header;
use vpcsim_dataplane::trace::Hop;
use vpcsim_dataplane::{Disposition, DropReason, Idx, ResId, Timestamp, Topology, Verdict};

/// A packet's header as the `packet` object: protocol, addresses, then ports (TCP, UDP) or ICMP
/// type, code and, for echo messages, identifier.
pub fn packet_json(h: &Header) -> Value {
    let mut p = json!({
        "protocol": h.protocol_name().to_string(),
        "src": h.src.to_string(),
        "dst": h.dst.to_string(),
    });
    if h.has_ports() {
        p["src_port"] = json!(h.src_port);
        p["dst_port"] = json!(h.dst_port);
    }
    if h.is_icmp() {
        p["icmp_type"] = json!(h.icmp_type);
        p["icmp_code"] = json!(h.icmp_code);
        if h.is_icmp_echo() {
            p["icmp_id"] = json!(h.src_port);
        }
    }
    p
}

/// One hop: the resource that acted (logical id, AWS id, type), the stage, the action, the rule
/// that decided, and the packet as it left the hop.
pub fn hop_json(topo: &Topology, h: &Hop) -> Value {
    let r = topo.resource(h.resource);
    json!({
        "resource": r.logical_id,
        "id": r.aws_id,
        "type": r.kind,
        "stage": h.stage.as_str(),
        "action": h.action.as_str(),
        "rule": h.rule,
        "detail": h.detail,
        "packet": packet_json(&h.header),
    })
}

/// The trace JSON of DESIGN.md.
pub fn trace_json(topo: &Topology, v: &Verdict, hops: &[Hop]) -> Value {
    let mut out = json!({
        "disposition": v.disposition.as_str(),
        "reason": v.reason.map(|r| r.as_str()),
        "at": topo.name(v.at),
        "packet": packet_json(&v.header),
        "hops": hops.iter().map(|h| hop_json(topo, h)).collect::<Vec<_>>(),
    });
    if let Some(r) = v.reason {
        out["explanation_code"] = json!(r.ra_code());
        out["hint"] = json!(r.hint());
    }
    if let Some(d) = v.delivered_to {
        out["delivered_to"] = json!(topo.name(d));
    }
    if let Some(e) = v.egress {
        out["egress"] = json!(topo.name(e));
    }
    if let Some(n) = topo.resource(v.at).name.as_ref() {
        out["at_name"] = json!(n);
    }
    out
}

/// Every resource's logical id as a JSON string (quoted, escaped), computed once so that writing
/// a verdict line formats no strings.
pub struct JsonNames(Vec<String>);

impl JsonNames {
    /// The names of every resource of `topo`, indexed by [`ResId`].
    pub fn new(topo: &Topology) -> JsonNames {
        JsonNames(
            topo.resources
                .iter()
                .map(|r| serde_json::to_string(&r.logical_id).unwrap_or_else(|_| "\"?\"".into()))
                .collect(),
        )
    }

    fn get(&self, r: ResId) -> &[u8] {
        self.0[r.0 as usize].as_bytes()
    }
}

fn write_packet(buf: &mut Vec<u8>, h: &Header) {
    buf.extend_from_slice(b"{\"protocol\":\"");
    match h.proto {
        6 => buf.extend_from_slice(b"tcp"),
        17 => buf.extend_from_slice(b"udp"),
        1 => buf.extend_from_slice(b"icmp"),
        58 => buf.extend_from_slice(b"icmpv6"),
        n => push_u64(buf, n as u64),
    }
    buf.extend_from_slice(b"\",\"src\":\"");
    push_ip(buf, h.src);
    buf.extend_from_slice(b"\",\"dst\":\"");
    push_ip(buf, h.dst);
    buf.push(b'"');
    if h.has_ports() {
        buf.extend_from_slice(b",\"src_port\":");
        push_u64(buf, h.src_port as u64);
        buf.extend_from_slice(b",\"dst_port\":");
        push_u64(buf, h.dst_port as u64);
    } else if h.is_icmp() {
        buf.extend_from_slice(b",\"icmp_type\":");
        push_u64(buf, h.icmp_type as u64);
        buf.extend_from_slice(b",\"icmp_code\":");
        push_u64(buf, h.icmp_code as u64);
    }
    buf.push(b'}');
}

/// The parts of a verdict that replay's outputs need, small enough to queue per frame.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// Delivered, exited or dropped.
    pub disposition: Disposition,
    /// Why it was dropped.
    pub reason: Option<DropReason>,
    /// The resource that decided.
    pub at: ResId,
    /// The instance or interface it was delivered to.
    pub delivered_to: Option<ResId>,
    /// The gateway it left through.
    pub egress: Option<ResId>,
    /// The interface it was delivered to (its MAC addresses the output frame).
    pub delivered_eni: Option<Idx>,
    /// The packet as it ended, after every rewrite.
    pub header: Header,
}

impl From<&Verdict> for Outcome {
    fn from(v: &Verdict) -> Outcome {
        Outcome {
            disposition: v.disposition,
            reason: v.reason,
            at: v.at,
            delivered_to: v.delivered_to,
            egress: v.egress,
            delivered_eni: v.delivered_eni,
            header: v.header,
        }
    }
}

/// What one line of `verdicts.jsonl` reports about a frame.
#[derive(Clone, Copy, Debug)]
pub enum FrameVerdict<'a> {
    /// The frame parsed and went through the pipeline.
    Judged(&'a Outcome),
    /// The frame did not parse: dropped where it was captured, with the parser's reason.
    Unparsed {
        /// `MALFORMED` or `UNSUPPORTED`.
        reason: DropReason,
        /// What the parser found.
        detail: &'a str,
    },
}

/// Append one line of `verdicts.jsonl` (frame numbers start at 1). Written by hand into a byte
/// buffer: replay writes one line per frame, and formatting dominated its output thread.
pub fn write_verdict_line(
    buf: &mut Vec<u8>,
    names: &JsonNames,
    frame: u64,
    ts: Timestamp,
    verdict: FrameVerdict,
) {
    buf.extend_from_slice(b"{\"frame\":");
    push_u64(buf, frame);
    buf.extend_from_slice(b",\"ts\":");
    push_ts(buf, ts.0);
    match verdict {
        FrameVerdict::Judged(v) => {
            buf.extend_from_slice(b",\"disposition\":\"");
            buf.extend_from_slice(v.disposition.as_str().as_bytes());
            buf.extend_from_slice(b"\",\"reason\":");
            match v.reason {
                Some(r) => {
                    buf.push(b'"');
                    buf.extend_from_slice(r.as_str().as_bytes());
                    buf.push(b'"');
                }
                None => buf.extend_from_slice(b"null"),
            }
            buf.extend_from_slice(b",\"at\":");
            buf.extend_from_slice(names.get(v.at));
            if let Some(d) = v.delivered_to {
                buf.extend_from_slice(b",\"delivered_to\":");
                buf.extend_from_slice(names.get(d));
            }
            if let Some(e) = v.egress {
                buf.extend_from_slice(b",\"egress\":");
                buf.extend_from_slice(names.get(e));
            }
            buf.extend_from_slice(b",\"packet\":");
            write_packet(buf, &v.header);
        }
        FrameVerdict::Unparsed { reason, detail } => {
            buf.extend_from_slice(b",\"disposition\":\"DROPPED\",\"reason\":\"");
            buf.extend_from_slice(reason.as_str().as_bytes());
            buf.extend_from_slice(b"\",\"at\":\"internet\",\"detail\":");
            let _ = serde_json::to_writer(&mut *buf, detail);
            buf.extend_from_slice(b",\"packet\":null");
        }
    }
    buf.extend_from_slice(b"}\n");
}
