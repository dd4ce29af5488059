//! First fragments, so later fragments (which carry no L4 header) are judged and translated like
//! their datagram's first. Model: AWS does not document fragment handling by SGs/NACLs (SPEC
//! §15): the first fragment is evaluated, the rest follow it.
//!
//! Bounded like a reassembly table (Suricata's defrag trackers): a datagram is forgotten when
//! all its bytes have passed or after the reassembly timeout, expiry walks an ordered list from
//! its old end (O(1) per packet, amortised), and a full table refuses new datagrams with a
//! counted reason instead of silently forgetting them.

use crate::state::conntrack::TableFull;
use crate::wire::{AddrKey, FragSpan, Header, IpProtocol, Timestamp};
use hashbrown::HashMap;
use rustc_hash::FxBuildHasher;
use std::collections::VecDeque;

/// Datagrams whose fragments may still arrive, by default.
pub const DEFAULT_CAPACITY: usize = 65_536;

/// Reassembly timeout: fragments arriving later than this after the first are orphans.
const FRAGMENT_TIMEOUT_NS: u64 = 30 * 1_000_000_000;

type DatagramKey = (AddrKey, AddrKey, IpProtocol, u32);

/// What later fragments inherit from the first one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstFragment {
    /// The first fragment's source port.
    pub src_port: u16,
    /// The first fragment's destination port.
    pub dst_port: u16,
    /// The first fragment's ICMP type.
    pub icmp_type: u8,
    /// The first fragment's ICMP code.
    pub icmp_code: u8,
}

#[derive(Clone, Copy, Debug)]
struct Datagram {
    first: FirstFragment,
    seen: Timestamp,
    /// Which `remember` created the entry, so a stale expiry-list element (its datagram
    /// completed, or the same key came back) does not remove a newer entry.
    generation: u64,
    /// Data bytes of the fragments seen so far.
    received: u32,
    /// The datagram's length, once its last fragment was seen.
    total: Option<u32>,
}

/// What the fragment table says about a non-first fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaterFragment {
    /// Its first fragment was seen: judge it like that one.
    Follows(FirstFragment),
    /// Its first fragment was not seen (or timed out).
    Orphan,
    /// The table refused first fragments within the reassembly timeout: this fragment's may
    /// have been one of them, so it is not called an orphan.
    TableFull,
}

/// The fragment table: datagrams by (source, destination, protocol, identification).
#[derive(Clone, Debug)]
pub struct Fragments {
    map: HashMap<DatagramKey, Datagram, FxBuildHasher>,
    /// Entries in the order they were created: with one timeout, the order they expire in.
    expiry: VecDeque<(Timestamp, u64, DatagramKey)>,
    capacity: usize,
    generation: u64,
    last_refusal: Option<Timestamp>,
    /// First fragments refused because the table was full.
    pub refused: u64,
    /// Datagrams forgotten at the reassembly timeout with fragments still missing.
    pub expired: u64,
    peak: usize,
}

impl Fragments {
    /// An empty table holding at most `capacity` datagrams.
    pub fn new(capacity: usize) -> Fragments {
        Fragments {
            map: HashMap::with_hasher(FxBuildHasher),
            expiry: VecDeque::new(),
            capacity,
            generation: 0,
            last_refusal: None,
            refused: 0,
            expired: 0,
            peak: 0,
        }
    }

    /// Capacity, peak and refusals, for the replay summary.
    pub fn table_use(&self) -> crate::state::TableUse {
        crate::state::TableUse {
            capacity: self.capacity,
            entries: self.map.len(),
            peak: self.peak,
            refused: self.refused,
            expired: self.expired,
        }
    }

    /// Datagrams held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no datagram is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Remember the first fragment of datagram `id` (its IP identification). Refused when the
    /// table is full of datagrams younger than the timeout.
    pub fn remember(
        &mut self,
        h: &Header,
        id: u32,
        span: FragSpan,
        now: Timestamp,
    ) -> Result<(), TableFull> {
        self.expire(now);
        let key = (h.src.into(), h.dst.into(), h.proto, id);
        if self.map.len() >= self.capacity && !self.map.contains_key(&key) {
            self.refused += 1;
            self.last_refusal = Some(now);
            return Err(TableFull);
        }
        self.generation += 1;
        let d = Datagram {
            first: FirstFragment {
                src_port: h.src_port,
                dst_port: h.dst_port,
                icmp_type: h.icmp_type,
                icmp_code: h.icmp_code,
            },
            seen: now,
            generation: self.generation,
            received: span.end.saturating_sub(span.start),
            total: None,
        };
        self.map.insert(key, d);
        self.peak = self.peak.max(self.map.len());
        self.expiry.push_back((now, self.generation, key));
        // Stale elements (completed datagrams) are dropped in bulk once they outnumber the live
        // ones: amortised O(1), and the list never holds more than twice the capacity.
        if self.expiry.len() > 2 * self.capacity.max(self.map.len()) {
            let map = &self.map;
            self.expiry
                .retain(|(_, g, k)| map.get(k).is_some_and(|d| d.generation == *g));
        }
        Ok(())
    }

    /// A non-first fragment of datagram `id`: what its first fragment said. Its bytes are
    /// counted; once every byte of the datagram has passed, the datagram is forgotten.
    pub fn later(&mut self, h: &Header, id: u32, span: FragSpan, now: Timestamp) -> LaterFragment {
        let key = (h.src.into(), h.dst.into(), h.proto, id);
        let unknown = match self.last_refusal {
            Some(t) if now.elapsed_ns(t) <= FRAGMENT_TIMEOUT_NS => LaterFragment::TableFull,
            _ => LaterFragment::Orphan,
        };
        let Some(d) = self.map.get_mut(&key) else {
            return unknown;
        };
        if now.elapsed_ns(d.seen) > FRAGMENT_TIMEOUT_NS {
            return unknown;
        }
        let first = d.first;
        d.received = d
            .received
            .saturating_add(span.end.saturating_sub(span.start));
        if span.last {
            d.total = Some(span.end);
        }
        if d.total.is_some_and(|t| d.received >= t) {
            self.map.remove(&key);
        }
        LaterFragment::Follows(first)
    }

    /// Forget the datagrams older than the timeout, oldest first, stopping at the first live one.
    pub fn expire(&mut self, now: Timestamp) {
        while let Some(&(seen, g, key)) = self.expiry.front() {
            if now.elapsed_ns(seen) <= FRAGMENT_TIMEOUT_NS {
                break;
            }
            self.expiry.pop_front();
            if self.map.get(&key).is_some_and(|d| d.generation == g) {
                self.map.remove(&key);
                self.expired += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn tcp(src: &str) -> Header {
        let src: std::net::IpAddr = src.parse().unwrap();
        let dst: std::net::IpAddr = "10.0.1.20".parse().unwrap();
        Header {
            len: 0,
            ..Header::syn(src, 40000, dst, 443)
        }
    }

    fn span(start: u32, end: u32, last: bool) -> FragSpan {
        FragSpan { start, end, last }
    }

    #[test]
    fn a_complete_datagram_is_forgotten() {
        let mut f = Fragments::new(4);
        let h = tcp("192.0.2.1");
        f.remember(&h, 7, span(0, 1480, false), Timestamp(S))
            .unwrap();
        assert_eq!(f.len(), 1);
        // The last fragment before a middle one: the datagram waits for the middle.
        let later = f.later(&h, 7, span(2960, 3000, true), Timestamp(S));
        assert!(matches!(later, LaterFragment::Follows(p) if p.dst_port == 443));
        assert_eq!(f.len(), 1);
        f.later(&h, 7, span(1480, 2960, false), Timestamp(S));
        assert!(f.is_empty());
        assert_eq!(
            f.later(&h, 7, span(1480, 2960, false), Timestamp(S)),
            LaterFragment::Orphan
        );
    }

    #[test]
    fn a_full_table_refuses_and_says_so() {
        let mut f = Fragments::new(2);
        for (i, src) in ["192.0.2.1", "192.0.2.2"].iter().enumerate() {
            f.remember(&tcp(src), i as u32, span(0, 8, false), Timestamp(S))
                .unwrap();
        }
        let h = tcp("192.0.2.3");
        assert_eq!(
            f.remember(&h, 9, span(0, 8, false), Timestamp(2 * S)),
            Err(TableFull)
        );
        assert_eq!(f.refused, 1);
        assert_eq!(
            f.later(&h, 9, span(8, 16, true), Timestamp(2 * S)),
            LaterFragment::TableFull
        );
        // After the timeout the old datagrams expire, in order, and room is made.
        f.remember(&h, 9, span(0, 8, false), Timestamp(40 * S))
            .unwrap();
        assert_eq!(f.expired, 2);
        assert_eq!(f.len(), 1);
        // Long after the last refusal, a fragment without its first is an orphan again.
        assert_eq!(
            f.later(&h, 10, span(8, 16, true), Timestamp(80 * S)),
            LaterFragment::Orphan
        );
    }

    #[test]
    fn the_expiry_list_stays_bounded() {
        let mut f = Fragments::new(8);
        let h = tcp("192.0.2.1");
        for id in 0..10_000u32 {
            f.remember(&h, id, span(0, 8, false), Timestamp(S)).unwrap();
            f.later(&h, id, span(8, 16, true), Timestamp(S));
        }
        assert!(f.is_empty());
        assert!(f.expiry.len() <= 16, "{}", f.expiry.len());
    }
}
