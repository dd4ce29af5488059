//! In-place NAT header rewrite with incremental (RFC 1624) checksum updates.

use std::net::IpAddr;

use super::parse::{is_echo, Meta};
use super::IpProtocol;

/// The header values a translated packet must carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rewrite {
    /// New source address (same family as the packet's).
    pub src: IpAddr,
    /// New destination address (same family as the packet's).
    pub dst: IpAddr,
    /// New TCP/UDP source port, or the new ICMP echo identifier (see [`rewrite`]).
    pub src_port: u16,
    /// New TCP/UDP destination port, or the new ICMP echo identifier (see [`rewrite`]).
    pub dst_port: u16,
    /// New IPv4 TTL / IPv6 hop limit.
    pub ttl: u8,
}

/// Rewrite `frame` (the bytes `meta` was parsed from) in place so its headers carry `new`.
///
/// Checksums are adjusted by the difference between old and new header words rather than
/// recomputed, so the cost does not depend on the payload, truncated frames can be
/// translated, and a checksum that was wrong before (offloaded) stays exactly as wrong,
/// just as a real NAT would leave it. For a packet whose checksums were correct, the
/// result equals a full recomputation bit for bit.
///
/// The ICMP echo identifier is a single field standing for both "ports", so the one that
/// changed wins: `new.src_port` if it differs from `meta.header.src_port` (source NAT), else
/// `new.dst_port` (destination NAT, or the reply direction).
///
/// L4 is touched only when `meta.l4` (a non-first fragment has no L4 header to patch; the
/// first fragment's checksum covers the reassembled datagram, which the same adjustment
/// keeps valid). If the address families of `meta` and `new` differ, the frame is left
/// untouched: NAT64 is not an in-place rewrite. Only bytes that exist are touched.
pub fn rewrite(frame: &mut [u8], meta: &Meta, new: &Rewrite) {
    let l3 = usize::from(meta.l3_offset);
    match (meta.header.src, meta.header.dst, new.src, new.dst) {
        (IpAddr::V4(_), IpAddr::V4(_), IpAddr::V4(src), IpAddr::V4(dst)) => {
            let Some(hdr) = frame.get_mut(l3..l3 + 20) else {
                return;
            };
            let (src, dst) = (src.octets(), dst.octets());
            let mut old_addrs = [0u8; 8];
            old_addrs.copy_from_slice(&hdr[12..20]);
            let mut new_addrs = [0u8; 8];
            new_addrs[..4].copy_from_slice(&src);
            new_addrs[4..].copy_from_slice(&dst);

            let mut delta = Delta::default();
            delta.add(&hdr[8..10], &[new.ttl, hdr[9]]);
            delta.add(&old_addrs, &new_addrs);
            if delta.changed {
                let csum = u16::from_be_bytes([hdr[10], hdr[11]]);
                hdr[10..12].copy_from_slice(&delta.apply(csum).to_be_bytes());
                hdr[8] = new.ttl;
                hdr[12..20].copy_from_slice(&new_addrs);
            }
            if meta.l4 {
                rewrite_l4(frame, meta, new, &old_addrs, &new_addrs, false);
            }
        }
        (IpAddr::V6(_), IpAddr::V6(_), IpAddr::V6(src), IpAddr::V6(dst)) => {
            let Some(hdr) = frame.get_mut(l3..l3 + 40) else {
                return;
            };
            let mut old_addrs = [0u8; 32];
            old_addrs.copy_from_slice(&hdr[8..40]);
            let mut new_addrs = [0u8; 32];
            new_addrs[..16].copy_from_slice(&src.octets());
            new_addrs[16..].copy_from_slice(&dst.octets());
            hdr[7] = new.ttl;
            hdr[8..40].copy_from_slice(&new_addrs);
            if meta.l4 {
                rewrite_l4(frame, meta, new, &old_addrs, &new_addrs, true);
            }
        }
        _ => {}
    }
}

/// Patches the ports/identifier and the L4 checksum. `old_addrs`/`new_addrs` are the
/// pseudo-header addresses (source then destination) before and after translation.
fn rewrite_l4(
    frame: &mut [u8],
    meta: &Meta,
    new: &Rewrite,
    old_addrs: &[u8],
    new_addrs: &[u8],
    v6: bool,
) {
    let l4 = usize::from(meta.l4_offset);
    let Some(hdr) = frame.get_mut(l4..) else {
        return;
    };
    let mut ports = [0u8; 4];
    ports[..2].copy_from_slice(&new.src_port.to_be_bytes());
    ports[2..].copy_from_slice(&new.dst_port.to_be_bytes());
    match meta.header.proto {
        IpProtocol::TCP => {
            let Some(hdr) = hdr.get_mut(..18) else {
                return;
            };
            let mut delta = Delta::default();
            delta.add(old_addrs, new_addrs);
            delta.add(&hdr[..4], &ports);
            if delta.changed {
                let csum = u16::from_be_bytes([hdr[16], hdr[17]]);
                hdr[16..18].copy_from_slice(&delta.apply(csum).to_be_bytes());
                hdr[..4].copy_from_slice(&ports);
            }
        }
        IpProtocol::UDP => {
            let Some(hdr) = hdr.get_mut(..8) else {
                return;
            };
            let mut delta = Delta::default();
            delta.add(old_addrs, new_addrs);
            delta.add(&hdr[..4], &ports);
            let csum = u16::from_be_bytes([hdr[6], hdr[7]]);
            // Zero means "no checksum" (IPv4, and RFC 6935 tunnels over IPv6): keep it so.
            if delta.changed && csum != 0 {
                // A computed zero is sent as 0xffff, since zero is taken.
                let csum = match delta.apply(csum) {
                    0 => 0xffff,
                    c => c,
                };
                hdr[6..8].copy_from_slice(&csum.to_be_bytes());
            }
            hdr[..4].copy_from_slice(&ports);
        }
        p if (p == IpProtocol::ICMP && !v6) || (p == IpProtocol::ICMPV6 && v6) => {
            let Some(hdr) = hdr.get_mut(..8) else {
                return;
            };
            let mut delta = Delta::default();
            if v6 {
                // Only ICMPv6 covers a pseudo-header, so only it sees address changes.
                delta.add(old_addrs, new_addrs);
            }
            let echo = is_echo(v6, meta.header.icmp_type);
            let id = if new.src_port != meta.header.src_port {
                new.src_port
            } else {
                new.dst_port
            }
            .to_be_bytes();
            if echo {
                delta.add(&hdr[4..6], &id);
            }
            if delta.changed {
                let csum = u16::from_be_bytes([hdr[2], hdr[3]]);
                hdr[2..4].copy_from_slice(&delta.apply(csum).to_be_bytes());
            }
            if echo {
                hdr[4..6].copy_from_slice(&id);
            }
        }
        _ => {}
    }
}

/// The one's-complement sum of `~old + new` over the changed 16-bit words: what RFC 1624
/// eqn. 3 adds to the complemented checksum (`HC' = ~(~HC + ~m + m')`).
#[derive(Default)]
struct Delta {
    sum: u32,
    /// Whether any word differs. Unchanged words contribute 0xffff (negative zero), which
    /// would turn a stored 0xffff into 0x0000; skipping no-op updates keeps the bytes.
    changed: bool,
}

impl Delta {
    /// Adds the change from `old` to `new`, two equally long, even-length byte strings.
    fn add(&mut self, old: &[u8], new: &[u8]) {
        for (o, n) in old.chunks_exact(2).zip(new.chunks_exact(2)) {
            let o = u16::from_be_bytes([o[0], o[1]]);
            let n = u16::from_be_bytes([n[0], n[1]]);
            if o != n {
                self.changed = true;
                // At most 20 words are ever added, far from overflowing u32.
                self.sum += u32::from(!o) + u32::from(n);
            }
        }
    }

    /// The adjusted checksum.
    fn apply(&self, checksum: u16) -> u16 {
        let mut sum = u32::from(!checksum) + self.sum;
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }
}
