//! Elastic IPs (`AWS::EC2::EIP`) and their associations with instances and interfaces.

use super::*;

impl Builder {
    pub(super) fn add_eip(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let public_ip = match opt_str(p, "Address")? {
            Some(a) => {
                let a: Ipv4Addr = a.parse().map_err(|e| invalid("Address", e))?;
                if !self.used_public.insert(a) {
                    return Err(Problem::new(
                        "InvalidAddress.InUse",
                        format!("{a} is already allocated"),
                    ));
                }
                a
            }
            None => self.next_public_ip(),
        };
        let origin = self.origin(t, lid, "AWS::EC2::EIP", props::name_tag(p));
        let allocation_id = origin.id.clone();
        self.model.eips.push(Eip {
            origin,
            public_ip,
            allocation_id: allocation_id.clone(),
            association: None,
        });
        let i = self.model.eips.len() - 1;
        self.register(t, lid, &allocation_id, Ref::Eip(i));
        self.by_id.insert(public_ip.to_string(), Ref::Eip(i));
        if let Some(inst) = opt_str(p, "InstanceId")? {
            let inst = self.instance_id("InstanceId", &inst)?;
            self.associate_eip_with_instance(i, inst)?;
        }
        Ok(())
    }

    fn associate_eip_with_instance(&mut self, eip: usize, inst: usize) -> R<()> {
        let eni = *self.model.instances[inst].enis.first().ok_or_else(|| {
            Problem::new("InvalidInstanceID", "the instance has no network interface")
        })?;
        let private = *self.model.enis[eni].private_v4.first().ok_or_else(|| {
            Problem::new(
                "InvalidInstanceID",
                "the instance has no private IPv4 address",
            )
        })?;
        self.associate_eip(eip, eni, private)
    }

    pub(super) fn associate_eip(&mut self, eip: usize, eni: usize, private: Ipv4Addr) -> R<()> {
        if !self.model.enis[eni].private_v4.contains(&private) {
            return Err(invalid(
                "PrivateIpAddress",
                format!("{private} is not an address of the interface"),
            ));
        }
        // One Elastic IP per private address: a new association replaces the previous one.
        for other in &mut self.model.eips {
            if other.association == Some((eni, private)) {
                other.association = None;
            }
        }
        self.model.eips[eip].association = Some((eni, private));
        // An auto-assigned public IP is released when an EIP is associated with the primary address.
        if self.model.enis[eni].private_v4.first() == Some(&private) {
            self.model.enis[eni].auto_public_ip = None;
        }
        Ok(())
    }

    pub(super) fn add_eip_association(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        self.link(t, lid, "AWS::EC2::EIPAssociation", p);
        let eip = match (opt_str(p, "AllocationId")?, opt_str(p, "EIP")?) {
            (Some(a), _) => self.eip_id("AllocationId", &a)?,
            (None, Some(ip)) => self.eip_id("EIP", &ip)?,
            (None, None) => return Err(missing("AllocationId")),
        };
        if let Some(eni) = opt_str(p, "NetworkInterfaceId")? {
            let eni = self.eni_id("NetworkInterfaceId", &eni)?;
            let private = match opt_str(p, "PrivateIpAddress")? {
                Some(a) => a.parse().map_err(|e| invalid("PrivateIpAddress", e))?,
                None => *self.model.enis[eni].private_v4.first().ok_or_else(|| {
                    invalid("NetworkInterfaceId", "the interface has no IPv4 address")
                })?,
            };
            return self.associate_eip(eip, eni, private);
        }
        let inst = self.instance_id("InstanceId", &req_str(p, "InstanceId")?)?;
        match opt_str(p, "PrivateIpAddress")? {
            Some(a) => {
                let a: Ipv4Addr = a.parse().map_err(|e| invalid("PrivateIpAddress", e))?;
                let eni = self.model.instances[inst]
                    .enis
                    .iter()
                    .copied()
                    .find(|&e| self.model.enis[e].private_v4.contains(&a))
                    .ok_or_else(|| {
                        invalid(
                            "PrivateIpAddress",
                            format!("{a} is not an address of the instance"),
                        )
                    })?;
                self.associate_eip(eip, eni, a)
            }
            None => self.associate_eip_with_instance(eip, inst),
        }
    }
}
