//! Elastic IPs from `describe-addresses` and from the associations NAT gateways and
//! interfaces describe.

use super::{s, tag, Item, Reader, Ref};
use crate::model::*;
use serde_json::Value;
use std::net::Ipv4Addr;

impl Reader {
    pub(super) fn add_eip(
        &mut self,
        file: usize,
        alloc: &str,
        public_ip: Ipv4Addr,
        association: Option<(usize, Ipv4Addr)>,
        v: Option<&Value>,
    ) {
        if let Some(e) = self
            .model
            .eips
            .iter_mut()
            .find(|e| e.allocation_id == alloc)
        {
            if e.association.is_none() {
                e.association = association;
            }
            return;
        }
        let name = v.and_then(|v| tag(v, "Name")).map(str::to_string);
        self.model.eips.push(Eip {
            origin: Origin {
                template: file,
                logical_id: alloc.to_string(),
                id: alloc.to_string(),
                name,
                kind: "AWS::EC2::EIP".into(),
            },
            public_ip,
            allocation_id: alloc.to_string(),
            association,
        });
    }

    pub(super) fn add_address(&mut self, it: &Item) {
        let v = &it.v;
        let Some(alloc) = s(v, "AllocationId") else {
            // EC2-Classic addresses have no allocation id and cannot be used in a VPC.
            return;
        };
        let Some(public) = s(v, "PublicIp").and_then(|p| p.parse::<Ipv4Addr>().ok()) else {
            self.error(
                it.file,
                alloc,
                "InvalidSnapshot.MissingField",
                "no valid PublicIp".into(),
            );
            return;
        };
        let eni = match (s(v, "NetworkInterfaceId"), s(v, "InstanceId")) {
            (Some(e), _) => match self.by_id.get(e).copied() {
                Some(Ref::Eni(e)) => Some(e),
                Some(_) => None,
                None => {
                    self.warn(
                        it.file,
                        alloc,
                        "UnresolvedReference",
                        format!("NetworkInterfaceId {e} is not in the snapshot: the address is left out"),
                    );
                    return;
                }
            },
            (None, Some(i)) => match self.by_id.get(i).copied() {
                Some(Ref::Instance(i)) => self.model.instances[i].enis.first().copied(),
                _ => {
                    self.warn(
                        it.file,
                        alloc,
                        "UnresolvedReference",
                        format!("InstanceId {i} is not in the snapshot: the address is left out"),
                    );
                    return;
                }
            },
            (None, None) => None,
        };
        let association = eni.and_then(|e| {
            let private = s(v, "PrivateIpAddress")
                .and_then(|p| p.parse::<Ipv4Addr>().ok())
                .or_else(|| self.model.enis[e].private_v4.first().copied())?;
            Some((e, private))
        });
        self.add_eip(it.file, alloc, public, association, Some(v));
    }
}
