//! The AWS service quotas vpcsim enforces, by the names `--quota NAME=N` takes.
//!
//! Templates are checked against AWS's default quotas, as CloudFormation in a fresh account
//! would be. A snapshot is state AWS already accepted: a count above a default quota means the
//! account's quota was raised on request, so it is a warning unless `--quota` sets the quota the
//! account really has.

use crate::load::Severity;
use std::collections::BTreeMap;

/// One quota: its `--quota` name, AWS's error code when it is exceeded, and its default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaInfo {
    /// The name `--quota` takes (`rules-per-sg`).
    pub name: &'static str,
    /// The code AWS answers with when the quota is exceeded.
    pub code: &'static str,
    /// AWS's default value.
    pub default: u32,
    /// What is counted, for help texts and messages.
    pub counts: &'static str,
}

/// Every quota vpcsim enforces (SPEC.md gives the AWS source of each default).
pub const QUOTAS: &[QuotaInfo] = &[
    QuotaInfo {
        name: "rules-per-sg",
        code: "RulesPerSecurityGroupLimitExceeded",
        default: 60,
        counts: "inbound or outbound rules of a security group, per address family",
    },
    QuotaInfo {
        name: "cidrs-per-vpc",
        code: "CidrLimitExceeded",
        default: 5,
        counts: "IPv4 CIDR blocks of a VPC",
    },
    QuotaInfo {
        name: "propagated-routes-per-route-table",
        code: "RouteLimitExceeded",
        default: 100,
        counts: "routes propagated into a route table by virtual private gateways",
    },
    QuotaInfo {
        name: "addresses-per-nat-gateway",
        code: "AddressLimitExceeded",
        default: 8,
        counts: "private IPv4 addresses of a NAT gateway (primary and secondary)",
    },
];

/// The quotas in force for one load: AWS's defaults with `--quota` overrides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quotas {
    overrides: BTreeMap<&'static str, u32>,
    /// Whether the input is observed AWS state (a snapshot) rather than a request (a template).
    pub observed: bool,
}

impl Quotas {
    /// Set quota `name` (one of [`QUOTAS`]) to `value`.
    pub fn set(&mut self, name: &str, value: u32) -> Result<(), String> {
        let q = info(name)?;
        self.overrides.insert(q.name, value);
        Ok(())
    }

    /// The value of quota `name` in force.
    ///
    /// # Panics
    /// If `name` is not in [`QUOTAS`] (a typo in vpcsim itself).
    pub fn limit(&self, name: &str) -> u32 {
        let q = info(name).expect("quota names are constants of QUOTAS");
        self.overrides.get(q.name).copied().unwrap_or(q.default)
    }

    /// How to report a count above quota `name`: an error, except for observed state
    /// checked against a default that the account may have raised.
    pub fn severity(&self, name: &str) -> Severity {
        if self.observed && !self.overrides.contains_key(name) {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// The message for `n` counted items above quota `name`.
    pub fn exceeded(&self, name: &str, n: usize, what: &str) -> String {
        let limit = self.limit(name);
        let mut msg = format!("{n} {what}; the quota is {limit}");
        if self.severity(name) == Severity::Warning {
            msg.push_str(&format!(
                " (AWS's default: the account's quota must have been raised; `--quota {name}=N` sets it)"
            ));
        } else if !self.overrides.contains_key(name) {
            msg.push_str(&format!(" (`--quota {name}=N` raises it)"));
        }
        msg
    }
}

fn info(name: &str) -> Result<&'static QuotaInfo, String> {
    QUOTAS.iter().find(|q| q.name == name).ok_or_else(|| {
        let names: Vec<&str> = QUOTAS.iter().map(|q| q.name).collect();
        format!("unknown quota {name:?} (known: {})", names.join(", "))
    })
}

/// Parse `--quota NAME=N`.
pub fn parse_quota(s: &str) -> Result<(String, u32), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=N, got {s:?}"))?;
    let q = info(name.trim())?;
    let value: u32 = value
        .trim()
        .parse()
        .map_err(|_| format!("{name}: {value:?} is not a whole number"))?;
    if value == 0 {
        return Err(format!("{name}: a quota of 0 allows nothing"));
    }
    Ok((q.name.to_string(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_overrides_and_severity() {
        let mut q = Quotas::default();
        assert_eq!(q.limit("rules-per-sg"), 60);
        assert_eq!(q.severity("rules-per-sg"), Severity::Error);
        q.observed = true;
        assert_eq!(q.severity("rules-per-sg"), Severity::Warning);
        q.set("rules-per-sg", 1000).unwrap();
        assert_eq!(q.limit("rules-per-sg"), 1000);
        assert_eq!(q.severity("rules-per-sg"), Severity::Error);
        assert!(q.set("rules", 1).is_err());
        assert_eq!(
            parse_quota("cidrs-per-vpc=50"),
            Ok(("cidrs-per-vpc".into(), 50))
        );
        assert!(parse_quota("cidrs-per-vpc=x").is_err());
        assert!(parse_quota("cidrs-per-vpc").is_err());
        assert!(parse_quota("rules-per-sg=0").is_err());
    }
}
