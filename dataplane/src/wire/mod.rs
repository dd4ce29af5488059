//! Frames in, [`Meta`] out; NAT rewrites in place; frames out for pcaps and synthetic traffic.
//!
//! Everything the pipeline needs to decide a packet's fate fits in the small, `Copy`
//! [`Meta`]: parsing borrows the frame, never allocates and never panics, because it
//! runs once per captured packet and captures contain arbitrary garbage.
//!
//! The split of work with `etherparse`: it validates the IPv4/IPv6 headers and the
//! generic IPv6 extension headers. The link-layer framings it lacks (BSD/OpenBSD
//! loopback, Linux SLL2, VLAN stacks of any depth) are read here, and so are the few
//! transport bytes we need and the IPv6 fragment header, because:
//! - the simulator wants the ports even when TCP options were cut by the snap length
//!   (etherparse's TCP slice requires the whole header);
//! - an IPv6 non-first fragment's data must not be walked as extension headers, which
//!   etherparse's lax slicing does;
//! - etherparse 0.16 decodes the IPv6 fragment offset and M flag from the wrong bits
//!   (its issue #150, fixed only in 0.20).
//!
//! Translation ([`rewrite`]) patches checksums incrementally (RFC 1624) so it costs
//! the same for a 64-byte and a 9000-byte packet, works on snaplen-truncated frames,
//! and preserves a checksum that was already wrong (offloaded) instead of "fixing" it.

mod build;
pub mod geneve;
mod header;
mod ip_protocol;
mod link;
mod parse;
mod rewrite;

#[cfg(test)]
mod tests;

pub use build::{build, to_ethernet, L4Spec, PacketSpec};
pub use header::*;
pub use ip_protocol::{IpProtocol, ParseIpProtocolError};
pub use link::LinkType;
pub use parse::{parse, Frag, FragSpan, Meta, ParseError};
pub use rewrite::{rewrite, Rewrite};

/// TCP flag bits as they appear in [`Header::tcp_flags`] (byte 13 of the TCP header).
pub mod tcp_flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer field significant.
    pub const URG: u8 = 0x20;
    /// ECN echo.
    pub const ECE: u8 = 0x40;
    /// Congestion window reduced.
    pub const CWR: u8 = 0x80;
}
