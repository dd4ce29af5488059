//! Address ranges of the AWS services that gateway endpoints reach (S3, DynamoDB), per region:
//! the entries of their AWS-managed prefix lists (SPEC §10.1).
//!
//! The built-in table (`controlplane/data/service-ranges.json`) is a small subset of AWS's
//! published `https://ip-ranges.amazonaws.com/ip-ranges.json` — the `S3` and `DYNAMODB` IPv4
//! prefixes of us-east-1, us-west-2 and eu-west-1 — written down without network access from
//! what that file held around mid-2024, and not checked against the live file. AWS changes these
//! ranges over time; for exact answers set `VPCSIM_SERVICE_RANGES=FILE` to the current file
//! (same JSON format), which replaces the built-in table.

use ipnet::IpNet;
use serde::Deserialize;

const BUILTIN: &str = include_str!("../data/service-ranges.json");

/// The AWS-managed prefix list ids of the built-in regions, as shown by
/// `aws ec2 describe-managed-prefix-lists`, so templates that hard-code them (a common habit for
/// S3) resolve. Lists of other regions get a generated `pl-` id.
const MANAGED_IDS: &[(&str, &str, &str)] = &[
    ("us-east-1", "s3", "pl-63a5400a"),
    ("us-east-1", "dynamodb", "pl-02cd2c6b"),
    ("us-west-2", "s3", "pl-68a54001"),
    ("us-west-2", "dynamodb", "pl-00a54069"),
    ("eu-west-1", "s3", "pl-6da54004"),
    ("eu-west-1", "dynamodb", "pl-6fa54006"),
];

/// Services with gateway endpoints: the suffix of `com.amazonaws.REGION.X` and the `service`
/// value in ip-ranges.json.
pub const GATEWAY_SERVICES: &[(&str, &str)] = &[("s3", "S3"), ("dynamodb", "DYNAMODB")];

/// A `--service-ranges` file that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ServiceRangesError {
    /// The file is not ip-ranges.json as AWS publishes it.
    #[error("InvalidServiceRanges: {0}")]
    Json(String),
    /// A prefix of the file is not a CIDR.
    #[error("InvalidServiceRanges: {prefix:?} is not a CIDR")]
    Prefix {
        /// The prefix as written in the file.
        prefix: String,
    },
}

impl ServiceRangesError {
    /// The AWS-like code of every such error.
    pub fn code(&self) -> &'static str {
        "InvalidServiceRanges"
    }
}

#[derive(Deserialize)]
struct File {
    #[serde(rename = "createDate")]
    create_date: Option<String>,
    #[serde(default)]
    prefixes: Vec<V4>,
    #[serde(default)]
    ipv6_prefixes: Vec<V6>,
}

#[derive(Deserialize)]
struct V4 {
    ip_prefix: String,
    region: String,
    service: String,
}

#[derive(Deserialize)]
struct V6 {
    ipv6_prefix: String,
    region: String,
    service: String,
}

/// One prefix of one service in one region.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    region: String,
    service: String,
    prefix: IpNet,
}

/// The table of service prefixes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRanges {
    entries: Vec<Entry>,
    /// `createDate` of the file, for `validate` output.
    pub create_date: Option<String>,
}

impl Default for ServiceRanges {
    fn default() -> Self {
        ServiceRanges::builtin()
    }
}

impl ServiceRanges {
    /// The built-in table.
    pub fn builtin() -> ServiceRanges {
        // The file is part of the crate and covered by a test; an error here would be a build
        // defect, so fall back to an empty table rather than panic.
        ServiceRanges::from_json(BUILTIN).unwrap_or(ServiceRanges {
            entries: vec![],
            create_date: None,
        })
    }

    /// Parse a file in the ip-ranges.json format.
    pub fn from_json(text: &str) -> Result<ServiceRanges, ServiceRangesError> {
        let f: File =
            serde_json::from_str(text).map_err(|e| ServiceRangesError::Json(e.to_string()))?;
        let mut entries = Vec::new();
        let v4 = f
            .prefixes
            .into_iter()
            .map(|p| (p.ip_prefix, p.region, p.service));
        let v6 = f
            .ipv6_prefixes
            .into_iter()
            .map(|p| (p.ipv6_prefix, p.region, p.service));
        for (prefix, region, service) in v4.chain(v6) {
            let net = prefix
                .parse::<IpNet>()
                .map_err(|_| ServiceRangesError::Prefix {
                    prefix: prefix.clone(),
                })?;
            entries.push(Entry {
                region,
                service,
                prefix: net.trunc(),
            });
        }
        Ok(ServiceRanges {
            entries,
            create_date: f.create_date,
        })
    }

    /// The prefixes of a service (`S3`, `DYNAMODB`) in a region, in file order, deduplicated.
    pub fn prefixes(&self, region: &str, service: &str) -> Vec<IpNet> {
        let mut out: Vec<IpNet> = Vec::new();
        for e in &self.entries {
            if e.region == region
                && e.service.eq_ignore_ascii_case(service)
                && !out.contains(&e.prefix)
            {
                out.push(e.prefix);
            }
        }
        out
    }
}

/// `com.amazonaws.us-east-1.s3` → (`us-east-1`, `s3`, `S3`) for services with gateway endpoints.
pub fn gateway_service(service_name: &str) -> Option<(&str, &'static str, &'static str)> {
    let rest = service_name.strip_prefix("com.amazonaws.")?;
    let (region, svc) = rest.rsplit_once('.')?;
    GATEWAY_SERVICES
        .iter()
        .find(|(s, _)| *s == svc)
        .map(|&(s, ranges)| (region, s, ranges))
}

/// The published id of an AWS-managed prefix list, when vpcsim knows it.
pub fn managed_prefix_list_id(region: &str, service: &str) -> Option<&'static str> {
    MANAGED_IDS
        .iter()
        .find(|(r, s, _)| *r == region && *s == service)
        .map(|&(_, _, id)| id)
}

/// The (region, service) of a known AWS-managed prefix list id.
pub fn managed_prefix_list_by_id(id: &str) -> Option<(&'static str, &'static str)> {
    MANAGED_IDS
        .iter()
        .find(|(_, _, i)| *i == id)
        .map(|&(r, s, _)| (r, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_parses_and_has_s3_and_dynamodb() {
        let t = ServiceRanges::from_json(BUILTIN).unwrap();
        for region in ["us-east-1", "us-west-2", "eu-west-1"] {
            assert!(!t.prefixes(region, "S3").is_empty(), "{region}");
            assert!(!t.prefixes(region, "DYNAMODB").is_empty(), "{region}");
        }
        assert!(t
            .prefixes("us-east-1", "S3")
            .contains(&"52.216.0.0/15".parse().unwrap()));
    }

    #[test]
    fn service_names() {
        assert_eq!(
            gateway_service("com.amazonaws.eu-west-1.dynamodb"),
            Some(("eu-west-1", "dynamodb", "DYNAMODB"))
        );
        assert_eq!(gateway_service("com.amazonaws.us-east-1.ec2"), None);
        assert_eq!(
            managed_prefix_list_by_id("pl-63a5400a"),
            Some(("us-east-1", "s3"))
        );
    }

    #[test]
    fn bad_files_are_coded_errors() {
        assert!(matches!(
            ServiceRanges::from_json("{"),
            Err(ServiceRangesError::Json(_))
        ));
        let e = ServiceRanges::from_json(
            r#"{"prefixes":[{"ip_prefix":"nope","region":"x","service":"S3"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.code(), "InvalidServiceRanges");
    }
}
