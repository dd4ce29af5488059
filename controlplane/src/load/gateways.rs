//! Internet gateways and their VPC attachments, egress-only internet gateways and NAT gateways.

use super::*;

impl Builder {
    pub(super) fn add_igw(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let origin = self.origin(t, lid, "AWS::EC2::InternetGateway", props::name_tag(p));
        let id = origin.id.clone();
        self.model
            .internet_gateways
            .push(InternetGateway { origin, vpc: None });
        let i = self.model.internet_gateways.len() - 1;
        self.register(t, lid, &id, Ref::Igw(i));
        Ok(())
    }

    pub(super) fn add_gateway_attachment(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        self.link(t, lid, "AWS::EC2::VPCGatewayAttachment", p);
        let Some(gw) = opt_str(p, "InternetGatewayId")? else {
            if let Some(vgw) = opt_str(p, "VpnGatewayId")? {
                return self.attach_vgw(vpc, &vgw);
            }
            return Err(missing("InternetGatewayId"));
        };
        let igw = self.igw_id("InternetGatewayId", &gw)?;
        if let Some(other) = self.model.internet_gateways[igw].vpc {
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                format!(
                    "internet gateway {gw} is already attached to {}",
                    self.model.vpcs[other].origin.logical_id
                ),
            ));
        }
        if let Some(other) = self.model.vpcs[vpc].internet_gateway {
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                format!(
                    "the VPC already has internet gateway {} attached (one per VPC)",
                    self.model.internet_gateways[other].origin.logical_id
                ),
            ));
        }
        self.model.internet_gateways[igw].vpc = Some(vpc);
        self.model.vpcs[vpc].internet_gateway = Some(igw);
        Ok(())
    }

    pub(super) fn add_eigw(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        if self.model.vpcs[vpc].egress_only_igw.is_some() {
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                "the VPC already has an egress-only internet gateway",
            ));
        }
        let origin = self.origin(
            t,
            lid,
            "AWS::EC2::EgressOnlyInternetGateway",
            props::name_tag(p),
        );
        let id = origin.id.clone();
        self.model
            .egress_only_igws
            .push(EgressOnlyInternetGateway { origin, vpc });
        let i = self.model.egress_only_igws.len() - 1;
        self.model.vpcs[vpc].egress_only_igw = Some(i);
        self.register(t, lid, &id, Ref::Eigw(i));
        Ok(())
    }

    pub(super) fn add_nat(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let subnet = self.subnet_ref(p, "SubnetId")?;
        let public = match opt_str(p, "ConnectivityType")?.as_deref() {
            None | Some("public") => true,
            Some("private") => false,
            Some(other) => {
                return Err(invalid(
                    "ConnectivityType",
                    format!("{other:?} is neither public nor private"),
                ))
            }
        };
        let primary_eip = match opt_str(p, "AllocationId")? {
            Some(a) if public => Some(self.eip_id("AllocationId", &a)?),
            Some(_) => {
                return Err(invalid(
                    "AllocationId",
                    "a private NAT gateway cannot have an Elastic IP",
                ))
            }
            None if public => {
                return Err(Problem::new(
                    "MissingParameter",
                    "a public NAT gateway needs AllocationId (an Elastic IP)",
                ))
            }
            None => None,
        };
        let secondary_eips = str_list(p, "SecondaryAllocationIds")?
            .iter()
            .map(|a| self.eip_id("SecondaryAllocationIds", a))
            .collect::<R<Vec<_>>>()?;
        let explicit_secondary = str_list(p, "SecondaryPrivateIpAddresses")?
            .iter()
            .map(|a| {
                a.parse::<Ipv4Addr>()
                    .map_err(|e| invalid("SecondaryPrivateIpAddresses", e))
            })
            .collect::<R<Vec<_>>>()?;
        let count = opt_int(p, "SecondaryPrivateIpAddressCount")?
            .unwrap_or(0)
            .max(0) as usize;
        let n_secondary = secondary_eips
            .len()
            .max(explicit_secondary.len())
            .max(count);
        const QUOTA: &str = "addresses-per-nat-gateway";
        if n_secondary + 1 > self.quotas.limit(QUOTA) as usize {
            return Err(Problem::new(
                "AddressLimitExceeded",
                self.quotas.exceeded(
                    QUOTA,
                    n_secondary + 1,
                    "addresses (1 primary + secondaries)",
                ),
            ));
        }
        let primary_ip = match opt_str(p, "PrivateIpAddress")? {
            Some(a) => Some(
                a.parse::<Ipv4Addr>()
                    .map_err(|e| invalid("PrivateIpAddress", e))?,
            ),
            None => None,
        };
        let origin = self.origin(t, lid, "AWS::EC2::NatGateway", props::name_tag(p));
        let mut addresses = vec![self.claim_v4(subnet, primary_ip, lid)?];
        for i in 0..n_secondary {
            addresses.push(self.claim_v4(subnet, explicit_secondary.get(i).copied(), lid)?);
        }
        let nat = self.model.nat_gateways.len();
        let eni_origin = Origin {
            logical_id: lid.to_string(),
            id: origin.id.replace("nat-", "eni-"),
            kind: "AWS::EC2::NetworkInterface".into(),
            ..origin.clone()
        };
        self.model.enis.push(NetworkInterface {
            origin: eni_origin,
            owner: EniOwner::NatGateway(nat),
            subnet,
            private_v4: addresses.clone(),
            ipv6: vec![],
            security_groups: vec![],
            source_dest_check: false,
            auto_public_ip: None,
        });
        let eni = self.model.enis.len() - 1;
        let id = origin.id.clone();
        self.model.nat_gateways.push(NatGateway {
            origin,
            subnet,
            public,
            eni,
        });
        self.register(t, lid, &id, Ref::Nat(nat));
        for (i, eip) in primary_eip.into_iter().chain(secondary_eips).enumerate() {
            if let Some(&a) = addresses.get(i) {
                self.associate_eip(eip, eni, a)?;
            }
        }
        Ok(())
    }
}
