//! `POST /_vpcsim/replay` and `POST /_vpcsim/reach`: an uploaded capture through a region's
//! live data plane (its topology now, its connection-tracking and NAT state), then the data
//! plane's CloudWatch metrics and the flow-log records delivered; and a reachability question
//! answered on the region's topology.

use std::time::SystemTime;

use serde_json::{json, Value};
use vpcsim_dataplane::state::resource_metrics::ResourceMetrics;

use super::{answer, Answer, Server};
use crate::call::HttpRequest;
use crate::services::cloudwatch::publish_replay_minutes;
use crate::services::ec2::flow_logs::{deliver_flow_logs, region_format, FlowLogLine};

/// How a remote replay runs.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// The account and Region flow-log records name.
    pub account: String,
    /// See `account`.
    pub region: String,
    /// Where every frame starts (`--at`): an instance or interface, or `internet`.
    pub at: Option<String>,
    /// The flow-log record format and aggregation interval of the region's flow logs.
    pub flow_log_format: Option<(String, u64)>,
}

/// What a remote replay hands back to the server.
#[derive(Debug, Default)]
pub struct RemoteReplay {
    /// The JSON answered: `summary` (what `summary.json` holds), `text` (what `vpcsim replay
    /// --stats` prints) and `verdicts` (the lines of `verdicts.jsonl`).
    pub answer: Value,
    /// The flow-log records of every interface.
    pub flow_records: Vec<FlowLogLine>,
    /// The per-resource counters as each minute of the capture began, and after its last frame.
    pub minutes: Vec<(u64, ResourceMetrics)>,
}

fn query_param<'q>(query: &'q str, name: &str) -> Option<std::borrow::Cow<'q, str>> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

impl Server {
    fn fail(&self, status: u16, msg: String) -> Answer {
        answer(
            status,
            "application/json",
            json!({"error": msg}).to_string(),
            crate::ids::uuid(),
        )
    }

    /// `POST /_vpcsim/replay?region=R&at=RESOURCE`, the capture (pcap or pcapng) as the body.
    pub(super) fn replay_endpoint(&self, http: &HttpRequest<'_>) -> Answer {
        let region = query_param(http.query, "region")
            .map_or_else(|| self.default_region.clone(), |r| r.into_owned());
        let plane = match self.planes.region(&self.store, &region) {
            Ok(p) => p,
            Err(e) => return self.fail(500, e.to_string()),
        };
        let format = match region_format(&self.store, &region) {
            Ok(f) => f,
            Err(e) => return self.fail(500, e.to_string()),
        };
        let options = ReplayOptions {
            account: self.account.clone(),
            region: region.clone(),
            at: query_param(http.query, "at").map(|a| a.into_owned()),
            flow_log_format: format.clone(),
        };
        let compiled = plane.current();
        let topo = &compiled.topology;
        // The gauges are read from the state the replay left, before live traffic moves it on.
        let (replayed, published) = {
            let mut state = plane.state.lock().unwrap_or_else(|p| p.into_inner());
            let replayed = match self
                .tracer
                .replay(&compiled, &mut state, http.body, &options)
            {
                Ok(r) => r,
                Err(e) => return self.fail(400, e),
            };
            let minutes = &replayed.minutes;
            let now = SystemTime::now();
            let published =
                publish_replay_minutes(&self.store, &region, topo, minutes, &state, now);
            (replayed, published)
        };
        let mut out = replayed.answer;
        match published {
            Ok((n, shift)) => {
                out["metric_data_points"] = json!(n);
                out["metric_time_shift_s"] = json!(shift);
            }
            Err(e) => return self.fail(500, format!("publishing the metrics: {e}")),
        }
        if let Some(format) = &format {
            let records = &replayed.flow_records;
            let now = SystemTime::now();
            match deliver_flow_logs(
                &self.store,
                &region,
                &self.account,
                topo,
                format,
                records,
                now,
            ) {
                Ok(v) => out["flow_logs"] = v,
                Err(e) => return self.fail(500, format!("delivering the flow logs: {e}")),
            }
        }
        answer(200, "application/json", out.to_string(), crate::ids::uuid())
    }

    /// `POST /_vpcsim/reach` with `{"region", "from", "to", "protocol", "ipv6", "matrix"}`.
    pub(super) fn reach_endpoint(&self, http: &HttpRequest<'_>) -> Answer {
        let question: Value = match serde_json::from_slice(http.body) {
            Ok(v) => v,
            Err(e) => return self.fail(400, format!("the body is not JSON: {e}")),
        };
        let region = question["region"].as_str().unwrap_or(&self.default_region);
        let plane = match self.planes.region(&self.store, region) {
            Ok(p) => p,
            Err(e) => return self.fail(500, e.to_string()),
        };
        match self.tracer.reach(&plane.current(), &question) {
            Ok(v) => answer(200, "application/json", v.to_string(), crate::ids::uuid()),
            Err(e) => self.fail(400, e),
        }
    }
}
