//! VPCs, subnets, gateways, route tables and routes, NAT gateways, Elastic IPs and peering.

use super::refs::Failed;
use super::*;

/// Terraform route target attributes and the CloudFormation `AWS::EC2::Route` properties.
const ROUTE_TARGETS: &[(&str, &str)] = &[
    ("gateway_id", "GatewayId"),
    ("nat_gateway_id", "NatGatewayId"),
    ("network_interface_id", "NetworkInterfaceId"),
    ("instance_id", "InstanceId"),
    ("transit_gateway_id", "TransitGatewayId"),
    ("vpc_peering_connection_id", "VpcPeeringConnectionId"),
    ("egress_only_gateway_id", "EgressOnlyInternetGatewayId"),
    ("vpc_endpoint_id", "VpcEndpointId"),
    ("carrier_gateway_id", "CarrierGatewayId"),
    ("local_gateway_id", "LocalGatewayId"),
    ("core_network_arn", "CoreNetworkArn"),
];

/// Terraform route destination attributes and their CloudFormation properties.
const ROUTE_DESTINATIONS: &[(&str, &str)] = &[
    ("destination_cidr_block", "DestinationCidrBlock"),
    ("destination_ipv6_cidr_block", "DestinationIpv6CidrBlock"),
    ("destination_prefix_list_id", "DestinationPrefixListId"),
];

impl Tx {
    pub(super) fn vpc(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        let cidr = self.required(r, "cidr_block")?.clone();
        p.insert("CidrBlock".into(), cidr);
        copy(&mut p, r, "enable_dns_support", "EnableDnsSupport");
        copy(&mut p, r, "enable_dns_hostnames", "EnableDnsHostnames");
        self.emit(&r.address, "AWS::EC2::VPC", Some(Value::Object(p)));
        let amazon_v6 = r.get("assign_generated_ipv6_cidr_block") == Some(&json!(true));
        // A state knows the block Amazon gave; a plan only that one is asked for.
        if let Some(v6) = r.str("ipv6_cidr_block") {
            let p = json!({"VpcId": {"Ref": r.address}, "Ipv6CidrBlock": v6});
            self.emit(&v6_block(&r.address), "AWS::EC2::VPCCidrBlock", Some(p));
        } else if amazon_v6 {
            let p = json!({"VpcId": {"Ref": r.address}, "AmazonProvidedIpv6CidrBlock": true});
            self.emit(&v6_block(&r.address), "AWS::EC2::VPCCidrBlock", Some(p));
        }
        Ok(())
    }

    pub(super) fn vpc_cidr_block(&mut self, r: &Res) -> Result<(), Failed> {
        let vpc = self.required_reference(r, "vpc_id")?;
        let cidr = self.required(r, "cidr_block")?.clone();
        let p = json!({"VpcId": vpc, "CidrBlock": cidr});
        self.emit(&r.address, "AWS::EC2::VPCCidrBlock", Some(p));
        Ok(())
    }

    pub(super) fn subnet(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        let vpc = self.required_reference(r, "vpc_id")?;
        copy(&mut p, r, "cidr_block", "CidrBlock");
        copy(&mut p, r, "ipv6_cidr_block", "Ipv6CidrBlock");
        copy(&mut p, r, "availability_zone", "AvailabilityZone");
        copy(&mut p, r, "map_public_ip_on_launch", "MapPublicIpOnLaunch");
        copy(
            &mut p,
            r,
            "assign_ipv6_address_on_creation",
            "AssignIpv6AddressOnCreation",
        );
        if r.get("ipv6_native") == Some(&json!(true)) {
            p.insert("Ipv6Native".into(), json!(true));
        }
        // A subnet's IPv6 block comes from the VPC's, which is a resource of its own.
        let mut depends_on = Vec::new();
        if p.contains_key("Ipv6CidrBlock") {
            if let Some(vpc_address) = vpc.get("Ref").and_then(Value::as_str) {
                let block = v6_block(vpc_address);
                if self.out.contains_key(&block) {
                    depends_on.push(block);
                }
            }
        }
        p.insert("VpcId".into(), vpc);
        if !p.contains_key("CidrBlock") && r.is_unknown("cidr_block") {
            return Err(self.error(
                r,
                "InvalidTerraform.UnknownValue",
                "cidr_block is known only after apply; vpcsim needs it to simulate the subnet",
            ));
        }
        self.emit_after(&r.address, "AWS::EC2::Subnet", p, depends_on);
        Ok(())
    }

    pub(super) fn internet_gateway(&mut self, r: &Res) -> Result<(), Failed> {
        let vpc = self.reference(r, &r.attr("vpc_id"))?;
        let p = props_with_tags(r);
        self.emit(
            &r.address,
            "AWS::EC2::InternetGateway",
            Some(Value::Object(p)),
        );
        if let Some(vpc) = vpc {
            let p = json!({"VpcId": vpc, "InternetGatewayId": {"Ref": r.address}});
            let lid = format!("{}.vpc_id", r.address);
            self.emit(&lid, "AWS::EC2::VPCGatewayAttachment", Some(p));
        }
        Ok(())
    }

    pub(super) fn internet_gateway_attachment(&mut self, r: &Res) -> Result<(), Failed> {
        let vpc = self.required_reference(r, "vpc_id")?;
        let igw = self.required_reference(r, "internet_gateway_id")?;
        let p = json!({"VpcId": vpc, "InternetGatewayId": igw});
        self.emit(&r.address, "AWS::EC2::VPCGatewayAttachment", Some(p));
        Ok(())
    }

    pub(super) fn egress_only_gateway(&mut self, r: &Res) -> Result<(), Failed> {
        let vpc = self.required_reference(r, "vpc_id")?;
        let p = json!({"VpcId": vpc});
        self.emit(&r.address, "AWS::EC2::EgressOnlyInternetGateway", Some(p));
        Ok(())
    }

    pub(super) fn route_table(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        p.insert("VpcId".into(), self.required_reference(r, "vpc_id")?);
        self.emit(&r.address, "AWS::EC2::RouteTable", Some(Value::Object(p)));
        let routes = r.get("route").and_then(Value::as_array).cloned();
        for (i, route) in routes.iter().flatten().enumerate() {
            // After a refresh, a table's `route` also lists the routes of `aws_route`
            // resources; those are loaded from their own resource.
            if self.declared_by_route_resource(r, route) {
                continue;
            }
            let lid = format!("{}.{}", r.address, path("route", i));
            let mut rp = Map::new();
            rp.insert("RouteTableId".into(), json!({"Ref": r.address}));
            let dest = [
                ("cidr_block", "DestinationCidrBlock"),
                ("ipv6_cidr_block", "DestinationIpv6CidrBlock"),
                ("destination_prefix_list_id", "DestinationPrefixListId"),
            ];
            for (key, prop) in dest {
                if let Some(v) = route
                    .get(key)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                {
                    rp.insert(prop.into(), json!(v));
                }
            }
            if !self.route_targets(r, &mut rp, |key| r.nested("route", i, route, key))? {
                continue;
            }
            self.emit(&lid, "AWS::EC2::Route", Some(Value::Object(rp)));
        }
        let vgws = self.reference_list(r, &r.attr("propagating_vgws"))?;
        for (k, vgw) in vgws.into_iter().enumerate() {
            let p = json!({"VpnGatewayId": vgw, "RouteTableIds": [{"Ref": r.address}]});
            let lid = format!("{}.{}", r.address, path("propagating_vgws", k));
            self.emit(&lid, "AWS::EC2::VPNGatewayRoutePropagation", Some(p));
        }
        Ok(())
    }

    /// Whether an inline route of a table is also an `aws_route` of this file.
    fn declared_by_route_resource(&self, table: &Res, route: &Value) -> bool {
        let Some(table_id) = table.str("id") else {
            return false;
        };
        let dest = [
            "cidr_block",
            "ipv6_cidr_block",
            "destination_prefix_list_id",
        ]
        .iter()
        .find_map(|k| {
            route
                .get(*k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        });
        self.resources.iter().any(|x| {
            x.type_ == "aws_route"
                && x.str("route_table_id") == Some(table_id)
                && ROUTE_DESTINATIONS
                    .iter()
                    .find_map(|(k, _)| x.str(k))
                    .is_some_and(|d| Some(d) == dest)
        })
    }

    /// Route targets into `p`; `false` for a route to `local` (the VPC's own route, implicit).
    fn route_targets<'r>(
        &mut self,
        r: &'r Res,
        p: &mut Map<String, Value>,
        attr: impl Fn(&str) -> super::refs::Attr<'r>,
    ) -> Result<bool, Failed> {
        for (key, prop) in ROUTE_TARGETS {
            let a = attr(key);
            if a.value.and_then(Value::as_str) == Some("local") {
                return Ok(false);
            }
            if let Some(v) = self.reference(r, &a)? {
                p.insert((*prop).into(), v);
            }
        }
        Ok(true)
    }

    pub(super) fn route(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = Map::new();
        p.insert(
            "RouteTableId".into(),
            self.required_reference(r, "route_table_id")?,
        );
        for (key, prop) in ROUTE_DESTINATIONS {
            if *key == "destination_prefix_list_id" {
                if let Some(v) = self.reference_or_literal(r, key)? {
                    p.insert((*prop).into(), v);
                }
            } else {
                copy(&mut p, r, key, prop);
            }
        }
        let firewall = self.firewall_endpoint_target(r);
        let attr = |key: &str| match &firewall {
            Some(_) if key == "vpc_endpoint_id" => super::refs::Attr {
                name: key.into(),
                value: None,
                unknown: None,
                expr: None,
            },
            _ => r.attr(key),
        };
        if let Some(endpoint) = firewall.clone() {
            p.insert("VpcEndpointId".into(), endpoint);
        }
        if self.route_targets(r, &mut p, attr)? {
            self.emit(&r.address, "AWS::EC2::Route", Some(Value::Object(p)));
        }
        Ok(())
    }

    /// An id that may name a resource of the file or one AWS manages (`pl-…` of a service).
    pub(super) fn reference_or_literal(
        &mut self,
        r: &Res,
        key: &str,
    ) -> Result<Option<Value>, Failed> {
        match r.str(key) {
            Some(id) if !self.by_id.contains_key(id) => Ok(Some(json!(id))),
            _ => self.reference(r, &r.attr(key)),
        }
    }

    pub(super) fn route_table_association(&mut self, r: &Res) -> Result<(), Failed> {
        let table = self.required_reference(r, "route_table_id")?;
        if let Some(subnet) = self.reference(r, &r.attr("subnet_id"))? {
            let p = json!({"SubnetId": subnet, "RouteTableId": table});
            self.emit(&r.address, "AWS::EC2::SubnetRouteTableAssociation", Some(p));
        } else if let Some(gateway) = self.reference(r, &r.attr("gateway_id"))? {
            let p = json!({"GatewayId": gateway, "RouteTableId": table});
            self.emit(
                &r.address,
                "AWS::EC2::GatewayRouteTableAssociation",
                Some(p),
            );
        } else {
            return Err(self.error(
                r,
                "InvalidTerraform.MissingAttribute",
                "neither subnet_id nor gateway_id is set",
            ));
        }
        Ok(())
    }

    pub(super) fn nat_gateway(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        p.insert("SubnetId".into(), self.required_reference(r, "subnet_id")?);
        if let Some(a) = self.reference(r, &r.attr("allocation_id"))? {
            p.insert("AllocationId".into(), a);
        }
        copy(&mut p, r, "connectivity_type", "ConnectivityType");
        copy(&mut p, r, "private_ip", "PrivateIpAddress");
        let secondary = self.reference_list(r, &r.attr("secondary_allocation_ids"))?;
        if !secondary.is_empty() {
            p.insert("SecondaryAllocationIds".into(), Value::Array(secondary));
        }
        if let Some(ips) = r
            .get("secondary_private_ip_addresses")
            .and_then(Value::as_array)
        {
            if !ips.is_empty() && p.contains_key("SecondaryAllocationIds") {
                p.insert("SecondaryPrivateIpAddresses".into(), json!(ips));
            }
        }
        self.emit(&r.address, "AWS::EC2::NatGateway", Some(Value::Object(p)));
        Ok(())
    }

    pub(super) fn eip(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        p.insert("Domain".into(), json!("vpc"));
        copy(&mut p, r, "public_ip", "Address");
        // `instance` and `network_interface` also show an association made by an
        // `aws_eip_association` (or a NAT gateway's interface): those come from their resource.
        let associated_elsewhere = self.eip_associated_elsewhere(r);
        let known = |key: &str| {
            r.str(key)
                .and_then(|id| self.by_id.get(id).copied())
                .map(|t| self.ref_to(t))
        };
        let instance = known("instance");
        let eni = known("network_interface");
        let configured_instance = if instance.is_none() && r.str("instance").is_none() {
            self.reference(r, &r.attr("instance"))?
        } else {
            None
        };
        let configured_eni = if eni.is_none() && r.str("network_interface").is_none() {
            self.reference(r, &r.attr("network_interface"))?
        } else {
            None
        };
        let instance = instance
            .or(configured_instance)
            .filter(|_| !associated_elsewhere);
        let eni = eni.or(configured_eni).filter(|_| !associated_elsewhere);
        if let (Some(i), None) = (&instance, &eni) {
            p.insert("InstanceId".into(), i.clone());
        }
        self.emit(&r.address, "AWS::EC2::EIP", Some(Value::Object(p)));
        if let Some(eni) = eni {
            let mut a = Map::new();
            a.insert(
                "AllocationId".into(),
                json!({"Fn::GetAtt": [r.address, "AllocationId"]}),
            );
            a.insert("NetworkInterfaceId".into(), eni);
            copy(&mut a, r, "associate_with_private_ip", "PrivateIpAddress");
            let lid = format!("{}.network_interface", r.address);
            self.emit(&lid, "AWS::EC2::EIPAssociation", Some(Value::Object(a)));
        }
        Ok(())
    }

    fn eip_associated_elsewhere(&self, eip: &Res) -> bool {
        let local = eip
            .address
            .strip_prefix(&eip.module)
            .unwrap_or(&eip.address)
            .trim_start_matches('.');
        let local = local.split('[').next().unwrap_or(local);
        self.resources.iter().any(|x| {
            x.type_ == "aws_eip_association"
                && x.module == eip.module
                && (eip
                    .str("id")
                    .is_some_and(|id| x.str("allocation_id") == Some(id))
                    || x.attr("allocation_id").expr.is_some_and(|e| {
                        e.get("references")
                            .and_then(Value::as_array)
                            .is_some_and(|refs| refs.iter().any(|s| s == local))
                    }))
        })
    }

    pub(super) fn eip_association(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = Map::new();
        p.insert(
            "AllocationId".into(),
            self.required_reference(r, "allocation_id")?,
        );
        if let Some(i) = self.reference(r, &r.attr("instance_id"))? {
            p.insert("InstanceId".into(), i);
        }
        if let Some(e) = self.reference(r, &r.attr("network_interface_id"))? {
            p.insert("NetworkInterfaceId".into(), e);
        }
        copy(&mut p, r, "private_ip_address", "PrivateIpAddress");
        self.emit(
            &r.address,
            "AWS::EC2::EIPAssociation",
            Some(Value::Object(p)),
        );
        Ok(())
    }

    pub(super) fn peering(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        p.insert("VpcId".into(), self.required_reference(r, "vpc_id")?);
        p.insert(
            "PeerVpcId".into(),
            self.required_reference(r, "peer_vpc_id")?,
        );
        copy(&mut p, r, "peer_owner_id", "PeerOwnerId");
        copy(&mut p, r, "peer_region", "PeerRegion");
        self.emit(
            &r.address,
            "AWS::EC2::VPCPeeringConnection",
            Some(Value::Object(p)),
        );
        Ok(())
    }

    /// The accepter of a connection the file holds adds nothing: vpcsim's peerings are active
    /// once created. References to it name the connection ([`Tx::ref_to`]).
    pub(super) fn peering_accepter(&mut self, r: &Res) -> Result<(), Failed> {
        match self.reference(r, &r.attr("vpc_peering_connection_id"))? {
            Some(_) => Ok(()),
            None => Err(self.error(
                r,
                "InvalidTerraform.MissingAttribute",
                "vpc_peering_connection_id is missing",
            )),
        }
    }

    /// [`Tx::emit`] with `DependsOn`.
    pub(super) fn emit_after(
        &mut self,
        logical_id: &str,
        kind: &str,
        props: Map<String, Value>,
        depends_on: Vec<String>,
    ) {
        self.emit(logical_id, kind, Some(Value::Object(props)));
        if !depends_on.is_empty() {
            if let Some(Value::Object(decl)) = self.out.get_mut(logical_id) {
                decl.insert("DependsOn".into(), json!(depends_on));
            }
        }
    }
}

/// The name of the IPv6 block resource of a VPC.
fn v6_block(vpc: &str) -> String {
    format!("{vpc}.ipv6_cidr_block")
}
