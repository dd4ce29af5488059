//! Prefix lists from `describe-prefix-lists` or `describe-managed-prefix-lists`.

use super::{int, list, s, Item, Reader, Ref};
use crate::model::*;
use ipnet::IpNet;

impl Reader {
    pub(super) fn add_prefix_list(&mut self, it: &Item) {
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
}
