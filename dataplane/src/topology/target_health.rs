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
