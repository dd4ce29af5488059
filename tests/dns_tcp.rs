//! The VPC resolver over TCP port 53 and UDP truncation, through `vpcsim replay` with captures
//! built here (SPEC §21.1: the resolver answers on UDP and TCP; Route 53 sends at most 512
//! bytes over UDP, 4096 to an asker that advertises EDNS0, and sets TC on a longer response).

mod common;

use common::*;
use etherparse::{NetSlice, PacketBuilder, SlicedPacket, TransportSlice};
use hickory_proto::op::{Edns, Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use std::path::{Path, PathBuf};

const APP: &str = "10.0.2.30";
const RESOLVER: &str = "10.0.0.2";
const CLIENT_ISN: u32 = 7_000_000;

/// `examples/private-dns.yaml` plus `big.internal.example`: 40 A records, a 700-byte answer.
fn topology(dir: &Path) -> PathBuf {
    let base = std::fs::read_to_string(root().join("examples/private-dns.yaml")).unwrap();
    let ips: Vec<String> = (1..=40).map(|i| format!("10.0.9.{i}")).collect();
    let big = format!(
        "Resources:\n  BigRecord:\n    Type: AWS::Route53::RecordSet\n    Properties: {{ HostedZoneId: !Ref InternalZone, Name: big.internal.example, Type: A, TTL: \"60\", ResourceRecords: [{}] }}\n",
        ips.join(", ")
    );
    let p = dir.join("dns.yaml");
    std::fs::write(&p, base.replacen("Resources:\n", &big, 1)).unwrap();
    p
}

fn query(id: u16, name: &str, edns: bool) -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(id).set_recursion_desired(true);
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
    if edns {
        let mut e = Edns::new();
        e.set_max_payload(4096);
        m.set_edns(e);
    }
    m.to_vec().unwrap()
}

/// A query behind its 2-byte length, as DNS over TCP carries it.
fn framed(q: &[u8]) -> Vec<u8> {
    let mut v = (q.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(q);
    v
}

/// A segment from App:40000 to the resolver with exact sequence numbers and flags.
fn segment(seq: u32, ack: Option<u32>, syn: bool, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(
            APP.parse::<std::net::Ipv4Addr>().unwrap().octets(),
            RESOLVER.parse::<std::net::Ipv4Addr>().unwrap().octets(),
            64,
        )
        .tcp(40000, 53, seq, 64240);
    if syn {
        b = b.syn();
    }
    if let Some(a) = ack {
        b = b.ack(a);
    }
    if fin {
        b = b.fin();
    }
    if !payload.is_empty() {
        b = b.psh();
    }
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

/// What a segment the resolver sent holds, its checksums checked.
#[derive(Debug)]
struct Reply {
    seq: u32,
    ack: u32,
    syn: bool,
    fin: bool,
    payload: Vec<u8>,
}

fn replies(path: &Path) -> Vec<Reply> {
    let mut r = vpcsim_capture::CaptureReader::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(f) = r.next_frame() {
        let data = f.unwrap().data.to_vec();
        let p = SlicedPacket::from_ethernet(&data).unwrap();
        let Some(NetSlice::Ipv4(ip)) = &p.net else {
            panic!("not IPv4")
        };
        let Some(TransportSlice::Tcp(t)) = &p.transport else {
            panic!("not TCP")
        };
        let ih = ip.header().to_header();
        assert_eq!(
            ih.header_checksum,
            ih.calc_header_checksum(),
            "IPv4 checksum"
        );
        let th = t.to_header();
        assert_eq!(
            th.checksum,
            th.calc_checksum_ipv4(&ih, t.payload()).unwrap(),
            "TCP checksum"
        );
        assert_eq!(
            (ih.source.to_vec(), th.source_port, th.destination_port),
            (vec![10, 0, 0, 2], 53, 40000)
        );
        assert!(th.ack, "every segment of the resolver acknowledges");
        out.push(Reply {
            seq: th.sequence_number,
            ack: th.acknowledgment_number,
            syn: th.syn,
            fin: th.fin,
            payload: t.payload().to_vec(),
        });
    }
    out
}

fn run(dir: &Path, name: &str, segments: Vec<Vec<u8>>) -> Vec<Reply> {
    let t = topology(dir);
    let cap = dir.join(format!("{name}.pcap"));
    write_pcap(&cap, 1, &frames(segments));
    let out = dir.join(name);
    let v = replay(&t, &cap, &out, &[]);
    assert!(v.iter().all(|l| l["disposition"] == "DELIVERED"), "{v:?}");
    let pcap = out.join("out/App.pcap");
    if pcap.exists() {
        replies(&pcap)
    } else {
        Vec::new()
    }
}

/// The DNS messages of a TCP payload, each behind its length.
fn messages(mut payload: &[u8]) -> Vec<Message> {
    let mut out = Vec::new();
    while payload.len() >= 2 {
        let n = u16::from_be_bytes([payload[0], payload[1]]) as usize;
        out.push(Message::from_vec(&payload[2..2 + n]).unwrap());
        payload = &payload[2 + n..];
    }
    assert!(payload.is_empty(), "trailing bytes");
    out
}

#[test]
fn a_tcp_connection_with_its_handshake_gets_the_answer_in_sequence() {
    let dir = tempfile::tempdir().unwrap();
    // The resolver accepts: its SYN-ACK gives the sequence number the rest builds on.
    let syn = run(
        dir.path(),
        "syn",
        vec![segment(CLIENT_ISN, None, true, false, &[])],
    );
    assert_eq!(syn.len(), 1, "{syn:?}");
    assert!(syn[0].syn && syn[0].payload.is_empty());
    assert_eq!(syn[0].ack, CLIENT_ISN + 1);
    let server = syn[0].seq.wrapping_add(1);

    let q = framed(&query(0x4242, "db.internal.example.", false));
    let after_q = CLIENT_ISN + 1 + q.len() as u32;
    let got = run(
        dir.path(),
        "conn",
        vec![
            segment(CLIENT_ISN, None, true, false, &[]),
            segment(CLIENT_ISN + 1, Some(server), false, false, &[]),
            segment(CLIENT_ISN + 1, Some(server), false, false, &q),
            // The asker acknowledges the answer and closes.
            segment(after_q, Some(server + 1000), false, true, &[]),
        ],
    );
    assert_eq!(got.len(), 3, "SYN-ACK, answer, FIN-ACK: {got:?}");
    assert_eq!(got[0].seq.wrapping_add(1), server, "the same SYN-ACK");
    let a = &got[1];
    assert_eq!(
        (a.seq, a.ack, a.syn, a.fin),
        (server, after_q, false, false)
    );
    let m = messages(&a.payload);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].id(), 0x4242);
    assert_eq!(m[0].message_type(), MessageType::Response);
    assert_eq!(m[0].response_code(), ResponseCode::NoError);
    assert!(
        matches!(m[0].answers()[0].data(), RData::A(x) if x.0.to_string() == "10.0.3.40"),
        "{:?}",
        m[0].answers()
    );
    let f = &got[2];
    assert!(f.fin && f.payload.is_empty());
    assert_eq!((f.seq, f.ack), (server + 1000, after_q + 1));
}

#[test]
fn a_query_segment_without_its_handshake_is_answered_where_the_asker_expects() {
    let dir = tempfile::tempdir().unwrap();
    // Two queries in one segment (pipelined), mid-capture.
    let mut stream = framed(&query(1, "db.internal.example.", false));
    stream.extend(framed(&query(2, "missing.internal.example.", false)));
    let got = run(
        dir.path(),
        "mid",
        vec![segment(5000, Some(90_000), false, false, &stream)],
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].seq, got[0].ack),
        (90_000, 5000 + stream.len() as u32)
    );
    let m = messages(&got[0].payload);
    assert_eq!(m.len(), 2);
    assert_eq!(
        (m[0].id(), m[0].response_code()),
        (1, ResponseCode::NoError)
    );
    assert_eq!(
        (m[1].id(), m[1].response_code()),
        (2, ResponseCode::NXDomain)
    );
}

#[test]
fn a_response_over_512_bytes_is_truncated_on_udp_and_whole_on_tcp_or_with_edns0() {
    let dir = tempfile::tempdir().unwrap();
    let t = topology(dir.path());
    let cap = dir.path().join("udp.pcap");
    write_pcap(
        &cap,
        1,
        &frames(vec![
            udp(
                APP,
                40001,
                RESOLVER,
                53,
                &query(1, "big.internal.example.", false),
            ),
            udp(
                APP,
                40002,
                RESOLVER,
                53,
                &query(2, "big.internal.example.", true),
            ),
        ]),
    );
    let out = dir.path().join("udp");
    replay(&t, &cap, &out, &[]);
    let mut r = vpcsim_capture::CaptureReader::open(&out.join("out/App.pcap")).unwrap();
    let mut udp_answers = Vec::new();
    while let Some(f) = r.next_frame() {
        let data = f.unwrap().data.to_vec();
        let p = SlicedPacket::from_ethernet(&data).unwrap();
        let Some(TransportSlice::Udp(u)) = &p.transport else {
            panic!("not UDP")
        };
        udp_answers.push((u.payload().len(), Message::from_vec(u.payload()).unwrap()));
    }
    udp_answers.sort_by_key(|(_, m)| m.id());
    let (len, plain) = &udp_answers[0];
    assert!(plain.truncated(), "TC without EDNS0");
    assert!(*len <= 512 && plain.answers().is_empty());
    assert_eq!(plain.queries().len(), 1);
    let (len, edns) = &udp_answers[1];
    assert!(!edns.truncated() && *len > 512, "EDNS0 takes {len} bytes");
    assert_eq!(edns.answers().len(), 40);

    let got = run(
        dir.path(),
        "tcp",
        vec![segment(
            1,
            Some(1),
            false,
            false,
            &framed(&query(3, "big.internal.example.", false)),
        )],
    );
    let m = messages(&got[0].payload);
    assert!(!m[0].truncated());
    assert_eq!(m[0].answers().len(), 40);
}
