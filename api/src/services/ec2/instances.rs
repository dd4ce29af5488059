//! Instances: an instance is its network interfaces (no VM runs). They move through AWS's
//! states (`pending` → `running`, `stopping` → `stopped`, `shutting-down` → `terminated`) after
//! `--async-delay`; terminated ones are still described for an hour.
//!
//! The stored reservation holds the instances without their interfaces; the interfaces are
//! `NetworkInterfaces` documents attached to them, joined in when instances are described.

use serde_json::{json, Value};

use super::common::{self, authorize, not_found, SINCE};
use super::filters;
use super::interfaces::{
    self, groups_for, new_interface, pick_address, public_address, set_public,
};
use super::render;
use crate::call::Call;
use crate::error::ApiError;
use crate::ids::resource_id;
use crate::store::Tx;

/// How long terminated instances stay described (AWS: about an hour).
const TERMINATED_KEPT_MS: i64 = 3_600_000;

const FILTERS: &[(&str, &str)] = &[
    ("instance-id", "InstanceId"),
    ("instance-state-name", "State.Name"),
    ("instance-state-code", "State.Code"),
    ("instance-type", "InstanceType"),
    ("image-id", "ImageId"),
    ("subnet-id", "SubnetId"),
    ("vpc-id", "VpcId"),
    ("private-ip-address", "PrivateIpAddress"),
    ("ip-address", "PublicIpAddress"),
    ("private-dns-name", "PrivateDnsName"),
    ("dns-name", "PublicDnsName"),
    ("availability-zone", "Placement.AvailabilityZone"),
    ("key-name", "KeyName"),
    ("reservation-id", "VpcsimReservationId"),
    (
        "network-interface.network-interface-id",
        "NetworkInterfaces.NetworkInterfaceId",
    ),
    ("instance.group-id", "SecurityGroups.GroupId"),
    ("instance.group-name", "SecurityGroups.GroupName"),
];

fn state(name: &str) -> Value {
    let code = match name {
        "pending" => 0,
        "running" => 16,
        "shutting-down" => 32,
        "terminated" => 48,
        "stopping" => 64,
        _ => 80,
    };
    json!({"Code": code, "Name": name})
}

fn instance_id(i: &Value) -> &str {
    i["InstanceId"].as_str().unwrap_or_default()
}

/// Every reservation of the region.
fn reservations(tx: &Tx<'_>, call: &Call) -> Result<Vec<Value>, ApiError> {
    tx.list(&call.region, "Reservations")
}

/// The reservation holding an instance, and the instance's index in it.
fn find(tx: &Tx<'_>, call: &Call, id: &str) -> Result<(Value, usize), ApiError> {
    common::check_prefix(id, "i", "InvalidInstanceID.Malformed")?;
    for r in reservations(tx, call)? {
        if let Some(at) = r["Instances"]
            .as_array()
            .and_then(|l| l.iter().position(|i| instance_id(i) == id))
        {
            return Ok((r, at));
        }
    }
    Err(not_found("InvalidInstanceID.NotFound", "instance", id))
}

fn put_reservation(tx: &Tx<'_>, call: &Call, r: &Value) -> Result<(), ApiError> {
    tx.put(
        &call.region,
        "Reservations",
        r["ReservationId"].as_str().unwrap_or_default(),
        r,
    )
}

/// The interfaces attached to an instance, in device order.
fn interfaces_of(tx: &Tx<'_>, region: &str, id: &str) -> Result<Vec<Value>, ApiError> {
    let mut enis: Vec<Value> = tx
        .list(region, "NetworkInterfaces")?
        .into_iter()
        .filter(|e| e["Attachment"]["InstanceId"] == id)
        .collect();
    enis.sort_by_key(|e| e["Attachment"]["DeviceIndex"].as_i64().unwrap_or(0));
    Ok(enis)
}

/// An instance's primary interface (device 0).
pub fn primary_interface(tx: &Tx<'_>, call: &Call, id: &str) -> Result<Value, ApiError> {
    find(tx, call, id)?;
    interfaces_of(tx, &call.region, id)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ApiError::client(
                "IncorrectInstanceState",
                format!("The instance '{id}' has no network interface."),
            )
        })
}

/// An instance as `DescribeInstances` prints it: the stored instance with its interfaces.
fn described(tx: &Tx<'_>, region: &str, inst: &Value) -> Result<Value, ApiError> {
    let mut i = inst.clone();
    let enis = interfaces_of(tx, region, instance_id(inst))?;
    if let Some(p) = enis.first() {
        i["SubnetId"] = p["SubnetId"].clone();
        i["VpcId"] = p["VpcId"].clone();
        i["PrivateIpAddress"] = p["PrivateIpAddress"].clone();
        i["PrivateDnsName"] = p["PrivateDnsName"].clone();
        i["SecurityGroups"] = p["Groups"].clone();
        i["SourceDestCheck"] = p["SourceDestCheck"].clone();
        i["PublicDnsName"] = json!("");
        if let Some(ip) = p["Association"]["PublicIp"].as_str() {
            i["PublicIpAddress"] = json!(ip);
            i["PublicDnsName"] = p["Association"]["PublicDnsName"].clone();
        }
    }
    i["NetworkInterfaces"] = json!(enis
        .iter()
        .map(|e| {
            let mut e = e.clone();
            if let Some(m) = e.as_object_mut() {
                for k in [
                    "AvailabilityZone",
                    "RequesterManaged",
                    "TagSet",
                    "InterfaceType",
                ] {
                    m.remove(k);
                }
            }
            e
        })
        .collect::<Vec<_>>());
    Ok(i)
}

pub fn run(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let p = &call.params;
    let image = p.require("ImageId")?;
    authorize(
        call,
        &[
            format!("arn:aws:ec2:{}::image/{image}", call.region),
            call.ec2_arn("instance", "*"),
        ],
    )?;
    if !image.starts_with("ami-") || image.len() < 5 {
        return Err(ApiError::client(
            "InvalidAMIID.Malformed",
            format!("Invalid id: \"{image}\" (expecting \"ami-...\")"),
        ));
    }
    let min = p
        .int("MinCount")?
        .ok_or_else(|| ApiError::missing_parameter("MinCount"))?;
    let max = p
        .int("MaxCount")?
        .ok_or_else(|| ApiError::missing_parameter("MaxCount"))?;
    if min < 1 || max < min || max > 100 {
        return Err(ApiError::invalid_value(
            "MaxCount",
            &max.to_string(),
            "MinCount must be at least 1 and at most MaxCount (at most 100 here).",
        ));
    }
    let nic = p.nested("NetworkInterface.1");
    let subnet_id = p.get("SubnetId").or(nic.get("SubnetId"));
    let subnet = match subnet_id {
        Some(s) => super::subnets::require_subnet(tx, call, s)?,
        None => tx
            .list(&call.region, "Subnets")?
            .into_iter()
            .find(|s| s["DefaultForAz"] == true)
            .ok_or_else(|| ApiError::client("VPCIdNotSpecified", "No default VPC for this user"))?,
    };
    let vpc = subnet["VpcId"].as_str().unwrap_or_default().to_string();
    let mut group_ids = p.ec2_list("SecurityGroupId");
    group_ids.extend(nic.ec2_list("SecurityGroupId"));
    let groups = groups_for(tx, call, &group_ids, &vpc)?;
    let public = nic
        .bool("AssociatePublicIpAddress")?
        .unwrap_or(subnet["MapPublicIpOnLaunch"] == true);
    let tags = common::tags_for(call, "instance")?;
    let instance_type = p.get("InstanceType").unwrap_or("m1.small");
    let asked_ip = p.get("PrivateIpAddress").or(nic.get("PrivateIpAddress"));
    if asked_ip.is_some() && max > 1 {
        return Err(ApiError::client(
            "InvalidParameterCombination",
            "Cannot specify a private IP address when launching more than one instance.",
        ));
    }
    let reservation_id = resource_id("r");
    let mut instances = Vec::new();
    for index in 0..max {
        let id = resource_id("i");
        let ip = pick_address(tx, call, &subnet, asked_ip)?;
        let mut eni = new_interface(call, &subnet, ip, groups.clone(), "");
        eni["Status"] = json!("in-use");
        eni["Attachment"] = json!({"AttachmentId": resource_id("eni-attach"), "InstanceId": id, "InstanceOwnerId": call.account,
            "DeviceIndex": 0, "Status": "attached", "DeleteOnTermination": true, "AttachTime": common::iso8601(call.now)});
        if public {
            let ip = public_address(tx, &call.region)?;
            set_public(
                &mut eni,
                Some(json!({"PublicIp": ip, "IpOwnerId": "amazon"})),
                &call.region,
            );
        }
        tx.put(
            &call.region,
            "NetworkInterfaces",
            eni["NetworkInterfaceId"].as_str().unwrap_or_default(),
            &eni,
        )?;
        let mut inst = json!({
            "InstanceId": id,
            "ImageId": image,
            "InstanceType": instance_type,
            "AmiLaunchIndex": index,
            "LaunchTime": common::iso8601(call.now),
            "Placement": {"AvailabilityZone": subnet["AvailabilityZone"], "GroupName": "", "Tenancy": "default"},
            "State": state("pending"),
            "StateTransitionReason": "",
            "Architecture": "x86_64",
            "Hypervisor": "xen",
            "VirtualizationType": "hvm",
            "RootDeviceType": "ebs",
            "RootDeviceName": "/dev/xvda",
            "EbsOptimized": false,
            "Monitoring": {"State": "disabled"},
            SINCE: common::epoch_ms(call.now),
        });
        if let Some(k) = p.get("KeyName") {
            inst["KeyName"] = json!(k);
        }
        if let Some(t) = p.get("ClientToken") {
            inst["ClientToken"] = json!(t);
        }
        if !tags.is_empty() {
            inst["Tags"] = json!(tags);
        }
        instances.push(inst);
    }
    let reservation = json!({"ReservationId": reservation_id, "OwnerId": call.account, "Groups": [], "Instances": instances});
    put_reservation(tx, call, &reservation)?;
    call.changed(&call.region);
    let shown: Vec<Value> = instances
        .iter()
        .map(|i| described(tx, &call.region, i))
        .collect::<Result<_, _>>()?;
    let mut w = crate::xml::XmlWriter::new();
    w.leaf("reservationId", &reservation_id)
        .leaf("ownerId", &call.account);
    w.element("groupSet", |_| {});
    render::member(&mut w, render::Shape::Plain, "Instances", &json!(shown));
    Ok(w.finish())
}

/// Moves every named instance from one of `from` to `to` (the transient state), answering
/// with each one's previous and current state.
fn transition(
    tx: &Tx<'_>,
    call: &Call,
    from: &[&str],
    to: &str,
    list_key: &str,
) -> Result<String, ApiError> {
    let ids = call.params.ec2_list("InstanceId");
    let arns: Vec<String> = ids.iter().map(|i| call.ec2_arn("instance", i)).collect();
    authorize(
        call,
        &if arns.is_empty() {
            vec!["*".to_string()]
        } else {
            arns
        },
    )?;
    if ids.is_empty() {
        return Err(ApiError::missing_parameter("InstanceId"));
    }
    let mut changes = Vec::new();
    for id in &ids {
        let (mut r, at) = find(tx, call, id)?;
        let inst = &mut r["Instances"][at];
        let previous = inst["State"].clone();
        let name = previous["Name"].as_str().unwrap_or_default().to_string();
        let current = if name == to
            || (to == "shutting-down" && name == "terminated")
            || (to == "stopping" && name == "stopped")
        {
            previous.clone()
        } else if from.contains(&name.as_str()) {
            inst["State"] = state(to);
            inst[SINCE] = json!(common::epoch_ms(call.now));
            if to != "pending" {
                inst["StateTransitionReason"] =
                    json!(format!("User initiated ({})", common::iso8601(call.now)));
            }
            state(to)
        } else {
            let verb = match to {
                "stopping" => "stopped",
                "pending" => "started",
                _ => "terminated",
            };
            return Err(ApiError::client(
                "IncorrectInstanceState",
                format!("The instance '{id}' is not in a state from which it can be {verb}."),
            ));
        };
        put_reservation(tx, call, &r)?;
        if current != previous {
            after_transition(tx, call, id, to)?;
        }
        changes.push(json!({"InstanceId": id, "CurrentState": current, "PreviousState": previous}));
    }
    call.changed(&call.region);
    Ok(render::list(list_key, &changes))
}

/// What a state change does to the interfaces: termination deletes those marked
/// `DeleteOnTermination` (freeing their Elastic IPs), a stop releases automatic public
/// addresses.
fn after_transition(tx: &Tx<'_>, call: &Call, id: &str, to: &str) -> Result<(), ApiError> {
    for mut eni in interfaces_of(tx, &call.region, id)? {
        let eni_id = eni["NetworkInterfaceId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let automatic = eni["Association"]["IpOwnerId"] == "amazon";
        match to {
            "shutting-down" if eni["Attachment"]["DeleteOnTermination"] == true => {
                interfaces::release_association(tx, &call.region, &eni)?;
                tx.delete(&call.region, "NetworkInterfaces", &eni_id)?;
            }
            "shutting-down" | "stopping" if automatic => {
                set_public(&mut eni, None, &call.region);
                tx.put(&call.region, "NetworkInterfaces", &eni_id, &eni)?;
            }
            _ => {}
        }
    }
    Ok(())
}

pub fn terminate(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    transition(
        tx,
        call,
        &["pending", "running", "stopping", "stopped"],
        "shutting-down",
        "TerminatingInstances",
    )
}

pub fn stop(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    transition(
        tx,
        call,
        &["pending", "running"],
        "stopping",
        "StoppingInstances",
    )
}

pub fn start(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    transition(tx, call, &["stopped"], "pending", "StartingInstances")
}

pub fn describe(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::authorize_describe(call)?;
    let ids = call.params.ec2_list("InstanceId");
    for id in &ids {
        find(tx, call, id)?;
    }
    let wanted = filters::parse(call, FILTERS)?;
    let mut out = Vec::new();
    for mut r in reservations(tx, call)? {
        let mut kept = Vec::new();
        for inst in r["Instances"].as_array().into_iter().flatten() {
            if !ids.is_empty() && !ids.contains(&instance_id(inst)) {
                continue;
            }
            let mut d = described(tx, &call.region, inst)?;
            d["VpcsimReservationId"] = r["ReservationId"].clone();
            if wanted.iter().all(|f| f.matches(&d)) {
                kept.push(d);
            }
        }
        if !kept.is_empty() {
            r["Instances"] = json!(kept);
            out.push(r);
        }
    }
    let (items, next) = common::page(call, out, !ids.is_empty())?;
    Ok(render::list("Reservations", &items) + &common::next_token(next))
}

/// Advances instances whose transient state is over; `true` when any changed.
pub fn settle(tx: &Tx<'_>, call: &Call, now: i64, delay: i64) -> Result<bool, ApiError> {
    let mut changed = false;
    for mut r in reservations(tx, call)? {
        let list = match r["Instances"].as_array_mut() {
            Some(l) => l,
            None => continue,
        };
        let before = list.len();
        list.retain(|i| {
            !(i["State"]["Name"] == "terminated"
                && i[SINCE]
                    .as_i64()
                    .is_some_and(|t| now - t >= TERMINATED_KEPT_MS))
        });
        let mut touched = list.len() != before;
        for inst in list.iter_mut() {
            let due = inst[SINCE].as_i64().is_some_and(|t| now - t >= delay);
            let next = match inst["State"]["Name"].as_str() {
                Some("pending") if due => "running",
                Some("stopping") if due => "stopped",
                Some("shutting-down") if due => "terminated",
                _ => continue,
            };
            inst["State"] = state(next);
            inst[SINCE] = json!(now);
            touched = true;
        }
        let id = r["ReservationId"].as_str().unwrap_or_default().to_string();
        if r["Instances"].as_array().is_some_and(|l| l.is_empty()) {
            tx.delete(&call.region, "Reservations", &id)?;
            changed = true;
        } else if touched {
            tx.put(&call.region, "Reservations", &id, &r)?;
            changed = true;
        }
    }
    Ok(changed)
}
