//! Reading `terraform show -json` output: the resource instances of a state
//! (`values.root_module` and its `child_modules`) or of a plan (`planned_values`, with
//! `prior_state` for what the plan leaves out and `resource_changes` for what is unknown).

use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// One managed resource instance.
#[derive(Clone, Debug)]
pub(crate) struct Res {
    /// The Terraform address: `module.network.aws_subnet.private[0]`.
    pub address: String,
    /// The module instance holding it (`module.network`), empty for the root module.
    pub module: String,
    /// `aws_subnet`.
    pub type_: String,
    /// The instance key (`0`, `"a"`) as Terraform prints it after the name: `[0]`, `["a"]`.
    pub index: String,
    /// The known attribute values.
    pub values: Value,
    /// The plan's `after_unknown` for it: which attributes are known only after apply.
    pub unknown: Value,
    /// The resource block of the plan's `configuration` (expressions and their references).
    pub config: Option<Value>,
}

impl Res {
    /// A known, non-null attribute.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key).filter(|v| !v.is_null())
    }

    /// A known string attribute.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// Whether an attribute (or a part of it) is known only after apply.
    pub fn is_unknown(&self, key: &str) -> bool {
        self.unknown.get(key).is_some_and(has_unknown)
    }
}

/// Whether an `after_unknown` value marks anything as unknown.
pub(crate) fn has_unknown(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Array(a) => a.iter().any(has_unknown),
        Value::Object(m) => m.values().any(has_unknown),
        _ => false,
    }
}

/// A parsed document: its resource instances, and the plan's configuration.
pub(crate) struct Document {
    pub resources: Vec<Res>,
    pub configuration: Option<Value>,
}

/// Parse `terraform show -json` text.
pub(crate) fn read(text: &str) -> Result<Document, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let version = doc
        .get("format_version")
        .and_then(Value::as_str)
        .unwrap_or("");
    if version.split('.').next() != Some("1") {
        return Err(format!(
            "format_version {version:?} is not supported (vpcsim reads the 1.x JSON format of `terraform show -json`)"
        ));
    }
    let mut resources = Vec::new();
    if let Some(planned) = doc.get("planned_values") {
        let unknown: HashMap<&str, &Value> = list(&doc, "resource_changes")
            .iter()
            .filter_map(|c| {
                Some((
                    c.get("address")?.as_str()?,
                    c.get("change")?.get("after_unknown")?,
                ))
            })
            .collect();
        let deleted: HashSet<&str> = list(&doc, "resource_changes")
            .iter()
            .filter(|c| {
                let actions = c.pointer("/change/actions").and_then(Value::as_array);
                actions.is_some_and(|a| a.len() == 1 && a[0] == "delete")
            })
            .filter_map(|c| c.get("address")?.as_str())
            .collect();
        collect(planned.get("root_module"), "", &mut resources);
        let planned_addresses: HashSet<String> =
            resources.iter().map(|r| r.address.clone()).collect();
        let mut prior = Vec::new();
        collect(
            doc.pointer("/prior_state/values/root_module"),
            "",
            &mut prior,
        );
        resources.extend(prior.into_iter().filter(|r| {
            !planned_addresses.contains(&r.address) && !deleted.contains(r.address.as_str())
        }));
        for r in &mut resources {
            if let Some(u) = unknown.get(r.address.as_str()) {
                r.unknown = (*u).clone();
            }
        }
        let configuration = doc.pointer("/configuration/root_module").cloned();
        if let Some(root) = &configuration {
            for r in &mut resources {
                r.config = config_resource(root, &r.module, &r.address).cloned();
                unknown_blocks_from_configuration(r);
            }
        }
        Ok(Document {
            resources,
            configuration,
        })
    } else if let Some(values) = doc.get("values") {
        collect(values.get("root_module"), "", &mut resources);
        Ok(Document {
            resources,
            configuration: None,
        })
    } else {
        // `terraform show -json` of an empty state prints only the version keys.
        Ok(Document {
            resources,
            configuration: None,
        })
    }
}

/// A nested block list that is unknown as a whole (`"route": true` in `after_unknown`, because
/// an element refers to an id known only after apply) rebuilt from its configuration: the
/// constant values of each block, and its references marked unknown for the resolver.
fn unknown_blocks_from_configuration(r: &mut Res) {
    let Some(exprs) = r.config.as_ref().and_then(|c| c.get("expressions")) else {
        return;
    };
    let Some(unknown) = r.unknown.as_object() else {
        return;
    };
    let mut rebuilt = Vec::new();
    for (key, u) in unknown {
        if *u != Value::Bool(true) || r.get(key).is_some() {
            continue;
        }
        let Some(blocks) = exprs.get(key).and_then(Value::as_array) else {
            continue;
        };
        let mut values = Vec::new();
        let mut unknowns = Vec::new();
        for b in blocks.iter().filter_map(Value::as_object) {
            let mut v = serde_json::Map::new();
            let mut u = serde_json::Map::new();
            for (k, e) in b {
                if let Some(c) = e.get("constant_value") {
                    v.insert(k.clone(), c.clone());
                } else if e.get("references").is_some() {
                    u.insert(k.clone(), Value::Bool(true));
                }
            }
            values.push(Value::Object(v));
            unknowns.push(Value::Object(u));
        }
        rebuilt.push((key.clone(), values, unknowns));
    }
    for (key, values, unknowns) in rebuilt {
        if let Some(v) = r.values.as_object_mut() {
            v.insert(key.clone(), Value::Array(values));
        }
        if let Some(u) = r.unknown.as_object_mut() {
            u.insert(key, Value::Array(unknowns));
        }
    }
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The managed resources of a module and its child modules, depth first.
fn collect(module: Option<&Value>, module_address: &str, out: &mut Vec<Res>) {
    let Some(module) = module else { return };
    for r in list(module, "resources") {
        if r.get("mode").and_then(Value::as_str) != Some("managed") {
            continue;
        }
        let (Some(address), Some(type_)) = (
            r.get("address").and_then(Value::as_str),
            r.get("type").and_then(Value::as_str),
        ) else {
            continue;
        };
        let index = match r.get("index") {
            Some(Value::Number(n)) => format!("[{n}]"),
            Some(Value::String(s)) => format!("[{}]", Value::String(s.clone())),
            _ => String::new(),
        };
        out.push(Res {
            address: address.to_string(),
            module: module_address.to_string(),
            type_: type_.to_string(),
            index,
            values: r.get("values").cloned().unwrap_or(Value::Null),
            unknown: Value::Null,
            config: None,
        });
    }
    for child in list(module, "child_modules") {
        let address = child
            .get("address")
            .and_then(Value::as_str)
            .unwrap_or(module_address);
        collect(Some(child), address, out);
    }
}

/// The module calls of a module address (`module.a.module.b["x"]` → `["a", "b"]`), instance
/// keys dropped: the configuration describes a module once, whatever its count.
pub(crate) fn module_calls(module: &str) -> Vec<&str> {
    let mut calls = Vec::new();
    let mut rest = module;
    while let Some(after) = rest.strip_prefix("module.") {
        let end = after.find(['.', '[']).unwrap_or(after.len());
        calls.push(&after[..end]);
        rest = &after[end..];
        if rest.starts_with('[') {
            rest = rest.find("].").map(|i| &rest[i + 1..]).unwrap_or("");
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    calls
}

/// The configuration of a module (`configuration.root_module` → `module_calls.<name>.module`…).
pub(crate) fn config_module<'a>(root: &'a Value, module: &str) -> Option<&'a Value> {
    let mut m = root;
    for call in module_calls(module) {
        m = m.get("module_calls")?.get(call)?.get("module")?;
    }
    Some(m)
}

/// The configuration block of a resource instance: its address without module and instance key.
fn config_resource<'a>(root: &'a Value, module: &str, address: &str) -> Option<&'a Value> {
    let m = config_module(root, module)?;
    let local = address
        .strip_prefix(module)
        .map(|a| a.trim_start_matches('.'))
        .unwrap_or(address);
    let local = local.find('[').map(|i| &local[..i]).unwrap_or(local);
    list(m, "resources")
        .iter()
        .find(|c| c.get("address").and_then(Value::as_str) == Some(local))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_calls_drop_instance_keys() {
        assert_eq!(module_calls(""), Vec::<&str>::new());
        assert_eq!(module_calls("module.network"), vec!["network"]);
        assert_eq!(
            module_calls("module.a[0].module.b[\"x.y\"]"),
            vec!["a", "b"]
        );
    }
}
