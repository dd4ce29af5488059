//! Attachment resources whose CloudFormation equivalent is an item of a list property of the
//! resource they attach to: collected before anything is translated, added to that resource.

use super::refs::Failed;
use super::*;

/// Terraform types that only add to another resource's list.
pub(super) const FOLDED_TYPES: &[&str] = &[
    "aws_network_interface_sg_attachment",
    "aws_ec2_managed_prefix_list_entry",
    "aws_vpc_endpoint_route_table_association",
    "aws_vpc_endpoint_subnet_association",
    "aws_lb_target_group_attachment",
];

impl Tx {
    /// Collect what an attachment resource adds, under its target's address.
    pub(super) fn collect_folded(&mut self, r: &Res) -> Result<(), Failed> {
        let (target_key, target_type, prop, item) = match r.type_.as_str() {
            "aws_network_interface_sg_attachment" => (
                "network_interface_id",
                "aws_network_interface",
                "GroupSet",
                self.required_reference(r, "security_group_id")?,
            ),
            "aws_ec2_managed_prefix_list_entry" => {
                let cidr = self.required(r, "cidr")?.clone();
                let mut e = Map::new();
                e.insert("Cidr".into(), cidr);
                copy(&mut e, r, "description", "Description");
                (
                    "prefix_list_id",
                    "aws_ec2_managed_prefix_list",
                    "Entries",
                    Value::Object(e),
                )
            }
            "aws_vpc_endpoint_route_table_association" => (
                "vpc_endpoint_id",
                "aws_vpc_endpoint",
                "RouteTableIds",
                self.required_reference(r, "route_table_id")?,
            ),
            "aws_vpc_endpoint_subnet_association" => (
                "vpc_endpoint_id",
                "aws_vpc_endpoint",
                "SubnetIds",
                self.required_reference(r, "subnet_id")?,
            ),
            "aws_lb_target_group_attachment" => {
                // An instance of the file, or an IP address (target type ip).
                let id = match self.reference_or_literal(r, "target_id")? {
                    Some(id) => id,
                    None => self.required_reference(r, "target_id")?,
                };
                let mut t = Map::new();
                t.insert("Id".into(), id);
                copy(&mut t, r, "port", "Port");
                (
                    "target_group_arn",
                    "aws_lb_target_group",
                    "Targets",
                    Value::Object(t),
                )
            }
            _ => return Ok(()),
        };
        let target = self.required_reference(r, target_key)?;
        let address = target
            .get("Ref")
            .and_then(Value::as_str)
            .filter(|a| {
                self.by_address
                    .get(*a)
                    .is_some_and(|&i| self.resources[i].type_ == target_type)
            })
            .map(str::to_string);
        let Some(address) = address else {
            return Err(self.error(
                r,
                "InvalidTerraform.UnsupportedAttachment",
                format!("{target_key}: vpcsim attaches only to {target_type} resources of the same file"),
            ));
        };
        let items = self.folded.entry((address, prop)).or_default();
        if !items.contains(&item) {
            items.push(item);
        }
        Ok(())
    }

    /// What attachments add to property `prop` of `r`.
    pub(super) fn take_folded(&mut self, r: &Res, prop: &'static str) -> Vec<Value> {
        self.folded
            .remove(&(r.address.clone(), prop))
            .unwrap_or_default()
    }

    /// A list property from the resource's own references plus what attachments add, without
    /// repeats (a refreshed state lists the attached items on the resource too).
    pub(super) fn list_with_folded(
        &mut self,
        r: &Res,
        key: &str,
        prop: &'static str,
    ) -> Result<Vec<Value>, Failed> {
        let mut list = self.reference_list(r, &r.attr(key))?;
        for item in self.take_folded(r, prop) {
            if !list.contains(&item) {
                list.push(item);
            }
        }
        Ok(list)
    }
}
