//! Loading CloudFormation templates into the [`Model`].
//!
//! Each template is a stack. Its resources are built in dependency order; as each one is built
//! it gets a deterministic AWS id (a hash of account, region, stack and logical id), addresses
//! (explicit ones first, then the lowest free ones) and public IPs (from 198.18.0.0/15, in load
//! order), so the same templates always give the same topology. Cross-resource rules (routes
//! to gateways of the right VPC, overlapping peers, ...) are checked after everything is built,
//! because CloudFormation allows references in any order.

// The resource modules below `use super::*`: these are the names they share.
use crate::cfn::{self, Evaluator, Resolver, StackContext};
use crate::model::*;
use crate::props::{
    self, get, invalid, missing, opt_bool, opt_int, opt_list, opt_str, req_str, str_list, Problem,
    R,
};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use vpcsim_dataplane::wire::IpProtocol;

mod addresses;
mod attributes;
mod builder;
mod edges;
mod elastic_ips;
mod elbv2;
mod endpoints;
mod gateways;
mod gwlb;
mod ids;
mod instances;
mod network_acls;
mod nlb;
mod peering;
mod prefix_lists;
mod route_tables;
mod security_groups;
mod template;
mod vpc;

use attributes::opaque_attribute;
use builder::{prefix, Builder, Findings, Lookup, Ref};
use edges::arn;
pub use edges::PREFIXES_TAG;
pub use ids::aws_id;
use ids::{fnv1a, id_prefix};

/// How templates are instantiated.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The Region the stacks are created in (`AWS::Region`).
    pub region: String,
    /// The account the stacks belong to (`AWS::AccountId`).
    pub account_id: String,
    /// `--param Key=Value`, offered to every template that declares the parameter.
    pub parameters: BTreeMap<String, String>,
    /// `--import Name=Value` for `Fn::ImportValue`; exports of earlier templates are added.
    pub imports: BTreeMap<String, String>,
    /// `--service-ranges FILE`: AWS service prefixes (ip-ranges.json format) replacing the
    /// built-in table of [`crate::service_ranges`].
    pub service_ranges: Option<PathBuf>,
    /// AWS quotas in force (`--quota NAME=N`); AWS's defaults unless raised.
    pub quotas: crate::quotas::Quotas,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            parameters: BTreeMap::new(),
            imports: BTreeMap::new(),
            service_ranges: None,
            quotas: crate::quotas::Quotas::default(),
        }
    }
}

/// How bad a [`Diagnostic`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The topology cannot be used as loaded.
    Error,
    /// Loaded, but something is ignored or simulated only in part.
    Warning,
}

/// One finding of the loader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The template or snapshot file.
    pub file: PathBuf,
    /// The resource (logical id, or AWS id for snapshots), when the finding is about one.
    pub logical_id: Option<String>,
    /// An AWS-like error code (`InvalidSubnet.Range`, `UnresolvedReference`, ...).
    pub code: String,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file.display())?;
        if let Some(id) = &self.logical_id {
            write!(f, "{id}: ")?;
        }
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// The result of loading: the model (possibly partial) and every finding.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    /// What was loaded; partial when there are errors.
    pub model: Model,
    /// Every error and warning, in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    /// The findings that make the topology unusable.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    /// The findings that leave the topology usable.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

/// A template's text and where it came from.
pub struct Source {
    /// Where the template came from (named in diagnostics).
    pub path: PathBuf,
    /// The template, YAML or JSON.
    pub text: String,
}

/// Read and load template files; unreadable files become errors.
pub fn load_files(paths: &[PathBuf], opts: &LoadOptions) -> Loaded {
    let mut sources = Vec::new();
    let mut diagnostics = Vec::new();
    for p in paths {
        match std::fs::read(p) {
            Ok(bytes) => sources.push(Source {
                path: p.clone(),
                text: String::from_utf8_lossy(&bytes).into_owned(),
            }),
            Err(e) => diagnostics.push(Diagnostic {
                severity: Severity::Error,
                file: p.clone(),
                logical_id: None,
                code: "InvalidTemplate".into(),
                message: format!("cannot read the file: {e}"),
            }),
        }
    }
    let mut loaded = load(&sources, opts);
    diagnostics.append(&mut loaded.diagnostics);
    loaded.diagnostics = diagnostics;
    loaded
}

/// The cross-resource checks of [`load`] (route targets, peering overlaps, group references,
/// edges, prefix lists, endpoints) on a model built by another loader (describe-* snapshots).
pub(crate) fn validate_model(
    model: Model,
    quotas: crate::quotas::Quotas,
    diags: &mut Vec<Diagnostic>,
) -> Model {
    let mut b = Builder {
        model,
        quotas,
        ..Builder::default()
    };
    b.validate();
    diags.append(&mut b.diags);
    b.model
}

/// Load templates, in order, into one model.
pub fn load(sources: &[Source], opts: &LoadOptions) -> Loaded {
    let mut b = Builder {
        quotas: opts.quotas.clone(),
        ..Builder::default()
    };
    b.load_service_ranges(opts);
    let mut imports = opts.imports.clone();
    let declared: HashSet<String> = HashSet::new();
    let mut declared = declared;
    let mut parsed = Vec::new();
    for s in sources {
        match cfn::parse_template(&s.path, &s.text) {
            Ok(t) => {
                declared.extend(t.parameters.iter().map(|p| p.name.clone()));
                parsed.push(t);
            }
            Err(e) => b.cfn_error(&e),
        }
    }
    for key in opts.parameters.keys() {
        if !declared.contains(key) {
            b.diags.push(Diagnostic {
                severity: Severity::Error,
                file: sources.first().map(|s| s.path.clone()).unwrap_or_default(),
                logical_id: None,
                code: "UnknownParameter".into(),
                message: format!("--param {key}: no template declares a parameter named {key}"),
            });
        }
    }
    let mut stack_names: HashMap<String, usize> = HashMap::new();
    for t in &parsed {
        let stem = t
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "stack".into());
        let n = stack_names.entry(stem.clone()).or_insert(0);
        *n += 1;
        let stack = if *n == 1 { stem } else { format!("{stem}-{n}") };
        b.load_template(t, &stack, opts, &mut imports);
    }
    b.validate();
    Loaded {
        model: b.model,
        diagnostics: b.diags,
    }
}

/// Resource types this loader models. Anything else is kept as unsupported.
pub const SUPPORTED_TYPES: &[&str] = &[
    "AWS::EC2::VPC",
    "AWS::EC2::VPCCidrBlock",
    "AWS::EC2::Subnet",
    "AWS::EC2::RouteTable",
    "AWS::EC2::Route",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::EgressOnlyInternetGateway",
    "AWS::EC2::NatGateway",
    "AWS::EC2::EIP",
    "AWS::EC2::EIPAssociation",
    "AWS::EC2::NetworkAcl",
    "AWS::EC2::NetworkAclEntry",
    "AWS::EC2::SubnetNetworkAclAssociation",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::EC2::Instance",
    "AWS::EC2::NetworkInterface",
    "AWS::EC2::NetworkInterfaceAttachment",
    "AWS::EC2::VPCPeeringConnection",
    "AWS::EC2::TransitGateway",
    "AWS::EC2::TransitGatewayAttachment",
    "AWS::EC2::TransitGatewayVpcAttachment",
    "AWS::EC2::TransitGatewayRouteTable",
    "AWS::EC2::TransitGatewayRoute",
    "AWS::EC2::TransitGatewayRouteTableAssociation",
    "AWS::EC2::TransitGatewayRouteTablePropagation",
    "AWS::EC2::VPNGateway",
    "AWS::EC2::CustomerGateway",
    "AWS::EC2::VPNConnection",
    "AWS::EC2::VPNConnectionRoute",
    "AWS::EC2::VPNGatewayRoutePropagation",
    "AWS::EC2::GatewayRouteTableAssociation",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::EC2::PrefixList",
    "AWS::EC2::VPCEndpoint",
    "AWS::EC2::VPCEndpointService",
];

/// A rule's protocol: `-1`/`all` (every protocol, `None`), or what [`IpProtocol`] parses (`tcp`,
/// `udp`, `icmp`, `icmpv6`, a number 0..=255).
pub fn parse_protocol(s: &str) -> Result<Option<IpProtocol>, String> {
    let trimmed = s.trim();
    if trimmed == "-1" || trimmed.eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    trimmed
        .parse()
        .map(Some)
        .map_err(|_| format!("{s:?} is not a protocol (tcp, udp, icmp, icmpv6, -1 or 0-255)"))
}

/// Path helper for callers that print where a template came from.
pub fn display_path(p: &Path) -> String {
    p.display().to_string()
}
