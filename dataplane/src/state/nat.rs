//! NAT gateway port address translation (SPEC §7).
//!
//! A session maps an inside (client address, port, destination, port, protocol) to an outside
//! (gateway address, port). Ports come from 1024–65535; at most 55,000 sessions may share one
//! gateway address and one destination (IP, port, protocol); past that the next address of the
//! gateway is tried, and when every address is full the connection fails
//! (`ErrorPortAllocation`). Sessions idle out after 350 s.

use crate::pipeline::driver::Rules;
use crate::space::{protocol_box, HBox};
use crate::topology::NatIdx;
use crate::wire::Family;
use crate::wire::{tcp_flags, Header, IpProtocol, Timestamp};
use hashbrown::HashMap;
use rustc_hash::FxBuildHasher;
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr};

/// First port a NAT gateway translates to.
pub const PORT_MIN: u16 = 1024;
/// Last port a NAT gateway translates to.
pub const PORT_MAX: u16 = 65535;
/// Simultaneous connections per gateway address to one destination (IP, port, protocol).
pub const MAX_PER_DESTINATION: u32 = 55_000;
/// Idle timeout of a NAT gateway connection.
pub const IDLE_TIMEOUT_S: u64 = 350;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Inside {
    nat: NatIdx,
    src: u32,
    src_port: u16,
    dst: u32,
    dst_port: u16,
    proto: IpProtocol,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Outside {
    addr: u32,
    port: u16,
    remote: u32,
    remote_port: u16,
    proto: IpProtocol,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Destination {
    addr: u32,
    remote: u32,
    remote_port: u16,
    proto: IpProtocol,
}

#[derive(Clone, Copy, Debug)]
struct Session {
    outside: Outside,
    last_seen: Timestamp,
}

/// Why a NAT gateway did not translate a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NatError {
    /// No session, and the packet cannot open one (inbound, or TCP without SYN).
    NoSession,
    /// Every address already has 55,000 connections to this destination.
    PortsExhausted,
    /// The simulator's session table (every NAT gateway together) is at its capacity.
    TableFull,
}

/// A translation: the outside address and port the packet now carries (or, inbound, the inside ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// Outbound: the gateway address the packet now comes from (one of its private addresses; the
    /// internet gateway maps it to the Elastic IP). Inbound: the client's address.
    pub addr: Ipv4Addr,
    /// The port that goes with `addr` (for ICMP echo, the identifier).
    pub port: u16,
    /// A session was created by this packet.
    pub new: bool,
}

/// NAT gateway metrics, named as in CloudWatch (namespace AWS/NATGateway) but summed over every
/// NAT gateway of the topology, where CloudWatch reports each gateway alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NatMetrics {
    /// `ErrorPortAllocation`: connections refused because every address of the gateway had reached
    /// the per-destination limit.
    pub error_port_allocation: u64,
    /// `IdleTimeoutCount`: sessions removed after idling out.
    pub idle_timeout_count: u64,
    /// `ConnectionAttemptCount`: packets that tried to open a session (not a TCP segment without
    /// SYN, which cannot).
    pub connection_attempt_count: u64,
}

/// The sessions of every NAT gateway, found from either side, with the count of sessions per
/// gateway address and destination that the per-destination limit applies to.
#[derive(Clone, Debug)]
pub struct NatTable {
    inside: HashMap<Inside, Session, FxBuildHasher>,
    outside: HashMap<Outside, Inside, FxBuildHasher>,
    per_destination: HashMap<Destination, u32, FxBuildHasher>,
    /// Seconds a session may idle before it is removed (AWS: 350).
    pub idle_timeout_s: u64,
    /// Sessions one gateway address may hold to one destination (IP, port, protocol) (AWS: 55,000).
    pub max_per_destination: u32,
    last_sweep: Timestamp,
    /// Counters summed over every gateway.
    pub metrics: NatMetrics,
    capacity: usize,
    peak: usize,
    refused: u64,
}

impl Default for NatTable {
    fn default() -> Self {
        NatTable::new(IDLE_TIMEOUT_S, MAX_PER_DESTINATION)
    }
}

/// Sessions held at once by default, every NAT gateway together: the simulator's bound, not an
/// AWS quota (AWS limits only connections per destination).
pub const DEFAULT_CAPACITY: usize = 4_000_000;

/// ICMP echo identifiers stand in for ports; the remote side has none.
fn remote_port(h: &Header) -> u16 {
    if h.proto == IpProtocol::ICMP {
        0
    } else {
        h.dst_port
    }
}

fn v4(a: IpAddr) -> Option<u32> {
    match a {
        IpAddr::V4(a) => Some(a.to_bits()),
        IpAddr::V6(_) => None,
    }
}

impl NatTable {
    /// An empty table with these limits.
    pub fn new(idle_timeout_s: u64, max_per_destination: u32) -> NatTable {
        NatTable {
            inside: HashMap::with_hasher(FxBuildHasher),
            outside: HashMap::with_hasher(FxBuildHasher),
            per_destination: HashMap::with_hasher(FxBuildHasher),
            idle_timeout_s,
            max_per_destination,
            last_sweep: Timestamp(0),
            metrics: NatMetrics::default(),
            capacity: DEFAULT_CAPACITY,
            peak: 0,
            refused: 0,
        }
    }

    /// The same table holding at most `capacity` sessions (every gateway together).
    pub fn with_capacity(mut self, capacity: usize) -> NatTable {
        self.capacity = capacity;
        self
    }

    /// Capacity, peak and refusals, for the replay summary.
    pub fn table_use(&self) -> crate::state::TableUse {
        crate::state::TableUse {
            capacity: self.capacity,
            entries: self.inside.len(),
            peak: self.peak,
            refused: self.refused,
            expired: self.metrics.idle_timeout_count,
        }
    }

    /// Live and idle-but-not-yet-swept sessions.
    pub fn len(&self) -> usize {
        self.inside.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.inside.is_empty()
    }

    fn expired(&self, s: &Session, now: Timestamp) -> bool {
        now.elapsed_ns(s.last_seen) > self.idle_timeout_s * 1_000_000_000
    }

    fn remove(&mut self, key: &Inside) {
        if let Some(s) = self.inside.remove(key) {
            self.outside.remove(&s.outside);
            let d = Destination {
                addr: s.outside.addr,
                remote: s.outside.remote,
                remote_port: s.outside.remote_port,
                proto: s.outside.proto,
            };
            if let Some(c) = self.per_destination.get_mut(&d) {
                *c -= 1;
                if *c == 0 {
                    self.per_destination.remove(&d);
                }
            }
        }
    }

    /// Translate a packet from a client towards the outside, opening a session if it may.
    /// `addresses` are the gateway's private addresses, primary first. Only IPv4 TCP, UDP and
    /// ICMP echo reach here (the pipeline filters the rest).
    pub fn outbound(
        &mut self,
        nat: NatIdx,
        addresses: &[Ipv4Addr],
        h: &Header,
        now: Timestamp,
    ) -> Result<Translation, NatError> {
        let (Some(src), Some(dst)) = (v4(h.src), v4(h.dst)) else {
            return Err(NatError::NoSession);
        };
        let key = Inside {
            nat,
            src,
            src_port: h.src_port,
            dst,
            dst_port: remote_port(h),
            proto: h.proto,
        };
        if let Some(s) = self.inside.get(&key).copied() {
            if !self.expired(&s, now) {
                if let Some(live) = self.inside.get_mut(&key) {
                    live.last_seen = now;
                }
                return Ok(Translation {
                    addr: Ipv4Addr::from_bits(s.outside.addr),
                    port: s.outside.port,
                    new: false,
                });
            }
            self.remove(&key);
            self.metrics.idle_timeout_count += 1;
        }
        // A TCP segment without SYN cannot open a connection: after an idle timeout AWS answers
        // the client with a RST.
        if h.proto == IpProtocol::TCP && h.tcp_flags & tcp_flags::SYN == 0 {
            return Err(NatError::NoSession);
        }
        self.metrics.connection_attempt_count += 1;
        if self.inside.len() >= self.capacity {
            self.sweep(now);
            if self.inside.len() >= self.capacity {
                self.refused += 1;
                return Err(NatError::TableFull);
            }
        }
        let allocated = match self.allocate(key, addresses, now) {
            Some(t) => Ok(t),
            None => {
                // Idle sessions may be holding the ports: sweep once and retry.
                self.sweep(now);
                self.allocate(key, addresses, now).ok_or_else(|| {
                    self.metrics.error_port_allocation += 1;
                    NatError::PortsExhausted
                })
            }
        };
        self.peak = self.peak.max(self.inside.len());
        allocated
    }

    fn allocate(
        &mut self,
        key: Inside,
        addresses: &[Ipv4Addr],
        now: Timestamp,
    ) -> Option<Translation> {
        let span = (PORT_MAX - PORT_MIN) as u32 + 1;
        let start = (FxBuildHasher.hash_one(key) % span as u64) as u32;
        for addr in addresses {
            let addr = addr.to_bits();
            let dest = Destination {
                addr,
                remote: key.dst,
                remote_port: key.dst_port,
                proto: key.proto,
            };
            let used = self.per_destination.get(&dest).copied().unwrap_or(0);
            if used >= self.max_per_destination {
                continue;
            }
            for probe in 0..span {
                let port = (PORT_MIN as u32 + (start + probe) % span) as u16;
                let outside = Outside {
                    addr,
                    port,
                    remote: key.dst,
                    remote_port: key.dst_port,
                    proto: key.proto,
                };
                if self.outside.contains_key(&outside) {
                    continue;
                }
                self.outside.insert(outside, key);
                self.inside.insert(
                    key,
                    Session {
                        outside,
                        last_seen: now,
                    },
                );
                *self.per_destination.entry(dest).or_insert(0) += 1;
                return Some(Translation {
                    addr: Ipv4Addr::from_bits(addr),
                    port,
                    new: true,
                });
            }
        }
        None
    }

    /// Translate a packet from the outside back to its client. Unsolicited packets have no session.
    pub fn inbound(&mut self, h: &Header, now: Timestamp) -> Result<Translation, NatError> {
        let (Some(dst), Some(src)) = (v4(h.dst), v4(h.src)) else {
            return Err(NatError::NoSession);
        };
        let outside = Outside {
            addr: dst,
            port: h.dst_port,
            remote: src,
            remote_port: if h.proto == IpProtocol::ICMP {
                0
            } else {
                h.src_port
            },
            proto: h.proto,
        };
        let key = *self.outside.get(&outside).ok_or(NatError::NoSession)?;
        let s = *self.inside.get(&key).ok_or(NatError::NoSession)?;
        if self.expired(&s, now) {
            self.remove(&key);
            self.metrics.idle_timeout_count += 1;
            return Err(NatError::NoSession);
        }
        if let Some(live) = self.inside.get_mut(&key) {
            live.last_seen = now;
        }
        Ok(Translation {
            addr: Ipv4Addr::from_bits(key.src),
            port: key.src_port,
            new: false,
        })
    }

    /// Sessions gateway `nat` holds now, idle ones not yet swept included (`ActiveConnectionCount`;
    /// walks the table: for metrics once a minute, not per packet).
    pub fn sessions_of(&self, nat: NatIdx) -> usize {
        self.inside.keys().filter(|k| k.nat == nat).count()
    }

    /// Sessions to one destination through one gateway address (for tests and metrics).
    pub fn connections_to(
        &self,
        addr: Ipv4Addr,
        remote: Ipv4Addr,
        remote_port: u16,
        proto: IpProtocol,
    ) -> u32 {
        let d = Destination {
            addr: addr.to_bits(),
            remote: remote.to_bits(),
            remote_port: if proto == IpProtocol::ICMP {
                0
            } else {
                remote_port
            },
            proto,
        };
        self.per_destination.get(&d).copied().unwrap_or(0)
    }

    /// Free idle sessions; at most once per second of packet time.
    pub fn sweep(&mut self, now: Timestamp) {
        if self.last_sweep != Timestamp(0) && now.elapsed_ns(self.last_sweep) < 1_000_000_000 {
            return;
        }
        self.last_sweep = now;
        let idle: Vec<Inside> = self
            .inside
            .iter()
            .filter(|(_, s)| self.expired(s, now))
            .map(|(k, _)| *k)
            .collect();
        self.metrics.idle_timeout_count += idle.len() as u64;
        for k in idle {
            self.remove(&k);
        }
    }
}

/// Whether a NAT gateway can translate this protocol at all (TCP, UDP, ICMP echo; IPv4 only).
pub fn supported(h: &Header) -> bool {
    !h.is_v6()
        && (h.proto == IpProtocol::TCP
            || h.proto == IpProtocol::UDP
            || (h.proto == IpProtocol::ICMP && h.is_icmp_echo()))
}

/// What a NAT gateway translates, as a rule list: IPv4 TCP, UDP and ICMP echo, and of IP
/// fragments only UDP ones (SPEC §6.4).
#[derive(Clone, Copy, Debug)]
pub struct Translatable {
    /// The packet is a fragment.
    pub fragmented: bool,
}

impl Rules for Translatable {
    type Key = ();
    const ANY_MATCH: bool = true;
    #[inline]
    fn first_match(&self, h: &Header) -> Option<()> {
        (supported(h) && (!self.fragmented || h.proto == IpProtocol::UDP)).then_some(())
    }
    fn for_each_box(&self, fam: Family, f: &mut dyn FnMut(HBox, ())) {
        if fam == Family::V6 {
            return;
        }
        let kinds: &[(IpProtocol, Option<u8>)] = if self.fragmented {
            &[(IpProtocol::UDP, None)]
        } else {
            &[
                (IpProtocol::TCP, None),
                (IpProtocol::UDP, None),
                (IpProtocol::ICMP, Some(0)),
                (IpProtocol::ICMP, Some(8)),
            ]
        };
        for &(p, t) in kinds {
            if let Some(b) = protocol_box(fam, p, t) {
                f(b, ());
            }
        }
    }
    #[inline]
    fn passes(decided: Option<()>) -> bool {
        decided.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syn(sport: u16, dst: &str, dport: u16) -> Header {
        Header {
            src: "10.0.2.30".parse().unwrap(),
            dst: dst.parse().unwrap(),
            proto: IpProtocol::TCP,
            src_port: sport,
            dst_port: dport,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: tcp_flags::SYN,
            ttl: 64,
            len: 60,
        }
    }

    const NAT_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 10);
    const NAT_IP2: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 11);
    const S: u64 = 1_000_000_000;

    #[test]
    fn round_trip() {
        let mut t = NatTable::default();
        let out = t
            .outbound(
                NatIdx(0),
                &[NAT_IP],
                &syn(45000, "8.8.8.8", 53),
                Timestamp(S),
            )
            .unwrap();
        assert_eq!(out.addr, NAT_IP);
        assert!((PORT_MIN..=PORT_MAX).contains(&out.port));
        let mut reply = syn(53, "10.0.1.10", out.port);
        reply.src = "8.8.8.8".parse().unwrap();
        reply.tcp_flags = tcp_flags::SYN | tcp_flags::ACK;
        let back = t.inbound(&reply, Timestamp(2 * S)).unwrap();
        assert_eq!(
            (back.addr, back.port),
            ("10.0.2.30".parse().unwrap(), 45000)
        );
    }

    /// SPEC §17 vector 7: unsolicited inbound has no session.
    #[test]
    fn unsolicited_inbound() {
        let mut t = NatTable::default();
        let mut h = syn(40000, "10.0.1.10", 22);
        h.src = "192.0.2.9".parse().unwrap();
        assert_eq!(t.inbound(&h, Timestamp(0)), Err(NatError::NoSession));
    }

    /// SPEC §17 vector 8 (scaled down by lowering the limit): the limit is per destination tuple,
    /// spills to a secondary address, and frees ports on idle expiry.
    #[test]
    fn limit_per_destination_spill_and_expiry() {
        let mut t = NatTable::new(IDLE_TIMEOUT_S, 3);
        for p in 0..3 {
            t.outbound(
                NatIdx(0),
                &[NAT_IP],
                &syn(40000 + p, "93.184.216.34", 443),
                Timestamp(S),
            )
            .unwrap();
        }
        assert_eq!(
            t.outbound(
                NatIdx(0),
                &[NAT_IP],
                &syn(40003, "93.184.216.34", 443),
                Timestamp(S)
            ),
            Err(NatError::PortsExhausted)
        );
        assert_eq!(t.metrics.error_port_allocation, 1);
        // Another destination port is another tuple.
        assert!(t
            .outbound(
                NatIdx(0),
                &[NAT_IP],
                &syn(40003, "93.184.216.34", 80),
                Timestamp(S)
            )
            .is_ok());
        // A secondary address doubles the limit.
        let spilled = t
            .outbound(
                NatIdx(0),
                &[NAT_IP, NAT_IP2],
                &syn(40004, "93.184.216.34", 443),
                Timestamp(S),
            )
            .unwrap();
        assert_eq!(spilled.addr, NAT_IP2);
        // After 351 s idle, ports are free again.
        let later = Timestamp(S + 351 * S);
        assert!(t
            .outbound(
                NatIdx(0),
                &[NAT_IP],
                &syn(40005, "93.184.216.34", 443),
                later
            )
            .is_ok());
        assert_eq!(
            t.connections_to(
                NAT_IP,
                "93.184.216.34".parse().unwrap(),
                443,
                IpProtocol::TCP
            ),
            1
        );
    }

    /// SPEC §17 vector 9: after 350 s idle a data segment finds no session.
    #[test]
    fn idle_then_data_has_no_session() {
        let mut t = NatTable::default();
        let h = syn(40000, "198.51.100.7", 443);
        t.outbound(NatIdx(0), &[NAT_IP], &h, Timestamp(0)).unwrap();
        let mut data = h;
        data.tcp_flags = tcp_flags::ACK;
        assert!(t
            .outbound(NatIdx(0), &[NAT_IP], &data, Timestamp(300 * S))
            .is_ok());
        assert_eq!(
            t.outbound(NatIdx(0), &[NAT_IP], &data, Timestamp(651 * S)),
            Err(NatError::NoSession)
        );
        assert_eq!(t.metrics.idle_timeout_count, 1);
    }

    #[test]
    fn full_port_range_stays_in_bounds() {
        let mut t = NatTable::new(IDLE_TIMEOUT_S, 70_000);
        let mut seen = std::collections::HashSet::new();
        for i in 0..64_512u32 {
            let mut h = syn((i % 60000) as u16 + 1, "93.184.216.34", 443);
            h.src = Ipv4Addr::from_bits(0x0a00_0200 + i / 60000).into();
            let tr = t.outbound(NatIdx(0), &[NAT_IP], &h, Timestamp(S)).unwrap();
            assert!(tr.port >= PORT_MIN);
            assert!(seen.insert(tr.port));
        }
        let h = syn(1, "93.184.216.34", 443);
        let mut h2 = h;
        h2.src = "10.0.9.9".parse().unwrap();
        assert_eq!(
            t.outbound(NatIdx(0), &[NAT_IP], &h2, Timestamp(S)),
            Err(NatError::PortsExhausted)
        );
    }
}
