//! The reason codes of `describe-target-health` (`TargetHealth.Reason`), shared by every kind
//! of target group. Which ones the simulator produces itself, and which only come from a
//! `--target-health` file, is said at each.

/// An AWS target health reason code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthReason {
    /// `initial`: the target is being registered.
    ElbRegistrationInProgress,
    /// `initial`: the first health checks are running.
    ElbInitialHealthChecking,
    /// `unhealthy`: the HTTP(S) check's response code is not one the matcher accepts.
    TargetResponseCodeMismatch,
    /// `unhealthy`: the check got no answer in time. Produced when the pipeline drops the
    /// check or its reply (routes, network ACLs and security groups drop silently).
    TargetTimeout,
    /// `unhealthy`: the connection failed or the response was malformed.
    TargetFailedHealthChecks,
    /// `unused`: the target is not registered in the group.
    TargetNotRegistered,
    /// `unused`: no load balancer sends the group traffic, or the target's zone is not enabled.
    TargetNotInUse,
    /// `draining`: the target is being deregistered.
    TargetDeregistrationInProgress,
    /// `unused`: the instance is stopped or terminated.
    TargetInvalidState,
    /// `unused`: the IP address cannot be used as a target.
    TargetIpUnusable,
    /// `unavailable`: health checks are disabled for the group.
    TargetHealthCheckDisabled,
    /// `unhealthy`/`unavailable`: the load balancer failed internally.
    ElbInternalError,
}

impl HealthReason {
    /// Every reason, for parsing and for listing them in errors.
    pub const ALL: [HealthReason; 12] = [
        HealthReason::ElbRegistrationInProgress,
        HealthReason::ElbInitialHealthChecking,
        HealthReason::TargetResponseCodeMismatch,
        HealthReason::TargetTimeout,
        HealthReason::TargetFailedHealthChecks,
        HealthReason::TargetNotRegistered,
        HealthReason::TargetNotInUse,
        HealthReason::TargetDeregistrationInProgress,
        HealthReason::TargetInvalidState,
        HealthReason::TargetIpUnusable,
        HealthReason::TargetHealthCheckDisabled,
        HealthReason::ElbInternalError,
    ];

    /// The AWS code (`Target.Timeout`).
    pub fn as_str(self) -> &'static str {
        match self {
            HealthReason::ElbRegistrationInProgress => "Elb.RegistrationInProgress",
            HealthReason::ElbInitialHealthChecking => "Elb.InitialHealthChecking",
            HealthReason::TargetResponseCodeMismatch => "Target.ResponseCodeMismatch",
            HealthReason::TargetTimeout => "Target.Timeout",
            HealthReason::TargetFailedHealthChecks => "Target.FailedHealthChecks",
            HealthReason::TargetNotRegistered => "Target.NotRegistered",
            HealthReason::TargetNotInUse => "Target.NotInUse",
            HealthReason::TargetDeregistrationInProgress => "Target.DeregistrationInProgress",
            HealthReason::TargetInvalidState => "Target.InvalidState",
            HealthReason::TargetIpUnusable => "Target.IpUnusable",
            HealthReason::TargetHealthCheckDisabled => "Target.HealthCheckDisabled",
            HealthReason::ElbInternalError => "Elb.InternalError",
        }
    }

    /// The reason of its AWS code.
    pub fn parse(s: &str) -> Option<HealthReason> {
        HealthReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for HealthReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status an application answers a health check with when nothing else is known about it:
/// the simulator assumes the application is up.
pub const ASSUMED_HTTP_STATUS: u16 = 200;

/// A target group's `Matcher.HttpCode`: the HTTP codes a health check accepts, as values
/// (`200,202`) and ranges (`200-399`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpCodes(Vec<(u16, u16)>);

impl HttpCodes {
    /// Parse `HttpCode`, every code within `allowed`.
    pub fn parse(s: &str, allowed: std::ops::RangeInclusive<u16>) -> Result<HttpCodes, String> {
        let mut ranges = Vec::new();
        for part in s.split(',').map(str::trim) {
            let (lo, hi) = part.split_once('-').unwrap_or((part, part));
            let code = |x: &str| {
                x.trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|c| allowed.contains(c))
                    .ok_or_else(|| {
                        format!(
                            "HttpCode {s:?}: {x:?} is not a code from {} to {}",
                            allowed.start(),
                            allowed.end()
                        )
                    })
            };
            let (lo, hi) = (code(lo)?, code(hi)?);
            if lo > hi {
                return Err(format!("HttpCode {s:?}: the range {part} is empty"));
            }
            ranges.push((lo, hi));
        }
        Ok(HttpCodes(ranges))
    }

    /// Whether a check answered with `code` passes.
    pub fn accepts(&self, code: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| (lo..=hi).contains(&code))
    }
}

impl std::fmt::Display for HttpCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|&(lo, hi)| {
                if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo}-{hi}")
                }
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_codes_parse_values_and_ranges() {
        let c = HttpCodes::parse("200,301-302", 200..=599).unwrap();
        assert!(c.accepts(200) && c.accepts(302) && !c.accepts(303));
        assert_eq!(c.to_string(), "200,301-302");
        assert!(HttpCodes::parse("100", 200..=599).is_err());
        assert!(HttpCodes::parse("399-200", 200..=599).is_err());
        assert!(HttpCodes::parse("ok", 200..=599).is_err());
    }
}
