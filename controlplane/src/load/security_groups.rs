//! Security groups, their inline rules and the standalone ingress and egress rule resources.

use super::*;

impl Builder {
    pub(super) fn add_sg(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        // Without a VpcId, AWS creates the group in the account's default VPC.
        let vpc = match opt_str(p, "VpcId")? {
            Some(id) => Some(self.vpc_id("VpcId", &id)?),
            None => Some(self.default_vpc()?),
        };
        let origin = self.origin(t, lid, "AWS::EC2::SecurityGroup", props::name_tag(p));
        let group_name = opt_str(p, "GroupName")?
            .unwrap_or_else(|| format!("{}-{lid}", self.model.templates[t].stack_name));
        let description = opt_str(p, "GroupDescription")?.unwrap_or_else(|| group_name.clone());
        let sg = self.model.security_groups.len();
        let id = origin.id.clone();
        self.model.security_groups.push(SecurityGroup {
            origin,
            vpc,
            group_name,
            description,
            ingress: vec![],
            egress: vec![],
        });
        self.register(t, lid, &id, Ref::Sg(sg));
        let mut ingress = Vec::new();
        for (i, r) in opt_list(p, "SecurityGroupIngress")?.iter().enumerate() {
            ingress.push(
                self.sg_rule(r, true, vpc)
                    .map_err(|e| prefix(e, &format!("SecurityGroupIngress[{i}]")))?,
            );
        }
        let explicit_egress = get(p, "SecurityGroupEgress").is_some();
        let mut egress = Vec::new();
        for (i, r) in opt_list(p, "SecurityGroupEgress")?.iter().enumerate() {
            egress.push(
                self.sg_rule(r, false, vpc)
                    .map_err(|e| prefix(e, &format!("SecurityGroupEgress[{i}]")))?,
            );
        }
        if !explicit_egress {
            // A new group allows all outbound IPv4 until egress rules are given.
            egress.push(Some(SgRule {
                protocol: None,
                from_port: -1,
                to_port: -1,
                peer: SgPeer::Cidr("0.0.0.0/0".parse().map_err(|_| Problem::quiet())?),
                description: None,
            }));
        }
        let g = &mut self.model.security_groups[sg];
        g.ingress = ingress.into_iter().flatten().collect();
        g.egress = egress.into_iter().flatten().collect();
        Ok(())
    }

    /// One rule; `Ok(None)` when the rule uses something not simulated yet (it is skipped with a warning).
    fn sg_rule(&mut self, r: &Value, ingress: bool, vpc: Option<usize>) -> R<Option<SgRule>> {
        let proto_s = req_str(r, "IpProtocol")?;
        let protocol = parse_protocol(&proto_s).map_err(|e| invalid("IpProtocol", e))?;
        let from = opt_int(r, "FromPort")?;
        let to = opt_int(r, "ToPort")?;
        let (from_port, to_port) = match protocol {
            None => (-1, -1),
            Some(IpProtocol::TCP | IpProtocol::UDP) => {
                let from = from.ok_or_else(|| missing("FromPort"))?;
                let to = to.ok_or_else(|| missing("ToPort"))?;
                // -1 on a TCP/UDP rule means all ports.
                if from == -1 || to == -1 {
                    (0, 65535)
                } else if (0..=65535).contains(&from) && (0..=65535).contains(&to) && from <= to {
                    (from as i32, to as i32)
                } else {
                    return Err(invalid(
                        "FromPort",
                        format!("{from}-{to} is not a valid port range"),
                    ));
                }
            }
            Some(IpProtocol::ICMP | IpProtocol::ICMPV6) => {
                (from.unwrap_or(-1) as i32, to.unwrap_or(-1) as i32)
            }
            Some(_) => (-1, -1),
        };
        let (cidr_key, cidr6_key, group_key, group_name_key, pl_key) = if ingress {
            (
                "CidrIp",
                "CidrIpv6",
                "SourceSecurityGroupId",
                "SourceSecurityGroupName",
                "SourcePrefixListId",
            )
        } else {
            (
                "CidrIp",
                "CidrIpv6",
                "DestinationSecurityGroupId",
                "DestinationSecurityGroupName",
                "DestinationPrefixListId",
            )
        };
        let peer = if let Some(c) = opt_str(r, cidr_key)? {
            SgPeer::Cidr(IpNet::V4(
                c.parse::<Ipv4Net>()
                    .map_err(|e| invalid(cidr_key, e))?
                    .trunc(),
            ))
        } else if let Some(c) = opt_str(r, cidr6_key)? {
            SgPeer::Cidr(IpNet::V6(
                c.parse::<Ipv6Net>()
                    .map_err(|e| invalid(cidr6_key, e))?
                    .trunc(),
            ))
        } else if let Some(g) = opt_str(r, group_key)? {
            SgPeer::Group(self.sg_id(group_key, &g)?)
        } else if let Some(name) = opt_str(r, group_name_key)? {
            let g = self
                .model
                .security_groups
                .iter()
                .position(|g| g.group_name == name && (vpc.is_none() || g.vpc == vpc))
                .ok_or_else(|| {
                    Problem::new(
                        "InvalidGroup.NotFound",
                        format!("no security group named {name:?}"),
                    )
                })?;
            SgPeer::Group(g)
        } else if let Some(id) = opt_str(r, pl_key)? {
            let t = self.template;
            SgPeer::PrefixList(self.prefix_list_ref(pl_key, &id, t)?)
        } else {
            return Err(Problem::new(
                "MissingParameter",
                format!("the rule needs one of {cidr_key}, {cidr6_key}, {group_key} or {pl_key}"),
            ));
        };
        Ok(Some(SgRule {
            protocol,
            from_port,
            to_port,
            peer,
            description: opt_str(r, "Description")?,
        }))
    }

    pub(super) fn add_sg_rule_resource(
        &mut self,
        t: usize,
        lid: &str,
        p: &Value,
        ingress: bool,
    ) -> R<()> {
        let kind = if ingress {
            "AWS::EC2::SecurityGroupIngress"
        } else {
            "AWS::EC2::SecurityGroupEgress"
        };
        self.link(t, lid, kind, p);
        let sg = match (opt_str(p, "GroupId")?, opt_str(p, "GroupName")?) {
            (Some(id), _) => self.sg_id("GroupId", &id)?,
            (None, Some(name)) => self
                .model
                .security_groups
                .iter()
                .position(|g| g.group_name == name)
                .ok_or_else(|| {
                    Problem::new(
                        "InvalidGroup.NotFound",
                        format!("no security group named {name:?}"),
                    )
                })?,
            (None, None) => return Err(missing("GroupId")),
        };
        let vpc = self.model.security_groups[sg].vpc;
        match self.sg_rule(p, ingress, vpc)? {
            Some(rule) => {
                let g = &mut self.model.security_groups[sg];
                if ingress {
                    g.ingress.push(rule);
                } else {
                    g.egress.push(rule);
                }
            }
            None => {
                let o = self.origin(t, lid, kind, None);
                self.warn_at(
                    &o,
                    "UnsupportedOperation",
                    "prefix-list peers are not simulated yet: rule ignored",
                );
            }
        }
        Ok(())
    }

    pub(super) fn security_groups(&self, ids: &[String], key: &str, vpc: usize) -> R<Vec<usize>> {
        let mut out = Vec::new();
        for id in ids {
            let g = self.sg_id(key, id)?;
            match self.model.security_groups[g].vpc {
                // RunInstances and CreateNetworkInterface refuse this with InvalidParameter.
                Some(v) if v != vpc => {
                    let group = &self.model.security_groups[g].origin;
                    return Err(Problem::new(
                        "InvalidParameter",
                        format!(
                            "Security group {} and the subnet belong to different networks ({} is in {}, the subnet in {})",
                            group.id,
                            group.logical_id,
                            self.model.vpcs[v].origin.logical_id,
                            self.model.vpcs[vpc].origin.logical_id
                        ),
                    ));
                }
                _ => out.push(g),
            }
        }
        Ok(out)
    }

    /// A rule may reference a group of the same VPC, or of a peered VPC of the same Region.
    pub(super) fn validate_group_references(&self, errors: &mut Findings) {
        let m = &self.model;
        let peered = |x: usize, y: usize| {
            m.peerings.iter().any(|p| {
                (p.requester == x && p.accepter == Some(y))
                    || (p.requester == y && p.accepter == Some(x))
            })
        };
        for g in &m.security_groups {
            for r in g.ingress.iter().chain(&g.egress) {
                if let (SgPeer::Group(other), Some(v)) = (&r.peer, g.vpc) {
                    if let Some(ov) = m.security_groups[*other].vpc {
                        if ov != v && !peered(v, ov) {
                            errors.push((g.origin.clone(), "InvalidGroup.NotFound", format!(
                                "You have specified two resources that belong to different networks: the rule references {} of {}, which is neither this VPC nor a peer of it",
                                m.security_groups[*other].origin.logical_id, m.vpcs[ov].origin.logical_id
                            )));
                        }
                    }
                }
            }
        }
    }
}
