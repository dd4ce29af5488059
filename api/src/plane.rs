//! Each region's data plane: the topology compiled from the region's stored documents, swapped
//! atomically after every change, and the connection-tracking state that outlives the swaps.
//!
//! A region comes to life the first time a request names it, like a new AWS account's region:
//! it gets its three zones (`<region>a`, `b`, `c`) and its default VPC (172.31.0.0/16, one
//! default subnet per zone, an internet gateway, the main route table, the default network ACL
//! and security group), written to the store as the describe-* documents `aws ec2` would print.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use arc_swap::ArcSwap;
use serde_json::{json, Value};
use vpcsim_controlplane::load::{Diagnostic, Severity};
use vpcsim_controlplane::snapshot::{self, SnapshotFile};
use vpcsim_controlplane::{compile, LoadOptions, Model};
use vpcsim_dataplane::{State, StateConfig, Topology};

use crate::error::ApiError;
use crate::store::{Store, Tx};

/// A region's network as the data plane sees it at one moment.
#[derive(Debug)]
pub struct Compiled {
    /// The model the region's documents load into (explanations and fixes read it).
    pub model: Model,
    /// The compiled topology packets run through.
    pub topology: Topology,
    /// What the loader found wrong in the stored documents.
    pub diagnostics: Vec<Diagnostic>,
}

/// One region's data plane.
#[derive(Debug)]
pub struct RegionPlane {
    /// The region's name.
    pub region: String,
    current: ArcSwap<Compiled>,
    /// Connection tracking, NAT and flow state: separate from the topology (DESIGN.md), so
    /// tracked connections survive every swap.
    pub state: Mutex<State>,
}

impl RegionPlane {
    /// The topology in force now; a rebuild in progress never blocks this.
    pub fn current(&self) -> Arc<Compiled> {
        self.current.load_full()
    }
}

/// Every region's data plane, and how to (re)build one.
#[derive(Debug)]
pub struct Planes {
    account: String,
    regions: RwLock<HashMap<String, Arc<RegionPlane>>>,
    /// Serialises rebuilds of one region, so a slow rebuild cannot overwrite a newer one.
    rebuilding: Mutex<()>,
}

/// The zones of a region: `<region>a`, `b` and `c`.
pub fn zones(region: &str) -> Vec<String> {
    ["a", "b", "c"]
        .iter()
        .map(|z| format!("{region}{z}"))
        .collect()
}

/// Loader options for a region of this server: its account, its region, its three zones.
pub fn load_options(account: &str, region: &str) -> LoadOptions {
    LoadOptions {
        region: region.to_string(),
        account_id: account.to_string(),
        zones: BTreeMap::from([(region.to_string(), zones(region))]),
        ..LoadOptions::default()
    }
}

/// The field that identifies one item of a describe-* list, per top-level key.
pub fn id_field(kind: &str) -> &'static str {
    match kind {
        "Vpcs" => "VpcId",
        "Subnets" => "SubnetId",
        "RouteTables" => "RouteTableId",
        "NetworkAcls" => "NetworkAclId",
        "SecurityGroups" => "GroupId",
        "Reservations" => "ReservationId",
        "NetworkInterfaces" => "NetworkInterfaceId",
        "InternetGateways" => "InternetGatewayId",
        "EgressOnlyInternetGateways" => "EgressOnlyInternetGatewayId",
        "NatGateways" => "NatGatewayId",
        "Addresses" => "AllocationId",
        "VpcPeeringConnections" => "VpcPeeringConnectionId",
        "PrefixLists" => "PrefixListId",
        "TransitGateways" => "TransitGatewayId",
        "TransitGatewayRouteTables"
        | "TransitGatewayPropagations"
        | "TransitGatewayStaticRoutes" => "TransitGatewayRouteTableId",
        "TransitGatewayVpcAttachments"
        | "TransitGatewayAttachments"
        | "TransitGatewayPeeringAttachments" => "TransitGatewayAttachmentId",
        "VpnGateways" => "VpnGatewayId",
        "CustomerGateways" => "CustomerGatewayId",
        "VpnConnections" => "VpnConnectionId",
        "VpcEndpoints" => "VpcEndpointId",
        "LoadBalancers" | "LoadBalancerListeners" | "LoadBalancerAttributes" => "LoadBalancerArn",
        "TargetGroups" | "TargetGroupAttributes" | "LoadBalancerTargetHealth" => "TargetGroupArn",
        "Listeners" => "ListenerArn",
        _ => "Id",
    }
}

/// The describe-* documents of a model, as `(kind, id, document)`: what `-t` seeding and
/// CloudFormation stacks store.
pub fn model_documents(model: &Model) -> Vec<(String, String, Value)> {
    let (files, _) = snapshot::export(model);
    let mut out = Vec::new();
    for f in files {
        let Some(kind) = f.name.strip_suffix(".json") else {
            continue;
        };
        let Some(items) = f.json.get(kind).and_then(Value::as_array) else {
            continue;
        };
        if kind == "ListenerRules" {
            out.extend(stored_rules(items));
            continue;
        }
        for (i, item) in items.iter().enumerate() {
            let id = item
                .get(id_field(kind))
                .and_then(Value::as_str)
                .map_or_else(|| format!("{kind}-{i}"), str::to_string);
            out.push((kind.to_string(), id, item.clone()));
        }
    }
    out
}

/// ELBv2 keeps each rule as its own document (`Rules`, the describe-rules entry with its
/// `ListenerArn`), as `DescribeRules` answers by rule ARN too.
const LISTENER_RULES_STORED: &str = "Rules";

/// The stored rules as the snapshot loader reads them: `ListenerRules`, one describe-rules
/// output per listener wrapped with its `ListenerArn`.
fn listener_rules(rules: Vec<Value>) -> Value {
    let mut by_listener: Vec<(String, Vec<Value>)> = Vec::new();
    for mut r in rules {
        let listener = r
            .as_object_mut()
            .and_then(|m| m.remove("ListenerArn"))
            .and_then(|l| l.as_str().map(str::to_string))
            .unwrap_or_default();
        match by_listener.iter_mut().find(|(l, _)| *l == listener) {
            Some((_, list)) => list.push(r),
            None => by_listener.push((listener, vec![r])),
        }
    }
    let wrapped: Vec<Value> = by_listener
        .into_iter()
        .map(|(l, rules)| json!({"ListenerArn": l, "Rules": rules}))
        .collect();
    json!({ "ListenerRules": wrapped })
}

/// An export's `ListenerRules` (per listener) as the documents ELBv2 stores (one per rule).
fn stored_rules(wrapped: &[Value]) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for w in wrapped {
        let listener = w.get("ListenerArn").cloned().unwrap_or(Value::Null);
        for r in w
            .get("Rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut r = r.clone();
            r["ListenerArn"] = listener.clone();
            let id = r["RuleArn"].as_str().unwrap_or_default().to_string();
            out.push((LISTENER_RULES_STORED.to_string(), id, r));
        }
    }
    out
}

/// Loads a region's documents into a model, as the snapshot loader loads a directory.
pub fn load_region(
    tx: &Tx<'_>,
    account: &str,
    region: &str,
) -> Result<(Model, Vec<Diagnostic>), ApiError> {
    let mut files: Vec<SnapshotFile> = tx
        .list_all(region)?
        .into_iter()
        .filter(|(kind, _)| snapshot::SUPPORTED_KEYS.iter().any(|(k, _)| k == kind))
        .map(|(kind, docs)| SnapshotFile {
            path: PathBuf::from(format!("aws_configs/{account}/{region}/{kind}.json")),
            bytes: json!({ kind.as_str(): docs }).to_string().into_bytes(),
        })
        .collect();
    files.push(SnapshotFile {
        path: PathBuf::from(format!("aws_configs/{account}/{region}/ListenerRules.json")),
        bytes: listener_rules(tx.list(region, LISTENER_RULES_STORED)?)
            .to_string()
            .into_bytes(),
    });
    for (kind, doc) in crate::plane_dns::route53_documents(tx, region)? {
        files.push(SnapshotFile {
            path: PathBuf::from(format!("aws_configs/{account}/{region}/{kind}.json")),
            bytes: doc.to_string().into_bytes(),
        });
    }
    let loaded = snapshot::load_snapshot_files(&files, &load_options(account, region));
    Ok((loaded.model, loaded.diagnostics))
}

const INITIALISED: &str = "region-initialised:";

/// Creates a region's default VPC in the store the first time the region is used; `true` when
/// this call created it.
pub fn ensure_default_vpc(tx: &Tx<'_>, account: &str, region: &str) -> Result<bool, ApiError> {
    let key = format!("{INITIALISED}{region}");
    if tx.meta(&key)?.is_some() {
        return Ok(false);
    }
    // A seeded snapshot of a real account brings its own default VPC.
    if tx
        .list(region, "Vpcs")?
        .iter()
        .any(|v| v["IsDefault"] == true)
    {
        tx.put_meta(&key, "1")?;
        return Ok(false);
    }
    let opts = LoadOptions {
        default_vpc: true,
        ..load_options(account, region)
    };
    let loaded = vpcsim_controlplane::load(&[], &opts);
    if let Some(e) = loaded.errors().next() {
        return Err(ApiError::internal(format!(
            "creating the default VPC of {region}: {}",
            e.message
        )));
    }
    let mut docs = model_documents(&loaded.model);
    for (kind, _, doc) in &mut docs {
        // The default VPC's subnets are the defaults of their zones (where `RunInstances`
        // without a subnet launches).
        if kind == "Subnets" {
            doc["DefaultForAz"] = json!(true);
        }
    }
    crate::services::ec2::store_documents(tx, region, account, &docs)?;
    tx.put_meta(&key, "1")?;
    Ok(true)
}

impl Planes {
    /// No region yet.
    pub fn new(account: &str) -> Planes {
        Planes {
            account: account.to_string(),
            regions: RwLock::new(HashMap::new()),
            rebuilding: Mutex::new(()),
        }
    }

    /// The account this server simulates.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Every region that has a data plane, sorted.
    pub fn regions(&self) -> Vec<String> {
        let mut r: Vec<String> = self
            .regions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        r.sort();
        r
    }

    /// A region's data plane, built from the store (default VPC included) on first use.
    pub fn region(&self, store: &Store, region: &str) -> Result<Arc<RegionPlane>, ApiError> {
        if let Some(p) = self
            .regions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(region)
        {
            return Ok(Arc::clone(p));
        }
        store.write(|tx| ensure_default_vpc(tx, &self.account, region))?;
        let compiled = self.build(store, region)?;
        let mut regions = self.regions.write().unwrap_or_else(|p| p.into_inner());
        let plane = regions.entry(region.to_string()).or_insert_with(|| {
            Arc::new(RegionPlane {
                region: region.to_string(),
                current: ArcSwap::from_pointee(compiled),
                state: Mutex::new(State::new(StateConfig::default())),
            })
        });
        Ok(Arc::clone(plane))
    }

    /// Recompiles a region from its committed documents and swaps the new topology in.
    pub fn rebuild(&self, store: &Store, region: &str) -> Result<(), ApiError> {
        let plane = self.region(store, region)?;
        let _one_at_a_time = self.rebuilding.lock().unwrap_or_else(|p| p.into_inner());
        let compiled = self.build(store, region)?;
        plane.current.store(Arc::new(compiled));
        Ok(())
    }

    fn build(&self, store: &Store, region: &str) -> Result<Compiled, ApiError> {
        let (model, diagnostics) = store.read(|tx| load_region(tx, &self.account, region))?;
        let topology = compile(&model);
        Ok(Compiled {
            model,
            topology,
            diagnostics,
        })
    }
}

/// The errors among a region's diagnostics, as text (the health endpoint lists them).
pub fn error_lines(c: &Compiled) -> Vec<String> {
    c.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_region_has_a_default_vpc_with_a_subnet_per_zone() {
        let store = Store::open(None).unwrap();
        let planes = Planes::new("123456789012");
        let plane = planes.region(&store, "eu-west-3").unwrap();
        let c = plane.current();
        assert!(error_lines(&c).is_empty(), "{:?}", error_lines(&c));
        let vpcs = store.read(|t| t.list("eu-west-3", "Vpcs")).unwrap();
        assert_eq!(vpcs.len(), 1);
        assert_eq!(vpcs[0]["CidrBlock"], "172.31.0.0/16");
        assert_eq!(vpcs[0]["IsDefault"], true);
        let subnets = store.read(|t| t.list("eu-west-3", "Subnets")).unwrap();
        let mut zs: Vec<&str> = subnets
            .iter()
            .map(|s| s["AvailabilityZone"].as_str().unwrap())
            .collect();
        zs.sort();
        assert_eq!(zs, vec!["eu-west-3a", "eu-west-3b", "eu-west-3c"]);
        assert_eq!(c.model.subnets.len(), 3);
        // A second use finds the region ready and creates nothing more.
        planes.region(&store, "eu-west-3").unwrap();
        assert_eq!(
            store.read(|t| t.list("eu-west-3", "Vpcs")).unwrap().len(),
            1
        );
    }

    #[test]
    fn rebuild_swaps_the_topology_and_keeps_the_state() {
        let store = Store::open(None).unwrap();
        let planes = Planes::new("123456789012");
        let plane = planes.region(&store, "us-east-1").unwrap();
        let before = plane.current();
        let state_before: *const Mutex<State> = &plane.state;
        store
            .write(|t| {
                let mut vpc = t.list("us-east-1", "Vpcs")?.remove(0);
                vpc["VpcId"] = json!("vpc-0000000000000000b");
                vpc["IsDefault"] = json!(false);
                vpc["CidrBlock"] = json!("10.9.0.0/16");
                vpc["CidrBlockAssociationSet"][0]["CidrBlock"] = json!("10.9.0.0/16");
                t.put("us-east-1", "Vpcs", "vpc-0000000000000000b", &vpc)
            })
            .unwrap();
        planes.rebuild(&store, "us-east-1").unwrap();
        let plane = planes.region(&store, "us-east-1").unwrap();
        assert_eq!(plane.current().model.vpcs.len(), 2);
        assert_eq!(
            before.model.vpcs.len(),
            1,
            "readers keep the topology they loaded"
        );
        assert!(std::ptr::eq(state_before, &plane.state));
    }
}
