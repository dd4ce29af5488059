//! What Network and Gateway Load Balancers share.

/// Health-check settings of a target group (AWS defaults for NLBs when absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    /// `HealthCheckEnabled`.
    pub enabled: bool,
    /// `TCP`, `HTTP` or `HTTPS`.
    pub protocol: String,
    /// `None`: `traffic-port`.
    pub port: Option<u16>,
    /// `HealthCheckPath` of HTTP and HTTPS checks.
    pub path: Option<String>,
    /// `HealthCheckIntervalSeconds`.
    pub interval_s: u32,
    /// `HealthCheckTimeoutSeconds`.
    pub timeout_s: u32,
    /// `HealthyThresholdCount`.
    pub healthy_threshold: u32,
    /// `UnhealthyThresholdCount`.
    pub unhealthy_threshold: u32,
    /// `Matcher.HttpCode` of HTTP and HTTPS checks (AWS's default when absent); `None` for TCP.
    pub matcher: Option<vpcsim_dataplane::topology::target_health::HttpCodes>,
}
