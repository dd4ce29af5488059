//! Network interfaces (private addresses handed out from their subnet) and Elastic IP
//! addresses (allocated, associated with an interface or an instance's primary interface).

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use rand::Rng;
use serde_json::{json, Value};

use super::common::{self, authorize, id_param, require, Listing};
use super::render;
use crate::call::Call;
use crate::error::ApiError;
use crate::ids::resource_id;
use crate::store::Tx;

const ENI_FILTERS: &[(&str, &str)] = &[
    ("network-interface-id", "NetworkInterfaceId"),
    ("subnet-id", "SubnetId"),
    ("vpc-id", "VpcId"),
    ("availability-zone", "AvailabilityZone"),
    ("description", "Description"),
    ("status", "Status"),
    ("private-ip-address", "PrivateIpAddresses.PrivateIpAddress"),
    (
        "addresses.private-ip-address",
        "PrivateIpAddresses.PrivateIpAddress",
    ),
    ("group-id", "Groups.GroupId"),
    ("group-name", "Groups.GroupName"),
    ("attachment.instance-id", "Attachment.InstanceId"),
    ("attachment.status", "Attachment.Status"),
    ("association.public-ip", "Association.PublicIp"),
    ("interface-type", "InterfaceType"),
    ("owner-id", "OwnerId"),
];

const ADDRESS_FILTERS: &[(&str, &str)] = &[
    ("allocation-id", "AllocationId"),
    ("association-id", "AssociationId"),
    ("domain", "Domain"),
    ("instance-id", "InstanceId"),
    ("network-interface-id", "NetworkInterfaceId"),
    ("private-ip-address", "PrivateIpAddress"),
    ("public-ip", "PublicIp"),
];

/// The first address of a subnet no interface or NAT gateway holds (AWS keeps the first four
/// and the last).
pub fn free_address(tx: &Tx<'_>, region: &str, subnet: &Value) -> Result<Ipv4Addr, ApiError> {
    let cidr: Ipv4Net = subnet["CidrBlock"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| ApiError::internal("a stored subnet has no IPv4 CIDR"))?;
    let used = used_addresses(tx, region)?;
    let first = u32::from(cidr.network()) + 4;
    let last = u32::from(cidr.broadcast()).saturating_sub(1);
    (first..=last)
        .map(Ipv4Addr::from)
        .find(|a| !used.contains(a))
        .ok_or_else(|| {
            ApiError::client(
                "InsufficientFreeAddressesInSubnet",
                format!("There are not enough free addresses in subnet '{}' to satisfy the requested number of instances.", subnet["SubnetId"].as_str().unwrap_or_default()),
            )
        })
}

fn used_addresses(tx: &Tx<'_>, region: &str) -> Result<Vec<Ipv4Addr>, ApiError> {
    let mut used = Vec::new();
    for e in tx.list(region, "NetworkInterfaces")? {
        for p in e["PrivateIpAddresses"].as_array().into_iter().flatten() {
            used.extend(
                p["PrivateIpAddress"]
                    .as_str()
                    .and_then(|a| a.parse::<Ipv4Addr>().ok()),
            );
        }
    }
    for n in tx.list(region, "NatGateways")? {
        for p in n["NatGatewayAddresses"].as_array().into_iter().flatten() {
            used.extend(
                p["PrivateIp"]
                    .as_str()
                    .and_then(|a| a.parse::<Ipv4Addr>().ok()),
            );
        }
    }
    Ok(used)
}

/// The private DNS name AWS gives an address: `ip-10-0-1-5.ec2.internal` in us-east-1,
/// `ip-10-0-1-5.<region>.compute.internal` elsewhere.
pub fn private_dns(region: &str, ip: &str) -> String {
    let host = format!("ip-{}", ip.replace('.', "-"));
    if region == "us-east-1" {
        format!("{host}.ec2.internal")
    } else {
        format!("{host}.{region}.compute.internal")
    }
}

/// The public DNS name of a public address.
pub fn public_dns(region: &str, ip: &str) -> String {
    let host = format!("ec2-{}", ip.replace('.', "-"));
    if region == "us-east-1" {
        format!("{host}.compute-1.amazonaws.com")
    } else {
        format!("{host}.{region}.compute.amazonaws.com")
    }
}

/// An unused public address for an Elastic IP or an instance's automatic public address.
pub fn public_address(tx: &Tx<'_>, region: &str) -> Result<String, ApiError> {
    let taken: Vec<String> = tx
        .list(region, "Addresses")?
        .iter()
        .filter_map(|a| a["PublicIp"].as_str().map(str::to_string))
        .chain(
            tx.list(region, "NetworkInterfaces")?
                .iter()
                .filter_map(|e| e["Association"]["PublicIp"].as_str().map(str::to_string)),
        )
        .collect();
    let mut rng = rand::rng();
    loop {
        // 3.208.0.0/12: a block of EC2 public addresses.
        let a = Ipv4Addr::from(0x03D0_0000u32 | rng.random_range(0x100..0xF_FF00u32));
        let s = a.to_string();
        if !taken.contains(&s) && a.octets()[3] != 0 && a.octets()[3] != 255 {
            return Ok(s);
        }
    }
}

/// A new interface document in `subnet`.
pub fn new_interface(
    call: &Call,
    subnet: &Value,
    private: Ipv4Addr,
    groups: Vec<Value>,
    description: &str,
) -> Value {
    let ip = private.to_string();
    let mut mac = [0u8; 6];
    rand::rng().fill(&mut mac);
    mac[0] = 0x0e;
    let mac: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    json!({
        "NetworkInterfaceId": resource_id("eni"),
        "SubnetId": subnet["SubnetId"],
        "VpcId": subnet["VpcId"],
        "AvailabilityZone": subnet["AvailabilityZone"],
        "Description": description,
        "OwnerId": call.account,
        "RequesterManaged": false,
        "Status": "available",
        "InterfaceType": "interface",
        "MacAddress": mac.join(":"),
        "PrivateIpAddress": ip,
        "PrivateDnsName": private_dns(&call.region, &ip),
        "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": true, "PrivateDnsName": private_dns(&call.region, &ip)}],
        "Ipv6Addresses": [],
        "Groups": groups,
        "SourceDestCheck": true,
        "TagSet": [],
    })
}

/// The groups named by `SecurityGroupId.N` (under `prefix`), or the VPC's default group.
pub fn groups_for(
    tx: &Tx<'_>,
    call: &Call,
    ids: &[&str],
    vpc: &str,
) -> Result<Vec<Value>, ApiError> {
    let all = tx.list(&call.region, "SecurityGroups")?;
    if ids.is_empty() {
        return Ok(all
            .iter()
            .filter(|g| g["VpcId"] == vpc && g["GroupName"] == "default")
            .map(|g| json!({"GroupId": g["GroupId"], "GroupName": g["GroupName"]}))
            .collect());
    }
    ids.iter()
        .map(|id| {
            let g = all.iter().find(|g| g["GroupId"] == *id).ok_or_else(|| {
                ApiError::client(
                    "InvalidGroup.NotFound",
                    format!("The security group '{id}' does not exist in VPC '{vpc}'"),
                )
            })?;
            if g["VpcId"] != vpc {
                return Err(ApiError::client(
                    "InvalidGroup.NotFound",
                    format!("The security group '{id}' does not exist in VPC '{vpc}'"),
                ));
            }
            Ok(json!({"GroupId": g["GroupId"], "GroupName": g["GroupName"]}))
        })
        .collect()
}

/// A private address asked for, checked to be free and inside the subnet; else the next free.
pub fn pick_address(
    tx: &Tx<'_>,
    call: &Call,
    subnet: &Value,
    asked: Option<&str>,
) -> Result<Ipv4Addr, ApiError> {
    let Some(a) = asked else {
        return free_address(tx, &call.region, subnet);
    };
    let ip: Ipv4Addr = a.parse().map_err(|_| {
        ApiError::invalid_value("PrivateIpAddress", a, "This is not a valid IPv4 address.")
    })?;
    let cidr: Option<Ipv4Net> = subnet["CidrBlock"].as_str().and_then(|c| c.parse().ok());
    if !cidr.is_some_and(|c| c.contains(&ip)) {
        return Err(ApiError::client(
            "InvalidParameterValue",
            format!("Address {a} does not fall within the subnet's address range"),
        ));
    }
    if used_addresses(tx, &call.region)?.contains(&ip) {
        return Err(ApiError::client(
            "InvalidIPAddress.InUse",
            format!("Address {a} is in use."),
        ));
    }
    Ok(ip)
}

pub fn create(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let subnet_id = id_param(call, "SubnetId", "subnet", "InvalidSubnetID.Malformed")?;
    authorize(call, &[call.ec2_arn("subnet", subnet_id)])?;
    let subnet = super::subnets::require_subnet(tx, call, subnet_id)?;
    let vpc = subnet["VpcId"].as_str().unwrap_or_default().to_string();
    let groups = groups_for(tx, call, &call.params.ec2_list("SecurityGroupId"), &vpc)?;
    let ip = pick_address(tx, call, &subnet, call.params.get("PrivateIpAddress"))?;
    let tags = common::tags_for(call, "network-interface")?;
    let mut eni = new_interface(
        call,
        &subnet,
        ip,
        groups,
        call.params.get("Description").unwrap_or(""),
    );
    eni["TagSet"] = json!(tags);
    let id = eni["NetworkInterfaceId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    tx.put(&call.region, "NetworkInterfaces", &id, &eni)?;
    call.changed(&call.region);
    Ok(render::single(
        "NetworkInterface",
        render::Shape::Plain,
        &eni,
    ))
}

pub fn delete(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let id = id_param(
        call,
        "NetworkInterfaceId",
        "eni",
        "InvalidNetworkInterfaceID.Malformed",
    )?;
    authorize(call, &[call.ec2_arn("network-interface", id)])?;
    let eni = require(
        tx,
        call,
        "NetworkInterfaces",
        id,
        "InvalidNetworkInterfaceID.NotFound",
        "network interface",
    )?;
    if eni["Attachment"]["InstanceId"].is_string() {
        return Err(ApiError::client(
            "InvalidNetworkInterface.InUse",
            format!("Interface: [{id}] in use."),
        ));
    }
    release_association(tx, &call.region, &eni)?;
    tx.delete(&call.region, "NetworkInterfaces", id)?;
    call.changed(&call.region);
    Ok(common::ok_return())
}

/// Frees the Elastic IP associated with an interface that goes away.
pub fn release_association(tx: &Tx<'_>, region: &str, eni: &Value) -> Result<(), ApiError> {
    for mut a in tx.list(region, "Addresses")? {
        if a["NetworkInterfaceId"] == eni["NetworkInterfaceId"] {
            clear_association(&mut a);
            tx.put(
                region,
                "Addresses",
                a["AllocationId"].as_str().unwrap_or_default(),
                &a,
            )?;
        }
    }
    Ok(())
}

fn clear_association(eip: &mut Value) {
    if let Some(m) = eip.as_object_mut() {
        for k in [
            "AssociationId",
            "NetworkInterfaceId",
            "PrivateIpAddress",
            "InstanceId",
            "NetworkInterfaceOwnerId",
        ] {
            m.remove(k);
        }
    }
}

pub fn describe(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::describe(
        tx,
        call,
        &Listing {
            kind: "NetworkInterfaces",
            ids: ("NetworkInterfaceId", "NetworkInterfaceId"),
            not_found: ("InvalidNetworkInterfaceID.NotFound", "network interface"),
            filters: ENI_FILTERS,
        },
    )
}

/// An Elastic IP that must exist.
pub fn require_address(tx: &Tx<'_>, call: &Call, alloc: &str) -> Result<Value, ApiError> {
    common::check_prefix(alloc, "eipalloc", "InvalidAllocationID.Malformed")?;
    require(
        tx,
        call,
        "Addresses",
        alloc,
        "InvalidAllocationID.NotFound",
        "allocation",
    )
}

pub fn allocate_address(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let alloc = resource_id("eipalloc");
    authorize(call, &[call.ec2_arn("elastic-ip", &alloc)])?;
    if call.params.get("Domain").is_some_and(|d| d != "vpc") {
        return Err(ApiError::invalid_value(
            "Domain",
            call.params.get("Domain").unwrap_or_default(),
            "Only vpc addresses exist.",
        ));
    }
    let tags = common::tags_for(call, "elastic-ip")?;
    if tx.list(&call.region, "Addresses")?.len() >= 5 {
        return Err(ApiError::client(
            "AddressLimitExceeded",
            "The maximum number of addresses has been reached.",
        ));
    }
    let ip = public_address(tx, &call.region)?;
    let mut eip = json!({
        "AllocationId": alloc,
        "PublicIp": ip,
        "Domain": "vpc",
        "PublicIpv4Pool": "amazon",
        "NetworkBorderGroup": call.region,
    });
    if !tags.is_empty() {
        eip["Tags"] = json!(tags);
    }
    tx.put(&call.region, "Addresses", &alloc, &eip)?;
    let mut out = format!("<publicIp>{ip}</publicIp><domain>vpc</domain><allocationId>{alloc}</allocationId><publicIpv4Pool>amazon</publicIpv4Pool><networkBorderGroup>{}</networkBorderGroup>", call.region);
    if !tags.is_empty() {
        out += &render::list("Tags", &tags);
    }
    Ok(out)
}

pub fn associate_address(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let alloc = call.params.require("AllocationId")?;
    authorize(call, &[call.ec2_arn("elastic-ip", alloc)])?;
    let mut eip = require_address(tx, call, alloc)?;
    let mut eni = match (
        call.params.get("NetworkInterfaceId"),
        call.params.get("InstanceId"),
    ) {
        (Some(e), _) => require(
            tx,
            call,
            "NetworkInterfaces",
            e,
            "InvalidNetworkInterfaceID.NotFound",
            "network interface",
        )?,
        (None, Some(i)) => super::instances::primary_interface(tx, call, i)?,
        (None, None) => return Err(ApiError::missing_parameter("InstanceId")),
    };
    if eip["AssociationId"].is_string() && call.params.bool("AllowReassociation")? != Some(true) {
        return Err(ApiError::client(
            "Resource.AlreadyAssociated",
            format!(
                "resource {alloc} is already associated with associate-id {}",
                eip["AssociationId"].as_str().unwrap_or_default()
            ),
        ));
    }
    let vpc = eni["VpcId"].as_str().unwrap_or_default();
    let has_igw = tx.list(&call.region, "InternetGateways")?.iter().any(|g| {
        g["Attachments"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["VpcId"] == vpc)
    });
    if !has_igw {
        return Err(ApiError::client(
            "Gateway.NotAttached",
            format!("Network {vpc} is not attached to any internet gateway"),
        ));
    }
    // A re-association moves the address: its old interface loses it.
    if let Some(old) = eip["NetworkInterfaceId"].as_str() {
        if let Some(mut o) = tx.get(&call.region, "NetworkInterfaces", old)? {
            set_public(&mut o, None, &call.region);
            tx.put(&call.region, "NetworkInterfaces", old, &o)?;
        }
    }
    let private = call
        .params
        .get("PrivateIpAddress")
        .map_or_else(|| eni["PrivateIpAddress"].clone(), |p| json!(p));
    let assoc = resource_id("eipassoc");
    eip["AssociationId"] = json!(assoc);
    eip["NetworkInterfaceId"] = eni["NetworkInterfaceId"].clone();
    eip["NetworkInterfaceOwnerId"] = json!(call.account);
    eip["PrivateIpAddress"] = private;
    if let Some(i) = eni["Attachment"]["InstanceId"].as_str() {
        eip["InstanceId"] = json!(i);
    }
    let public = json!({"PublicIp": eip["PublicIp"], "IpOwnerId": call.account, "AllocationId": alloc, "AssociationId": assoc});
    set_public(&mut eni, Some(public), &call.region);
    tx.put(&call.region, "Addresses", alloc, &eip)?;
    tx.put(
        &call.region,
        "NetworkInterfaces",
        eni["NetworkInterfaceId"].as_str().unwrap_or_default(),
        &eni,
    )?;
    call.changed(&call.region);
    Ok(format!(
        "<return>true</return><associationId>{assoc}</associationId>"
    ))
}

/// Sets (or, with `None`, removes) an interface's public address on its primary address.
pub fn set_public(eni: &mut Value, public: Option<Value>, region: &str) {
    let public = public.map(|mut p| {
        let dns = public_dns(region, p["PublicIp"].as_str().unwrap_or_default());
        p["PublicDnsName"] = json!(dns);
        p
    });
    match &public {
        Some(p) => eni["Association"] = p.clone(),
        None => {
            if let Some(m) = eni.as_object_mut() {
                m.remove("Association");
            }
        }
    }
    for a in eni["PrivateIpAddresses"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        if a["Primary"] == true {
            match &public {
                Some(p) => a["Association"] = p.clone(),
                None => {
                    if let Some(m) = a.as_object_mut() {
                        m.remove("Association");
                    }
                }
            }
        }
    }
}

pub fn disassociate_address(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let assoc = call.params.require("AssociationId")?;
    authorize(call, &["*".to_string()])?;
    let Some(mut eip) = tx
        .list(&call.region, "Addresses")?
        .into_iter()
        .find(|a| a["AssociationId"] == assoc)
    else {
        return Err(ApiError::client(
            "InvalidAssociationID.NotFound",
            format!("The association ID '{assoc}' does not exist"),
        ));
    };
    if let Some(e) = eip["NetworkInterfaceId"].as_str() {
        if let Some(mut eni) = tx.get(&call.region, "NetworkInterfaces", e)? {
            set_public(&mut eni, None, &call.region);
            tx.put(&call.region, "NetworkInterfaces", e, &eni)?;
        }
    }
    clear_association(&mut eip);
    tx.put(
        &call.region,
        "Addresses",
        eip["AllocationId"].as_str().unwrap_or_default(),
        &eip,
    )?;
    call.changed(&call.region);
    Ok(common::ok_return())
}

pub fn release_address(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let alloc = call.params.require("AllocationId")?;
    authorize(call, &[call.ec2_arn("elastic-ip", alloc)])?;
    let eip = require_address(tx, call, alloc)?;
    if eip["AssociationId"].is_string() {
        return Err(ApiError::client(
            "InvalidIPAddress.InUse",
            "The address is in use: disassociate it first.",
        ));
    }
    tx.delete(&call.region, "Addresses", alloc)?;
    Ok(common::ok_return())
}

pub fn describe_addresses(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::authorize_describe(call)?;
    let mut docs = tx.list(&call.region, "Addresses")?;
    let ips = call.params.ec2_list("PublicIp");
    for ip in &ips {
        if !docs.iter().any(|a| a["PublicIp"] == *ip) {
            return Err(ApiError::client(
                "InvalidAddress.NotFound",
                format!("Address '{ip}' not found."),
            ));
        }
    }
    if !ips.is_empty() {
        docs.retain(|a| ips.iter().any(|ip| a["PublicIp"] == *ip));
    }
    let listing = Listing {
        kind: "Addresses",
        ids: ("AllocationId", "AllocationId"),
        not_found: ("InvalidAllocationID.NotFound", "allocation"),
        filters: ADDRESS_FILTERS,
    };
    let (items, _) = common::select(call, docs, &listing)?;
    Ok(render::list("Addresses", &items))
}
