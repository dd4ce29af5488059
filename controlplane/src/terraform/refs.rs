//! References between resources: a known id mapped back to the resource of the file that has
//! it, or, in a plan where the id is known only after apply, the configuration expression's
//! `references` (`aws_vpc.main.id`, `var.vpc_id` through the module call, `aws_subnet.a[0]`).

use super::read::{config_module, has_unknown, Res};
use super::Tx;
use serde_json::{json, Value};

/// Terraform attributes holding the id of something a resource creates besides itself, and
/// the attribute (`Fn::GetAtt`) by which the model builder names it.
pub(crate) const ATTRIBUTE_IDS: &[(&str, &str, &str)] = &[
    (
        "aws_vpn_connection",
        "transit_gateway_attachment_id",
        "TransitGatewayAttachmentId",
    ),
    // What Route 53 aliases name a load balancer by.
    ("aws_lb", "dns_name", "DNSName"),
];

/// Accepter resources, the attribute naming what they accept and its type: an accepter's id
/// is its requester's, and references to it name the requester.
pub(crate) const ACCEPTERS: &[(&str, &str, &str)] = &[
    (
        "aws_vpc_peering_connection_accepter",
        "vpc_peering_connection_id",
        "aws_vpc_peering_connection",
    ),
    (
        "aws_ec2_transit_gateway_peering_attachment_accepter",
        "transit_gateway_attachment_id",
        "aws_ec2_transit_gateway_peering_attachment",
    ),
];

/// What a reference names: a resource (index into the file's resources) and, for an
/// attribute id, the attribute.
type Target = (usize, Option<&'static str>);

/// A resource that could not be translated (the error is already reported).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Failed;

/// Where a reference attribute is: its Terraform path, known value, unknown marker and
/// configuration expression.
pub(crate) struct Attr<'r> {
    /// The attribute path for messages: `vpc_id`, `ingress[0].security_groups`.
    pub name: String,
    pub value: Option<&'r Value>,
    pub unknown: Option<&'r Value>,
    pub expr: Option<&'r Value>,
}

impl Attr<'_> {
    /// An attribute without a value (for tests and names).
    #[cfg(test)]
    pub fn plain(name: &str) -> Attr<'static> {
        Attr {
            name: name.into(),
            value: None,
            unknown: None,
            expr: None,
        }
    }
}

impl Res {
    /// A top-level attribute.
    pub fn attr(&self, key: &str) -> Attr<'_> {
        Attr {
            name: key.into(),
            value: self.get(key),
            unknown: self.unknown.get(key),
            expr: self
                .config
                .as_ref()
                .and_then(|c| c.get("expressions"))
                .and_then(|e| e.get(key)),
        }
    }

    /// Attribute `key` of element `i` of a nested block list (`ingress[0].security_groups`).
    pub fn nested<'r>(&'r self, block: &str, i: usize, elem: &'r Value, key: &str) -> Attr<'r> {
        let unknown = self
            .unknown
            .get(block)
            .and_then(|u| u.get(i))
            .and_then(|u| u.get(key));
        // A block written as blocks has one expression object per block; written as an
        // attribute (`ingress = [...]`), one expression for the whole list.
        let expr = self
            .config
            .as_ref()
            .and_then(|c| c.get("expressions"))
            .and_then(|e| e.get(block))
            .and_then(|b| match b {
                Value::Array(items) => items.get(i).and_then(|x| x.get(key)),
                other => Some(other),
            });
        Attr {
            name: format!("{block}[{i}].{key}"),
            value: elem.get(key).filter(|v| !v.is_null()),
            unknown,
            expr,
        }
    }
}

impl Tx {
    /// A single reference (`vpc_id`) as a CloudFormation `Ref`/`Fn::GetAtt`; `None` when unset.
    pub(super) fn reference(&mut self, r: &Res, a: &Attr) -> Result<Option<Value>, Failed> {
        if let Some(id) = a.value.and_then(Value::as_str).filter(|s| !s.is_empty()) {
            return self.known_id(r, &a.name, id).map(Some);
        }
        if !a.unknown.is_some_and(has_unknown) {
            return Ok(None);
        }
        match self.configured_targets(r, a).first() {
            Some(&t) => Ok(Some(self.ref_to_target(t))),
            // Not configured: a default AWS computes (a NAT gateway's interface), not a link.
            None if a.expr.is_none() => Ok(None),
            None => Err(self.unknown_without_reference(r, &a.name)),
        }
    }

    /// A required single reference.
    pub(super) fn required_reference(&mut self, r: &Res, key: &str) -> Result<Value, Failed> {
        match self.reference(r, &r.attr(key))? {
            Some(v) => Ok(v),
            None => Err(self.error(
                r,
                "InvalidTerraform.MissingAttribute",
                format!("{key} is missing"),
            )),
        }
    }

    /// A list of references (`vpc_security_group_ids`, `subnet_ids`).
    pub(super) fn reference_list(&mut self, r: &Res, a: &Attr) -> Result<Vec<Value>, Failed> {
        let mut out = Vec::new();
        let mut targets = Vec::new();
        for id in a
            .value
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let v = self.known_id(r, &a.name, id)?;
            if let Some(t) = self.target_of_id(id) {
                targets.push(t);
            }
            out.push(v);
        }
        if a.unknown.is_some_and(has_unknown) {
            let configured = self.configured_targets(r, a);
            if configured.is_empty() && a.expr.is_some() {
                return Err(self.unknown_without_reference(r, &a.name));
            }
            for t in configured {
                if !targets.contains(&t) {
                    targets.push(t);
                    out.push(self.ref_to_target(t));
                }
            }
        }
        Ok(out)
    }

    /// The resource of this file with a known id, as a reference.
    fn known_id(&mut self, r: &Res, attr: &str, id: &str) -> Result<Value, Failed> {
        match self.target_of_id(id) {
            Some(t) => Ok(self.ref_to_target(t)),
            None => Err(self.error(
                r,
                "UnresolvedReference",
                format!(
                    "{attr} = {id}: no resource of this Terraform file has that id (data sources and resources of other states are not loaded)"
                ),
            )),
        }
    }

    fn unknown_without_reference(&mut self, r: &Res, attr: &str) -> Failed {
        self.error(
            r,
            "UnresolvedReference",
            format!(
                "{attr} is known only after apply and its configuration expression names no resource of this plan"
            ),
        )
    }

    /// What a known id names: a resource, or something it creates (an attribute id).
    pub(super) fn target_of_id(&self, id: &str) -> Option<Target> {
        if let Some(&t) = self.by_id.get(id) {
            return Some((t, None));
        }
        self.attribute_ids.get(id).map(|&(t, a)| (t, Some(a)))
    }

    fn ref_to_target(&self, (t, attr): Target) -> Value {
        match attr {
            Some(a) => json!({"Fn::GetAtt": [self.resources[t].address, a]}),
            None => self.ref_to(t),
        }
    }

    /// `Ref` to a resource, or the attribute CloudFormation uses where Terraform uses its id.
    pub(super) fn ref_to(&self, t: usize) -> Value {
        let target = &self.resources[t];
        match target.type_.as_str() {
            // The accepter side names the same connection (or attachment) as the requester.
            t_ if ACCEPTERS.iter().any(|(a, _, _)| *a == t_) => match self.accepted_peering(target)
            {
                Some(p) if p != t => self.ref_to(p),
                _ => json!({"Ref": target.address}),
            },
            // Ref of an AWS::EC2::EIP is its address; Terraform's id is the allocation id.
            "aws_eip" => json!({"Fn::GetAtt": [target.address, "AllocationId"]}),
            _ => json!({"Ref": target.address}),
        }
    }

    /// The `aws_vpc_peering_connection` (or transit gateway peering attachment) an accepter
    /// accepts, when the file holds it.
    fn accepted_peering(&self, accepter: &Res) -> Option<usize> {
        let &(_, key, requester) = ACCEPTERS.iter().find(|(a, _, _)| *a == accepter.type_)?;
        let a = accepter.attr(key);
        let known = a
            .value
            .and_then(Value::as_str)
            .and_then(|id| self.by_id.get(id).copied());
        let p = known.or_else(|| self.configured_targets(accepter, &a).first().map(|t| t.0))?;
        (self.resources[p].type_ == requester).then_some(p)
    }

    /// The resources a configuration expression refers to, in the referring resource's module.
    fn configured_targets(&self, r: &Res, a: &Attr) -> Vec<Target> {
        let mut out = Vec::new();
        if let Some(expr) = a.expr {
            self.expression_targets(expr, &r.module, &r.index, 0, &mut out);
        }
        out
    }

    fn expression_targets(
        &self,
        expr: &Value,
        module: &str,
        index: &str,
        depth: usize,
        out: &mut Vec<Target>,
    ) {
        // Module nesting is shallow; the bound only guards against a malformed configuration.
        if depth > 16 {
            return;
        }
        let refs = expr.get("references").and_then(Value::as_array);
        for s in refs.into_iter().flatten().filter_map(Value::as_str) {
            if let Some(var) = s.strip_prefix("var.") {
                let var = var.split(['.', '[']).next().unwrap_or(var);
                if let Some((parent, call)) = parent_module(module) {
                    let e = self
                        .configuration
                        .as_ref()
                        .and_then(|root| config_module(root, parent))
                        .and_then(|m| {
                            m.get("module_calls")?
                                .get(call)?
                                .get("expressions")?
                                .get(var)
                        });
                    if let Some(e) = e {
                        self.expression_targets(e, parent, index, depth + 1, out);
                    }
                }
                continue;
            }
            if let Some(t) = self.resource_reference(s, module, index) {
                if !out.iter().any(|(i, _)| *i == t.0) {
                    out.push(t);
                }
            }
        }
    }

    /// `aws_vpc.main.id`, `aws_subnet.a[0].id` or `aws_subnet.a` in `module`: the instance it
    /// names. Without an instance key, the instance with the referring resource's key, else the
    /// only instance.
    fn resource_reference(&self, s: &str, module: &str, index: &str) -> Option<Target> {
        if !s.starts_with("aws_") {
            return None;
        }
        let (type_, rest) = s.split_once('.')?;
        let name_end = rest.find(['.', '[']).unwrap_or(rest.len());
        let (name, rest) = rest.split_at(name_end);
        let base = if module.is_empty() {
            format!("{type_}.{name}")
        } else {
            format!("{module}.{type_}.{name}")
        };
        let (key, rest) = match rest.strip_prefix('[') {
            Some(_) => rest.split_at(rest.find(']')? + 1),
            None => ("", rest),
        };
        let attribute = rest
            .strip_prefix('.')
            .and_then(|a| a.split(['.', '[']).next());
        let attr = ATTRIBUTE_IDS
            .iter()
            .find(|(t, a, _)| *t == type_ && Some(*a) == attribute)
            .map(|(_, _, g)| *g);
        if !key.is_empty() {
            let t = *self.by_address.get(&format!("{base}{key}"))?;
            return Some((t, attr));
        }
        if let Some(&t) = self.by_address.get(&format!("{base}{index}")) {
            return Some((t, attr));
        }
        let mut instances = self
            .resources
            .iter()
            .enumerate()
            .filter(|(_, x)| x.address == base || x.address.starts_with(&format!("{base}[")));
        let (t, _) = instances.next()?;
        instances.next().is_none().then_some((t, attr))
    }
}

/// `module.a.module.b[0]` → (`module.a`, `b`).
fn parent_module(module: &str) -> Option<(&str, &str)> {
    let i = module.rfind("module.")?;
    let call = &module[i + "module.".len()..];
    let call = call.split('[').next().unwrap_or(call);
    Some((module[..i].trim_end_matches('.'), call))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_module_strips_the_last_call() {
        assert_eq!(parent_module("module.net"), Some(("", "net")));
        assert_eq!(
            parent_module("module.a.module.b[0]"),
            Some(("module.a", "b"))
        );
        assert_eq!(parent_module(""), None);
    }
}
