//! `describe-prefix-lists`, with the fields of `describe-managed-prefix-lists` so a
//! customer-managed list keeps its owner and size.

use super::Exporter;
use crate::model::*;
use serde_json::{json, Value};

impl Exporter<'_> {
    pub(super) fn prefix_list(&self, p: &PrefixList) -> Value {
        let mut v = json!({
            "PrefixListId": p.origin.id,
            "PrefixListName": p.aws_managed.clone().unwrap_or_else(|| p.origin.logical_id.clone()),
            "Cidrs": p.entries.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            "AddressFamily": if p.ipv6 { "IPv6" } else { "IPv4" },
            "MaxEntries": p.max_entries,
            "OwnerId": if p.aws_managed.is_some() { "AWS".to_string() } else { self.account(&p.origin) },
        });
        if p.aws_managed.is_none() {
            self.tags(&mut v, &p.origin, "Tags");
        }
        v
    }
}
