//! The metrics AWS publishes for the data plane's resources, from the counters the pipeline
//! keeps per NAT gateway and Network Load Balancer (SPEC.md §24.3): `AWS/NATGateway` by
//! `NatGatewayId`, `AWS/NetworkELB` by `LoadBalancer` (`net/<name>/<id>`) and, for the host
//! counts, by `TargetGroup` and `LoadBalancer`.

use std::time::{Duration, SystemTime};

use vpcsim_dataplane::state::resource_metrics::ResourceMetrics;
use vpcsim_dataplane::topology::nlb::HealthState;
use vpcsim_dataplane::{State, Topology};

use super::metrics::publish;
use crate::error::ApiError;
use crate::store::Store;

/// Counts of one minute (or any span) of traffic, published at `time`'s minute.
#[derive(Debug, Clone, Copy)]
pub struct DataplaneMinute<'a> {
    /// What the resources counted during the minute (see [`ResourceMetrics::since`]).
    pub counted: &'a ResourceMetrics,
    /// The state at the minute's end, for the gauges (`ActiveConnectionCount`,
    /// `ActiveFlowCount`); `None` publishes only the counts.
    pub state: Option<&'a State>,
    /// When the minute was.
    pub time: SystemTime,
}

/// The part of a load balancer or target group ARN CloudWatch's dimensions carry:
/// `net/<name>/<id>`, `targetgroup/<name>/<id>`.
fn arn_suffix(arn: &str) -> &str {
    arn.split_once(":loadbalancer/")
        .map(|(_, s)| s)
        .or_else(|| arn.rsplit_once(':').map(|(_, s)| s))
        .unwrap_or(arn)
}

/// Publishes one minute of `topology`'s NAT gateway and Network Load Balancer metrics into
/// `region`; returns how many data points it wrote. A live loop calls it once a minute with the
/// counters' difference; a replay once per minute of its capture.
pub fn publish_dataplane_metrics(
    store: &Store,
    region: &str,
    topology: &Topology,
    minute: &DataplaneMinute<'_>,
) -> Result<usize, ApiError> {
    let mut points = 0;
    let time = minute.time;
    let mut put = |ns: &str, name: &str, dims: &[(&str, &str)], v: u64, unit: &str| {
        points += 1;
        publish(store, region, ns, name, dims, v as f64, unit, time)
    };
    for (i, nat) in topology.nat_gateways.iter().enumerate() {
        let n = i.into();
        let c = minute.counted.nat(n);
        let id = topology.resource(nat.res).aws_id.as_str();
        let dims = [("NatGatewayId", id)];
        let ns = "AWS/NATGateway";
        for (name, v, unit) in [
            (
                "ConnectionAttemptCount",
                c.connection_attempt_count,
                "Count",
            ),
            (
                "ConnectionEstablishedCount",
                c.connection_established_count,
                "Count",
            ),
            ("ErrorPortAllocation", c.error_port_allocation, "Count"),
            ("PacketsDropCount", c.packets_drop_count, "Count"),
            ("PacketsInFromSource", c.packets_in_from_source, "Count"),
            ("BytesInFromSource", c.bytes_in_from_source, "Bytes"),
            (
                "PacketsOutToDestination",
                c.packets_out_to_destination,
                "Count",
            ),
            ("BytesOutToDestination", c.bytes_out_to_destination, "Bytes"),
            (
                "PacketsInFromDestination",
                c.packets_in_from_destination,
                "Count",
            ),
            (
                "BytesInFromDestination",
                c.bytes_in_from_destination,
                "Bytes",
            ),
            ("PacketsOutToSource", c.packets_out_to_source, "Count"),
            ("BytesOutToSource", c.bytes_out_to_source, "Bytes"),
        ] {
            put(ns, name, &dims, v, unit)?;
        }
        if let Some(state) = minute.state {
            let active = state.nat.sessions_of(n) as u64;
            put(ns, "ActiveConnectionCount", &dims, active, "Count")?;
        }
    }
    let nlbs = &topology.nlb;
    for (i, lb) in nlbs.load_balancers.iter().enumerate() {
        let l = i.into();
        let c = minute.counted.nlb(l);
        let lb_dim = arn_suffix(&topology.resource(lb.res).aws_id).to_string();
        let dims = [("LoadBalancer", lb_dim.as_str())];
        let ns = "AWS/NetworkELB";
        put(ns, "NewFlowCount", &dims, c.new_flow_count, "Count")?;
        put(ns, "ProcessedBytes", &dims, c.processed_bytes, "Bytes")?;
        let Some(state) = minute.state else { continue };
        put(
            ns,
            "ActiveFlowCount",
            &dims,
            state.nlb.flows_of(l) as u64,
            "Count",
        )?;
        let mut groups: Vec<_> = lb.listeners.iter().map(|li| li.target_group).collect();
        groups.sort_by_key(|g| g.index());
        groups.dedup();
        for g in groups {
            let Some(tg) = nlbs.target_groups.get(g) else {
                continue;
            };
            let tg_dim = arn_suffix(&topology.resource(tg.res).aws_id).to_string();
            let dims = [
                ("TargetGroup", tg_dim.as_str()),
                ("LoadBalancer", lb_dim.as_str()),
            ];
            let healthy = tg
                .targets
                .iter()
                .filter(|t| t.health.state == HealthState::Healthy)
                .count() as u64;
            let unhealthy = tg
                .targets
                .iter()
                .filter(|t| t.health.state == HealthState::Unhealthy)
                .count() as u64;
            put(ns, "HealthyHostCount", &dims, healthy, "Count")?;
            put(ns, "UnHealthyHostCount", &dims, unhealthy, "Count")?;
        }
    }
    Ok(points)
}

/// How far back CloudWatch accepts a data point (`PutMetricData`: two weeks).
const OLDEST_ACCEPTED_S: u64 = 14 * 24 * 3600;

/// Publishes the minutes of a replay: `minutes` are `(minute start in seconds, counters then)`
/// as the replay snapshotted them, the last one the counters after the last frame. Each minute
/// gets what was counted until the next snapshot, at its own time; the gauges go with the last.
/// A capture older than CloudWatch accepts (or from the future) is moved as a whole, so that its
/// last minute is `now`'s. Answers the data points written and the seconds the capture was moved.
pub fn publish_replay_minutes(
    store: &Store,
    region: &str,
    topology: &Topology,
    minutes: &[(u64, ResourceMetrics)],
    state: &State,
    now: SystemTime,
) -> Result<(usize, i64), ApiError> {
    let now_s = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let now_minute = now_s - now_s % 60;
    let last = minutes.last().map_or(now_minute, |m| m.0);
    let shift = if last + OLDEST_ACCEPTED_S < now_s || last > now_minute {
        now_minute as i64 - last as i64
    } else {
        0
    };
    let mut points = 0;
    let spans = minutes.windows(2).enumerate();
    let last = minutes.len().saturating_sub(2);
    for (i, pair) in spans {
        let (minute, before) = &pair[0];
        let (_, after) = &pair[1];
        let counted = after.since(before);
        points += publish_dataplane_metrics(
            store,
            region,
            topology,
            &DataplaneMinute {
                counted: &counted,
                state: (i == last).then_some(state),
                time: SystemTime::UNIX_EPOCH
                    + Duration::from_secs((*minute as i64 + shift).max(0) as u64),
            },
        )?;
    }
    Ok((points, shift))
}

#[cfg(test)]
mod tests {
    use super::arn_suffix;

    #[test]
    fn dimensions_are_the_arns_resource_part() {
        assert_eq!(
            arn_suffix("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/web/50dc6c495c0c9188"),
            "net/web/50dc6c495c0c9188"
        );
        assert_eq!(
            arn_suffix("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067"),
            "targetgroup/web/73e2d6bc24d8a067"
        );
    }
}
