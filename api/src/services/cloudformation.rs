//! AWS CloudFormation (Query): stacks deployed with vpcsim's template loader.
//!
//! `CreateStack` loads the template on top of the region's current network (so parameters may
//! name existing resources), exports the new resources as describe-* documents tagged with the
//! stack's `aws:cloudformation:*` tags and stores them in the region: the stack's network is
//! then what `Describe*` answers and what the data plane runs. The stack itself is a `Stacks`
//! document; its resources are deleted with it.

use serde_json::{json, Value};
use vpcsim_controlplane::load::{load_sources, Severity, Source};
use vpcsim_controlplane::Loaded;

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::plane::{load_options, load_region, model_documents};
use crate::service::Service;
use crate::services::ec2::{common_iso8601, store_documents};
use crate::store::{Store, Tx};
use crate::xml::{escape, query_response};

const STACKS: &str = "Stacks";
const STACK_NAME_TAG: &str = "aws:cloudformation:stack-name";
const STACK_ID_TAG: &str = "aws:cloudformation:stack-id";
const LOGICAL_ID_TAG: &str = "aws:cloudformation:logical-id";

/// Answers one CloudFormation call.
pub fn handle(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let body = store.write(|tx| match call.action.as_str() {
        "CreateStack" => create(tx, call),
        "DescribeStacks" => describe(tx, call),
        "DescribeStackResources" => resources(tx, call),
        "DeleteStack" => delete(tx, call),
        "ListStacks" => list(tx, call),
        "ListExports" => exports(tx, call),
        other => Err(ApiError::invalid_action(other)),
    })?;
    let xmlns = Service::CloudFormation.xmlns();
    Ok(Reply::Xml(query_response(
        &call.action,
        xmlns,
        &call.request_id,
        body.as_deref(),
    )))
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::client("ValidationError", message)
}

fn stack_arn(call: &Call, name: &str, uuid: &str) -> String {
    format!(
        "arn:aws:cloudformation:{}:{}:stack/{name}/{uuid}",
        call.region, call.account
    )
}

/// The live stack a `StackName` (a name or a stack id) names.
fn find_stack(tx: &Tx<'_>, call: &Call, name: &str) -> Result<Option<Value>, ApiError> {
    Ok(tx.list(&call.region, STACKS)?.into_iter().find(|s| {
        s["StackId"] == name || (s["StackName"] == name && s["StackStatus"] != "DELETE_COMPLETE")
    }))
}

fn require_stack(tx: &Tx<'_>, call: &Call, name: &str) -> Result<Value, ApiError> {
    find_stack(tx, call, name)?
        .ok_or_else(|| validation(format!("Stack with id {name} does not exist")))
}

/// The CloudFormation type of a describe-* document kind.
fn resource_type(kind: &str, doc: &Value) -> &'static str {
    match kind {
        "Vpcs" => "AWS::EC2::VPC",
        "Subnets" => "AWS::EC2::Subnet",
        "RouteTables" => "AWS::EC2::RouteTable",
        "NetworkAcls" => "AWS::EC2::NetworkAcl",
        "SecurityGroups" => "AWS::EC2::SecurityGroup",
        "Reservations" => "AWS::EC2::Instance",
        "NetworkInterfaces" => "AWS::EC2::NetworkInterface",
        "InternetGateways" => "AWS::EC2::InternetGateway",
        "EgressOnlyInternetGateways" => "AWS::EC2::EgressOnlyInternetGateway",
        "NatGateways" => "AWS::EC2::NatGateway",
        "Addresses" => "AWS::EC2::EIP",
        "VpcPeeringConnections" => "AWS::EC2::VPCPeeringConnection",
        "PrefixLists" => "AWS::EC2::PrefixList",
        "TransitGateways" => "AWS::EC2::TransitGateway",
        "TransitGatewayRouteTables" => "AWS::EC2::TransitGatewayRouteTable",
        "TransitGatewayVpcAttachments" => "AWS::EC2::TransitGatewayAttachment",
        "VpnGateways" => "AWS::EC2::VPNGateway",
        "CustomerGateways" => "AWS::EC2::CustomerGateway",
        "VpnConnections" => "AWS::EC2::VPNConnection",
        "VpcEndpoints" => "AWS::EC2::VPCEndpoint",
        "LoadBalancers" => "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "TargetGroups" => "AWS::ElasticLoadBalancingV2::TargetGroup",
        "Listeners" => "AWS::ElasticLoadBalancingV2::Listener",
        _ => {
            let _ = doc;
            "AWS::CloudFormation::CustomResource"
        }
    }
}

/// Where a document's tags are: instances inside a reservation, `TagSet` on interfaces.
fn tag_lists<'d>(kind: &str, doc: &'d mut Value) -> Vec<&'d mut Value> {
    match kind {
        "Reservations" => doc["Instances"]
            .as_array_mut()
            .map(|l| l.iter_mut().collect())
            .unwrap_or_default(),
        _ => vec![doc],
    }
}

fn tag_member(kind: &str) -> &'static str {
    if kind == "NetworkInterfaces" {
        "TagSet"
    } else {
        "Tags"
    }
}

fn logical_id(kind: &str, doc: &Value) -> Option<String> {
    let holder = if kind == "Reservations" {
        &doc["Instances"][0]
    } else {
        doc
    };
    holder[tag_member(kind)]
        .as_array()?
        .iter()
        .find(|t| t["Key"] == LOGICAL_ID_TAG)
        .and_then(|t| t["Value"].as_str())
        .map(str::to_string)
}

fn create(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    let p = &call.params;
    let name = p.require("StackName")?;
    let uuid = crate::ids::uuid();
    let id = stack_arn(call, name, &uuid);
    call.authorize(std::slice::from_ref(&id), &[])?;
    let valid = name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
        )));
    }
    let Some(body) = p.get("TemplateBody") else {
        return Err(validation("Either TemplateBody or TemplateURL must be specified (TemplateURL is not supported by vpcsim serve: pass the template's body)."));
    };
    if find_stack(tx, call, name)?.is_some() {
        return Err(ApiError::client(
            "AlreadyExistsException",
            format!("Stack [{name}] already exists"),
        ));
    }
    let parameters: Vec<(String, String)> = p
        .query_structs("Parameters")
        .into_iter()
        .filter_map(|m| {
            Some((
                m.get("ParameterKey")?.to_string(),
                m.get("ParameterValue")?.to_string(),
            ))
        })
        .collect();
    let (existing_model, existing_diags) = load_region(tx, &call.account, &call.region)?;
    let mut opts = load_options(&call.account, &call.region);
    opts.parameters = parameters
        .iter()
        .map(|(k, v)| (format!("{name}:{k}"), v.clone()))
        .collect();
    // `Fn::ImportValue` sees the exports of the region's live stacks.
    let live_exports = all_exports(tx, call)?;
    opts.imports = live_exports
        .iter()
        .map(|e| (e.1.clone(), e.2.clone()))
        .collect();
    let imported: Vec<String> = live_exports
        .iter()
        .filter(|e| body.contains(e.1.as_str()))
        .map(|e| e.1.clone())
        .collect();
    let source = Source {
        path: format!("{name}.template").into(),
        text: body.to_string(),
    };
    let existing = Loaded {
        model: existing_model,
        diagnostics: existing_diags,
    };
    let loaded = load_sources(&[(Some(name.to_string()), source)], Some(existing), &opts);
    let stack_path = std::path::PathBuf::from(format!("{name}.template"));
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error && d.file == stack_path)
        .map(|d| match &d.logical_id {
            Some(l) => format!("{l}: {} ({})", d.message, d.code),
            None => format!("{} ({})", d.message, d.code),
        })
        .collect();
    let template_broken = loaded.diagnostics.iter().any(|d| {
        d.severity == Severity::Error
            && d.file == stack_path
            && d.logical_id.is_none()
            && d.code.starts_with("InvalidTemplate")
    });
    if template_broken {
        return Err(validation(format!(
            "Template format error: {}",
            errors.join("; ")
        )));
    }
    let mut stack = json!({
        "StackId": id,
        "StackName": name,
        "CreationTime": common_iso8601(call.now),
        "Description": null,
        "Parameters": parameters.iter().map(|(k, v)| json!({"ParameterKey": k, "ParameterValue": v})).collect::<Vec<_>>(),
        "DisableRollback": p.bool("DisableRollback")?.unwrap_or(false),
        "Tags": p.query_structs("Tags").iter().map(|t| json!({"Key": t.get("Key"), "Value": t.get("Value")})).collect::<Vec<_>>(),
        "Resources": [],
        "Outputs": [],
    });
    if !errors.is_empty() {
        // The resources that failed roll the whole stack back: nothing of it is stored.
        let rollback =
            p.bool("DisableRollback")? != Some(true) && p.get("OnFailure") != Some("DO_NOTHING");
        stack["StackStatus"] = json!(if rollback {
            "ROLLBACK_COMPLETE"
        } else {
            "CREATE_FAILED"
        });
        stack["StackStatusReason"] = json!(format!(
            "The following resource(s) failed to create: {}",
            errors.join("; ")
        ));
        tx.put(&call.region, STACKS, &id, &stack)?;
        return Ok(Some(format!("<StackId>{}</StackId>", escape(&id))));
    }
    let (new_docs, resources) = stack_documents(tx, call, &loaded.model, name, &id)?;
    store_documents(tx, &call.region, &call.account, &new_docs)?;
    stack["Resources"] = json!(resources);
    stack["VpcsimDocuments"] = json!(new_docs
        .iter()
        .map(|(k, i, _)| json!([k, i]))
        .collect::<Vec<_>>());
    stack["Outputs"] = json!(loaded
        .model
        .outputs
        .iter()
        .filter(|o| o.stack == name)
        .map(|o| json!({"OutputKey": o.key, "OutputValue": o.value, "Description": o.description, "ExportName": o.export_name}))
        .collect::<Vec<_>>());
    stack["VpcsimImports"] = json!(imported);
    stack["StackStatus"] = json!("CREATE_COMPLETE");
    tx.put(&call.region, STACKS, &id, &stack)?;
    call.changed(&call.region);
    Ok(Some(format!("<StackId>{}</StackId>", escape(&id))))
}

/// Describe-* documents as `(kind, id, document)`.
type Documents = Vec<(String, String, Value)>;

/// The documents of a model that the region does not hold yet (the new stack's), tagged with
/// the stack's tags, and the stack's resources as `DescribeStackResources` lists them.
fn stack_documents(
    tx: &Tx<'_>,
    call: &Call,
    model: &vpcsim_controlplane::Model,
    name: &str,
    id: &str,
) -> Result<(Documents, Vec<Value>), ApiError> {
    let mut stored = std::collections::HashSet::new();
    for (kind, docs) in tx.list_all(&call.region)? {
        let field = crate::plane::id_field(&kind);
        for d in docs {
            stored.insert((
                kind.clone(),
                d[field].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    let mut new_docs = Vec::new();
    let mut resources = Vec::new();
    for (kind, rid, mut doc) in model_documents(model) {
        if stored.contains(&(kind.clone(), rid.clone())) {
            continue;
        }
        let logical = logical_id(&kind, &doc);
        for holder in tag_lists(&kind, &mut doc) {
            let member = tag_member(&kind);
            if !holder[member].is_array() {
                holder[member] = json!([]);
            }
            if let Some(list) = holder[member].as_array_mut() {
                list.push(json!({"Key": STACK_NAME_TAG, "Value": name}));
                list.push(json!({"Key": STACK_ID_TAG, "Value": id}));
            }
        }
        if let Some(l) = logical.filter(|l| !is_implicit(l)) {
            let physical = if kind == "Reservations" {
                doc["Instances"][0]["InstanceId"]
                    .as_str()
                    .unwrap_or(&rid)
                    .to_string()
            } else {
                rid.clone()
            };
            resources.push(
                json!({"LogicalResourceId": l, "PhysicalResourceId": physical,
                "ResourceType": resource_type(&kind, &doc), "ResourceStatus": "CREATE_COMPLETE",
                "Timestamp": common_iso8601(call.now), "VpcsimKind": kind, "VpcsimId": rid}),
            );
        }
        new_docs.push((kind, rid, doc));
    }
    Ok((new_docs, resources))
}

/// The resources vpcsim creates alongside a declared one (a VPC's main route table).
fn is_implicit(logical: &str) -> bool {
    [
        "MainRouteTable",
        "DefaultNetworkAcl",
        "DefaultSecurityGroup",
        "DefaultRouteTable",
        "Attachment",
    ]
    .iter()
    .any(|s| logical.ends_with(&format!(".{s}")))
}

fn members(items: &[Value], fields: &[&str]) -> String {
    let mut out = String::new();
    for item in items {
        out.push_str("<member>");
        for f in fields {
            match &item[*f] {
                Value::Null => {}
                Value::String(s) => out.push_str(&format!("<{f}>{}</{f}>", escape(s))),
                v => out.push_str(&format!("<{f}>{v}</{f}>")),
            }
        }
        out.push_str("</member>");
    }
    out
}

fn stack_xml(s: &Value) -> String {
    let mut out = String::from("<member>");
    for f in [
        "StackId",
        "StackName",
        "Description",
        "CreationTime",
        "DeletionTime",
        "StackStatus",
        "StackStatusReason",
        "DisableRollback",
    ] {
        match &s[f] {
            Value::Null => {}
            Value::String(v) => out.push_str(&format!("<{f}>{}</{f}>", escape(v))),
            v => out.push_str(&format!("<{f}>{v}</{f}>")),
        }
    }
    let list = |key: &str| s[key].as_array().cloned().unwrap_or_default();
    out += &format!(
        "<Parameters>{}</Parameters>",
        members(&list("Parameters"), &["ParameterKey", "ParameterValue"])
    );
    out += &format!(
        "<Outputs>{}</Outputs>",
        members(
            &list("Outputs"),
            &["OutputKey", "OutputValue", "Description", "ExportName"]
        )
    );
    out += &format!("<Tags>{}</Tags>", members(&list("Tags"), &["Key", "Value"]));
    out += "<EnableTerminationProtection>false</EnableTerminationProtection><DriftInformation><StackDriftStatus>NOT_CHECKED</StackDriftStatus></DriftInformation></member>";
    out
}

fn describe(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let stacks = match call.params.get("StackName") {
        Some(n) => vec![require_stack(tx, call, n)?],
        None => tx
            .list(&call.region, STACKS)?
            .into_iter()
            .filter(|s| s["StackStatus"] != "DELETE_COMPLETE")
            .collect(),
    };
    let body: String = stacks.iter().map(stack_xml).collect();
    Ok(Some(format!("<Stacks>{body}</Stacks>")))
}

fn resources(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let stack = match (
        call.params.get("StackName"),
        call.params.get("PhysicalResourceId"),
    ) {
        (Some(n), _) => require_stack(tx, call, n)?,
        (None, Some(pid)) => tx
            .list(&call.region, STACKS)?
            .into_iter()
            .find(|s| {
                s["Resources"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|r| r["PhysicalResourceId"] == pid)
            })
            .ok_or_else(|| validation(format!("Stack for {pid} does not exist")))?,
        (None, None) => {
            return Err(validation(
                "Either StackName or PhysicalResourceId must be specified.",
            ))
        }
    };
    let mut list = stack["Resources"].as_array().cloned().unwrap_or_default();
    if let Some(l) = call.params.get("LogicalResourceId") {
        list.retain(|r| r["LogicalResourceId"] == l);
    }
    for r in &mut list {
        r["StackName"] = stack["StackName"].clone();
        r["StackId"] = stack["StackId"].clone();
    }
    let fields = [
        "StackName",
        "StackId",
        "LogicalResourceId",
        "PhysicalResourceId",
        "ResourceType",
        "Timestamp",
        "ResourceStatus",
    ];
    Ok(Some(format!(
        "<StackResources>{}</StackResources>",
        members(&list, &fields)
    )))
}

fn delete(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    let name = call.params.require("StackName")?;
    call.authorize(
        &[format!(
            "arn:aws:cloudformation:{}:{}:stack/{name}/*",
            call.region, call.account
        )],
        &[],
    )?;
    // Deleting a stack that does not exist succeeds and does nothing, as in AWS.
    let Some(mut stack) = find_stack(tx, call, name)? else {
        return Ok(None);
    };
    let id = stack["StackId"].as_str().unwrap_or_default().to_string();
    if stack["StackStatus"] == "DELETE_COMPLETE" {
        return Ok(None);
    }
    let importers: Vec<String> = importing_stacks(tx, call, &stack)?;
    if !importers.is_empty() {
        return Err(validation(format!(
            "Export of stack {name} cannot be deleted as it is in use by {}",
            importers.join(", ")
        )));
    }
    let (_, before) = load_region(tx, &call.account, &call.region)?;
    let errors_before = before
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let mut removed = Vec::new();
    for pair in stack["VpcsimDocuments"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let (Some(kind), Some(rid)) = (pair[0].as_str(), pair[1].as_str()) else {
            continue;
        };
        if let Some(doc) = tx.get(&call.region, kind, rid)? {
            tx.delete(&call.region, kind, rid)?;
            removed.push((kind.to_string(), rid.to_string(), doc));
        }
    }
    for (kind, rid, _) in &removed {
        if kind == "SecurityGroups" {
            super::ec2::delete_group_rules(tx, &call.region, rid)?;
        }
    }
    let (_, after) = load_region(tx, &call.account, &call.region)?;
    let broken: Vec<String> = after
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.message.clone())
        .collect();
    if broken.len() > errors_before {
        // Resources created outside the stack still use what it would delete.
        store_documents(tx, &call.region, &call.account, &removed)?;
        stack["StackStatus"] = json!("DELETE_FAILED");
        stack["StackStatusReason"] = json!(format!("The following resource(s) failed to delete: resources outside the stack depend on them ({})", broken.join("; ")));
    } else {
        stack["StackStatus"] = json!("DELETE_COMPLETE");
        stack["DeletionTime"] = json!(common_iso8601(call.now));
        call.changed(&call.region);
    }
    tx.put(&call.region, STACKS, &id, &stack)?;
    Ok(None)
}

/// Live stacks whose templates import one of `stack`'s exports.
fn importing_stacks(tx: &Tx<'_>, call: &Call, stack: &Value) -> Result<Vec<String>, ApiError> {
    let exports: Vec<String> = stack["Outputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["ExportName"].as_str().map(str::to_string))
        .collect();
    if exports.is_empty() {
        return Ok(vec![]);
    }
    Ok(tx
        .list(&call.region, STACKS)?
        .into_iter()
        .filter(|s| s["StackStatus"] == "CREATE_COMPLETE" && s["StackId"] != stack["StackId"])
        .filter(|s| {
            s["VpcsimImports"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|i| i.as_str().is_some_and(|i| exports.iter().any(|e| e == i)))
        })
        .filter_map(|s| s["StackName"].as_str().map(str::to_string))
        .collect())
}

fn list(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let wanted = call.params.query_list("StackStatusFilter");
    let stacks: Vec<Value> = tx
        .list(&call.region, STACKS)?
        .into_iter()
        .filter(|s| wanted.is_empty() || wanted.iter().any(|w| s["StackStatus"] == *w))
        .collect();
    let fields = [
        "StackId",
        "StackName",
        "CreationTime",
        "DeletionTime",
        "StackStatus",
        "StackStatusReason",
    ];
    Ok(Some(format!(
        "<StackSummaries>{}</StackSummaries>",
        members(&stacks, &fields)
    )))
}

/// The exports of the region's live stacks: (stack id, name, value).
fn all_exports(tx: &Tx<'_>, call: &Call) -> Result<Vec<(String, String, String)>, ApiError> {
    let mut out = Vec::new();
    for s in tx.list(&call.region, STACKS)? {
        if s["StackStatus"] != "CREATE_COMPLETE" {
            continue;
        }
        for o in s["Outputs"].as_array().into_iter().flatten() {
            if let (Some(n), Some(v)) = (o["ExportName"].as_str(), o["OutputValue"].as_str()) {
                out.push((
                    s["StackId"].as_str().unwrap_or_default().to_string(),
                    n.to_string(),
                    v.to_string(),
                ));
            }
        }
    }
    Ok(out)
}

fn exports(tx: &Tx<'_>, call: &Call) -> Result<Option<String>, ApiError> {
    call.authorize(&["*".to_string()], &[])?;
    let items: Vec<Value> = all_exports(tx, call)?
        .into_iter()
        .map(
            |(stack, name, value)| json!({"ExportingStackId": stack, "Name": name, "Value": value}),
        )
        .collect();
    Ok(Some(format!(
        "<Exports>{}</Exports>",
        members(&items, &["ExportingStackId", "Name", "Value"])
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;
    use crate::services::ec2::tests::call_with;

    fn cfn(store: &Store, action: &str, pairs: &[(&str, &str)]) -> Result<String, ApiError> {
        let mut c = call_with(action, Params::from_pairs(pairs.iter().copied()));
        c.service = Service::CloudFormation;
        match handle(store, &c)? {
            Reply::Xml(x) => Ok(x),
            other => panic!("{other:?}"),
        }
    }

    const NETWORK: &str = "
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.20.0.0/16}
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.20.1.0/24, AvailabilityZone: us-east-1a}
Outputs:
  VpcId:
    Value: !Ref Vpc
    Export: {Name: net-vpc}
";

    #[test]
    fn stacks_create_export_fail_and_delete() {
        let s = Store::open(None).unwrap();
        s.write(|tx| crate::plane::ensure_default_vpc(tx, "123456789012", "us-east-1"))
            .unwrap();
        cfn(
            &s,
            "CreateStack",
            &[("StackName", "net"), ("TemplateBody", NETWORK)],
        )
        .unwrap();
        assert_eq!(
            cfn(
                &s,
                "CreateStack",
                &[("StackName", "net"), ("TemplateBody", NETWORK)]
            )
            .unwrap_err()
            .code,
            "AlreadyExistsException"
        );
        assert_eq!(
            cfn(
                &s,
                "CreateStack",
                &[("StackName", "9bad"), ("TemplateBody", NETWORK)]
            )
            .unwrap_err()
            .code,
            "ValidationError"
        );
        assert_eq!(
            cfn(
                &s,
                "CreateStack",
                &[("StackName", "x"), ("TemplateBody", "Resources: [")]
            )
            .unwrap_err()
            .code,
            "ValidationError"
        );
        assert_eq!(
            cfn(&s, "CreateStack", &[("StackName", "x")])
                .unwrap_err()
                .code,
            "ValidationError"
        );
        let exports = cfn(&s, "ListExports", &[]).unwrap();
        assert!(exports.contains("<Name>net-vpc</Name>"));
        let vpc = s
            .read(|t| t.list("us-east-1", "Vpcs"))
            .unwrap()
            .into_iter()
            .find(|v| v["CidrBlock"] == "10.20.0.0/16")
            .unwrap();
        let vpc_id = vpc["VpcId"].as_str().unwrap().to_string();
        assert!(exports.contains(&format!("<Value>{vpc_id}</Value>")));

        // A second stack imports the export; the first cannot go while it does.
        let app = "
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: app, VpcId: !ImportValue net-vpc}
";
        cfn(
            &s,
            "CreateStack",
            &[("StackName", "app"), ("TemplateBody", app)],
        )
        .unwrap();
        let resources = cfn(&s, "DescribeStackResources", &[("StackName", "app")]).unwrap();
        assert!(resources.contains("<ResourceType>AWS::EC2::SecurityGroup</ResourceType>"));
        assert_eq!(
            cfn(&s, "DeleteStack", &[("StackName", "net")])
                .unwrap_err()
                .code,
            "ValidationError"
        );
        cfn(&s, "DeleteStack", &[("StackName", "app")]).unwrap();

        // A failing resource rolls the stack back: nothing of it is stored.
        let broken = "
Resources:
  Sub:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: vpc-0000000000000000e, CidrBlock: 10.30.1.0/24}
";
        cfn(
            &s,
            "CreateStack",
            &[("StackName", "broken"), ("TemplateBody", broken)],
        )
        .unwrap();
        let d = cfn(&s, "DescribeStacks", &[("StackName", "broken")]).unwrap();
        assert!(
            d.contains("<StackStatus>ROLLBACK_COMPLETE</StackStatus>"),
            "{d}"
        );

        cfn(&s, "DeleteStack", &[("StackName", "net")]).unwrap();
        assert!(s
            .read(|t| t.get("us-east-1", "Vpcs", &vpc_id))
            .unwrap()
            .is_none());
        let listed = cfn(
            &s,
            "ListStacks",
            &[("StackStatusFilter.member.1", "DELETE_COMPLETE")],
        )
        .unwrap();
        assert_eq!(listed.matches("<member>").count(), 2);
        assert_eq!(
            cfn(&s, "DescribeStacks", &[("StackName", "net")])
                .unwrap_err()
                .code,
            "ValidationError"
        );
        // Deleting a stack that is gone succeeds, as in AWS.
        cfn(&s, "DeleteStack", &[("StackName", "net")]).unwrap();
    }
}
