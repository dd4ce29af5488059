//! Security-group connection tracking (SPEC §4.4), also used for egress-only internet gateways.
//!
//! One table holds every tracked connection of every interface. A connection is a zone (the
//! interface or gateway that tracks it) and a direction-free [`FlowKey`], so both directions of
//! a connection find one entry; the zones tracking one flow share the flow's entry.
//! Entries expire after the AWS idle timeout of their protocol state; expiry is checked on lookup
//! and by sweeps, so no timer runs between packets and replays stay deterministic.

use crate::wire::{tcp_flags, FlowKey, Header, IpProtocol, Timestamp};
use hashbrown::HashMap;
use rustc_hash::FxBuildHasher;

/// Idle timeouts in seconds. Defaults are AWS's (SPEC §4.4); the unverified ones are the
/// simulator's documented model choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// `tcpEstablishedTimeout`: 432,000 s (5 days). Newer AWS docs give 350 s on Nitro v6 types.
    pub tcp_established: u64,
    /// Before the handshake completes (model: 60 s).
    pub tcp_syn: u64,
    /// After FIN or RST (model: 60 s).
    pub tcp_closing: u64,
    /// `udpTimeout`: one direction only or a single request/response: 30 s.
    pub udp: u64,
    /// `udpStreamTimeout`: more than one request/response: 180 s.
    pub udp_stream: u64,
    /// ICMP (model: 30 s).
    pub icmp: u64,
    /// Every other protocol, tracked on the address pair: 600 s.
    pub other: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp_established: 432_000,
            tcp_syn: 60,
            tcp_closing: 60,
            udp: 30,
            udp_stream: 180,
            icmp: 30,
            other: 600,
        }
    }
}

/// Protocol state of a tracked connection, which picks its idle timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// TCP opened with a SYN that the responder has not answered yet.
    TcpSyn,
    /// TCP that the responder answered, or that was picked up mid-stream (no SYN seen).
    TcpEstablished,
    /// TCP after a FIN or RST from either side.
    TcpClosing,
    /// UDP: `replied` once the responder answered; `stream` once the initiator spoke again after that.
    Udp {
        /// The responder has sent a datagram.
        replied: bool,
        /// The initiator sent again after the responder's answer: the stream timeout applies.
        stream: bool,
    },
    /// ICMP or ICMPv6.
    Icmp,
    /// Any other protocol.
    Other,
}

/// One zone's view of a tracked connection: who opened it, its protocol state, and when it last
/// saw a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conn {
    /// Whether the connection's initiator is the `lo` endpoint of the key.
    pub initiator_lo: bool,
    /// Protocol state, which picks the idle timeout.
    pub state: ConnState,
    /// Packet time of the last packet in either direction; the idle timeout counts from it.
    pub last_seen: Timestamp,
}

impl Conn {
    fn timeout(&self, t: &Timeouts) -> u64 {
        match self.state {
            ConnState::TcpSyn => t.tcp_syn,
            ConnState::TcpEstablished => t.tcp_established,
            ConnState::TcpClosing => t.tcp_closing,
            ConnState::Udp { stream: true, .. } => t.udp_stream,
            ConnState::Udp { .. } => t.udp,
            ConnState::Icmp => t.icmp,
            ConnState::Other => t.other,
        }
    }

    fn expired(&self, now: Timestamp, t: &Timeouts) -> bool {
        now.elapsed_ns(self.last_seen) > self.timeout(t) * 1_000_000_000
    }

    fn new(h: &Header, initiator_lo: bool, now: Timestamp) -> Conn {
        let state = match h.proto {
            IpProtocol::TCP if h.tcp_flags & (tcp_flags::FIN | tcp_flags::RST) != 0 => {
                ConnState::TcpClosing
            }
            // A connection picked up mid-stream (no SYN) is taken as established.
            IpProtocol::TCP if h.tcp_flags & tcp_flags::SYN != 0 => ConnState::TcpSyn,
            IpProtocol::TCP => ConnState::TcpEstablished,
            IpProtocol::UDP => ConnState::Udp {
                replied: false,
                stream: false,
            },
            IpProtocol::ICMP | IpProtocol::ICMPV6 => ConnState::Icmp,
            _ => ConnState::Other,
        };
        Conn {
            initiator_lo,
            state,
            last_seen: now,
        }
    }

    #[inline]
    fn side(&self, src_lo: bool) -> Tracked {
        if src_lo == self.initiator_lo {
            Tracked::Initiator
        } else {
            Tracked::Reply
        }
    }

    /// Count a packet whose source is the key's `lo` endpoint when `src_lo`; say which side sent it.
    #[inline]
    fn refresh(&mut self, h: &Header, src_lo: bool, now: Timestamp) -> Tracked {
        let side = self.side(src_lo);
        self.update(h, side == Tracked::Initiator, now);
        side
    }

    fn update(&mut self, h: &Header, from_initiator: bool, now: Timestamp) {
        self.last_seen = now;
        self.state = match self.state {
            _ if h.proto == IpProtocol::TCP
                && h.tcp_flags & (tcp_flags::FIN | tcp_flags::RST) != 0 =>
            {
                ConnState::TcpClosing
            }
            ConnState::TcpSyn if !from_initiator => ConnState::TcpEstablished,
            ConnState::Udp { replied, stream } => ConnState::Udp {
                replied: replied || !from_initiator,
                stream: stream || (replied && from_initiator),
            },
            s => s,
        };
    }
}

/// Which side of a tracked connection a packet is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tracked {
    /// Sent by the side that opened the connection.
    Initiator,
    /// Sent by the other side: a reply, admitted whatever the rules say.
    Reply,
}

/// Why a new entry could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableFull;

/// The normalised flow, packed to 40 bytes at 4-byte alignment (the `FlowKey` with its `u128`
/// addresses takes 80). The table is bound by memory latency: a lookup is a cache miss once it
/// outgrows the caches, so entry size and the number of entries a packet touches are the cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct CtKey {
    lo: [u32; 4],
    hi: [u32; 4],
    ports: [u16; 2],
    proto: u8,
    v6: bool,
}

impl CtKey {
    #[inline]
    fn new(k: &FlowKey) -> CtKey {
        #[inline]
        fn words(bits: u128) -> [u32; 4] {
            [
                bits as u32,
                (bits >> 32) as u32,
                (bits >> 64) as u32,
                (bits >> 96) as u32,
            ]
        }
        CtKey {
            lo: words(k.lo.bits),
            hi: words(k.hi.bits),
            ports: [k.lo_port, k.hi_port],
            proto: k.proto.0,
            v6: k.lo.v6,
        }
    }
}

/// Marks a free slot of an [`Entry`].
const FREE: u32 = u32::MAX;

/// Every zone tracking one flow, up to two. A packet between two instances is tracked by both
/// interfaces: sharing the entry makes the second lookup hit the cache line the first loaded.
/// Further zones of the same flow (an appliance on the path) go to the overflow table.
#[derive(Clone, Copy, Debug)]
struct Entry {
    zones: [u32; 2],
    conns: [Conn; 2],
}

impl Entry {
    #[inline]
    fn slot(&self, zone: u32) -> Option<usize> {
        self.zones.iter().position(|&z| z == zone)
    }

    fn is_empty(&self) -> bool {
        self.zones == [FREE, FREE]
    }
}

/// The connection-tracking table: one entry per flow holding the connections of up to two zones
/// (the interfaces whose security groups track it), and an overflow table for more.
#[derive(Clone, Debug)]
pub struct Conntrack {
    map: HashMap<CtKey, Entry, FxBuildHasher>,
    overflow: HashMap<(u32, CtKey), Conn, FxBuildHasher>,
    /// Tracked connections (zone and flow), the count the capacity limits.
    conns: usize,
    /// Idle timeouts of every entry.
    pub timeouts: Timeouts,
    capacity: usize,
    last_sweep: Timestamp,
    /// Entries removed because they idled out.
    pub expired: u64,
    peak: usize,
    refused: u64,
}

impl Conntrack {
    /// An empty table that refuses new connections once it tracks `capacity` (each zone of a flow
    /// counting once; see [`Conntrack::len`]).
    pub fn new(capacity: usize, timeouts: Timeouts) -> Conntrack {
        Conntrack {
            // Start small: a table sized for the cap would spread a few live flows over a cold,
            // cache-missing expanse. It grows (amortised) with the live flows.
            map: HashMap::with_capacity_and_hasher(capacity.min(4096), FxBuildHasher),
            overflow: HashMap::with_hasher(FxBuildHasher),
            conns: 0,
            timeouts,
            capacity,
            last_sweep: Timestamp(0),
            expired: 0,
            peak: 0,
            refused: 0,
        }
    }

    /// Capacity, peak and refusals, for the replay summary.
    pub fn table_use(&self) -> crate::state::TableUse {
        crate::state::TableUse {
            capacity: self.capacity,
            entries: self.conns,
            peak: self.peak,
            refused: self.refused,
            expired: self.expired,
        }
    }

    /// Tracked connections, counting each zone of a flow.
    pub fn len(&self) -> usize {
        self.conns
    }

    /// Whether no connection is tracked.
    pub fn is_empty(&self) -> bool {
        self.conns == 0
    }

    /// Look the packet up in `zone`; on a live entry refresh it and say which side sent it.
    #[inline]
    pub fn touch(&mut self, zone: u32, h: &Header, now: Timestamp) -> Option<Tracked> {
        let (key, src_lo) = FlowKey::of(h);
        let key = CtKey::new(&key);
        let t = self.timeouts;
        let conn = match self.map.get_mut(&key) {
            Some(e) => match e.slot(zone) {
                Some(i) if e.conns[i].expired(now, &t) => {
                    e.zones[i] = FREE;
                    if e.is_empty() {
                        self.map.remove(&key);
                    }
                    self.conns -= 1;
                    self.expired += 1;
                    return None;
                }
                Some(i) => &mut e.conns[i],
                None => return self.touch_overflow(zone, key, src_lo, h, now),
            },
            None => return None,
        };
        Some(conn.refresh(h, src_lo, now))
    }

    #[cold]
    fn touch_overflow(
        &mut self,
        zone: u32,
        key: CtKey,
        src_lo: bool,
        h: &Header,
        now: Timestamp,
    ) -> Option<Tracked> {
        let t = self.timeouts;
        let conn = self.overflow.get_mut(&(zone, key))?;
        if conn.expired(now, &t) {
            self.overflow.remove(&(zone, key));
            self.conns -= 1;
            self.expired += 1;
            return None;
        }
        Some(conn.refresh(h, src_lo, now))
    }

    /// Whether a live entry exists, without refreshing it.
    pub fn peek(&self, zone: u32, h: &Header, now: Timestamp) -> Option<Tracked> {
        let (key, src_lo) = FlowKey::of(h);
        let key = CtKey::new(&key);
        let e = self.map.get(&key)?;
        let conn = match e.slot(zone) {
            Some(i) => &e.conns[i],
            None => self.overflow.get(&(zone, key))?,
        };
        if conn.expired(now, &self.timeouts) {
            return None;
        }
        Some(conn.side(src_lo))
    }

    /// Start tracking a new connection whose initiator sent `h`.
    #[inline]
    pub fn insert(&mut self, zone: u32, h: &Header, now: Timestamp) -> Result<(), TableFull> {
        if self.conns >= self.capacity {
            self.sweep(now);
            if self.conns >= self.capacity {
                self.refused += 1;
                return Err(TableFull);
            }
        }
        let (key, src_lo) = FlowKey::of(h);
        let key = CtKey::new(&key);
        let conn = Conn::new(h, src_lo, now);
        let e = self.map.entry(key).or_insert(Entry {
            zones: [FREE, FREE],
            conns: [conn; 2],
        });
        if let Some(i) = e.slot(zone) {
            // An expired connection of this zone not yet swept: replaced, not added.
            e.conns[i] = conn;
        } else if let Some(i) = e.slot(FREE) {
            e.zones[i] = zone;
            e.conns[i] = conn;
            self.conns += 1;
        } else if self.overflow.insert((zone, key), conn).is_none() {
            self.conns += 1;
        }
        self.peak = self.peak.max(self.conns);
        Ok(())
    }

    /// Drop every idle entry. Sweeps more often than once a second of packet time are skipped:
    /// a table that is full of live connections stays full.
    pub fn sweep(&mut self, now: Timestamp) {
        if self.last_sweep != Timestamp(0) && now.elapsed_ns(self.last_sweep) < 1_000_000_000 {
            return;
        }
        self.last_sweep = now;
        let t = self.timeouts;
        let mut removed = 0usize;
        self.map.retain(|_, e| {
            for i in 0..2 {
                if e.zones[i] != FREE && e.conns[i].expired(now, &t) {
                    e.zones[i] = FREE;
                    removed += 1;
                }
            }
            !e.is_empty()
        });
        let before = self.overflow.len();
        self.overflow.retain(|_, c| !c.expired(now, &t));
        removed += before - self.overflow.len();
        self.conns -= removed;
        self.expired += removed as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp(src: &str, sp: u16, dst: &str, dp: u16) -> Header {
        Header {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            proto: IpProtocol::UDP,
            src_port: sp,
            dst_port: dp,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: 0,
            ttl: 64,
            len: 28,
        }
    }

    const S: u64 = 1_000_000_000;

    /// SPEC §17 vector 35: a single exchange lives 30 s; a stream lives 180 s.
    #[test]
    fn udp_single_exchange_then_stream() {
        let mut ct = Conntrack::new(16, Timeouts::default());
        let out = udp("10.0.1.5", 5000, "192.0.2.9", 5000);
        ct.insert(1, &out, Timestamp(0)).unwrap();
        assert_eq!(
            ct.touch(1, &out.reply(), Timestamp(S)),
            Some(Tracked::Reply)
        );
        assert_eq!(ct.peek(1, &out.reply(), Timestamp(31 * S + S)), None);

        let mut ct = Conntrack::new(16, Timeouts::default());
        ct.insert(1, &out, Timestamp(0)).unwrap();
        ct.touch(1, &out.reply(), Timestamp(S));
        ct.touch(1, &out, Timestamp(2 * S));
        ct.touch(1, &out.reply(), Timestamp(3 * S));
        assert_eq!(
            ct.peek(1, &out.reply(), Timestamp(100 * S)),
            Some(Tracked::Reply)
        );
        assert_eq!(ct.peek(1, &out.reply(), Timestamp(184 * S)), None);
    }

    /// SPEC §17 vector 36: other protocols live 600 s.
    #[test]
    fn other_protocols_600s() {
        let mut ct = Conntrack::new(16, Timeouts::default());
        let mut gre = udp("10.0.1.5", 0, "192.0.2.9", 0);
        gre.proto = IpProtocol(47);
        ct.insert(1, &gre, Timestamp(0)).unwrap();
        assert_eq!(
            ct.peek(1, &gre.reply(), Timestamp(599 * S)),
            Some(Tracked::Reply)
        );
        assert_eq!(ct.peek(1, &gre.reply(), Timestamp(601 * S)), None);
    }

    #[test]
    fn tcp_handshake_establishes() {
        let mut ct = Conntrack::new(16, Timeouts::default());
        let mut syn = udp("10.0.1.5", 40000, "192.0.2.9", 443);
        syn.proto = IpProtocol::TCP;
        syn.tcp_flags = tcp_flags::SYN;
        ct.insert(7, &syn, Timestamp(0)).unwrap();
        let synack = syn.reply();
        assert_eq!(synack.tcp_flags, tcp_flags::SYN | tcp_flags::ACK);
        assert_eq!(ct.touch(7, &synack, Timestamp(S)), Some(Tracked::Reply));
        // Established: still there a day later.
        assert_eq!(
            ct.peek(7, &synack, Timestamp(86_400 * S)),
            Some(Tracked::Reply)
        );
        // Zones are separate.
        assert_eq!(ct.peek(8, &synack, Timestamp(S)), None);
    }

    #[test]
    fn full_table_refuses_until_entries_expire() {
        let mut ct = Conntrack::new(2, Timeouts::default());
        ct.insert(1, &udp("10.0.0.1", 1, "10.0.0.2", 1), Timestamp(0))
            .unwrap();
        ct.insert(1, &udp("10.0.0.1", 2, "10.0.0.2", 2), Timestamp(0))
            .unwrap();
        assert_eq!(
            ct.insert(1, &udp("10.0.0.1", 3, "10.0.0.2", 3), Timestamp(S)),
            Err(TableFull)
        );
        assert!(ct
            .insert(1, &udp("10.0.0.1", 3, "10.0.0.2", 3), Timestamp(40 * S))
            .is_ok());
        assert_eq!(ct.len(), 1);
    }

    /// Three zones tracking one flow (source, appliance, destination): the third goes to the
    /// overflow table; each zone keeps its own state, counts and expires on its own.
    #[test]
    fn zones_of_one_flow_are_independent() {
        let mut ct = Conntrack::new(16, Timeouts::default());
        let req = udp("10.0.0.1", 1000, "10.0.1.1", 53);
        let rep = udp("10.0.1.1", 53, "10.0.0.1", 1000);
        for zone in [7, 8, 9] {
            ct.insert(zone, &req, Timestamp(0)).unwrap();
        }
        assert_eq!(ct.len(), 3);
        assert_eq!(ct.touch(9, &rep, Timestamp(S)), Some(Tracked::Reply));
        assert_eq!(ct.peek(8, &req, Timestamp(S)), Some(Tracked::Initiator));
        assert_eq!(ct.peek(10, &req, Timestamp(S)), None);
        // Zone 7 saw no reply and idles out after 30 s; zone 9 was refreshed at 1 s, so at 31 s it
        // is still live (udp single exchange: 30 s since the last packet).
        assert_eq!(ct.touch(7, &req, Timestamp(31 * S)), None);
        assert_eq!(
            ct.touch(9, &req, Timestamp(30 * S)),
            Some(Tracked::Initiator)
        );
        assert_eq!(ct.len(), 2);
        // Zone 9 is a stream now (a reply, then the initiator again): 180 s. Zone 8 idles at 30 s.
        ct.sweep(Timestamp(100 * S));
        assert_eq!(ct.len(), 1);
        ct.sweep(Timestamp(211 * S));
        assert!(ct.is_empty());
        assert_eq!(ct.expired, 3);
        // The freed slots are reused.
        ct.insert(9, &req, Timestamp(212 * S)).unwrap();
        assert_eq!(ct.peek(9, &rep, Timestamp(213 * S)), Some(Tracked::Reply));
        assert_eq!(ct.len(), 1);
    }
}
