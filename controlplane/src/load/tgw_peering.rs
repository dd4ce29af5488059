//! Loading transit gateway peering attachments (SPEC §9.1, §9.2): one attachment between two
//! transit gateways, seen by both. Each side associates it with a route table of its own and
//! points static routes at it; it propagates nothing.

use super::*;

/// The CloudFormation type.
pub(super) const PEERING_ATTACHMENT: &str = "AWS::EC2::TransitGatewayPeeringAttachment";

/// Which side of a peering attachment a route table belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
    /// The attachment's own transit gateway (a VPC or VPN attachment, or the peering's
    /// requester).
    Own,
    /// The accepter of a peering attachment.
    Peer,
}

impl Builder {
    /// `AWS::EC2::TransitGatewayPeeringAttachment`. CloudFormation only creates the request;
    /// a peer transit gateway loaded with the same templates is treated as having accepted it.
    /// A peer outside the loaded templates cannot be simulated: the attachment is kept as
    /// unsupported, so routes to it act as blackholes with a warning.
    pub(super) fn add_tgw_peering(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let tgw = self.tgw_id("TransitGatewayId", &req_str(p, "TransitGatewayId")?)?;
        let peer_id = req_str(p, "PeerTransitGatewayId")?;
        let origin = self.origin(t, lid, PEERING_ATTACHMENT, props::name_tag(p));
        let peer_tgw = match self.lookup(&peer_id) {
            None => {
                self.warn_at(
                    &origin,
                    "UnsupportedOperation",
                    format!("peer transit gateway {peer_id} is not in the loaded templates: the peering is not simulated, routes to it act as blackholes"),
                );
                self.keep_unsupported(origin);
                return Ok(());
            }
            Some(_) => self.tgw_id("PeerTransitGatewayId", &peer_id)?,
        };
        if peer_tgw == tgw {
            return Err(invalid(
                "PeerTransitGatewayId",
                "a transit gateway cannot peer with itself",
            ));
        }
        // The peer is looked up in the Region the request names; a transit gateway of another
        // Region is not found there.
        let peer_origin = &self.model.transit_gateways[peer_tgw].origin;
        let peer_region = self.model.templates[peer_origin.template].region.clone();
        if let Some(named) = opt_str(p, "PeerRegion")? {
            if named != peer_region {
                return Err(invalid(
                    "PeerRegion",
                    format!(
                        "{named}: transit gateway {} is in {peer_region}",
                        peer_origin.logical_id
                    ),
                ));
            }
        }
        if let Some(other) = self.model.tgw_attachments.iter().find(|a| match a.kind {
            TgwAttachmentKind::Peering { peer_tgw: q, .. } => {
                (a.tgw, q) == (tgw, peer_tgw) || (a.tgw, q) == (peer_tgw, tgw)
            }
            _ => false,
        }) {
            return Err(Problem::new(
                "DuplicateTransitGatewayAttachment",
                format!(
                    "{} already peers these transit gateways (one peering between two transit gateways)",
                    other.origin.logical_id
                ),
            ));
        }
        let id = origin.id.clone();
        // Default association applies on each side; default propagation does not, as a
        // peering attachment propagates nothing.
        let default_of = |g: usize| {
            let g = &self.model.transit_gateways[g];
            g.default_association
                .then_some(g.default_route_table)
                .flatten()
        };
        let (association, peer_association) = (default_of(tgw), default_of(peer_tgw));
        self.model.tgw_attachments.push(TgwAttachment {
            origin,
            tgw,
            kind: TgwAttachmentKind::Peering {
                peer_tgw,
                peer_region,
                peer_association,
            },
            appliance_mode: false,
            association,
            propagations: vec![],
        });
        let a = self.model.tgw_attachments.len() - 1;
        self.register(t, lid, &id, Ref::TgwAttachment(a));
        Ok(())
    }

    /// The side of attachment `a` that route table `rt` belongs to: its own transit gateway's,
    /// or for a peering attachment the accepter's.
    pub(super) fn side_of(&self, a: usize, rt: usize) -> R<Side> {
        let (att, table) = (
            &self.model.tgw_attachments[a],
            &self.model.tgw_route_tables[rt],
        );
        if att.tgw == table.tgw {
            return Ok(Side::Own);
        }
        if let TgwAttachmentKind::Peering { peer_tgw, .. } = att.kind {
            if peer_tgw == table.tgw {
                return Ok(Side::Peer);
            }
        }
        Err(Problem::new(
            "InvalidParameterValue",
            format!(
                "attachment {} and route table {} belong to different transit gateways",
                att.origin.logical_id, table.origin.logical_id
            ),
        ))
    }

    /// Whether `a` is a peering attachment, which propagates nothing.
    pub(super) fn is_peering(&self, a: usize) -> bool {
        matches!(
            self.model.tgw_attachments[a].kind,
            TgwAttachmentKind::Peering { .. }
        )
    }
}
