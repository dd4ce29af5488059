//! Network ACLs, their entries and their subnet associations.

use super::*;

impl Builder {
    pub(super) fn add_nacl(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        let origin = self.origin(t, lid, "AWS::EC2::NetworkAcl", props::name_tag(p));
        let id = origin.id.clone();
        self.model.network_acls.push(NetworkAcl {
            origin,
            vpc,
            default: false,
            entries: vec![],
        });
        let i = self.model.network_acls.len() - 1;
        self.register(t, lid, &id, Ref::Nacl(i));
        Ok(())
    }

    pub(super) fn add_nacl_entry(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let acl_id = req_str(p, "NetworkAclId")?;
        let acl = self.nacl_id("NetworkAclId", &acl_id)?;
        let origin = self.origin(t, lid, "AWS::EC2::NetworkAclEntry", None);
        self.link(t, lid, "AWS::EC2::NetworkAclEntry", p);
        let number = opt_int(p, "RuleNumber")?.ok_or_else(|| missing("RuleNumber"))?;
        if !(1..=32766).contains(&number) {
            return Err(invalid(
                "RuleNumber",
                format!("{number} is outside 1..32766"),
            ));
        }
        let protocol =
            parse_protocol(&req_str(p, "Protocol")?).map_err(|e| invalid("Protocol", e))?;
        let allow = match req_str(p, "RuleAction")?.to_ascii_lowercase().as_str() {
            "allow" => true,
            "deny" => false,
            other => {
                return Err(invalid(
                    "RuleAction",
                    format!("{other:?} is neither allow nor deny"),
                ))
            }
        };
        let egress = opt_bool(p, "Egress")?.unwrap_or(false);
        let cidr = match (opt_str(p, "CidrBlock")?, opt_str(p, "Ipv6CidrBlock")?) {
            (Some(c), _) => IpNet::V4(
                c.parse::<Ipv4Net>()
                    .map_err(|e| invalid("CidrBlock", e))?
                    .trunc(),
            ),
            (None, Some(c)) => IpNet::V6(
                c.parse::<Ipv6Net>()
                    .map_err(|e| invalid("Ipv6CidrBlock", e))?
                    .trunc(),
            ),
            (None, None) => return Err(missing("CidrBlock")),
        };
        let mut ports = (0u16, 65535u16);
        if matches!(protocol, Some(IpProtocol::TCP | IpProtocol::UDP)) {
            let range = get(p, "PortRange").ok_or_else(|| {
                Problem::new(
                    "MissingParameter",
                    "PortRange is required for TCP and UDP rules",
                )
            })?;
            let from = opt_int(range, "From")?.ok_or_else(|| missing("PortRange.From"))?;
            let to = opt_int(range, "To")?.ok_or_else(|| missing("PortRange.To"))?;
            if !(0..=65535).contains(&from) || !(0..=65535).contains(&to) || from > to {
                return Err(invalid(
                    "PortRange",
                    format!("{from}-{to} is not a valid port range"),
                ));
            }
            ports = (from as u16, to as u16);
        }
        let (mut icmp_type, mut icmp_code) = (None, None);
        if matches!(protocol, Some(IpProtocol::ICMP | IpProtocol::ICMPV6)) {
            if let Some(icmp) = get(p, "Icmp") {
                let f = |v: Option<i64>| v.filter(|v| (0..=255).contains(v)).map(|v| v as u8);
                icmp_type = f(opt_int(icmp, "Type")?);
                icmp_code = f(opt_int(icmp, "Code")?);
            } else if protocol == Some(IpProtocol::ICMPV6) && cidr.addr().is_ipv6() {
                return Err(Problem::new(
                    "MissingParameter",
                    "ICMPv6 rules with an IPv6 CIDR need Icmp Type and Code",
                ));
            }
        }
        let entries = &mut self.model.network_acls[acl].entries;
        if entries.iter().any(|e| {
            e.egress == egress
                && e.entry.number == number as u16
                && e.entry.cidr.addr().is_ipv6() == cidr.addr().is_ipv6()
        }) {
            return Err(Problem::new(
                "NetworkAclEntryAlreadyExists",
                format!(
                    "rule {number} already exists in the {} list",
                    if egress { "egress" } else { "ingress" }
                ),
            ));
        }
        entries.push(NaclEntry {
            origin: Some(origin),
            egress,
            entry: vpcsim_dataplane::tables::nacl::NaclEntry {
                number: number as u16,
                res: None,
                protocol,
                ports,
                icmp_type,
                icmp_code,
                cidr,
                allow,
            },
        });
        Ok(())
    }

    pub(super) fn add_nacl_association(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let subnet = self.subnet_ref(p, "SubnetId")?;
        let acl_id = req_str(p, "NetworkAclId")?;
        let acl = self.nacl_id("NetworkAclId", &acl_id)?;
        self.link(t, lid, "AWS::EC2::SubnetNetworkAclAssociation", p);
        let (s, a) = (&self.model.subnets[subnet], &self.model.network_acls[acl]);
        if s.vpc != a.vpc {
            return Err(Problem::new(
                "InvalidParameterValue",
                format!(
                    "network ACL {} and subnet {} belong to different VPCs",
                    a.origin.logical_id, s.origin.logical_id
                ),
            ));
        }
        if let Some(prev) = s.network_acl {
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                format!(
                    "subnet {} is already associated with network ACL {}",
                    s.origin.logical_id, self.model.network_acls[prev].origin.logical_id
                ),
            ));
        }
        self.model.subnets[subnet].network_acl = Some(acl);
        Ok(())
    }
}
