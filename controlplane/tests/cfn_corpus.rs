//! Runs the CloudFormation loader over the third-party template corpus in
//! `shared/corpus/cfn`: every template must parse, resolve, order and evaluate without
//! panicking, and we print one line per file so regressions are easy to spot.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use vpcsim_controlplane::cfn::{
    parse_template, CfnError, Evaluator, Intrinsic, Node, Resolver, StackContext, Template,
};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus/cfn");
const EXTENSIONS: &[&str] = &["yaml", "yml", "json", "template"];

fn templates(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            templates(&path, out);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e))
        {
            out.push(path);
        }
    }
}

/// Answers every reference to a template resource with something shaped like what AWS would
/// return, so that functions consuming attributes (Select/Split/Cidr) have realistic input.
struct Stub<'t>(&'t Template);

impl Stub<'_> {
    fn known(&self, id: &str) -> bool {
        self.0.resources.iter().any(|r| r.logical_id == id)
    }
}

impl Resolver for Stub<'_> {
    fn resource_ref(&self, id: &str) -> Option<Value> {
        self.known(id)
            .then(|| json!(format!("stub-{}", id.to_lowercase())))
    }
    fn get_att(&self, id: &str, attr: &str) -> Result<Value, String> {
        if !self.known(id) {
            return Err(format!("{id} is unknown"));
        }
        Ok(match attr {
            "Ipv6CidrBlocks" => json!(["2600:1f18:1234:5600::/56"]),
            "CidrBlockAssociations" => json!(["vpc-cidr-assoc-stub"]),
            "EndpointIds" | "DnsEntries" => json!([
                "us-east-1a:vpce-stub1.example",
                "us-east-1b:vpce-stub2.example",
                "us-east-1c:vpce-stub3.example",
                "us-east-1d:vpce-stub4.example"
            ]),
            "NetworkInterfaceIds" | "SecondaryPrivateIpAddresses" => json!(["stub-1", "stub-2"]),
            // Custom resources returning lists (e.g. a Lambda-backed VPN lookup).
            a if a.ends_with("Ips") => json!(["192.0.2.1", "192.0.2.2"]),
            a if a.contains("Cidr") => json!("10.0.0.0/16"),
            a if a.ends_with("Ip") || a.ends_with("IpAddress") => json!("10.0.0.10"),
            a => json!(format!("stub-{}-{}", id.to_lowercase(), a.to_lowercase())),
        })
    }
}

/// A plausible override for a parameter without a Default.
fn dummy_value(name: &str, type_: &str, allowed: &[String]) -> String {
    if let Some(first) = allowed.first() {
        return first.clone();
    }
    let lower = name.to_lowercase();
    let list = type_.starts_with("List<") || type_ == "CommaDelimitedList";
    let one = if type_.contains("Number") {
        "1".to_owned()
    } else if lower.contains("mask") {
        "16".to_owned()
    } else if lower.contains("cidr") || lower.contains("pool") {
        "10.0.0.0/16".to_owned()
    } else if type_.contains("AvailabilityZone") || lower.contains("availabilityzone") {
        "us-east-1a".to_owned()
    } else {
        format!("dummy-{lower}")
    };
    if list {
        let zones = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"];
        if one == "us-east-1a" {
            zones.join(",")
        } else {
            (1..=4)
                .map(|i| format!("{one}-{i}"))
                .collect::<Vec<_>>()
                .join(",")
        }
    } else {
        one
    }
}

/// The argument nodes of every `Fn::ImportValue` in a tree.
fn import_names<'n>(node: &'n Node, out: &mut Vec<&'n Node>) {
    for n in node.descendants() {
        if let Some(Intrinsic::ImportValue(arg)) = n.as_intrinsic() {
            out.push(arg);
        }
    }
}

fn first_error(errors: &[CfnError]) -> String {
    let more = if errors.len() > 1 {
        format!(" (+{} more)", errors.len() - 1)
    } else {
        String::new()
    };
    format!("{}{more}", errors[0])
}

fn run(path: &Path) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("read: {e}"))?;
    let template = parse_template(path, &text).map_err(|e| format!("parse: {e}"))?;
    let mut ctx = StackContext::new("us-east-1", "123456789012", "corpus");
    for p in &template.parameters {
        if p.default.is_none() {
            ctx.parameter_overrides.insert(
                p.name.clone(),
                dummy_value(&p.name, &p.type_, &p.allowed_values),
            );
        }
    }
    // Cross-stack imports: compute the export names the template asks for and supply them.
    {
        let ev =
            Evaluator::new(&template, &ctx).map_err(|e| format!("new: {}", first_error(&e)))?;
        let mut names = Vec::new();
        for r in &template.resources {
            import_names(&r.properties, &mut names);
        }
        for (_, o) in &template.outputs {
            import_names(o, &mut names);
        }
        let mut imports = BTreeMap::new();
        for n in names {
            if let Ok(Value::String(s)) = ev.eval(n, &Stub(&template), None) {
                imports.insert(s.clone(), format!("imported-{}", s.to_lowercase()));
            }
        }
        ctx.imports = imports;
    }
    let ev = Evaluator::new(&template, &ctx).map_err(|e| format!("new: {}", first_error(&e)))?;
    let order = ev
        .dependency_order()
        .map_err(|e| format!("dependency_order: {}", first_error(&e)))?;
    let stub = Stub(&template);
    let mut errors = Vec::new();
    for &i in &order {
        let r = &template.resources[i];
        if let Err(e) = ev.eval(&r.properties, &stub, Some(&r.logical_id)) {
            errors.push(e);
        }
    }
    for (_, out) in ev.outputs(&stub) {
        if let Err(e) = out {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(order.len())
    } else {
        Err(format!("eval: {}", first_error(&errors)))
    }
}

#[test]
fn corpus_templates_load_and_evaluate() {
    let dir = Path::new(CORPUS);
    if !dir.is_dir() {
        println!(
            "note: {} is absent; skipping the CloudFormation corpus",
            dir.display()
        );
        return;
    }
    let mut files = Vec::new();
    templates(dir, &mut files);
    files.sort();
    let mut ok = 0;
    let mut failures = Vec::new();
    for path in &files {
        let name = path.strip_prefix(dir).unwrap_or(path).display().to_string();
        match run(path) {
            Ok(n) => {
                ok += 1;
                println!("OK    {name} ({n} resources)");
            }
            Err(e) => {
                println!("FAIL  {name}: {e}");
                failures.push(name);
            }
        }
    }
    println!("{ok}/{} corpus templates load and evaluate", files.len());
}
