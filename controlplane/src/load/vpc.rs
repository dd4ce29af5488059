//! VPCs with their CIDR blocks and default resources, and subnets.

use super::*;

impl Builder {
    pub(super) fn add_vpc(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        if get(p, "Ipv4IpamPoolId").is_some() && get(p, "CidrBlock").is_none() {
            return Err(Problem::new(
                "UnsupportedOperation",
                "VPCs allocated from IPAM pools are not simulated: give the VPC a CidrBlock",
            ));
        }
        let cidr = parse_v4_net(p, "CidrBlock", "InvalidVpc.Range")?
            .ok_or_else(|| missing("CidrBlock"))?;
        check_vpc_cidr(&cidr)?;
        let origin = self.origin(t, lid, "AWS::EC2::VPC", props::name_tag(p));
        let vpc = self.model.vpcs.len();
        let implicit = |b: &Self, suffix: &str, kind: &'static str| {
            b.origin(t, &format!("{lid}.{suffix}"), kind, None)
        };
        let rt_origin = implicit(self, "MainRouteTable", "AWS::EC2::RouteTable");
        let acl_origin = implicit(self, "DefaultNetworkAcl", "AWS::EC2::NetworkAcl");
        let sg_origin = implicit(self, "DefaultSecurityGroup", "AWS::EC2::SecurityGroup");
        let (rt_id, acl_id, sg_id) = (
            rt_origin.id.clone(),
            acl_origin.id.clone(),
            sg_origin.id.clone(),
        );
        self.model.route_tables.push(RouteTable {
            origin: rt_origin,
            vpc,
            main: true,
            routes: vec![],
        });
        let allow_all = |egress: bool, number: u16, cidr: IpNet| NaclEntry {
            origin: None,
            egress,
            entry: vpcsim_dataplane::tables::nacl::NaclEntry {
                number,
                res: None,
                protocol: None,
                ports: (0, 65535),
                icmp_type: None,
                icmp_code: None,
                cidr,
                allow: true,
            },
        };
        let any_v4: IpNet = "0.0.0.0/0".parse().map_err(|_| Problem::quiet())?;
        self.model.network_acls.push(NetworkAcl {
            origin: acl_origin,
            vpc,
            default: true,
            entries: vec![allow_all(false, 100, any_v4), allow_all(true, 100, any_v4)],
        });
        let sg = self.model.security_groups.len();
        self.model.security_groups.push(SecurityGroup {
            origin: sg_origin,
            vpc: Some(vpc),
            group_name: "default".into(),
            description: "default VPC security group".into(),
            ingress: vec![SgRule {
                protocol: None,
                from_port: -1,
                to_port: -1,
                peer: SgPeer::Group(sg),
                description: Some("default: all traffic from the group itself".into()),
            }],
            egress: vec![SgRule {
                protocol: None,
                from_port: -1,
                to_port: -1,
                peer: SgPeer::Cidr(any_v4),
                description: None,
            }],
        });
        let id = origin.id.clone();
        self.model.vpcs.push(Vpc {
            origin,
            cidrs_v4: vec![cidr],
            cidrs_v6: vec![],
            enable_dns_support: opt_bool(p, "EnableDnsSupport")?.unwrap_or(true),
            enable_dns_hostnames: opt_bool(p, "EnableDnsHostnames")?.unwrap_or(false),
            main_route_table: self.model.route_tables.len() - 1,
            default_network_acl: self.model.network_acls.len() - 1,
            default_security_group: sg,
            internet_gateway: None,
            egress_only_igw: None,
            is_default: false,
        });
        self.register(t, lid, &id, Ref::Vpc(vpc));
        self.by_id
            .insert(rt_id, Ref::RouteTable(self.model.route_tables.len() - 1));
        self.by_id
            .insert(acl_id, Ref::Nacl(self.model.network_acls.len() - 1));
        self.by_id.insert(sg_id, Ref::Sg(sg));
        Ok(())
    }

    pub(super) fn add_vpc_cidr_block(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        let l = self.link(t, lid, "AWS::EC2::VPCCidrBlock", p);
        self.by_logical
            .insert((t, lid.to_string()), Ref::CidrBlock(vpc, l));
        if let Some(cidr) = parse_v4_net(p, "CidrBlock", "InvalidVpc.Range")? {
            check_vpc_cidr(&cidr)?;
            let v = &self.model.vpcs[vpc];
            if let Some(c) = v
                .cidrs_v4
                .iter()
                .find(|c| c.contains(&cidr.network()) || cidr.contains(&c.network()))
            {
                return Err(Problem::new(
                    "InvalidVpc.Range",
                    format!("{cidr} overlaps the VPC's existing CIDR {c}"),
                ));
            }
            if let Some(primary) = v.cidrs_v4.first() {
                check_secondary_range(primary, &cidr)?;
            }
            if v.cidrs_v4.len() >= self.quotas.limit("cidrs-per-vpc") as usize {
                return Err(Problem::new(
                    "CidrLimitExceeded",
                    self.quotas
                        .exceeded("cidrs-per-vpc", v.cidrs_v4.len() + 1, "IPv4 CIDR blocks"),
                ));
            }
            self.model.vpcs[vpc].cidrs_v4.push(cidr);
            return Ok(());
        }
        let v6 = if opt_bool(p, "AmazonProvidedIpv6CidrBlock")?.unwrap_or(false) {
            self.amazon_ipv6_block(vpc)
        } else if let Some(block) = opt_str(p, "Ipv6CidrBlock")? {
            block
                .parse::<Ipv6Net>()
                .map_err(|e| invalid("Ipv6CidrBlock", e))?
                .trunc()
        } else if get(p, "Ipv6IpamPoolId").is_some() {
            self.amazon_ipv6_block(vpc)
        } else {
            return Err(Problem::new(
                "MissingParameter",
                "one of CidrBlock, AmazonProvidedIpv6CidrBlock or Ipv6CidrBlock is required",
            ));
        };
        self.model.links[l].name = Some(v6.to_string());
        self.model.vpcs[vpc].cidrs_v6.push(v6);
        // The default NACL gets its IPv6 allow-all rules (101) and the default SG its ::/0 egress.
        let any_v6: IpNet = "::/0".parse().map_err(|_| Problem::quiet())?;
        let acl = self.model.vpcs[vpc].default_network_acl;
        for egress in [false, true] {
            let entries = &mut self.model.network_acls[acl].entries;
            if !entries
                .iter()
                .any(|e| e.egress == egress && e.entry.number == 101)
            {
                entries.push(NaclEntry {
                    origin: None,
                    egress,
                    entry: vpcsim_dataplane::tables::nacl::NaclEntry {
                        number: 101,
                        res: None,
                        protocol: None,
                        ports: (0, 65535),
                        icmp_type: None,
                        icmp_code: None,
                        cidr: any_v6,
                        allow: true,
                    },
                });
            }
        }
        let sg = self.model.vpcs[vpc].default_security_group;
        let egress = &mut self.model.security_groups[sg].egress;
        if !egress.iter().any(|r| r.peer == SgPeer::Cidr(any_v6)) {
            egress.push(SgRule {
                protocol: None,
                from_port: -1,
                to_port: -1,
                peer: SgPeer::Cidr(any_v6),
                description: None,
            });
        }
        Ok(())
    }

    /// A deterministic Amazon-provided /56 in 2600:1f00::/24, unique within the topology.
    fn amazon_ipv6_block(&mut self, vpc: usize) -> Ipv6Net {
        let id = self.model.vpcs[vpc].origin.id.clone();
        let mut salt = 0u64;
        loop {
            let h = fnv1a(&[&id, &salt.to_string()], 0x6c62_272e_07bb_0142);
            // 2600:1fXX:XXXX:XX00::/56: the /24 is fixed, the next 32 bits come from the hash.
            let bits: u128 = (0x0026_001fu128 << 104) | (((h & 0xffff_ffff) as u128) << 72);
            if self.used_v6_blocks.insert(bits) {
                return Ipv6Net::new(Ipv6Addr::from_bits(bits), 56)
                    .map(|n| n.trunc())
                    .unwrap_or_default();
            }
            salt += 1;
        }
    }

    pub(super) fn add_subnet(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        let cidr_v4 = parse_v4_net(p, "CidrBlock", "InvalidSubnet.Range")?;
        let cidr_v6 = match opt_str(p, "Ipv6CidrBlock")? {
            Some(s) => Some(
                s.parse::<Ipv6Net>()
                    .map_err(|e| invalid("Ipv6CidrBlock", e))?
                    .trunc(),
            ),
            None => None,
        };
        if cidr_v4.is_none() && cidr_v6.is_none() {
            return Err(missing("CidrBlock"));
        }
        let v = &self.model.vpcs[vpc];
        if let Some(c) = cidr_v4 {
            if !(16..=28).contains(&c.prefix_len()) {
                return Err(Problem::new(
                    "InvalidSubnet.Range",
                    format!("{c}: subnet prefix length must be /16 to /28"),
                ));
            }
            if !v.cidrs_v4.iter().any(|vc| vc.contains(&c)) {
                return Err(Problem::new(
                    "InvalidSubnet.Range",
                    format!(
                        "{c} is not within the VPC's CIDR blocks ({})",
                        join(&v.cidrs_v4)
                    ),
                ));
            }
            if let Some(other) = self.model.subnets.iter().find(|s| {
                s.vpc == vpc
                    && s.cidr_v4
                        .is_some_and(|o| o.contains(&c.network()) || c.contains(&o.network()))
            }) {
                return Err(Problem::new(
                    "InvalidSubnet.Conflict",
                    format!(
                        "{c} overlaps subnet {} ({})",
                        other.origin.logical_id,
                        join(other.cidr_v4)
                    ),
                ));
            }
        }
        if let Some(c) = cidr_v6 {
            if c.prefix_len() != 64 {
                return Err(Problem::new(
                    "InvalidSubnet.Range",
                    format!("{c}: IPv6 subnets are /64"),
                ));
            }
            if !v.cidrs_v6.iter().any(|vc| vc.contains(&c)) {
                return Err(Problem::new(
                    "InvalidSubnet.Range",
                    format!(
                        "{c} is not within the VPC's IPv6 blocks ({})",
                        join(&v.cidrs_v6)
                    ),
                ));
            }
            if let Some(other) = self
                .model
                .subnets
                .iter()
                .find(|s| s.vpc == vpc && s.cidr_v6 == Some(c))
            {
                return Err(Problem::new(
                    "InvalidSubnet.Conflict",
                    format!(
                        "{c} is already the IPv6 block of subnet {}",
                        other.origin.logical_id
                    ),
                ));
            }
        }
        let region = self.model.templates[t].region.clone();
        let az = opt_str(p, "AvailabilityZone")?
            .filter(|s| !s.is_empty())
            .or(opt_str(p, "AvailabilityZoneId")?.map(|z| az_from_id(&region, &z)))
            .unwrap_or_else(|| format!("{region}a"));
        self.check_zone(t, &az)?;
        let origin = self.origin(t, lid, "AWS::EC2::Subnet", props::name_tag(p));
        let id = origin.id.clone();
        self.model.subnets.push(Subnet {
            origin,
            vpc,
            availability_zone: az,
            cidr_v4,
            cidr_v6,
            map_public_ip_on_launch: opt_bool(p, "MapPublicIpOnLaunch")?.unwrap_or(false),
            route_table: None,
            network_acl: None,
        });
        let i = self.model.subnets.len() - 1;
        self.register(t, lid, &id, Ref::Subnet(i));
        Ok(())
    }

    /// `Fn::GetAtt` of a VPC.
    pub(super) fn vpc_attribute(&self, i: usize, attr: &str) -> Option<Value> {
        let m = &self.model;
        let v = &m.vpcs[i];
        Some(match attr {
            "CidrBlock" => json!(v.cidrs_v4.first().map(|c| c.to_string())),
            "CidrBlockAssociations" => json!(v
                .cidrs_v4
                .iter()
                .map(|c| format!("{}-{}", v.origin.id.replace("vpc-", "vpc-cidr-assoc-"), c))
                .collect::<Vec<_>>()),
            "DefaultNetworkAcl" => json!(m.network_acls[v.default_network_acl].origin.id),
            "DefaultSecurityGroup" => {
                json!(m.security_groups[v.default_security_group].origin.id)
            }
            "Ipv6CidrBlocks" => {
                json!(v.cidrs_v6.iter().map(|c| c.to_string()).collect::<Vec<_>>())
            }
            "VpcId" => json!(v.origin.id),
            _ => return None,
        })
    }

    /// `Fn::GetAtt` of a subnet.
    pub(super) fn subnet_attribute(&self, i: usize, attr: &str) -> Option<Value> {
        let m = &self.model;
        let s = &m.subnets[i];
        Some(match attr {
            "AvailabilityZone" => json!(s.availability_zone),
            "AvailabilityZoneId" => json!(az_id(&s.availability_zone)),
            "CidrBlock" => json!(s.cidr_v4.map(|c| c.to_string())),
            "Ipv6CidrBlocks" => {
                json!(s.cidr_v6.iter().map(|c| c.to_string()).collect::<Vec<_>>())
            }
            "NetworkAclAssociationId" => json!(format!("{}-aclassoc", s.origin.id)),
            "VpcId" => json!(m.vpcs[s.vpc].origin.id),
            "SubnetId" => json!(s.origin.id),
            "OutpostArn" => json!(""),
            _ => return None,
        })
    }
}

pub(super) fn join<T: fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// An IPv4 block of a VPC or subnet; `range_code` is the error for one with host bits set.
fn parse_v4_net(p: &Value, key: &str, range_code: &'static str) -> R<Option<Ipv4Net>> {
    match opt_str(p, key)? {
        None => Ok(None),
        Some(s) => {
            let n: Ipv4Net = s
                .parse()
                .map_err(|e| invalid(key, format!("{s:?} is not an IPv4 CIDR ({e})")))?;
            // EC2 refuses a block with host bits set rather than truncating it.
            if n != n.trunc() {
                return Err(Problem::new(
                    range_code,
                    format!(
                        "The CIDR '{n}' is invalid: host bits are set (did you mean {}?)",
                        n.trunc()
                    ),
                ));
            }
            Ok(Some(n))
        }
    }
}

fn check_vpc_cidr(c: &Ipv4Net) -> R<()> {
    if !(16..=28).contains(&c.prefix_len()) {
        return Err(Problem::new(
            "InvalidVpc.Range",
            format!("{c}: a VPC CIDR must be between /16 and /28"),
        ));
    }
    let link_local: Ipv4Net = "169.254.0.0/16".parse().map_err(|_| Problem::quiet())?;
    if link_local.contains(&c.network()) {
        return Err(Problem::new(
            "InvalidVpc.Range",
            format!("{c}: 169.254.0.0/16 cannot be used"),
        ));
    }
    Ok(())
}

/// Secondary CIDR restrictions by the primary's range (SPEC §1.1).
fn check_secondary_range(primary: &Ipv4Net, new: &Ipv4Net) -> R<()> {
    let net = |s: &str| s.parse::<Ipv4Net>().unwrap_or_default();
    let (ten, one72, one92, one98) = (
        net("10.0.0.0/8"),
        net("172.16.0.0/12"),
        net("192.168.0.0/16"),
        net("198.19.0.0/16"),
    );
    let within = |outer: &Ipv4Net, inner: &Ipv4Net| outer.contains(&inner.network());
    let forbidden: Vec<Ipv4Net> = if within(&ten, primary) {
        vec![one72, one92, one98]
    } else if within(&one72, primary) {
        vec![ten, one92, one98, net("172.31.0.0/16")]
    } else if within(&one92, primary) {
        vec![ten, one72, one98]
    } else if within(&one98, primary) {
        vec![ten, one72, one92]
    } else {
        vec![ten, one72, one92, one98]
    };
    if let Some(f) = forbidden.iter().find(|f| within(f, new) || within(new, f)) {
        return Err(Problem::new(
            "InvalidVpc.Range",
            format!("{new} cannot be added to a VPC whose primary CIDR is {primary} (restricted range {f})"),
        ));
    }
    Ok(())
}

fn az_id(az: &str) -> String {
    let letter = az.chars().last().unwrap_or('a');
    let n = (letter as u8).saturating_sub(b'a') + 1;
    format!("use1-az{n}")
}

fn az_from_id(region: &str, id: &str) -> String {
    let n = id
        .rsplit("az")
        .next()
        .and_then(|n| n.parse::<u8>().ok())
        .unwrap_or(1);
    format!("{region}{}", (b'a' + n.saturating_sub(1).min(25)) as char)
}
