//! Longest-prefix match (LPM) for route tables: a [Poptrie] over IPv4 (`u32`) and IPv6
//! (`u128`) keys.
//!
//! Every route-table lookup in the simulator goes through [`Lpm::lookup`], so the structure
//! is built once (from an [`LpmBuilder`]) and then only read: it is immutable, compact and
//! made of flat arrays indexed by `u32`, which keeps the walk to a handful of dependent
//! loads and makes it cheap to clone and share.
//!
//! # Structure
//!
//! Poptrie (Asai & Ohara, "Poptrie: A Compressed Trie with Population Count for Fast and
//! Scalable Software IP Routing Table Lookup", SIGCOMM 2015) is a multiway trie with
//! 6-bit strides. A node has 64 children, described by two 64-bit bitmaps:
//!
//! - `vector`: bit `i` is set when child `i` is an internal node. The internal children of a
//!   node are stored contiguously in the node array starting at `base1`, so child `i` lives
//!   at `base1 + popcount(vector & ((1 << i) - 1))`.
//! - `leafvec`: *leaf compression*. The remaining (leaf) children usually come in runs that
//!   resolve to the same route, so only the first leaf of each run is stored, contiguously
//!   in the leaf array starting at `base0`, and bit `i` of `leafvec` marks where a run
//!   starts. Leaf `i` is `leaves[base0 + popcount(leafvec & ((2 << i) - 1)) - 1]`, i.e. the
//!   value of the last run that starts at or before `i`.
//!
//! `u64::count_ones` compiles to a single `POPCNT` instruction on x86-64 when the
//! `popcnt` target feature is enabled ([`Lpm::lookup`] makes sure it is, at run time), so a
//! level costs one node load, a shift, a mask and a population count. A node is 24 bytes;
//! a table of a million IPv4 prefixes takes about 16 MiB.
//!
//! *Direct pointing*: the top `s` bits of the key index a `2^s`-entry array of tagged
//! `u32` entries: either the index of the node that handles the next 6 bits, or a leaf. A
//! leaf entry holds the value itself when it is below 2^30 - 1 (route indices always are),
//! so a lookup that ends there costs a single memory access; larger values are stored in
//! the leaf array and the entry holds their index. Most of the depth of a real table is
//! under its first 16–18 bits, so this removes two or three levels from every walk.
//!
//! `s` grows with the table (see [`LpmBuilder::build`]): 8 bits (1 KiB) for small tables,
//! so that a VPC with many tiny route tables does not pay a large array per table, up to
//! 18 bits (1 MiB) for tables of more than 32k prefixes. 18 rather than 16 bits for large
//! tables follows the paper and measurements here: with 100k IPv4 prefixes (mostly /24) a
//! 16-bit array leaves three dependent loads (entry, node, leaf) for three quarters of the
//! lookups, while with 18 bits two thirds of the lookups end at the direct entry; the
//! total footprint is about the same, as fewer nodes are needed.
//!
//! After the direct-pointing bits, the key is consumed 6 bits at a time; a stride that runs
//! past the end of the key sees zero bits (with `s = 18` an IPv4 key is walked at offsets 18,
//! 24 and 30, the last stride covering bits 30..36).
//!
//! # Building
//!
//! [`LpmBuilder`] keeps the prefixes in a plain binary trie stored in a `Vec` with `u32`
//! child indices (no per-node allocation), which makes inserting and replacing cheap.
//! [`LpmBuilder::build`] walks that trie with *leaf pushing*: the best (longest) prefix seen
//! on the way down is carried to every slot below it that has no longer prefix of its own,
//! so each leaf slot holds the final answer and a lookup never has to backtrack. A slot
//! becomes an internal node exactly when some strictly longer prefix exists below it.
//! Children are allocated as one contiguous block before they are filled, which is what
//! the `base + popcount` addressing needs.
//!
//! # Values
//!
//! Values are arbitrary `u32` (the simulator stores route indices), except that `u32::MAX`
//! is reserved internally to mean "no route"; see [`LpmBuilder::insert`].
//!
//! [Poptrie]: https://doi.org/10.1145/2785956.2787474

use std::fmt;
use std::marker::PhantomData;

/// Leaf value meaning "no route covers this address". Reserved: never a stored value.
const NONE: u32 = u32::MAX;
/// Direct-pointing entries below this are node indices.
const DIRECT_LEAF: u32 = 1 << 31;
/// Direct-pointing entries in `DIRECT_LEAF..DIRECT_INDEX` hold a leaf value inline, as
/// `value + 1` in the low 30 bits (0 for "no route"); entries from `DIRECT_INDEX` up hold an
/// index into the leaf array, for values too large to inline.
const DIRECT_INDEX: u32 = 3 << 30;
/// The payload bits of a direct-pointing leaf entry.
const DIRECT_PAYLOAD: u32 = (1 << 30) - 1;
/// Bits consumed per trie level after direct pointing.
const STRIDE: u32 = 6;
/// Width of a node's bitmaps (`1 << STRIDE`).
const FANOUT: usize = 1 << STRIDE;

mod sealed {
    /// Bit-extraction helpers of [`super::LpmKey`]. Private so that the key types stay
    /// exactly `u32` and `u128` and the helpers are not part of the public API.
    pub trait Sealed: Sized {
        /// Bit `i` counted from the most significant bit (`i < BITS`), as 0 or 1.
        fn bit(self, i: u8) -> usize;
        /// The top `bits` bits (`1 <= bits <= 18`).
        fn top(self, bits: u32) -> usize;
        /// The 6 bits starting `offset` bits from the most significant bit
        /// (`offset < BITS`), with bits past the end of the key reading as zero.
        fn chunk(self, offset: u32) -> u32;
        /// The key in the most significant bits of a `u128` (used by tests).
        #[cfg(test)]
        fn to_left_u128(self) -> u128;
        /// Inverse of `to_left_u128` (low bits are dropped).
        #[cfg(test)]
        fn from_left_u128(v: u128) -> Self;
    }
}

/// A key type for [`Lpm`]: `u32` for IPv4 and `u128` for IPv6 (use
/// [`std::net::Ipv4Addr::to_bits`] / [`std::net::Ipv6Addr::to_bits`]). Sealed: it cannot
/// be implemented outside this crate.
pub trait LpmKey:
    sealed::Sealed + Copy + Eq + Ord + std::hash::Hash + fmt::Debug + 'static
{
    /// Width of the key in bits (32 or 128); the longest possible prefix length.
    const BITS: u8;
}

impl sealed::Sealed for u32 {
    #[inline(always)]
    fn bit(self, i: u8) -> usize {
        ((self >> (31 - i as u32)) & 1) as usize
    }
    #[inline(always)]
    fn top(self, bits: u32) -> usize {
        (self >> (32 - bits)) as usize
    }
    #[inline(always)]
    fn chunk(self, offset: u32) -> u32 {
        // Place the key in the top half of a u64 so that a stride crossing bit 32 reads
        // zeros; `32 + offset <= 63` since `offset < 32`.
        (((self as u64) << (32 + offset)) >> (64 - STRIDE)) as u32
    }
    #[cfg(test)]
    fn to_left_u128(self) -> u128 {
        (self as u128) << 96
    }
    #[cfg(test)]
    fn from_left_u128(v: u128) -> Self {
        (v >> 96) as u32
    }
}

impl LpmKey for u32 {
    const BITS: u8 = 32;
}

impl sealed::Sealed for u128 {
    #[inline(always)]
    fn bit(self, i: u8) -> usize {
        ((self >> (127 - i as u32)) & 1) as usize
    }
    #[inline(always)]
    fn top(self, bits: u32) -> usize {
        (self >> (128 - bits)) as usize
    }
    #[inline(always)]
    fn chunk(self, offset: u32) -> u32 {
        ((self << offset) >> (128 - STRIDE)) as u32
    }
    #[cfg(test)]
    fn to_left_u128(self) -> u128 {
        self
    }
    #[cfg(test)]
    fn from_left_u128(v: u128) -> Self {
        v
    }
}

impl LpmKey for u128 {
    const BITS: u8 = 128;
}

/// A node of the binary trie kept by [`LpmBuilder`]. Index 0 is the root (the zero-length
/// prefix); since the root is never a child, a child index of 0 means "no child".
#[derive(Clone, Copy, Debug)]
struct TrieNode {
    child: [u32; 2],
    /// The value of the prefix ending here, or [`NONE`].
    value: u32,
}

impl TrieNode {
    const EMPTY: TrieNode = TrieNode {
        child: [0, 0],
        value: NONE,
    };

    #[inline]
    fn has_children(&self) -> bool {
        self.child != [0, 0]
    }
}

/// Collects prefixes for an [`Lpm`]. Keeps a binary trie in a flat `Vec` so that inserting
/// (and replacing) is `O(prefix length)` without per-node allocation; [`build`](Self::build)
/// compiles it into the lookup structure and can be called any number of times.
#[derive(Clone)]
pub struct LpmBuilder<K: LpmKey> {
    trie: Vec<TrieNode>,
    count: usize,
    _key: PhantomData<fn() -> K>,
}

impl<K: LpmKey> Default for LpmBuilder<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: LpmKey> fmt::Debug for LpmBuilder<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LpmBuilder")
            .field("key_bits", &K::BITS)
            .field("prefixes", &self.count)
            .field("trie_nodes", &self.trie.len())
            .finish()
    }
}

impl<K: LpmKey> LpmBuilder<K> {
    /// An empty builder.
    pub fn new() -> Self {
        LpmBuilder {
            trie: vec![TrieNode::EMPTY],
            count: 0,
            _key: PhantomData,
        }
    }

    /// Inserts the prefix `prefix/len` with `value`. Host bits of `prefix` beyond `len` are
    /// ignored. A later insert of the same prefix replaces the value.
    ///
    /// `len > K::BITS` is a caller bug and is clamped to `K::BITS`. `value == u32::MAX` is
    /// reserved (it means "no route" internally): it trips a `debug_assert!` and is clamped
    /// to `u32::MAX - 1` in release builds.
    pub fn insert(&mut self, prefix: K, len: u8, value: u32) {
        debug_assert!(value != NONE, "u32::MAX is reserved as an LPM value");
        let value = value.min(NONE - 1);
        let len = len.min(K::BITS);
        let mut t = 0usize;
        for i in 0..len {
            let b = prefix.bit(i);
            let c = self.trie[t].child[b];
            t = if c != 0 {
                c as usize
            } else {
                let n = self.trie.len();
                self.trie.push(TrieNode::EMPTY);
                self.trie[t].child[b] = n as u32;
                n
            };
        }
        if self.trie[t].value == NONE {
            self.count += 1;
        }
        self.trie[t].value = value;
    }

    /// Number of distinct prefixes inserted.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when no prefix has been inserted.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Compiles the prefixes into a [`Lpm`]. Linear in the size of the binary trie: about
    /// half a second for a million IPv4 prefixes.
    ///
    /// The direct-pointing width depends on the number of prefixes: 8 bits (1 KiB) up to
    /// 256 prefixes, 12 bits (16 KiB) up to 4096, 16 bits (256 KiB) up to 32768 and 18 bits
    /// (1 MiB) above, so small tables stay small while large ones get the full benefit of
    /// direct pointing.
    pub fn build(&self) -> Lpm<K> {
        let direct_bits: u32 = match self.count {
            0..=256 => 8,
            257..=4096 => 12,
            4097..=32768 => 16,
            _ => 18,
        };
        self.build_with_direct_bits(direct_bits)
    }

    /// [`Self::build`] with an explicit direct-pointing width (`1..=18`, at most `K::BITS`).
    fn build_with_direct_bits(&self, direct_bits: u32) -> Lpm<K> {
        debug_assert!((1..=18).contains(&direct_bits) && direct_bits <= K::BITS as u32);
        let mut b = PoptrieBuilder {
            trie: &self.trie,
            nodes: Vec::new(),
            leaves: Vec::new(),
            last_top_leaf: None,
        };
        let mut direct = vec![0u32; 1 << direct_bits];
        let mut pending: Vec<(u32, u32)> = Vec::new();
        let root = self.trie[0];
        b.expand_direct(&mut direct, &mut pending, 0, 0, 0, root.value, direct_bits);
        // The top-level nodes form one contiguous block, in address order.
        b.nodes.resize(pending.len(), Node::default());
        for (i, &(t, best)) in pending.iter().enumerate() {
            b.build_node(t as usize, best, i);
        }
        let PoptrieBuilder {
            mut nodes,
            mut leaves,
            ..
        } = b;
        nodes.shrink_to_fit();
        leaves.shrink_to_fit();
        debug_assert!(nodes.len() <= DIRECT_LEAF as usize);
        debug_assert!(leaves.len() <= DIRECT_PAYLOAD as usize + 1);
        Lpm {
            direct,
            nodes,
            leaves,
            direct_bits,
            len: self.count,
            _key: PhantomData,
        }
    }
}

/// A Poptrie node: 24 bytes.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
struct Node {
    /// Bit `i` set: child `i` is an internal node.
    vector: u64,
    /// Bit `i` set: a run of identical leaves starts at child `i`.
    leafvec: u64,
    /// Index in `Lpm::leaves` of this node's first stored leaf.
    base0: u32,
    /// Index in `Lpm::nodes` of this node's first internal child.
    base1: u32,
}

/// What one of a node's 64 children turned out to be during the build.
#[derive(Clone, Copy)]
enum Slot {
    /// A leaf with its (leaf-pushed) value, possibly [`NONE`].
    Leaf(u32),
    /// An internal node rooted at this trie node, inheriting this best value.
    Node { trie: u32, best: u32 },
}

/// Scratch state of [`LpmBuilder::build`].
struct PoptrieBuilder<'a> {
    trie: &'a [TrieNode],
    nodes: Vec<Node>,
    leaves: Vec<u32>,
    /// The last leaf pushed for a direct-pointing entry, reused by the next run with the same
    /// value: (value, leaf index).
    last_top_leaf: Option<(u32, u32)>,
}

impl PoptrieBuilder<'_> {
    /// The best value once trie node `c` is reached, given the best value above it.
    #[inline]
    fn best_at(&self, c: usize, best: u32) -> u32 {
        let v = self.trie[c].value;
        if v != NONE {
            v
        } else {
            best
        }
    }

    /// The direct-pointing entry for a leaf: the value inline when it fits, else the index
    /// of a leaf holding it.
    fn top_leaf(&mut self, value: u32) -> u32 {
        let inline = value.wrapping_add(1);
        if inline <= DIRECT_PAYLOAD {
            return DIRECT_LEAF | inline;
        }
        let idx = match self.last_top_leaf {
            Some((v, i)) if v == value => i,
            _ => {
                let i = self.leaves.len() as u32;
                self.leaves.push(value);
                self.last_top_leaf = Some((value, i));
                i
            }
        };
        DIRECT_INDEX | idx
    }

    /// Fills the direct-pointing entries under trie node `t`, which sits `depth` bits below
    /// the root and covers entries `idx << (bits - depth) .. (idx + 1) << (bits - depth)`.
    /// `best` already includes `t`'s own value. Entries that need a node get a provisional
    /// index into `pending`, which is also their final index in the node array.
    #[allow(clippy::too_many_arguments)]
    fn expand_direct(
        &mut self,
        direct: &mut [u32],
        pending: &mut Vec<(u32, u32)>,
        t: usize,
        depth: u32,
        idx: usize,
        best: u32,
        bits: u32,
    ) {
        let node = self.trie[t];
        if depth == bits {
            direct[idx] = if node.has_children() {
                pending.push((t as u32, best));
                (pending.len() - 1) as u32
            } else {
                self.top_leaf(best)
            };
            return;
        }
        if !node.has_children() {
            let span = bits - depth;
            let leaf = self.top_leaf(best);
            direct[idx << span..(idx + 1) << span].fill(leaf);
            return;
        }
        for b in 0..2 {
            let c = node.child[b] as usize;
            let cidx = idx * 2 + b;
            if c == 0 {
                let span = bits - depth - 1;
                let leaf = self.top_leaf(best);
                direct[cidx << span..(cidx + 1) << span].fill(leaf);
            } else {
                let cbest = self.best_at(c, best);
                self.expand_direct(direct, pending, c, depth + 1, cidx, cbest, bits);
            }
        }
    }

    /// Fills the node slots under trie node `t`, `depth` bits (`0..=STRIDE`) below the
    /// node's own trie node, covering slots `idx << (STRIDE - depth) ..`.
    fn expand_node(&self, slots: &mut [Slot; FANOUT], t: usize, depth: u32, idx: usize, best: u32) {
        let node = self.trie[t];
        if depth == STRIDE {
            slots[idx] = if node.has_children() {
                Slot::Node {
                    trie: t as u32,
                    best,
                }
            } else {
                Slot::Leaf(best)
            };
            return;
        }
        if !node.has_children() {
            let span = STRIDE - depth;
            slots[idx << span..(idx + 1) << span].fill(Slot::Leaf(best));
            return;
        }
        for b in 0..2 {
            let c = node.child[b] as usize;
            let cidx = idx * 2 + b;
            if c == 0 {
                let span = STRIDE - depth - 1;
                slots[cidx << span..(cidx + 1) << span].fill(Slot::Leaf(best));
            } else {
                let cbest = self.best_at(c, best);
                self.expand_node(slots, c, depth + 1, cidx, cbest);
            }
        }
    }

    /// Builds the node at `nodes[at]` (already allocated) for trie node `t` (which has
    /// children), then, depth-first, its internal children.
    fn build_node(&mut self, t: usize, best: u32, at: usize) {
        let mut slots = [Slot::Leaf(NONE); FANOUT];
        self.expand_node(&mut slots, t, 0, 0, best);

        let base0 = self.leaves.len() as u32;
        let mut vector = 0u64;
        let mut leafvec = 0u64;
        let mut prev_leaf: Option<u32> = None;
        for (i, slot) in slots.iter().enumerate() {
            match *slot {
                Slot::Leaf(v) => {
                    if prev_leaf != Some(v) {
                        leafvec |= 1 << i;
                        self.leaves.push(v);
                        prev_leaf = Some(v);
                    }
                }
                Slot::Node { .. } => vector |= 1 << i,
            }
        }
        let base1 = self.nodes.len();
        self.nodes
            .resize(base1 + vector.count_ones() as usize, Node::default());
        self.nodes[at] = Node {
            vector,
            leafvec,
            base0,
            base1: base1 as u32,
        };
        let mut k = base1;
        for slot in slots {
            if let Slot::Node { trie, best } = slot {
                self.build_node(trie as usize, best, k);
                k += 1;
            }
        }
    }
}

/// An immutable longest-prefix-match table (a Poptrie; see the [module docs](self)).
/// Build it with [`LpmBuilder`]; the [`Default`] is the empty table.
#[derive(Clone)]
pub struct Lpm<K: LpmKey> {
    /// Direct pointing, indexed by the top `direct_bits` of the key: a node index, an inline
    /// leaf value or a leaf index (see [`DIRECT_LEAF`] and [`DIRECT_INDEX`]).
    direct: Vec<u32>,
    nodes: Vec<Node>,
    /// Leaf values; [`NONE`] for "no route".
    leaves: Vec<u32>,
    direct_bits: u32,
    len: usize,
    _key: PhantomData<fn() -> K>,
}

impl<K: LpmKey> Default for Lpm<K> {
    /// The empty table: every lookup returns `None`.
    fn default() -> Self {
        const BITS: u32 = 4;
        Lpm {
            direct: vec![DIRECT_LEAF; 1 << BITS],
            nodes: Vec::new(),
            leaves: Vec::new(),
            direct_bits: BITS,
            len: 0,
            _key: PhantomData,
        }
    }
}

impl<K: LpmKey> fmt::Debug for Lpm<K> {
    /// A summary (the arrays can hold millions of entries).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lpm")
            .field("key_bits", &K::BITS)
            .field("prefixes", &self.len)
            .field("direct_bits", &self.direct_bits)
            .field("nodes", &self.nodes.len())
            .field("leaves", &self.leaves.len())
            .field("memory_bytes", &self.memory_bytes())
            .finish()
    }
}

impl<K: LpmKey> Lpm<K> {
    /// The value of the longest prefix containing `addr`, if any.
    ///
    /// One direct-pointing load, then per 6-bit level one node load and two population
    /// counts; no allocation and no branches beyond the walk itself.
    ///
    /// On x86-64 builds whose target does not already include the `popcnt` feature (the
    /// default `x86-64` target does not), the walk is compiled a second time with `popcnt`
    /// enabled and selected at run time when the CPU has it (every x86-64 CPU of the last
    /// fifteen years): without it `count_ones` is a dozen-instruction bit-twiddling
    /// sequence and lookups are about 1.5x slower. The check is a cached, perfectly
    /// predicted branch.
    #[inline]
    pub fn lookup(&self, addr: K) -> Option<u32> {
        #[cfg(all(target_arch = "x86_64", not(target_feature = "popcnt")))]
        #[allow(unsafe_code)]
        {
            if std::arch::is_x86_feature_detected!("popcnt") {
                // SAFETY: the CPU supports POPCNT, the only feature `lookup_popcnt` enables, so
                // none of its instructions can be illegal here; the walk itself is safe code.
                return unsafe { self.lookup_popcnt(addr) };
            }
        }
        self.walk(addr)
    }

    /// [`Self::walk`] compiled with the `popcnt` target feature.
    ///
    /// # Safety
    /// The CPU must support POPCNT.
    #[cfg(all(target_arch = "x86_64", not(target_feature = "popcnt")))]
    #[target_feature(enable = "popcnt")]
    // `unsafe` only because a `target_feature` function may run on a CPU without the feature;
    // its one caller checks for it first.
    #[allow(unsafe_code)]
    unsafe fn lookup_popcnt(&self, addr: K) -> Option<u32> {
        self.walk(addr)
    }

    /// The Poptrie walk behind [`Self::lookup`].
    #[inline(always)]
    fn walk(&self, addr: K) -> Option<u32> {
        let entry = self.direct[addr.top(self.direct_bits)];
        let value = if entry >= DIRECT_LEAF {
            if entry < DIRECT_INDEX {
                (entry & DIRECT_PAYLOAD).wrapping_sub(1)
            } else {
                self.leaves[(entry & DIRECT_PAYLOAD) as usize]
            }
        } else {
            let mut node = &self.nodes[entry as usize];
            let mut offset = self.direct_bits;
            let leaf = loop {
                let bit = 1u64 << addr.chunk(offset);
                if node.vector & bit == 0 {
                    // Slot is a leaf: the last run starting at or before it. The slot's own
                    // run start is counted, so the count is at least 1.
                    let runs = (node.leafvec & (bit | (bit - 1))).count_ones();
                    break node.base0.wrapping_add(runs).wrapping_sub(1);
                }
                let child = node.base1 + (node.vector & (bit - 1)).count_ones();
                node = &self.nodes[child as usize];
                offset += STRIDE;
            };
            self.leaves[leaf as usize]
        };
        if value != NONE {
            Some(value)
        } else {
            None
        }
    }

    /// Number of distinct prefixes in the table.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the table has no prefix (every lookup returns `None`).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Approximate heap and inline footprint in bytes: the direct-pointing array, the nodes
    /// (24 bytes each) and the leaves (4 bytes each).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.direct.len() * std::mem::size_of::<u32>()
            + self.nodes.len() * std::mem::size_of::<Node>()
            + self.leaves.len() * std::mem::size_of::<u32>()
    }
}

#[cfg(test)]
mod tests;
