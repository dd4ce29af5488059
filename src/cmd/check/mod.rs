//! `vpcsim check`: intent checks for CI. A policy file names assertions (who reaches whom, who
//! never does, which resource every path passes, which ports no group opens to the world,
//! which topology this one must agree with); each is decided for every header at once by the
//! symbolic walk of `vpcsim reach`, and each failure is shown as one concrete packet of the
//! violating set, traced hop by hop.

pub(crate) mod assert;
mod ci;
pub(crate) mod equivalent;
mod policy;
mod select;

use super::args::{worker_threads, TopologyArgs};
use super::stdio::{errln, out};
use assert::{Answer, BadKey};
use clap::Args;
use policy::{Kind, Policy};
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim check -t examples/two-tier.yaml examples/two-tier.policy.yaml
  vpcsim check -t examples/two-tier.yaml policy.yaml --junit check.xml --sarif check.sarif
  vpcsim check -t examples/two-tier.yaml policy.yaml --json

The policy (YAML, `version: 1`) lists named assertions, each of one kind: reach, isolated,
passes-through, no-open-ingress, equivalent; the README documents the format. Each passing
assertion prints one line; each failing one prints a counterexample packet and its trace.

Exit codes: 0 every assertion holds, 1 one or more do not, 2 bad policy or topology.")]
pub struct CheckArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// The policy file (YAML).
    #[arg(value_name = "POLICY")]
    pub policy: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write JUnit XML: one test case per assertion.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write SARIF 2.1.0: one result per violation, at the template line of the resource.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Worker threads for `equivalent` (default: the machine's cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// One evaluated assertion.
pub struct Outcome {
    name: String,
    kind: &'static str,
    description: Option<String>,
    answer: Answer,
}

/// The files and snapshot directories of `-t` (a `NAME=FILE` names a stack).
fn inputs(args: &TopologyArgs) -> Vec<PathBuf> {
    args.topology
        .iter()
        .map(|p| {
            if p.exists() {
                return p.clone();
            }
            let s = p.to_string_lossy();
            s.split_once('=')
                .map_or_else(|| p.clone(), |(_, f)| PathBuf::from(f))
        })
        .collect()
}

pub fn run(args: &CheckArgs) -> i32 {
    let policy = match Policy::read(&args.policy) {
        Ok(p) => p,
        Err(e) => {
            errln!("error: {e}");
            return 2;
        }
    };
    let Ok((_, topo)) = args.topology.topology() else {
        return 2;
    };
    let inputs = inputs(&args.topology);
    let files: Vec<PathBuf> = inputs.iter().filter(|p| p.is_file()).cloned().collect();
    let tags = select::Tags::read(&files);
    let dir = args.policy.parent().unwrap_or(Path::new("."));
    let mut outcomes = Vec::new();
    let mut errors = Vec::new();
    for a in &policy.assertions {
        let answer: Result<Answer, BadKey> = match &a.kind {
            Kind::Reach(f) => assert::reach_all(&topo, &tags, f),
            Kind::Isolated(f) => assert::isolated(&topo, &tags, f),
            Kind::PassesThrough(f) => assert::passes_through(&topo, &tags, f),
            Kind::NoOpenIngress(o) => assert::no_open_ingress(&topo, &tags, o),
            Kind::Equivalent(e) => {
                equivalent::equivalent(&topo, &args.topology, dir, e, worker_threads(args.threads))
            }
        };
        match answer {
            Ok(answer) => outcomes.push(Outcome {
                name: a.name.clone(),
                kind: a.kind.key(),
                description: a.description.clone(),
                answer,
            }),
            Err(b) => errors.push(policy.error(&a.name, b.key, &b.message)),
        }
    }
    if !errors.is_empty() {
        for e in &errors {
            errln!("error: {e}");
        }
        errln!(
            "error: the policy has {} error(s); nothing was checked",
            errors.len()
        );
        return 2;
    }
    if args.json {
        out!(
            "{}\n",
            serde_json::to_string_pretty(&json_of(&policy, &topo, &outcomes)).unwrap_or_default()
        );
    } else {
        out!("{}", text_of(&args.topology, &outcomes));
    }
    if let Some(path) = &args.junit {
        if let Err(e) = std::fs::write(path, ci::junit(&args.policy, &outcomes)) {
            errln!("error: --junit {}: {e}", path.display());
            return 2;
        }
    }
    if let Some(path) = &args.sarif {
        let s = ci::sarif(&inputs, &topo, &outcomes);
        let text = serde_json::to_string_pretty(&s).unwrap_or_default() + "\n";
        if let Err(e) = std::fs::write(path, text) {
            errln!("error: --sarif {}: {e}", path.display());
            return 2;
        }
    }
    if outcomes.iter().all(|o| o.answer.passed) {
        0
    } else {
        1
    }
}

/// Shell quoting for the reproduce line.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn text_of(args: &TopologyArgs, outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    for o in outcomes {
        let a = &o.answer;
        if a.passed {
            s.push_str(&format!("PASS  {} ({}): {}\n", o.name, o.kind, a.summary));
            continue;
        }
        s.push_str(&format!("FAIL  {} ({}): {}\n", o.name, o.kind, a.summary));
        if let Some(c) = &a.counterexample {
            s.push_str(&format!(
                "      counterexample (from {}): {}\n",
                c.from, c.flow
            ));
            if !a.summary.contains(&c.why) {
                s.push_str(&format!("      why: {}\n", c.why));
            }
            for line in c.trace.lines() {
                s.push_str(&format!("        {line}\n"));
            }
            let t: Vec<String> = args
                .topology
                .iter()
                .map(|p| format!("-t {}", quote(&p.display().to_string())))
                .collect();
            s.push_str(&format!(
                "      reproduce: vpcsim trace {} --from {} {} --return\n",
                t.join(" "),
                quote(&c.from),
                quote(&c.flow)
            ));
        }
    }
    let failed = outcomes.iter().filter(|o| !o.answer.passed).count();
    s.push_str(&format!(
        "\n{} assertion(s): {} passed, {failed} failed\n",
        outcomes.len(),
        outcomes.len() - failed
    ));
    s
}

fn json_of(
    policy: &Policy,
    topo: &vpcsim_dataplane::Topology,
    outcomes: &[Outcome],
) -> serde_json::Value {
    let failed = outcomes.iter().filter(|o| !o.answer.passed).count();
    json!({
        "policy": policy.path.display().to_string(),
        "passed": outcomes.len() - failed,
        "failed": failed,
        "results": outcomes.iter().map(|o| {
            let a = &o.answer;
            json!({
                "name": o.name,
                "kind": o.kind,
                "line": policy.line(&o.name),
                "passed": a.passed,
                "summary": a.summary,
                "resource": a.resource.map(|r| {
                    let res = topo.resource(r);
                    json!({"id": res.aws_id, "logical_id": res.logical_id, "type": res.kind})
                }),
                "counterexample": a.counterexample.as_ref().map(|c| json!({
                    "flow": c.flow,
                    "from": c.from,
                    "why": c.why,
                    "trace": c.trace,
                })),
            })
        }).collect::<Vec<_>>(),
    })
}
