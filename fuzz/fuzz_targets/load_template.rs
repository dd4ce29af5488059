//! Fuzz the CloudFormation loader end to end: parse, resolve parameters and conditions, order
//! resources and evaluate every enabled resource and output. Nothing may panic, overflow the
//! stack or hang, whatever the input.
//!
//! Input: arbitrary bytes, read as UTF-8 (lossily) template text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use vpcsim_controlplane::cfn::{parse_template, Evaluator, Resolver, StackContext, Template};

/// Answers for every resource in the template, so evaluation goes as deep as it can.
struct Stub<'t>(&'t Template);

impl Resolver for Stub<'_> {
    fn resource_ref(&self, id: &str) -> Option<Value> {
        self.0
            .resources
            .iter()
            .any(|r| r.logical_id == id)
            .then(|| json!(format!("stub-{id}")))
    }
    fn get_att(&self, id: &str, attribute: &str) -> Result<Value, String> {
        match attribute {
            "Missing" => Err("unsupported".to_owned()),
            "List" => Ok(json!(["10.0.0.0/16", "a:b"])),
            _ => Ok(json!(format!("{id}.{attribute}"))),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(template) = parse_template("fuzz.yaml".as_ref(), &text) else {
        return;
    };
    let mut ctx = StackContext::new("us-east-1", "123456789012", "fuzz");
    for p in &template.parameters {
        if p.default.is_none() {
            let value = p
                .allowed_values
                .first()
                .cloned()
                .unwrap_or_else(|| "1".to_owned());
            ctx.parameter_overrides.insert(p.name.clone(), value);
        }
    }
    ctx.imports.insert("1".to_owned(), "imported".to_owned());
    let Ok(ev) = Evaluator::new(&template, &ctx) else {
        return;
    };
    let stub = Stub(&template);
    // Evaluate even when ordering fails: eval must cope with any resource on its own.
    let order = ev
        .dependency_order()
        .unwrap_or_else(|_| (0..template.resources.len()).collect());
    for i in order {
        let r = &template.resources[i];
        let _ = ev.resource_enabled(r);
        let _ = ev.eval(&r.properties, &stub, Some(&r.logical_id));
    }
    let _ = ev.outputs(&stub);
    for (name, _) in &template.conditions {
        let _ = ev.condition(name);
    }
});
