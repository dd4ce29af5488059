//! What CI systems read: JUnit XML (one test case per assertion) and SARIF 2.1.0 (one result
//! per violation, located at the template line of the resource to blame).

use super::Outcome;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use vpcsim_dataplane::{ResId, Topology};

/// XML text and attribute escaping (the five predefined entities; other control characters,
/// which XML 1.0 cannot hold at all, become spaces).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML as Jenkins, GitLab and GitHub test reporters read it.
pub fn junit(policy: &Path, outcomes: &[Outcome]) -> String {
    let failures = outcomes.iter().filter(|o| !o.answer.passed).count();
    let suite = esc(&policy.display().to_string());
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"vpcsim check\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">\n",
        outcomes.len()
    ));
    x.push_str(&format!(
        "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n",
        outcomes.len()
    ));
    for o in outcomes {
        let case = format!(
            "    <testcase name=\"{}\" classname=\"vpcsim.check.{}\"",
            esc(&o.name),
            o.kind
        );
        if o.answer.passed {
            x.push_str(&format!(
                "{case}>\n      <system-out>{}</system-out>\n    </testcase>\n",
                esc(&o.answer.summary)
            ));
            continue;
        }
        let mut body = o.answer.summary.clone();
        if let Some(c) = &o.answer.counterexample {
            body.push_str(&format!(
                "\n\ncounterexample (from {}): {}\n{}",
                c.from, c.flow, c.trace
            ));
        }
        x.push_str(&format!(
            "{case}>\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
            esc(&o.answer.summary),
            o.kind,
            esc(&body)
        ));
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

/// Where a resource is written (`inputs` are the `-t` files and snapshot directories; only
/// files are searched): the template that holds its logical id (a resource vpcsim
/// implies, `Vpc.DefaultSecurityGroup`, is written at its owner) and the line.
fn locate(inputs: &[PathBuf], topo: &Topology, r: ResId) -> Option<(PathBuf, Option<usize>)> {
    let lid = &topo.resource(r).logical_id;
    let owner = lid.split('.').next().unwrap_or(lid);
    for t in inputs.iter().filter(|p| p.is_file()) {
        let Ok(text) = std::fs::read_to_string(t) else {
            continue;
        };
        for id in [lid.as_str(), owner] {
            let key = format!("{id}:");
            let quoted = format!("\"{id}\":");
            if let Some(i) = text.lines().position(|l| {
                let l = l.trim_start();
                l == key || l.starts_with(&format!("{key} ")) || l.starts_with(&quoted)
            }) {
                return Some((t.clone(), Some(i + 1)));
            }
        }
    }
    None
}

/// SARIF 2.1.0: a rule per assertion, a result per violation, located in the first input when
/// no template line is known (a snapshot directory, an equivalence).
pub fn sarif(inputs: &[PathBuf], topo: &Topology, outcomes: &[Outcome]) -> Value {
    let rules: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            json!({
                "id": o.name,
                "name": o.name,
                "shortDescription": {"text": o.description.clone().unwrap_or_else(|| format!("{} assertion", o.kind))},
                "properties": {"kind": o.kind},
            })
        })
        .collect();
    let results: Vec<Value> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.answer.passed)
        .map(|(i, o)| {
            let mut text = o.answer.summary.clone();
            if let Some(c) = &o.answer.counterexample {
                text.push_str(&format!("; counterexample (from {}): {}", c.from, c.flow));
            }
            let at = o
                .answer
                .resource
                .and_then(|r| locate(inputs, topo, r).map(|l| (r, l)));
            let (file, line) = match &at {
                Some((_, (f, l))) => (f.clone(), *l),
                None => (inputs.first().cloned().unwrap_or_default(), None),
            };
            let mut physical = json!({"artifactLocation": {"uri": uri(&file)}});
            if let Some(l) = line {
                physical["region"] = json!({"startLine": l});
            }
            let mut location = json!({"physicalLocation": physical});
            if let Some((r, _)) = at {
                let res = topo.resource(r);
                location["logicalLocations"] = json!([{
                    "name": res.logical_id,
                    "fullyQualifiedName": res.aws_id,
                    "kind": "resource",
                }]);
            }
            let mut result = json!({
                "ruleId": o.name,
                "ruleIndex": i,
                "level": "error",
                "message": {"text": text},
                "locations": [location],
            });
            if let Some(c) = &o.answer.counterexample {
                result["properties"] =
                    json!({"counterexample": c.flow, "from": c.from, "trace": c.trace});
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "vpcsim",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// A relative path stays relative (SARIF viewers resolve it against the checkout).
fn uri(p: &Path) -> String {
    p.display().to_string().replace('\\', "/")
}
