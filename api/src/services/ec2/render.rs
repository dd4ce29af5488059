//! Stored describe-* documents as EC2 XML.
//!
//! A document's keys are the API's member names (`VpcId`, `CidrBlockAssociationSet`); the wire
//! names are their `locationName`s, which are the member names with a lower-case first letter
//! except for the members listed in [`location_name`] (botocore's EC2 model: `Tags` is
//! `tagSet`, an instance's `State` is `instanceState`, ...). Lists are `<name><item>…</item></name>`.

use serde_json::Value;

use crate::xml::XmlWriter;

/// What kind of structure a member belongs to, where the wire name depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Any structure without special names.
    Plain,
    /// `SecurityGroup`.
    SecurityGroup,
    /// `NetworkAcl`.
    NetworkAcl,
    /// `Instance`.
    Instance,
    /// `AvailabilityZone`.
    AvailabilityZone,
    /// `Region`.
    Region,
    /// `VpcEndpoint`.
    VpcEndpoint,
}

/// The wire name of member `key` of a structure of shape `shape`.
pub fn location_name(shape: Shape, key: &str) -> String {
    let special = match (shape, key) {
        (Shape::SecurityGroup, "Description") => "groupDescription",
        (Shape::NetworkAcl, "IsDefault") => "default",
        (Shape::Instance, "SecurityGroups") => "groupSet",
        (Shape::Instance, "PublicDnsName") => "dnsName",
        (Shape::Instance, "PublicIpAddress") => "ipAddress",
        (Shape::Instance, "State") => "instanceState",
        (Shape::Instance, "StateTransitionReason") => "reason",
        (Shape::Instance, "BlockDeviceMappings") => "blockDeviceMapping",
        (Shape::AvailabilityZone, "State") => "zoneState",
        (Shape::Region, "Endpoint") => "regionEndpoint",
        (Shape::VpcEndpoint, "SubnetIds") => "subnetIdSet",
        (Shape::VpcEndpoint, "RouteTableIds") => "routeTableIdSet",
        (Shape::VpcEndpoint, "NetworkInterfaceIds") => "networkInterfaceIdSet",
        (Shape::VpcEndpoint, "DnsEntries") => "dnsEntrySet",
        (_, "VpcEndpoints") => "vpcEndpointSet",
        (_, "AccountAttributes") => "accountAttributeSet",
        (_, "Addresses") => "addressesSet",
        (_, "Associations") => "associationSet",
        (_, "Attachments") => "attachmentSet",
        (_, "AttributeValues") => "attributeValueSet",
        (_, "AvailabilityZones") => "availabilityZoneInfo",
        (_, "Entries") => "entrySet",
        (_, "Groups") => "groupSet",
        (_, "Instances") => "instancesSet",
        (_, "InternetGateways") => "internetGatewaySet",
        (_, "Ipv6Addresses") => "ipv6AddressesSet",
        (_, "NatGatewayAddresses") => "natGatewayAddressSet",
        (_, "NatGateways") => "natGatewaySet",
        (_, "NetworkAcls") => "networkAclSet",
        (_, "NetworkInterfaces") => "networkInterfaceSet",
        (_, "PrivateIpAddresses") => "privateIpAddressesSet",
        (_, "PropagatingVgws") => "propagatingVgwSet",
        (_, "Regions") => "regionInfo",
        (_, "Reservations") => "reservationSet",
        (_, "RevokedSecurityGroupRules") => "revokedSecurityGroupRuleSet",
        (_, "RouteTables") => "routeTableSet",
        (_, "Routes") => "routeSet",
        (_, "SecurityGroupRules") => "securityGroupRuleSet",
        (_, "SecurityGroups") => "securityGroupInfo",
        (_, "StartingInstances" | "StoppingInstances" | "TerminatingInstances") => "instancesSet",
        (_, "Subnets") => "subnetSet",
        (_, "Tags") => "tagSet",
        (_, "UserIdGroupPairs") => "groups",
        (_, "Vpcs") => "vpcSet",
        (_, "VpcPeeringConnections") => "vpcPeeringConnectionSet",
        (_, "TransitGateways") => "transitGatewaySet",
        (_, "PrefixLists") => "prefixListSet",
        (_, "Cidrs") => "cidrSet",
        _ => "",
    };
    if !special.is_empty() {
        return special.to_string();
    }
    let mut c = key.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The shape of the items of list `key`.
fn item_shape(key: &str) -> Shape {
    match key {
        "SecurityGroups" => Shape::SecurityGroup,
        "NetworkAcls" => Shape::NetworkAcl,
        "Instances" => Shape::Instance,
        "AvailabilityZones" => Shape::AvailabilityZone,
        "Regions" => Shape::Region,
        "VpcEndpoints" => Shape::VpcEndpoint,
        _ => Shape::Plain,
    }
}

/// Writes member `key` = `value` of a structure of shape `parent`. `null` members are left out.
pub fn member(w: &mut XmlWriter, parent: Shape, key: &str, value: &Value) {
    // An instance's groups are `GroupIdentifier`s, not security groups.
    let shape = if parent == Shape::Instance && key == "SecurityGroups" {
        Shape::Plain
    } else {
        item_shape(key)
    };
    let tag = location_name(parent, key);
    match value {
        Value::Null => {}
        Value::Array(items) => {
            w.element(&tag, |w| {
                for item in items {
                    w.element("item", |w| body(w, shape, item));
                }
            });
        }
        Value::Object(_) => {
            w.element(&tag, |w| body(w, shape, value));
        }
        Value::String(s) => {
            w.leaf(&tag, s);
        }
        other => {
            w.leaf(&tag, other);
        }
    }
}

/// Writes the members of a structure (or the text of a scalar list item).
pub fn body(w: &mut XmlWriter, shape: Shape, value: &Value) {
    match value {
        Value::Object(map) => {
            // `Vpcsim…` fields are the server's own bookkeeping, not part of the API.
            for (k, v) in map.iter().filter(|(k, _)| !k.starts_with("Vpcsim")) {
                member(w, shape, k, v);
            }
        }
        Value::String(s) => {
            w.raw(&crate::xml::escape(s));
        }
        Value::Null => {}
        other => {
            w.raw(&other.to_string());
        }
    }
}

/// One structure under `key` (`CreateVpc`'s `Vpc`), its shape taken from the member name.
pub fn single(key: &str, shape: Shape, value: &Value) -> String {
    let mut w = XmlWriter::new();
    w.element(&location_name(Shape::Plain, key), |w| body(w, shape, value));
    w.finish()
}

/// A list member (`Vpcs` → `<vpcSet><item>…`).
pub fn list(key: &str, items: &[Value]) -> String {
    let mut w = XmlWriter::new();
    member(&mut w, Shape::Plain, key, &Value::Array(items.to_vec()));
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_the_model() {
        let x = list(
            "Vpcs",
            &[
                json!({"VpcId": "vpc-1", "IsDefault": true, "Tags": [{"Key": "Name", "Value": "a<b"}]}),
            ],
        );
        assert_eq!(
            x,
            "<vpcSet><item><vpcId>vpc-1</vpcId><isDefault>true</isDefault><tagSet><item><key>Name</key><value>a&lt;b</value></item></tagSet></item></vpcSet>"
        );
        let g = list(
            "SecurityGroups",
            &[
                json!({"Description": "d", "IpPermissions": [{"UserIdGroupPairs": [{"GroupId": "sg-1"}]}]}),
            ],
        );
        assert!(g.contains("<groupDescription>d</groupDescription>"));
        assert!(g.contains("<groups><item><groupId>sg-1</groupId></item></groups>"));
        let i = single(
            "Instance",
            Shape::Instance,
            &json!({"State": {"Code": 16, "Name": "running"}, "SecurityGroups": [{"GroupId": "sg-1"}]}),
        );
        assert!(i.contains("<instanceState><code>16</code>"));
        assert!(i.contains("<groupSet><item><groupId>sg-1</groupId>"));
    }
}
