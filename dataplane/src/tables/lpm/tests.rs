//! Tests of the Poptrie against a brute-force longest-prefix match.
use super::sealed::Sealed;
use super::*;

/// xorshift64*: a tiny deterministic PRNG so the tests need no extra crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn u128(&mut self) -> u128 {
        ((self.next() as u128) << 64) | self.next() as u128
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Mask keeping the top `len` bits of a left-aligned key.
fn mask(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - len as u32)
    }
}

/// The top `len` bits of a left-aligned key, right-aligned (so that FxHash, which mixes
/// upwards, sees them in the low bits).
fn key(a: u128, len: u8) -> u128 {
    a.checked_shr(128 - len as u32).unwrap_or(0)
}

/// Reference: one exact-match map per prefix length, probed from the longest length
/// down (obviously correct, and fast enough to check tens of thousands of lookups).
#[derive(Default)]
struct Naive {
    by_len: Vec<rustc_hash::FxHashMap<u128, u32>>,
}
impl Naive {
    fn insert<K: LpmKey>(&mut self, prefix: K, len: u8, value: u32) {
        let len = len.min(K::BITS);
        if self.by_len.is_empty() {
            self.by_len.resize_with(129, Default::default);
        }
        self.by_len[len as usize].insert(key(prefix.to_left_u128(), len), value);
    }
    fn len(&self) -> usize {
        self.by_len.iter().map(|m| m.len()).sum()
    }
    fn lookup<K: LpmKey>(&self, addr: K) -> Option<u32> {
        let a = addr.to_left_u128();
        (0..self.by_len.len())
            .rev()
            .filter(|&l| !self.by_len[l].is_empty())
            .find_map(|l| self.by_len[l].get(&key(a, l as u8)).copied())
    }
}

fn v4(s: &str) -> u32 {
    s.parse::<std::net::Ipv4Addr>()
        .expect("test address")
        .to_bits()
}
fn v6(s: &str) -> u128 {
    s.parse::<std::net::Ipv6Addr>()
        .expect("test address")
        .to_bits()
}

#[test]
fn empty_table() {
    let t: Lpm<u32> = Lpm::default();
    assert!(t.is_empty());
    assert_eq!(t.lookup(0), None);
    assert_eq!(t.lookup(u32::MAX), None);
    let t6: Lpm<u128> = Lpm::default();
    assert_eq!(t6.lookup(0), None);
    assert_eq!(t6.lookup(u128::MAX), None);
    let built = LpmBuilder::<u32>::new().build();
    assert_eq!(built.len(), 0);
    assert_eq!(built.lookup(v4("10.0.0.1")), None);
    assert_eq!(LpmBuilder::<u128>::new().build().lookup(1), None);
    assert!(format!("{t:?}").contains("prefixes: 0"));
}

#[test]
fn default_route() {
    let mut b = LpmBuilder::<u32>::new();
    b.insert(v4("1.2.3.4"), 0, 7); // host bits ignored
    let t = b.build();
    assert_eq!(t.len(), 1);
    for a in [0, 1, v4("10.1.2.3"), v4("255.255.255.255")] {
        assert_eq!(t.lookup(a), Some(7));
    }
    let mut b = LpmBuilder::<u128>::new();
    b.insert(0, 0, 3);
    let t = b.build();
    assert_eq!(t.lookup(0), Some(3));
    assert_eq!(t.lookup(u128::MAX), Some(3));
}

#[test]
fn host_routes_and_nesting() {
    let mut b = LpmBuilder::<u32>::new();
    b.insert(v4("10.0.0.0"), 8, 1);
    b.insert(v4("10.1.0.0"), 16, 2);
    b.insert(v4("10.1.2.0"), 24, 3);
    b.insert(v4("10.1.2.3"), 32, 4);
    b.insert(v4("10.1.2.4"), 31, 5);
    b.insert(v4("255.255.255.255"), 32, 6);
    let t = b.build();
    assert_eq!(t.len(), 6);
    assert_eq!(t.lookup(v4("9.255.255.255")), None);
    assert_eq!(t.lookup(v4("10.0.0.0")), Some(1));
    assert_eq!(t.lookup(v4("10.255.255.255")), Some(1));
    assert_eq!(t.lookup(v4("10.1.0.0")), Some(2));
    assert_eq!(t.lookup(v4("10.1.2.2")), Some(3));
    assert_eq!(t.lookup(v4("10.1.2.3")), Some(4));
    assert_eq!(t.lookup(v4("10.1.2.4")), Some(5));
    assert_eq!(t.lookup(v4("10.1.2.5")), Some(5));
    assert_eq!(t.lookup(v4("10.1.2.6")), Some(3));
    assert_eq!(t.lookup(v4("10.1.3.0")), Some(2));
    assert_eq!(t.lookup(v4("11.0.0.0")), None);
    assert_eq!(t.lookup(v4("255.255.255.254")), None);
    assert_eq!(t.lookup(v4("255.255.255.255")), Some(6));
}

#[test]
fn host_route_128() {
    let mut b = LpmBuilder::<u128>::new();
    let a = v6("2001:db8::1");
    b.insert(a, 128, 9);
    b.insert(v6("2001:db8::"), 32, 1);
    let t = b.build();
    assert_eq!(t.lookup(a), Some(9));
    assert_eq!(t.lookup(a + 1), Some(1));
    assert_eq!(t.lookup(a - 1), Some(1));
    assert_eq!(t.lookup(v6("2001:db9::")), None);
}

#[test]
fn replacement_and_extreme_values() {
    let mut b = LpmBuilder::<u32>::new();
    b.insert(v4("192.168.0.0"), 16, 5);
    b.insert(v4("192.168.77.1"), 16, 0); // same prefix, host bits differ: replaces
    b.insert(v4("192.168.1.0"), 24, u32::MAX - 1);
    assert_eq!(b.len(), 2);
    let t = b.build();
    assert_eq!(t.len(), 2);
    assert_eq!(t.lookup(v4("192.168.2.1")), Some(0));
    assert_eq!(t.lookup(v4("192.168.1.1")), Some(u32::MAX - 1));
    b.insert(v4("192.168.1.0"), 24, 1);
    let t = b.build();
    assert_eq!(t.lookup(v4("192.168.1.1")), Some(1));
}

#[test]
fn len_is_clamped() {
    let mut b = LpmBuilder::<u32>::new();
    b.insert(v4("1.2.3.4"), 200, 1);
    let t = b.build();
    assert_eq!(t.lookup(v4("1.2.3.4")), Some(1));
    assert_eq!(t.lookup(v4("1.2.3.5")), None);
}

/// The table as [`LpmBuilder::build`] makes it, then with every direct-pointing width.
fn all_widths<K: LpmKey>(b: &LpmBuilder<K>) -> Vec<Lpm<K>> {
    let mut tables = vec![b.build()];
    tables.extend([1, 4, 7, 8, 12, 16, 18].map(|w| b.build_with_direct_bits(w)));
    tables
}

/// Values around the inline limit of direct-pointing entries, at the direct level and in
/// nodes, for every direct-pointing width.
#[test]
fn value_encoding() {
    let values = [
        0,
        1,
        (1 << 30) - 2,
        (1 << 30) - 1,
        1 << 30,
        u32::MAX - 2,
        u32::MAX - 1,
    ];
    let mut b = LpmBuilder::<u32>::new();
    for (i, &v) in values.iter().enumerate() {
        b.insert((i as u32) << 24, 8, v); // i.0.0.0/8
        b.insert(((i as u32) << 24) | 0x0001_0100, 24, v); // i.1.1.0/24
        b.insert(
            ((i as u32) << 24) | 0x0002_0000,
            16,
            values[values.len() - 1 - i],
        );
    }
    for t in all_widths(&b) {
        for (i, &v) in values.iter().enumerate() {
            let net = (i as u32) << 24;
            assert_eq!(t.lookup(net | 0x00ff_0000), Some(v), "{t:?}");
            assert_eq!(t.lookup(net | 0x0001_0109), Some(v), "{t:?}");
            assert_eq!(t.lookup(net | 0x0001_0209), Some(v), "{t:?}");
            let other = values[values.len() - 1 - i];
            assert_eq!(t.lookup(net | 0x0002_0304), Some(other), "{t:?}");
        }
        assert_eq!(t.lookup(200 << 24), None);
    }
}

/// Nested IPv6 prefixes of every length 0..=128 on one address: the answer for an
/// address that first differs at bit `i` is the /i route.
#[test]
fn ipv6_every_length() {
    let base = v6("2001:db8:aaaa:5555:f0f0:0f0f:1234:8765");
    let mut b = LpmBuilder::<u128>::new();
    for len in 0..=128u8 {
        b.insert(base, len, 1000 + len as u32);
    }
    let t = b.build();
    assert_eq!(t.len(), 129);
    assert_eq!(t.lookup(base), Some(1128));
    for i in 0..128u32 {
        let flipped = base ^ (1u128 << (127 - i));
        assert_eq!(t.lookup(flipped), Some(1000 + i), "bit {i}");
    }
    // Only every other length present, from several builders (different direct widths).
    for extra in [0usize, 300, 9000] {
        let mut b = LpmBuilder::<u128>::new();
        let mut naive = Naive::default();
        for len in (1..=128u8).step_by(2) {
            b.insert(base, len, len as u32);
            naive.insert(base, len, len as u32);
        }
        let mut rng = Rng(extra as u64 + 1);
        for _ in 0..extra {
            let (p, l) = (rng.u128(), 1 + rng.below(128) as u8);
            b.insert(p, l, 7);
            naive.insert(p, l, 7);
        }
        for t in all_widths(&b) {
            for i in 0..128u32 {
                let flipped = base ^ (1u128 << (127 - i));
                assert_eq!(t.lookup(flipped), naive.lookup(flipped), "bit {i}");
                let low = base & mask(i as u8);
                assert_eq!(t.lookup(low), naive.lookup(low), "bit {i}");
            }
        }
    }
}

/// Random prefixes against the reference (for every direct-pointing width when
/// `all_widths`, else as built by default); probes random addresses and the
/// first/last address (and neighbours) of every prefix.
fn differential<K: LpmKey>(
    seed: u64,
    n: usize,
    min_len: u8,
    max_len: u8,
    probes: usize,
    every_width: bool,
) {
    let mut rng = Rng(seed);
    let mut b = LpmBuilder::<K>::new();
    let mut naive = Naive::default();
    let mut prefixes = Vec::new();
    for i in 0..n {
        // Cluster half of the prefixes under earlier ones so that nesting is common.
        let raw = if i > 0 && rng.below(2) == 0 {
            let (p, l): (u128, u8) = prefixes[rng.below(prefixes.len() as u64) as usize];
            (p & mask(l)) | (rng.u128() & !mask(l))
        } else {
            rng.u128()
        };
        let len = min_len + rng.below((max_len - min_len) as u64 + 1) as u8;
        let value = match rng.below(10) {
            0 => 0,
            1 => u32::MAX - 1,
            _ => rng.below(1 << 20) as u32,
        };
        let key = K::from_left_u128(raw);
        b.insert(key, len, value);
        naive.insert(key, len, value);
        prefixes.push((raw, len));
    }
    assert_eq!(b.len(), naive.len());
    let tables = if every_width {
        all_widths(&b)
    } else {
        vec![b.build()]
    };
    let host = |l: u8| !mask(l) & mask(K::BITS);
    let mut addrs: Vec<u128> = Vec::new();
    // Edges of (up to) 8000 prefixes, spread over the table.
    let step = prefixes.len().div_ceil(8000);
    for &(p, l) in prefixes.iter().step_by(step) {
        let first = p & mask(l);
        let last = first | host(l);
        let one = 1u128 << (128 - K::BITS as u32);
        addrs.extend([
            first,
            last,
            first.wrapping_sub(one),
            last.wrapping_add(one),
            first | (rng.u128() & host(l)),
        ]);
    }
    for _ in 0..probes {
        addrs.push(rng.u128());
    }
    let expected: Vec<(K, Option<u32>)> = addrs
        .iter()
        .map(|&a| K::from_left_u128(a))
        .map(|k| (k, naive.lookup(k)))
        .collect();
    for t in &tables {
        assert_eq!(t.len(), naive.len());
        for &(k, want) in &expected {
            assert_eq!(t.lookup(k), want, "addr {k:?} in {t:?}");
        }
    }
}

#[test]
fn differential_v4() {
    differential::<u32>(1, 100, 0, 32, 2000, true);
    differential::<u32>(2, 2000, 0, 32, 5000, true);
    differential::<u32>(3, 3000, 8, 32, 5000, true);
    differential::<u32>(4, 9000, 16, 32, 3000, true);
    differential::<u32>(9, 40000, 8, 32, 20000, false); // large: 18-bit direct pointing
}

#[test]
fn differential_v6() {
    differential::<u128>(5, 100, 0, 128, 2000, true);
    differential::<u128>(6, 2000, 0, 128, 5000, true);
    differential::<u128>(7, 3000, 32, 64, 5000, true);
    differential::<u128>(8, 5000, 16, 128, 3000, true);
    differential::<u128>(10, 40000, 20, 64, 5000, false); // large: 18-bit direct pointing
}

#[test]
fn chunk_reads_zeros_past_the_key() {
    assert_eq!(0xffff_ffffu32.chunk(28), 0b111100);
    assert_eq!(0xffff_ffffu32.chunk(31), 0b100000);
    assert_eq!(u128::MAX.chunk(124), 0b111100);
    assert_eq!(u128::MAX.chunk(0), 0b111111);
}
