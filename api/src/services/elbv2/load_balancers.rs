//! `CreateLoadBalancer`, `DescribeLoadBalancers`, `DeleteLoadBalancer`, `SetSecurityGroups` and
//! the load balancer attributes.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};

use super::nodes::{self, NodeSpec};
use super::{
    check_name, err, hex_id, page, request_tags, validation, without_tags, Cx, LB_ATTRIBUTES,
    LISTENERS, LOAD_BALANCERS, RULES,
};
use crate::error::ApiError;
use crate::services::query_form::{list_of, parse_time, str_of};
use crate::store::{Store, Tx};

/// How long a new load balancer stays `provisioning` before it is `active` (clients' waiters
/// poll for `active`).
const PROVISIONING: Duration = Duration::from_secs(2);

/// Route 53 zones of load balancer DNS names (`CanonicalHostedZoneId`), application then
/// network, for the regions AWS's endpoint table lists them.
const HOSTED_ZONES: &[(&str, &str, &str)] = &[
    ("us-east-1", "Z35SXDOTRQ7X7K", "Z26RNL4JYFTOTI"),
    ("us-east-2", "Z3AADJGX6KTTL2", "ZLMOA37VPKANP"),
    ("us-west-1", "Z368ELLRRE2KJ0", "Z24FKFUX50B4VW"),
    ("us-west-2", "Z1H1FL5HABSF5", "Z18D5FSROUN65G"),
    ("eu-west-1", "Z32O12XQLNTSW2", "Z2IFOLAFXWLO4F"),
    ("eu-central-1", "Z215JYRZR1TBD5", "Z3F0SRJ5LGBH90"),
    ("ap-southeast-1", "Z1LMS91P8CMLE5", "ZKVM4W9LS7TM"),
    ("ap-northeast-1", "Z14GRHDCWA56QT", "Z31USIVHYNEOWT"),
];

/// The type's ARN segment (`app`, `net`, `gwy`) and its nodes' interface type.
fn type_parts(lb_type: &str) -> Option<(&'static str, &'static str)> {
    match lb_type {
        "application" => Some(("app", "interface")),
        "network" => Some(("net", "network_load_balancer")),
        "gateway" => Some(("gwy", "gateway_load_balancer")),
        _ => None,
    }
}

/// `ELB app/<name>/<id>`: the description of the load balancer's node interfaces.
pub(super) fn node_description(lb_arn: &str) -> String {
    lb_arn
        .split_once(":loadbalancer/")
        .map(|(_, tail)| format!("ELB {tail}"))
        .unwrap_or_default()
}

fn default_attributes(lb_type: &str) -> Vec<(&'static str, &'static str)> {
    let mut a = vec![
        ("deletion_protection.enabled", "false"),
        (
            "load_balancing.cross_zone.enabled",
            if lb_type == "application" {
                "true"
            } else {
                "false"
            },
        ),
    ];
    match lb_type {
        "application" => a.extend([
            ("access_logs.s3.enabled", "false"),
            ("access_logs.s3.bucket", ""),
            ("access_logs.s3.prefix", ""),
            ("idle_timeout.timeout_seconds", "60"),
            ("routing.http2.enabled", "true"),
            ("routing.http.drop_invalid_header_fields.enabled", "false"),
            ("routing.http.preserve_host_header.enabled", "false"),
            (
                "routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
                "false",
            ),
            ("routing.http.xff_client_port.enabled", "false"),
            ("routing.http.xff_header_processing.mode", "append"),
            ("routing.http.desync_mitigation_mode", "defensive"),
            ("waf.fail_open.enabled", "false"),
            ("client_keep_alive.seconds", "3600"),
        ]),
        "network" => a.extend([
            ("access_logs.s3.enabled", "false"),
            ("access_logs.s3.bucket", ""),
            ("access_logs.s3.prefix", ""),
            ("dns_record.client_routing_policy", "any_availability_zone"),
        ]),
        _ => {}
    }
    a
}

/// A stored load balancer as describe prints it at `now`.
pub(super) fn render(doc: &Value, now: std::time::SystemTime) -> Value {
    let mut v = without_tags(doc);
    let created = str_of(doc, "CreatedTime").and_then(parse_time);
    let provisioning = str_of(&doc["State"], "Code") == Some("provisioning");
    if provisioning && created.is_some_and(|c| now >= c + PROVISIONING) {
        v["State"] = json!({"Code": "active"});
    }
    v
}

/// The stored load balancer `arn`, or `LoadBalancerNotFound`.
pub(super) fn get(tx: &Tx<'_>, region: &str, arn: &str) -> Result<Value, ApiError> {
    tx.get(region, LOAD_BALANCERS, arn)?.ok_or_else(|| {
        err(
            "LoadBalancerNotFound",
            format!("Load balancer '{arn}' not found"),
        )
    })
}

/// The security groups a request names, each checked to exist in `vpc`.
fn security_groups(
    tx: &Tx<'_>,
    region: &str,
    ids: &[String],
    vpc: &str,
) -> Result<Vec<Value>, ApiError> {
    let all = tx.list(region, "SecurityGroups")?;
    ids.iter()
        .map(|id| {
            all.iter()
                .find(|g| str_of(g, "GroupId") == Some(id) && str_of(g, "VpcId") == Some(vpc))
                .cloned()
                .ok_or_else(|| {
                    err(
                        "InvalidSecurityGroup",
                        format!("Security group '{id}' does not exist in VPC '{vpc}'"),
                    )
                })
        })
        .collect()
}

/// `(subnet document, Elastic IP allocation, private address)` for each subnet of the request.
type Mapping = (Value, Option<String>, Option<std::net::Ipv4Addr>);

fn subnet_mappings(tx: &Tx<'_>, cx: &Cx<'_>) -> Result<Vec<Mapping>, ApiError> {
    let mut wanted: Vec<(String, Option<String>, Option<String>)> = cx
        .strings("Subnets")
        .into_iter()
        .map(|s| (s, None, None))
        .collect();
    for m in list_of(cx.input, "SubnetMappings") {
        let id = str_of(m, "SubnetId").unwrap_or_default().to_string();
        wanted.push((
            id,
            str_of(m, "AllocationId").map(str::to_string),
            str_of(m, "PrivateIPv4Address").map(str::to_string),
        ));
    }
    let subnets = tx.list(cx.region(), "Subnets")?;
    let mut out: Vec<Mapping> = Vec::new();
    for (id, alloc, private) in wanted {
        let subnet = subnets
            .iter()
            .find(|s| str_of(s, "SubnetId") == Some(id.as_str()))
            .cloned()
            .ok_or_else(|| {
                err(
                    "SubnetNotFound",
                    format!("The subnet ID '{id}' is not valid"),
                )
            })?;
        let private = private
            .map(|p| {
                p.parse()
                    .map_err(|_| validation(format!("The private IPv4 address '{p}' is not valid")))
            })
            .transpose()?;
        out.push((subnet, alloc, private));
    }
    Ok(out)
}

fn check_subnets(lb_type: &str, mappings: &[Mapping]) -> Result<String, ApiError> {
    let Some((first, _, _)) = mappings.first() else {
        return Err(validation(
            "At least one subnet must be specified".to_string(),
        ));
    };
    let vpc = str_of(first, "VpcId").unwrap_or_default().to_string();
    let mut zones = BTreeSet::new();
    for (s, alloc, _) in mappings {
        if str_of(s, "VpcId") != Some(vpc.as_str()) {
            return Err(err(
                "InvalidConfigurationRequest",
                "The subnets must all be in the same VPC",
            ));
        }
        if !zones.insert(str_of(s, "AvailabilityZone").unwrap_or_default()) {
            return Err(err(
                "InvalidConfigurationRequest",
                "A load balancer cannot be attached to multiple subnets in the same Availability Zone",
            ));
        }
        if alloc.is_some() && lb_type != "network" {
            return Err(err(
                "InvalidConfigurationRequest",
                "Elastic IP addresses can be specified only for Network Load Balancers",
            ));
        }
    }
    if lb_type == "application" && zones.len() < 2 {
        return Err(err(
            "InvalidConfigurationRequest",
            "At least two subnets in two different Availability Zones must be specified",
        ));
    }
    Ok(vpc)
}

/// A request for a load balancer that already exists with the same settings answers with it
/// (CreateLoadBalancer is idempotent); other settings are `DuplicateLoadBalancerName`.
fn existing(
    tx: &Tx<'_>,
    cx: &Cx<'_>,
    name: &str,
    lb_type: &str,
    scheme: &str,
    subnets: &[String],
) -> Result<Option<Value>, ApiError> {
    let Some(lb) = tx
        .list(cx.region(), LOAD_BALANCERS)?
        .into_iter()
        .find(|l| str_of(l, "LoadBalancerName") == Some(name))
    else {
        return Ok(None);
    };
    let same_subnets: BTreeSet<&str> = list_of(&lb, "AvailabilityZones")
        .iter()
        .filter_map(|z| str_of(z, "SubnetId"))
        .collect();
    let asked: BTreeSet<&str> = subnets.iter().map(String::as_str).collect();
    if str_of(&lb, "Type") == Some(lb_type)
        && str_of(&lb, "Scheme") == Some(scheme)
        && same_subnets == asked
    {
        return Ok(Some(lb));
    }
    Err(err(
        "DuplicateLoadBalancerName",
        format!("A load balancer with the same name '{name}' exists, but with different settings"),
    ))
}

pub(super) fn create(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let name = cx.require("Name")?.to_string();
    let lb_type = cx.str("Type").unwrap_or("application").to_string();
    let Some((short, interface_type)) = type_parts(&lb_type) else {
        return Err(validation(format!(
            "Load balancer type '{lb_type}' is not valid"
        )));
    };
    let id = hex_id();
    let arn = cx.arn(&format!("loadbalancer/{short}/{name}/{id}"));
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    check_name(&name, "Load balancer")?;
    if name.starts_with("internal-") {
        return Err(validation(format!(
            "Load balancer name '{name}' cannot begin with 'internal-'"
        )));
    }
    let scheme = match (cx.str("Scheme"), lb_type.as_str()) {
        (Some(s), "gateway") if s != "internal" => {
            return Err(err(
                "InvalidScheme",
                "Gateway Load Balancers support only the 'internal' scheme",
            ))
        }
        (None, "gateway") => "internal".to_string(),
        (Some(s @ ("internet-facing" | "internal")), _) => s.to_string(),
        (None, _) => "internet-facing".to_string(),
        (Some(s), _) => return Err(err("InvalidScheme", format!("Scheme '{s}' is not valid"))),
    };
    let ip_type = cx.str("IpAddressType").unwrap_or("ipv4").to_string();
    if ip_type != "ipv4" && ip_type != "dualstack" {
        return Err(validation(format!(
            "IP address type '{ip_type}' is not supported"
        )));
    }
    let tags = request_tags(cx.input)?;
    let sg_ids = cx.strings("SecurityGroups");
    if lb_type == "gateway" && !sg_ids.is_empty() {
        return Err(err(
            "InvalidConfigurationRequest",
            "Security groups are not supported for load balancers with type 'gateway'",
        ));
    }
    let doc = store.write(|tx| {
        let mappings = subnet_mappings(tx, cx)?;
        let subnet_ids: Vec<String> = mappings
            .iter()
            .map(|(s, _, _)| str_of(s, "SubnetId").unwrap_or_default().to_string())
            .collect();
        if let Some(lb) = existing(tx, cx, &name, &lb_type, &scheme, &subnet_ids)? {
            return Ok(lb);
        }
        let vpc = check_subnets(&lb_type, &mappings)?;
        let mut groups = security_groups(tx, cx.region(), &sg_ids, &vpc)?;
        if groups.is_empty() && lb_type == "application" {
            // An ALB created without groups gets the VPC's default group.
            groups = tx
                .list(cx.region(), "SecurityGroups")?
                .into_iter()
                .filter(|g| str_of(g, "VpcId") == Some(vpc.as_str()) && str_of(g, "GroupName") == Some("default"))
                .collect();
        }
        let internet_facing = scheme == "internet-facing";
        let description = node_description(&arn);
        let mut zones = Vec::new();
        for (subnet, alloc, private) in &mappings {
            let spec = NodeSpec {
                subnet,
                description: &description,
                interface_type,
                groups: &groups,
                internet_facing,
                private: *private,
                allocation_id: alloc.as_deref(),
            };
            let (private, public) = nodes::create(tx, cx, &spec)?;
            let mut zone = json!({"ZoneName": str_of(subnet, "AvailabilityZone"), "SubnetId": str_of(subnet, "SubnetId")});
            // ALBs do not list their node addresses; NLBs and GWLBs do.
            zone["LoadBalancerAddresses"] = if lb_type == "application" {
                json!([])
            } else {
                let mut a = json!({"PrivateIPv4Address": private.to_string()});
                if let Some(p) = public {
                    a["IpAddress"] = json!(p.to_string());
                }
                if let Some(al) = alloc {
                    a["AllocationId"] = json!(al);
                }
                json!([a])
            };
            zones.push(zone);
        }
        let mut lb = json!({
            "LoadBalancerArn": arn,
            "LoadBalancerName": name,
            "CreatedTime": crate::services::query_form::iso8601(cx.now()),
            "Scheme": scheme,
            "VpcId": vpc,
            "State": {"Code": "provisioning"},
            "Type": lb_type,
            "AvailabilityZones": zones,
            "IpAddressType": ip_type,
        });
        if lb_type != "gateway" {
            let n: u32 = rand::random::<u32>() % 1_000_000_000 + 1_000_000_000;
            let dns = match (lb_type.as_str(), internet_facing) {
                ("network", _) => format!("{name}-{}.elb.{}.amazonaws.com", &id[..10], cx.region()),
                (_, true) => format!("{name}-{n}.{}.elb.amazonaws.com", cx.region()),
                (_, false) => format!("internal-{name}-{n}.{}.elb.amazonaws.com", cx.region()),
            };
            lb["DNSName"] = json!(dns);
            if let Some((_, app, net)) = HOSTED_ZONES.iter().find(|(r, _, _)| *r == cx.region()) {
                lb["CanonicalHostedZoneId"] = json!(if lb_type == "network" { net } else { app });
            }
        }
        if !groups.is_empty() {
            lb["SecurityGroups"] = json!(groups.iter().filter_map(|g| str_of(g, "GroupId")).collect::<Vec<_>>());
        }
        lb["Tags"] = Value::Array(tags.clone());
        tx.put(cx.region(), LOAD_BALANCERS, &arn, &lb)?;
        let attrs: Vec<Value> = default_attributes(&lb_type)
            .into_iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        tx.put(cx.region(), LB_ATTRIBUTES, &arn, &json!({"LoadBalancerArn": arn, "Attributes": attrs}))?;
        Ok(lb)
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({"LoadBalancers": [render(&doc, cx.now())]})))
}

pub(super) fn describe(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    cx.call.authorize(&["*".to_string()], &[])?;
    let arns = cx.strings("LoadBalancerArns");
    let names = cx.strings("Names");
    if !arns.is_empty() && !names.is_empty() {
        return Err(validation(
            "Load balancer names and load balancer ARNs cannot be specified at the same time"
                .into(),
        ));
    }
    let all = store.read(|tx| tx.list(cx.region(), LOAD_BALANCERS))?;
    let pick = |key: &str, wanted: &[String]| -> Result<Vec<Value>, ApiError> {
        wanted
            .iter()
            .map(|w| {
                all.iter()
                    .find(|l| str_of(l, key) == Some(w.as_str()))
                    .cloned()
                    .ok_or_else(|| {
                        err(
                            "LoadBalancerNotFound",
                            "One or more load balancers not found",
                        )
                    })
            })
            .collect()
    };
    let chosen = if !arns.is_empty() {
        pick("LoadBalancerArn", &arns)?
    } else if !names.is_empty() {
        pick("LoadBalancerName", &names)?
    } else {
        all.clone()
    };
    let (items, next) = page(cx, chosen)?;
    let items: Vec<Value> = items.iter().map(|l| render(l, cx.now())).collect();
    let mut out = json!({"LoadBalancers": items});
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(Some(out))
}

pub(super) fn delete(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("LoadBalancerArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    store.write(|tx| {
        // Deleting a load balancer that does not exist succeeds, as in AWS.
        if tx.get(cx.region(), LOAD_BALANCERS, &arn)?.is_none() {
            return Ok(());
        }
        let protected = tx
            .get(cx.region(), LB_ATTRIBUTES, &arn)?
            .is_some_and(|a| attribute(&a, "deletion_protection.enabled") == Some("true"));
        if protected {
            return Err(err(
                "OperationNotPermitted",
                format!("Load balancer '{arn}' cannot be deleted because deletion protection is enabled"),
            ));
        }
        for l in tx.list(cx.region(), LISTENERS)? {
            if str_of(&l, "LoadBalancerArn") != Some(arn.as_str()) {
                continue;
            }
            let l_arn = str_of(&l, "ListenerArn").unwrap_or_default();
            for r in tx.list(cx.region(), RULES)? {
                if str_of(&r, "ListenerArn") == Some(l_arn) {
                    tx.delete(cx.region(), RULES, str_of(&r, "RuleArn").unwrap_or_default())?;
                }
            }
            tx.delete(cx.region(), LISTENERS, l_arn)?;
        }
        nodes::delete(tx, cx.region(), &node_description(&arn))?;
        tx.delete(cx.region(), LB_ATTRIBUTES, &arn)?;
        tx.delete(cx.region(), LOAD_BALANCERS, &arn)?;
        Ok(())
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({})))
}

/// One attribute's value in an `{Attributes: [{Key, Value}]}` document.
pub(super) fn attribute<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    list_of(doc, "Attributes")
        .iter()
        .find(|a| str_of(a, "Key") == Some(key))
        .and_then(|a| str_of(a, "Value"))
}

pub(super) fn describe_attributes(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("LoadBalancerArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    let attrs = store.read(|tx| {
        get(tx, cx.region(), &arn)?;
        Ok(tx
            .get(cx.region(), LB_ATTRIBUTES, &arn)?
            .unwrap_or_else(|| json!({"Attributes": []})))
    })?;
    Ok(Some(json!({"Attributes": list_of(&attrs, "Attributes")})))
}

/// Checks one changed attribute against what AWS accepts for the load balancer's type.
fn check_attribute(lb_type: &str, key: &str, value: &str, known: bool) -> Result<(), ApiError> {
    if !known {
        return Err(err(
            "InvalidConfigurationRequest",
            format!("Load balancer attribute key '{key}' is not recognized"),
        ));
    }
    let boolean = key.ends_with(".enabled");
    if boolean && value != "true" && value != "false" {
        return Err(err(
            "InvalidConfigurationRequest",
            format!(
                "Load balancer attribute value '{value}' for key '{key}' must be 'true' or 'false'"
            ),
        ));
    }
    if key == "load_balancing.cross_zone.enabled" && lb_type == "application" && value != "true" {
        return Err(err(
            "InvalidConfigurationRequest",
            "Cross-zone load balancing cannot be disabled for Application Load Balancers",
        ));
    }
    if key == "idle_timeout.timeout_seconds"
        && !value.parse::<u32>().is_ok_and(|s| (1..=4000).contains(&s))
    {
        return Err(err(
            "InvalidConfigurationRequest",
            format!("Load balancer attribute value '{value}' for key '{key}' must be between 1 and 4000"),
        ));
    }
    Ok(())
}

pub(super) fn modify_attributes(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("LoadBalancerArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    let changes = list_of(cx.input, "Attributes");
    if changes.is_empty() {
        return Err(ApiError::missing_parameter("Attributes"));
    }
    let doc = store.write(|tx| {
        let lb = get(tx, cx.region(), &arn)?;
        let lb_type = str_of(&lb, "Type").unwrap_or("application");
        let mut doc = tx
            .get(cx.region(), LB_ATTRIBUTES, &arn)?
            .unwrap_or_else(|| json!({"LoadBalancerArn": arn, "Attributes": []}));
        let mut attrs = list_of(&doc, "Attributes").to_vec();
        let defaults = default_attributes(lb_type);
        for c in changes {
            let key = str_of(c, "Key").unwrap_or_default();
            let value = str_of(c, "Value").unwrap_or_default();
            check_attribute(lb_type, key, value, defaults.iter().any(|(k, _)| *k == key))?;
            match attrs.iter_mut().find(|a| str_of(a, "Key") == Some(key)) {
                Some(a) => a["Value"] = json!(value),
                None => attrs.push(json!({"Key": key, "Value": value})),
            }
        }
        doc["Attributes"] = Value::Array(attrs);
        tx.put(cx.region(), LB_ATTRIBUTES, &arn, &doc)?;
        Ok(doc)
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({"Attributes": list_of(&doc, "Attributes")})))
}

pub(super) fn set_security_groups(store: &Store, cx: &Cx<'_>) -> Result<Option<Value>, ApiError> {
    let arn = cx.require("LoadBalancerArn")?.to_string();
    cx.call.authorize(std::slice::from_ref(&arn), &[])?;
    let ids = cx.strings("SecurityGroups");
    store.write(|tx| {
        let mut lb = get(tx, cx.region(), &arn)?;
        let vpc = str_of(&lb, "VpcId").unwrap_or_default().to_string();
        match str_of(&lb, "Type") {
            Some("gateway") => return Err(err("InvalidConfigurationRequest", "Security groups are not supported for load balancers with type 'gateway'")),
            Some("network") if lb.get("SecurityGroups").is_none() => {
                return Err(err("InvalidConfigurationRequest", "You cannot set security groups on a Network Load Balancer which was created without any security groups."))
            }
            Some("application") if ids.is_empty() => return Err(validation("At least one security group must be specified for an Application Load Balancer".into())),
            _ => {}
        }
        let groups = security_groups(tx, cx.region(), &ids, &vpc)?;
        lb["SecurityGroups"] = json!(ids);
        tx.put(cx.region(), LOAD_BALANCERS, &arn, &lb)?;
        nodes::set_groups(tx, cx.region(), &node_description(&arn), &groups)
    })?;
    cx.call.changed(cx.region());
    Ok(Some(json!({"SecurityGroupIds": ids})))
}
