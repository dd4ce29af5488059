//! Transit gateway peering attachments (`describe-transit-gateway-peering-attachments`). Both
//! transit gateways must be in the snapshot for the peering to be simulated; the association
//! of each side comes from `describe-transit-gateway-attachments`, which lists the attachment
//! once per transit gateway.

use super::edges::gone;
use super::{s, Item, Reader, Ref};
use crate::model::*;

impl Reader {
    pub(super) fn add_tgw_peering(&mut self, it: &Item) {
        if gone(&it.v) {
            return;
        }
        let Some(id) = s(&it.v, "TransitGatewayAttachmentId").map(str::to_string) else {
            self.error(
                it.file,
                "",
                "InvalidSnapshot.MissingField",
                "each peering attachment needs TransitGatewayAttachmentId".into(),
            );
            return;
        };
        let kind = "AWS::EC2::TransitGatewayPeeringAttachment";
        let state = s(&it.v, "State").unwrap_or("available");
        if state != "available" {
            // Only an accepted, available peering carries traffic: routes to it drop.
            self.unsupported_one(it.file, &id, kind, format!("peering attachment ({state})"));
            return;
        }
        let side = |k: &str| {
            let info = it.v.get(k)?;
            Some((
                s(info, "TransitGatewayId")?.to_string(),
                s(info, "Region").map(str::to_string),
            ))
        };
        let (Some((req, _)), Some((acc, acc_region))) =
            (side("RequesterTgwInfo"), side("AccepterTgwInfo"))
        else {
            self.error(
                it.file,
                &id,
                "InvalidSnapshot.MissingField",
                "RequesterTgwInfo.TransitGatewayId and AccepterTgwInfo.TransitGatewayId are required"
                    .into(),
            );
            return;
        };
        let (Some(Ref::Tgw(tgw)), Some(Ref::Tgw(peer_tgw))) =
            (self.by_id.get(&req).copied(), self.by_id.get(&acc).copied())
        else {
            self.warn(
                it.file,
                &id,
                "UnresolvedReference",
                format!("{req} or {acc} is not in the snapshot: the peering is not simulated, routes to it drop"),
            );
            self.unsupported_one(it.file, &id, kind, "peering attachment".into());
            return;
        };
        let Some(origin) = self.origin(it, Some(&id), kind, "TransitGatewayAttachmentId") else {
            return;
        };
        let peer_region =
            acc_region.unwrap_or_else(|| self.model.templates[it.file].region.clone());
        self.push_peering(origin, tgw, peer_tgw, peer_region);
    }

    /// A peering attachment known only from `describe-transit-gateway-attachments` (each
    /// gateway's account lists its own side: `TransitGatewayId` is that side's gateway,
    /// `ResourceId` the other's). The first side read becomes the attachment's own; the other
    /// side's entry then only adds its association. `None` (listed as not simulated) when the
    /// other transit gateway is not in the snapshot.
    pub(super) fn peering_from_attachment(&mut self, it: &Item, id: &str) -> Option<usize> {
        let kind = "AWS::EC2::TransitGatewayPeeringAttachment";
        let (own, other) = (s(&it.v, "TransitGatewayId"), s(&it.v, "ResourceId"));
        let (Some(Ref::Tgw(tgw)), Some(Ref::Tgw(peer_tgw))) = (
            own.and_then(|g| self.by_id.get(g).copied()),
            other.and_then(|g| self.by_id.get(g).copied()),
        ) else {
            self.unsupported_one(
                it.file,
                id,
                kind,
                "peering attachment to a transit gateway outside the snapshot".into(),
            );
            return None;
        };
        let origin = self.origin(it, Some(id), kind, "TransitGatewayAttachmentId")?;
        let peer_origin = &self.model.transit_gateways[peer_tgw].origin;
        let peer_region = self.model.templates[peer_origin.template].region.clone();
        Some(self.push_peering(origin, tgw, peer_tgw, peer_region))
    }

    /// Add a peering attachment of `tgw` to `peer_tgw`, unassociated on both sides, under its id.
    fn push_peering(
        &mut self,
        origin: Origin,
        tgw: usize,
        peer_tgw: usize,
        peer_region: String,
    ) -> usize {
        let a = self.model.tgw_attachments.len();
        self.by_id.insert(origin.id.clone(), Ref::TgwAttachment(a));
        self.model.tgw_attachments.push(TgwAttachment {
            origin,
            tgw,
            kind: TgwAttachmentKind::Peering {
                peer_tgw,
                peer_region,
                peer_association: None,
            },
            appliance_mode: false,
            association: None,
            propagations: vec![],
        });
        a
    }

    /// Associate attachment `a` with table `t`: for a peering, on the side of the table's
    /// transit gateway.
    pub(super) fn associate_tgw_attachment(&mut self, a: usize, t: usize) {
        let table_tgw = self.model.tgw_route_tables[t].tgw;
        match &mut self.model.tgw_attachments[a].kind {
            TgwAttachmentKind::Peering {
                peer_tgw,
                peer_association,
                ..
            } if *peer_tgw == table_tgw => *peer_association = Some(t),
            _ => self.model.tgw_attachments[a].association = Some(t),
        }
    }
}
