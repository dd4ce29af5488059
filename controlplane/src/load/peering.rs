//! VPC peering connections.

use super::*;

impl Builder {
    pub(super) fn add_peering(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let requester = self.vpc_ref(p, "VpcId")?;
        let peer_vpc_id = req_str(p, "PeerVpcId")?;
        let accepter = match self.lookup(&peer_vpc_id) {
            Some(Ref::Vpc(v)) => Some(v),
            Some(Ref::Failed) => return Err(Problem::quiet()),
            _ => None,
        };
        let origin = self.origin(t, lid, "AWS::EC2::VPCPeeringConnection", props::name_tag(p));
        if accepter.is_none() {
            self.warn_at(
                &origin,
                "InvalidVpcID.NotFound",
                format!("peer VPC {peer_vpc_id} is not in the loaded topology: routes to this peering act as blackholes (load its template too)"),
            );
        }
        let id = origin.id.clone();
        self.model.peerings.push(Peering {
            origin,
            requester,
            accepter,
            peer_vpc_id,
        });
        let i = self.model.peerings.len() - 1;
        self.register(t, lid, &id, Ref::Peering(i));
        Ok(())
    }

    /// Peered VPCs must not overlap, IPv4 or IPv6 (SPEC §8), and a VPC cannot peer with itself.
    pub(super) fn validate_peerings(&self, errors: &mut Findings) {
        let m = &self.model;
        for pcx in &m.peerings {
            let Some(acc) = pcx.accepter else { continue };
            if acc == pcx.requester {
                errors.push((
                    pcx.origin.clone(),
                    "InvalidParameterValue",
                    "a VPC cannot peer with itself".into(),
                ));
                continue;
            }
            let (a, b) = (&m.vpcs[pcx.requester], &m.vpcs[acc]);
            let v4 = a.cidrs_v4.iter().find_map(|x| {
                b.cidrs_v4
                    .iter()
                    .find(|y| x.contains(&y.network()) || y.contains(&x.network()))
                    .map(|y| (x.to_string(), y.to_string()))
            });
            let v6 = a.cidrs_v6.iter().find_map(|x| {
                b.cidrs_v6
                    .iter()
                    .find(|y| x.contains(&y.network()) || y.contains(&x.network()))
                    .map(|y| (x.to_string(), y.to_string()))
            });
            if let Some((x, y)) = v4.or(v6) {
                errors.push((
                    pcx.origin.clone(),
                    "InvalidVpcPeeringConnection.OverlappingCidr",
                    format!(
                        "{} ({x}) and {} ({y}) overlap: peered VPCs must not share any CIDR",
                        a.origin.logical_id, b.origin.logical_id
                    ),
                ));
            }
        }
    }
}
