//! `gen` with hosted zones: a client looks a server's name up before connecting, so the
//! capture holds the DNS query to the VPC resolver and its answer ahead of the flow.

use super::dns::resolve_from;
use rustc_hash::FxHashMap;
use std::net::{IpAddr, Ipv4Addr};
use vpcsim_dataplane::dns::wire::{parse_query, query, response, UdpFrame};
use vpcsim_dataplane::dns::{RData, RecordType, RecordValue};
use vpcsim_dataplane::topology::{EniIdx, VpcIdx};
use vpcsim_dataplane::Topology;

/// MAC of the VPC router in generated frames (what the resolver's answers come from).
const RESOLVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 2];

/// The names clients would look up: per VPC, an address and the first name of a private zone
/// associated with that VPC whose A record (or alias) answers with it.
pub struct Names(FxHashMap<(VpcIdx, Ipv4Addr), String>);

impl Names {
    /// Every A record and alias of the private zones, by VPC and address.
    pub fn of(topo: &Topology) -> Names {
        let mut m = FxHashMap::default();
        for z in topo.dns.zones.iter().filter(|z| z.private) {
            for r in z.records.iter().filter(|r| r.rtype == RecordType::A) {
                let addrs: Vec<Ipv4Addr> = match &r.value {
                    RecordValue::Records(v) => v
                        .iter()
                        .filter_map(|d| match d {
                            RData::A(a) => Some(*a),
                            _ => None,
                        })
                        .collect(),
                    RecordValue::AliasResource { addresses, .. } => addresses
                        .iter()
                        .filter_map(|a| match a {
                            IpAddr::V4(a) => Some(*a),
                            IpAddr::V6(_) => None,
                        })
                        .collect(),
                    RecordValue::AliasRecord(_) => Vec::new(),
                };
                for a in addrs {
                    for &v in &z.vpcs {
                        m.entry((v, a)).or_insert_with(|| r.name.clone());
                    }
                }
            }
        }
        Names(m)
    }

    /// The name `client` would resolve to reach `dst`, when a zone of its VPC has one.
    pub fn name_for(&self, topo: &Topology, client: EniIdx, dst: IpAddr) -> Option<String> {
        let IpAddr::V4(dst) = dst else { return None };
        let vpc = topo.enis[client].vpc;
        topo.vpcs[vpc].resolver_v4?;
        self.0.get(&(vpc, dst)).cloned()
    }
}

/// The client's query for `name` (A, recursion desired) to its VPC's resolver at base + 2.
pub fn query_frame(
    topo: &Topology,
    client: EniIdx,
    name: &str,
    id: u16,
    port: u16,
) -> Option<Vec<u8>> {
    let e = &topo.enis[client];
    let resolver = topo.vpcs[e.vpc].resolver_v4?;
    let payload = query(id, name, RecordType::A);
    let mut out = Vec::new();
    UdpFrame {
        src: (IpAddr::V4(e.primary_v4()?), port),
        dst: (IpAddr::V4(resolver), 53),
        src_mac: e.mac,
        dst_mac: RESOLVER_MAC,
        ttl: 64,
    }
    .write(&payload, &mut out);
    Some(out)
}

/// The resolver's answer to [`query_frame`], as the VPC's resolver gives it.
pub fn response_frame(
    topo: &Topology,
    client: EniIdx,
    name: &str,
    id: u16,
    port: u16,
) -> Option<Vec<u8>> {
    let e = &topo.enis[client];
    let resolver = topo.vpcs[e.vpc].resolver_v4?;
    let q = parse_query(&query(id, name, RecordType::A))?;
    let (r, _) = resolve_from(topo, client, name, RecordType::A);
    if !r.answered() {
        return None;
    }
    let mut out = Vec::new();
    UdpFrame {
        src: (IpAddr::V4(resolver), 53),
        dst: (IpAddr::V4(e.primary_v4()?), port),
        src_mac: RESOLVER_MAC,
        dst_mac: e.mac,
        ttl: 64,
    }
    .write(&response(&q, &r), &mut out);
    Some(out)
}
