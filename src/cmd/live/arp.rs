//! The VPC router's answers to ARP on a live link (SPEC §25.1): the subnet router (base + 1)
//! answers with the router MAC, an address assigned to another interface of the same subnet
//! with that interface's MAC; reserved and unassigned addresses, and addresses outside the
//! subnet, get no answer. On the internet's link every address but the hosts' own is behind
//! the router.

use std::net::{IpAddr, Ipv4Addr};
use vpcsim_dataplane::Topology;

/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
const ARP_REQUEST: u16 = 1;
const ARP_REPLY: u16 = 2;
/// Ethernet (14) + ARP for IPv4 over Ethernet (28).
const ARP_FRAME_LEN: usize = 42;

/// An ARP request for an IPv4 address: who asks and for what.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    /// The asker's MAC.
    pub sender_mac: [u8; 6],
    /// The asker's address.
    pub sender_ip: Ipv4Addr,
    /// The address asked for.
    pub target_ip: Ipv4Addr,
}

/// The ARP request in an Ethernet frame, if it is one (IPv4 over Ethernet; gratuitous ARP,
/// where the asker asks for itself, is ignored as the VPC ignores it).
pub fn request(frame: &[u8]) -> Option<Request> {
    if frame.len() < ARP_FRAME_LEN || u16::from_be_bytes([frame[12], frame[13]]) != ETHERTYPE_ARP {
        return None;
    }
    let a = &frame[14..ARP_FRAME_LEN];
    let ipv4_over_ethernet = a[0..2] == [0, 1] && a[2..4] == [8, 0] && a[4] == 6 && a[5] == 4;
    if !ipv4_over_ethernet || u16::from_be_bytes([a[6], a[7]]) != ARP_REQUEST {
        return None;
    }
    let mut sender_mac = [0; 6];
    sender_mac.copy_from_slice(&a[8..14]);
    let sender_ip = Ipv4Addr::new(a[14], a[15], a[16], a[17]);
    let target_ip = Ipv4Addr::new(a[24], a[25], a[26], a[27]);
    (sender_ip != target_ip).then_some(Request {
        sender_mac,
        sender_ip,
        target_ip,
    })
}

/// The MAC that answers `target` for an interface of `topo` (by its index), per SPEC §25.1.
pub fn answer_for_interface(
    topo: &Topology,
    eni: vpcsim_dataplane::topology::EniIdx,
    target: Ipv4Addr,
    router_mac: [u8; 6],
) -> Option<[u8; 6]> {
    let e = &topo.enis[eni];
    let cidr = topo.subnets[e.subnet].cidr_v4?;
    if !cidr.contains(&target) {
        return None;
    }
    let base = u32::from(cidr.network());
    if u32::from(target) == base + 1 {
        return Some(router_mac);
    }
    let other = topo.owner_of(IpAddr::V4(target))?;
    (other != eni && topo.enis[other].subnet == e.subnet).then(|| topo.enis[other].mac)
}

/// The ARP reply from `mac` for `req`, into `out`.
pub fn reply(req: &Request, mac: [u8; 6], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&req.sender_mac);
    out.extend_from_slice(&mac);
    out.extend_from_slice(&ETHERTYPE_ARP.to_be_bytes());
    out.extend_from_slice(&[0, 1, 8, 0, 6, 4]);
    out.extend_from_slice(&ARP_REPLY.to_be_bytes());
    out.extend_from_slice(&mac);
    out.extend_from_slice(&req.target_ip.octets());
    out.extend_from_slice(&req.sender_mac);
    out.extend_from_slice(&req.sender_ip.octets());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_frame(sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
        let mac = [2, 0, 0, 0, 0, 7];
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&mac);
        f.extend_from_slice(&ETHERTYPE_ARP.to_be_bytes());
        f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        f.extend_from_slice(&mac);
        f.extend_from_slice(&sender.octets());
        f.extend_from_slice(&[0; 6]);
        f.extend_from_slice(&target.octets());
        f
    }

    #[test]
    fn a_request_is_answered_with_the_mac_asked_for() {
        let f = request_frame(Ipv4Addr::new(10, 0, 1, 10), Ipv4Addr::new(10, 0, 1, 1));
        let req = request(&f).unwrap();
        let mut out = Vec::new();
        reply(&req, [2, 0, 0x5e, 0, 0, 1], &mut out);
        assert_eq!(out.len(), ARP_FRAME_LEN);
        assert_eq!(&out[0..6], &[2, 0, 0, 0, 0, 7]);
        assert_eq!(u16::from_be_bytes([out[20], out[21]]), ARP_REPLY);
        assert_eq!(&out[22..28], &[2, 0, 0x5e, 0, 0, 1]);
        assert_eq!(&out[28..32], &[10, 0, 1, 1]);
        assert_eq!(&out[38..42], &[10, 0, 1, 10]);
    }

    #[test]
    fn gratuitous_arp_and_other_frames_are_not_requests() {
        let own = Ipv4Addr::new(10, 0, 1, 10);
        assert_eq!(request(&request_frame(own, own)), None);
        assert_eq!(request(&[0u8; 60]), None);
    }
}
