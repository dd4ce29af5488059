//! Transit gateways, their attachments, route tables and routes; virtual private gateways,
//! customer gateways and Site-to-Site VPN connections.

use super::refs::Failed;
use super::*;

/// The Terraform types of this module.
pub(super) const TYPES: &[&str] = &[
    "aws_ec2_transit_gateway",
    "aws_ec2_transit_gateway_vpc_attachment",
    "aws_ec2_transit_gateway_route_table",
    "aws_ec2_transit_gateway_route",
    "aws_ec2_transit_gateway_route_table_association",
    "aws_ec2_transit_gateway_route_table_propagation",
    "aws_ec2_transit_gateway_peering_attachment",
    "aws_ec2_transit_gateway_peering_attachment_accepter",
    "aws_vpn_gateway",
    "aws_vpn_gateway_attachment",
    "aws_vpn_gateway_route_propagation",
    "aws_customer_gateway",
    "aws_vpn_connection",
    "aws_vpn_connection_route",
];

impl Tx {
    pub(super) fn transit(&mut self, r: &Res) -> Result<(), Failed> {
        match r.type_.as_str() {
            "aws_ec2_transit_gateway" => {
                let mut p = props_with_tags(r);
                copy(
                    &mut p,
                    r,
                    "default_route_table_association",
                    "DefaultRouteTableAssociation",
                );
                copy(
                    &mut p,
                    r,
                    "default_route_table_propagation",
                    "DefaultRouteTablePropagation",
                );
                self.emit(
                    &r.address,
                    "AWS::EC2::TransitGateway",
                    Some(Value::Object(p)),
                );
            }
            "aws_ec2_transit_gateway_vpc_attachment" => self.tgw_vpc_attachment(r)?,
            "aws_ec2_transit_gateway_route_table" => {
                let mut p = props_with_tags(r);
                let tgw = self.required_reference(r, "transit_gateway_id")?;
                p.insert("TransitGatewayId".into(), tgw);
                let kind = "AWS::EC2::TransitGatewayRouteTable";
                self.emit(&r.address, kind, Some(Value::Object(p)));
            }
            "aws_ec2_transit_gateway_route" => {
                let mut p = Map::new();
                let table = self.required_reference(r, "transit_gateway_route_table_id")?;
                p.insert("TransitGatewayRouteTableId".into(), table);
                let cidr = self.required(r, "destination_cidr_block")?.clone();
                p.insert("DestinationCidrBlock".into(), cidr);
                copy(&mut p, r, "blackhole", "Blackhole");
                let attachment = self.reference(r, &r.attr("transit_gateway_attachment_id"))?;
                if let Some(a) = attachment {
                    p.insert("TransitGatewayAttachmentId".into(), a);
                }
                let kind = "AWS::EC2::TransitGatewayRoute";
                self.emit(&r.address, kind, Some(Value::Object(p)));
            }
            "aws_ec2_transit_gateway_route_table_association" => {
                let p = self.tgw_table_link(r)?;
                let kind = "AWS::EC2::TransitGatewayRouteTableAssociation";
                self.emit(&r.address, kind, Some(p));
            }
            "aws_ec2_transit_gateway_route_table_propagation" => {
                let p = self.tgw_table_link(r)?;
                let kind = "AWS::EC2::TransitGatewayRouteTablePropagation";
                self.emit(&r.address, kind, Some(p));
            }
            "aws_ec2_transit_gateway_peering_attachment" => self.tgw_peering(r)?,
            // The accepter adds nothing to the model: a peering of two transit gateways of the
            // loaded files is accepted already. It must name its attachment.
            "aws_ec2_transit_gateway_peering_attachment_accepter" => {
                self.required_reference(r, "transit_gateway_attachment_id")?;
            }
            "aws_vpn_gateway" => {
                let vpc = self.reference(r, &r.attr("vpc_id"))?;
                let mut p = props_with_tags(r);
                p.insert("Type".into(), json!("ipsec.1"));
                copy(&mut p, r, "amazon_side_asn", "AmazonSideAsn");
                self.emit(&r.address, "AWS::EC2::VPNGateway", Some(Value::Object(p)));
                if let Some(vpc) = vpc {
                    let p = json!({"VpcId": vpc, "VpnGatewayId": {"Ref": r.address}});
                    let lid = format!("{}.vpc_id", r.address);
                    self.emit(&lid, "AWS::EC2::VPCGatewayAttachment", Some(p));
                }
            }
            "aws_vpn_gateway_attachment" => {
                let vpc = self.required_reference(r, "vpc_id")?;
                let vgw = self.required_reference(r, "vpn_gateway_id")?;
                let p = json!({"VpcId": vpc, "VpnGatewayId": vgw});
                self.emit(&r.address, "AWS::EC2::VPCGatewayAttachment", Some(p));
            }
            "aws_vpn_gateway_route_propagation" => {
                let vgw = self.required_reference(r, "vpn_gateway_id")?;
                let table = self.required_reference(r, "route_table_id")?;
                let p = json!({"VpnGatewayId": vgw, "RouteTableIds": [table]});
                self.emit(&r.address, "AWS::EC2::VPNGatewayRoutePropagation", Some(p));
            }
            "aws_customer_gateway" => {
                let mut p = props_with_tags(r);
                let ip = self.required(r, "ip_address")?.clone();
                p.insert("IpAddress".into(), ip);
                copy(&mut p, r, "bgp_asn", "BgpAsn");
                p.insert("Type".into(), json!("ipsec.1"));
                let kind = "AWS::EC2::CustomerGateway";
                self.emit(&r.address, kind, Some(Value::Object(p)));
            }
            "aws_vpn_connection" => self.vpn_connection(r)?,
            "aws_vpn_connection_route" => {
                let vpn = self.required_reference(r, "vpn_connection_id")?;
                let cidr = self.required(r, "destination_cidr_block")?.clone();
                let p = json!({"VpnConnectionId": vpn, "DestinationCidrBlock": cidr});
                self.emit(&r.address, "AWS::EC2::VPNConnectionRoute", Some(p));
            }
            _ => {}
        }
        Ok(())
    }

    fn tgw_vpc_attachment(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        let tgw = self.required_reference(r, "transit_gateway_id")?;
        p.insert("TransitGatewayId".into(), tgw);
        p.insert("VpcId".into(), self.required_reference(r, "vpc_id")?);
        let subnets = self.reference_list(r, &r.attr("subnet_ids"))?;
        p.insert("SubnetIds".into(), Value::Array(subnets));
        if let Some(mode) = r.str("appliance_mode_support") {
            p.insert("Options".into(), json!({"ApplianceModeSupport": mode}));
        }
        // CloudFormation has only the transit gateway's defaults; an attachment that opts out
        // is loaded with them, which `aws_ec2_transit_gateway_route_table_association` may
        // then contradict.
        for key in [
            "transit_gateway_default_route_table_association",
            "transit_gateway_default_route_table_propagation",
        ] {
            if r.get(key) == Some(&json!(false)) {
                self.diags.push(Diagnostic {
                    severity: Severity::Warning,
                    file: self.file.clone(),
                    logical_id: Some(r.address.clone()),
                    code: "UnsupportedAttribute".into(),
                    message: format!(
                        "{key} = false is not simulated: the transit gateway's default applies"
                    ),
                });
            }
        }
        let kind = "AWS::EC2::TransitGatewayVpcAttachment";
        self.emit(&r.address, kind, Some(Value::Object(p)));
        Ok(())
    }

    /// `aws_ec2_transit_gateway_peering_attachment`. A peer transit gateway outside the file
    /// keeps its id, so the model builder can tell it is not simulated.
    fn tgw_peering(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        let tgw = self.required_reference(r, "transit_gateway_id")?;
        p.insert("TransitGatewayId".into(), tgw);
        let peer = match r.str("peer_transit_gateway_id") {
            Some(id) if self.target_of_id(id).is_none() => json!(id),
            _ => self.required_reference(r, "peer_transit_gateway_id")?,
        };
        p.insert("PeerTransitGatewayId".into(), peer);
        copy(&mut p, r, "peer_region", "PeerRegion");
        copy(&mut p, r, "peer_account_id", "PeerAccountId");
        let kind = "AWS::EC2::TransitGatewayPeeringAttachment";
        self.emit(&r.address, kind, Some(Value::Object(p)));
        Ok(())
    }

    /// `TransitGatewayAttachmentId` and `TransitGatewayRouteTableId` of an association or
    /// propagation.
    fn tgw_table_link(&mut self, r: &Res) -> Result<Value, Failed> {
        let attachment = self.required_reference(r, "transit_gateway_attachment_id")?;
        let table = self.required_reference(r, "transit_gateway_route_table_id")?;
        Ok(json!({
            "TransitGatewayAttachmentId": attachment,
            "TransitGatewayRouteTableId": table,
        }))
    }

    fn vpn_connection(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        let cgw = self.required_reference(r, "customer_gateway_id")?;
        p.insert("CustomerGatewayId".into(), cgw);
        if let Some(v) = self.reference(r, &r.attr("vpn_gateway_id"))? {
            p.insert("VpnGatewayId".into(), v);
        }
        if let Some(t) = self.reference(r, &r.attr("transit_gateway_id"))? {
            p.insert("TransitGatewayId".into(), t);
        }
        copy(&mut p, r, "static_routes_only", "StaticRoutesOnly");
        p.insert("Type".into(), json!("ipsec.1"));
        self.emit(
            &r.address,
            "AWS::EC2::VPNConnection",
            Some(Value::Object(p)),
        );
        Ok(())
    }
}
