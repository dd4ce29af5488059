//! DNS messages on the wire, read and written with `hickory-proto`, and the UDP frames that
//! carry the resolver's answers back to the asking interface.

use super::resolve::{Rcode, Resolution};
use super::{RData, RecordType, SOA_MINIMUM};
use etherparse::PacketBuilder;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{self, CNAME, MX, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{self, Name, Record};
use std::net::IpAddr;

/// The question of a DNS query message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsQuery {
    /// The message id.
    pub id: u16,
    /// The name asked, normalized.
    pub name: String,
    /// The type asked, as its number.
    pub qtype_code: u16,
    /// The type asked, when vpcsim answers it (others get no records).
    pub qtype: Option<RecordType>,
    /// Recursion desired.
    pub recursion_desired: bool,
    /// The largest response the asker takes over UDP: 512 bytes, or what its EDNS0 OPT record
    /// advertises (at most 4096, what Route 53 sends over UDP).
    pub udp_payload_size: u16,
}

/// Read a DNS query message (one question, opcode QUERY); `None` for anything else (responses,
/// updates, garbage).
pub fn parse_query(payload: &[u8]) -> Option<DnsQuery> {
    let m = Message::from_vec(payload).ok()?;
    if m.message_type() != MessageType::Query || m.op_code() != OpCode::Query {
        return None;
    }
    let q = m.queries().first()?;
    let code = u16::from(q.query_type());
    Some(DnsQuery {
        id: m.id(),
        name: super::normalize(&q.name().to_ascii()),
        qtype_code: code,
        qtype: RecordType::parse(&q.query_type().to_string()),
        recursion_desired: m.recursion_desired(),
        udp_payload_size: m.max_payload().min(MAX_UDP_PAYLOAD),
    })
}

/// The largest DNS message Route 53 sends over UDP, to an asker that advertises EDNS0.
pub const MAX_UDP_PAYLOAD: u16 = 4096;

/// A response too large for UDP as the resolver sends it instead: the header with TC set and
/// the question, no records, so that the asker repeats the query over TCP (RFC 1035 §4.2.1).
pub fn truncated(response: &[u8]) -> Vec<u8> {
    let Ok(full) = Message::from_vec(response) else {
        return Vec::new();
    };
    let mut m = Message::new();
    m.set_id(full.id())
        .set_message_type(MessageType::Response)
        .set_op_code(full.op_code())
        .set_recursion_desired(full.recursion_desired())
        .set_recursion_available(full.recursion_available())
        .set_response_code(full.response_code())
        .set_truncated(true);
    for q in full.queries() {
        m.add_query(q.clone());
    }
    m.to_vec().unwrap_or_default()
}

/// A recursive query for `name` of type `qtype`, as a client sends it.
pub fn query(id: u16, qname: &str, qtype: RecordType) -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(id).set_recursion_desired(true);
    let code = match qtype {
        RecordType::A => rr::RecordType::A,
        RecordType::Aaaa => rr::RecordType::AAAA,
        RecordType::Cname => rr::RecordType::CNAME,
        RecordType::Mx => rr::RecordType::MX,
        RecordType::Txt => rr::RecordType::TXT,
        RecordType::Srv => rr::RecordType::SRV,
        RecordType::Ptr => rr::RecordType::PTR,
        RecordType::Ns => rr::RecordType::NS,
        RecordType::Soa => rr::RecordType::SOA,
    };
    m.add_query(Query::query(name(qname), code));
    m.to_vec().unwrap_or_default()
}

fn name(n: &str) -> Name {
    if n.is_empty() {
        return Name::root();
    }
    let mut parsed = Name::from_ascii(n).unwrap_or_else(|_| Name::root());
    parsed.set_fqdn(true);
    parsed
}

fn to_rdata(d: &RData) -> rr::RData {
    match d {
        RData::A(a) => rr::RData::A(rdata::A(*a)),
        RData::Aaaa(a) => rr::RData::AAAA(rdata::AAAA(*a)),
        RData::Cname(n) => rr::RData::CNAME(CNAME(name(n))),
        RData::Ptr(n) => rr::RData::PTR(PTR(name(n))),
        RData::Ns(n) => rr::RData::NS(NS(name(n))),
        RData::Mx(p, n) => rr::RData::MX(MX::new(*p, name(n))),
        RData::Srv(p, w, port, n) => rr::RData::SRV(SRV::new(*p, *w, *port, name(n))),
        // One character-string holds at most 255 bytes.
        RData::Txt(t) => rr::RData::TXT(TXT::new(
            t.as_bytes()
                .chunks(255)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect(),
        )),
    }
}

/// The SOA record of a negative answer: Route 53's values (SPEC §21.5).
fn soa(zone: &str, ttl: u32) -> Record {
    let rdata = SOA::new(
        name("ns-0.awsdns-00.com"),
        name("awsdns-hostmaster.amazon.com"),
        1,
        7200,
        900,
        1_209_600,
        SOA_MINIMUM,
    );
    Record::from_rdata(name(zone), ttl, rr::RData::SOA(rdata))
}

/// The response message to `q`: its question, the resolution's answers (only those of the type
/// asked and the CNAMEs leading to them) and, for negative answers, the zone's SOA.
pub fn response(q: &DnsQuery, r: &Resolution) -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(q.id)
        .set_message_type(MessageType::Response)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(q.recursion_desired)
        .set_recursion_available(true)
        .set_response_code(match r.rcode {
            Rcode::NoError => ResponseCode::NoError,
            Rcode::NxDomain => ResponseCode::NXDomain,
            Rcode::ServFail => ResponseCode::ServFail,
        });
    m.add_query(Query::query(name(&q.name), q.qtype_code.into()));
    for a in &r.answers {
        let keep =
            a.data.record_type() == RecordType::Cname || Some(a.data.record_type()) == q.qtype;
        if keep {
            m.add_answer(Record::from_rdata(name(&a.name), a.ttl, to_rdata(&a.data)));
        }
    }
    if let Some((zone, ttl)) = &r.soa {
        m.add_name_server(soa(zone, *ttl));
    }
    m.to_vec().unwrap_or_default()
}

/// The Ethernet frame carrying a DNS message over UDP from `src` to `dst`, checksums computed.
pub struct UdpFrame {
    /// Source address and port.
    pub src: (IpAddr, u16),
    /// Destination address and port.
    pub dst: (IpAddr, u16),
    /// Source MAC.
    pub src_mac: [u8; 6],
    /// Destination MAC.
    pub dst_mac: [u8; 6],
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
}

impl UdpFrame {
    /// Append the frame with `payload` to `out`; nothing when the families differ.
    pub fn write(&self, payload: &[u8], out: &mut Vec<u8>) {
        let eth = PacketBuilder::ethernet2(self.src_mac, self.dst_mac);
        let ip = match (self.src.0, self.dst.0) {
            (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), self.ttl),
            (IpAddr::V6(s), IpAddr::V6(d)) => eth.ipv6(s.octets(), d.octets(), self.ttl),
            _ => return,
        };
        let b = ip.udp(self.src.1, self.dst.1);
        let start = out.len();
        out.reserve(b.size(payload.len()));
        if b.write(out, payload).is_err() {
            out.truncate(start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::resolve::Source;
    use super::super::Answer;
    use super::*;

    #[test]
    fn a_response_reads_back_with_its_question_answers_and_soa() {
        let mut q = Message::new();
        q.set_id(0x1234).set_recursion_desired(true);
        q.add_query(Query::query(
            Name::from_ascii("db.internal.example.").unwrap(),
            rr::RecordType::A,
        ));
        let parsed = parse_query(&q.to_vec().unwrap()).unwrap();
        assert_eq!(parsed.name, "db.internal.example");
        assert_eq!(parsed.qtype, Some(RecordType::A));
        let r = Resolution {
            rcode: Rcode::NoError,
            answers: vec![Answer {
                name: "db.internal.example".into(),
                ttl: 300,
                data: RData::A("10.0.2.40".parse().unwrap()),
            }],
            soa: None,
            source: Source::Unknown,
            chain: vec![],
            alert: None,
        };
        let back = Message::from_vec(&response(&parsed, &r)).unwrap();
        assert_eq!(back.id(), 0x1234);
        assert_eq!(back.message_type(), MessageType::Response);
        assert_eq!(back.answers().len(), 1);
        assert_eq!(back.answers()[0].ttl(), 300);
        let nx = Resolution {
            rcode: Rcode::NxDomain,
            answers: vec![],
            soa: Some(("internal.example".into(), 900)),
            ..r
        };
        let back = Message::from_vec(&response(&parsed, &nx)).unwrap();
        assert_eq!(back.response_code(), ResponseCode::NXDomain);
        assert_eq!(back.name_servers()[0].ttl(), 900);
    }
}
