//! A load balancer's nodes: one requester-managed network interface per enabled subnet
//! (SPEC.md §11.2.1), stored in `NetworkInterfaces` as `describe-network-interfaces` prints them,
//! because the data plane finds a load balancer's nodes there (by description `ELB <type>/<name>/<id>`).
//! Its private address is the lowest free one of the subnet; an internet-facing node gets a
//! public address from the simulated Amazon pool, or the Elastic IP its subnet mapping names.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde_json::{json, Value};

use super::{err, Cx};
use crate::error::ApiError;
use crate::ids::resource_id;
use crate::services::query_form::str_of;
use crate::store::Tx;

/// Auto-assigned public addresses come from the pool the template loader uses (198.18.0.0/15).
const PUBLIC_POOL: (Ipv4Addr, u32) = (Ipv4Addr::new(198, 18, 0, 0), 1 << 17);

/// What one node needs.
pub(super) struct NodeSpec<'a> {
    pub subnet: &'a Value,
    /// `ELB app/<name>/<id>`.
    pub description: &'a str,
    /// `interface` (ALB), `network_load_balancer`, `gateway_load_balancer`.
    pub interface_type: &'a str,
    pub groups: &'a [Value],
    pub internet_facing: bool,
    pub private: Option<Ipv4Addr>,
    pub allocation_id: Option<&'a str>,
}

/// The addresses a created node holds: `(private, public)`.
pub(super) type NodeAddresses = (Ipv4Addr, Option<Ipv4Addr>);

/// Every string under one of `keys`, anywhere in `v`.
fn collect(v: &Value, keys: &[&str], out: &mut BTreeSet<Ipv4Addr>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if keys.contains(&k.as_str()) {
                    if let Some(a) = x.as_str().and_then(|s| s.parse().ok()) {
                        out.insert(a);
                    }
                }
                collect(x, keys, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| collect(x, keys, out)),
        _ => {}
    }
}

fn used(tx: &Tx<'_>, region: &str, keys: &[&str]) -> Result<BTreeSet<Ipv4Addr>, ApiError> {
    let mut out = BTreeSet::new();
    for (_, docs) in tx.list_all(region)? {
        for d in &docs {
            collect(d, keys, &mut out);
        }
    }
    Ok(out)
}

fn subnet_cidr(subnet: &Value) -> Result<Ipv4Net, ApiError> {
    str_of(subnet, "CidrBlock")
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| ApiError::internal("stored subnet without a CidrBlock"))
}

/// The lowest free address of the subnet after AWS's four reserved ones, or `wanted` if free.
fn private_address(
    tx: &Tx<'_>,
    region: &str,
    subnet: &Value,
    wanted: Option<Ipv4Addr>,
) -> Result<Ipv4Addr, ApiError> {
    let cidr = subnet_cidr(subnet)?;
    let taken = used(
        tx,
        region,
        &["PrivateIpAddress", "PrivateIp", "PrivateIPv4Address"],
    )?;
    let base = cidr.network().to_bits();
    let last = cidr.broadcast().to_bits();
    let usable = |a: u32| a >= base + 4 && a < last;
    let subnet_id = str_of(subnet, "SubnetId").unwrap_or_default();
    if let Some(w) = wanted {
        if !cidr.contains(&w) || !usable(w.to_bits()) {
            return Err(err(
                "InvalidConfigurationRequest",
                format!("The private IPv4 address '{w}' is not within the usable range of subnet '{subnet_id}'"),
            ));
        }
        if taken.contains(&w) {
            return Err(err(
                "InvalidConfigurationRequest",
                format!("The private IPv4 address '{w}' is already in use"),
            ));
        }
        return Ok(w);
    }
    (base + 4..last)
        .map(Ipv4Addr::from_bits)
        .find(|a| !taken.contains(a))
        .ok_or_else(|| {
            err(
                "InvalidSubnet",
                format!("Not enough IP space available in {subnet_id}. ELB requires at least 8 free IP addresses in each subnet."),
            )
        })
}

fn public_address(tx: &Tx<'_>, region: &str) -> Result<Ipv4Addr, ApiError> {
    let taken = used(tx, region, &["PublicIp", "IpAddress"])?;
    let base = PUBLIC_POOL.0.to_bits();
    (base + 1..base + PUBLIC_POOL.1 - 1)
        .map(Ipv4Addr::from_bits)
        .find(|a| !taken.contains(a))
        .ok_or_else(|| ApiError::internal("the simulated public address pool is exhausted"))
}

/// Creates one node's interface (and associates its Elastic IP); its addresses.
pub(super) fn create(
    tx: &Tx<'_>,
    cx: &Cx<'_>,
    spec: &NodeSpec<'_>,
) -> Result<NodeAddresses, ApiError> {
    let region = cx.region();
    let private = private_address(tx, region, spec.subnet, spec.private)?;
    let eni_id = resource_id("eni");
    let mut association = None;
    let mut public = None;
    if let Some(alloc) = spec.allocation_id {
        let mut address = tx
            .list(region, "Addresses")?
            .into_iter()
            .find(|a| str_of(a, "AllocationId") == Some(alloc))
            .ok_or_else(|| {
                err(
                    "AllocationIdNotFound",
                    format!("The allocation ID '{alloc}' does not exist"),
                )
            })?;
        if address.get("AssociationId").is_some() {
            return Err(err(
                "InvalidConfigurationRequest",
                format!("The allocation ID '{alloc}' is already associated"),
            ));
        }
        let ip: Ipv4Addr = str_of(&address, "PublicIp")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| ApiError::internal("stored address without a PublicIp"))?;
        let association_id = resource_id("eipassoc");
        address["AssociationId"] = json!(association_id);
        address["NetworkInterfaceId"] = json!(eni_id);
        address["NetworkInterfaceOwnerId"] = json!(cx.call.account);
        address["PrivateIpAddress"] = json!(private.to_string());
        tx.put(region, "Addresses", alloc, &address)?;
        association = Some(
            json!({"AllocationId": alloc, "AssociationId": association_id,
            "IpOwnerId": cx.call.account, "PublicIp": ip.to_string()}),
        );
        public = Some(ip);
    } else if spec.internet_facing {
        let ip = public_address(tx, region)?;
        association = Some(json!({"IpOwnerId": "amazon", "PublicIp": ip.to_string()}));
        public = Some(ip);
    }
    let groups: Vec<Value> = spec
        .groups
        .iter()
        .map(|g| json!({"GroupId": str_of(g, "GroupId"), "GroupName": str_of(g, "GroupName")}))
        .collect();
    let mut primary = json!({"PrivateIpAddress": private.to_string(), "Primary": true});
    let mut eni = json!({
        "NetworkInterfaceId": eni_id,
        "SubnetId": str_of(spec.subnet, "SubnetId"),
        "VpcId": str_of(spec.subnet, "VpcId"),
        "AvailabilityZone": str_of(spec.subnet, "AvailabilityZone"),
        "Description": spec.description,
        "OwnerId": cx.call.account,
        "RequesterId": "amazon-elb",
        "RequesterManaged": true,
        "InterfaceType": spec.interface_type,
        "PrivateIpAddress": private.to_string(),
        "Ipv6Addresses": [],
        "Groups": groups,
        "SourceDestCheck": true,
        "Status": "in-use",
        "TagSet": [],
    });
    if let Some(a) = association {
        primary["Association"] = a.clone();
        eni["Association"] = a;
    }
    eni["PrivateIpAddresses"] = json!([primary]);
    tx.put(region, "NetworkInterfaces", &eni_id, &eni)?;
    Ok((private, public))
}

/// Removes the nodes of the load balancer described as `description`, releasing their Elastic
/// IPs' associations.
pub(super) fn delete(tx: &Tx<'_>, region: &str, description: &str) -> Result<(), ApiError> {
    for eni in tx.list(region, "NetworkInterfaces")? {
        if str_of(&eni, "Description") != Some(description)
            || str_of(&eni, "RequesterId") != Some("amazon-elb")
        {
            continue;
        }
        let Some(id) = str_of(&eni, "NetworkInterfaceId") else {
            continue;
        };
        tx.delete(region, "NetworkInterfaces", id)?;
        for mut a in tx.list(region, "Addresses")? {
            if str_of(&a, "NetworkInterfaceId") != Some(id) {
                continue;
            }
            if let (Some(alloc), Some(m)) = (
                str_of(&a, "AllocationId").map(str::to_string),
                a.as_object_mut(),
            ) {
                for k in [
                    "AssociationId",
                    "NetworkInterfaceId",
                    "NetworkInterfaceOwnerId",
                    "PrivateIpAddress",
                ] {
                    m.remove(k);
                }
                tx.put(region, "Addresses", &alloc, &a)?;
            }
        }
    }
    Ok(())
}

/// Replaces the security groups of every node of a load balancer.
pub(super) fn set_groups(
    tx: &Tx<'_>,
    region: &str,
    description: &str,
    groups: &[Value],
) -> Result<(), ApiError> {
    for mut eni in tx.list(region, "NetworkInterfaces")? {
        if str_of(&eni, "Description") != Some(description) {
            continue;
        }
        let Some(id) = str_of(&eni, "NetworkInterfaceId").map(str::to_string) else {
            continue;
        };
        eni["Groups"] = Value::Array(
            groups
                .iter()
                .map(|g| json!({"GroupId": str_of(g, "GroupId"), "GroupName": str_of(g, "GroupName")}))
                .collect(),
        );
        tx.put(region, "NetworkInterfaces", &id, &eni)?;
    }
    Ok(())
}
