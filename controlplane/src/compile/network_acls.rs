//! Network ACLs: each entry keeps its own resource, so a trace names the rule that decided.

use super::res;
use crate::model::Model;
use vpcsim_dataplane::tables::nacl::NetworkAcl;
use vpcsim_dataplane::topology::Topology;

/// Every network ACL, its entries split by direction.
pub(super) fn network_acls(model: &Model, topo: &mut Topology) {
    for acl in &model.network_acls {
        let r = res(topo, &acl.origin);
        let mut compiled = NetworkAcl {
            res: r,
            ingress: vec![],
            egress: vec![],
        };
        for e in &acl.entries {
            let mut entry = e.entry.clone();
            entry.res = e.origin.as_ref().map(|o| res(topo, o));
            if e.egress {
                compiled.egress.push(entry);
            } else {
                compiled.ingress.push(entry);
            }
        }
        topo.network_acls.push(compiled);
    }
}
