//! VPC flow logs (`CreateFlowLogs`, `DescribeFlowLogs`, `DeleteFlowLogs`) published to CloudWatch
//! Logs, and their delivery: the records a replay through the region's data plane wrote go to
//! the log group of every flow log whose resource (VPC, subnet or interface) and traffic type
//! they match, one stream per interface (`eni-…-all`), as AWS delivers them.
//!
//! Flow logs are stored as the documents `aws ec2 describe-flow-logs` prints (kind `FlowLogs`);
//! they are not network, so creating one recompiles nothing.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::{json, Value};
use vpcsim_dataplane::topology::EniIdx;
use vpcsim_dataplane::Topology;

use super::common::{self, authorize, Listing};
use super::render::{self, Shape};
use crate::call::Call;
use crate::error::ApiError;
use crate::ids::resource_id;
use crate::store::{Store, Tx};
use crate::xml::XmlWriter;

const KIND: &str = "FlowLogs";

/// AWS's default (version 2) record format, what a flow log without `LogFormat` writes.
pub const DEFAULT_LOG_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

const FILTERS: &[(&str, &str)] = &[
    ("flow-log-id", "FlowLogId"),
    ("resource-id", "ResourceId"),
    ("log-group-name", "LogGroupName"),
    ("traffic-type", "TrafficType"),
    ("log-destination-type", "LogDestinationType"),
    ("deliver-log-status", "DeliverLogsStatus"),
];

/// The stored kind and not-found code of each `ResourceType`, with its ARN resource type.
fn resource_kind(resource_type: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match resource_type {
        "VPC" => ("Vpcs", "VpcId", "vpc"),
        "Subnet" => ("Subnets", "SubnetId", "subnet"),
        "NetworkInterface" => (
            "NetworkInterfaces",
            "NetworkInterfaceId",
            "network-interface",
        ),
        _ => return None,
    })
}

fn not_found_code(resource_type: &str) -> &'static str {
    match resource_type {
        "VPC" => "InvalidVpcID.NotFound",
        "Subnet" => "InvalidSubnetID.NotFound",
        _ => "InvalidNetworkInterfaceID.NotFound",
    }
}

/// The checked parameters of a `CreateFlowLogs`.
struct Request<'c> {
    resource_type: &'c str,
    resource_ids: Vec<&'c str>,
    traffic_type: &'c str,
    log_group: &'c str,
    role: &'c str,
    log_format: &'c str,
    interval: i64,
}

fn parse(call: &Call) -> Result<Request<'_>, ApiError> {
    let p = &call.params;
    let resource_type = p.require("ResourceType")?;
    if resource_kind(resource_type).is_none() {
        return Err(ApiError::invalid_value(
            "ResourceType",
            resource_type,
            "This server creates flow logs of VPC, Subnet and NetworkInterface resources.",
        ));
    }
    let resource_ids = p.ec2_list("ResourceId");
    if resource_ids.is_empty() {
        return Err(ApiError::missing_parameter("ResourceId"));
    }
    let traffic_type = p.require("TrafficType")?;
    if !matches!(traffic_type, "ACCEPT" | "REJECT" | "ALL") {
        return Err(ApiError::invalid_value(
            "TrafficType",
            traffic_type,
            "Expected ACCEPT, REJECT or ALL.",
        ));
    }
    let destination = p.get("LogDestinationType").unwrap_or("cloud-watch-logs");
    if destination != "cloud-watch-logs" {
        return Err(ApiError::client(
            "UnsupportedOperation",
            format!("LogDestinationType {destination} is not supported by this server: flow logs are delivered to CloudWatch Logs (cloud-watch-logs)."),
        ));
    }
    let log_group = match (p.get("LogGroupName"), p.get("LogDestination")) {
        (Some(g), _) => g,
        (None, Some(arn)) => arn
            .split_once(":log-group:")
            .map(|(_, g)| g.trim_end_matches(":*"))
            .ok_or_else(|| {
                ApiError::invalid_value("LogDestination", arn, "Expected a log group ARN.")
            })?,
        (None, None) => return Err(ApiError::missing_parameter("LogGroupName")),
    };
    let role = p.get("DeliverLogsPermissionArn").ok_or_else(|| {
        ApiError::client(
            "InvalidParameter",
            "DeliverLogsPermissionArn is required when LogDestinationType is cloud-watch-logs.",
        )
    })?;
    let interval = p.int("MaxAggregationInterval")?.unwrap_or(600);
    if interval != 60 && interval != 600 {
        return Err(ApiError::invalid_value(
            "MaxAggregationInterval",
            &interval.to_string(),
            "Expected 60 or 600.",
        ));
    }
    let log_format = p.get("LogFormat").unwrap_or(DEFAULT_LOG_FORMAT);
    if !log_format
        .split(' ')
        .all(|f| f.starts_with("${") && f.ends_with('}') && f.len() > 3)
    {
        return Err(ApiError::invalid_value(
            "LogFormat",
            log_format,
            "Expected ${field} names separated by single spaces.",
        ));
    }
    Ok(Request {
        resource_type,
        resource_ids,
        traffic_type,
        log_group,
        role,
        log_format,
        interval,
    })
}

/// `CreateFlowLogs`: one flow log per resource, to a CloudWatch Logs group.
pub fn create(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let r = parse(call)?;
    let (kind, id_field, arn_type) = resource_kind(r.resource_type).unwrap_or_default();
    let mut arns: Vec<String> = r
        .resource_ids
        .iter()
        .map(|id| call.ec2_arn(arn_type, id))
        .collect();
    arns.push(call.ec2_arn("vpc-flow-log", "*"));
    authorize(call, &arns)?;
    let tags = common::tags_for(call, "vpc-flow-log")?;
    let stored = tx.list(&call.region, kind)?;
    let mut ids = Vec::new();
    for resource in &r.resource_ids {
        if !stored.iter().any(|d| d[id_field] == *resource) {
            return Err(common::not_found(
                not_found_code(r.resource_type),
                arn_type,
                resource,
            ));
        }
        let id = resource_id("fl");
        let mut doc = json!({
            "CreationTime": common::iso8601(call.now),
            "DeliverLogsPermissionArn": r.role,
            "DeliverLogsStatus": "SUCCESS",
            "FlowLogId": id,
            "FlowLogStatus": "ACTIVE",
            "LogGroupName": r.log_group,
            "ResourceId": resource,
            "TrafficType": r.traffic_type,
            "LogDestinationType": "cloud-watch-logs",
            "LogDestination": format!("arn:aws:logs:{}:{}:log-group:{}", call.region, call.account, r.log_group),
            "LogFormat": r.log_format,
            "MaxAggregationInterval": r.interval,
        });
        if !tags.is_empty() {
            doc["Tags"] = json!(tags);
        }
        tx.put(&call.region, KIND, &id, &doc)?;
        ids.push(json!(id));
    }
    let mut w = XmlWriter::new();
    render::member(&mut w, Shape::Plain, "FlowLogIdSet", &Value::Array(ids));
    w.element("unsuccessful", |_| {});
    Ok(w.finish())
}

/// `DescribeFlowLogs`: by id and filters, paged.
pub fn describe(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    common::authorize_describe(call)?;
    let docs = tx.list(&call.region, KIND)?;
    let (items, next) = common::select(
        call,
        docs,
        &Listing {
            kind: KIND,
            ids: ("FlowLogId", "FlowLogId"),
            not_found: ("InvalidFlowLogId.NotFound", "flow log"),
            filters: FILTERS,
        },
    )?;
    let mut w = XmlWriter::new();
    w.element("flowLogSet", |w| {
        for item in &items {
            w.element("item", |w| render::body(w, Shape::Plain, item));
        }
    });
    Ok(w.finish() + &common::next_token(next))
}

/// `DeleteFlowLogs`: unknown ids are answered as `unsuccessful` items.
pub fn delete(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    let ids = call.params.ec2_list("FlowLogId");
    if ids.is_empty() {
        return Err(ApiError::missing_parameter("FlowLogId"));
    }
    let arns: Vec<String> = ids
        .iter()
        .map(|id| call.ec2_arn("vpc-flow-log", id))
        .collect();
    authorize(call, &arns)?;
    let mut w = XmlWriter::new();
    let mut missing = Vec::new();
    for id in ids {
        if tx.get(&call.region, KIND, id)?.is_some() {
            tx.delete(&call.region, KIND, id)?;
        } else {
            missing.push(id);
        }
    }
    // AWS answers unknown ids item by item rather than failing the call.
    w.element("unsuccessful", |w| {
        for id in &missing {
            w.element("item", |w| {
                w.element("error", |w| {
                    w.leaf("code", "InvalidFlowLogId.NotFound");
                    w.leaf("message", format!("Unknown resource {id}"));
                });
                w.leaf("resourceId", id);
            });
        }
    });
    Ok(w.finish())
}

/// One record a replay wrote for an interface.
#[derive(Debug, Clone)]
pub struct FlowLogLine {
    /// The interface whose record it is.
    pub eni: EniIdx,
    /// The record's end, seconds since the epoch.
    pub end_s: u64,
    /// An `ACCEPT` record (else `REJECT`).
    pub accept: bool,
    /// The record as written, in the flow logs' `LogFormat`.
    pub line: String,
}

/// The format and aggregation interval records are written in for `region`'s flow logs: the
/// oldest flow log's. `None` when the region has no flow log.
pub fn region_format(store: &Store, region: &str) -> Result<Option<(String, u64)>, ApiError> {
    let mut logs = store.read(|tx| tx.list(region, KIND))?;
    logs.sort_by(|a, b| a["CreationTime"].as_str().cmp(&b["CreationTime"].as_str()));
    Ok(logs.first().map(|l| {
        (
            l["LogFormat"]
                .as_str()
                .unwrap_or(DEFAULT_LOG_FORMAT)
                .to_string(),
            l["MaxAggregationInterval"].as_u64().unwrap_or(600),
        )
    }))
}

/// Delivers `records`, written in `format` (see [`region_format`]), to the log groups of the
/// flow logs of `region` that cover their interfaces. Answers, per flow log id, the records
/// delivered, and the ids of flow logs left out because their format or interval differs.
pub fn deliver_flow_logs(
    store: &Store,
    region: &str,
    account: &str,
    topology: &Topology,
    format: &(String, u64),
    records: &[FlowLogLine],
    now: SystemTime,
) -> Result<Value, ApiError> {
    let logs = store.read(|tx| tx.list(region, KIND))?;
    let (same, other): (Vec<&Value>, Vec<&Value>) = logs.iter().partition(|l| {
        l["LogFormat"].as_str().unwrap_or(DEFAULT_LOG_FORMAT) == format.0
            && l["MaxAggregationInterval"].as_u64().unwrap_or(600) == format.1
    });
    let mut streams: BTreeMap<(String, String), Vec<(i64, String)>> = BTreeMap::new();
    let mut delivered: BTreeMap<String, u64> = same
        .iter()
        .filter_map(|l| Some((l["FlowLogId"].as_str()?.to_string(), 0)))
        .collect();
    for r in records {
        let Some(eni) = topology.enis.get(r.eni) else {
            continue;
        };
        let eni_id = topology.resource(eni.res).aws_id.as_str();
        let subnet_id = topology
            .resource(topology.subnets[eni.subnet].res)
            .aws_id
            .as_str();
        let vpc_id = topology
            .resource(topology.vpcs[eni.vpc].res)
            .aws_id
            .as_str();
        for l in &same {
            let covers =
                [eni_id, subnet_id, vpc_id].contains(&l["ResourceId"].as_str().unwrap_or(""));
            let wanted = match l["TrafficType"].as_str() {
                Some("ACCEPT") => r.accept,
                Some("REJECT") => !r.accept,
                _ => true,
            };
            if !(covers && wanted) {
                continue;
            }
            let group = l["LogGroupName"].as_str().unwrap_or_default().to_string();
            streams
                .entry((group, format!("{eni_id}-all")))
                .or_default()
                .push((r.end_s as i64 * 1000, r.line.clone()));
            if let Some(n) = l["FlowLogId"].as_str().and_then(|id| delivered.get_mut(id)) {
                *n += 1;
            }
        }
    }
    for ((group, stream), events) in &streams {
        crate::services::logs::deliver(store, region, account, group, stream, events, now)?;
    }
    let skipped: Vec<&Value> = other.iter().map(|l| &l["FlowLogId"]).collect();
    Ok(json!({"delivered": delivered, "skipped_other_format": skipped}))
}
