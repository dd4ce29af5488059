//! Deploying a template as a stack with vpcsim's own loader: the template is built on top of
//! the region without the stack's current resources, and what it adds to the region becomes
//! the stack's describe-* documents.
//!
//! The loader's ids are deterministic (account, region, stack, logical id), so an update gives
//! unchanged and modified-in-place resources the ids they had. A replaced resource must get a
//! new id, as in AWS: the stack remembers which loader id stands for which physical id
//! (`VpcsimRenames`) and rewrites the documents after every load.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use vpcsim_controlplane::cfn::{self, Intrinsic, Node, Template};
use vpcsim_controlplane::load::{load_sources, Severity, Source};
use vpcsim_controlplane::snapshot::{self, SnapshotFile};
use vpcsim_controlplane::{Loaded, Model};

use super::{validation, Stack, STACKS};
use crate::call::Call;
use crate::error::ApiError;
use crate::plane::{id_field, load_options, model_documents};
use crate::services::ec2::store_documents;
use crate::store::Tx;

/// Describe-* documents as `(kind, id, document)`.
pub type Documents = Vec<(String, String, Value)>;

const STACK_NAME_TAG: &str = "aws:cloudformation:stack-name";
const STACK_ID_TAG: &str = "aws:cloudformation:stack-id";
const LOGICAL_ID_TAG: &str = "aws:cloudformation:logical-id";

/// What a call asks to deploy: the template and the value of each of its parameters.
pub struct Request {
    /// The template as sent.
    pub body: String,
    /// The template parsed.
    pub template: Template,
    /// Every declared parameter's value: given, previous (`UsePreviousValue`) or default.
    pub parameters: BTreeMap<String, String>,
}

/// What loading the template gave.
pub enum Outcome {
    /// It loads: the stack's new documents and resources.
    Deployed(Deployment),
    /// Resources failed to create: why (the stack rolls back).
    Failed(String),
}

/// A loaded stack, ready to be stored.
pub struct Deployment {
    /// The stack's documents, tagged and with the stack's physical ids.
    pub docs: Documents,
    /// `(logical id, physical id, type)` of each resource the template declares.
    pub resources: Vec<(String, String, String)>,
    /// `Outputs`, as `DescribeStacks` lists them.
    pub outputs: Vec<Value>,
    /// The exports the template imports.
    pub imports: Vec<String>,
    /// Loader id → physical id, for the resources replaced since they were created.
    pub renames: BTreeMap<String, String>,
}

/// The template a call names: `TemplateBody`, `TemplateURL` (`file://` on the server's
/// machine) or, for updates, `UsePreviousTemplate`.
pub fn template_body(call: &Call, previous: Option<&Stack>) -> Result<String, ApiError> {
    let p = &call.params;
    if p.bool("UsePreviousTemplate")? == Some(true) {
        return previous
            .and_then(|s| s["VpcsimTemplate"].as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                validation("UsePreviousTemplate can only be used on an existing stack")
            });
    }
    if let Some(body) = p.get("TemplateBody") {
        return Ok(body.to_string());
    }
    let Some(url) = p.get("TemplateURL") else {
        return Err(validation(
            "Either Template URL or Template Body must be specified.",
        ));
    };
    let Some(path) = url.strip_prefix("file://") else {
        return Err(validation(format!(
            "TemplateURL must be a file:// URL on the server's machine for vpcsim serve (there is no S3 behind it): {url}"
        )));
    };
    std::fs::read_to_string(path)
        .map_err(|e| validation(format!("Template format error: cannot read {path}: {e}")))
}

/// The template parsed, or CloudFormation's `Template format error`.
pub fn parse(body: &str) -> Result<Template, ApiError> {
    cfn::parse_template(&PathBuf::from("template"), body)
        .map_err(|e| validation(format!("Template format error: {}", e.message)))
}

fn node_text(n: &Node) -> Option<String> {
    match n {
        Node::String(s) => Some(s.clone()),
        Node::Number(n) => Some(n.to_string()),
        Node::Bool(b) => Some(b.to_string()),
        Node::List(items) => Some(
            items
                .iter()
                .map(|i| node_text(i).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

/// The value of each declared parameter, checked as CloudFormation checks the call's
/// `Parameters` (unknown names and missing values are `ValidationError`s).
pub fn parameters(
    call: &Call,
    template: &Template,
    previous: Option<&Stack>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let given = call.params.query_structs("Parameters");
    let unknown: Vec<&str> = given
        .iter()
        .filter_map(|m| m.get("ParameterKey"))
        .filter(|k| !template.parameters.iter().any(|p| p.name == *k))
        .collect();
    if !unknown.is_empty() {
        return Err(validation(format!(
            "Parameters: [{}] do not exist in the template",
            unknown.join(", ")
        )));
    }
    let previous_value = |key: &str| {
        previous
            .and_then(|s| s["Parameters"].as_array())
            .into_iter()
            .flatten()
            .find(|p| p["ParameterKey"] == key)
            .and_then(|p| p["ParameterValue"].as_str())
            .map(str::to_string)
    };
    let mut out = BTreeMap::new();
    let mut missing = Vec::new();
    for decl in &template.parameters {
        let entry = given
            .iter()
            .find(|m| m.get("ParameterKey") == Some(decl.name.as_str()));
        let value = match entry {
            Some(m) if m.bool("UsePreviousValue")? == Some(true) => {
                Some(previous_value(&decl.name).ok_or_else(|| {
                    validation(format!(
                        "Invalid input for parameter key {}. Cannot specify usePreviousValue as true for a parameter key not in the previous template",
                        decl.name
                    ))
                })?)
            }
            Some(m) => m.get("ParameterValue").map(str::to_string),
            None => decl.default.as_ref().and_then(node_text),
        };
        match value {
            Some(v) => {
                out.insert(decl.name.clone(), v);
            }
            None => missing.push(decl.name.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(validation(format!(
            "Parameters: [{}] must have values",
            missing.join(", ")
        )));
    }
    Ok(out)
}

/// The capability IAM resources need: `CAPABILITY_NAMED_IAM` when one has a custom name.
pub fn required_capability(template: &Template) -> Option<&'static str> {
    let iam: Vec<_> = template
        .resources
        .iter()
        .filter(|r| r.type_.starts_with("AWS::IAM::"))
        .collect();
    let named = iam.iter().any(|r| match &r.properties {
        Node::Map(m) => m.iter().any(|(k, _)| {
            ["RoleName", "UserName", "GroupName", "ManagedPolicyName"].contains(&k.as_str())
        }),
        _ => false,
    });
    match (iam.is_empty(), named) {
        (true, _) => None,
        (false, true) => Some("CAPABILITY_NAMED_IAM"),
        (false, false) => Some("CAPABILITY_IAM"),
    }
}

/// `InsufficientCapabilitiesException` unless the call acknowledges what the template needs.
pub fn check_capabilities(call: &Call, template: &Template) -> Result<(), ApiError> {
    let Some(needed) = required_capability(template) else {
        return Ok(());
    };
    let given = call.params.query_list("Capabilities");
    let ok = given.contains(&"CAPABILITY_NAMED_IAM")
        || (needed == "CAPABILITY_IAM" && given.contains(&"CAPABILITY_IAM"));
    if ok {
        return Ok(());
    }
    Err(ApiError::client(
        "InsufficientCapabilitiesException",
        format!("Requires capabilities : [{needed}]"),
    ))
}

/// The `(kind, id)` of the documents a stack stored.
pub fn stack_documents(stack: &Stack) -> Vec<(String, String)> {
    stack["VpcsimDocuments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p[0].as_str()?.to_string(), p[1].as_str()?.to_string())))
        .collect()
}

/// The region loaded as the snapshot loader loads it, without the documents in `except`.
fn load_region_except(
    tx: &Tx<'_>,
    call: &Call,
    except: &HashSet<(String, String)>,
) -> Result<Loaded, ApiError> {
    let (account, region) = (&call.account, &call.region);
    let mut files = Vec::new();
    for (kind, docs) in tx.list_all(region)? {
        if !snapshot::SUPPORTED_KEYS.iter().any(|(k, _)| *k == kind) {
            continue;
        }
        let field = id_field(&kind);
        let kept: Vec<Value> = docs
            .into_iter()
            .filter(|d| {
                let id = d[field].as_str().unwrap_or_default().to_string();
                !except.contains(&(kind.clone(), id))
            })
            .collect();
        files.push(SnapshotFile {
            path: PathBuf::from(format!("aws_configs/{account}/{region}/{kind}.json")),
            bytes: json!({ kind.as_str(): kept }).to_string().into_bytes(),
        });
    }
    for (kind, doc) in crate::plane_dns::route53_documents(tx, region)? {
        files.push(SnapshotFile {
            path: PathBuf::from(format!("aws_configs/{account}/{region}/{kind}.json")),
            bytes: doc.to_string().into_bytes(),
        });
    }
    Ok(snapshot::load_snapshot_files(
        &files,
        &load_options(account, region),
    ))
}

/// The exports of the region's live stacks: (stack id, stack name, export name, value).
pub fn all_exports(tx: &Tx<'_>, call: &Call) -> Result<Vec<[String; 4]>, ApiError> {
    let mut out = Vec::new();
    for s in tx.list(&call.region, STACKS)? {
        if !super::is_live(&s) {
            continue;
        }
        for o in s["Outputs"].as_array().into_iter().flatten() {
            if let (Some(n), Some(v)) = (o["ExportName"].as_str(), o["OutputValue"].as_str()) {
                let text = |k: &str| s[k].as_str().unwrap_or_default().to_string();
                out.push([
                    text("StackId"),
                    text("StackName"),
                    n.to_string(),
                    v.to_string(),
                ]);
            }
        }
    }
    Ok(out)
}

/// The exports a template imports: literal `Fn::ImportValue` names, and, for computed names,
/// every export whose name the template mentions.
fn imported_names(req: &Request, exports: &[[String; 4]]) -> Vec<String> {
    let mut out = BTreeSet::new();
    let mut computed = false;
    for r in &req.template.resources {
        for n in r.properties.descendants() {
            if let Some(Intrinsic::ImportValue(arg)) = n.as_intrinsic() {
                match arg {
                    Node::String(s) => {
                        out.insert(s.clone());
                    }
                    _ => computed = true,
                }
            }
        }
    }
    if computed {
        out.extend(
            exports
                .iter()
                .filter(|e| req.body.contains(e[2].as_str()))
                .map(|e| e[2].clone()),
        );
    }
    out.into_iter().collect()
}

/// Loads `req` as stack `stack` over the region without the stack's current documents.
/// `replaced`: logical ids whose resources get new physical ids.
pub fn build(
    tx: &Tx<'_>,
    call: &Call,
    stack: &Stack,
    req: &Request,
    replaced: &BTreeSet<String>,
) -> Result<Outcome, ApiError> {
    let name = stack["StackName"].as_str().unwrap_or_default().to_string();
    let id = stack["StackId"].as_str().unwrap_or_default().to_string();
    let own: HashSet<(String, String)> = stack_documents(stack).into_iter().collect();
    let existing = load_region_except(tx, call, &own)?;
    let mut opts = load_options(&call.account, &call.region);
    opts.parameters = req
        .parameters
        .iter()
        .map(|(k, v)| (format!("{name}:{k}"), v.clone()))
        .collect();
    let exports: Vec<[String; 4]> = all_exports(tx, call)?
        .into_iter()
        .filter(|e| e[0] != id)
        .collect();
    opts.imports = exports
        .iter()
        .map(|e| (e[2].clone(), e[3].clone()))
        .collect();
    let stack_path = PathBuf::from(format!("{name}.template"));
    let source = Source {
        path: stack_path.clone(),
        text: req.body.clone(),
    };
    let loaded = load_sources(&[(Some(name.clone()), source)], Some(existing), &opts);
    let errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error && d.file == stack_path)
        .collect();
    let describe = |d: &&vpcsim_controlplane::Diagnostic| match &d.logical_id {
        Some(l) => format!("{l}: {} ({})", d.message, d.code),
        None => format!("{} ({})", d.message, d.code),
    };
    if errors
        .iter()
        .any(|d| d.logical_id.is_none() && d.code.starts_with("InvalidTemplate"))
    {
        let text: Vec<String> = errors.iter().map(describe).collect();
        return Err(validation(format!(
            "Template format error: {}",
            text.join("; ")
        )));
    }
    if !errors.is_empty() {
        let text: Vec<String> = errors.iter().map(describe).collect();
        return Ok(Outcome::Failed(text.join("; ")));
    }
    let mut stored = HashSet::new();
    for (kind, docs) in tx.list_all(&call.region)? {
        let field = id_field(&kind);
        for d in docs {
            let key = (
                kind.clone(),
                d[field].as_str().unwrap_or_default().to_string(),
            );
            if !own.contains(&key) {
                stored.insert(key);
            }
        }
    }
    let mut docs = new_documents(&loaded.model, &stored, &name, &id);
    let mut renames: BTreeMap<String, String> = stack["VpcsimRenames"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    for logical in replaced {
        for (loader_id, generic) in loader_ids(&docs, logical, &name, &id) {
            let prefix = loader_id.rsplit_once('-').map_or("res", |(p, _)| p);
            let fresh = if generic {
                generic_physical_id(&name, &format!("{logical}\0{}", crate::ids::uuid()))
            } else {
                crate::ids::resource_id(prefix)
            };
            renames.insert(loader_id, fresh);
        }
    }
    rename(&mut docs, &renames);
    let mut outputs: Vec<Value> = loaded
        .model
        .outputs
        .iter()
        .filter(|o| o.stack == name)
        .map(|o| json!({"OutputKey": o.key, "OutputValue": o.value, "Description": o.description, "ExportName": o.export_name}))
        .collect();
    for o in &mut outputs {
        if let Some(v) = o["OutputValue"].as_str().and_then(|v| renames.get(v)) {
            o["OutputValue"] = json!(v);
        }
    }
    let resources = declared_resources(&req.template, &docs, &renames, &name, &id);
    Ok(Outcome::Deployed(Deployment {
        docs,
        resources,
        outputs,
        imports: imported_names(req, &exports),
        renames,
    }))
}

/// The documents of `model` the region does not hold otherwise, tagged with the stack's tags.
fn new_documents(
    model: &Model,
    stored: &HashSet<(String, String)>,
    name: &str,
    id: &str,
) -> Documents {
    let mut out = Vec::new();
    for (kind, rid, mut doc) in model_documents(model) {
        if stored.contains(&(kind.clone(), rid.clone())) {
            continue;
        }
        let member = tag_member(&kind);
        for holder in tag_holders(&kind, &mut doc) {
            if !holder[member].is_array() {
                holder[member] = json!([]);
            }
            if let Some(list) = holder[member].as_array_mut() {
                list.push(json!({"Key": STACK_NAME_TAG, "Value": name}));
                list.push(json!({"Key": STACK_ID_TAG, "Value": id}));
            }
        }
        out.push((kind, rid, doc));
    }
    out
}

/// Where a document's tags are: instances inside a reservation, `TagSet` on interfaces.
fn tag_holders<'d>(kind: &str, doc: &'d mut Value) -> Vec<&'d mut Value> {
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

/// The logical id a document carries, and its physical id (an instance's, for reservations).
fn document_resource(kind: &str, rid: &str, doc: &Value) -> Option<(String, String)> {
    let holder = if kind == "Reservations" {
        &doc["Instances"][0]
    } else {
        doc
    };
    let logical = holder[tag_member(kind)]
        .as_array()?
        .iter()
        .find(|t| t["Key"] == LOGICAL_ID_TAG)
        .and_then(|t| t["Value"].as_str())?
        .to_string();
    let physical = if kind == "Reservations" {
        holder["InstanceId"].as_str().unwrap_or(rid).to_string()
    } else {
        rid.to_string()
    };
    Some((logical, physical))
}

/// The physical id AWS gives resources that have no id of their own
/// (`stack-LogicalId-1A2B3C4D5E6F`).
fn generic_physical_id(stack: &str, seed: &str) -> String {
    let digest = Sha256::digest(format!("{stack}\0{seed}").as_bytes());
    let tail: String = hex::encode_upper(&digest[..6]);
    let logical = seed.get(..seed.len().min(64)).unwrap_or(seed);
    let logical: String = logical
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    format!("{stack}-{logical}-{tail}")
}

/// The loader ids that stand for one logical resource: its documents' ids (a reservation's
/// and its instance's), or its generic physical id (`true`).
fn loader_ids(docs: &Documents, logical: &str, stack: &str, stack_id: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for (kind, rid, doc) in docs {
        if let Some((l, physical)) = document_resource(kind, rid, doc) {
            if l == logical {
                out.push((rid.clone(), false));
                if physical != *rid {
                    out.push((physical, false));
                }
            }
        }
    }
    if out.is_empty() {
        let generic = generic_physical_id(stack, &format!("{logical}\0{stack_id}"));
        out.push((generic, true));
    }
    out
}

/// Rewrites loader ids to physical ids everywhere in the documents.
fn rename(docs: &mut Documents, renames: &BTreeMap<String, String>) {
    if renames.is_empty() {
        return;
    }
    for (_, rid, doc) in docs.iter_mut() {
        let mut text = doc.to_string();
        for (from, to) in renames {
            if text.contains(from.as_str()) {
                text = text.replace(from.as_str(), to);
            }
        }
        if let Ok(v) = serde_json::from_str(&text) {
            *doc = v;
        }
        if let Some(to) = renames.get(rid.as_str()) {
            *rid = to.clone();
        }
    }
}

/// Each declared resource with its physical id. A conditional resource without a document
/// was not created (its condition is false).
fn declared_resources(
    template: &Template,
    docs: &Documents,
    renames: &BTreeMap<String, String>,
    stack: &str,
    stack_id: &str,
) -> Vec<(String, String, String)> {
    let by_logical: BTreeMap<String, String> = docs
        .iter()
        .filter_map(|(k, rid, d)| document_resource(k, rid, d))
        .rev()
        .collect();
    let mut out = Vec::new();
    for r in &template.resources {
        let physical = match by_logical.get(&r.logical_id) {
            Some(p) => p.clone(),
            None if r.condition.is_some() => continue,
            None => {
                let generic = generic_physical_id(stack, &format!("{}\0{stack_id}", r.logical_id));
                renames.get(&generic).cloned().unwrap_or(generic)
            }
        };
        out.push((r.logical_id.clone(), physical, r.type_.clone()));
    }
    out
}

/// A document's fingerprint: an update leaves a stored document alone (with whatever changed
/// it since) when the template still produces the same one.
fn fingerprint(doc: &Value) -> String {
    hex::encode(&Sha256::digest(doc.to_string().as_bytes())[..12])
}

/// Replaces the stack's documents in the region by `docs`; returns the list the stack keeps.
pub fn store(tx: &Tx<'_>, call: &Call, stack: &Stack, docs: &Documents) -> Result<Value, ApiError> {
    let old: BTreeMap<(String, String), Option<String>> = stack["VpcsimDocuments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let key = (p[0].as_str()?.to_string(), p[1].as_str()?.to_string());
            Some((key, p[2].as_str().map(str::to_string)))
        })
        .collect();
    let keep: HashSet<(&str, &str)> = docs
        .iter()
        .map(|(k, i, _)| (k.as_str(), i.as_str()))
        .collect();
    for (kind, rid) in old.keys() {
        if !keep.contains(&(kind.as_str(), rid.as_str()))
            && tx.delete(&call.region, kind, rid)?
            && kind == "SecurityGroups"
        {
            crate::services::ec2::delete_group_rules(tx, &call.region, rid)?;
        }
    }
    let mut listed = Vec::new();
    let mut changed = Vec::new();
    for (kind, rid, doc) in docs {
        let print = fingerprint(doc);
        let same = old.get(&(kind.clone(), rid.clone())) == Some(&Some(print.clone()))
            && tx.get(&call.region, kind, rid)?.is_some();
        if !same {
            changed.push((kind.clone(), rid.clone(), doc.clone()));
        }
        listed.push(json!([kind, rid, print]));
    }
    store_documents(tx, &call.region, &call.account, &changed)?;
    Ok(json!(listed))
}
