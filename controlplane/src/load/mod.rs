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
mod alb;
mod alb_rules;
pub(crate) mod api_shapes;
mod attributes;
mod autoscaling;
mod builder;
mod default_vpc;
mod dns;
mod edges;
mod elastic_ips;
mod elbv2;
mod endpoints;
mod existing;
mod followon;
mod gateways;
mod gwlb;
mod ids;
mod instances;
mod network_acls;
mod network_firewall;
mod nlb;
mod parameters;
mod peering;
mod prefix_lists;
mod resolver;
mod route_tables;
mod security_groups;
mod stacks;
mod targets;
mod template;
mod tgw_peering;
mod vpc;
mod waf;
mod waf_rules;

use attributes::opaque_attribute;
use builder::{prefix, Builder, Findings, Lookup, Ref};
pub use default_vpc::DEFAULT_VPC_STACK;
use edges::arn;
pub use edges::PREFIXES_TAG;
use followon::Placeholder;
pub use ids::aws_id;
use ids::{fnv1a, id_prefix};
pub(crate) use network_firewall::short_id as network_firewall_id;
use stacks::Stack;
pub use stacks::StackFile;

/// How templates are instantiated.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The Region the stacks are created in (`AWS::Region`).
    pub region: String,
    /// The account the stacks belong to (`AWS::AccountId`).
    pub account_id: String,
    /// `--param Key=Value`, offered to every template that declares the parameter, and
    /// `--param Stack:Key=Value`, for stack `Stack` only (it wins over `Key=Value`). A value
    /// (or list item) `Stack.LogicalId` stands for `Ref` of that resource of that stack.
    pub parameters: BTreeMap<String, String>,
    /// `--import Name=Value` for `Fn::ImportValue`; exports of earlier templates are added.
    pub imports: BTreeMap<String, String>,
    /// `--service-ranges FILE`: AWS service prefixes (ip-ranges.json format) replacing the
    /// built-in table of [`crate::service_ranges`].
    pub service_ranges: Option<PathBuf>,
    /// `--custom-attr Stack.LogicalId.Attribute=Value`: what `Fn::GetAtt` of a custom resource
    /// (which runs the template author's code, so vpcsim cannot) returns. A value
    /// `Stack.LogicalId` is that resource's `Ref`, `Stack.LogicalId.Attribute` its `Fn::GetAtt`.
    pub custom_attributes: BTreeMap<String, String>,
    /// `--endpoint-service NAME`: endpoint services that exist outside the loaded templates, so
    /// Gateway Load Balancer endpoints of them load (as endpoints whose traffic goes nowhere).
    pub endpoint_services: Vec<String>,
    /// `--default-vpc`: create the account's default VPC even when no template needs it.
    pub default_vpc: bool,
    /// `--zones REGION=ZONE,...`: the Availability Zones of a Region, replacing the built-in
    /// list ([`cfn::availability_zones`]).
    pub zones: BTreeMap<String, Vec<String>>,
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
            custom_attributes: BTreeMap::new(),
            endpoint_services: Vec::new(),
            default_vpc: false,
            zones: BTreeMap::new(),
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

/// Read and load template files, each as the stack named after its file; unreadable files
/// become errors.
pub fn load_files(paths: &[PathBuf], opts: &LoadOptions) -> Loaded {
    let stacks: Vec<StackFile> = paths
        .iter()
        .map(|p| StackFile {
            stack_name: None,
            path: p.clone(),
        })
        .collect();
    load_stacks(&stacks, None, opts)
}

/// Read and load templates as stacks, in order (a stack whose parameters name another
/// stack's resources after that one). With `existing`, the stacks are deployed into it (a
/// loaded describe-* snapshot): their parameters may name its resources by AWS id.
pub fn load_stacks(stacks: &[StackFile], existing: Option<Loaded>, opts: &LoadOptions) -> Loaded {
    let mut sources = Vec::new();
    // Files that cannot be read, and what translating Terraform files found.
    let mut unreadable = Vec::new();
    for s in stacks {
        match read_template(&s.path) {
            Ok(text) => {
                // `terraform show -json` output is told apart by content, not by name, and
                // becomes the CloudFormation template of the same resources.
                let text = if crate::terraform::is_terraform_json(&text) {
                    let (template, mut found) = crate::terraform::to_template(&s.path, &text);
                    unreadable.append(&mut found);
                    template.to_string()
                } else {
                    text
                };
                sources.push((
                    s.stack_name.clone(),
                    Source {
                        path: s.path.clone(),
                        text,
                    },
                ))
            }
            Err(d) => unreadable.push(d),
        }
    }
    deploy(&sources, existing, opts, unreadable)
}

/// Load templates given in memory as stacks (`(stack name, template)`; `None`: named after the
/// source's path), on top of `existing` as [`load_stacks`] does: what `vpcsim serve`'s
/// CloudFormation `CreateStack` deploys into a region.
pub fn load_sources(
    sources: &[(Option<String>, Source)],
    existing: Option<Loaded>,
    opts: &LoadOptions,
) -> Loaded {
    deploy(sources, existing, opts, Vec::new())
}

/// Builds `sources` on top of `existing`; `unreadable`: what reading the sources found.
fn deploy(
    sources: &[(Option<String>, Source)],
    existing: Option<Loaded>,
    opts: &LoadOptions,
    mut unreadable: Vec<Diagnostic>,
) -> Loaded {
    let (b, mut diagnostics) = match existing {
        Some(l) => (Builder::on_top_of(l.model), l.diagnostics),
        None => (Builder::default(), Vec::new()),
    };
    let mut loaded = build(b, sources, opts);
    // The cross-resource checks run again over the existing resources; what they found there
    // is already in the list.
    loaded.diagnostics.retain(|d| !diagnostics.contains(d));
    diagnostics.append(&mut unreadable);
    diagnostics.append(&mut loaded.diagnostics);
    loaded.diagnostics = diagnostics;
    loaded
}

/// A template file's text. CloudFormation takes UTF-8 only: other bytes are refused rather
/// than replaced, which would change names and values silently.
fn read_template(path: &Path) -> Result<String, Diagnostic> {
    let refuse = |code: &str, message: String| Diagnostic {
        severity: Severity::Error,
        file: path.to_path_buf(),
        logical_id: None,
        code: code.into(),
        message,
    };
    // `-t -`: the template comes on standard input, as Unix tools take `-`.
    let bytes = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes).map_err(|e| {
            refuse(
                "InvalidTemplate",
                format!("cannot read standard input: {e}"),
            )
        })?;
        bytes
    } else {
        std::fs::read(path)
            .map_err(|e| refuse("InvalidTemplate", format!("cannot read the file: {e}")))?
    };
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let byte = e.as_bytes().get(at).copied().unwrap_or(0);
        refuse(
            "InvalidTemplate.Encoding",
            format!("not UTF-8: byte 0x{byte:02x} at byte offset {at} (templates must be UTF-8)"),
        )
    })
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

/// Load templates, in order, into one model, each as the stack named after its file.
pub fn load(sources: &[Source], opts: &LoadOptions) -> Loaded {
    let named: Vec<(Option<String>, Source)> = sources
        .iter()
        .map(|s| {
            (
                None,
                Source {
                    path: s.path.clone(),
                    text: s.text.clone(),
                },
            )
        })
        .collect();
    build(Builder::default(), &named, opts)
}

fn build(mut b: Builder, sources: &[(Option<String>, Source)], opts: &LoadOptions) -> Loaded {
    b.home = (opts.region.clone(), opts.account_id.clone());
    b.zones = opts.zones.clone();
    b.quotas = opts.quotas.clone();
    b.load_service_ranges(opts);
    b.external_services = opts.endpoint_services.iter().cloned().collect();
    let mut parsed = Vec::new();
    for (name, s) in sources {
        match cfn::parse_template(&s.path, &s.text) {
            Ok(t) => parsed.push((name.clone(), t)),
            Err(e) => b.cfn_error(&e),
        }
    }
    let needs_default_vpc = opts.default_vpc
        || parsed
            .iter()
            .any(|(_, t)| default_vpc::needs_default_vpc(t));
    let stacks: Vec<Stack> = b.name_stacks(parsed);
    b.check_parameters(&stacks, opts);
    b.check_custom_attributes(&stacks, opts);
    if needs_default_vpc {
        if let Err(p) = b.default_vpc() {
            b.diags.push(Diagnostic {
                severity: Severity::Error,
                file: PathBuf::from(DEFAULT_VPC_STACK),
                logical_id: None,
                code: p.code.into(),
                message: p.message,
            });
        }
    }
    let mut imports = opts.imports.clone();
    let mut failed = HashSet::new();
    for i in b.stack_order(&stacks, opts) {
        let s = &stacks[i];
        let created = match b.stack_parameters(s, &stacks, opts, &failed) {
            Some(parameters) => {
                b.load_template(&s.template, &s.name, parameters, opts, &mut imports)
            }
            None => false,
        };
        if !created {
            failed.insert(s.name.clone());
        }
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
    "AWS::EC2::TransitGatewayPeeringAttachment",
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
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::ElasticLoadBalancingV2::ListenerCertificate",
    "AWS::EC2::PrefixList",
    "AWS::EC2::VPCEndpoint",
    "AWS::EC2::VPCEndpointService",
    autoscaling::LAUNCH_TEMPLATE,
    autoscaling::LAUNCH_CONFIGURATION,
    autoscaling::AUTO_SCALING_GROUP,
    "AWS::WAFv2::IPSet",
    "AWS::WAFv2::RegexPatternSet",
    "AWS::WAFv2::RuleGroup",
    "AWS::WAFv2::WebACL",
    "AWS::WAFv2::WebACLAssociation",
    "AWS::NetworkFirewall::Firewall",
    "AWS::NetworkFirewall::FirewallPolicy",
    "AWS::NetworkFirewall::RuleGroup",
    "AWS::NetworkFirewall::LoggingConfiguration",
    dns::HOSTED_ZONE,
    dns::RECORD_SET,
    dns::RECORD_SET_GROUP,
    dns::HEALTH_CHECK,
    resolver::ENDPOINT,
    resolver::RULE,
    resolver::RULE_ASSOCIATION,
    resolver::DOMAIN_LIST,
    resolver::RULE_GROUP,
    resolver::RULE_GROUP_ASSOCIATION,
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
