//! Loading CloudFormation templates into the [`Model`].
//!
//! Each template is a stack. Its resources are built in dependency order; as each one is built
//! it gets a deterministic AWS id (a hash of account, region, stack and logical id), addresses
//! (explicit ones first, then the lowest free ones) and public IPs (from 198.18.0.0/15, in load
//! order), so the same templates always give the same topology. Cross-resource rules (routes
//! to gateways of the right VPC, overlapping peers, ...) are checked after everything is built,
//! because CloudFormation allows references in any order.

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

mod edges;
mod elb;
mod endpoints;
mod gwlb;
mod prefix_lists;
use edges::arn;
pub use edges::PREFIXES_TAG;

/// How templates are instantiated.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub region: String,
    pub account_id: String,
    /// `--param Key=Value`, offered to every template that declares the parameter.
    pub parameters: BTreeMap<String, String>,
    /// `--import Name=Value` for `Fn::ImportValue`; exports of earlier templates are added.
    pub imports: BTreeMap<String, String>,
    /// `--service-ranges FILE`: AWS service prefixes (ip-ranges.json format) replacing the
    /// built-in table of [`crate::service_ranges`].
    pub service_ranges: Option<PathBuf>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            parameters: BTreeMap::new(),
            imports: BTreeMap::new(),
            service_ranges: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding of the loader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    pub logical_id: Option<String>,
    pub code: String,
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
    pub model: Model,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

/// A template's text and where it came from.
pub struct Source {
    pub path: PathBuf,
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
pub(crate) fn validate_model(model: Model, diags: &mut Vec<Diagnostic>) -> Model {
    let mut b = Builder {
        model,
        ..Builder::default()
    };
    b.validate();
    diags.append(&mut b.diags);
    b.model
}

/// Load templates, in order, into one model.
pub fn load(sources: &[Source], opts: &LoadOptions) -> Loaded {
    let mut b = Builder::default();
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

/// What a logical id or AWS id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ref {
    Vpc(usize),
    Subnet(usize),
    RouteTable(usize),
    Igw(usize),
    Eigw(usize),
    Nat(usize),
    Eip(usize),
    Nacl(usize),
    Sg(usize),
    Instance(usize),
    Eni(usize),
    Peering(usize),
    Tgw(usize),
    TgwAttachment(usize),
    TgwRouteTable(usize),
    Vgw(usize),
    Cgw(usize),
    Vpn(usize),
    LoadBalancer(usize),
    Listener(usize),
    TargetGroup(usize),
    PrefixList(usize),
    VpcEndpoint(usize),
    GatewayLoadBalancer(usize),
    GwlbTargetGroup(usize),
    EndpointService(usize),
    GwlbEndpoint(usize),
    Link(usize),
    /// A VPC CIDR block association: the VPC and the block.
    CidrBlock(usize, usize),
    Unsupported(usize),
    /// A resource that failed to build; references to it fail quietly.
    Failed,
}

/// Deterministic AWS-style id: `prefix-` + 17 hex digits hashed from the resource's identity.
pub fn aws_id(prefix: &str, account: &str, region: &str, stack: &str, logical_id: &str) -> String {
    let h1 = fnv1a(
        &[account, region, stack, logical_id, prefix],
        0xcbf2_9ce4_8422_2325,
    );
    let h2 = fnv1a(
        &[prefix, logical_id, stack, region, account],
        0x8422_2325_cbf2_9ce4,
    );
    format!("{prefix}-{:016x}{:x}", h1, h2 & 0xf)
}

fn fnv1a(parts: &[&str], seed: u64) -> u64 {
    let mut h = seed;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The AWS id prefix of a resource type.
fn id_prefix(kind: &str) -> &'static str {
    match kind {
        "AWS::EC2::VPC" => "vpc",
        "AWS::EC2::Subnet" => "subnet",
        "AWS::EC2::RouteTable" => "rtb",
        "AWS::EC2::Route" => "r-rtb",
        "AWS::EC2::InternetGateway" => "igw",
        "AWS::EC2::EgressOnlyInternetGateway" => "eigw",
        "AWS::EC2::NatGateway" => "nat",
        "AWS::EC2::EIP" => "eipalloc",
        "AWS::EC2::EIPAssociation" => "eipassoc",
        "AWS::EC2::NetworkAcl" => "acl",
        "AWS::EC2::NetworkAclEntry" => "aclentry",
        "AWS::EC2::SecurityGroup" => "sg",
        "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => "sgr",
        "AWS::EC2::Instance" => "i",
        "AWS::EC2::NetworkInterface" => "eni",
        "AWS::EC2::NetworkInterfaceAttachment" => "eni-attach",
        "AWS::EC2::VPCPeeringConnection" => "pcx",
        "AWS::EC2::VPCCidrBlock" => "vpc-cidr-assoc",
        "AWS::EC2::SubnetRouteTableAssociation" => "rtbassoc",
        "AWS::EC2::SubnetNetworkAclAssociation" => "aclassoc",
        "AWS::EC2::VPCGatewayAttachment" => "attach",
        "AWS::EC2::TransitGateway" => "tgw",
        "AWS::EC2::TransitGatewayAttachment" | "AWS::EC2::TransitGatewayVpcAttachment" => {
            "tgw-attach"
        }
        "AWS::EC2::TransitGatewayRouteTable" => "tgw-rtb",
        "AWS::EC2::TransitGatewayRoute" => "tgw-route",
        "AWS::EC2::TransitGatewayRouteTableAssociation" => "tgw-rtb-assoc",
        "AWS::EC2::TransitGatewayRouteTablePropagation" => "tgw-rtb-prop",
        "AWS::EC2::VPNGateway" => "vgw",
        "AWS::EC2::CustomerGateway" => "cgw",
        "AWS::EC2::VPNConnection" => "vpn",
        "AWS::EC2::VPNConnectionRoute" => "vpn-route",
        "AWS::EC2::VPNGatewayRoutePropagation" => "vgw-prop",
        "AWS::EC2::GatewayRouteTableAssociation" => "rtbassoc",
        "AWS::EC2::PrefixList" => "pl",
        "AWS::EC2::VPCEndpoint" => "vpce",
        "AWS::EC2::VPCEndpointService" => "vpce-svc",
        _ => "res",
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

/// First address auto-assigned public IPs come from (SPEC: never documentation ranges).
const PUBLIC_POOL: Ipv4Net = match Ipv4Net::new(Ipv4Addr::new(198, 18, 0, 0), 15) {
    Ok(n) => n,
    Err(_) => panic!("constant prefix"),
};

#[derive(Default)]
struct Builder {
    model: Model,
    diags: Vec<Diagnostic>,
    by_logical: HashMap<(usize, String), Ref>,
    by_id: HashMap<String, Ref>,
    /// Addresses in use per VPC, with the logical id that holds them.
    used_ips: HashMap<(usize, IpAddr), String>,
    /// Explicit private addresses found by the pre-scan, kept away from auto-assignment.
    reserved_explicit: HashSet<IpAddr>,
    used_public: HashSet<Ipv4Addr>,
    next_public: u32,
    used_v6_blocks: HashSet<u128>,
    /// Per template: whether Ref/GetAtt to a logical id should resolve.
    template: usize,
    /// Address ranges of the AWS services gateway endpoints reach.
    service_ranges: crate::service_ranges::ServiceRanges,
}

/// Resolves Ref/GetAtt for the template being loaded.
struct Lookup<'b> {
    b: &'b Builder,
    template: usize,
}

impl Resolver for Lookup<'_> {
    fn resource_ref(&self, logical_id: &str) -> Option<Value> {
        let r = *self
            .b
            .by_logical
            .get(&(self.template, logical_id.to_string()))?;
        Some(self.b.ref_value(r, self.template, logical_id))
    }

    fn get_att(&self, logical_id: &str, attribute: &str) -> Result<Value, String> {
        let Some(r) = self
            .b
            .by_logical
            .get(&(self.template, logical_id.to_string()))
            .copied()
        else {
            return Err(format!("{logical_id} is not a resource of this template"));
        };
        self.b.attribute(r, logical_id, attribute)
    }
}

impl Builder {
    fn cfn_error(&mut self, e: &cfn::CfnError) {
        self.diags.push(Diagnostic {
            severity: Severity::Error,
            file: e.file.clone(),
            logical_id: e.logical_id.clone(),
            code: e.code.into(),
            message: e.message.clone(),
        });
    }

    fn diag(
        &mut self,
        severity: Severity,
        template: usize,
        logical_id: &str,
        code: &str,
        message: impl Into<String>,
    ) {
        self.diags.push(Diagnostic {
            severity,
            file: self.model.templates[template].path.clone(),
            logical_id: Some(logical_id.to_string()),
            code: code.into(),
            message: message.into(),
        });
    }

    fn error_at(&mut self, o: &Origin, code: &str, message: impl Into<String>) {
        self.diag(
            Severity::Error,
            o.template,
            &o.logical_id.clone(),
            code,
            message,
        );
    }

    fn warn_at(&mut self, o: &Origin, code: &str, message: impl Into<String>) {
        self.diag(
            Severity::Warning,
            o.template,
            &o.logical_id.clone(),
            code,
            message,
        );
    }

    fn origin(
        &self,
        template: usize,
        logical_id: &str,
        kind: impl Into<Cow<'static, str>>,
        name: Option<String>,
    ) -> Origin {
        let t = &self.model.templates[template];
        let kind = kind.into();
        Origin {
            template,
            logical_id: logical_id.to_string(),
            id: aws_id(
                id_prefix(&kind),
                &t.account_id,
                &t.region,
                &t.stack_name,
                logical_id,
            ),
            name,
            kind,
        }
    }

    fn load_template(
        &mut self,
        t: &cfn::Template,
        stack: &str,
        opts: &LoadOptions,
        imports: &mut BTreeMap<String, String>,
    ) {
        let template = self.model.templates.len();
        self.template = template;
        self.model.templates.push(TemplateInfo {
            path: t.path.clone(),
            stack_name: stack.to_string(),
            region: opts.region.clone(),
            account_id: opts.account_id.clone(),
        });
        let mut ctx = StackContext::new(&opts.region, &opts.account_id, stack);
        ctx.parameter_overrides = opts
            .parameters
            .iter()
            .filter(|(k, _)| t.parameters.iter().any(|p| &p.name == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        ctx.imports = imports.clone();
        let ev = match Evaluator::new(t, &ctx) {
            Ok(ev) => ev,
            Err(errors) => {
                for e in &errors {
                    self.cfn_error(e);
                }
                return;
            }
        };
        let order = match ev.dependency_order() {
            Ok(o) => o,
            Err(errors) => {
                for e in &errors {
                    self.cfn_error(e);
                }
                return;
            }
        };
        self.prescan_addresses(t, &ev);
        for i in order {
            let r = &t.resources[i];
            match ev.resource_enabled(r) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    self.cfn_error(&e);
                    continue;
                }
            }
            let props = {
                let lookup = Lookup { b: self, template };
                ev.eval(&r.properties, &lookup, Some(&r.logical_id))
            };
            match props {
                Ok(p) => self.add(template, &r.logical_id, &r.type_, &p),
                // A resource vpcsim does not model never fails the load, even when its
                // properties cannot be evaluated here.
                Err(e) if !SUPPORTED_TYPES.contains(&r.type_.as_str()) => {
                    self.diags.push(Diagnostic {
                        severity: Severity::Warning,
                        file: e.file.clone(),
                        logical_id: e.logical_id.clone(),
                        code: e.code.into(),
                        message: format!("{} (not simulated, kept as unsupported)", e.message),
                    });
                    self.add(template, &r.logical_id, &r.type_, &Value::Null);
                }
                Err(e) => {
                    self.cfn_error(&e);
                    self.mark_failed(template, &r.logical_id);
                }
            }
        }
        // Exports feed Fn::ImportValue of the templates loaded after this one.
        let lookup = Lookup { b: self, template };
        for out in &t.output_details {
            if let Some(Ok(name)) = ev.export_name(&out.name, &lookup) {
                if let (Some(name), Ok(value)) = (
                    props::scalar_string(&name),
                    ev.eval(&out.value, &lookup, None),
                ) {
                    if let Some(v) = props::scalar_string(&value) {
                        imports.entry(name).or_insert(v);
                    } else if let Value::Array(items) = &value {
                        let joined: Vec<String> =
                            items.iter().filter_map(props::scalar_string).collect();
                        imports.entry(name).or_insert(joined.join(","));
                    }
                }
            }
        }
    }

    /// Find explicitly requested private addresses before anything is auto-assigned, so an
    /// instance without an address never takes one that a later resource asks for.
    fn prescan_addresses(&mut self, t: &cfn::Template, ev: &Evaluator<'_>) {
        struct NoRefs;
        impl Resolver for NoRefs {
            fn resource_ref(&self, _: &str) -> Option<Value> {
                None
            }
            fn get_att(&self, _: &str, _: &str) -> Result<Value, String> {
                Err(String::new())
            }
        }
        for r in &t.resources {
            if !matches!(
                r.type_.as_str(),
                "AWS::EC2::Instance" | "AWS::EC2::NetworkInterface" | "AWS::EC2::NatGateway"
            ) {
                continue;
            }
            let cfn::Node::Map(entries) = &r.properties else {
                continue;
            };
            for (k, v) in entries {
                let wanted = matches!(
                    k.as_str(),
                    "PrivateIpAddress" | "PrivateIpAddresses" | "NetworkInterfaces"
                );
                if !wanted {
                    continue;
                }
                if let Ok(v) = ev.eval(v, &NoRefs, None) {
                    collect_ips(&v, &mut self.reserved_explicit);
                }
            }
        }
    }

    /// Remember a resource that could not be built, so that references to it fail quietly
    /// instead of repeating the error in every resource that uses it.
    fn mark_failed(&mut self, template: usize, logical_id: &str) {
        self.by_logical
            .insert((template, logical_id.to_string()), Ref::Failed);
        if let Value::String(id) = self.ref_value(Ref::Failed, template, logical_id) {
            self.by_id.insert(id, Ref::Failed);
        }
    }

    fn ref_value(&self, r: Ref, template: usize, logical_id: &str) -> Value {
        let m = &self.model;
        let id = match r {
            Ref::Vpc(i) => m.vpcs[i].origin.id.clone(),
            Ref::Subnet(i) => m.subnets[i].origin.id.clone(),
            Ref::RouteTable(i) => m.route_tables[i].origin.id.clone(),
            Ref::Igw(i) => m.internet_gateways[i].origin.id.clone(),
            Ref::Eigw(i) => m.egress_only_igws[i].origin.id.clone(),
            Ref::Nat(i) => m.nat_gateways[i].origin.id.clone(),
            // Ref of an EIP is its address.
            Ref::Eip(i) => m.eips[i].public_ip.to_string(),
            Ref::Nacl(i) => m.network_acls[i].origin.id.clone(),
            Ref::Sg(i) => m.security_groups[i].origin.id.clone(),
            Ref::Instance(i) => m.instances[i].origin.id.clone(),
            Ref::Eni(i) => m.enis[i].origin.id.clone(),
            Ref::Peering(i) => m.peerings[i].origin.id.clone(),
            Ref::Tgw(i) => m.transit_gateways[i].origin.id.clone(),
            Ref::TgwAttachment(i) => m.tgw_attachments[i].origin.id.clone(),
            Ref::TgwRouteTable(i) => m.tgw_route_tables[i].origin.id.clone(),
            Ref::Vgw(i) => m.vpn_gateways[i].origin.id.clone(),
            Ref::Cgw(i) => m.customer_gateways[i].origin.id.clone(),
            Ref::Vpn(i) => m.vpn_connections[i].origin.id.clone(),
            // Ref of a load balancer, listener or target group is its ARN.
            Ref::LoadBalancer(i) => m.load_balancers[i].origin.id.clone(),
            Ref::Listener(i) => m.listeners[i].origin.id.clone(),
            Ref::TargetGroup(i) => m.target_groups[i].origin.id.clone(),
            Ref::PrefixList(i) => m.prefix_lists[i].origin.id.clone(),
            Ref::VpcEndpoint(i) => m.vpc_endpoints[i].origin.id.clone(),
            Ref::GatewayLoadBalancer(i) => m.gateway_load_balancers[i].origin.id.clone(),
            Ref::GwlbTargetGroup(i) => m.gwlb_target_groups[i].origin.id.clone(),
            Ref::EndpointService(i) => m.endpoint_services[i].origin.id.clone(),
            Ref::GwlbEndpoint(i) => m.gwlb_endpoints[i].origin.id.clone(),
            Ref::Link(i) => m.links[i].id.clone(),
            Ref::CidrBlock(_, l) => m.links[l].id.clone(),
            Ref::Unsupported(i) => m.unsupported[i].origin.id.clone(),
            Ref::Failed => {
                let t = &m.templates[template];
                aws_id(
                    "failed",
                    &t.account_id,
                    &t.region,
                    &t.stack_name,
                    logical_id,
                )
            }
        };
        Value::String(id)
    }

    fn attribute(&self, r: Ref, logical_id: &str, attr: &str) -> Result<Value, String> {
        let m = &self.model;
        let unknown = || Err(format!("{logical_id} has no attribute {attr}"));
        let v = match r {
            Ref::Vpc(i) => {
                let v = &m.vpcs[i];
                match attr {
                    "CidrBlock" => json!(v.cidrs_v4.first().map(|c| c.to_string())),
                    "CidrBlockAssociations" => json!(v
                        .cidrs_v4
                        .iter()
                        .map(|c| format!(
                            "{}-{}",
                            v.origin.id.replace("vpc-", "vpc-cidr-assoc-"),
                            c
                        ))
                        .collect::<Vec<_>>()),
                    "DefaultNetworkAcl" => json!(m.network_acls[v.default_network_acl].origin.id),
                    "DefaultSecurityGroup" => {
                        json!(m.security_groups[v.default_security_group].origin.id)
                    }
                    "Ipv6CidrBlocks" => {
                        json!(v.cidrs_v6.iter().map(|c| c.to_string()).collect::<Vec<_>>())
                    }
                    "VpcId" => json!(v.origin.id),
                    _ => return unknown(),
                }
            }
            Ref::Subnet(i) => {
                let s = &m.subnets[i];
                match attr {
                    "AvailabilityZone" => json!(s.availability_zone),
                    "AvailabilityZoneId" => json!(az_id(&s.availability_zone)),
                    "CidrBlock" => json!(s.cidr_v4.map(|c| c.to_string())),
                    "Ipv6CidrBlocks" => {
                        json!(s.cidr_v6.iter().map(|c| c.to_string()).collect::<Vec<_>>())
                    }
                    "NetworkAclAssociationId" => json!(format!("{}-aclassoc", s.origin.id)),
                    "VpcId" => json!(m.vpcs[s.vpc].origin.id),
                    "SubnetId" => json!(s.origin.id),
                    "OutpostArn" => json!(""),
                    _ => return unknown(),
                }
            }
            Ref::RouteTable(i) => match attr {
                "RouteTableId" => json!(m.route_tables[i].origin.id),
                _ => return unknown(),
            },
            Ref::Igw(i) => match attr {
                "InternetGatewayId" => json!(m.internet_gateways[i].origin.id),
                _ => return unknown(),
            },
            Ref::Eigw(i) => match attr {
                "Id" => json!(m.egress_only_igws[i].origin.id),
                _ => return unknown(),
            },
            Ref::Nat(i) => match attr {
                "NatGatewayId" => json!(m.nat_gateways[i].origin.id),
                _ => return unknown(),
            },
            Ref::Eip(i) => match attr {
                "AllocationId" => json!(m.eips[i].allocation_id),
                "PublicIp" => json!(m.eips[i].public_ip.to_string()),
                _ => return unknown(),
            },
            Ref::Nacl(i) => match attr {
                "Id" => json!(m.network_acls[i].origin.id),
                _ => return unknown(),
            },
            Ref::Sg(i) => match attr {
                "GroupId" => json!(m.security_groups[i].origin.id),
                "VpcId" => json!(m.security_groups[i]
                    .vpc
                    .map(|v| m.vpcs[v].origin.id.clone())),
                _ => return unknown(),
            },
            Ref::Instance(i) => {
                let inst = &m.instances[i];
                let primary = inst.enis.first().map(|&e| &m.enis[e]);
                let private = primary.and_then(|e| e.private_v4.first().copied());
                let public = match (inst.enis.first(), private) {
                    (Some(&e), Some(p)) => m.public_ip_of(e, p),
                    _ => None,
                };
                match attr {
                    "PrivateIp" => json!(private.map(|a| a.to_string())),
                    "PublicIp" => json!(public.map(|a| a.to_string()).unwrap_or_default()),
                    "PrivateDnsName" => json!(private
                        .map(|a| format!("ip-{}.ec2.internal", a.to_string().replace('.', "-")))),
                    "PublicDnsName" => json!(public
                        .map(|a| format!(
                            "ec2-{}.compute-1.amazonaws.com",
                            a.to_string().replace('.', "-")
                        ))
                        .unwrap_or_default()),
                    "AvailabilityZone" => {
                        json!(primary.map(|e| m.subnets[e.subnet].availability_zone.clone()))
                    }
                    "InstanceId" => json!(inst.origin.id),
                    _ => return unknown(),
                }
            }
            Ref::Eni(i) => {
                let e = &m.enis[i];
                match attr {
                    "PrimaryPrivateIpAddress" => json!(e.private_v4.first().map(|a| a.to_string())),
                    "SecondaryPrivateIpAddresses" => {
                        json!(e
                            .private_v4
                            .iter()
                            .skip(1)
                            .map(|a| a.to_string())
                            .collect::<Vec<_>>())
                    }
                    "Id" => json!(e.origin.id),
                    "PrimaryIpv6Address" => json!(e.ipv6.first().map(|a| a.to_string())),
                    _ => return unknown(),
                }
            }
            Ref::Peering(i) => match attr {
                "Id" => json!(m.peerings[i].origin.id),
                _ => return unknown(),
            },
            Ref::Tgw(i) => {
                let o = &m.transit_gateways[i].origin;
                match attr {
                    "Id" => json!(o.id),
                    "TransitGatewayArn" => json!(arn(m, o, "transit-gateway")),
                    _ => return unknown(),
                }
            }
            Ref::TgwAttachment(i) => match attr {
                "Id" => json!(m.tgw_attachments[i].origin.id),
                _ => return unknown(),
            },
            Ref::TgwRouteTable(i) => match attr {
                "TransitGatewayRouteTableId" => json!(m.tgw_route_tables[i].origin.id),
                _ => return unknown(),
            },
            Ref::Vgw(i) => match attr {
                "VPNGatewayId" => json!(m.vpn_gateways[i].origin.id),
                _ => return unknown(),
            },
            Ref::Cgw(i) => match attr {
                "CustomerGatewayId" => json!(m.customer_gateways[i].origin.id),
                _ => return unknown(),
            },
            Ref::Vpn(i) => {
                let c = &m.vpn_connections[i];
                match attr {
                    "VpnConnectionId" => json!(c.origin.id),
                    // Not a CloudFormation attribute; vpcsim's way to name the attachment a
                    // VPN connection creates on a transit gateway.
                    "TransitGatewayAttachmentId" => match c.edge {
                        VpnEdge::TransitGateway { attachment, .. } => {
                            json!(m.tgw_attachments[attachment].origin.id)
                        }
                        VpnEdge::VpnGateway(_) => return unknown(),
                    },
                    _ => return unknown(),
                }
            }
            Ref::PrefixList(i) => return self.prefix_list_attribute(i, logical_id, attr),
            Ref::VpcEndpoint(i) => return self.endpoint_attribute(i, logical_id, attr),
            Ref::GatewayLoadBalancer(_)
            | Ref::GwlbTargetGroup(_)
            | Ref::EndpointService(_)
            | Ref::GwlbEndpoint(_) => match self.gwlb_attribute(r, attr) {
                Some(v) => v,
                None => return unknown(),
            },
            Ref::CidrBlock(_, l) => match attr {
                "Id" => json!(m.links[l].id),
                "Ipv6CidrBlock" => json!(m.links[l].name),
                _ => return unknown(),
            },
            Ref::Link(l) => json!(format!("{}.{attr}", m.links[l].id)),
            Ref::LoadBalancer(_) | Ref::Listener(_) | Ref::TargetGroup(_) => {
                match self.load_balancer_attribute(r, attr) {
                    Some(v) => v,
                    None => return unknown(),
                }
            }
            // Attributes of resources we don't model are opaque tokens: they can flow into other
            // unsupported resources without failing the load.
            Ref::Unsupported(i) => opaque_attribute(&m.unsupported[i].origin.id, attr),
            Ref::Failed => json!(format!("failed-{logical_id}.{attr}")),
        };
        Ok(v)
    }

    /// Resolve an id (or an EIP address / allocation id) to what it names.
    fn lookup(&self, id: &str) -> Option<Ref> {
        self.by_id.get(id).copied()
    }

    fn find<T>(
        &self,
        key: &str,
        id: &str,
        pick: impl Fn(Ref) -> Option<T>,
        not_found: &'static str,
    ) -> R<T> {
        match self.lookup(id) {
            Some(Ref::Failed) => Err(Problem::quiet()),
            Some(r) => pick(r).ok_or_else(|| {
                Problem::new(
                    not_found,
                    format!("{key} {id} is not a resource of the expected type"),
                )
            }),
            None => Err(Problem::new(
                not_found,
                format!("{key} {id} does not exist in the loaded topology"),
            )),
        }
    }

    fn vpc_ref(&self, p: &Value, key: &str) -> R<usize> {
        let id = req_str(p, key)?;
        self.vpc_id(key, &id)
    }

    fn subnet_ref(&self, p: &Value, key: &str) -> R<usize> {
        let id = req_str(p, key)?;
        self.subnet_id(key, &id)
    }

    fn register(&mut self, template: usize, logical_id: &str, id: &str, r: Ref) {
        self.by_logical
            .insert((template, logical_id.to_string()), r);
        self.by_id.insert(id.to_string(), r);
    }

    /// Build one resource from its evaluated properties.
    fn add(&mut self, template: usize, logical_id: &str, kind: &str, p: &Value) {
        let result = match kind {
            "AWS::EC2::VPC" => self.add_vpc(template, logical_id, p),
            "AWS::EC2::VPCCidrBlock" => self.add_vpc_cidr_block(template, logical_id, p),
            "AWS::EC2::Subnet" => self.add_subnet(template, logical_id, p),
            "AWS::EC2::RouteTable" => self.add_route_table(template, logical_id, p),
            "AWS::EC2::Route" => self.add_route(template, logical_id, p),
            "AWS::EC2::SubnetRouteTableAssociation" => {
                self.add_rt_association(template, logical_id, p)
            }
            "AWS::EC2::InternetGateway" => self.add_igw(template, logical_id, p),
            "AWS::EC2::VPCGatewayAttachment" => {
                self.add_gateway_attachment(template, logical_id, p)
            }
            "AWS::EC2::EgressOnlyInternetGateway" => self.add_eigw(template, logical_id, p),
            "AWS::EC2::NatGateway" => self.add_nat(template, logical_id, p),
            "AWS::EC2::EIP" => self.add_eip(template, logical_id, p),
            "AWS::EC2::EIPAssociation" => self.add_eip_association(template, logical_id, p),
            "AWS::EC2::NetworkAcl" => self.add_nacl(template, logical_id, p),
            "AWS::EC2::NetworkAclEntry" => self.add_nacl_entry(template, logical_id, p),
            "AWS::EC2::SubnetNetworkAclAssociation" => {
                self.add_nacl_association(template, logical_id, p)
            }
            "AWS::EC2::SecurityGroup" => self.add_sg(template, logical_id, p),
            "AWS::EC2::SecurityGroupIngress" => {
                self.add_sg_rule_resource(template, logical_id, p, true)
            }
            "AWS::EC2::SecurityGroupEgress" => {
                self.add_sg_rule_resource(template, logical_id, p, false)
            }
            "AWS::EC2::Instance" => self.add_instance(template, logical_id, p),
            "AWS::EC2::NetworkInterface" => self.add_eni_resource(template, logical_id, p),
            "AWS::EC2::NetworkInterfaceAttachment" => {
                self.add_eni_attachment(template, logical_id, p)
            }
            "AWS::EC2::VPCPeeringConnection" => self.add_peering(template, logical_id, p),
            "AWS::EC2::TransitGateway" => self.add_tgw(template, logical_id, p),
            "AWS::EC2::TransitGatewayAttachment" => self.add_tgw_attachment(
                template,
                logical_id,
                "AWS::EC2::TransitGatewayAttachment",
                p,
            ),
            "AWS::EC2::TransitGatewayVpcAttachment" => self.add_tgw_attachment(
                template,
                logical_id,
                "AWS::EC2::TransitGatewayVpcAttachment",
                p,
            ),
            "AWS::EC2::TransitGatewayRouteTable" => {
                self.add_tgw_route_table(template, logical_id, p)
            }
            "AWS::EC2::TransitGatewayRoute" => self.add_tgw_route(template, logical_id, p),
            "AWS::EC2::TransitGatewayRouteTableAssociation" => {
                self.add_tgw_association(template, logical_id, p)
            }
            "AWS::EC2::TransitGatewayRouteTablePropagation" => {
                self.add_tgw_propagation(template, logical_id, p)
            }
            "AWS::EC2::VPNGateway" => self.add_vgw(template, logical_id, p),
            "AWS::EC2::CustomerGateway" => self.add_cgw(template, logical_id, p),
            "AWS::EC2::VPNConnection" => self.add_vpn_connection(template, logical_id, p),
            "AWS::EC2::VPNConnectionRoute" => self.add_vpn_route(template, logical_id, p),
            "AWS::EC2::VPNGatewayRoutePropagation" => {
                self.add_vgw_propagation(template, logical_id, p)
            }
            "AWS::EC2::GatewayRouteTableAssociation" => {
                self.add_gateway_rt_association(template, logical_id, p)
            }
            elb::LOAD_BALANCER => self.add_load_balancer(template, logical_id, p),
            elb::LISTENER => self.add_listener(template, logical_id, p),
            elb::TARGET_GROUP => self.add_target_group(template, logical_id, p),
            "AWS::EC2::PrefixList" => self.add_prefix_list(template, logical_id, p),
            "AWS::EC2::VPCEndpoint" => self.add_vpc_endpoint(template, logical_id, p),
            gwlb::ENDPOINT_SERVICE => self.add_endpoint_service(template, logical_id, p),
            _ => {
                let origin =
                    self.origin(template, logical_id, kind.to_string(), props::name_tag(p));
                let id = origin.id.clone();
                self.model.unsupported.push(Unsupported { origin });
                let i = self.model.unsupported.len() - 1;
                self.register(template, logical_id, &id, Ref::Unsupported(i));
                Ok(())
            }
        };
        if let Err(problem) = result {
            self.mark_failed(template, logical_id);
            if !problem.quiet {
                self.diag(
                    Severity::Error,
                    template,
                    logical_id,
                    problem.code,
                    problem.message,
                );
            }
        }
    }

    fn link(&mut self, template: usize, logical_id: &str, kind: &'static str, p: &Value) -> usize {
        let origin = self.origin(template, logical_id, kind, props::name_tag(p));
        let id = origin.id.clone();
        self.model.links.push(origin);
        let l = self.model.links.len() - 1;
        self.register(template, logical_id, &id, Ref::Link(l));
        l
    }

    fn add_vpc(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        if get(p, "Ipv4IpamPoolId").is_some() && get(p, "CidrBlock").is_none() {
            return Err(Problem::new(
                "UnsupportedOperation",
                "VPCs allocated from IPAM pools are not simulated: give the VPC a CidrBlock",
            ));
        }
        let cidr = parse_v4_net(p, "CidrBlock")?.ok_or_else(|| missing("CidrBlock"))?;
        check_vpc_cidr(&cidr)?;
        let origin = self.origin(t, lid, "AWS::EC2::VPC", props::name_tag(p));
        let vpc = self.model.vpcs.len();
        let implicit = |b: &Self, suffix: &str, kind: &'static str| {
            b.origin(t, &format!("{lid}.{suffix}"), kind, None)
        };
        let rt_origin = implicit(self, "MainRouteTable", "AWS::EC2::RouteTable");
        let acl_origin = implicit(self, "DefaultNetworkAcl", "AWS::EC2::NetworkAcl");
        let sg_origin = implicit(self, "DefaultSecurityGroup", "AWS::EC2::SecurityGroup");
        let (rt_id, acl_id, sg_id) = (
            rt_origin.id.clone(),
            acl_origin.id.clone(),
            sg_origin.id.clone(),
        );
        self.model.route_tables.push(RouteTable {
            origin: rt_origin,
            vpc,
            main: true,
            routes: vec![],
        });
        let allow_all = |egress: bool, number: u16, cidr: IpNet| NaclEntry {
            origin: None,
            egress,
            entry: vpcsim_dataplane::nacl::NaclEntry {
                number,
                res: None,
                protocol: None,
                ports: (0, 65535),
                icmp_type: None,
                icmp_code: None,
                cidr,
                allow: true,
            },
        };
        let any_v4: IpNet = "0.0.0.0/0".parse().map_err(|_| Problem::quiet())?;
        self.model.network_acls.push(NetworkAcl {
            origin: acl_origin,
            vpc,
            default: true,
            entries: vec![allow_all(false, 100, any_v4), allow_all(true, 100, any_v4)],
        });
        let sg = self.model.security_groups.len();
        self.model.security_groups.push(SecurityGroup {
            origin: sg_origin,
            vpc: Some(vpc),
            group_name: "default".into(),
            ingress: vec![SgRule {
                protocol: None,
                from_port: -1,
                to_port: -1,
                peer: SgPeer::Group(sg),
                description: Some("default: all traffic from the group itself".into()),
            }],
            egress: vec![SgRule {
                protocol: None,
                from_port: -1,
                to_port: -1,
                peer: SgPeer::Cidr(any_v4),
                description: None,
            }],
        });
        let id = origin.id.clone();
        self.model.vpcs.push(Vpc {
            origin,
            cidrs_v4: vec![cidr],
            cidrs_v6: vec![],
            enable_dns_support: opt_bool(p, "EnableDnsSupport")?.unwrap_or(true),
            enable_dns_hostnames: opt_bool(p, "EnableDnsHostnames")?.unwrap_or(false),
            main_route_table: self.model.route_tables.len() - 1,
            default_network_acl: self.model.network_acls.len() - 1,
            default_security_group: sg,
            internet_gateway: None,
            egress_only_igw: None,
        });
        self.register(t, lid, &id, Ref::Vpc(vpc));
        self.by_id
            .insert(rt_id, Ref::RouteTable(self.model.route_tables.len() - 1));
        self.by_id
            .insert(acl_id, Ref::Nacl(self.model.network_acls.len() - 1));
        self.by_id.insert(sg_id, Ref::Sg(sg));
        Ok(())
    }

    fn add_vpc_cidr_block(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        let l = self.link(t, lid, "AWS::EC2::VPCCidrBlock", p);
        self.by_logical
            .insert((t, lid.to_string()), Ref::CidrBlock(vpc, l));
        if let Some(cidr) = parse_v4_net(p, "CidrBlock")? {
            check_vpc_cidr(&cidr)?;
            let v = &self.model.vpcs[vpc];
            if let Some(c) = v
                .cidrs_v4
                .iter()
                .find(|c| c.contains(&cidr.network()) || cidr.contains(&c.network()))
            {
                return Err(Problem::new(
                    "InvalidVpc.Range",
                    format!("{cidr} overlaps the VPC's existing CIDR {c}"),
                ));
            }
            if let Some(primary) = v.cidrs_v4.first() {
                check_secondary_range(primary, &cidr)?;
            }
            if v.cidrs_v4.len() >= 5 {
                return Err(Problem::new(
                    "CidrLimitExceeded",
                    "a VPC has at most 5 IPv4 CIDR blocks",
                ));
            }
            self.model.vpcs[vpc].cidrs_v4.push(cidr);
            return Ok(());
        }
        let v6 = if opt_bool(p, "AmazonProvidedIpv6CidrBlock")?.unwrap_or(false) {
            self.amazon_ipv6_block(vpc)
        } else if let Some(block) = opt_str(p, "Ipv6CidrBlock")? {
            block
                .parse::<Ipv6Net>()
                .map_err(|e| invalid("Ipv6CidrBlock", e))?
                .trunc()
        } else if get(p, "Ipv6IpamPoolId").is_some() {
            self.amazon_ipv6_block(vpc)
        } else {
            return Err(Problem::new(
                "MissingParameter",
                "one of CidrBlock, AmazonProvidedIpv6CidrBlock or Ipv6CidrBlock is required",
            ));
        };
        self.model.links[l].name = Some(v6.to_string());
        self.model.vpcs[vpc].cidrs_v6.push(v6);
        // The default NACL gets its IPv6 allow-all rules (101) and the default SG its ::/0 egress.
        let any_v6: IpNet = "::/0".parse().map_err(|_| Problem::quiet())?;
        let acl = self.model.vpcs[vpc].default_network_acl;
        for egress in [false, true] {
            let entries = &mut self.model.network_acls[acl].entries;
            if !entries
                .iter()
                .any(|e| e.egress == egress && e.entry.number == 101)
            {
                entries.push(NaclEntry {
                    origin: None,
                    egress,
                    entry: vpcsim_dataplane::nacl::NaclEntry {
                        number: 101,
                        res: None,
                        protocol: None,
                        ports: (0, 65535),
                        icmp_type: None,
                        icmp_code: None,
                        cidr: any_v6,
                        allow: true,
                    },
                });
            }
        }
        let sg = self.model.vpcs[vpc].default_security_group;
        let egress = &mut self.model.security_groups[sg].egress;
        if !egress.iter().any(|r| r.peer == SgPeer::Cidr(any_v6)) {
            egress.push(SgRule {
                protocol: None,
                from_port: -1,
                to_port: -1,
                peer: SgPeer::Cidr(any_v6),
                description: None,
            });
        }
        Ok(())
    }

    /// A deterministic Amazon-provided /56 in 2600:1f00::/24, unique within the topology.
    fn amazon_ipv6_block(&mut self, vpc: usize) -> Ipv6Net {
        let id = self.model.vpcs[vpc].origin.id.clone();
        let mut salt = 0u64;
        loop {
            let h = fnv1a(&[&id, &salt.to_string()], 0x6c62_272e_07bb_0142);
            // 2600:1fXX:XXXX:XX00::/56: the /24 is fixed, the next 32 bits come from the hash.
            let bits: u128 = (0x0026_001fu128 << 104) | (((h & 0xffff_ffff) as u128) << 72);
            if self.used_v6_blocks.insert(bits) {
                return Ipv6Net::new(Ipv6Addr::from_bits(bits), 56)
                    .map(|n| n.trunc())
                    .unwrap_or_default();
            }
            salt += 1;
        }
    }

    fn add_subnet(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        let cidr_v4 = parse_v4_net(p, "CidrBlock")?;
        let cidr_v6 = match opt_str(p, "Ipv6CidrBlock")? {
            Some(s) => Some(
                s.parse::<Ipv6Net>()
                    .map_err(|e| invalid("Ipv6CidrBlock", e))?
                    .trunc(),
            ),
            None => None,
        };
        if cidr_v4.is_none() && cidr_v6.is_none() {
            return Err(missing("CidrBlock"));
        }
        let v = &self.model.vpcs[vpc];
        if let Some(c) = cidr_v4 {
            if !(16..=28).contains(&c.prefix_len()) {
                return Err(Problem::new(
                    "InvalidSubnet.Range",
                    format!("{c}: subnet prefix length must be /16 to /28"),
                ));
            }
            if !v.cidrs_v4.iter().any(|vc| vc.contains(&c)) {
                return Err(Problem::new(
                    "InvalidSubnet.Range",
                    format!(
                        "{c} is not within the VPC's CIDR blocks ({})",
                        join(&v.cidrs_v4)
                    ),
                ));
            }
            if let Some(other) = self.model.subnets.iter().find(|s| {
                s.vpc == vpc
                    && s.cidr_v4
                        .is_some_and(|o| o.contains(&c.network()) || c.contains(&o.network()))
            }) {
                return Err(Problem::new(
                    "InvalidSubnet.Conflict",
                    format!(
                        "{c} overlaps subnet {} ({})",
                        other.origin.logical_id,
                        join(other.cidr_v4)
                    ),
                ));
            }
        }
        if let Some(c) = cidr_v6 {
            if c.prefix_len() != 64 {
                return Err(Problem::new(
                    "InvalidSubnet.Range",
                    format!("{c}: IPv6 subnets are /64"),
                ));
            }
            if !v.cidrs_v6.iter().any(|vc| vc.contains(&c)) {
                return Err(Problem::new(
                    "InvalidSubnet.Range",
                    format!(
                        "{c} is not within the VPC's IPv6 blocks ({})",
                        join(&v.cidrs_v6)
                    ),
                ));
            }
            if let Some(other) = self
                .model
                .subnets
                .iter()
                .find(|s| s.vpc == vpc && s.cidr_v6 == Some(c))
            {
                return Err(Problem::new(
                    "InvalidSubnet.Conflict",
                    format!(
                        "{c} is already the IPv6 block of subnet {}",
                        other.origin.logical_id
                    ),
                ));
            }
        }
        let region = self.model.templates[t].region.clone();
        let az = opt_str(p, "AvailabilityZone")?
            .filter(|s| !s.is_empty())
            .or(opt_str(p, "AvailabilityZoneId")?.map(|z| az_from_id(&region, &z)))
            .unwrap_or_else(|| format!("{region}a"));
        let origin = self.origin(t, lid, "AWS::EC2::Subnet", props::name_tag(p));
        let id = origin.id.clone();
        self.model.subnets.push(Subnet {
            origin,
            vpc,
            availability_zone: az,
            cidr_v4,
            cidr_v6,
            map_public_ip_on_launch: opt_bool(p, "MapPublicIpOnLaunch")?.unwrap_or(false),
            route_table: None,
            network_acl: None,
        });
        let i = self.model.subnets.len() - 1;
        self.register(t, lid, &id, Ref::Subnet(i));
        Ok(())
    }

    fn add_route_table(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        let origin = self.origin(t, lid, "AWS::EC2::RouteTable", props::name_tag(p));
        let id = origin.id.clone();
        self.model.route_tables.push(RouteTable {
            origin,
            vpc,
            main: false,
            routes: vec![],
        });
        let i = self.model.route_tables.len() - 1;
        self.register(t, lid, &id, Ref::RouteTable(i));
        Ok(())
    }

    fn add_route(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let rt_id = req_str(p, "RouteTableId")?;
        let rt = self.route_table_id("RouteTableId", &rt_id)?;
        let origin = self.origin(t, lid, "AWS::EC2::Route", None);
        self.link(t, lid, "AWS::EC2::Route", p);
        // `None`: the destination is a prefix list (`prefix_list`).
        let mut prefix_list = None;
        let destination: Option<IpNet> = if let Some(d) = opt_str(p, "DestinationCidrBlock")? {
            Some(IpNet::V4(
                d.parse::<Ipv4Net>()
                    .map_err(|e| invalid("DestinationCidrBlock", e))?
                    .trunc(),
            ))
        } else if let Some(d) = opt_str(p, "DestinationIpv6CidrBlock")? {
            Some(IpNet::V6(
                d.parse::<Ipv6Net>()
                    .map_err(|e| invalid("DestinationIpv6CidrBlock", e))?
                    .trunc(),
            ))
        } else if let Some(id) = opt_str(p, "DestinationPrefixListId")? {
            prefix_list = Some(self.prefix_list_ref("DestinationPrefixListId", &id, t)?);
            None
        } else {
            return Err(missing("DestinationCidrBlock"));
        };
        if let Some(IpNet::V4(d)) = destination {
            let reserved: Ipv4Net = "169.254.168.0/22".parse().map_err(|_| Problem::quiet())?;
            if reserved.contains(&d) {
                return Err(Problem::new(
                    "InvalidParameterValue",
                    format!("{d} is inside 169.254.168.0/22, which routes may not target"),
                ));
            }
        }
        const TARGETS: [(&str, &str); 11] = [
            ("GatewayId", "gateway"),
            (
                "EgressOnlyInternetGatewayId",
                "egress-only internet gateway",
            ),
            ("NatGatewayId", "NAT gateway"),
            ("InstanceId", "instance"),
            ("NetworkInterfaceId", "network interface"),
            ("VpcPeeringConnectionId", "peering connection"),
            ("TransitGatewayId", "transit gateway"),
            ("VpcEndpointId", "VPC endpoint"),
            ("CarrierGatewayId", "carrier gateway"),
            ("LocalGatewayId", "local gateway"),
            ("CoreNetworkArn", "core network"),
        ];
        let mut target = None;
        for (key, what) in TARGETS {
            if let Some(v) = opt_str(p, key)? {
                target = Some((key, what, v));
                break;
            }
        }
        let Some((key, what, value)) = target else {
            return Err(Problem::new(
                "MissingParameter",
                "the route has no target (GatewayId, NatGatewayId, ...)",
            ));
        };
        if key == "GatewayId" && value == "local" {
            return Ok(());
        }
        if let ("VpcEndpointId", Some(Ref::GwlbEndpoint(x))) = (key, self.lookup(&value)) {
            return self.add_gwlb_route(origin, rt, destination, x);
        }
        let target = match (key, self.lookup(&value)) {
            (_, Some(Ref::Failed)) => return Err(Problem::quiet()),
            ("GatewayId", Some(Ref::Igw(i))) => RouteTarget::InternetGateway(i),
            ("GatewayId", Some(Ref::Vgw(i))) => RouteTarget::VpnGateway(i),
            ("TransitGatewayId", Some(Ref::Tgw(i))) => RouteTarget::TransitGateway(i),
            ("EgressOnlyInternetGatewayId", Some(Ref::Eigw(i))) => {
                RouteTarget::EgressOnlyInternetGateway(i)
            }
            ("NatGatewayId", Some(Ref::Nat(i))) => RouteTarget::NatGateway(i),
            ("InstanceId", Some(Ref::Instance(i))) => match self.model.instances[i].enis.first() {
                Some(&e) => RouteTarget::NetworkInterface(e),
                None => RouteTarget::Missing(value.clone()),
            },
            ("NetworkInterfaceId", Some(Ref::Eni(i))) => RouteTarget::NetworkInterface(i),
            ("VpcPeeringConnectionId", Some(Ref::Peering(i))) => RouteTarget::Peering(i),
            (_, Some(Ref::Unsupported(u))) => {
                let kind = self.model.unsupported[u].origin.kind.clone();
                self.warn_at(
                    &origin,
                    "UnsupportedOperation",
                    format!("routes to {kind} ({value}) are not simulated yet: the route acts as a blackhole"),
                );
                RouteTarget::Missing(value.clone())
            }
            (_, Some(_)) => {
                return Err(Problem::new(
                    "InvalidParameterValue",
                    format!("{key} {value} is not a {what}"),
                ))
            }
            (_, None) => {
                self.warn_at(
                    &origin,
                    "InvalidRoute.Target",
                    format!(
                        "{key} {value} names no {what} in the topology: the route is a blackhole"
                    ),
                );
                RouteTarget::Missing(value.clone())
            }
        };
        let (Some(destination), None) = (destination, prefix_list) else {
            let pl = prefix_list.ok_or_else(|| missing("DestinationCidrBlock"))?;
            return self.add_prefix_list_route(origin, rt, pl, target);
        };
        let table = &mut self.model.route_tables[rt];
        if let Some(dup) = table.routes.iter().find(|r| r.destination == destination) {
            return Err(Problem::new(
                "RouteAlreadyExists",
                format!(
                    "route table {} already has a route for {destination} ({})",
                    table.origin.logical_id, dup.origin.logical_id
                ),
            ));
        }
        table.routes.push(Route {
            origin,
            destination,
            target,
        });
        Ok(())
    }

    fn add_rt_association(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let subnet = self.subnet_ref(p, "SubnetId")?;
        let rt_id = req_str(p, "RouteTableId")?;
        let rt = self.route_table_id("RouteTableId", &rt_id)?;
        self.link(t, lid, "AWS::EC2::SubnetRouteTableAssociation", p);
        let (s, table) = (&self.model.subnets[subnet], &self.model.route_tables[rt]);
        if s.vpc != table.vpc {
            return Err(Problem::new(
                "InvalidParameterValue",
                format!(
                    "route table {} and subnet {} belong to different VPCs",
                    table.origin.logical_id, s.origin.logical_id
                ),
            ));
        }
        if let Some(prev) = s.route_table {
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                format!(
                    "subnet {} is already associated with route table {}",
                    s.origin.logical_id, self.model.route_tables[prev].origin.logical_id
                ),
            ));
        }
        self.model.subnets[subnet].route_table = Some(rt);
        Ok(())
    }

    fn add_igw(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let origin = self.origin(t, lid, "AWS::EC2::InternetGateway", props::name_tag(p));
        let id = origin.id.clone();
        self.model
            .internet_gateways
            .push(InternetGateway { origin, vpc: None });
        let i = self.model.internet_gateways.len() - 1;
        self.register(t, lid, &id, Ref::Igw(i));
        Ok(())
    }

    fn add_gateway_attachment(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        self.link(t, lid, "AWS::EC2::VPCGatewayAttachment", p);
        let Some(gw) = opt_str(p, "InternetGatewayId")? else {
            if let Some(vgw) = opt_str(p, "VpnGatewayId")? {
                return self.attach_vgw(vpc, &vgw);
            }
            return Err(missing("InternetGatewayId"));
        };
        let igw = self.igw_id("InternetGatewayId", &gw)?;
        if let Some(other) = self.model.internet_gateways[igw].vpc {
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                format!(
                    "internet gateway {gw} is already attached to {}",
                    self.model.vpcs[other].origin.logical_id
                ),
            ));
        }
        if let Some(other) = self.model.vpcs[vpc].internet_gateway {
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                format!(
                    "the VPC already has internet gateway {} attached (one per VPC)",
                    self.model.internet_gateways[other].origin.logical_id
                ),
            ));
        }
        self.model.internet_gateways[igw].vpc = Some(vpc);
        self.model.vpcs[vpc].internet_gateway = Some(igw);
        Ok(())
    }

    fn add_eigw(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        if self.model.vpcs[vpc].egress_only_igw.is_some() {
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                "the VPC already has an egress-only internet gateway",
            ));
        }
        let origin = self.origin(
            t,
            lid,
            "AWS::EC2::EgressOnlyInternetGateway",
            props::name_tag(p),
        );
        let id = origin.id.clone();
        self.model
            .egress_only_igws
            .push(EgressOnlyInternetGateway { origin, vpc });
        let i = self.model.egress_only_igws.len() - 1;
        self.model.vpcs[vpc].egress_only_igw = Some(i);
        self.register(t, lid, &id, Ref::Eigw(i));
        Ok(())
    }

    fn add_eip(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let public_ip = match opt_str(p, "Address")? {
            Some(a) => {
                let a: Ipv4Addr = a.parse().map_err(|e| invalid("Address", e))?;
                if !self.used_public.insert(a) {
                    return Err(Problem::new(
                        "InvalidAddress.InUse",
                        format!("{a} is already allocated"),
                    ));
                }
                a
            }
            None => self.next_public_ip(),
        };
        let origin = self.origin(t, lid, "AWS::EC2::EIP", props::name_tag(p));
        let allocation_id = origin.id.clone();
        self.model.eips.push(Eip {
            origin,
            public_ip,
            allocation_id: allocation_id.clone(),
            association: None,
        });
        let i = self.model.eips.len() - 1;
        self.register(t, lid, &allocation_id, Ref::Eip(i));
        self.by_id.insert(public_ip.to_string(), Ref::Eip(i));
        if let Some(inst) = opt_str(p, "InstanceId")? {
            let inst = self.instance_id("InstanceId", &inst)?;
            self.associate_eip_with_instance(i, inst)?;
        }
        Ok(())
    }

    fn associate_eip_with_instance(&mut self, eip: usize, inst: usize) -> R<()> {
        let eni = *self.model.instances[inst].enis.first().ok_or_else(|| {
            Problem::new("InvalidInstanceID", "the instance has no network interface")
        })?;
        let private = *self.model.enis[eni].private_v4.first().ok_or_else(|| {
            Problem::new(
                "InvalidInstanceID",
                "the instance has no private IPv4 address",
            )
        })?;
        self.associate_eip(eip, eni, private)
    }

    fn associate_eip(&mut self, eip: usize, eni: usize, private: Ipv4Addr) -> R<()> {
        if !self.model.enis[eni].private_v4.contains(&private) {
            return Err(invalid(
                "PrivateIpAddress",
                format!("{private} is not an address of the interface"),
            ));
        }
        // One Elastic IP per private address: a new association replaces the previous one.
        for other in &mut self.model.eips {
            if other.association == Some((eni, private)) {
                other.association = None;
            }
        }
        self.model.eips[eip].association = Some((eni, private));
        // An auto-assigned public IP is released when an EIP is associated with the primary address.
        if self.model.enis[eni].private_v4.first() == Some(&private) {
            self.model.enis[eni].auto_public_ip = None;
        }
        Ok(())
    }

    fn add_eip_association(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        self.link(t, lid, "AWS::EC2::EIPAssociation", p);
        let eip = match (opt_str(p, "AllocationId")?, opt_str(p, "EIP")?) {
            (Some(a), _) => self.eip_id("AllocationId", &a)?,
            (None, Some(ip)) => self.eip_id("EIP", &ip)?,
            (None, None) => return Err(missing("AllocationId")),
        };
        if let Some(eni) = opt_str(p, "NetworkInterfaceId")? {
            let eni = self.eni_id("NetworkInterfaceId", &eni)?;
            let private = match opt_str(p, "PrivateIpAddress")? {
                Some(a) => a.parse().map_err(|e| invalid("PrivateIpAddress", e))?,
                None => *self.model.enis[eni].private_v4.first().ok_or_else(|| {
                    invalid("NetworkInterfaceId", "the interface has no IPv4 address")
                })?,
            };
            return self.associate_eip(eip, eni, private);
        }
        let inst = self.instance_id("InstanceId", &req_str(p, "InstanceId")?)?;
        match opt_str(p, "PrivateIpAddress")? {
            Some(a) => {
                let a: Ipv4Addr = a.parse().map_err(|e| invalid("PrivateIpAddress", e))?;
                let eni = self.model.instances[inst]
                    .enis
                    .iter()
                    .copied()
                    .find(|&e| self.model.enis[e].private_v4.contains(&a))
                    .ok_or_else(|| {
                        invalid(
                            "PrivateIpAddress",
                            format!("{a} is not an address of the instance"),
                        )
                    })?;
                self.associate_eip(eip, eni, a)
            }
            None => self.associate_eip_with_instance(eip, inst),
        }
    }

    fn next_public_ip(&mut self) -> Ipv4Addr {
        loop {
            let a = Ipv4Addr::from_bits(PUBLIC_POOL.network().to_bits() + 1 + self.next_public);
            self.next_public = (self.next_public + 1) % ((1 << 17) - 2);
            if self.used_public.insert(a) {
                return a;
            }
        }
    }

    /// Claim an address in a subnet: explicit ones are checked, missing ones are the lowest free.
    fn claim_v4(&mut self, subnet: usize, wanted: Option<Ipv4Addr>, holder: &str) -> R<Ipv4Addr> {
        let s = &self.model.subnets[subnet];
        let Some(cidr) = s.cidr_v4 else {
            return Err(Problem::new(
                "InvalidParameterValue",
                format!("subnet {} has no IPv4 CIDR", s.origin.logical_id),
            ));
        };
        let vpc = s.vpc;
        let base = cidr.network().to_bits();
        let last = cidr.broadcast().to_bits();
        match wanted {
            Some(a) => {
                if !cidr.contains(&a) {
                    return Err(Problem::new(
                        "InvalidParameterValue",
                        format!(
                            "address {a} is not in subnet {} ({cidr})",
                            s.origin.logical_id
                        ),
                    ));
                }
                let off = a.to_bits() - base;
                if off < 4 || a.to_bits() == last {
                    return Err(Problem::new(
                        "InvalidParameterValue",
                        format!("address {a} is reserved by AWS in {cidr} (network, router, DNS, future use, broadcast)"),
                    ));
                }
                if let Some(other) = self.used_ips.get(&(vpc, IpAddr::V4(a))) {
                    return Err(Problem::new(
                        "InvalidIPAddress.InUse",
                        format!("address {a} is already used by {other}"),
                    ));
                }
                self.used_ips
                    .insert((vpc, IpAddr::V4(a)), holder.to_string());
                Ok(a)
            }
            None => {
                for bits in base + 4..last {
                    let a = Ipv4Addr::from_bits(bits);
                    let ip = IpAddr::V4(a);
                    if !self.used_ips.contains_key(&(vpc, ip))
                        && !self.reserved_explicit.contains(&ip)
                    {
                        self.used_ips.insert((vpc, ip), holder.to_string());
                        return Ok(a);
                    }
                }
                Err(Problem::new(
                    "InsufficientFreeAddressesInSubnet",
                    format!(
                        "subnet {} ({cidr}) has no free address left",
                        s.origin.logical_id
                    ),
                ))
            }
        }
    }

    fn claim_v6(&mut self, subnet: usize, wanted: Option<Ipv6Addr>, holder: &str) -> R<Ipv6Addr> {
        let s = &self.model.subnets[subnet];
        let Some(cidr) = s.cidr_v6 else {
            return Err(Problem::new(
                "InvalidParameterValue",
                format!("subnet {} has no IPv6 CIDR", s.origin.logical_id),
            ));
        };
        let vpc = s.vpc;
        let base = cidr.network().to_bits();
        let a = match wanted {
            Some(a) => {
                if !cidr.contains(&a) {
                    return Err(Problem::new(
                        "InvalidParameterValue",
                        format!("address {a} is not in {cidr}"),
                    ));
                }
                let off = a.to_bits() - base;
                if off < 4 || a == cidr.broadcast() {
                    return Err(Problem::new(
                        "InvalidParameterValue",
                        format!("address {a} is reserved by AWS in {cidr}"),
                    ));
                }
                if let Some(other) = self.used_ips.get(&(vpc, IpAddr::V6(a))) {
                    return Err(Problem::new(
                        "InvalidIPAddress.InUse",
                        format!("address {a} is already used by {other}"),
                    ));
                }
                a
            }
            None => (4u128..1 << 20)
                .map(|off| Ipv6Addr::from_bits(base + off))
                .find(|a| {
                    !self.used_ips.contains_key(&(vpc, IpAddr::V6(*a)))
                        && !self.reserved_explicit.contains(&IpAddr::V6(*a))
                })
                .ok_or_else(|| {
                    Problem::new("InsufficientFreeAddressesInSubnet", "no free IPv6 address")
                })?,
        };
        self.used_ips
            .insert((vpc, IpAddr::V6(a)), holder.to_string());
        Ok(a)
    }

    fn add_nat(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let subnet = self.subnet_ref(p, "SubnetId")?;
        let public = match opt_str(p, "ConnectivityType")?.as_deref() {
            None | Some("public") => true,
            Some("private") => false,
            Some(other) => {
                return Err(invalid(
                    "ConnectivityType",
                    format!("{other:?} is neither public nor private"),
                ))
            }
        };
        let primary_eip = match opt_str(p, "AllocationId")? {
            Some(a) if public => Some(self.eip_id("AllocationId", &a)?),
            Some(_) => {
                return Err(invalid(
                    "AllocationId",
                    "a private NAT gateway cannot have an Elastic IP",
                ))
            }
            None if public => {
                return Err(Problem::new(
                    "MissingParameter",
                    "a public NAT gateway needs AllocationId (an Elastic IP)",
                ))
            }
            None => None,
        };
        let secondary_eips = str_list(p, "SecondaryAllocationIds")?
            .iter()
            .map(|a| self.eip_id("SecondaryAllocationIds", a))
            .collect::<R<Vec<_>>>()?;
        let explicit_secondary = str_list(p, "SecondaryPrivateIpAddresses")?
            .iter()
            .map(|a| {
                a.parse::<Ipv4Addr>()
                    .map_err(|e| invalid("SecondaryPrivateIpAddresses", e))
            })
            .collect::<R<Vec<_>>>()?;
        let count = opt_int(p, "SecondaryPrivateIpAddressCount")?
            .unwrap_or(0)
            .max(0) as usize;
        let n_secondary = secondary_eips
            .len()
            .max(explicit_secondary.len())
            .max(count);
        if n_secondary + 1 > 8 {
            return Err(Problem::new(
                "AddressLimitExceeded",
                "a NAT gateway has at most 8 addresses (1 primary + 7 secondary)",
            ));
        }
        let primary_ip = match opt_str(p, "PrivateIpAddress")? {
            Some(a) => Some(
                a.parse::<Ipv4Addr>()
                    .map_err(|e| invalid("PrivateIpAddress", e))?,
            ),
            None => None,
        };
        let origin = self.origin(t, lid, "AWS::EC2::NatGateway", props::name_tag(p));
        let mut addresses = vec![self.claim_v4(subnet, primary_ip, lid)?];
        for i in 0..n_secondary {
            addresses.push(self.claim_v4(subnet, explicit_secondary.get(i).copied(), lid)?);
        }
        let nat = self.model.nat_gateways.len();
        let eni_origin = Origin {
            logical_id: lid.to_string(),
            id: origin.id.replace("nat-", "eni-"),
            kind: "AWS::EC2::NetworkInterface".into(),
            ..origin.clone()
        };
        self.model.enis.push(NetworkInterface {
            origin: eni_origin,
            owner: EniOwner::NatGateway(nat),
            subnet,
            private_v4: addresses.clone(),
            ipv6: vec![],
            security_groups: vec![],
            source_dest_check: false,
            auto_public_ip: None,
        });
        let eni = self.model.enis.len() - 1;
        let id = origin.id.clone();
        self.model.nat_gateways.push(NatGateway {
            origin,
            subnet,
            public,
            eni,
        });
        self.register(t, lid, &id, Ref::Nat(nat));
        for (i, eip) in primary_eip.into_iter().chain(secondary_eips).enumerate() {
            if let Some(&a) = addresses.get(i) {
                self.associate_eip(eip, eni, a)?;
            }
        }
        Ok(())
    }

    fn add_nacl(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        let origin = self.origin(t, lid, "AWS::EC2::NetworkAcl", props::name_tag(p));
        let id = origin.id.clone();
        self.model.network_acls.push(NetworkAcl {
            origin,
            vpc,
            default: false,
            entries: vec![],
        });
        let i = self.model.network_acls.len() - 1;
        self.register(t, lid, &id, Ref::Nacl(i));
        Ok(())
    }

    fn add_nacl_entry(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let acl_id = req_str(p, "NetworkAclId")?;
        let acl = self.nacl_id("NetworkAclId", &acl_id)?;
        let origin = self.origin(t, lid, "AWS::EC2::NetworkAclEntry", None);
        self.link(t, lid, "AWS::EC2::NetworkAclEntry", p);
        let number = opt_int(p, "RuleNumber")?.ok_or_else(|| missing("RuleNumber"))?;
        if !(1..=32766).contains(&number) {
            return Err(invalid(
                "RuleNumber",
                format!("{number} is outside 1..32766"),
            ));
        }
        let protocol =
            parse_protocol(&req_str(p, "Protocol")?).map_err(|e| invalid("Protocol", e))?;
        let allow = match req_str(p, "RuleAction")?.to_ascii_lowercase().as_str() {
            "allow" => true,
            "deny" => false,
            other => {
                return Err(invalid(
                    "RuleAction",
                    format!("{other:?} is neither allow nor deny"),
                ))
            }
        };
        let egress = opt_bool(p, "Egress")?.unwrap_or(false);
        let cidr = match (opt_str(p, "CidrBlock")?, opt_str(p, "Ipv6CidrBlock")?) {
            (Some(c), _) => IpNet::V4(
                c.parse::<Ipv4Net>()
                    .map_err(|e| invalid("CidrBlock", e))?
                    .trunc(),
            ),
            (None, Some(c)) => IpNet::V6(
                c.parse::<Ipv6Net>()
                    .map_err(|e| invalid("Ipv6CidrBlock", e))?
                    .trunc(),
            ),
            (None, None) => return Err(missing("CidrBlock")),
        };
        let mut ports = (0u16, 65535u16);
        if matches!(protocol, Some(6) | Some(17)) {
            let range = get(p, "PortRange").ok_or_else(|| {
                Problem::new(
                    "MissingParameter",
                    "PortRange is required for TCP and UDP rules",
                )
            })?;
            let from = opt_int(range, "From")?.ok_or_else(|| missing("PortRange.From"))?;
            let to = opt_int(range, "To")?.ok_or_else(|| missing("PortRange.To"))?;
            if !(0..=65535).contains(&from) || !(0..=65535).contains(&to) || from > to {
                return Err(invalid(
                    "PortRange",
                    format!("{from}-{to} is not a valid port range"),
                ));
            }
            ports = (from as u16, to as u16);
        }
        let (mut icmp_type, mut icmp_code) = (None, None);
        if matches!(protocol, Some(1) | Some(58)) {
            if let Some(icmp) = get(p, "Icmp") {
                let f = |v: Option<i64>| v.filter(|v| (0..=255).contains(v)).map(|v| v as u8);
                icmp_type = f(opt_int(icmp, "Type")?);
                icmp_code = f(opt_int(icmp, "Code")?);
            } else if protocol == Some(58) && cidr.addr().is_ipv6() {
                return Err(Problem::new(
                    "MissingParameter",
                    "ICMPv6 rules with an IPv6 CIDR need Icmp Type and Code",
                ));
            }
        }
        let entries = &mut self.model.network_acls[acl].entries;
        if entries.iter().any(|e| {
            e.egress == egress
                && e.entry.number == number as u16
                && e.entry.cidr.addr().is_ipv6() == cidr.addr().is_ipv6()
        }) {
            return Err(Problem::new(
                "NetworkAclEntryAlreadyExists",
                format!(
                    "rule {number} already exists in the {} list",
                    if egress { "egress" } else { "ingress" }
                ),
            ));
        }
        entries.push(NaclEntry {
            origin: Some(origin),
            egress,
            entry: vpcsim_dataplane::nacl::NaclEntry {
                number: number as u16,
                res: None,
                protocol,
                ports,
                icmp_type,
                icmp_code,
                cidr,
                allow,
            },
        });
        Ok(())
    }

    fn add_nacl_association(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let subnet = self.subnet_ref(p, "SubnetId")?;
        let acl_id = req_str(p, "NetworkAclId")?;
        let acl = self.nacl_id("NetworkAclId", &acl_id)?;
        self.link(t, lid, "AWS::EC2::SubnetNetworkAclAssociation", p);
        let (s, a) = (&self.model.subnets[subnet], &self.model.network_acls[acl]);
        if s.vpc != a.vpc {
            return Err(Problem::new(
                "InvalidParameterValue",
                format!(
                    "network ACL {} and subnet {} belong to different VPCs",
                    a.origin.logical_id, s.origin.logical_id
                ),
            ));
        }
        if let Some(prev) = s.network_acl {
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                format!(
                    "subnet {} is already associated with network ACL {}",
                    s.origin.logical_id, self.model.network_acls[prev].origin.logical_id
                ),
            ));
        }
        self.model.subnets[subnet].network_acl = Some(acl);
        Ok(())
    }

    fn add_sg(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = match opt_str(p, "VpcId")? {
            Some(id) => Some(self.vpc_id("VpcId", &id)?),
            None => None,
        };
        let origin = self.origin(t, lid, "AWS::EC2::SecurityGroup", props::name_tag(p));
        if vpc.is_none() {
            self.warn_at(
                &origin,
                "MissingParameter",
                "no VpcId: AWS would create the group in the default VPC, which is not modelled",
            );
        }
        let group_name = opt_str(p, "GroupName")?
            .unwrap_or_else(|| format!("{}-{lid}", self.model.templates[t].stack_name));
        let sg = self.model.security_groups.len();
        let id = origin.id.clone();
        self.model.security_groups.push(SecurityGroup {
            origin,
            vpc,
            group_name,
            ingress: vec![],
            egress: vec![],
        });
        self.register(t, lid, &id, Ref::Sg(sg));
        let mut ingress = Vec::new();
        for (i, r) in opt_list(p, "SecurityGroupIngress")?.iter().enumerate() {
            ingress.push(
                self.sg_rule(r, true, vpc)
                    .map_err(|e| prefix(e, &format!("SecurityGroupIngress[{i}]")))?,
            );
        }
        let explicit_egress = get(p, "SecurityGroupEgress").is_some();
        let mut egress = Vec::new();
        for (i, r) in opt_list(p, "SecurityGroupEgress")?.iter().enumerate() {
            egress.push(
                self.sg_rule(r, false, vpc)
                    .map_err(|e| prefix(e, &format!("SecurityGroupEgress[{i}]")))?,
            );
        }
        if !explicit_egress {
            // A new group allows all outbound IPv4 until egress rules are given.
            egress.push(Some(SgRule {
                protocol: None,
                from_port: -1,
                to_port: -1,
                peer: SgPeer::Cidr("0.0.0.0/0".parse().map_err(|_| Problem::quiet())?),
                description: None,
            }));
        }
        let g = &mut self.model.security_groups[sg];
        g.ingress = ingress.into_iter().flatten().collect();
        g.egress = egress.into_iter().flatten().collect();
        Ok(())
    }

    /// One rule; `Ok(None)` when the rule uses something not simulated yet (it is skipped with a warning).
    fn sg_rule(&mut self, r: &Value, ingress: bool, vpc: Option<usize>) -> R<Option<SgRule>> {
        let proto_s = req_str(r, "IpProtocol")?;
        let protocol = parse_protocol(&proto_s).map_err(|e| invalid("IpProtocol", e))?;
        let from = opt_int(r, "FromPort")?;
        let to = opt_int(r, "ToPort")?;
        let (from_port, to_port) = match protocol {
            None => (-1, -1),
            Some(6) | Some(17) => {
                let from = from.ok_or_else(|| missing("FromPort"))?;
                let to = to.ok_or_else(|| missing("ToPort"))?;
                // -1 on a TCP/UDP rule means all ports.
                if from == -1 || to == -1 {
                    (0, 65535)
                } else if (0..=65535).contains(&from) && (0..=65535).contains(&to) && from <= to {
                    (from as i32, to as i32)
                } else {
                    return Err(invalid(
                        "FromPort",
                        format!("{from}-{to} is not a valid port range"),
                    ));
                }
            }
            Some(1) | Some(58) => (from.unwrap_or(-1) as i32, to.unwrap_or(-1) as i32),
            Some(_) => (-1, -1),
        };
        let (cidr_key, cidr6_key, group_key, group_name_key, pl_key) = if ingress {
            (
                "CidrIp",
                "CidrIpv6",
                "SourceSecurityGroupId",
                "SourceSecurityGroupName",
                "SourcePrefixListId",
            )
        } else {
            (
                "CidrIp",
                "CidrIpv6",
                "DestinationSecurityGroupId",
                "DestinationSecurityGroupName",
                "DestinationPrefixListId",
            )
        };
        let peer = if let Some(c) = opt_str(r, cidr_key)? {
            SgPeer::Cidr(IpNet::V4(
                c.parse::<Ipv4Net>()
                    .map_err(|e| invalid(cidr_key, e))?
                    .trunc(),
            ))
        } else if let Some(c) = opt_str(r, cidr6_key)? {
            SgPeer::Cidr(IpNet::V6(
                c.parse::<Ipv6Net>()
                    .map_err(|e| invalid(cidr6_key, e))?
                    .trunc(),
            ))
        } else if let Some(g) = opt_str(r, group_key)? {
            SgPeer::Group(self.sg_id(group_key, &g)?)
        } else if let Some(name) = opt_str(r, group_name_key)? {
            let g = self
                .model
                .security_groups
                .iter()
                .position(|g| g.group_name == name && (vpc.is_none() || g.vpc == vpc))
                .ok_or_else(|| {
                    Problem::new(
                        "InvalidGroup.NotFound",
                        format!("no security group named {name:?}"),
                    )
                })?;
            SgPeer::Group(g)
        } else if let Some(id) = opt_str(r, pl_key)? {
            let t = self.template;
            SgPeer::PrefixList(self.prefix_list_ref(pl_key, &id, t)?)
        } else {
            return Err(Problem::new(
                "MissingParameter",
                format!("the rule needs one of {cidr_key}, {cidr6_key}, {group_key} or {pl_key}"),
            ));
        };
        Ok(Some(SgRule {
            protocol,
            from_port,
            to_port,
            peer,
            description: opt_str(r, "Description")?,
        }))
    }

    fn add_sg_rule_resource(&mut self, t: usize, lid: &str, p: &Value, ingress: bool) -> R<()> {
        let kind = if ingress {
            "AWS::EC2::SecurityGroupIngress"
        } else {
            "AWS::EC2::SecurityGroupEgress"
        };
        self.link(t, lid, kind, p);
        let sg = match (opt_str(p, "GroupId")?, opt_str(p, "GroupName")?) {
            (Some(id), _) => self.sg_id("GroupId", &id)?,
            (None, Some(name)) => self
                .model
                .security_groups
                .iter()
                .position(|g| g.group_name == name)
                .ok_or_else(|| {
                    Problem::new(
                        "InvalidGroup.NotFound",
                        format!("no security group named {name:?}"),
                    )
                })?,
            (None, None) => return Err(missing("GroupId")),
        };
        let vpc = self.model.security_groups[sg].vpc;
        match self.sg_rule(p, ingress, vpc)? {
            Some(rule) => {
                let g = &mut self.model.security_groups[sg];
                if ingress {
                    g.ingress.push(rule);
                } else {
                    g.egress.push(rule);
                }
            }
            None => {
                let o = self.origin(t, lid, kind, None);
                self.warn_at(
                    &o,
                    "UnsupportedOperation",
                    "prefix-list peers are not simulated yet: rule ignored",
                );
            }
        }
        Ok(())
    }

    fn security_groups(&self, ids: &[String], key: &str, vpc: usize) -> R<Vec<usize>> {
        let mut out = Vec::new();
        for id in ids {
            let g = self.sg_id(key, id)?;
            match self.model.security_groups[g].vpc {
                Some(v) if v != vpc => {
                    return Err(Problem::new(
                        "InvalidGroup.NotFound",
                        format!(
                            "security group {} belongs to another VPC ({})",
                            self.model.security_groups[g].origin.logical_id,
                            self.model.vpcs[v].origin.logical_id
                        ),
                    ))
                }
                _ => out.push(g),
            }
        }
        Ok(out)
    }

    /// Build an interface from interface-like properties (Instance, NetworkInterfaces entries,
    /// AWS::EC2::NetworkInterface).
    #[allow(clippy::too_many_arguments)]
    fn make_eni(
        &mut self,
        origin: Origin,
        owner: EniOwner,
        subnet: usize,
        p: &Value,
        group_keys: &[&str],
        source_dest_check: bool,
        public_ip: bool,
    ) -> R<usize> {
        let holder = origin.logical_id.clone();
        let vpc = self.model.subnets[subnet].vpc;
        let mut wanted: Vec<(Ipv4Addr, bool)> = Vec::new();
        if let Some(a) = opt_str(p, "PrivateIpAddress")? {
            wanted.push((a.parse().map_err(|e| invalid("PrivateIpAddress", e))?, true));
        }
        for (i, entry) in opt_list(p, "PrivateIpAddresses")?.iter().enumerate() {
            let a: Ipv4Addr = req_str(entry, "PrivateIpAddress")?
                .parse()
                .map_err(|e| invalid(&format!("PrivateIpAddresses[{i}]"), e))?;
            let primary = opt_bool(entry, "Primary")?.unwrap_or(false);
            if !wanted.iter().any(|(w, _)| *w == a) {
                wanted.push((a, primary));
            }
        }
        wanted.sort_by_key(|(_, primary)| !primary);
        let mut private_v4 = Vec::new();
        if self.model.subnets[subnet].cidr_v4.is_some() {
            if wanted.is_empty() {
                private_v4.push(self.claim_v4(subnet, None, &holder)?);
            }
            for (a, _) in wanted {
                private_v4.push(self.claim_v4(subnet, Some(a), &holder)?);
            }
            let extra = opt_int(p, "SecondaryPrivateIpAddressCount")?
                .unwrap_or(0)
                .max(0);
            for _ in 0..extra {
                private_v4.push(self.claim_v4(subnet, None, &holder)?);
            }
        }
        let mut ipv6 = Vec::new();
        for (i, entry) in opt_list(p, "Ipv6Addresses")?.iter().enumerate() {
            let a = match entry {
                Value::String(s) => s.clone(),
                _ => req_str(entry, "Ipv6Address")?,
            };
            let a: Ipv6Addr = a
                .parse()
                .map_err(|e| invalid(&format!("Ipv6Addresses[{i}]"), e))?;
            ipv6.push(self.claim_v6(subnet, Some(a), &holder)?);
        }
        for _ in 0..opt_int(p, "Ipv6AddressCount")?.unwrap_or(0).max(0) {
            ipv6.push(self.claim_v6(subnet, None, &holder)?);
        }
        if private_v4.is_empty() && ipv6.is_empty() {
            return Err(Problem::new(
                "InvalidParameterValue",
                "the interface has no IPv4 or IPv6 address",
            ));
        }
        let mut ids = Vec::new();
        let mut key = group_keys[0];
        for k in group_keys {
            let l = str_list(p, k)?;
            if !l.is_empty() {
                key = k;
                ids = l;
                break;
            }
        }
        let mut groups = self.security_groups(&ids, key, vpc)?;
        if let Some(names) = get(p, "SecurityGroups")
            .map(|_| str_list(p, "SecurityGroups"))
            .transpose()?
        {
            for name in names {
                let g = self
                    .model
                    .security_groups
                    .iter()
                    .position(|g| {
                        (g.group_name == name || g.origin.id == name) && g.vpc == Some(vpc)
                    })
                    .ok_or_else(|| {
                        Problem::new(
                            "InvalidGroup.NotFound",
                            format!("no security group named {name:?} in the VPC"),
                        )
                    })?;
                groups.push(g);
            }
        }
        if groups.is_empty() {
            groups.push(self.model.vpcs[vpc].default_security_group);
        }
        let auto_public_ip = (public_ip && !private_v4.is_empty()).then(|| self.next_public_ip());
        self.model.enis.push(NetworkInterface {
            origin,
            owner,
            subnet,
            private_v4,
            ipv6,
            security_groups: groups,
            source_dest_check,
            auto_public_ip,
        });
        Ok(self.model.enis.len() - 1)
    }

    fn add_instance(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let origin = self.origin(t, lid, "AWS::EC2::Instance", props::name_tag(p));
        let inst = self.model.instances.len();
        let id = origin.id.clone();
        let source_dest_check = opt_bool(p, "SourceDestCheck")?.unwrap_or(true);
        let mut enis = Vec::new();
        let nics = opt_list(p, "NetworkInterfaces")?;
        if nics.is_empty() {
            let Some(subnet_id) = opt_str(p, "SubnetId")? else {
                return Err(Problem::new(
                    "MissingParameter",
                    "the instance has no SubnetId or NetworkInterfaces (AWS would use the default VPC, which is not modelled)",
                ));
            };
            let subnet = self.subnet_id("SubnetId", &subnet_id)?;
            let public = self.model.subnets[subnet].map_public_ip_on_launch;
            let eni_origin = Origin {
                id: id.replace("i-", "eni-"),
                kind: "AWS::EC2::NetworkInterface".into(),
                ..origin.clone()
            };
            let e = self.make_eni(
                eni_origin,
                EniOwner::Instance(inst, 0),
                subnet,
                p,
                &["SecurityGroupIds"],
                source_dest_check,
                public,
            )?;
            enis.push(e);
        } else {
            let mut sorted: Vec<(i64, &Value)> = Vec::new();
            for (i, nic) in nics.iter().enumerate() {
                let idx = opt_int(nic, "DeviceIndex")?.unwrap_or(i as i64);
                sorted.push((idx, nic));
            }
            sorted.sort_by_key(|(i, _)| *i);
            for (device, nic) in sorted {
                if let Some(existing) = opt_str(nic, "NetworkInterfaceId")? {
                    let e = self.eni_id("NetworkInterfaceId", &existing)?;
                    if device == 0 {
                        self.model.enis[e].owner = EniOwner::Instance(inst, 0);
                    }
                    enis.push(e);
                    continue;
                }
                let subnet = match opt_str(nic, "SubnetId")? {
                    Some(s) => self.subnet_id("NetworkInterfaces.SubnetId", &s)?,
                    None => {
                        return Err(Problem::new(
                            "MissingParameter",
                            format!("NetworkInterfaces device {device} has neither SubnetId nor NetworkInterfaceId"),
                        ))
                    }
                };
                let public = match opt_bool(nic, "AssociatePublicIpAddress")? {
                    Some(b) => b,
                    None => device == 0 && self.model.subnets[subnet].map_public_ip_on_launch,
                };
                let eni_origin = Origin {
                    logical_id: if device == 0 {
                        lid.to_string()
                    } else {
                        format!("{lid}.eth{device}")
                    },
                    id: aws_id(
                        "eni",
                        &self.model.templates[t].account_id,
                        &self.model.templates[t].region,
                        &self.model.templates[t].stack_name,
                        &format!("{lid}.eth{device}"),
                    ),
                    kind: "AWS::EC2::NetworkInterface".into(),
                    ..origin.clone()
                };
                let e = self.make_eni(
                    eni_origin,
                    EniOwner::Instance(inst, device.max(0) as u32),
                    subnet,
                    nic,
                    &["GroupSet"],
                    source_dest_check,
                    public && device == 0,
                )?;
                enis.push(e);
            }
        }
        self.model.instances.push(Instance { origin, enis });
        self.register(t, lid, &id, Ref::Instance(inst));
        Ok(())
    }

    fn add_eni_resource(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let subnet = self.subnet_ref(p, "SubnetId")?;
        let origin = self.origin(t, lid, "AWS::EC2::NetworkInterface", props::name_tag(p));
        let id = origin.id.clone();
        let check = opt_bool(p, "SourceDestCheck")?.unwrap_or(true);
        let e = self.make_eni(
            origin,
            EniOwner::Standalone,
            subnet,
            p,
            &["GroupSet"],
            check,
            false,
        )?;
        self.register(t, lid, &id, Ref::Eni(e));
        Ok(())
    }

    fn add_eni_attachment(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let inst = self.instance_id("InstanceId", &req_str(p, "InstanceId")?)?;
        let eni = self.eni_id("NetworkInterfaceId", &req_str(p, "NetworkInterfaceId")?)?;
        let device = opt_int(p, "DeviceIndex")?.ok_or_else(|| missing("DeviceIndex"))?;
        self.link(t, lid, "AWS::EC2::NetworkInterfaceAttachment", p);
        let (e, i) = (&self.model.enis[eni], &self.model.instances[inst]);
        let inst_subnet = i.enis.first().map(|&x| {
            self.model.subnets[self.model.enis[x].subnet]
                .availability_zone
                .clone()
        });
        if inst_subnet.is_some_and(|az| az != self.model.subnets[e.subnet].availability_zone) {
            return Err(Problem::new(
                "InvalidParameterValue",
                "an interface can only be attached to an instance in the same Availability Zone",
            ));
        }
        if device == 0 || i.enis.contains(&eni) {
            return Err(invalid(
                "DeviceIndex",
                "device 0 is the instance's primary interface",
            ));
        }
        self.model.instances[inst].enis.push(eni);
        Ok(())
    }

    fn add_peering(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let requester = self.vpc_ref(p, "VpcId")?;
        let peer_vpc_id = req_str(p, "PeerVpcId")?;
        let accepter = match self.lookup(&peer_vpc_id) {
            Some(Ref::Vpc(v)) => Some(v),
            Some(Ref::Failed) => return Err(Problem::quiet()),
            _ => None,
        };
        let origin = self.origin(t, lid, "AWS::EC2::VPCPeeringConnection", props::name_tag(p));
        if accepter.is_none() {
            self.warn_at(
                &origin,
                "InvalidVpcID.NotFound",
                format!("peer VPC {peer_vpc_id} is not in the loaded topology: routes to this peering act as blackholes (load its template too)"),
            );
        }
        let id = origin.id.clone();
        self.model.peerings.push(Peering {
            origin,
            requester,
            accepter,
            peer_vpc_id,
        });
        let i = self.model.peerings.len() - 1;
        self.register(t, lid, &id, Ref::Peering(i));
        Ok(())
    }

    /// Rules that span resources, checked once everything is loaded.
    fn validate(&mut self) {
        self.validate_load_balancers();
        let m = &self.model;
        let mut errors: Vec<(Origin, &'static str, String)> = Vec::new();
        let mut warnings: Vec<(Origin, &'static str, String)> = Vec::new();
        for rt in &m.route_tables {
            let vpc = &m.vpcs[rt.vpc];
            for r in &rt.routes {
                let o = r.origin.clone();
                match &r.target {
                    RouteTarget::InternetGateway(g) => {
                        let igw = &m.internet_gateways[*g];
                        if igw.vpc != Some(rt.vpc) {
                            errors.push((o, "Gateway.NotAttached", format!(
                                "internet gateway {} is not attached to {} (add an AWS::EC2::VPCGatewayAttachment)",
                                igw.origin.logical_id, vpc.origin.logical_id
                            )));
                        }
                    }
                    RouteTarget::EgressOnlyInternetGateway(g) => {
                        if m.egress_only_igws[*g].vpc != rt.vpc {
                            errors.push((
                                o.clone(),
                                "InvalidRoute.Target",
                                "the egress-only internet gateway belongs to another VPC".into(),
                            ));
                        }
                        if !matches!(r.destination, IpNet::V6(_)) {
                            errors.push((
                                o,
                                "InvalidParameterValue",
                                "egress-only internet gateways take IPv6 destinations only".into(),
                            ));
                        }
                    }
                    RouteTarget::NatGateway(n) => {
                        if m.subnets[m.nat_gateways[*n].subnet].vpc != rt.vpc {
                            errors.push((
                                o,
                                "InvalidRoute.Target",
                                format!(
                                    "NAT gateway {} is in another VPC",
                                    m.nat_gateways[*n].origin.logical_id
                                ),
                            ));
                        }
                    }
                    RouteTarget::NetworkInterface(e) => {
                        if m.subnets[m.enis[*e].subnet].vpc != rt.vpc {
                            errors.push((
                                o,
                                "InvalidRoute.Target",
                                format!(
                                    "network interface {} is in another VPC",
                                    m.enis[*e].origin.logical_id
                                ),
                            ));
                        }
                    }
                    RouteTarget::Peering(p) => {
                        let pcx = &m.peerings[*p];
                        if pcx.requester != rt.vpc && pcx.accepter != Some(rt.vpc) {
                            errors.push((
                                o,
                                "InvalidRoute.Target",
                                format!(
                                    "peering connection {} does not involve {}",
                                    pcx.origin.logical_id, vpc.origin.logical_id
                                ),
                            ));
                        } else if pcx.accepter.is_none() {
                            warnings.push((
                                o,
                                "InvalidRoute.Target",
                                "the peer VPC is not loaded: this route acts as a blackhole".into(),
                            ));
                        }
                    }
                    // Checked in validate_edges.
                    RouteTarget::TransitGateway(_)
                    | RouteTarget::VpnGateway(_)
                    | RouteTarget::Missing(_) => {}
                }
                // Routes more specific than (inside) a VPC CIDR must match a whole subnet (SPEC §2.6).
                let inside_vpc = match r.destination {
                    IpNet::V4(d) => vpc.cidrs_v4.iter().any(|c| c.contains(&d)),
                    IpNet::V6(d) => vpc.cidrs_v6.iter().any(|c| c.contains(&d)),
                };
                let is_vpc_cidr = match r.destination {
                    IpNet::V4(d) => vpc.cidrs_v4.contains(&d),
                    IpNet::V6(d) => vpc.cidrs_v6.contains(&d),
                };
                if inside_vpc && !is_vpc_cidr {
                    let whole_subnet = m.subnets.iter().any(|s| {
                        s.vpc == rt.vpc
                            && (s.cidr_v4.map(IpNet::V4) == Some(r.destination)
                                || s.cidr_v6.map(IpNet::V6) == Some(r.destination))
                    });
                    if !whole_subnet {
                        errors.push((r.origin.clone(), "InvalidParameterValue", format!(
                            "{} is more specific than the local route but is not the CIDR of a subnet of the VPC",
                            r.destination
                        )));
                    } else if !matches!(
                        r.target,
                        RouteTarget::NatGateway(_)
                            | RouteTarget::NetworkInterface(_)
                            | RouteTarget::Missing(_)
                    ) {
                        errors.push((r.origin.clone(), "InvalidParameterValue",
                            "routes more specific than the local route must target a NAT gateway or network interface".into()));
                    }
                }
            }
        }
        // Peering: no overlapping CIDRs, IPv4 or IPv6 (SPEC §8).
        for pcx in &m.peerings {
            let Some(acc) = pcx.accepter else { continue };
            if acc == pcx.requester {
                errors.push((
                    pcx.origin.clone(),
                    "InvalidParameterValue",
                    "a VPC cannot peer with itself".into(),
                ));
                continue;
            }
            let (a, b) = (&m.vpcs[pcx.requester], &m.vpcs[acc]);
            let v4 = a.cidrs_v4.iter().find_map(|x| {
                b.cidrs_v4
                    .iter()
                    .find(|y| x.contains(&y.network()) || y.contains(&x.network()))
                    .map(|y| (x.to_string(), y.to_string()))
            });
            let v6 = a.cidrs_v6.iter().find_map(|x| {
                b.cidrs_v6
                    .iter()
                    .find(|y| x.contains(&y.network()) || y.contains(&x.network()))
                    .map(|y| (x.to_string(), y.to_string()))
            });
            if let Some((x, y)) = v4.or(v6) {
                errors.push((
                    pcx.origin.clone(),
                    "InvalidVpcPeeringConnection.OverlappingCidr",
                    format!(
                        "{} ({x}) and {} ({y}) overlap: peered VPCs must not share any CIDR",
                        a.origin.logical_id, b.origin.logical_id
                    ),
                ));
            }
        }
        // Security-group references: same VPC, or a peered VPC of the same Region.
        let peered = |x: usize, y: usize| {
            m.peerings.iter().any(|p| {
                (p.requester == x && p.accepter == Some(y))
                    || (p.requester == y && p.accepter == Some(x))
            })
        };
        for g in &m.security_groups {
            for r in g.ingress.iter().chain(&g.egress) {
                if let (SgPeer::Group(other), Some(v)) = (&r.peer, g.vpc) {
                    if let Some(ov) = m.security_groups[*other].vpc {
                        if ov != v && !peered(v, ov) {
                            errors.push((g.origin.clone(), "InvalidGroup.NotFound", format!(
                                "rule references {} of {}, which is neither this VPC nor a peer of it",
                                m.security_groups[*other].origin.logical_id, m.vpcs[ov].origin.logical_id
                            )));
                        }
                    }
                }
            }
        }
        self.validate_edges(&mut errors, &mut warnings);
        self.validate_prefix_lists(&mut errors, &mut warnings);
        self.validate_endpoints(&mut errors, &mut warnings);
        for (o, code, msg) in errors {
            self.error_at(&o, code, msg);
        }
        for (o, code, msg) in warnings {
            self.warn_at(&o, code, msg);
        }
    }
}

/// `fn subnet_id(&self, key, id) -> R<usize>` and friends: resolve an id to a resource of one
/// type, with the AWS error code for "not found".
macro_rules! id_lookups {
    ($( $name:ident => $variant:ident, $code:literal; )*) => {
        impl Builder {
            $(
                fn $name(&self, key: &str, id: &str) -> R<usize> {
                    self.find(key, id, |r| if let Ref::$variant(i) = r { Some(i) } else { None }, $code)
                }
            )*
        }
    };
}

id_lookups! {
    subnet_id => Subnet, "InvalidSubnetID.NotFound";
    sg_id => Sg, "InvalidGroup.NotFound";
    eni_id => Eni, "InvalidNetworkInterfaceID.NotFound";
    instance_id => Instance, "InvalidInstanceID.NotFound";
    eip_id => Eip, "InvalidAllocationID.NotFound";
    route_table_id => RouteTable, "InvalidRouteTableID.NotFound";
    nacl_id => Nacl, "InvalidNetworkAclID.NotFound";
    igw_id => Igw, "InvalidInternetGatewayID.NotFound";
    vpc_id => Vpc, "InvalidVpcID.NotFound";
    tgw_id => Tgw, "InvalidTransitGatewayID.NotFound";
    tgw_rt_id => TgwRouteTable, "InvalidRouteTableID.NotFound";
    vgw_id => Vgw, "InvalidVpnGatewayID.NotFound";
    cgw_id => Cgw, "InvalidCustomerGatewayID.NotFound";
    vpn_id => Vpn, "InvalidVpnConnectionID.NotFound";
}

/// The value of an attribute of a resource vpcsim does not model: an opaque token, or a list of
/// them for attributes that are lists in CloudFormation (`EndpointIds`, `DnsEntries`, ...), so that
/// `Fn::Select` and `Fn::Join` over them work and the load goes on.
fn opaque_attribute(id: &str, attr: &str) -> Value {
    const LIST_SUFFIXES: [&str; 8] = [
        "Ids",
        "Entries",
        "Blocks",
        "Addresses",
        "Arns",
        "Names",
        "Endpoints",
        "Zones",
    ];
    if LIST_SUFFIXES.iter().any(|s| attr.ends_with(s)) {
        // `zone:id` like Network Firewall's EndpointIds, so `!Split [":", ...]` also works.
        json!((0..6)
            .map(|n| format!("zone{n}:{id}.{attr}.{n}"))
            .collect::<Vec<_>>())
    } else {
        json!(format!("{id}.{attr}"))
    }
}

/// Gather every IP-looking string in a property tree.
fn collect_ips(v: &Value, out: &mut HashSet<IpAddr>) {
    match v {
        Value::String(s) => {
            if let Ok(a) = s.parse::<IpAddr>() {
                out.insert(a);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_ips(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_ips(x, out)),
        _ => {}
    }
}

fn prefix(mut p: Problem, at: &str) -> Problem {
    p.message = format!("{at}: {}", p.message);
    p
}

fn join<T: fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_v4_net(p: &Value, key: &str) -> R<Option<Ipv4Net>> {
    match opt_str(p, key)? {
        None => Ok(None),
        Some(s) => {
            let n: Ipv4Net = s
                .parse()
                .map_err(|e| invalid(key, format!("{s:?} is not an IPv4 CIDR ({e})")))?;
            Ok(Some(n.trunc()))
        }
    }
}

fn check_vpc_cidr(c: &Ipv4Net) -> R<()> {
    if !(16..=28).contains(&c.prefix_len()) {
        return Err(Problem::new(
            "InvalidVpc.Range",
            format!("{c}: a VPC CIDR must be between /16 and /28"),
        ));
    }
    let link_local: Ipv4Net = "169.254.0.0/16".parse().map_err(|_| Problem::quiet())?;
    if link_local.contains(&c.network()) {
        return Err(Problem::new(
            "InvalidVpc.Range",
            format!("{c}: 169.254.0.0/16 cannot be used"),
        ));
    }
    Ok(())
}

/// Secondary CIDR restrictions by the primary's range (SPEC §1.1).
fn check_secondary_range(primary: &Ipv4Net, new: &Ipv4Net) -> R<()> {
    let net = |s: &str| s.parse::<Ipv4Net>().unwrap_or_default();
    let (ten, one72, one92, one98) = (
        net("10.0.0.0/8"),
        net("172.16.0.0/12"),
        net("192.168.0.0/16"),
        net("198.19.0.0/16"),
    );
    let within = |outer: &Ipv4Net, inner: &Ipv4Net| outer.contains(&inner.network());
    let forbidden: Vec<Ipv4Net> = if within(&ten, primary) {
        vec![one72, one92, one98]
    } else if within(&one72, primary) {
        vec![ten, one92, one98, net("172.31.0.0/16")]
    } else if within(&one92, primary) {
        vec![ten, one72, one98]
    } else if within(&one98, primary) {
        vec![ten, one72, one92]
    } else {
        vec![ten, one72, one92, one98]
    };
    if let Some(f) = forbidden.iter().find(|f| within(f, new) || within(new, f)) {
        return Err(Problem::new(
            "InvalidVpc.Range",
            format!("{new} cannot be added to a VPC whose primary CIDR is {primary} (restricted range {f})"),
        ));
    }
    Ok(())
}

/// `tcp`, `udp`, `icmp`, `icmpv6`, `-1`/`all`, or a number 0..=255.
pub fn parse_protocol(s: &str) -> Result<Option<u8>, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "-1" | "all" => Ok(None),
        "tcp" => Ok(Some(6)),
        "udp" => Ok(Some(17)),
        "icmp" => Ok(Some(1)),
        "icmpv6" | "58" => Ok(Some(58)),
        other => other
            .parse::<u8>()
            .map(Some)
            .map_err(|_| format!("{s:?} is not a protocol (tcp, udp, icmp, icmpv6, -1 or 0-255)")),
    }
}

fn az_id(az: &str) -> String {
    let letter = az.chars().last().unwrap_or('a');
    let n = (letter as u8).saturating_sub(b'a') + 1;
    format!("use1-az{n}")
}

fn az_from_id(region: &str, id: &str) -> String {
    let n = id
        .rsplit("az")
        .next()
        .and_then(|n| n.parse::<u8>().ok())
        .unwrap_or(1);
    format!("{region}{}", (b'a' + n.saturating_sub(1).min(25)) as char)
}

/// Path helper for callers that print where a template came from.
pub fn display_path(p: &Path) -> String {
    p.display().to_string()
}
