//! `describe-addresses`.

use super::{derived, Exporter};
use crate::model::*;
use serde_json::{json, Value};

impl Exporter<'_> {
    pub(super) fn address(&self, a: &Eip) -> Value {
        let m = self.m;
        let mut out = json!({
            "AllocationId": a.allocation_id,
            "PublicIp": a.public_ip.to_string(),
            "Domain": "vpc",
        });
        if let Some((eni, private)) = a.association {
            let e = &m.enis[eni];
            out["NetworkInterfaceId"] = json!(e.origin.id);
            out["PrivateIpAddress"] = json!(private.to_string());
            out["AssociationId"] = json!(derived("eipassoc", &a.allocation_id));
            out["NetworkInterfaceOwnerId"] = json!(self.account(&e.origin));
            if let EniOwner::Instance(i, _) = e.owner {
                out["InstanceId"] = json!(m.instances[i].origin.id);
            }
        }
        self.tags(&mut out, &a.origin, "Tags");
        out
    }
}
