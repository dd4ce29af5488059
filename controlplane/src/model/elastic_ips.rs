//! Elastic IP addresses.

use super::Origin;
use std::net::Ipv4Addr;

/// An `AWS::EC2::EIP`: an Elastic IP address.
#[derive(Clone, Debug)]
pub struct Eip {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// The public IPv4 address.
    pub public_ip: Ipv4Addr,
    /// The allocation id (`eipalloc-…`).
    pub allocation_id: String,
    /// Interface and private address it is associated with.
    pub association: Option<(usize, Ipv4Addr)>,
}
