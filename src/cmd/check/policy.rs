//! The policy file of `vpcsim check`: a versioned YAML list of named assertions.
//!
//! Shapes are checked by serde (unknown keys are errors, so a typo in a key does not silently
//! weaken a check); selectors stay YAML values until a topology resolves them. Errors name the
//! file, the line and the key, since the file is edited by hand and read in CI logs.

use serde::Deserialize;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The policy format this build reads.
pub const VERSION: u32 = 1;

/// A parsed policy.
pub struct Policy {
    pub path: PathBuf,
    pub text: String,
    pub assertions: Vec<Assertion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: u32,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    assertions: Vec<RawAssertion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAssertion {
    name: String,
    #[serde(default)]
    description: Option<String>,
    reach: Option<Flows>,
    isolated: Option<Flows>,
    passes_through: Option<Flows>,
    no_open_ingress: Option<OpenIngress>,
    equivalent: Option<Equivalent>,
}

/// One named assertion.
pub struct Assertion {
    pub name: String,
    pub description: Option<String>,
    pub kind: Kind,
}

/// What an assertion claims.
pub enum Kind {
    Reach(Flows),
    Isolated(Flows),
    PassesThrough(Flows),
    NoOpenIngress(OpenIngress),
    Equivalent(Equivalent),
}

impl Kind {
    /// The key that introduces it in the policy file.
    pub fn key(&self) -> &'static str {
        match self {
            Kind::Reach(_) => "reach",
            Kind::Isolated(_) => "isolated",
            Kind::PassesThrough(_) => "passes-through",
            Kind::NoOpenIngress(_) => "no-open-ingress",
            Kind::Equivalent(_) => "equivalent",
        }
    }
}

/// Flows from sources to destinations: `reach`, `isolated`, `passes-through` (with `through`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flows {
    pub from: Value,
    pub to: Value,
    #[serde(default)]
    pub through: Option<Value>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub ports: Option<Vec<Value>>,
    /// TCP and UDP source ports the flows range over; default 1024-65535, the ephemeral range
    /// AWS documents for clients (its network ACL guidance admits replies to exactly these).
    #[serde(default, rename = "source-ports")]
    pub source_ports: Option<Vec<Value>>,
    #[serde(default)]
    pub ipv6: bool,
}

/// `no-open-ingress`: no inbound rule admits any of `cidrs` on any of `ports`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenIngress {
    #[serde(default)]
    pub groups: Option<Value>,
    #[serde(default)]
    pub protocol: Option<String>,
    pub ports: Vec<Value>,
    #[serde(default)]
    pub cidrs: Option<Vec<String>>,
}

/// `equivalent`: a second topology that must reach exactly the same flows.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equivalent {
    pub template: PathBuf,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    #[serde(default)]
    pub ipv6: bool,
}

impl Policy {
    /// Read and check the shape of a policy file.
    pub fn read(path: &Path) -> Result<Policy, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the policy: {e}", path.display()))?;
        let at = |e: serde_yaml_ng::Error| match e.location() {
            Some(l) => format!("{}:{}:{}: {e}", path.display(), l.line(), l.column()),
            None => format!("{}: {e}", path.display()),
        };
        let raw: RawPolicy = serde_yaml_ng::from_str(&text).map_err(at)?;
        if raw.version != VERSION {
            return Err(format!(
                "{}:{}: key `version`: version {} is not supported (this vpcsim reads version {VERSION})",
                path.display(),
                line_of_key(&text, 0, "version"),
                raw.version
            ));
        }
        let mut policy = Policy {
            path: path.to_path_buf(),
            text,
            assertions: Vec::new(),
        };
        let mut seen = std::collections::BTreeSet::new();
        for a in raw.assertions {
            if !seen.insert(a.name.clone()) {
                return Err(policy.error(&a.name, "name", "two assertions have this name"));
            }
            let mut kinds = Vec::new();
            if let Some(f) = a.reach {
                kinds.push(Kind::Reach(f));
            }
            if let Some(f) = a.isolated {
                kinds.push(Kind::Isolated(f));
            }
            if let Some(f) = a.passes_through {
                kinds.push(Kind::PassesThrough(f));
            }
            if let Some(o) = a.no_open_ingress {
                kinds.push(Kind::NoOpenIngress(o));
            }
            if let Some(e) = a.equivalent {
                kinds.push(Kind::Equivalent(e));
            }
            if kinds.len() != 1 {
                return Err(policy.error(
                    &a.name,
                    "name",
                    "an assertion has exactly one of reach, isolated, passes-through, no-open-ingress, equivalent",
                ));
            }
            let kind = kinds.pop().unwrap_or_else(|| unreachable!());
            match &kind {
                Kind::PassesThrough(f) if f.through.is_none() => {
                    return Err(policy.error(&a.name, "passes-through", "needs `through`"))
                }
                Kind::Reach(f) | Kind::Isolated(f) if f.through.is_some() => {
                    return Err(policy.error(
                        &a.name,
                        "through",
                        "`through` belongs to passes-through",
                    ))
                }
                _ => {}
            }
            policy.assertions.push(Assertion {
                name: a.name,
                description: a.description,
                kind,
            });
        }
        Ok(policy)
    }

    /// The line of assertion `name` (1-based; the `name:` line).
    pub fn line(&self, name: &str) -> usize {
        self.text
            .lines()
            .position(|l| {
                let l = l.trim_start().trim_start_matches('-').trim_start();
                l.strip_prefix("name:")
                    .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == name)
            })
            .map_or(1, |i| i + 1)
    }

    /// `policy.yaml:12: assertion web-https, key `to`: message`.
    pub fn error(&self, name: &str, key: &str, message: &str) -> String {
        let line = line_of_key(&self.text, self.line(name) - 1, key);
        format!(
            "{}:{line}: assertion {name}, key `{key}`: {message}",
            self.path.display()
        )
    }
}

/// The first line at or after line index `from` (0-based) that holds `key:`, 1-based; the
/// line after `from` when none does.
fn line_of_key(text: &str, from: usize, key: &str) -> usize {
    let pat = format!("{key}:");
    text.lines()
        .enumerate()
        .skip(from)
        .find(|(_, l)| {
            let t = l.trim_start().trim_start_matches('-').trim_start();
            t.starts_with(&pat) || l.contains(&format!(" {pat}")) || l.contains(&format!("{{{pat}"))
        })
        .map_or(from + 1, |(i, _)| i + 1)
}

/// A port list: numbers and `FROM-TO` ranges, as inclusive ranges.
pub fn port_ranges(values: &[Value]) -> Result<Vec<(u16, u16)>, String> {
    values
        .iter()
        .map(|v| match v {
            Value::Number(n) => n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .map(|p| (p, p))
                .ok_or_else(|| format!("{n} is not a port (0-65535)")),
            Value::String(s) => {
                let (a, b) = s.split_once('-').unwrap_or((s, s));
                let p = |x: &str| {
                    x.trim()
                        .parse::<u16>()
                        .map_err(|_| format!("{s:?} is not a port or FROM-TO range"))
                };
                let (a, b) = (p(a)?, p(b)?);
                if a > b {
                    return Err(format!("{s:?}: the range ends before it starts"));
                }
                Ok((a, b))
            }
            other => Err(format!("{other:?} is not a port or FROM-TO range")),
        })
        .collect()
}
