//! AWS Network Firewall's stateful flow table (SPEC §20.1): one entry per flow and firewall,
//! remembering the endpoint that saw the flow start, so a packet of the flow arriving at another
//! endpoint (asymmetric routing) is a midstream packet there. Bounded, expired by packet time,
//! keyed direction-free; the table is reserved once, so packets never allocate.

use crate::state::TableUse;
use crate::topology::network_firewall::FirewallIdx;
use crate::topology::network_firewall::{AppProtocol, Buffer, Content, FirewallEndpointIdx};
use crate::wire::{tcp_flags, Header, IpProtocol, Timestamp};
use rustc_hash::FxHashMap;
use std::net::IpAddr;

/// Flows held at once before new ones go untracked (counted as refused).
pub const DEFAULT_CAPACITY: usize = 1 << 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FlowKey {
    firewall: u32,
    proto: u8,
    lo: (IpAddr, u16),
    hi: (IpAddr, u16),
}

impl FlowKey {
    fn of(fw: FirewallIdx, h: &Header) -> FlowKey {
        let a = (h.src, h.src_port);
        let b = (h.dst, h.dst_port);
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        FlowKey {
            firewall: fw.0,
            proto: h.proto.0,
            lo,
            hi,
        }
    }
}

/// One flow as a firewall remembers it.
#[derive(Clone, Copy, Debug)]
struct FlowEntry {
    endpoint: FirewallEndpointIdx,
    client: (IpAddr, u16),
    seen_client: bool,
    seen_server: bool,
    established: bool,
    passed_by: Option<u32>,
    last: Timestamp,
    /// What the flow logs count, client to server first.
    counts: [Direction; 2],
}

/// One direction of a flow as Network Firewall's flow log counts it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Direction {
    /// Packets.
    pub pkts: u64,
    /// Bytes (IP length).
    pub bytes: u64,
    /// First packet.
    pub start: Timestamp,
    /// Last packet.
    pub end: Timestamp,
    /// Lowest TTL seen.
    pub min_ttl: u8,
    /// Highest TTL seen.
    pub max_ttl: u8,
    /// TCP flags seen, ORed.
    pub tcp_flags: u8,
}

impl Direction {
    fn add(&mut self, h: &Header, now: Timestamp) {
        if self.pkts == 0 {
            self.start = now;
            self.min_ttl = h.ttl;
        }
        self.pkts += 1;
        self.bytes += h.len as u64;
        self.end = now;
        self.min_ttl = self.min_ttl.min(h.ttl);
        self.max_ttl = self.max_ttl.max(h.ttl);
        self.tcp_flags |= h.tcp_flags;
    }
}

/// A flow-log record: one direction of one flow (Network Firewall flow logs are
/// uni-directional).
#[derive(Clone, Copy, Debug)]
pub struct FlowRecord {
    /// The firewall.
    pub firewall: FirewallIdx,
    /// The endpoint that saw the flow.
    pub endpoint: FirewallEndpointIdx,
    /// Sender (address, port) of this direction.
    pub src: (IpAddr, u16),
    /// Receiver of this direction.
    pub dst: (IpAddr, u16),
    /// IP protocol.
    pub proto: u8,
    /// What was counted.
    pub counts: Direction,
}

/// An alert the stateful engine logged.
#[derive(Clone, Copy, Debug)]
pub struct AlertEvent {
    /// The firewall.
    pub firewall: FirewallIdx,
    /// The endpoint.
    pub endpoint: FirewallEndpointIdx,
    /// The rule (index into the firewall's stateful rules); `None`: a default action.
    pub rule: Option<u32>,
    /// Dropped or rejected (`blocked`), or let through (`allowed`).
    pub blocked: bool,
    /// The packet.
    pub header: Header,
    /// When.
    pub at: Timestamp,
}

/// Alerts one packet may log before the caller takes them.
const ALERTS_PER_PACKET: usize = 16;

/// What the stateful engine knows of a packet's flow at one endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirewallFlow {
    /// The packet goes from the flow's client to its server.
    pub to_server: bool,
    /// The flow is established (both directions seen; or the packet carries application data,
    /// which stands for a connection whose handshake passed).
    pub established: bool,
    /// A TCP packet of a flow this endpoint never saw start.
    pub midstream: bool,
    /// Another endpoint of the same firewall saw the flow start (asymmetric routing).
    pub seen_at: Option<FirewallEndpointIdx>,
    /// A `pass` rule (by its index in the firewall's stateful rules) passed the flow: later
    /// packets pass unscanned.
    pub passed_by: Option<u32>,
}

impl FirewallFlow {
    /// What the symbolic driver assumes: the first packet of a new flow, client to server.
    pub const OPENING: FirewallFlow = FirewallFlow {
        to_server: true,
        established: false,
        midstream: false,
        seen_at: None,
        passed_by: None,
    };
}

/// What a packet carries above layer 4, as far as Network Firewall's rules look: given by
/// `trace --sni/--http/--header`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppLayer {
    /// The TLS ClientHello's server name.
    pub sni: Option<String>,
    /// The HTTP request line (`GET /path`).
    pub http_request: Option<String>,
    /// The HTTP `Host` header.
    pub http_host: Option<String>,
    /// The name a DNS query asks for.
    pub dns_query: Option<String>,
}

impl AppLayer {
    /// The application protocol the packet carries, if any.
    pub fn protocol(&self) -> Option<AppProtocol> {
        if self.sni.is_some() {
            Some(AppProtocol::Tls)
        } else if self.http_request.is_some() || self.http_host.is_some() {
            Some(AppProtocol::Http)
        } else if self.dns_query.is_some() {
            Some(AppProtocol::Dns)
        } else {
            None
        }
    }

    /// Whether a `content` condition matches its buffer.
    pub fn matches(&self, c: &Content) -> bool {
        let value = match c.buffer {
            Buffer::TlsSni => self.sni.as_deref(),
            Buffer::HttpHost => self.http_host.as_deref(),
            Buffer::DnsQuery => self.dns_query.as_deref(),
            Buffer::Payload => self.http_request.as_deref(),
        };
        value.is_some_and(|v| c.matches(v))
    }
}

/// The flow table of every firewall.
#[derive(Clone, Debug)]
pub struct FirewallFlows {
    map: FxHashMap<FlowKey, FlowEntry>,
    capacity: usize,
    usage: TableUse,
    /// The application layer of the packets pushed next (trace only).
    pub app: AppLayer,
    alerts: Vec<AlertEvent>,
    /// Packets each stateless rule (or default, `u32::MAX`) with custom actions decided, by
    /// firewall: what its `PublishMetricAction`s count.
    custom: FxHashMap<(u32, u32), u64>,
}

impl FirewallFlows {
    /// An empty table holding at most `capacity` flows.
    pub fn new(capacity: usize) -> FirewallFlows {
        FirewallFlows {
            map: FxHashMap::default(),
            capacity,
            usage: TableUse {
                capacity,
                ..TableUse::default()
            },
            app: AppLayer::default(),
            alerts: Vec::with_capacity(ALERTS_PER_PACKET),
            custom: FxHashMap::default(),
        }
    }

    /// A stateless rule (`None`: a default action) with custom actions decided a packet of
    /// firewall `fw`.
    pub fn count_custom(&mut self, fw: FirewallIdx, rule: Option<u32>) {
        *self
            .custom
            .entry((fw.0, rule.unwrap_or(u32::MAX)))
            .or_default() += 1;
    }

    /// Packets counted per firewall and stateless rule (`None`: a default action).
    pub fn custom_counts(&self) -> impl Iterator<Item = (FirewallIdx, Option<u32>, u64)> + '_ {
        self.custom
            .iter()
            .map(|(&(f, r), &n)| (FirewallIdx(f), (r != u32::MAX).then_some(r), n))
    }

    /// Log an alert (beyond [`ALERTS_PER_PACKET`] not taken yet, alerts are not kept: the
    /// buffer never grows).
    pub fn alert(&mut self, e: AlertEvent) {
        if self.alerts.len() < ALERTS_PER_PACKET {
            self.alerts.push(e);
        }
    }

    /// The alerts logged since the last call.
    pub fn take_alerts(&mut self, mut f: impl FnMut(&AlertEvent)) {
        for e in &self.alerts {
            f(e);
        }
        self.alerts.clear();
    }

    /// Every flow's two directions as flow-log records (directions without packets left out),
    /// in no particular order.
    pub fn flow_records(&self) -> impl Iterator<Item = FlowRecord> + '_ {
        self.map.iter().flat_map(|(k, e)| {
            let server = if (k.lo.0, k.lo.1) == e.client {
                k.hi
            } else {
                k.lo
            };
            let firewall = FirewallIdx(k.firewall);
            [
                (e.client, server, e.counts[0]),
                (server, e.client, e.counts[1]),
            ]
            .into_iter()
            .filter(|(_, _, c)| c.pkts > 0)
            .map(move |(src, dst, counts)| FlowRecord {
                firewall,
                endpoint: e.endpoint,
                src,
                dst,
                proto: k.proto,
                counts,
            })
        })
    }

    /// How the table was used.
    pub fn usage(&self) -> TableUse {
        TableUse {
            entries: self.map.len(),
            ..self.usage
        }
    }

    fn live(&mut self, key: &FlowKey, now: Timestamp, idle_s: u32) -> Option<FlowEntry> {
        let e = *self.map.get(key)?;
        if now.elapsed_ns(e.last) > idle_s as u64 * 1_000_000_000 {
            self.map.remove(key);
            self.usage.expired += 1;
            return None;
        }
        Some(e)
    }

    /// What firewall `fw`'s endpoint `ep` knows of the packet's flow.
    pub fn view(
        &mut self,
        fw: FirewallIdx,
        ep: FirewallEndpointIdx,
        h: &Header,
        now: Timestamp,
        idle_s: u32,
    ) -> FirewallFlow {
        let key = FlowKey::of(fw, h);
        let opening = h.proto != IpProtocol::TCP
            || (h.tcp_flags & tcp_flags::SYN != 0 && h.tcp_flags & tcp_flags::ACK == 0);
        let app = self.app.protocol().is_some();
        match self.live(&key, now, idle_s) {
            Some(e) if e.endpoint == ep => {
                let to_server = (h.src, h.src_port) == e.client;
                FirewallFlow {
                    to_server,
                    // Application data from the client follows the handshake's last ACK.
                    established: e.established || (app && to_server && e.seen_server),
                    midstream: false,
                    seen_at: None,
                    passed_by: e.passed_by,
                }
            }
            other => FirewallFlow {
                to_server: true,
                established: app,
                midstream: h.proto == IpProtocol::TCP && !opening && !app,
                seen_at: other.map(|e| e.endpoint),
                passed_by: None,
            },
        }
    }

    /// The stateful engine let the packet through at endpoint `ep`: remember its flow.
    pub fn track(
        &mut self,
        fw: FirewallIdx,
        ep: FirewallEndpointIdx,
        h: &Header,
        now: Timestamp,
        passed_by: Option<u32>,
    ) {
        let key = FlowKey::of(fw, h);
        let app = self.app.protocol().is_some();
        if let Some(e) = self.map.get_mut(&key).filter(|e| e.endpoint == ep) {
            // TCP is established once the client answers the server (the handshake's ACK);
            // UDP once both directions were seen.
            if (h.src, h.src_port) == e.client {
                e.established |= e.seen_server;
                e.seen_client = true;
                e.counts[0].add(h, now);
            } else {
                e.established |= h.proto != IpProtocol::TCP;
                e.seen_server = true;
                e.counts[1].add(h, now);
            }
            e.established |= app && e.seen_server;
            e.passed_by = e.passed_by.or(passed_by);
            e.last = now;
            return;
        }
        if self.map.len() >= self.capacity && !self.map.contains_key(&key) {
            self.usage.refused += 1;
            return;
        }
        if self.map.capacity() == 0 {
            // Reserved once, on the first flow, so later packets never allocate.
            self.map.reserve(self.capacity);
        }
        let mut counts = [Direction::default(); 2];
        counts[0].add(h, now);
        self.map.insert(
            key,
            FlowEntry {
                endpoint: ep,
                client: (h.src, h.src_port),
                seen_client: true,
                seen_server: false,
                established: app,
                passed_by,
                last: now,
                counts,
            },
        );
        self.usage.peak = self.usage.peak.max(self.map.len());
    }

    /// Forget flows idle for longer than their firewall's timeout (the longest one given).
    pub fn sweep(&mut self, now: Timestamp, idle_s: u32) {
        let before = self.map.len();
        self.map
            .retain(|_, e| now.elapsed_ns(e.last) <= idle_s as u64 * 1_000_000_000);
        self.usage.expired += (before - self.map.len()) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tcp_flags::{ACK, SYN};

    fn h(flags: u8, reply: bool) -> Header {
        let mut h = Header {
            src: "10.1.1.10".parse().unwrap(),
            dst: "203.0.113.5".parse().unwrap(),
            proto: IpProtocol::TCP,
            src_port: 40000,
            dst_port: 443,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: flags,
            ttl: 64,
            len: 60,
        };
        if reply {
            h = h.reply();
            h.tcp_flags = flags;
        }
        h
    }

    #[test]
    fn a_flow_started_at_one_endpoint_is_midstream_at_another() {
        let mut t = FirewallFlows::new(16);
        let (fw, a, b) = (
            FirewallIdx(0),
            FirewallEndpointIdx(0),
            FirewallEndpointIdx(1),
        );
        let now = Timestamp::from_secs(10);
        let first = t.view(fw, a, &h(SYN, false), now, 350);
        assert!(!first.midstream && first.to_server && !first.established);
        t.track(fw, a, &h(SYN, false), now, None);
        let back = t.view(fw, b, &h(SYN | ACK, true), now, 350);
        assert!(back.midstream);
        assert_eq!(back.seen_at, Some(a));
        let same = t.view(fw, a, &h(SYN | ACK, true), now, 350);
        assert!(!same.midstream && !same.to_server && !same.established);
        t.track(fw, a, &h(SYN | ACK, true), now, None);
        // The handshake's ACK is not established yet; what follows it is.
        assert!(!t.view(fw, a, &h(ACK, false), now, 350).established);
        t.track(fw, a, &h(ACK, false), now, None);
        assert!(t.view(fw, a, &h(ACK, false), now, 350).established);
        let later = Timestamp::from_secs(400);
        assert!(t.view(fw, a, &h(ACK, false), later, 350).midstream);
        assert_eq!(t.usage().expired, 1);
    }
}
