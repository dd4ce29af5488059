//! Instances, network interfaces and their attachments.

use super::refs::Failed;
use super::*;

impl Tx {
    pub(super) fn instance(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        copy(&mut p, r, "ami", "ImageId");
        copy(&mut p, r, "instance_type", "InstanceType");
        copy(&mut p, r, "source_dest_check", "SourceDestCheck");
        let nics = r
            .get("network_interface")
            .and_then(Value::as_array)
            .cloned();
        let nics = nics.unwrap_or_default();
        if !nics.is_empty() {
            let mut list = Vec::new();
            for (i, nic) in nics.iter().enumerate() {
                let eni = self.reference(
                    r,
                    &r.nested("network_interface", i, nic, "network_interface_id"),
                )?;
                let Some(eni) = eni else { continue };
                let device = nic.get("device_index").cloned().unwrap_or(json!(i));
                list.push(json!({"DeviceIndex": device, "NetworkInterfaceId": eni}));
            }
            p.insert("NetworkInterfaces".into(), Value::Array(list));
            self.emit(&r.address, "AWS::EC2::Instance", Some(Value::Object(p)));
            return Ok(());
        }
        let subnet = self.required_reference(r, "subnet_id")?;
        copy(&mut p, r, "private_ip", "PrivateIpAddress");
        let groups = self.reference_list(r, &r.attr("vpc_security_group_ids"))?;
        copy_ipv6_addresses(&mut p, r);
        if !p.contains_key("Ipv6Addresses") {
            if let Some(n) = r.get("ipv6_address_count").filter(|n| n.as_i64() > Some(0)) {
                p.insert("Ipv6AddressCount".into(), n.clone());
            }
        }
        let secondary = r.get("secondary_private_ips").and_then(Value::as_array);
        let secondary: Vec<Value> = secondary.into_iter().flatten().cloned().collect();
        let public = r
            .get("associate_public_ip_address")
            .and_then(Value::as_bool);
        // The subnet's setting decides unless the instance overrides it, which CloudFormation
        // says on the primary interface.
        let differs = public.is_some_and(|p| Some(p) != self.subnet_maps_public_ip(&subnet));
        if differs || !secondary.is_empty() {
            let mut nic = Map::new();
            nic.insert("DeviceIndex".into(), json!(0));
            nic.insert("SubnetId".into(), subnet);
            if let Some(public) = public {
                nic.insert("AssociatePublicIpAddress".into(), json!(public));
            }
            nic.insert("GroupSet".into(), Value::Array(groups));
            let mut addresses = Vec::new();
            if let Some(a) = p.remove("PrivateIpAddress") {
                addresses.push(json!({"PrivateIpAddress": a, "Primary": true}));
            }
            for a in secondary {
                addresses.push(json!({"PrivateIpAddress": a, "Primary": false}));
            }
            if !addresses.is_empty() {
                nic.insert("PrivateIpAddresses".into(), Value::Array(addresses));
            }
            p.insert("NetworkInterfaces".into(), json!([nic]));
        } else {
            p.insert("SubnetId".into(), subnet);
            if !groups.is_empty() {
                p.insert("SecurityGroupIds".into(), Value::Array(groups));
            }
        }
        self.emit(&r.address, "AWS::EC2::Instance", Some(Value::Object(p)));
        Ok(())
    }

    /// `map_public_ip_on_launch` of the subnet a reference names, when known.
    fn subnet_maps_public_ip(&self, subnet: &Value) -> Option<bool> {
        let address = subnet.get("Ref")?.as_str()?;
        let s = &self.resources[*self.by_address.get(address)?];
        Some(
            s.get("map_public_ip_on_launch")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        )
    }

    pub(super) fn network_interface(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        p.insert("SubnetId".into(), self.required_reference(r, "subnet_id")?);
        copy(&mut p, r, "source_dest_check", "SourceDestCheck");
        let mut groups = self.reference_list(r, &r.attr("security_groups"))?;
        for g in self.take_folded(r, "GroupSet") {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        if !groups.is_empty() {
            p.insert("GroupSet".into(), Value::Array(groups));
        }
        // `private_ips` is a set; `private_ip` says which one is primary.
        let primary = r.str("private_ip").map(str::to_string);
        let mut ips: Vec<String> = r
            .get("private_ips")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        if let Some(primary) = &primary {
            ips.retain(|a| a != primary);
            ips.insert(0, primary.clone());
        }
        match ips.len() {
            0 => {}
            1 => {
                p.insert("PrivateIpAddress".into(), json!(ips[0]));
            }
            _ => {
                let list: Vec<Value> = ips
                    .iter()
                    .enumerate()
                    .map(|(i, a)| json!({"PrivateIpAddress": a, "Primary": i == 0}))
                    .collect();
                p.insert("PrivateIpAddresses".into(), Value::Array(list));
            }
        }
        copy_ipv6_addresses(&mut p, r);
        self.emit(
            &r.address,
            "AWS::EC2::NetworkInterface",
            Some(Value::Object(p)),
        );
        // The inline `attachment` also shows an `aws_network_interface_attachment` after a
        // refresh; that one is loaded from its own resource.
        let attachments = r.get("attachment").and_then(Value::as_array).cloned();
        if self.attached_by_resource(r) {
            return Ok(());
        }
        for (i, a) in attachments.iter().flatten().enumerate() {
            let instance = self.reference(r, &r.nested("attachment", i, a, "instance"))?;
            let Some(instance) = instance else { continue };
            let device = a.get("device_index").cloned().unwrap_or(json!(1));
            let p = json!({
                "InstanceId": instance,
                "NetworkInterfaceId": {"Ref": r.address},
                "DeviceIndex": device,
            });
            let lid = format!("{}.{}", r.address, path("attachment", i));
            self.emit(&lid, "AWS::EC2::NetworkInterfaceAttachment", Some(p));
        }
        Ok(())
    }

    fn attached_by_resource(&self, eni: &Res) -> bool {
        let Some(id) = eni.str("id") else {
            return false;
        };
        self.resources.iter().any(|x| {
            x.type_ == "aws_network_interface_attachment"
                && x.str("network_interface_id") == Some(id)
        })
    }

    pub(super) fn network_interface_attachment(&mut self, r: &Res) -> Result<(), Failed> {
        let instance = self.required_reference(r, "instance_id")?;
        let eni = self.required_reference(r, "network_interface_id")?;
        let device = self.required(r, "device_index")?.clone();
        let p = json!({"InstanceId": instance, "NetworkInterfaceId": eni, "DeviceIndex": device});
        self.emit(&r.address, "AWS::EC2::NetworkInterfaceAttachment", Some(p));
        Ok(())
    }
}

/// `ipv6_addresses` as CloudFormation's `Ipv6Addresses` list, when there are any.
fn copy_ipv6_addresses(p: &mut Map<String, Value>, r: &Res) {
    if let Some(v6) = r.get("ipv6_addresses").and_then(Value::as_array) {
        let list: Vec<Value> = v6
            .iter()
            .filter_map(Value::as_str)
            .map(|a| json!({"Ipv6Address": a}))
            .collect();
        if !list.is_empty() {
            p.insert("Ipv6Addresses".into(), Value::Array(list));
        }
    }
}
