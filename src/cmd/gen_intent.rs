//! `gen --intended`: only the flows the security groups allow.
//!
//! Security groups say what traffic the owner means to carry; network ACLs, routes and gateways
//! are where a topology can fail to carry it. So a flow is kept unless its first packet, alone in
//! an empty network, is refused by a security group, on the way out of its source or into its
//! destination; a flow a network ACL or a missing route drops is kept, and shows up in the replay
//! as the drop it is.

use vpcsim_dataplane::pipeline::Origin;
use vpcsim_dataplane::wire::{tcp_flags, Frag, Header, IpProtocol};
use vpcsim_dataplane::{
    process_header, DropReason, NoTrace, State, StateConfig, Timestamp, Topology,
};

/// Whether the security groups let the first packet of a flow with header `h` through.
pub fn security_groups_allow(topo: &Topology, h: &Header) -> bool {
    // A fresh state per flow: an earlier flow's connection must not admit this one as a reply.
    let mut state = State::new(StateConfig::default());
    let mut first = *h;
    if first.proto == IpProtocol::TCP {
        first.tcp_flags = tcp_flags::SYN;
    }
    let v = process_header(
        topo,
        &mut state,
        first,
        Frag::None,
        Origin::Auto,
        Timestamp(0),
        &mut NoTrace,
    );
    !matches!(
        v.reason,
        Some(DropReason::SgEgressDenied | DropReason::SgIngressDenied)
    )
}
