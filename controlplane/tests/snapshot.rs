//! The describe-* snapshot loader and exporter on the model: a template exported and loaded back
//! keeps every id, address and association; names come from tags; bad files give coded errors.

use std::path::{Path, PathBuf};
use vpcsim_controlplane::model::{Model, RouteTarget, VpcEndpointKind};
use vpcsim_controlplane::snapshot::{export, load_snapshot};
use vpcsim_controlplane::{load_files, LoadOptions, Loaded, Severity};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// A scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("vpcsim-snapshot-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.0.join(name), text).unwrap();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn round_trip(template: &str) -> (Model, Loaded) {
    let loaded = load_files(&[examples().join(template)], &LoadOptions::default());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let dir = Scratch::new(template);
    let (files, _) = export(&loaded.model);
    for f in &files {
        dir.write(&f.name, &serde_json::to_string(&f.json).unwrap());
    }
    let back = load_snapshot(std::slice::from_ref(&dir.0), &LoadOptions::default());
    (loaded.model, back)
}

fn target_id(m: &Model, t: &RouteTarget) -> String {
    match t {
        RouteTarget::InternetGateway(g) => m.internet_gateways[*g].origin.id.clone(),
        RouteTarget::EgressOnlyInternetGateway(g) => m.egress_only_igws[*g].origin.id.clone(),
        RouteTarget::NatGateway(n) => m.nat_gateways[*n].origin.id.clone(),
        RouteTarget::NetworkInterface(e) => m.enis[*e].origin.id.clone(),
        RouteTarget::Peering(p) => m.peerings[*p].origin.id.clone(),
        RouteTarget::TransitGateway(g) => m.transit_gateways[*g].origin.id.clone(),
        RouteTarget::VpnGateway(g) => m.vpn_gateways[*g].origin.id.clone(),
        RouteTarget::Missing(id) => format!("missing {id}"),
    }
}

#[test]
fn export_and_load_keep_ids_addresses_and_associations() {
    for template in [
        "two-tier.yaml",
        "hub-and-spoke.yaml",
        "vpn.yaml",
        "endpoints.yaml",
        "ingress-inspection.yaml",
        "nlb.yaml",
    ] {
        let (a, loaded) = round_trip(template);
        assert!(!loaded.has_errors(), "{template}: {:?}", loaded.diagnostics);
        let b = &loaded.model;
        let vpcs = |m: &Model| -> Vec<_> {
            m.vpcs
                .iter()
                .map(|v| (v.origin.id.clone(), v.cidrs_v4.clone()))
                .collect()
        };
        assert_eq!(vpcs(&a), vpcs(b), "{template}");
        let subnets = |m: &Model| -> Vec<_> {
            m.subnets
                .iter()
                .map(|s| {
                    let rt = s.route_table.map(|r| m.route_tables[r].origin.id.clone());
                    (
                        s.origin.id.clone(),
                        s.cidr_v4,
                        s.availability_zone.clone(),
                        rt,
                    )
                })
                .collect()
        };
        assert_eq!(subnets(&a), subnets(b), "{template}");
        let enis = |m: &Model| -> Vec<_> {
            let mut v: Vec<_> = m
                .enis
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let public: Vec<_> =
                        e.private_v4.iter().map(|p| m.public_ip_of(i, *p)).collect();
                    let groups: Vec<_> = e
                        .security_groups
                        .iter()
                        .map(|g| m.security_groups[*g].origin.id.clone())
                        .collect();
                    (
                        e.origin.id.clone(),
                        e.private_v4.clone(),
                        public,
                        groups,
                        e.source_dest_check,
                    )
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(enis(&a), enis(b), "{template}");
        let routes = |m: &Model| -> Vec<_> {
            let mut v: Vec<_> = m
                .route_tables
                .iter()
                .flat_map(|rt| {
                    rt.routes.iter().map(move |r| {
                        (rt.origin.id.clone(), r.destination, target_id(m, &r.target))
                    })
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(routes(&a), routes(b), "{template}");
        let sgs = |m: &Model| -> Vec<_> {
            m.security_groups
                .iter()
                .map(|g| (g.origin.id.clone(), g.ingress.len(), g.egress.len()))
                .collect()
        };
        assert_eq!(sgs(&a), sgs(b), "{template}");
        let tgw = |m: &Model| -> Vec<_> {
            m.tgw_attachments
                .iter()
                .map(|t| {
                    let assoc = t
                        .association
                        .map(|r| m.tgw_route_tables[r].origin.id.clone());
                    let props: Vec<_> = t
                        .propagations
                        .iter()
                        .map(|r| m.tgw_route_tables[*r].origin.id.clone())
                        .collect();
                    (t.origin.id.clone(), assoc, props, t.appliance_mode)
                })
                .collect()
        };
        assert_eq!(tgw(&a), tgw(b), "{template}");
        let vpn = |m: &Model| -> Vec<_> {
            m.vpn_connections
                .iter()
                .map(|c| (c.origin.id.clone(), c.static_routes_only, c.prefixes(m)))
                .collect()
        };
        assert_eq!(vpn(&a), vpn(b), "{template}");
        let endpoints = |m: &Model| -> Vec<_> {
            m.vpc_endpoints
                .iter()
                .map(|e| {
                    let parts: Vec<String> = match &e.kind {
                        VpcEndpointKind::Gateway {
                            route_tables,
                            prefix_list,
                        } => route_tables
                            .iter()
                            .map(|r| m.route_tables[*r].origin.id.clone())
                            .chain([m.prefix_lists[*prefix_list].origin.id.clone()])
                            .collect(),
                        VpcEndpointKind::Interface { subnets, enis, .. } => subnets
                            .iter()
                            .map(|x| m.subnets[*x].origin.id.clone())
                            .chain(enis.iter().map(|x| m.enis[*x].origin.id.clone()))
                            .collect(),
                    };
                    (e.origin.id.clone(), e.service_name.clone(), parts)
                })
                .collect()
        };
        assert_eq!(endpoints(&a), endpoints(b), "{template}");
        let lists = |m: &Model| -> Vec<_> {
            m.prefix_lists
                .iter()
                .map(|p| {
                    (
                        p.origin.id.clone(),
                        p.entries.clone(),
                        p.aws_managed.clone(),
                        p.max_entries,
                    )
                })
                .collect()
        };
        assert_eq!(lists(&a), lists(b), "{template}");
        let balancers = |m: &Model| -> Vec<_> {
            m.load_balancers
                .iter()
                .map(|lb| {
                    let nodes: Vec<_> = lb
                        .nodes
                        .iter()
                        .map(|e| (m.enis[*e].origin.id.clone(), m.enis[*e].private_v4.clone()))
                        .collect();
                    (
                        lb.origin.id.clone(),
                        lb.name.clone(),
                        lb.internet_facing,
                        lb.cross_zone,
                        nodes,
                    )
                })
                .collect()
        };
        assert_eq!(balancers(&a), balancers(b), "{template}");
        let groups = |m: &Model| -> Vec<_> {
            m.target_groups
                .iter()
                .map(|g| {
                    (
                        g.origin.id.clone(),
                        g.protocol,
                        g.port,
                        g.health_check.clone(),
                        g.preserve_client_ip,
                        g.cross_zone,
                        g.targets.clone(),
                    )
                })
                .collect()
        };
        assert_eq!(groups(&a), groups(b), "{template}");
        let listeners = |m: &Model| -> Vec<_> {
            m.listeners
                .iter()
                .map(|l| {
                    (
                        l.origin.id.clone(),
                        l.port,
                        l.protocol,
                        m.target_groups[l.target_group].origin.id.clone(),
                    )
                })
                .collect()
        };
        assert_eq!(listeners(&a), listeners(b), "{template}");
    }
}

#[test]
fn resources_are_named_by_id_with_the_name_tag_beside() {
    let dir = Scratch::new("names");
    dir.write(
        "a.json",
        r#"{"Vpcs": [
            {"VpcId": "vpc-1", "CidrBlock": "10.1.0.0/16", "Tags": [{"Key": "Name", "Value": "prod"}]},
            {"VpcId": "vpc-2", "CidrBlock": "10.2.0.0/16", "Tags": [{"Key": "Name", "Value": "prod"}]},
            {"VpcId": "vpc-3", "CidrBlock": "10.3.0.0/16"}
        ]}"#,
    );
    let l = load_snapshot(std::slice::from_ref(&dir.0), &LoadOptions::default());
    let names: Vec<_> = l
        .model
        .vpcs
        .iter()
        .map(|v| (v.origin.logical_id.as_str(), v.origin.name.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("vpc-1", Some("prod")),
            ("vpc-2", Some("prod")),
            ("vpc-3", None)
        ]
    );
    // Without their route tables, ACLs and groups in the snapshot, VPCs get AWS's defaults.
    assert!(l
        .diagnostics
        .iter()
        .all(|d| d.severity == Severity::Warning && d.code == "InvalidSnapshot.MissingDefault"));
}

#[test]
fn bad_files_give_coded_errors_and_loading_goes_on() {
    let dir = Scratch::new("bad");
    dir.write(
        "vpcs.json",
        r#"{"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.1.0.0/16"}]}"#,
    );
    dir.write("broken.json", r#"{"Subnets": ["#);
    dir.write("list.json", r#"[1, 2]"#);
    dir.write(
        "zz-dup.json",
        r#"{"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.9.0.0/16"}]}"#,
    );
    dir.write(
        "subnets.json",
        r#"{"Subnets": [
            {"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.1.1.0/24"},
            {"SubnetId": "subnet-2", "VpcId": "vpc-404", "CidrBlock": "10.1.2.0/24"},
            {"SubnetId": "subnet-3", "VpcId": "vpc-1", "CidrBlock": "10.7.0.0/24"}
        ]}"#,
    );
    let l = load_snapshot(std::slice::from_ref(&dir.0), &LoadOptions::default());
    let find = |file: &str, id: Option<&str>, code: &str| {
        l.diagnostics
            .iter()
            .find(|d| d.file.ends_with(file) && d.logical_id.as_deref() == id && d.code == code)
    };
    assert!(
        find("broken.json", None, "InvalidSnapshot.Json").is_some(),
        "{:?}",
        l.diagnostics
    );
    assert!(
        find("list.json", None, "InvalidSnapshot.NotDescribeOutput").is_some(),
        "{:?}",
        l.diagnostics
    );
    let dup = find("zz-dup.json", Some("vpc-1"), "InvalidSnapshot.Duplicate").unwrap();
    assert_eq!(dup.severity, Severity::Warning);
    // A partial export: the subnet of an absent VPC is skipped with a warning.
    let missing = find(
        "subnets.json",
        Some("subnet-2"),
        "UnresolvedReference.Parent",
    )
    .unwrap();
    assert!(missing.message.contains("vpc-404"), "{missing:?}");
    assert_eq!(missing.severity, Severity::Warning);
    assert!(find("subnets.json", Some("subnet-3"), "InvalidSubnet.Range").is_some());
    // The good subnet is there.
    assert_eq!(l.model.subnets.len(), 1);
    assert_eq!(l.model.vpcs[0].cidrs_v4[0].to_string(), "10.1.0.0/16");
}

#[test]
fn missing_directory_is_an_error() {
    let l = load_snapshot(
        &[PathBuf::from("/nonexistent/vpcsim-snapshot")],
        &LoadOptions::default(),
    );
    assert_eq!(l.diagnostics[0].code, "InvalidSnapshot.Directory");
}
