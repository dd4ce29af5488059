//! AWS WAF web ACLs into the topology (`topology.waf`), each associated resource by its id so a
//! load balancer finds its web ACL with [`vpcsim_dataplane::waf::Wafs::web_acl_of`].

use crate::model::Model;
use vpcsim_dataplane::topology::Topology;

pub(super) fn web_acls(model: &Model, topo: &mut Topology) {
    let w = &model.waf;
    for acl in &w.web_acls {
        let id = super::res(topo, &acl.origin);
        topo.waf.resources.push(id);
        topo.waf.web_acls.push(acl.acl.clone());
    }
    topo.waf.associations = w
        .associations
        .iter()
        .map(|a| (a.resource_id.clone(), a.web_acl))
        .collect();
}
