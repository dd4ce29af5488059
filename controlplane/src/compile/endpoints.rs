//! VPC endpoints of type Gateway and Interface (Gateway Load Balancer endpoints are in `gwlb`).

use super::res;
use crate::model::{Model, VpcEndpointKind};
use vpcsim_dataplane::topology::endpoint::{EndpointKind, VpcEndpoint};
use vpcsim_dataplane::topology::{ResId, Topology};

/// VPC endpoints, in model order (so route targets and interfaces index them alike); returns
/// each endpoint's resource, the owner of its interfaces.
pub(super) fn vpc_endpoints(model: &Model, topo: &mut Topology, pl_res: &[ResId]) -> Vec<ResId> {
    let mut out = Vec::with_capacity(model.vpc_endpoints.len());
    for ep in &model.vpc_endpoints {
        let r = res(topo, &ep.origin);
        let (kind, prefix_list) = match &ep.kind {
            VpcEndpointKind::Gateway { prefix_list, .. } => {
                (EndpointKind::Gateway, Some(pl_res[*prefix_list]))
            }
            VpcEndpointKind::Interface { .. } => (EndpointKind::Interface, None),
        };
        topo.vpc_endpoints.push(VpcEndpoint {
            res: r,
            vpc: ep.vpc.into(),
            kind,
            service_name: ep.service_name.clone(),
            prefix_list,
        });
        out.push(r);
    }
    out
}
