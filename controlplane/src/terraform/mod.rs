//! Terraform: `terraform show -json` output (a state, or a saved plan) loaded into the same
//! [`Model`](crate::model::Model) as CloudFormation templates.
//!
//! Each `aws_` resource instance becomes the CloudFormation resource (or resources) that
//! describes the same AWS object, named by its Terraform address (`module.net.aws_subnet.a[0]`),
//! and the resulting stack goes through the CloudFormation model builder. The builder then
//! checks the network the way it checks a template, assigns the addresses the JSON leaves open,
//! and gives every resource a deterministic id, so a plan whose ids are still unknown traces the
//! same on every run.
//!
//! A state is fully resolved: attributes that name other resources hold their ids (`vpc-0a1b…`),
//! which are mapped back to the resources of the same file. In a plan, values known only after
//! apply are missing from `planned_values`; a reference is then read from the
//! `configuration` section's `expressions.<attribute>.references` (through module variables),
//! the way Terraform itself links the resources.

use crate::load::{Diagnostic, Severity};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

mod compute;
mod dns;
mod fold;
mod network;
mod network_firewall;
mod read;
mod refs;
mod security;
mod services;
mod transit;

use fold::FOLDED_TYPES;

use read::Res;
use refs::Failed;

/// The types [`Tx::translate`] loads itself; the folded, transit and services modules list theirs.
const NETWORK_TYPES: &[&str] = &[
    "aws_vpc",
    "aws_vpc_ipv4_cidr_block_association",
    "aws_subnet",
    "aws_internet_gateway",
    "aws_internet_gateway_attachment",
    "aws_egress_only_internet_gateway",
    "aws_route_table",
    "aws_route",
    "aws_route_table_association",
    "aws_nat_gateway",
    "aws_eip",
    "aws_eip_association",
    "aws_vpc_peering_connection",
    "aws_vpc_peering_connection_accepter",
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
    "aws_network_acl",
    "aws_network_acl_rule",
    "aws_network_acl_association",
    "aws_instance",
    "aws_network_interface",
    "aws_network_interface_attachment",
];

/// Terraform resource types vpcsim simulates, each loaded as the CloudFormation type(s) the
/// model builder knows. Other `aws_` types are listed as not simulated.
pub fn supported_types() -> impl Iterator<Item = &'static str> {
    [
        NETWORK_TYPES,
        FOLDED_TYPES,
        transit::TYPES,
        services::TYPES,
        network_firewall::TYPES,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// Types that change what a VPC's implicit resources do, which vpcsim keeps as AWS creates
/// them: each is listed as not simulated and warned about, since traces differ from AWS.
const IGNORED_DEFAULTS: &[(&str, &str)] = &[
    (
        "aws_main_route_table_association",
        "subnets without an association use the VPC's own main route table (local routes only)",
    ),
    (
        "aws_default_route_table",
        "the VPC's main route table keeps only its local routes",
    ),
    (
        "aws_default_network_acl",
        "the VPC's default network ACL keeps its allow-all rules",
    ),
    (
        "aws_default_security_group",
        "the VPC's default security group keeps its default rules",
    ),
];

/// Whether a JSON document is `terraform show -json` output: it carries both `format_version`
/// and `terraform_version` at the top level (a CloudFormation template never does).
pub fn is_terraform_json(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Every template passes through here: parse only what could be Terraform's output.
    if !text.trim_start().starts_with('{') || !text.contains("\"terraform_version\"") {
        return false;
    }
    serde_json::from_str::<Value>(text).is_ok_and(|v| {
        v.get("format_version").is_some_and(Value::is_string)
            && v.get("terraform_version").is_some_and(Value::is_string)
    })
}

/// `terraform show -json` output as a CloudFormation template (JSON) whose logical ids are the
/// Terraform addresses, with the findings of the translation.
pub fn to_template(path: &Path, text: &str) -> (Value, Vec<Diagnostic>) {
    let mut tx = Tx::new(path);
    match read::read(text) {
        Ok(doc) => {
            tx.index(doc.resources, doc.configuration);
            tx.translate_all();
        }
        Err(message) => tx.diags.push(Diagnostic {
            severity: Severity::Error,
            file: path.to_path_buf(),
            logical_id: None,
            code: "InvalidTerraform".into(),
            message,
        }),
    }
    tx.drop_dependents_of_failed();
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("terraform show -json {}", path.display()),
        "Resources": Value::Object(std::mem::take(&mut tx.out)),
    });
    (template, tx.diags)
}

/// The translation of one file: its resources, how ids map back to them, and what comes out.
pub(crate) struct Tx {
    file: PathBuf,
    resources: Vec<Res>,
    /// Known ids (and ARNs) of the file's resources → index in `resources`.
    by_id: HashMap<String, usize>,
    by_address: HashMap<String, usize>,
    /// Ids of what resources create besides themselves ([`refs::ATTRIBUTE_IDS`]): the VPN
    /// connection whose transit gateway attachment it is, and the attribute naming it.
    attribute_ids: HashMap<String, (usize, &'static str)>,
    /// The plan's `configuration.root_module`, when there is one.
    configuration: Option<Value>,
    /// What attachment resources add to a list property of the resource they attach to,
    /// which is where CloudFormation says it: (address, property) → items. A group of
    /// `aws_network_interface_sg_attachment` joins the interface's `GroupSet`, an
    /// `aws_lb_target_group_attachment` the group's `Targets`, and so on.
    folded: HashMap<(String, &'static str), Vec<Value>>,
    /// CloudFormation resources by logical id, in file order.
    out: Map<String, Value>,
    diags: Vec<Diagnostic>,
    /// Addresses that failed with an error: resources that refer to them are left out quietly.
    failed: HashSet<String>,
}

impl Tx {
    fn new(path: &Path) -> Self {
        Tx {
            file: path.to_path_buf(),
            resources: Vec::new(),
            by_id: HashMap::new(),
            by_address: HashMap::new(),
            attribute_ids: HashMap::new(),
            configuration: None,
            folded: HashMap::new(),
            out: Map::new(),
            diags: Vec::new(),
            failed: HashSet::new(),
        }
    }

    fn index(&mut self, resources: Vec<Res>, configuration: Option<Value>) {
        for (i, r) in resources.iter().enumerate() {
            if let Some(prev) = self.by_address.insert(r.address.clone(), i) {
                self.by_address.insert(r.address.clone(), prev);
                self.diags.push(Diagnostic {
                    severity: Severity::Warning,
                    file: self.file.clone(),
                    logical_id: Some(r.address.clone()),
                    code: "InvalidTerraform.Duplicate".into(),
                    message: "the address is described twice; the first description is kept".into(),
                });
                continue;
            }
            for (type_, key, attribute) in refs::ATTRIBUTE_IDS {
                if r.type_ == *type_ {
                    if let Some(id) = r.str(key) {
                        self.attribute_ids.insert(id.to_string(), (i, attribute));
                    }
                }
            }
            // An accepter's id is its connection's, which should name the connection.
            if refs::ACCEPTERS.iter().any(|(a, _, _)| *a == r.type_) {
                continue;
            }
            for key in ["id", "arn"] {
                if let Some(id) = r.values.get(key).and_then(Value::as_str) {
                    if !id.is_empty() {
                        self.by_id.entry(id.to_string()).or_insert(i);
                    }
                }
            }
        }
        self.resources = resources;
        self.configuration = configuration;
    }

    fn translate_all(&mut self) {
        let n = self.resources.len();
        let first: Vec<bool> = (0..n)
            .map(|i| self.by_address.get(&self.resources[i].address) == Some(&i))
            .collect();
        // Attachments that CloudFormation folds into the resource they attach to come first.
        for i in (0..n).filter(|&i| first[i]) {
            let r = self.resources[i].clone();
            if let Err(Failed) = self.collect_folded(&r) {
                self.failed.insert(r.address.clone());
            }
        }
        for i in (0..n).filter(|&i| first[i]) {
            let r = self.resources[i].clone();
            if let Err(Failed) = self.translate(&r) {
                self.failed.insert(r.address.clone());
            }
        }
    }

    /// One resource instance into CloudFormation resources.
    fn translate(&mut self, r: &Res) -> Result<(), Failed> {
        match r.type_.as_str() {
            "aws_vpc" => self.vpc(r),
            "aws_vpc_ipv4_cidr_block_association" => self.vpc_cidr_block(r),
            "aws_subnet" => self.subnet(r),
            "aws_internet_gateway" => self.internet_gateway(r),
            "aws_internet_gateway_attachment" => self.internet_gateway_attachment(r),
            "aws_egress_only_internet_gateway" => self.egress_only_gateway(r),
            "aws_route_table" => self.route_table(r),
            "aws_route" => self.route(r),
            "aws_route_table_association" => self.route_table_association(r),
            "aws_nat_gateway" => self.nat_gateway(r),
            "aws_eip" => self.eip(r),
            "aws_eip_association" => self.eip_association(r),
            "aws_vpc_peering_connection" => self.peering(r),
            "aws_vpc_peering_connection_accepter" => self.peering_accepter(r),
            "aws_security_group" => self.security_group(r),
            "aws_security_group_rule" => self.security_group_rule(r),
            "aws_vpc_security_group_ingress_rule" => self.vpc_security_group_rule(r, true),
            "aws_vpc_security_group_egress_rule" => self.vpc_security_group_rule(r, false),
            "aws_network_acl" => self.network_acl(r),
            "aws_network_acl_rule" => self.network_acl_rule(r),
            "aws_network_acl_association" => self.network_acl_association(r),
            "aws_instance" => self.instance(r),
            "aws_network_interface" => self.network_interface(r),
            "aws_network_interface_attachment" => self.network_interface_attachment(r),
            t if FOLDED_TYPES.contains(&t) => Ok(()),
            t if transit::TYPES.contains(&t) => self.transit(r),
            t if services::TYPES.contains(&t) => self.services(r),
            t if dns::TYPES.contains(&t) => self.dns(r),
            t if network_firewall::TYPES.contains(&t) => self.network_firewall(r),
            other => {
                // Listed as not simulated, under its Terraform type.
                self.emit(&r.address, other, None);
                if let Some(effect) = IGNORED_DEFAULTS
                    .iter()
                    .find(|(t, _)| *t == other)
                    .map(|(_, e)| e)
                {
                    self.diags.push(Diagnostic {
                        severity: Severity::Warning,
                        file: self.file.clone(),
                        logical_id: Some(r.address.clone()),
                        code: "UnsupportedResource".into(),
                        message: format!("not simulated: {effect}"),
                    });
                }
                Ok(())
            }
        }
    }

    /// Add a CloudFormation resource. `props: None` declares one without properties.
    fn emit(&mut self, logical_id: &str, kind: &str, props: Option<Value>) {
        let mut decl = Map::new();
        decl.insert("Type".into(), json!(kind));
        if let Some(p) = props {
            decl.insert("Properties".into(), p);
        }
        self.out.insert(logical_id.to_string(), Value::Object(decl));
    }

    /// An error about a resource's attribute; the resource is left out.
    fn error(&mut self, r: &Res, code: &str, message: impl Into<String>) -> Failed {
        self.diags.push(Diagnostic {
            severity: Severity::Error,
            file: self.file.clone(),
            logical_id: Some(r.address.clone()),
            code: code.into(),
            message: message.into(),
        });
        Failed
    }

    /// A required plain (non-reference) attribute: its known value.
    fn required<'v>(&mut self, r: &'v Res, key: &str) -> Result<&'v Value, Failed> {
        if let Some(v) = r.get(key) {
            return Ok(v);
        }
        if r.is_unknown(key) {
            return Err(self.error(
                r,
                "InvalidTerraform.UnknownValue",
                format!(
                    "{key} is known only after apply; vpcsim needs it to simulate the resource"
                ),
            ));
        }
        Err(self.error(
            r,
            "InvalidTerraform.MissingAttribute",
            format!("{key} is missing"),
        ))
    }

    /// Resources that refer to one that failed are dropped without a further error, like the
    /// CloudFormation loader's references to a resource that failed to build.
    fn drop_dependents_of_failed(&mut self) {
        loop {
            let doomed: Vec<String> = self
                .out
                .iter()
                .filter(|(_, decl)| refers_to_missing(decl, &self.out, &self.failed))
                .map(|(k, _)| k.clone())
                .collect();
            if doomed.is_empty() {
                break;
            }
            for k in doomed {
                self.out.shift_remove(&k);
                self.failed.insert(k);
            }
        }
    }
}

/// Whether a declaration holds a `Ref`/`Fn::GetAtt` to a failed resource.
fn refers_to_missing(v: &Value, out: &Map<String, Value>, failed: &HashSet<String>) -> bool {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(t)) = m.get("Ref") {
                return failed.contains(t) && !out.contains_key(t);
            }
            if let Some(Value::Array(a)) = m.get("Fn::GetAtt") {
                if let Some(Value::String(t)) = a.first() {
                    return failed.contains(t) && !out.contains_key(t);
                }
            }
            m.values().any(|x| refers_to_missing(x, out, failed))
        }
        Value::Array(a) => a.iter().any(|x| refers_to_missing(x, out, failed)),
        _ => false,
    }
}

/// CloudFormation `Tags` from Terraform `tags`.
fn tags(r: &Res) -> Option<Value> {
    let t = r.get("tags")?.as_object()?;
    let list: Vec<Value> = t
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| json!({"Key": k, "Value": v})))
        .collect();
    (!list.is_empty()).then_some(Value::Array(list))
}

/// Start a property map with the resource's `Tags`.
fn props_with_tags(r: &Res) -> Map<String, Value> {
    let mut p = Map::new();
    if let Some(t) = tags(r) {
        p.insert("Tags".into(), t);
    }
    p
}

/// Copy a known plain attribute to a CloudFormation property, when it is set.
fn copy(p: &mut Map<String, Value>, r: &Res, key: &str, prop: &str) {
    if let Some(v) = r.get(key) {
        if !(v.is_string() && v.as_str() == Some("")) {
            p.insert(prop.into(), v.clone());
        }
    }
}

/// A Terraform attribute path for derived resource names and messages: `ingress[2]`.
fn path(key: &str, i: usize) -> String {
    format!("{key}[{i}]")
}

#[cfg(test)]
mod tests {
    use super::refs::Attr;
    use super::*;

    #[test]
    fn detects_terraform_json_by_its_version_keys() {
        assert!(is_terraform_json(
            r#"{"format_version": "1.0", "terraform_version": "1.5.7", "values": {}}"#
        ));
        assert!(!is_terraform_json(r#"{"Resources": {}}"#));
        assert!(!is_terraform_json("Resources: {}\nformat_version: x\n"));
        assert!(!is_terraform_json(r#"{"format_version": "1.0"}"#));
    }

    #[test]
    fn attr_helper_names_nested_paths() {
        assert_eq!(path("ingress", 2), "ingress[2]");
        let a = Attr::plain("vpc_id");
        assert_eq!(a.name, "vpc_id");
    }
}
