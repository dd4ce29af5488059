//! Compile the [`Model`] into the data plane's [`Topology`], one module per resource family.
//!
//! The families run in a fixed order because every resource gets the next [`ResId`] as it is
//! compiled, and table indices must equal the model's (see [`crate::fix`]). Load balancers come
//! after [`Topology::finish`], which numbers zones and compiles security groups; target health
//! comes last of all, because a health check is a packet through the finished pipeline.

mod alb;
mod dns;
mod edges;
mod endpoints;
mod gateways;
mod gwlb;
mod interfaces;
mod network_acls;
mod network_firewall;
mod nlb;
mod peering;
mod route_tables;
mod security_groups;
mod summary;
mod vpc;
mod waf;

pub use summary::{cidr_summary, SubnetSummary, VpcSummary};

use crate::model::{Model, Origin};
use vpcsim_dataplane::topology::{ResId, Topology};

/// The data plane's resource for a model resource: its name in traces, captures and flow logs.
fn res(topo: &mut Topology, o: &Origin) -> ResId {
    topo.add_resource(&o.logical_id, &o.id, &o.kind, o.name.clone())
}

/// FNV-1a of an AWS id: stable across runs, for the values the data plane derives from ids.
fn fnv1a(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// [`res`] for each origin, in order.
fn resources<'m>(topo: &mut Topology, origins: impl Iterator<Item = &'m Origin>) -> Vec<ResId> {
    origins.map(|o| res(topo, o)).collect()
}

/// Build the data-plane tables. The model must have loaded without errors for the result to
/// mean anything; it never panics on a partial model.
pub fn compile(model: &Model) -> Topology {
    let mut topo = Topology::new();
    vpc::vpcs(model, &mut topo);
    network_acls::network_acls(model, &mut topo);
    let prefix_lists = resources(&mut topo, model.prefix_lists.iter().map(|l| &l.origin));
    security_groups::security_groups(model, &mut topo, &prefix_lists);
    gateways::internet_gateways(model, &mut topo);
    gateways::egress_only_internet_gateways(model, &mut topo);
    peering::peering_connections(model, &mut topo);
    vpc::subnets(model, &mut topo);
    // Instances name their primary interface; secondary and standalone interfaces name themselves.
    let owners = interfaces::Owners {
        instances: resources(&mut topo, model.instances.iter().map(|i| &i.origin)),
        nat_gateways: resources(&mut topo, model.nat_gateways.iter().map(|n| &n.origin)),
        load_balancers: resources(&mut topo, model.load_balancers.iter().map(|lb| &lb.origin)),
        app_load_balancers: resources(
            &mut topo,
            model.alb.load_balancers.iter().map(|lb| &lb.origin),
        ),
        vpc_endpoints: endpoints::vpc_endpoints(model, &mut topo, &prefix_lists),
    };
    interfaces::network_interfaces(model, &mut topo, &owners);
    gateways::nat_gateways(model, &mut topo, &owners.nat_gateways);
    route_tables::route_tables(model, &mut topo, &prefix_lists);
    edges::transit_gateways(model, &mut topo);
    edges::vpn(model, &mut topo);
    topo.finish();
    nlb::network_load_balancers(model, &mut topo, &owners.load_balancers);
    gwlb::gateway_load_balancers(model, &mut topo);
    waf::web_acls(model, &mut topo);
    alb::application_load_balancers(model, &mut topo, &owners.app_load_balancers);
    network_firewall::network_firewalls(model, &mut topo);
    // The Gateway Load Balancers' node interfaces join the address maps.
    topo.finish();
    vpcsim_dataplane::pipeline::health::check(&mut topo);
    // Without a hosts file every application is assumed up; `--hosts` computes it again.
    vpcsim_dataplane::alb::health::check(
        &mut topo,
        &vpcsim_dataplane::alb::hosts::Hosts::assumed_up(),
    );
    dns::dns(model, &mut topo);
    topo
}
