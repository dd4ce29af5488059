//! Reading a describe-* snapshot directory into the model.

use super::SUPPORTED_KEYS;
use crate::load::{
    display_path, parse_protocol, validate_model, Diagnostic, LoadOptions, Loaded, Severity,
};
use crate::model::*;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

mod edges;
mod elb;
mod endpoints;

/// Keys of AWS calls whose resources vpcsim does not simulate from a snapshot: their entries
/// are listed as unsupported (like unsupported template types), with the field holding the id.
const UNSUPPORTED_KEYS: &[(&str, &str, &str)] = &[
    (
        "TransitGatewayPeeringAttachments",
        "AWS::EC2::TransitGatewayPeeringAttachment",
        "TransitGatewayAttachmentId",
    ),
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
}

/// Load one or more snapshot directories into one model.
pub fn load_snapshot(dirs: &[PathBuf], opts: &LoadOptions) -> Loaded {
    let mut r = Reader::default();
    let mut items = Items::default();
    for dir in dirs {
        r.read_dir(dir, opts, &mut items);
    }
    let mut ranges = crate::service_ranges::ServiceRanges::builtin();
    if let Some(path) = &opts.service_ranges {
        match std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the file: {e}"))
            .and_then(|t| {
                crate::service_ranges::ServiceRanges::from_json(&t).map_err(|e| e.to_string())
            }) {
            Ok(x) => ranges = x,
            Err(message) => r.diags.push(Diagnostic {
                severity: Severity::Error,
                file: path.clone(),
                logical_id: None,
                code: "InvalidServiceRanges".into(),
                message,
            }),
        }
    }
    r.build(items, &ranges);
    let mut diags = std::mem::take(&mut r.diags);
    let model = validate_model(r.model, &mut diags);
    Loaded {
        model,
        diagnostics: diags,
    }
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_files(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
    Ok(())
}

/// Region and account from `aws_configs/[accounts/]<account>/<region>/file.json`.
fn place(root: &Path, file: &Path, opts: &LoadOptions) -> (String, String) {
    let (mut region, mut account) = (opts.region.clone(), opts.account_id.clone());
    let rel = file.strip_prefix(root).unwrap_or(file);
    let parts: Vec<String> = rel
        .parent()
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for part in parts {
        let looks_like_region = part.split('-').count() >= 3
            && part.chars().last().is_some_and(|c| c.is_ascii_digit())
            && part.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if looks_like_region {
            region = part;
        } else if part != "accounts" {
            account = part;
        }
    }
    (region, account)
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

    fn read_dir(&mut self, dir: &Path, opts: &LoadOptions, items: &mut Items) {
        let nested = dir.join("aws_configs");
        let root = if nested.is_dir() {
            nested
        } else {
            dir.to_path_buf()
        };
        let mut files = Vec::new();
        if let Err(e) = json_files(&root, &mut files) {
            self.diags.push(Diagnostic {
                severity: Severity::Error,
                file: dir.to_path_buf(),
                logical_id: None,
                code: "InvalidSnapshot.Directory".into(),
                message: format!("cannot read the snapshot directory: {e}"),
            });
            return;
        }
        if files.is_empty() {
            self.diags.push(Diagnostic {
                severity: Severity::Error,
                file: dir.to_path_buf(),
                logical_id: None,
                code: "InvalidSnapshot.Empty".into(),
                message: "no .json files: a snapshot holds the output of aws ec2 describe-* calls, one file per call".into(),
            });
        }
        for path in files {
            let (region, account_id) = place(&root, &path, opts);
            let file = self.model.templates.len();
            self.model.templates.push(TemplateInfo {
                path: path.clone(),
                stack_name: display_path(dir),
                region,
                account_id,
            });
            let value = match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string()))
            {
                Ok(v) => v,
                Err(e) => {
                    self.error(file, "", "InvalidSnapshot.Json", e);
                    continue;
                }
            };
            let Value::Object(map) = value else {
                self.warn(
                    file,
                    "",
                    "InvalidSnapshot.NotDescribeOutput",
                    "not the output of a describe-* call (a JSON object such as {\"Vpcs\": [...]}): ignored".into(),
                );
                continue;
            };
            let keys = map.len();
            let mut unknown = Vec::new();
            for (key, v) in map {
                self.read_key(file, &key, v, items, &mut unknown);
            }
            let listed = unknown
                .iter()
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            if !unknown.is_empty() && unknown.len() == keys {
                // Other JSON that happens to sit in the directory (router configs, notes).
                self.warn(
                    file,
                    "",
                    "InvalidSnapshot.NotDescribeOutput",
                    format!("top-level key {listed} is not the output of a describe-* call vpcsim knows: the file is ignored"),
                );
            } else if !unknown.is_empty() {
                let known: Vec<&str> = SUPPORTED_KEYS.iter().map(|(k, _)| *k).collect();
                self.error(
                    file,
                    "",
                    "InvalidSnapshot.UnknownKey",
                    format!(
                        "top-level key {listed} is not the output of a describe-* call vpcsim knows and is ignored (read: {})",
                        known.join(", ")
                    ),
                );
            }
        }
    }

    fn read_key(
        &mut self,
        file: usize,
        key: &str,
        v: Value,
        items: &mut Items,
        unknown: &mut Vec<String>,
    ) {
        let target = match key {
            "Vpcs" => &mut items.vpcs,
            "Subnets" => &mut items.subnets,
            "RouteTables" => &mut items.route_tables,
            "NetworkAcls" => &mut items.nacls,
            "SecurityGroups" => &mut items.sgs,
            "Reservations" | "Instances" => &mut items.instances,
            "NetworkInterfaces" => &mut items.enis,
            "InternetGateways" => &mut items.igws,
            "EgressOnlyInternetGateways" => &mut items.eigws,
            "NatGateways" => &mut items.nats,
            "Addresses" => &mut items.addresses,
            "VpcPeeringConnections" => &mut items.peerings,
            "PrefixLists" => &mut items.prefix_lists,
            "TransitGateways" => &mut items.tgws,
            "TransitGatewayRouteTables" => &mut items.tgw_route_tables,
            "TransitGatewayVpcAttachments" => &mut items.tgw_vpc_attachments,
            "TransitGatewayAttachments" => &mut items.tgw_attachments,
            "TransitGatewayPropagations" => &mut items.tgw_propagations,
            "TransitGatewayStaticRoutes" => &mut items.tgw_static_routes,
            "VpnGateways" => &mut items.vgws,
            "CustomerGateways" => &mut items.cgws,
            "VpnConnections" => &mut items.vpns,
            "VpcEndpoints" => &mut items.endpoints,
            "LoadBalancers" => &mut items.load_balancers,
            "TargetGroups" => &mut items.target_groups,
            "LoadBalancerListeners" | "Listeners" => &mut items.listeners,
            "LoadBalancerAttributes" => &mut items.lb_attributes,
            "TargetGroupAttributes" => &mut items.tg_attributes,
            "LoadBalancerTargetHealth" => &mut items.target_health,
            _ if INFORMATIONAL_KEYS.contains(&key) => return,
            _ => {
                if let Some(&(_, kind, id_field)) =
                    UNSUPPORTED_KEYS.iter().find(|(k, _, _)| *k == key)
                {
                    self.unsupported(file, key, kind, id_field, &v);
                } else {
                    unknown.push(key.to_string());
                }
                return;
            }
        };
        let Value::Array(entries) = v else {
            self.error(
                file,
                "",
                "InvalidSnapshot.Json",
                format!("{key} must be a list"),
            );
            return;
        };
        if key == "Reservations" {
            for r in entries {
                for i in list(&r, "Instances") {
                    target.push(Item { file, v: i.clone() });
                }
            }
        } else {
            target.extend(entries.into_iter().map(|v| Item { file, v }));
        }
    }

    fn unsupported(
        &mut self,
        file: usize,
        key: &str,
        kind: &'static str,
        id_field: &str,
        v: &Value,
    ) {
        let entries: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        for (i, e) in entries.into_iter().enumerate() {
            let id = s(e, id_field)
                .map(str::to_string)
                .or_else(|| {
                    e.as_object()?.iter().find_map(|(k, v)| {
                        (k.ends_with("Id") || k.ends_with("Arn"))
                            .then(|| v.as_str().map(str::to_string))
                            .flatten()
                    })
                })
                .unwrap_or_else(|| format!("{key}[{i}]"));
            self.by_id.entry(id.clone()).or_insert(Ref::Unsupported);
            let name = tag(e, "Name").map(str::to_string);
            self.model.unsupported.push(Unsupported {
                origin: Origin {
                    template: file,
                    logical_id: id.clone(),
                    id,
                    name,
                    kind: kind.into(),
                },
            });
        }
    }

    /// The origin of a resource with AWS id `id`; `None` (after an error) for a duplicate id.
    /// [`Self::origin`] of an entry whose id is its own field `key` (`"VpcId"` of a VPC).
    fn origin_of(&mut self, item: &Item, kind: &'static str, key: &str) -> Option<Origin> {
        self.origin(item, s(&item.v, key), kind, key)
    }

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

    /// Resolve an id an entry refers to; a missing one is an `UnresolvedReference` error.
    fn resolve(&mut self, item: &Item, owner: &str, field: &str, id: &str) -> Option<Ref> {
        match self.by_id.get(id) {
            Some(r) => Some(*r),
            None => {
                self.error(
                    item.file,
                    owner,
                    "UnresolvedReference",
                    format!("{field} {id} is not in the snapshot"),
                );
                None
            }
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
        match self.resolve(item, owner, "VpcId", id)? {
            Ref::Vpc(v) => Some(v),
            _ => None,
        }
    }

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
        for it in &items.instances {
            self.add_instance(it);
        }
        for it in &items.enis {
            self.add_eni(it, None);
        }
        // Interfaces only described inside describe-instances output.
        for it in &items.instances {
            let Some(Ref::Instance(inst)) =
                s(&it.v, "InstanceId").and_then(|i| self.by_id.get(i).copied())
            else {
                continue;
            };
            let nested = list(&it.v, "NetworkInterfaces");
            for e in nested {
                let id = s(e, "NetworkInterfaceId").unwrap_or_default();
                if !self.by_id.contains_key(id) {
                    let eni = Item {
                        file: it.file,
                        v: e.clone(),
                    };
                    self.add_eni(&eni, Some(inst));
                }
            }
            if nested.is_empty() && s(&it.v, "SubnetId").is_some() {
                self.add_legacy_instance_eni(it, inst);
            }
        }
        for i in 0..self.model.instances.len() {
            let mut enis = self.model.instances[i].enis.clone();
            enis.sort_by_key(|e| match self.model.enis[*e].owner {
                EniOwner::Instance(_, d) => d,
                _ => u32::MAX,
            });
            self.model.instances[i].enis = enis;
        }
        for it in &items.endpoints {
            self.add_endpoint(it, ranges);
        }
        self.orphan_endpoint_enis();
        let lb_attrs = elb::attributes(&items.lb_attributes, "LoadBalancerArn");
        for it in &items.load_balancers {
            self.add_load_balancer(it, &lb_attrs);
        }
        self.orphan_lb_enis();
        let tg_attrs = elb::attributes(&items.tg_attributes, "TargetGroupArn");
        let mut health: HashMap<String, Vec<Value>> = HashMap::new();
        for it in &items.target_health {
            if let Some(arn) = s(&it.v, "TargetGroupArn") {
                health
                    .entry(arn.to_string())
                    .or_default()
                    .extend(list(&it.v, "TargetHealthDescriptions").iter().cloned());
            }
        }
        for it in &items.target_groups {
            self.add_target_group(it, &tg_attrs, &health);
        }
        for it in &items.listeners {
            // `LoadBalancerListeners` wraps each describe-listeners output with its load
            // balancer; `Listeners` is the output itself.
            if it.v.get("Listeners").is_some() {
                for l in list(&it.v, "Listeners") {
                    self.add_listener(it, l);
                }
            } else {
                let l = it.v.clone();
                self.add_listener(it, &l);
            }
        }
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

    fn add_vpc(&mut self, it: &Item) {
        let Some(origin) = self.origin(it, s(&it.v, "VpcId"), "AWS::EC2::VPC", "VpcId") else {
            return;
        };
        let id = origin.id.clone();
        let mut cidrs_v4: Vec<Ipv4Net> = Vec::new();
        let assoc = list(&it.v, "CidrBlockAssociationSet");
        let blocks = s(&it.v, "CidrBlock").into_iter().chain(
            assoc
                .iter()
                .filter(|a| {
                    a.get("CidrBlockState")
                        .and_then(|st| s(st, "State"))
                        .is_none_or(|st| st == "associated")
                })
                .filter_map(|a| s(a, "CidrBlock")),
        );
        for c in blocks {
            match c.parse::<Ipv4Net>() {
                Ok(n) if !cidrs_v4.contains(&n.trunc()) => cidrs_v4.push(n.trunc()),
                Ok(_) => {}
                Err(e) => {
                    self.error(
                        it.file,
                        &id,
                        "InvalidParameterValue",
                        format!("CidrBlock {c:?}: {e}"),
                    );
                    return;
                }
            }
        }
        let cidrs_v6: Vec<Ipv6Net> = list(&it.v, "Ipv6CidrBlockAssociationSet")
            .iter()
            .filter(|a| {
                a.get("Ipv6CidrBlockState")
                    .and_then(|st| s(st, "State"))
                    .is_none_or(|st| st == "associated")
            })
            .filter_map(|a| s(a, "Ipv6CidrBlock")?.parse::<Ipv6Net>().ok())
            .collect();
        if cidrs_v4.is_empty() {
            self.error(
                it.file,
                &id,
                "InvalidSnapshot.MissingField",
                "the VPC has no CidrBlock".into(),
            );
            return;
        }
        let v = self.model.vpcs.len();
        self.model.vpcs.push(Vpc {
            origin,
            cidrs_v4,
            cidrs_v6,
            enable_dns_support: true,
            enable_dns_hostnames: false,
            main_route_table: usize::MAX,
            default_network_acl: usize::MAX,
            default_security_group: usize::MAX,
            internet_gateway: None,
            egress_only_igw: None,
        });
        self.by_id.insert(id, Ref::Vpc(v));
    }

    fn add_route_table(&mut self, it: &Item) {
        let Some(origin) = self.origin_of(it, "AWS::EC2::RouteTable", "RouteTableId") else {
            return;
        };
        let Some(vpc) = self.vpc_of(it, &origin.id.clone()) else {
            return;
        };
        let main = list(&it.v, "Associations")
            .iter()
            .any(|a| a.get("Main").and_then(Value::as_bool) == Some(true));
        let id = origin.id.clone();
        self.model.route_tables.push(RouteTable {
            origin,
            vpc,
            main,
            routes: vec![],
        });
        let i = self.model.route_tables.len() - 1;
        if main && self.model.vpcs[vpc].main_route_table == usize::MAX {
            self.model.vpcs[vpc].main_route_table = i;
        }
        self.by_id.insert(id, Ref::RouteTable(i));
    }

    fn add_nacl(&mut self, it: &Item) {
        let Some(origin) = self.origin_of(it, "AWS::EC2::NetworkAcl", "NetworkAclId") else {
            return;
        };
        let id = origin.id.clone();
        let Some(vpc) = self.vpc_of(it, &id) else {
            return;
        };
        let default = it.v.get("IsDefault").and_then(Value::as_bool) == Some(true);
        let mut entries = Vec::new();
        for e in list(&it.v, "Entries") {
            match nacl_entry(e) {
                Ok(Some(entry)) => entries.push(entry),
                Ok(None) => {}
                Err(msg) => self.error(
                    it.file,
                    &id,
                    "InvalidParameterValue",
                    format!("entry {}: {msg}", int(e, "RuleNumber").unwrap_or(-1)),
                ),
            }
        }
        self.model.network_acls.push(NetworkAcl {
            origin,
            vpc,
            default,
            entries,
        });
        let i = self.model.network_acls.len() - 1;
        if default && self.model.vpcs[vpc].default_network_acl == usize::MAX {
            self.model.vpcs[vpc].default_network_acl = i;
        }
        self.by_id.insert(id, Ref::Nacl(i));
    }

    fn add_sg(&mut self, it: &Item) {
        let Some(origin) = self.origin_of(it, "AWS::EC2::SecurityGroup", "GroupId") else {
            return;
        };
        let id = origin.id.clone();
        let vpc = match s(&it.v, "VpcId") {
            Some(_) => match self.vpc_of(it, &id) {
                Some(v) => Some(v),
                None => return,
            },
            None => None,
        };
        let group_name = s(&it.v, "GroupName").unwrap_or_default().to_string();
        let i = self.model.security_groups.len();
        if let Some(v) = vpc {
            if group_name == "default" && self.model.vpcs[v].default_security_group == usize::MAX {
                self.model.vpcs[v].default_security_group = i;
            }
        }
        self.model.security_groups.push(SecurityGroup {
            origin,
            vpc,
            group_name,
            ingress: vec![],
            egress: vec![],
        });
        self.by_id.insert(id, Ref::Sg(i));
    }

    /// A VPC whose main route table, default ACL or default group the snapshot lacks gets the
    /// one AWS creates with every VPC (empty table, allow-all ACL, default group), with a warning.
    fn fill_vpc_defaults(&mut self) {
        let any_v4: IpNet = IpNet::V4(Ipv4Net::default());
        for v in 0..self.model.vpcs.len() {
            let file = self.model.vpcs[v].origin.template;
            let id = self.model.vpcs[v].origin.id.clone();
            let mut missing = Vec::new();
            if self.model.vpcs[v].main_route_table == usize::MAX {
                missing.push("main route table");
                let origin = self.implicit_origin(v, "MainRouteTable", "AWS::EC2::RouteTable");
                self.model.route_tables.push(RouteTable {
                    origin,
                    vpc: v,
                    main: true,
                    routes: vec![],
                });
                self.model.vpcs[v].main_route_table = self.model.route_tables.len() - 1;
            }
            if self.model.vpcs[v].default_network_acl == usize::MAX {
                missing.push("default network ACL");
                let origin = self.implicit_origin(v, "DefaultNetworkAcl", "AWS::EC2::NetworkAcl");
                let allow_all = |egress: bool| NaclEntry {
                    origin: None,
                    egress,
                    entry: vpcsim_dataplane::nacl::NaclEntry {
                        number: 100,
                        res: None,
                        protocol: None,
                        ports: (0, 65535),
                        icmp_type: None,
                        icmp_code: None,
                        cidr: any_v4,
                        allow: true,
                    },
                };
                self.model.network_acls.push(NetworkAcl {
                    origin,
                    vpc: v,
                    default: true,
                    entries: vec![allow_all(false), allow_all(true)],
                });
                self.model.vpcs[v].default_network_acl = self.model.network_acls.len() - 1;
            }
            if self.model.vpcs[v].default_security_group == usize::MAX {
                missing.push("default security group");
                let origin =
                    self.implicit_origin(v, "DefaultSecurityGroup", "AWS::EC2::SecurityGroup");
                let sg = self.model.security_groups.len();
                self.model.security_groups.push(SecurityGroup {
                    origin,
                    vpc: Some(v),
                    group_name: "default".into(),
                    ingress: vec![SgRule {
                        protocol: None,
                        from_port: -1,
                        to_port: -1,
                        peer: SgPeer::Group(sg),
                        description: None,
                    }],
                    egress: vec![SgRule {
                        protocol: None,
                        from_port: -1,
                        to_port: -1,
                        peer: SgPeer::Cidr(any_v4),
                        description: None,
                    }],
                });
                self.model.vpcs[v].default_security_group = sg;
            }
            if !missing.is_empty() {
                self.warn(
                    file,
                    &id,
                    "InvalidSnapshot.MissingDefault",
                    format!(
                        "the snapshot has no {} of the VPC: assuming the defaults AWS creates",
                        missing.join(", ")
                    ),
                );
            }
        }
    }

    fn add_subnet(&mut self, it: &Item) {
        let Some(origin) = self.origin(it, s(&it.v, "SubnetId"), "AWS::EC2::Subnet", "SubnetId")
        else {
            return;
        };
        let id = origin.id.clone();
        let Some(vpc) = self.vpc_of(it, &id) else {
            return;
        };
        let cidr_v4 = match s(&it.v, "CidrBlock").map(str::parse::<Ipv4Net>) {
            Some(Ok(n)) => Some(n.trunc()),
            Some(Err(e)) => {
                self.error(
                    it.file,
                    &id,
                    "InvalidParameterValue",
                    format!("CidrBlock: {e}"),
                );
                return;
            }
            None => None,
        };
        let cidr_v6 = list(&it.v, "Ipv6CidrBlockAssociationSet")
            .iter()
            .filter_map(|a| s(a, "Ipv6CidrBlock")?.parse::<Ipv6Net>().ok())
            .next();
        if let Some(c) = cidr_v4 {
            if !self.model.vpcs[vpc].cidrs_v4.iter().any(|v| v.contains(&c)) {
                self.error(
                    it.file,
                    &id,
                    "InvalidSubnet.Range",
                    format!(
                        "{c} is outside the CIDR blocks of {}",
                        self.model.vpcs[vpc].origin.id
                    ),
                );
                return;
            }
        }
        self.model.subnets.push(Subnet {
            origin,
            vpc,
            availability_zone: s(&it.v, "AvailabilityZone").unwrap_or_default().to_string(),
            cidr_v4,
            cidr_v6,
            map_public_ip_on_launch: it.v.get("MapPublicIpOnLaunch").and_then(Value::as_bool)
                == Some(true),
            route_table: None,
            network_acl: None,
        });
        let i = self.model.subnets.len() - 1;
        self.by_id.insert(id, Ref::Subnet(i));
    }

    fn associate_route_table(&mut self, it: &Item) {
        let Some(rt_id) = s(&it.v, "RouteTableId") else {
            return;
        };
        let Some(&Ref::RouteTable(rt)) = self.by_id.get(rt_id) else {
            return;
        };
        if self.model.route_tables[rt].origin.template != it.file {
            return;
        }
        let rt_id = rt_id.to_string();
        for a in list(&it.v, "Associations") {
            if let Some(sub) = s(a, "SubnetId") {
                match self.resolve(it, &rt_id, "Associations.SubnetId", sub) {
                    Some(Ref::Subnet(sn))
                        if self.same_vpc(it, &rt_id, sn, self.model.route_tables[rt].vpc) =>
                    {
                        self.model.subnets[sn].route_table = Some(rt)
                    }
                    _ => continue,
                }
            } else if let Some(gw) = s(a, "GatewayId") {
                match self.by_id.get(gw).copied() {
                    Some(r @ (Ref::Igw(_) | Ref::Vgw(_))) => {
                        let gateway = match r {
                            Ref::Igw(g) => EdgeGateway::InternetGateway(g),
                            _ => match r {
                                Ref::Vgw(g) => EdgeGateway::VpnGateway(g),
                                _ => continue,
                            },
                        };
                        let origin = Origin {
                            logical_id: format!(
                                "{}.GatewayAssociation",
                                self.model.route_tables[rt].origin.logical_id
                            ),
                            id: s(a, "RouteTableAssociationId").unwrap_or(gw).to_string(),
                            name: None,
                            kind: "AWS::EC2::GatewayRouteTableAssociation".into(),
                            template: it.file,
                        };
                        self.model.gateway_route_tables.push(GatewayRouteTable {
                            origin,
                            gateway,
                            route_table: rt,
                        });
                    }
                    _ => self.warn(
                        it.file,
                        &rt_id,
                        "UnsupportedReference",
                        format!(
                            "the gateway association with {gw} is not simulated from snapshots"
                        ),
                    ),
                }
            }
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

    fn associate_nacl(&mut self, it: &Item) {
        let Some(acl_id) = s(&it.v, "NetworkAclId") else {
            return;
        };
        let Some(&Ref::Nacl(acl)) = self.by_id.get(acl_id) else {
            return;
        };
        if self.model.network_acls[acl].origin.template != it.file {
            return;
        }
        let acl_id = acl_id.to_string();
        for a in list(&it.v, "Associations") {
            if let Some(sub) = s(a, "SubnetId") {
                if let Some(Ref::Subnet(sn)) =
                    self.resolve(it, &acl_id, "Associations.SubnetId", sub)
                {
                    if self.same_vpc(it, &acl_id, sn, self.model.network_acls[acl].vpc) {
                        self.model.subnets[sn].network_acl = Some(acl);
                    }
                }
            }
        }
    }

    fn add_igw(&mut self, it: &Item, egress_only: bool) {
        let (field, kind) = if egress_only {
            (
                "EgressOnlyInternetGatewayId",
                "AWS::EC2::EgressOnlyInternetGateway",
            )
        } else {
            ("InternetGatewayId", "AWS::EC2::InternetGateway")
        };
        let Some(origin) = self.origin(it, s(&it.v, field), kind, field) else {
            return;
        };
        let id = origin.id.clone();
        let mut vpc = None;
        for a in list(&it.v, "Attachments") {
            let state = s(a, "State").unwrap_or("available");
            if !matches!(state, "available" | "attached") {
                continue;
            }
            if let Some(v) = s(a, "VpcId") {
                if let Some(Ref::Vpc(v)) = self.resolve(it, &id, "Attachments.VpcId", v) {
                    vpc = Some(v);
                }
            }
        }
        if egress_only {
            let Some(v) = vpc else {
                self.warn(
                    it.file,
                    &id,
                    "Gateway.NotAttached",
                    "the egress-only internet gateway is not attached to a VPC: skipped".into(),
                );
                return;
            };
            let g = self.model.egress_only_igws.len();
            self.model
                .egress_only_igws
                .push(EgressOnlyInternetGateway { origin, vpc: v });
            self.model.vpcs[v].egress_only_igw = Some(g);
            self.by_id.insert(id, Ref::Eigw(g));
        } else {
            let g = self.model.internet_gateways.len();
            self.model
                .internet_gateways
                .push(InternetGateway { origin, vpc });
            if let Some(v) = vpc {
                self.model.vpcs[v].internet_gateway = Some(g);
            }
            self.by_id.insert(id, Ref::Igw(g));
        }
    }

    fn add_peering(&mut self, it: &Item) {
        let status =
            it.v.get("Status")
                .and_then(|st| s(st, "Code"))
                .unwrap_or("active");
        if status != "active" {
            // Routes to a peering that is not active are blackholes; leaving it out does that.
            return;
        }
        let Some(origin) = self.origin_of(
            it,
            "AWS::EC2::VPCPeeringConnection",
            "VpcPeeringConnectionId",
        ) else {
            return;
        };
        let id = origin.id.clone();
        let side = |k: &str| it.v.get(k).and_then(|i| s(i, "VpcId")).map(str::to_string);
        let (Some(req), Some(acc)) = (side("RequesterVpcInfo"), side("AccepterVpcInfo")) else {
            self.error(
                it.file,
                &id,
                "InvalidSnapshot.MissingField",
                "RequesterVpcInfo.VpcId and AccepterVpcInfo.VpcId are required".into(),
            );
            return;
        };
        let (requester, accepter) =
            match (self.by_id.get(&req).copied(), self.by_id.get(&acc).copied()) {
                (Some(Ref::Vpc(r)), Some(Ref::Vpc(a))) => (r, Some(a)),
                (Some(Ref::Vpc(r)), _) => (r, None),
                (_, Some(Ref::Vpc(a))) => (a, None),
                _ => {
                    self.warn(
                        it.file,
                        &id,
                        "UnresolvedReference",
                        format!(
                            "neither {req} nor {acc} is in the snapshot: the peering is skipped"
                        ),
                    );
                    return;
                }
            };
        let peer_vpc_id = if accepter.is_none() && self.model.vpcs[requester].origin.id == acc {
            req
        } else {
            acc
        };
        let p = self.model.peerings.len();
        self.model.peerings.push(Peering {
            origin,
            requester,
            accepter,
            peer_vpc_id,
        });
        self.by_id.insert(id, Ref::Peering(p));
    }

    fn add_prefix_list(&mut self, it: &Item) {
        let Some(origin) = self.origin_of(it, "AWS::EC2::PrefixList", "PrefixListId") else {
            return;
        };
        let id = origin.id.clone();
        if it.v.get("Cidrs").is_none() {
            self.warn(
                it.file,
                &id,
                "InvalidSnapshot.MissingField",
                "no Cidrs: describe-managed-prefix-lists does not list entries; the list is taken as empty (save `aws ec2 describe-prefix-lists` output, or add Cidrs from get-managed-prefix-list-entries)".into(),
            );
        }
        let entries: Vec<IpNet> = list(&it.v, "Cidrs")
            .iter()
            .filter_map(|c| c.as_str()?.parse::<IpNet>().ok())
            .collect();
        let name = s(&it.v, "PrefixListName").unwrap_or(&id).to_string();
        // describe-prefix-lists lists only AWS-managed lists; describe-managed-prefix-lists
        // says who owns each.
        let aws_managed = (name.starts_with("com.amazonaws.")
            || s(&it.v, "OwnerId") == Some("AWS"))
        .then(|| name.clone());
        let mut origin = origin;
        if origin.name.is_none() {
            origin.name = Some(name.clone()).filter(|n| *n != id);
        }
        let max_entries = if aws_managed.is_some() {
            1
        } else {
            int(&it.v, "MaxEntries").map_or(entries.len() as u32, |m| m.max(0) as u32)
        };
        let ipv6 = s(&it.v, "AddressFamily").map_or_else(
            || entries.first().is_some_and(|e| matches!(e, IpNet::V6(_))),
            |f| f == "IPv6",
        );
        let i = self.model.prefix_lists.len();
        self.model.prefix_lists.push(PrefixList {
            origin,
            ipv6,
            max_entries,
            entries,
            aws_managed,
        });
        self.by_id.insert(id, Ref::PrefixList(i));
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
        match self.resolve(it, owner, "SubnetId", sub)? {
            Ref::Subnet(sn) => Some(sn),
            _ => None,
        }
    }

    /// Check an address is in the subnet and not held by another interface of the VPC.
    fn check_v4(&mut self, it: &Item, owner: &str, subnet: usize, a: Ipv4Addr) -> bool {
        let sn = &self.model.subnets[subnet];
        if !sn.cidr_v4.is_some_and(|c| c.contains(&a)) {
            self.error(
                it.file,
                owner,
                "InvalidParameterValue",
                format!(
                    "{a} is not in subnet {} ({})",
                    sn.origin.id,
                    sn.cidr_v4
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "no IPv4 CIDR".into())
                ),
            );
            return false;
        }
        let vpc = sn.vpc;
        let holder = self.used_v4.get(&(vpc, a)).filter(|h| *h != owner).cloned();
        self.used_v4
            .entry((vpc, a))
            .or_insert_with(|| owner.to_string());
        if let Some(h) = holder {
            self.error(
                it.file,
                owner,
                "InvalidIPAddress.InUse",
                format!("{a} is already held by {h}"),
            );
            return false;
        }
        true
    }

    fn add_nat(&mut self, it: &Item) {
        let state = s(&it.v, "State").unwrap_or("available");
        if !matches!(state, "available" | "pending") {
            return;
        }
        let Some(origin) = self.origin_of(it, "AWS::EC2::NatGateway", "NatGatewayId") else {
            return;
        };
        let id = origin.id.clone();
        let Some(subnet) = self.subnet_of(it, &id) else {
            return;
        };
        let public = s(&it.v, "ConnectivityType").unwrap_or("public") == "public";
        let addrs = list(&it.v, "NatGatewayAddresses");
        let mut private_v4 = Vec::new();
        let mut eips = Vec::new();
        for a in addrs {
            let Some(p) = s(a, "PrivateIp").and_then(|p| p.parse::<Ipv4Addr>().ok()) else {
                continue;
            };
            if !self.check_v4(it, &id, subnet, p) {
                return;
            }
            private_v4.push(p);
            if let (Some(alloc), Some(pubip)) = (
                s(a, "AllocationId"),
                s(a, "PublicIp").and_then(|p| p.parse::<Ipv4Addr>().ok()),
            ) {
                eips.push((alloc.to_string(), pubip, p));
            }
        }
        if private_v4.is_empty() {
            self.error(
                it.file,
                &id,
                "InvalidSnapshot.MissingField",
                "NatGatewayAddresses has no PrivateIp".into(),
            );
            return;
        }
        let eni_id = addrs
            .iter()
            .find_map(|a| s(a, "NetworkInterfaceId"))
            .map(str::to_string)
            .unwrap_or_else(|| id.replace("nat-", "eni-"));
        let nat = self.model.nat_gateways.len();
        self.model.enis.push(NetworkInterface {
            origin: Origin {
                id: eni_id.clone(),
                kind: "AWS::EC2::NetworkInterface".into(),
                ..origin.clone()
            },
            owner: EniOwner::NatGateway(nat),
            subnet,
            private_v4,
            ipv6: vec![],
            security_groups: vec![],
            source_dest_check: false,
            auto_public_ip: None,
        });
        let eni = self.model.enis.len() - 1;
        self.nat_enis.insert(eni_id.clone());
        self.by_id.insert(eni_id, Ref::Eni(eni));
        self.model.nat_gateways.push(NatGateway {
            origin,
            subnet,
            public,
            eni,
        });
        self.by_id.insert(id.clone(), Ref::Nat(nat));
        for (alloc, public_ip, private) in eips {
            self.add_eip(it.file, &alloc, public_ip, Some((eni, private)), None);
        }
    }

    fn add_eip(
        &mut self,
        file: usize,
        alloc: &str,
        public_ip: Ipv4Addr,
        association: Option<(usize, Ipv4Addr)>,
        v: Option<&Value>,
    ) {
        if let Some(e) = self
            .model
            .eips
            .iter_mut()
            .find(|e| e.allocation_id == alloc)
        {
            if e.association.is_none() {
                e.association = association;
            }
            return;
        }
        let name = v.and_then(|v| tag(v, "Name")).map(str::to_string);
        self.model.eips.push(Eip {
            origin: Origin {
                template: file,
                logical_id: alloc.to_string(),
                id: alloc.to_string(),
                name,
                kind: "AWS::EC2::EIP".into(),
            },
            public_ip,
            allocation_id: alloc.to_string(),
            association,
        });
    }

    fn add_instance(&mut self, it: &Item) {
        if it.v.get("State").and_then(|st| s(st, "Name")) == Some("terminated") {
            return;
        }
        let Some(origin) = self.origin_of(it, "AWS::EC2::Instance", "InstanceId") else {
            return;
        };
        let id = origin.id.clone();
        let i = self.model.instances.len();
        self.model.instances.push(Instance {
            origin,
            enis: vec![],
        });
        self.by_id.insert(id, Ref::Instance(i));
    }

    fn add_eni(&mut self, it: &Item, instance: Option<usize>) {
        self.add_eni_of(it, instance, None);
    }

    /// The interface of an endpoint or load balancer node, created with its owner.
    fn add_eni_owned(&mut self, it: &Item, owner: EniOwner) -> Option<usize> {
        self.add_eni_of(it, None, Some(owner))
    }

    /// An interface; `forced`: the owner it is created for (endpoint, load balancer).
    fn add_eni_of(
        &mut self,
        it: &Item,
        instance: Option<usize>,
        forced: Option<EniOwner>,
    ) -> Option<usize> {
        let v = &it.v;
        let id = s(v, "NetworkInterfaceId").unwrap_or_default();
        if self.nat_enis.contains(id) {
            return None;
        }
        let itype = s(v, "InterfaceType").unwrap_or("interface");
        if itype == "transit_gateway" {
            // The attachment's interface in its subnet: the attachment itself is simulated.
            return None;
        }
        if itype == "network_load_balancer" && forced.is_none() && !id.is_empty() {
            self.lb_enis.insert(
                id.to_string(),
                Item {
                    file: it.file,
                    v: v.clone(),
                },
            );
            return None;
        }
        if itype == "vpc_endpoint" && forced.is_none() && !id.is_empty() {
            self.endpoint_enis.insert(
                id.to_string(),
                Item {
                    file: it.file,
                    v: v.clone(),
                },
            );
            return None;
        }
        if forced.is_none() && !matches!(itype, "interface" | "trunk" | "efa") {
            let kind = match itype {
                "nat_gateway" => "AWS::EC2::NatGateway",
                "vpc_endpoint" | "gateway_load_balancer_endpoint" => "AWS::EC2::VPCEndpoint",
                "network_load_balancer" | "gateway_load_balancer" => {
                    "AWS::ElasticLoadBalancingV2::LoadBalancer"
                }
                "transit_gateway" => "AWS::EC2::TransitGatewayAttachment",
                _ => "AWS::EC2::NetworkInterface",
            };
            if !self.by_id.contains_key(id) && !id.is_empty() {
                self.by_id.insert(id.to_string(), Ref::Unsupported);
                self.model.unsupported.push(Unsupported {
                    origin: Origin {
                        template: it.file,
                        logical_id: id.to_string(),
                        id: id.to_string(),
                        name: s(v, "Description")
                            .filter(|d| !d.is_empty())
                            .map(str::to_string),
                        kind: kind.into(),
                    },
                });
            }
            return None;
        }
        let origin = self.origin(
            it,
            Some(id),
            "AWS::EC2::NetworkInterface",
            "NetworkInterfaceId",
        )?;
        let id = origin.id.clone();
        let subnet = self.subnet_of(it, &id)?;
        let owner = match (forced, instance, v.get("Attachment")) {
            (Some(owner), _, _) => owner,
            (None, Some(i), att) => EniOwner::Instance(
                i,
                att.and_then(|a| int(a, "DeviceIndex")).unwrap_or(0) as u32,
            ),
            (None, None, Some(att)) => {
                match s(att, "InstanceId").map(|i| self.by_id.get(i).copied()) {
                    Some(Some(Ref::Instance(i))) => {
                        EniOwner::Instance(i, int(att, "DeviceIndex").unwrap_or(0) as u32)
                    }
                    Some(_) => {
                        self.warn(it.file, &id, "UnresolvedReference", format!("attached to {}, which is not in the snapshot (or terminated): loaded as a standalone interface", s(att, "InstanceId").unwrap_or_default()));
                        EniOwner::Standalone
                    }
                    None => EniOwner::Standalone,
                }
            }
            (None, None, None) => EniOwner::Standalone,
        };
        let mut addrs: Vec<(Ipv4Addr, bool, Option<&Value>)> = Vec::new();
        for p in list(v, "PrivateIpAddresses") {
            if let Some(a) = s(p, "PrivateIpAddress").and_then(|a| a.parse().ok()) {
                addrs.push((
                    a,
                    p.get("Primary").and_then(Value::as_bool) == Some(true),
                    p.get("Association"),
                ));
            }
        }
        if addrs.is_empty() {
            if let Some(a) = s(v, "PrivateIpAddress").and_then(|a| a.parse().ok()) {
                addrs.push((a, true, v.get("Association")));
            }
        }
        addrs.sort_by_key(|(_, primary, _)| !primary);
        let mut private_v4 = Vec::new();
        for (a, _, _) in &addrs {
            if !self.check_v4(it, &id, subnet, *a) {
                return None;
            }
            private_v4.push(*a);
        }
        let ipv6: Vec<Ipv6Addr> = list(v, "Ipv6Addresses")
            .iter()
            .filter_map(|a| s(a, "Ipv6Address")?.parse().ok())
            .collect();
        if private_v4.is_empty() && ipv6.is_empty() {
            self.error(
                it.file,
                &id,
                "InvalidParameterValue",
                "the interface has no IPv4 or IPv6 address".into(),
            );
            return None;
        }
        let mut security_groups = Vec::new();
        for g in list(v, "Groups") {
            let Some(gid) = s(g, "GroupId") else { continue };
            match self.resolve(it, &id, "Groups.GroupId", gid) {
                Some(Ref::Sg(g)) => security_groups.push(g),
                _ => return None,
            }
        }
        let mut auto_public_ip = None;
        let mut eips = Vec::new();
        for (a, primary, assoc) in &addrs {
            let Some(assoc) = assoc else { continue };
            let Some(public) = s(assoc, "PublicIp").and_then(|p| p.parse::<Ipv4Addr>().ok()) else {
                continue;
            };
            match s(assoc, "AllocationId") {
                Some(alloc) => eips.push((alloc.to_string(), public, *a)),
                None if *primary && s(assoc, "IpOwnerId").is_none_or(|o| o == "amazon") => {
                    auto_public_ip = Some(public)
                }
                None => {}
            }
        }
        let source_dest_check = v
            .get("SourceDestCheck")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let e = self.model.enis.len();
        self.model.enis.push(NetworkInterface {
            origin,
            owner: owner.clone(),
            subnet,
            private_v4,
            ipv6,
            security_groups,
            source_dest_check,
            auto_public_ip,
        });
        self.by_id.insert(id, Ref::Eni(e));
        if let EniOwner::Instance(i, _) = owner {
            self.model.instances[i].enis.push(e);
        }
        for (alloc, public, private) in eips {
            self.add_eip(it.file, &alloc, public, Some((e, private)), None);
        }
        Some(e)
    }

    /// An instance described without `NetworkInterfaces` (older output): its primary interface
    /// from the instance's own fields.
    fn add_legacy_instance_eni(&mut self, it: &Item, inst: usize) {
        let v = &it.v;
        let mut e = serde_json::json!({
            "NetworkInterfaceId": format!("{}.eth0", self.model.instances[inst].origin.id),
            "SubnetId": s(v, "SubnetId"),
            "PrivateIpAddress": s(v, "PrivateIpAddress"),
            "Groups": v.get("SecurityGroups").cloned().unwrap_or(Value::Null),
            "SourceDestCheck": v.get("SourceDestCheck").cloned().unwrap_or(Value::Bool(true)),
        });
        if let Some(p) = s(v, "PublicIpAddress") {
            e["Association"] = serde_json::json!({"PublicIp": p, "IpOwnerId": "amazon"});
        }
        let eni = Item {
            file: it.file,
            v: e,
        };
        self.add_eni(&eni, Some(inst));
    }

    fn add_address(&mut self, it: &Item) {
        let v = &it.v;
        let Some(alloc) = s(v, "AllocationId") else {
            // EC2-Classic addresses have no allocation id and cannot be used in a VPC.
            return;
        };
        let Some(public) = s(v, "PublicIp").and_then(|p| p.parse::<Ipv4Addr>().ok()) else {
            self.error(
                it.file,
                alloc,
                "InvalidSnapshot.MissingField",
                "no valid PublicIp".into(),
            );
            return;
        };
        let eni = match (s(v, "NetworkInterfaceId"), s(v, "InstanceId")) {
            (Some(e), _) => match self.by_id.get(e).copied() {
                Some(Ref::Eni(e)) => Some(e),
                Some(_) => None,
                None => {
                    self.error(
                        it.file,
                        alloc,
                        "UnresolvedReference",
                        format!("NetworkInterfaceId {e} is not in the snapshot"),
                    );
                    return;
                }
            },
            (None, Some(i)) => match self.by_id.get(i).copied() {
                Some(Ref::Instance(i)) => self.model.instances[i].enis.first().copied(),
                _ => {
                    self.error(
                        it.file,
                        alloc,
                        "UnresolvedReference",
                        format!("InstanceId {i} is not in the snapshot"),
                    );
                    return;
                }
            },
            (None, None) => None,
        };
        let association = eni.and_then(|e| {
            let private = s(v, "PrivateIpAddress")
                .and_then(|p| p.parse::<Ipv4Addr>().ok())
                .or_else(|| self.model.enis[e].private_v4.first().copied())?;
            Some((e, private))
        });
        self.add_eip(it.file, alloc, public, association, Some(v));
    }

    fn add_sg_rules(&mut self, it: &Item) {
        let Some(gid) = s(&it.v, "GroupId") else {
            return;
        };
        let Some(&Ref::Sg(g)) = self.by_id.get(gid) else {
            return;
        };
        if self.model.security_groups[g].origin.template != it.file {
            return;
        }
        let gid = gid.to_string();
        let owner = s(&it.v, "OwnerId").map(str::to_string);
        for (key, ingress) in [("IpPermissions", true), ("IpPermissionsEgress", false)] {
            let mut rules = Vec::new();
            for perm in list(&it.v, key) {
                let proto = s(perm, "IpProtocol")
                    .map(str::to_string)
                    .or_else(|| int(perm, "IpProtocol").map(|n| n.to_string()))
                    .unwrap_or_default();
                let protocol = match parse_protocol(&proto) {
                    Ok(p) => p,
                    Err(e) => {
                        self.error(
                            it.file,
                            &gid,
                            "InvalidParameterValue",
                            format!("{key}: IpProtocol: {e}"),
                        );
                        continue;
                    }
                };
                let (from, to) = (int(perm, "FromPort"), int(perm, "ToPort"));
                let (from_port, to_port) = match protocol {
                    None => (-1, -1),
                    Some(6) | Some(17) => match (from, to) {
                        (Some(f), Some(t)) if f == -1 || t == -1 => (0, 65535),
                        (Some(f), Some(t))
                            if (0..=65535).contains(&f) && (0..=65535).contains(&t) && f <= t =>
                        {
                            (f as i32, t as i32)
                        }
                        (None, None) => (0, 65535),
                        _ => {
                            self.error(
                                it.file,
                                &gid,
                                "InvalidParameterValue",
                                format!("{key}: {from:?}-{to:?} is not a valid port range"),
                            );
                            continue;
                        }
                    },
                    Some(1) | Some(58) => (from.unwrap_or(-1) as i32, to.unwrap_or(-1) as i32),
                    Some(_) => (-1, -1),
                };
                let rule = |peer: SgPeer, d: Option<&str>| SgRule {
                    protocol,
                    from_port,
                    to_port,
                    peer,
                    description: d.map(str::to_string),
                };
                // Both families: the list, its CIDR field, and whether that field is IPv6.
                for (field, cidr, v6) in [
                    ("IpRanges", "CidrIp", false),
                    ("Ipv6Ranges", "CidrIpv6", true),
                ] {
                    for r in list(perm, field) {
                        match s(r, cidr).map(str::parse::<IpNet>) {
                            Some(Ok(c)) if matches!(c, IpNet::V6(_)) == v6 => {
                                rules.push(rule(SgPeer::Cidr(c.trunc()), s(r, "Description")))
                            }
                            _ => self.error(
                                it.file,
                                &gid,
                                "InvalidParameterValue",
                                format!("{key}: bad {cidr} {:?}", s(r, cidr)),
                            ),
                        }
                    }
                }
                for r in list(perm, "UserIdGroupPairs") {
                    let Some(other) = s(r, "GroupId") else {
                        continue;
                    };
                    match self.by_id.get(other).copied() {
                        Some(Ref::Sg(o)) => rules.push(rule(SgPeer::Group(o), s(r, "Description"))),
                        _ => {
                            // A group of another account (or reached over peering) is legitimately
                            // absent from this account's snapshot; one of this account is dangling.
                            let foreign = s(r, "VpcPeeringConnectionId").is_some()
                                || s(r, "UserId").is_some_and(|u| Some(u) != owner.as_deref());
                            let sev = if foreign {
                                Severity::Warning
                            } else {
                                Severity::Error
                            };
                            self.diag(sev, it.file, &gid, "UnresolvedReference", format!("{key}: security group {other} is not in the snapshot; the rule is left out"));
                        }
                    }
                }
                for r in list(perm, "PrefixListIds") {
                    let Some(pl) = s(r, "PrefixListId") else {
                        continue;
                    };
                    match self.by_id.get(pl).copied() {
                        Some(Ref::PrefixList(p)) => rules.push(rule(SgPeer::PrefixList(p), s(r, "Description"))),
                        _ => self.warn(it.file, &gid, "UnresolvedReference", format!("{key}: prefix list {pl} is not in the snapshot (add `aws ec2 describe-prefix-lists` output); the rule is left out")),
                    }
                }
            }
            let sg = &mut self.model.security_groups[g];
            if ingress {
                sg.ingress = rules;
            } else {
                sg.egress = rules;
            }
        }
    }

    fn add_routes(&mut self, it: &Item) {
        let Some(rt_id) = s(&it.v, "RouteTableId") else {
            return;
        };
        let Some(&Ref::RouteTable(rt)) = self.by_id.get(rt_id) else {
            return;
        };
        if self.model.route_tables[rt].origin.template != it.file {
            return;
        }
        let rt_id = rt_id.to_string();
        let rt_lid = self.model.route_tables[rt].origin.logical_id.clone();
        for r in list(&it.v, "Routes") {
            let target_id = [
                "GatewayId",
                "NatGatewayId",
                "NetworkInterfaceId",
                "InstanceId",
                "VpcPeeringConnectionId",
                "EgressOnlyInternetGatewayId",
                "TransitGatewayId",
                "CarrierGatewayId",
                "LocalGatewayId",
                "CoreNetworkArn",
            ]
            .iter()
            .find_map(|k| s(r, k).map(|v| (*k, v)));
            let Some((field, target_id)) = target_id else {
                continue;
            };
            if target_id == "local" {
                continue;
            }
            let dest_text = s(r, "DestinationCidrBlock")
                .or_else(|| s(r, "DestinationIpv6CidrBlock"))
                .or_else(|| s(r, "DestinationPrefixListId"))
                .unwrap_or_default()
                .to_string();
            let origin = Origin {
                template: it.file,
                logical_id: format!("{rt_lid}[{dest_text}]"),
                id: rt_id.clone(),
                name: None,
                kind: "AWS::EC2::Route".into(),
            };
            let target = if s(r, "State") == Some("blackhole") {
                RouteTarget::Missing(target_id.to_string())
            } else {
                match self.by_id.get(target_id).copied() {
                    Some(Ref::Igw(g)) => RouteTarget::InternetGateway(g),
                    Some(Ref::Eigw(g)) => RouteTarget::EgressOnlyInternetGateway(g),
                    Some(Ref::Nat(n)) => RouteTarget::NatGateway(n),
                    Some(Ref::Eni(e)) => RouteTarget::NetworkInterface(e),
                    Some(Ref::Instance(i)) => match self.model.instances[i].enis.first() {
                        Some(&e) => RouteTarget::NetworkInterface(e),
                        None => RouteTarget::Missing(target_id.to_string()),
                    },
                    Some(Ref::Peering(p)) => RouteTarget::Peering(p),
                    // The endpoint installs `prefix list → endpoint` in its route tables.
                    Some(Ref::VpcEndpoint(_)) => continue,
                    Some(Ref::Tgw(g)) => RouteTarget::TransitGateway(g),
                    Some(Ref::Vgw(g)) => RouteTarget::VpnGateway(g),
                    Some(_) => {
                        self.warn(it.file, &rt_id, "UnsupportedRouteTarget", format!("route {dest_text} -> {target_id}: vpcsim does not simulate this target from snapshots yet; the route acts as a blackhole"));
                        RouteTarget::Missing(target_id.to_string())
                    }
                    None => {
                        let supported = [
                            "igw-", "eigw-", "nat-", "eni-", "i-", "pcx-", "tgw-", "vgw-",
                        ]
                        .iter()
                        .any(|p| target_id.starts_with(p));
                        if supported {
                            self.error(
                                it.file,
                                &rt_id,
                                "UnresolvedReference",
                                format!(
                                    "route {dest_text}: {field} {target_id} is not in the snapshot"
                                ),
                            );
                            continue;
                        }
                        self.warn(it.file, &rt_id, "UnsupportedRouteTarget", format!("route {dest_text} -> {target_id}: vpcsim does not simulate this target from snapshots yet; the route acts as a blackhole"));
                        RouteTarget::Missing(target_id.to_string())
                    }
                }
            };
            if let Some(pl) = s(r, "DestinationPrefixListId") {
                match self.by_id.get(pl).copied() {
                    Some(Ref::PrefixList(p)) => self.model.prefix_list_routes.push(PrefixListRoute {
                        origin,
                        route_table: rt,
                        prefix_list: p,
                        target,
                    }),
                    _ => self.warn(it.file, &rt_id, "UnresolvedReference", format!("route to prefix list {pl}: the list is not in the snapshot (add `aws ec2 describe-prefix-lists` output); the route is left out")),
                }
                continue;
            }
            let destination = match dest_text.parse::<IpNet>() {
                Ok(d) => d.trunc(),
                Err(e) => {
                    self.error(
                        it.file,
                        &rt_id,
                        "InvalidParameterValue",
                        format!("route destination {dest_text:?}: {e}"),
                    );
                    continue;
                }
            };
            self.model.route_tables[rt].routes.push(Route {
                origin,
                destination,
                target,
            });
        }
    }
}

fn nacl_entry(e: &Value) -> Result<Option<NaclEntry>, String> {
    let number = int(e, "RuleNumber").ok_or("no RuleNumber")?;
    if number == 32767 || number == 32768 {
        // The `*` rules every ACL ends with (32768 for IPv6); the data plane applies them.
        return Ok(None);
    }
    if !(1..=32766).contains(&number) {
        return Err(format!("RuleNumber {number} is outside 1..32766"));
    }
    let proto = s(e, "Protocol")
        .map(str::to_string)
        .or_else(|| int(e, "Protocol").map(|n| n.to_string()))
        .ok_or("no Protocol")?;
    let protocol = parse_protocol(&proto)?;
    let allow = match s(e, "RuleAction").map(str::to_ascii_lowercase).as_deref() {
        Some("allow") => true,
        Some("deny") => false,
        other => return Err(format!("RuleAction {other:?} is neither allow nor deny")),
    };
    let cidr = match (s(e, "CidrBlock"), s(e, "Ipv6CidrBlock")) {
        (Some(c), _) => IpNet::V4(
            c.parse::<Ipv4Net>()
                .map_err(|x| format!("CidrBlock {c:?}: {x}"))?
                .trunc(),
        ),
        (None, Some(c)) => IpNet::V6(
            c.parse::<Ipv6Net>()
                .map_err(|x| format!("Ipv6CidrBlock {c:?}: {x}"))?
                .trunc(),
        ),
        (None, None) => return Err("no CidrBlock".into()),
    };
    let mut ports = (0u16, 65535u16);
    if matches!(protocol, Some(6) | Some(17)) {
        if let Some(r) = e.get("PortRange") {
            let (f, t) = (int(r, "From").unwrap_or(0), int(r, "To").unwrap_or(65535));
            if !(0..=65535).contains(&f) || !(0..=65535).contains(&t) || f > t {
                return Err(format!("{f}-{t} is not a valid port range"));
            }
            ports = (f as u16, t as u16);
        }
    }
    let (mut icmp_type, mut icmp_code) = (None, None);
    if matches!(protocol, Some(1) | Some(58)) {
        if let Some(icmp) = e.get("IcmpTypeCode") {
            let f = |v: Option<i64>| v.filter(|v| (0..=255).contains(v)).map(|v| v as u8);
            icmp_type = f(int(icmp, "Type"));
            icmp_code = f(int(icmp, "Code"));
        }
    }
    Ok(Some(NaclEntry {
        origin: None,
        egress: e.get("Egress").and_then(Value::as_bool) == Some(true),
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
    }))
}
