//! EC2 instances and elastic network interfaces (`AWS::EC2::NetworkInterface` and its
//! attachments), with their addresses and security groups.

use super::*;

impl Builder {
    /// Build an interface from interface-like properties (Instance, NetworkInterfaces entries,
    /// AWS::EC2::NetworkInterface).
    #[allow(clippy::too_many_arguments)]
    fn make_eni(
        &mut self,
        origin: Origin,
        owner: EniOwner,
        subnet: usize,
        p: &Value,
        group_keys: &[&str],
        source_dest_check: bool,
        public_ip: bool,
    ) -> R<usize> {
        let holder = origin.logical_id.clone();
        let vpc = self.model.subnets[subnet].vpc;
        let mut wanted: Vec<(Ipv4Addr, bool)> = Vec::new();
        if let Some(a) = opt_str(p, "PrivateIpAddress")? {
            wanted.push((a.parse().map_err(|e| invalid("PrivateIpAddress", e))?, true));
        }
        for (i, entry) in opt_list(p, "PrivateIpAddresses")?.iter().enumerate() {
            let a: Ipv4Addr = req_str(entry, "PrivateIpAddress")?
                .parse()
                .map_err(|e| invalid(&format!("PrivateIpAddresses[{i}]"), e))?;
            let primary = opt_bool(entry, "Primary")?.unwrap_or(false);
            if !wanted.iter().any(|(w, _)| *w == a) {
                wanted.push((a, primary));
            }
        }
        wanted.sort_by_key(|(_, primary)| !primary);
        let mut private_v4 = Vec::new();
        if self.model.subnets[subnet].cidr_v4.is_some() {
            if wanted.is_empty() {
                private_v4.push(self.claim_v4(subnet, None, &holder)?);
            }
            for (a, _) in wanted {
                private_v4.push(self.claim_v4(subnet, Some(a), &holder)?);
            }
            let extra = opt_int(p, "SecondaryPrivateIpAddressCount")?
                .unwrap_or(0)
                .max(0);
            for _ in 0..extra {
                private_v4.push(self.claim_v4(subnet, None, &holder)?);
            }
        }
        let mut ipv6 = Vec::new();
        for (i, entry) in opt_list(p, "Ipv6Addresses")?.iter().enumerate() {
            let a = match entry {
                Value::String(s) => s.clone(),
                _ => req_str(entry, "Ipv6Address")?,
            };
            let a: Ipv6Addr = a
                .parse()
                .map_err(|e| invalid(&format!("Ipv6Addresses[{i}]"), e))?;
            ipv6.push(self.claim_v6(subnet, Some(a), &holder)?);
        }
        for _ in 0..opt_int(p, "Ipv6AddressCount")?.unwrap_or(0).max(0) {
            ipv6.push(self.claim_v6(subnet, None, &holder)?);
        }
        if private_v4.is_empty() && ipv6.is_empty() {
            return Err(Problem::new(
                "InvalidParameterValue",
                "the interface has no IPv4 or IPv6 address",
            ));
        }
        let mut ids = Vec::new();
        let mut key = group_keys[0];
        for k in group_keys {
            let l = str_list(p, k)?;
            if !l.is_empty() {
                key = k;
                ids = l;
                break;
            }
        }
        let mut groups = self.security_groups(&ids, key, vpc)?;
        if let Some(names) = get(p, "SecurityGroups")
            .map(|_| str_list(p, "SecurityGroups"))
            .transpose()?
        {
            for name in names {
                let g = self
                    .model
                    .security_groups
                    .iter()
                    .position(|g| {
                        (g.group_name == name || g.origin.id == name) && g.vpc == Some(vpc)
                    })
                    .ok_or_else(|| {
                        Problem::new(
                            "InvalidGroup.NotFound",
                            format!("no security group named {name:?} in the VPC"),
                        )
                    })?;
                groups.push(g);
            }
        }
        if groups.is_empty() {
            groups.push(self.model.vpcs[vpc].default_security_group);
        }
        let auto_public_ip = (public_ip && !private_v4.is_empty()).then(|| self.next_public_ip());
        self.model.enis.push(NetworkInterface {
            origin,
            owner,
            subnet,
            private_v4,
            ipv6,
            security_groups: groups,
            source_dest_check,
            auto_public_ip,
        });
        Ok(self.model.enis.len() - 1)
    }

    pub(super) fn add_instance(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        self.launch_instance(t, lid, p).map(|_| ())
    }

    /// Build an instance from `AWS::EC2::Instance` properties (an Auto Scaling group's
    /// instances are built from the same ones); returns its index in [`Model::instances`].
    pub(super) fn launch_instance(&mut self, t: usize, lid: &str, p: &Value) -> R<usize> {
        let origin = self.origin(t, lid, "AWS::EC2::Instance", props::name_tag(p));
        let inst = self.model.instances.len();
        let id = origin.id.clone();
        let source_dest_check = opt_bool(p, "SourceDestCheck")?.unwrap_or(true);
        let mut enis = Vec::new();
        let nics = opt_list(p, "NetworkInterfaces")?;
        if nics.is_empty() {
            // Without a subnet, AWS launches into a default subnet of the default VPC.
            let subnet = match opt_str(p, "SubnetId")? {
                Some(subnet_id) => self.subnet_id("SubnetId", &subnet_id)?,
                None => {
                    let az = opt_str(p, "AvailabilityZone")?.filter(|z| !z.is_empty());
                    self.default_subnet(az.as_deref())?
                }
            };
            let public = self.model.subnets[subnet].map_public_ip_on_launch;
            let eni_origin = Origin {
                id: id.replace("i-", "eni-"),
                kind: "AWS::EC2::NetworkInterface".into(),
                ..origin.clone()
            };
            let e = self.make_eni(
                eni_origin,
                EniOwner::Instance(inst, 0),
                subnet,
                p,
                &["SecurityGroupIds"],
                source_dest_check,
                public,
            )?;
            enis.push(e);
        } else {
            let mut sorted: Vec<(i64, &Value)> = Vec::new();
            for (i, nic) in nics.iter().enumerate() {
                let idx = opt_int(nic, "DeviceIndex")?.unwrap_or(i as i64);
                sorted.push((idx, nic));
            }
            sorted.sort_by_key(|(i, _)| *i);
            for (device, nic) in sorted {
                if let Some(existing) = opt_str(nic, "NetworkInterfaceId")? {
                    let e = self.eni_id("NetworkInterfaceId", &existing)?;
                    if device == 0 {
                        self.model.enis[e].owner = EniOwner::Instance(inst, 0);
                    }
                    enis.push(e);
                    continue;
                }
                let subnet = match opt_str(nic, "SubnetId")? {
                    Some(s) => self.subnet_id("NetworkInterfaces.SubnetId", &s)?,
                    None => {
                        return Err(Problem::new(
                            "MissingParameter",
                            format!("NetworkInterfaces device {device} has neither SubnetId nor NetworkInterfaceId"),
                        ))
                    }
                };
                let public = match opt_bool(nic, "AssociatePublicIpAddress")? {
                    Some(b) => b,
                    None => device == 0 && self.model.subnets[subnet].map_public_ip_on_launch,
                };
                let eni_origin = Origin {
                    logical_id: if device == 0 {
                        lid.to_string()
                    } else {
                        format!("{lid}.eth{device}")
                    },
                    id: aws_id(
                        "eni",
                        &self.model.templates[t].account_id,
                        &self.model.templates[t].region,
                        &self.model.templates[t].stack_name,
                        &format!("{lid}.eth{device}"),
                    ),
                    kind: "AWS::EC2::NetworkInterface".into(),
                    ..origin.clone()
                };
                let e = self.make_eni(
                    eni_origin,
                    EniOwner::Instance(inst, device.max(0) as u32),
                    subnet,
                    nic,
                    &["GroupSet"],
                    source_dest_check,
                    public && device == 0,
                )?;
                enis.push(e);
            }
        }
        self.model.instances.push(Instance {
            origin,
            enis,
            auto_scaling: None,
        });
        self.register(t, lid, &id, Ref::Instance(inst));
        Ok(inst)
    }

    pub(super) fn add_eni_resource(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let subnet = self.subnet_ref(p, "SubnetId")?;
        let origin = self.origin(t, lid, "AWS::EC2::NetworkInterface", props::name_tag(p));
        let id = origin.id.clone();
        let check = opt_bool(p, "SourceDestCheck")?.unwrap_or(true);
        let e = self.make_eni(
            origin,
            EniOwner::Standalone,
            subnet,
            p,
            &["GroupSet"],
            check,
            false,
        )?;
        self.register(t, lid, &id, Ref::Eni(e));
        Ok(())
    }

    pub(super) fn add_eni_attachment(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let inst = self.instance_id("InstanceId", &req_str(p, "InstanceId")?)?;
        let eni = self.eni_id("NetworkInterfaceId", &req_str(p, "NetworkInterfaceId")?)?;
        let device = opt_int(p, "DeviceIndex")?.ok_or_else(|| missing("DeviceIndex"))?;
        self.link(t, lid, "AWS::EC2::NetworkInterfaceAttachment", p);
        let (e, i) = (&self.model.enis[eni], &self.model.instances[inst]);
        let inst_subnet = i.enis.first().map(|&x| {
            self.model.subnets[self.model.enis[x].subnet]
                .availability_zone
                .clone()
        });
        if inst_subnet.is_some_and(|az| az != self.model.subnets[e.subnet].availability_zone) {
            return Err(Problem::new(
                "InvalidParameterValue",
                "an interface can only be attached to an instance in the same Availability Zone",
            ));
        }
        if device == 0 || i.enis.contains(&eni) {
            return Err(invalid(
                "DeviceIndex",
                "device 0 is the instance's primary interface",
            ));
        }
        self.model.instances[inst].enis.push(eni);
        Ok(())
    }

    /// `Fn::GetAtt` of an instance: its primary interface's addresses and names.
    pub(super) fn instance_attribute(&self, i: usize, attr: &str) -> Option<Value> {
        let m = &self.model;
        let inst = &m.instances[i];
        let primary = inst.enis.first().map(|&e| &m.enis[e]);
        let private = primary.and_then(|e| e.private_v4.first().copied());
        let public = match (inst.enis.first(), private) {
            (Some(&e), Some(p)) => m.public_ip_of(e, p),
            _ => None,
        };
        Some(match attr {
            "PrivateIp" => json!(private.map(|a| a.to_string())),
            "PublicIp" => json!(public.map(|a| a.to_string()).unwrap_or_default()),
            "PrivateDnsName" => json!(
                private.map(|a| format!("ip-{}.ec2.internal", a.to_string().replace('.', "-")))
            ),
            "PublicDnsName" => json!(public
                .map(|a| format!(
                    "ec2-{}.compute-1.amazonaws.com",
                    a.to_string().replace('.', "-")
                ))
                .unwrap_or_default()),
            "AvailabilityZone" => {
                json!(primary.map(|e| m.subnets[e.subnet].availability_zone.clone()))
            }
            "InstanceId" => json!(inst.origin.id),
            _ => return None,
        })
    }

    /// `Fn::GetAtt` of a network interface.
    pub(super) fn eni_attribute(&self, i: usize, attr: &str) -> Option<Value> {
        let e = &self.model.enis[i];
        Some(match attr {
            "PrimaryPrivateIpAddress" => json!(e.private_v4.first().map(|a| a.to_string())),
            "SecondaryPrivateIpAddresses" => {
                json!(e
                    .private_v4
                    .iter()
                    .skip(1)
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>())
            }
            "Id" => json!(e.origin.id),
            "PrimaryIpv6Address" => json!(e.ipv6.first().map(|a| a.to_string())),
            _ => return None,
        })
    }
}
