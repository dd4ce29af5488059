//! What the JSON of describe-* output must look like before it is read: no duplicate keys, and
//! the fields the reader uses of the JSON type AWS returns. A snapshot edited by hand (or by a
//! script) that breaks either is refused with a coded error naming the file, the resource and
//! the field, as templates are, instead of being read half-way.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Parse JSON like `serde_json::from_slice`, but refuse an object with a key twice (serde_json
/// keeps the last silently; AWS never prints one, so one copy is an editing mistake).
pub(super) fn parse_strict(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = de.deserialize_any(StrictValue)?;
    de.end()?;
    Ok(v)
}

struct StrictValue;

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictValue)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Seed)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let v = map.next_value_seed(Seed)?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

struct Seed;

impl<'de> de::DeserializeSeed<'de> for Seed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictValue)
    }
}

/// The JSON type AWS returns for a field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Num,
    Bool,
    List,
    Obj,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Str => "a string",
            Kind::Num => "a number",
            Kind::Bool => "true or false",
            Kind::List => "a list",
            Kind::Obj => "an object",
        }
    }

    fn matches(self, v: &Value) -> bool {
        matches!(
            (self, v),
            (Kind::Str, Value::String(_))
                | (Kind::Num, Value::Number(_))
                | (Kind::Bool, Value::Bool(_))
                | (Kind::List, Value::Array(_))
                | (Kind::Obj, Value::Object(_))
        )
    }
}

/// Fields the reader uses whose type is the same wherever they appear in describe-* output.
fn kind_of(key: &str) -> Option<Kind> {
    Some(match key {
        "VpcId"
        | "SubnetId"
        | "GroupId"
        | "CidrBlock"
        | "CidrIp"
        | "CidrIpv6"
        | "DestinationCidrBlock"
        | "DestinationIpv6CidrBlock"
        | "GatewayId"
        | "NatGatewayId"
        | "NetworkInterfaceId"
        | "InstanceId"
        | "RouteTableId"
        | "NetworkAclId"
        | "PrivateIpAddress"
        | "VpcPeeringConnectionId"
        | "TransitGatewayId"
        | "RuleAction"
        | "InternetGatewayId"
        | "EgressOnlyInternetGatewayId"
        | "AllocationId"
        | "PublicIp" => Kind::Str,
        "FromPort" | "ToPort" | "RuleNumber" | "DeviceIndex" | "From" | "To" => Kind::Num,
        "IsDefault" | "Main" | "Egress" | "MapPublicIpOnLaunch" | "SourceDestCheck" | "Primary" => {
            Kind::Bool
        }
        "Routes"
        | "Associations"
        | "Entries"
        | "IpPermissions"
        | "IpPermissionsEgress"
        | "IpRanges"
        | "Ipv6Ranges"
        | "UserIdGroupPairs"
        | "PrefixListIds"
        | "NetworkInterfaces"
        | "Groups"
        | "PrivateIpAddresses"
        | "Ipv6Addresses"
        | "Tags"
        | "Attachments"
        | "CidrBlockAssociationSet"
        | "NatGatewayAddresses" => Kind::List,
        "PortRange" | "Attachment" => Kind::Obj,
        _ => return None,
    })
}

/// The first field of a describe-* entry (at any depth) whose JSON type is not what AWS
/// returns: its path (`IpPermissions[0].FromPort`) and what was expected. `instance`: the
/// entry is an instance, whose `State` is an object (`{"Code": 16, "Name": "running"}`).
pub(super) fn wrong_type(entry: &Value, instance: bool) -> Option<(String, &'static str)> {
    if instance {
        if let Some(state) = entry.get("State") {
            if !state.is_object() {
                return Some(("State".into(), Kind::Obj.name()));
            }
        }
    }
    let mut path = String::new();
    walk(entry, &mut path, 0)
}

/// Depth beyond which nothing the reader uses is nested.
const MAX_DEPTH: usize = 8;

fn walk(v: &Value, path: &mut String, depth: usize) -> Option<(String, &'static str)> {
    if depth > MAX_DEPTH {
        return None;
    }
    let len = path.len();
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                if let Some(kind) = kind_of(k) {
                    // `null` is how some exporters print an absent field.
                    if !x.is_null() && !kind.matches(x) {
                        return Some((path.clone(), kind.name()));
                    }
                }
                if let Some(found) = walk(x, path, depth + 1) {
                    return Some(found);
                }
                path.truncate(len);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push_str(&format!("[{i}]"));
                if let Some(found) = walk(x, path, depth + 1) {
                    return Some(found);
                }
                path.truncate(len);
            }
        }
        _ => {}
    }
    None
}

/// The field holding the AWS id of an entry of top-level list `key`.
pub(super) fn id_field(key: &str) -> &'static str {
    match key {
        "Vpcs" => "VpcId",
        "Subnets" => "SubnetId",
        "RouteTables" => "RouteTableId",
        "NetworkAcls" => "NetworkAclId",
        "SecurityGroups" => "GroupId",
        "Reservations" | "Instances" => "InstanceId",
        "NetworkInterfaces" => "NetworkInterfaceId",
        "InternetGateways" => "InternetGatewayId",
        "EgressOnlyInternetGateways" => "EgressOnlyInternetGatewayId",
        "NatGateways" => "NatGatewayId",
        "Addresses" => "AllocationId",
        "VpcPeeringConnections" => "VpcPeeringConnectionId",
        "PrefixLists" => "PrefixListId",
        "TransitGateways" => "TransitGatewayId",
        "TransitGatewayRouteTables"
        | "TransitGatewayPropagations"
        | "TransitGatewayStaticRoutes" => "TransitGatewayRouteTableId",
        "TransitGatewayVpcAttachments" | "TransitGatewayAttachments" => {
            "TransitGatewayAttachmentId"
        }
        "VpnGateways" => "VpnGatewayId",
        "CustomerGateways" => "CustomerGatewayId",
        "VpnConnections" => "VpnConnectionId",
        "VpcEndpoints" => "VpcEndpointId",
        "LoadBalancers" | "LoadBalancerAttributes" => "LoadBalancerArn",
        "TargetGroups" | "TargetGroupAttributes" | "LoadBalancerTargetHealth" => "TargetGroupArn",
        "HostedZones"
        | "HealthChecks"
        | "ResolverEndpoints"
        | "ResolverRules"
        | "ResolverRuleAssociations"
        | "FirewallDomainLists"
        | "FirewallRuleGroups"
        | "FirewallRuleGroupAssociations" => "Id",
        "FirewallDomainListDomains" => "FirewallDomainListId",
        "FirewallRules" => "FirewallRuleGroupId",
        "ResolverEndpointIpAddresses" => "ResolverEndpointId",
        "HostedZoneRecordSets" => "HostedZoneId",
        "VpcAttributes" => "VpcId",
        "AutoScalingGroups" => "AutoScalingGroupName",
        _ => "ListenerArn",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(parse_strict(br#"{"a": 1, "b": [{"c": 1}]}"#).is_ok());
        let e = parse_strict(br#"{"a": [{"c": 1, "c": 2}]}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate key \"c\""), "{e}");
        assert!(parse_strict(b"{} x").is_err());
    }

    #[test]
    fn wrong_types_are_found_with_their_path() {
        let sg = json!({"GroupId": "sg-1", "IpPermissions": [{"FromPort": "443", "ToPort": 443}]});
        assert_eq!(
            wrong_type(&sg, false),
            Some(("IpPermissions[0].FromPort".into(), "a number"))
        );
        let i = json!({"InstanceId": "i-1", "State": "running"});
        assert_eq!(wrong_type(&i, true), Some(("State".into(), "an object")));
        assert_eq!(wrong_type(&i, false), None);
        let ok = json!({"SubnetId": "s", "CidrBlock": null, "MapPublicIpOnLaunch": false});
        assert_eq!(wrong_type(&ok, false), None);
    }
}
