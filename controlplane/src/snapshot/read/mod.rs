//! Reading a describe-* snapshot directory into the model.

use crate::load::{validate_model, Diagnostic, LoadOptions, Loaded, Severity};
use crate::model::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::path::PathBuf;

mod alb;
mod autoscaling;
mod edges;
mod elastic_ips;
mod endpoints;
mod files;
mod gateways;
mod instances;
mod network_acls;
mod network_firewall;
mod nlb;
mod peering;
mod prefix_lists;
mod resolver;
mod route53;
mod route_tables;
mod security_groups;
mod tgw_peering;
mod types;
mod vpc;
mod waf;

pub use files::{SnapshotFile, MAX_SNAPSHOT_FILE_BYTES};
pub use instances::AUTO_SCALING_GROUP_TAG;

/// Keys of AWS calls whose resources vpcsim does not simulate from a snapshot: their entries
/// are listed as unsupported (like unsupported template types), with the field holding the id.
const UNSUPPORTED_KEYS: &[(&str, &str, &str)] = &[
    (
        "DBInstances",
        "AWS::RDS::DBInstance",
        "DBInstanceIdentifier",
    ),
    (
        "DomainStatusList",
        "AWS::Elasticsearch::Domain",
        "DomainName",
    ),
    (
        "DirectConnectGateways",
        "AWS::DirectConnect::Gateway",
        "directConnectGatewayId",
    ),
    (
        "DirectConnectGatewayAssociations",
        "AWS::DirectConnect::GatewayAssociation",
        "associationId",
    ),
    (
        "VirtualInterfaces",
        "AWS::DirectConnect::VirtualInterface",
        "virtualInterfaceId",
    ),
];

/// Keys of describe-* calls that describe nothing the data plane depends on.
const INFORMATIONAL_KEYS: &[&str] = &[
    "AvailabilityZones",
    "InstanceStatuses",
    "ServiceDetails",
    "ServiceNames",
    "Tags",
    "DhcpOptions",
    "PlacementGroups",
    "MovingAddressStatuses",
    "Hosts",
    "ClassicLinkInstances",
    "NextToken",
];

/// One entry of a describe-* list and the file (index into `Model::templates`) it came from.
struct Item {
    file: usize,
    v: Value,
}

#[derive(Default)]
struct Items {
    vpcs: Vec<Item>,
    subnets: Vec<Item>,
    route_tables: Vec<Item>,
    nacls: Vec<Item>,
    sgs: Vec<Item>,
    instances: Vec<Item>,
    enis: Vec<Item>,
    igws: Vec<Item>,
    eigws: Vec<Item>,
    nats: Vec<Item>,
    addresses: Vec<Item>,
    peerings: Vec<Item>,
    prefix_lists: Vec<Item>,
    tgws: Vec<Item>,
    tgw_route_tables: Vec<Item>,
    tgw_vpc_attachments: Vec<Item>,
    tgw_attachments: Vec<Item>,
    tgw_peerings: Vec<Item>,
    tgw_propagations: Vec<Item>,
    tgw_static_routes: Vec<Item>,
    vgws: Vec<Item>,
    cgws: Vec<Item>,
    vpns: Vec<Item>,
    endpoints: Vec<Item>,
    load_balancers: Vec<Item>,
    target_groups: Vec<Item>,
    listeners: Vec<Item>,
    lb_attributes: Vec<Item>,
    tg_attributes: Vec<Item>,
    target_health: Vec<Item>,
    alb_rules: Vec<Item>,
    auto_scaling_groups: Vec<Item>,
    web_acls: Vec<Item>,
    waf_ip_sets: Vec<Item>,
    firewalls: Vec<Item>,
    firewall_policies: Vec<Item>,
    firewall_rule_groups: Vec<Item>,
    firewall_logging: Vec<Item>,
    hosted_zones: Vec<Item>,
    record_sets: Vec<Item>,
    health_checks: Vec<Item>,
    vpc_attributes: Vec<Item>,
    resolver_endpoints: Vec<Item>,
    resolver_ip_addresses: Vec<Item>,
    resolver_rules: Vec<Item>,
    resolver_rule_associations: Vec<Item>,
    firewall_domain_lists: Vec<Item>,
    firewall_domains: Vec<Item>,
    dns_firewall_groups: Vec<Item>,
    dns_firewall_rules: Vec<Item>,
    dns_firewall_associations: Vec<Item>,
}

/// What an AWS id names in the model being built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ref {
    Vpc(usize),
    Subnet(usize),
    RouteTable(usize),
    Nacl(usize),
    Sg(usize),
    Igw(usize),
    Eigw(usize),
    Nat(usize),
    Instance(usize),
    Eni(usize),
    Peering(usize),
    PrefixList(usize),
    Tgw(usize),
    TgwAttachment(usize),
    TgwRouteTable(usize),
    Vgw(usize),
    Cgw(usize),
    Vpn(usize),
    VpcEndpoint(usize),
    LoadBalancer(usize),
    TargetGroup(usize),
    AppLoadBalancer(usize),
    AlbTargetGroup(usize),
    AlbListener(usize),
    NetworkFirewall(usize),
    FirewallEndpoint(usize),
    FirewallPolicy(usize),
    FirewallRuleGroup(usize),
    HostedZone(usize),
    HealthCheck(usize),
    ResolverEndpoint(usize),
    ResolverRule(usize),
    DomainList(usize),
    DnsFirewallGroup(usize),
    Unsupported,
}

#[derive(Default)]
struct Reader {
    model: Model,
    diags: Vec<Diagnostic>,
    by_id: HashMap<String, Ref>,
    /// Interfaces created for NAT gateways, so the copy in describe-network-interfaces is skipped.
    nat_enis: HashSet<String>,
    /// Private addresses per VPC and the interface (or NAT gateway) holding each.
    used_v4: HashMap<(usize, Ipv4Addr), String>,
    /// Interfaces of interface endpoints, created with their endpoint.
    endpoint_enis: HashMap<String, Item>,
    /// Node interfaces of load balancers, created with their load balancer.
    lb_enis: HashMap<String, Item>,
    /// Interfaces of firewall endpoints, created with their firewall.
    firewall_enis: HashMap<String, Item>,
    /// Resources skipped because their parent is absent: references to them are follow-ons of
    /// the one warning that named the parent, so they are not reported again.
    skipped: HashSet<String>,
}

/// Load one or more snapshot directories into one model.
pub fn load_snapshot(dirs: &[PathBuf], opts: &LoadOptions) -> Loaded {
    let mut r = Reader::default();
    let mut items = Items::default();
    for dir in dirs {
        r.read_dir(dir, opts, &mut items);
    }
    r.finish(items, opts)
}

/// Load a snapshot whose files are given in memory, as [`load_snapshot`] loads a directory:
/// each file's path (below the snapshot directory) places it in an account and Region.
pub fn load_snapshot_files(files: &[SnapshotFile], opts: &LoadOptions) -> Loaded {
    let mut r = Reader::default();
    let mut items = Items::default();
    r.read_memory(files, opts, &mut items);
    r.finish(items, opts)
}

impl Reader {
    fn finish(mut self, items: Items, opts: &LoadOptions) -> Loaded {
        let mut ranges = crate::service_ranges::ServiceRanges::builtin();
        if let Some(path) = &opts.service_ranges {
            match std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the file: {e}"))
                .and_then(|t| {
                    crate::service_ranges::ServiceRanges::from_json(&t).map_err(|e| e.to_string())
                }) {
                Ok(x) => ranges = x,
                Err(message) => self.diags.push(Diagnostic {
                    severity: Severity::Error,
                    file: path.clone(),
                    logical_id: None,
                    code: "InvalidServiceRanges".into(),
                    message,
                }),
            }
        }
        self.build(items, &ranges);
        let mut diags = std::mem::take(&mut self.diags);
        let mut quotas = opts.quotas.clone();
        quotas.observed = true;
        let model = validate_model(self.model, quotas, &mut diags);
        Loaded {
            model,
            diagnostics: diags,
        }
    }
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn tag<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    list(v, "Tags")
        .iter()
        .chain(list(v, "TagSet"))
        .find(|t| s(t, "Key") == Some(key))
        .and_then(|t| s(t, "Value"))
}

fn int(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The tag CloudFormation puts on the resources of a stack; `export` writes it as AWS would.
pub(super) const LOGICAL_ID_TAG: &str = "aws:cloudformation:logical-id";

impl Reader {
    fn diag(&mut self, severity: Severity, file: usize, id: &str, code: &str, msg: String) {
        self.diags.push(Diagnostic {
            severity,
            file: self.model.templates[file].path.clone(),
            logical_id: (!id.is_empty()).then(|| id.to_string()),
            code: code.into(),
            message: msg,
        });
    }

    fn error(&mut self, file: usize, id: &str, code: &str, msg: String) {
        self.diag(Severity::Error, file, id, code, msg);
    }

    fn warn(&mut self, file: usize, id: &str, code: &str, msg: String) {
        self.diag(Severity::Warning, file, id, code, msg);
    }

    /// [`Self::origin`] of an entry whose id is its own field `key` (`"VpcId"` of a VPC).
    fn origin_of(&mut self, item: &Item, kind: &'static str, key: &str) -> Option<Origin> {
        self.origin(item, s(&item.v, key), kind, key)
    }

    /// The origin of a resource with AWS id `id`; `None` (after an error) for a missing or
    /// duplicate id.
    fn origin(
        &mut self,
        item: &Item,
        id: Option<&str>,
        kind: &'static str,
        key: &str,
    ) -> Option<Origin> {
        let Some(id) = id.filter(|i| !i.is_empty()) else {
            self.error(
                item.file,
                "",
                "InvalidSnapshot.MissingField",
                format!("an entry of a {kind} list has no {key}"),
            );
            return None;
        };
        if self.by_id.contains_key(id) {
            if kind == "AWS::EC2::VPCPeeringConnection" {
                // Both accounts of a cross-account peering describe it.
                return None;
            }
            self.warn(
                item.file,
                id,
                "InvalidSnapshot.Duplicate",
                format!("{id} is described twice; the first description is kept"),
            );
            return None;
        }
        // Snapshot resources are named by their AWS id; the Name tag rides along (DESIGN.md).
        let name = tag(&item.v, "Name")
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        if let Some(lid) = tag(&item.v, LOGICAL_ID_TAG).filter(|l| !l.is_empty()) {
            self.model
                .stack_logical_ids
                .insert(id.to_string(), lid.to_string());
        }
        Some(Origin {
            template: item.file,
            logical_id: id.to_string(),
            id: id.to_string(),
            name,
            kind: kind.into(),
        })
    }

    fn implicit_origin(&self, vpc: usize, suffix: &str, kind: &'static str) -> Origin {
        let v = &self.model.vpcs[vpc].origin;
        Origin {
            template: v.template,
            logical_id: format!("{}.{suffix}", v.logical_id),
            id: format!("{}.{suffix}", v.id),
            name: None,
            kind: kind.into(),
        }
    }

    /// Resolve an id an entry refers to. Real exports are partial (a call the credentials could
    /// not make, a resource of another account), so a missing id is a warning and the caller
    /// leaves out what depends on it; `--strict` makes it an error.
    fn resolve(&mut self, item: &Item, owner: &str, field: &str, id: &str) -> Option<Ref> {
        if let Some(r) = self.by_id.get(id) {
            return Some(*r);
        }
        if !self.skipped.contains(id) {
            self.warn(
                item.file,
                owner,
                "UnresolvedReference",
                format!("{field} {id} is not in the snapshot; what depends on it is left out"),
            );
        }
        None
    }

    /// Resolve the parent (VPC, subnet) of `owner`. Without it the resource cannot be placed:
    /// it is skipped and listed, and references to it are not reported again.
    fn parent(&mut self, item: &Item, owner: &str, field: &str, id: &str) -> Option<Ref> {
        if let Some(r) = self.by_id.get(id) {
            return Some(*r);
        }
        if !self.skipped.contains(id) {
            self.warn(
                item.file,
                owner,
                "UnresolvedReference.Parent",
                format!("{field} {id} is not in the snapshot: {owner} is skipped"),
            );
        }
        self.skip(owner);
        None
    }

    /// Record that `id` was left out, after a diagnostic that says why.
    fn skip(&mut self, id: &str) {
        if !id.is_empty() && !self.by_id.contains_key(id) {
            self.skipped.insert(id.to_string());
        }
    }

    fn vpc_of(&mut self, item: &Item, owner: &str) -> Option<usize> {
        let Some(id) = s(&item.v, "VpcId") else {
            self.error(
                item.file,
                owner,
                "InvalidSnapshot.MissingField",
                "no VpcId".into(),
            );
            return None;
        };
        match self.parent(item, owner, "VpcId", id)? {
            Ref::Vpc(v) => Some(v),
            _ => None,
        }
    }

    fn subnet_of(&mut self, it: &Item, owner: &str) -> Option<usize> {
        let Some(sub) = s(&it.v, "SubnetId") else {
            self.error(
                it.file,
                owner,
                "InvalidSnapshot.MissingField",
                "no SubnetId".into(),
            );
            return None;
        };
        match self.parent(it, owner, "SubnetId", sub)? {
            Ref::Subnet(sn) => Some(sn),
            _ => None,
        }
    }

    /// An association of a subnet with a table or ACL of another VPC is refused by AWS.
    fn same_vpc(&mut self, it: &Item, owner: &str, subnet: usize, vpc: usize) -> bool {
        let sn = &self.model.subnets[subnet];
        if sn.vpc == vpc {
            return true;
        }
        let msg = format!(
            "associated with subnet {} of {}, but belongs to {}",
            sn.origin.id, self.model.vpcs[sn.vpc].origin.id, self.model.vpcs[vpc].origin.id
        );
        self.error(it.file, owner, "InvalidParameterValue", msg);
        false
    }

    /// Build the model from every file's entries. A reference resolves only to what is already
    /// built, so each kind comes after those it refers to; rules, addresses and routes come
    /// last, once every group, prefix list, interface and target exists.
    fn build(&mut self, items: Items, ranges: &crate::service_ranges::ServiceRanges) {
        for it in &items.vpcs {
            self.add_vpc(it);
        }
        for it in &items.route_tables {
            self.add_route_table(it);
        }
        for it in &items.nacls {
            self.add_nacl(it);
        }
        for it in &items.sgs {
            self.add_sg(it);
        }
        self.fill_vpc_defaults();
        for it in &items.subnets {
            self.add_subnet(it);
        }
        for it in &items.igws {
            self.add_igw(it, false);
        }
        for it in &items.eigws {
            self.add_igw(it, true);
        }
        for it in &items.vgws {
            self.add_vgw(it);
        }
        for it in &items.route_tables {
            self.associate_route_table(it);
        }
        for it in &items.route_tables {
            self.add_vgw_propagations(it);
        }
        for it in &items.cgws {
            self.add_cgw(it);
        }
        for it in &items.tgws {
            self.add_tgw(it);
        }
        for it in &items.tgw_route_tables {
            self.add_tgw_route_table(it);
        }
        for it in &items.vpns {
            self.add_vpn(it);
        }
        for it in &items.tgw_vpc_attachments {
            self.add_tgw_vpc_attachment(it);
        }
        for it in &items.tgw_peerings {
            self.add_tgw_peering(it);
        }
        for it in &items.tgw_attachments {
            self.add_tgw_attachment(it);
        }
        self.implicit_vpn_attachments();
        for it in &items.tgw_propagations {
            self.add_tgw_propagations(it);
        }
        for it in &items.tgw_static_routes {
            self.add_tgw_static_routes(it);
        }
        for it in &items.nacls {
            self.associate_nacl(it);
        }
        for it in &items.peerings {
            self.add_peering(it);
        }
        for it in &items.prefix_lists {
            self.add_prefix_list(it);
        }
        for it in &items.nats {
            self.add_nat(it);
        }
        self.add_instances(&items.instances, &items.enis);
        for it in &items.endpoints {
            self.add_endpoint(it, ranges);
        }
        self.orphan_endpoint_enis();
        self.add_network_load_balancers(&items);
        self.add_waf(&items);
        self.add_network_firewalls(&items);
        self.add_route53(&items);
        self.add_resolver(&items);
        for it in &items.addresses {
            self.add_address(it);
        }
        for it in &items.sgs {
            self.add_sg_rules(it);
        }
        for it in &items.route_tables {
            self.add_routes(it);
        }
    }
}
