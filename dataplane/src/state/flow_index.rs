//! The index under a flow table kept in a slab (the NLB's [`crate::topology::nlb::NlbFlows`]): an
//! open-addressing map from a key's hash to the slot of its entry in the slab.
//!
//! Flow tables outgrow the caches with a few thousand flows, so the data plane is bound by
//! memory latency. With entries in a slab and only 4 bytes per key here, the index stays in
//! the caches when the slab does not: a lookup probes the index without a miss and then reads
//! one entry. It also lets a stage that knows a key ask for the entry's line before it needs it
//! ([`FlowIndex::prefetch_slot`] names the slot from the index alone), which a `HashMap`
//! cannot. Linear probing with backward-shift deletion: no tombstones, a probe stops at the
//! first free entry. Hashes are the table's own, deterministic (no random seed).
//!
//! Connection tracking stays on `hashbrown`: the same layout measured no better there
//! (`cargo bench --bench pipeline_paths`), its control bytes already being cache-resident.

/// An index entry: an occupied bit, eight bits of the key's hash (a tag that spares most
/// comparisons with the slab's keys), the slab slot and one bit for the table's use; 0 is free.
/// Four bytes, so the index of 10,000 two-legged flows is 128 KiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IndexEntry(u32);

/// Slots an index can point to.
pub(crate) const MAX_SLOTS: usize = 1 << 22;

impl IndexEntry {
    const FREE: IndexEntry = IndexEntry(0);

    fn new(hash: u64, slot: u32, bit: bool) -> IndexEntry {
        debug_assert!((slot as usize) < MAX_SLOTS);
        IndexEntry(1 << 31 | tag(hash) << 23 | slot << 1 | bit as u32)
    }

    fn is_free(self) -> bool {
        self == IndexEntry::FREE
    }

    fn tag(self) -> u32 {
        (self.0 >> 23) & 0xff
    }

    pub fn slot(self) -> u32 {
        (self.0 >> 1) & (MAX_SLOTS as u32 - 1)
    }

    pub fn bit(self) -> bool {
        self.0 & 1 != 0
    }
}

/// The bits of a hash an entry keeps: its top eight (the low ones pick the home).
fn tag(hash: u64) -> u32 {
    (hash >> 56) as u32
}

/// Entries an index starts with; it doubles when three quarters full.
const INITIAL_ENTRIES: usize = 64;

/// The index. An entry does not keep its whole hash, so moving one (growth, deletion) asks the
/// table for it: `hash_of` hashes the key the entry points to.
#[derive(Clone, Debug)]
pub(crate) struct FlowIndex {
    /// A power of two long, at most three quarters occupied.
    entries: Vec<IndexEntry>,
    len: usize,
}

impl FlowIndex {
    pub fn new() -> FlowIndex {
        FlowIndex {
            entries: vec![IndexEntry::FREE; INITIAL_ENTRIES],
            len: 0,
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn home(&self, hash: u64) -> usize {
        hash as usize & (self.entries.len() - 1)
    }

    /// The first entry at or after `hash`'s home with its tag for which `hit` holds (the table
    /// compares its key there), and its position. A loop rather than an iterator chain: this
    /// is the per-packet path.
    #[inline]
    pub fn probe(
        &self,
        hash: u64,
        mut hit: impl FnMut(IndexEntry) -> bool,
    ) -> Option<(usize, IndexEntry)> {
        let tag = tag(hash);
        let mask = self.entries.len() - 1;
        let mut i = self.home(hash);
        loop {
            let e = self.entries[i];
            if e.is_free() {
                return None;
            }
            if e.tag() == tag && hit(e) {
                return Some((i, e));
            }
            i = (i + 1) & mask;
        }
    }

    /// The slot a key with `hash` most likely has (the first with its tag), for a prefetch.
    #[inline]
    pub fn prefetch_slot(&self, hash: u64) -> Option<u32> {
        self.probe(hash, |_| true).map(|(_, e)| e.slot())
    }

    pub fn insert(&mut self, hash: u64, slot: u32, bit: bool, hash_of: impl Fn(IndexEntry) -> u64) {
        if (self.len + 1) * 4 > self.entries.len() * 3 {
            let doubled = vec![IndexEntry::FREE; self.entries.len() * 2];
            let old = std::mem::replace(&mut self.entries, doubled);
            for e in old.into_iter().filter(|e| !e.is_free()) {
                self.place(hash_of(e), e);
            }
        }
        self.place(hash, IndexEntry::new(hash, slot, bit));
        self.len += 1;
    }

    fn place(&mut self, hash: u64, e: IndexEntry) {
        let mask = self.entries.len() - 1;
        let mut i = self.home(hash);
        while !self.entries[i].is_free() {
            i = (i + 1) & mask;
        }
        self.entries[i] = e;
    }

    /// Empty position `i`, shifting back the entries of its probe run so every lookup still
    /// finds its key. Positions taken before are invalid after.
    pub fn remove_at(&mut self, mut i: usize, hash_of: impl Fn(IndexEntry) -> u64) {
        let mask = self.entries.len() - 1;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let e = self.entries[j];
            if e.is_free() {
                break;
            }
            let home = self.home(hash_of(e));
            // Entry j stays when its home lies cyclically in (i, j].
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                self.entries[i] = e;
                i = j;
            }
        }
        self.entries[i] = IndexEntry::FREE;
        self.len -= 1;
    }
}

/// splitmix64's finalizer: spreads every input bit over the whole word, so the low bits that
/// pick an index entry depend on all of the key.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inserts and removals in a scrambled order under a weak hash (long probe runs that wrap
    /// around the end), across growth: the index agrees with a `HashMap` after every step.
    #[test]
    fn agrees_with_a_hash_map() {
        let mut index = FlowIndex::new();
        let mut m = std::collections::HashMap::new();
        let hash = |key: u32| u64::MAX - u64::from(key % 7) * 9;
        let hash_of = |e: IndexEntry| hash(e.slot());
        let mut x = 12345u64;
        for _ in 0..20_000 {
            x = mix(x);
            let key = (x % 500) as u32;
            let found = index.probe(hash(key), |e| e.slot() == key);
            if x >> 60 < 10 {
                if found.is_none() {
                    index.insert(hash(key), key, key.is_multiple_of(2), hash_of);
                    m.insert(key, ());
                }
            } else if let Some((at, _)) = found {
                index.remove_at(at, hash_of);
                m.remove(&key);
            }
            assert_eq!(index.len(), m.len());
        }
        for key in 0..500 {
            let found = index.probe(hash(key), |e| e.slot() == key);
            assert_eq!(found.is_some(), m.contains_key(&key), "{key}");
            assert!(found.is_none_or(|(_, e)| e.bit() == (key.is_multiple_of(2))));
        }
    }
}
