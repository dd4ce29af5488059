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
        let a = self.model.tgw_attachments.len();
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
        self.by_id.insert(id, Ref::TgwAttachment(a));
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
