//! Verdicts, packets and hops as JSON: the shapes DESIGN.md gives for `vpcsim trace --json` and
//! for the lines of replay's `verdicts.jsonl`.

use crate::fastfmt::{push_ip, push_ts, push_u64};
use serde_json::{json, Value};
use std::net::IpAddr;
use vpcsim_dataplane::topology::{EniIdx, Table};
use vpcsim_dataplane::trace::Hop;
use vpcsim_dataplane::wire::Header;
use vpcsim_dataplane::{Disposition, DropReason, ResId, Timestamp, Topology, Verdict};

/// A field name, and the same written as it follows another field in an object (`,"name":`),
/// so that the byte writer copies one slice per key.
#[derive(Clone, Copy)]
struct Key {
    name: &'static str,
    json: &'static str,
}

macro_rules! key {
    ($name:literal) => {
        Key {
            name: $name,
            json: concat!(",\"", $name, "\":"),
        }
    };
}

/// The version of the JSON shapes of `verdicts.jsonl` lines and trace JSON, published as
/// `schema/verdict.schema.json` and `schema/trace.schema.json`; every line and trace carries it
/// as `schema_version`.
pub const SCHEMA_VERSION: u64 = 1;

/// The one list of a packet object's fields, in order: protocol, addresses, ports (TCP, UDP),
/// ICMP type, code and, for echo messages, identifier; every key is always there, `null` when
/// it does not apply. [`packet_json`] collects them into a [`Value`] for trace;
/// [`write_verdict_line`] writes them straight into replay's buffer.
fn packet_fields(h: &Header, out: &mut impl Fields) {
    const PROTOCOL: Key = key!("protocol");
    match h.proto.name() {
        Some(name) => out.text(PROTOCOL, name),
        None => out.number_text(PROTOCOL, h.proto.0.into()),
    }
    out.address(key!("src"), h.src);
    out.address(key!("dst"), h.dst);
    let ports = h.has_ports();
    out.number_or_null(key!("src_port"), ports.then_some(h.src_port.into()));
    out.number_or_null(key!("dst_port"), ports.then_some(h.dst_port.into()));
    let icmp = h.is_icmp();
    out.number_or_null(key!("icmp_type"), icmp.then_some(h.icmp_type.into()));
    out.number_or_null(key!("icmp_code"), icmp.then_some(h.icmp_code.into()));
    // Echo messages carry their identifier where TCP and UDP carry the source port.
    let echo = icmp && h.is_icmp_echo();
    out.number_or_null(key!("icmp_id"), echo.then_some(h.src_port.into()));
}

/// Where the fields of a JSON object go. Nothing is escaped: the names are constants and the
/// values protocol names, numbers and addresses.
trait Fields {
    fn text(&mut self, key: Key, value: &'static str);
    /// A number written as a string (an IP protocol without a name).
    fn number_text(&mut self, key: Key, value: u64);
    fn address(&mut self, key: Key, value: IpAddr);
    fn number(&mut self, key: Key, value: u64);
    /// A number, or `null`.
    fn number_or_null(&mut self, key: Key, value: Option<u64>);
}

/// Where the fields of a verdict go: also `null`s and resources, named by logical id.
trait VerdictFields {
    fn text(&mut self, key: Key, value: &'static str);
    /// A string, or `null`.
    fn text_or_null(&mut self, key: Key, value: Option<&'static str>);
    /// A resource, by its logical id.
    fn resource(&mut self, key: Key, r: ResId);
    /// A resource, or `null`.
    fn resource_or_null(&mut self, key: Key, r: Option<ResId>) {
        match r {
            Some(r) => self.resource(key, r),
            None => self.text_or_null(key, None),
        }
    }
}

/// The one list of a verdict's own fields (before its packet): disposition, the drop reason
/// (`null` unless dropped), the resource that decided. Trace JSON and replay's verdict lines
/// both write them with this.
fn verdict_fields(v: &Outcome, out: &mut impl VerdictFields) {
    out.text(key!("disposition"), v.disposition.as_str());
    out.text_or_null(key!("reason"), v.reason.map(|r| r.as_str()));
    out.resource(key!("at"), v.at);
}

/// Where a verdict ended: the interface (or service) it was delivered to, the gateway it left
/// through (`null` when it did not).
fn end_fields(v: &Outcome, out: &mut impl VerdictFields) {
    out.resource_or_null(key!("delivered_to"), v.delivered_to);
    out.resource_or_null(key!("egress"), v.egress);
}

/// A JSON object built as a [`Value`], with resources named from the topology.
struct ValueFields<'t> {
    map: serde_json::Map<String, Value>,
    topo: &'t Topology,
}

impl VerdictFields for ValueFields<'_> {
    fn text(&mut self, key: Key, value: &'static str) {
        self.map.insert(key.name.into(), value.into());
    }

    fn text_or_null(&mut self, key: Key, value: Option<&'static str>) {
        self.map
            .insert(key.name.into(), value.map_or(Value::Null, Value::from));
    }

    fn resource(&mut self, key: Key, r: ResId) {
        self.map
            .insert(key.name.into(), self.topo.name(r).to_string().into());
    }
}

impl Fields for serde_json::Map<String, Value> {
    fn text(&mut self, key: Key, value: &'static str) {
        self.insert(key.name.into(), value.into());
    }

    fn number_text(&mut self, key: Key, value: u64) {
        self.insert(key.name.into(), value.to_string().into());
    }

    fn address(&mut self, key: Key, value: IpAddr) {
        self.insert(key.name.into(), value.to_string().into());
    }

    fn number(&mut self, key: Key, value: u64) {
        self.insert(key.name.into(), value.into());
    }

    fn number_or_null(&mut self, key: Key, value: Option<u64>) {
        self.insert(key.name.into(), value.map_or(Value::Null, Value::from));
    }
}

/// An object written field by field into a byte buffer.
struct Object<'a> {
    buf: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Object<'a> {
    fn open(buf: &'a mut Vec<u8>) -> Object<'a> {
        buf.push(b'{');
        Object { buf, empty: true }
    }

    #[inline]
    fn key(&mut self, key: Key) {
        let json = key.json.as_bytes();
        // The first field has no comma before it.
        self.buf
            .extend_from_slice(if self.empty { &json[1..] } else { json });
        self.empty = false;
    }

    /// A string field whose value `write` appends.
    #[inline]
    fn quoted(&mut self, key: Key, write: impl FnOnce(&mut Vec<u8>)) {
        self.key(key);
        self.buf.push(b'"');
        write(self.buf);
        self.buf.push(b'"');
    }

    fn close(self) {
        self.buf.push(b'}');
    }
}

impl Fields for Object<'_> {
    #[inline]
    fn text(&mut self, key: Key, value: &'static str) {
        self.quoted(key, |buf| buf.extend_from_slice(value.as_bytes()));
    }

    #[inline]
    fn number_text(&mut self, key: Key, value: u64) {
        self.quoted(key, |buf| push_u64(buf, value));
    }

    #[inline]
    fn address(&mut self, key: Key, value: IpAddr) {
        self.quoted(key, |buf| push_ip(buf, value));
    }

    #[inline]
    fn number(&mut self, key: Key, value: u64) {
        self.key(key);
        push_u64(self.buf, value);
    }

    #[inline]
    fn number_or_null(&mut self, key: Key, value: Option<u64>) {
        match value {
            Some(v) => self.number(key, v),
            None => {
                self.key(key);
                self.buf.extend_from_slice(b"null");
            }
        }
    }
}

/// A verdict line of `verdicts.jsonl` being written: an [`Object`] whose first fields the
/// caller wrote, resources named from the precomputed names.
struct Line<'a> {
    obj: Object<'a>,
    names: &'a JsonNames,
}

impl VerdictFields for Line<'_> {
    #[inline]
    fn text(&mut self, key: Key, value: &'static str) {
        self.obj.text(key, value);
    }

    #[inline]
    fn text_or_null(&mut self, key: Key, value: Option<&'static str>) {
        match value {
            Some(v) => self.obj.text(key, v),
            None => {
                self.obj.key(key);
                self.obj.buf.extend_from_slice(b"null");
            }
        }
    }

    #[inline]
    fn resource(&mut self, key: Key, r: ResId) {
        self.obj.key(key);
        self.obj.buf.extend_from_slice(self.names.get(r));
    }
}

/// A packet's header as the `packet` object of trace JSON (replay's verdict lines write the
/// same fields).
pub fn packet_json(h: &Header) -> Value {
    let mut fields = serde_json::Map::new();
    packet_fields(h, &mut fields);
    Value::Object(fields)
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

/// The trace JSON of DESIGN.md: the verdict's fields, the packet, the hops, then the
/// explanation of a drop and where the packet ended.
pub fn trace_json(topo: &Topology, v: &Verdict, hops: &[Hop]) -> Value {
    let outcome = Outcome::from(v);
    let mut fields = ValueFields {
        map: serde_json::Map::new(),
        topo,
    };
    verdict_fields(&outcome, &mut fields);
    let mut out = Value::Object(fields.map);
    out["packet"] = packet_json(&v.header);
    out["hops"] = hops.iter().map(|h| hop_json(topo, h)).collect();
    out["explanation_code"] = json!(v.reason.map(|r| r.ra_code()));
    out["hint"] = json!(v.reason.map(|r| r.hint()));
    let mut ends = ValueFields {
        map: serde_json::Map::new(),
        topo,
    };
    end_fields(&outcome, &mut ends);
    for (k, e) in ends.map {
        out[k] = e;
    }
    out["at_name"] = json!(topo.resource(v.at).name);
    out["schema_version"] = json!(SCHEMA_VERSION);
    out
}

/// The keys `vpcsim trace --json` adds to [`trace_json`] when they apply (the HTTP exchange, the
/// explanation, the return trace, the asymmetry, the fixes), set to `null` where they do not:
/// every key is on every trace (`schema/trace.schema.json`).
pub fn complete_trace_keys(trace: &mut Value) {
    for key in ["http", "explanation", "return", "asymmetric", "fixes"] {
        if trace.get(key).is_none() {
            trace[key] = Value::Null;
        }
    }
}

/// Every resource's logical id as a JSON string (quoted, escaped), computed once so that writing
/// a verdict line formats no strings.
pub struct JsonNames(Table<ResId, String>);

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
        self.0[r].as_bytes()
    }
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
    pub delivered_eni: Option<EniIdx>,
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
    // `ts` is a float of microseconds, as tcpdump prints; the capture's own nanoseconds too.
    buf.extend_from_slice(b",\"ts_ns\":");
    push_u64(buf, ts.0);
    match verdict {
        FrameVerdict::Judged(v) => {
            let mut line = Line {
                obj: Object { buf, empty: false },
                names,
            };
            verdict_fields(v, &mut line);
            end_fields(v, &mut line);
            buf.extend_from_slice(b",\"detail\":null,\"packet\":");
            let mut packet = Object::open(buf);
            packet_fields(&v.header, &mut packet);
            packet.close();
        }
        FrameVerdict::Unparsed { reason, detail } => {
            buf.extend_from_slice(b",\"disposition\":\"DROPPED\",\"reason\":\"");
            buf.extend_from_slice(reason.as_str().as_bytes());
            buf.extend_from_slice(
                b"\",\"at\":\"internet\",\"delivered_to\":null,\"egress\":null,\"detail\":",
            );
            let _ = serde_json::to_writer(&mut *buf, detail);
            buf.extend_from_slice(b",\"packet\":null");
        }
    }
    buf.extend_from_slice(b",\"schema_version\":");
    push_u64(buf, SCHEMA_VERSION);
    buf.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use vpcsim_dataplane::wire::IpProtocol;

    fn header(proto: IpProtocol, src: &str, dst: &str, icmp_type: u8) -> Header {
        Header {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            proto,
            src_port: 40000,
            dst_port: if proto == IpProtocol::TCP || proto == IpProtocol::UDP {
                443
            } else {
                0
            },
            icmp_type,
            icmp_code: 0,
            tcp_flags: 0,
            ttl: 64,
            len: 60,
        }
    }

    #[test]
    fn trace_and_verdict_lines_write_the_same_packet() {
        let topo = Topology::new();
        let names = JsonNames::new(&topo);
        for (h, want) in [
            (
                header(IpProtocol::TCP, "10.0.2.30", "198.51.100.7", 0),
                r#"{"protocol":"tcp","src":"10.0.2.30","dst":"198.51.100.7","src_port":40000,"dst_port":443,"icmp_type":null,"icmp_code":null,"icmp_id":null}"#,
            ),
            (
                header(IpProtocol::UDP, "2001:db8::1", "2001:db8::2", 0),
                r#"{"protocol":"udp","src":"2001:db8::1","dst":"2001:db8::2","src_port":40000,"dst_port":443,"icmp_type":null,"icmp_code":null,"icmp_id":null}"#,
            ),
            (
                header(IpProtocol::ICMP, "10.0.2.30", "8.8.8.8", 8),
                r#"{"protocol":"icmp","src":"10.0.2.30","dst":"8.8.8.8","src_port":null,"dst_port":null,"icmp_type":8,"icmp_code":0,"icmp_id":40000}"#,
            ),
            (
                header(IpProtocol::ICMP, "10.0.2.30", "8.8.8.8", 3),
                r#"{"protocol":"icmp","src":"10.0.2.30","dst":"8.8.8.8","src_port":null,"dst_port":null,"icmp_type":3,"icmp_code":0,"icmp_id":null}"#,
            ),
            (
                header(IpProtocol::ICMPV6, "2001:db8::1", "2001:db8::2", 129),
                r#"{"protocol":"icmpv6","src":"2001:db8::1","dst":"2001:db8::2","src_port":null,"dst_port":null,"icmp_type":129,"icmp_code":0,"icmp_id":40000}"#,
            ),
            (
                header(IpProtocol(47), "10.0.2.30", "192.0.2.9", 0),
                r#"{"protocol":"47","src":"10.0.2.30","dst":"192.0.2.9","src_port":null,"dst_port":null,"icmp_type":null,"icmp_code":null,"icmp_id":null}"#,
            ),
        ] {
            assert_eq!(packet_json(&h).to_string(), want);
            let outcome = Outcome {
                disposition: Disposition::Exited,
                reason: None,
                at: ResId::INTERNET,
                delivered_to: None,
                egress: Some(ResId::INTERNET),
                delivered_eni: None,
                header: h,
            };
            let mut line = Vec::new();
            write_verdict_line(
                &mut line,
                &names,
                7,
                Timestamp(1_700_000_000_000_042_000),
                FrameVerdict::Judged(&outcome),
            );
            let line = String::from_utf8(line).unwrap();
            assert!(
                line.starts_with(r#"{"frame":7,"ts":1700000000.000042,"ts_ns":1700000000000042000,"disposition":"EXITED""#),
                "{line}"
            );
            assert!(
                line.ends_with(&format!(",\"packet\":{want},\"schema_version\":1}}\n")),
                "{line}"
            );
        }
    }
}
