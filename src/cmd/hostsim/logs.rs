//! The load balancers' access logs (`DIR/alb/<LoadBalancer>.log`, SPEC §11.2.9) and the web
//! ACLs' WAF logs (`DIR/waf/<WebAcl>.log`, SPEC §19.7) that replay writes, one line per request.

use super::super::outdir::{self, OutputFolder};
use rustc_hash::FxHashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::{Duration, UNIX_EPOCH};
use vpcsim_dataplane::wire::Timestamp;
use vpcsim_dataplane::{ResId, Topology};

/// One request as the access log records it.
#[derive(Clone, Debug, Default)]
pub struct AccessEntry {
    /// When the request arrived at the node.
    pub received: Timestamp,
    /// When the node sent it to the target (`None`: not dispatched).
    pub dispatched: Option<Timestamp>,
    /// When the response was sent to the client.
    pub responded: Timestamp,
    /// `client:port`.
    pub client: String,
    /// `target:port`, `-` when the request was not dispatched.
    pub target: Option<String>,
    /// The status the client received.
    pub elb_status: u16,
    /// The target's status, if a target answered.
    pub target_status: Option<u16>,
    /// Request bytes from the client.
    pub received_bytes: usize,
    /// Response bytes to the client.
    pub sent_bytes: usize,
    /// `METHOD protocol://host:port/uri HTTP/x`.
    pub request: String,
    /// The `User-Agent` header, `-` without one.
    pub user_agent: String,
    /// The target group's ARN, `-` when not forwarded.
    pub target_group_arn: Option<String>,
    /// The matching rule's priority; 0 for the default rule, -1 when rules did not run.
    pub matched_rule_priority: i64,
    /// `waf`, `forward`, `fixed-response`, `redirect`, comma-separated.
    pub actions_executed: Vec<&'static str>,
    /// A redirect's location.
    pub redirect_url: Option<String>,
    /// AWS's error reason code (authenticate actions and Lambda targets only: always `-`
    /// here).
    pub error_reason: Option<&'static str>,
    /// The `X-Amzn-Trace-Id` root.
    pub trace_id: String,
}

fn time(t: Timestamp) -> String {
    humantime::format_rfc3339_micros(UNIX_EPOCH + Duration::from_nanos(t.0)).to_string()
}

fn seconds(from: Option<Timestamp>, to: Option<Timestamp>) -> String {
    match (from, to) {
        (Some(a), Some(b)) => format!("{:.3}", b.0.saturating_sub(a.0) as f64 / 1e9),
        _ => "-1".into(),
    }
}

fn quoted(s: Option<&str>) -> String {
    format!("\"{}\"", s.unwrap_or("-").replace('"', "\\\""))
}

impl AccessEntry {
    /// The line in AWS's field order (type `http`: HTTPS listeners are not simulated).
    pub fn line(&self, elb: &str) -> String {
        let dispatched = self.dispatched.is_some();
        let target = self.target.as_deref().unwrap_or("-");
        let fields = [
            "http".to_string(),
            time(self.responded),
            elb.to_string(),
            self.client.clone(),
            target.to_string(),
            seconds(
                Some(self.received),
                self.dispatched.or(Some(self.responded)),
            ),
            if dispatched {
                seconds(self.dispatched, Some(self.responded))
            } else {
                "-1".into()
            },
            if dispatched {
                "0.000".into()
            } else {
                "-1".into()
            },
            self.elb_status.to_string(),
            self.target_status
                .map_or("-".to_string(), |s| s.to_string()),
            self.received_bytes.to_string(),
            self.sent_bytes.to_string(),
            quoted(Some(&self.request)),
            quoted(Some(&self.user_agent)),
            "-".into(),
            "-".into(),
            self.target_group_arn.clone().unwrap_or_else(|| "-".into()),
            quoted(Some(&self.trace_id)),
            quoted(None),
            quoted(None),
            self.matched_rule_priority.to_string(),
            time(self.received),
            quoted(Some(&self.actions_executed.join(","))),
            quoted(self.redirect_url.as_deref()),
            quoted(self.error_reason),
            quoted(Some(target)),
            quoted(Some(
                &self
                    .target_status
                    .map_or("-".to_string(), |s| s.to_string()),
            )),
            quoted(None),
            quoted(None),
        ];
        fields.join(" ")
    }
}

/// `app/<name>/<id>`: the load balancer's part of its ARN.
pub fn elb_field(topo: &Topology, lb: ResId) -> String {
    let r = topo.resource(lb);
    match r.aws_id.split_once("loadbalancer/") {
        Some((_, tail)) => tail.to_string(),
        None => format!("app/{}/{}", topo.name(lb), r.aws_id),
    }
}

/// Open log files by resource, under a folder of the output directory.
pub struct Logs<'f> {
    folder: &'f OutputFolder,
    files: FxHashMap<(&'static str, ResId), BufWriter<File>>,
}

impl<'f> Logs<'f> {
    /// No file is created before its first line.
    pub fn new(folder: &'f OutputFolder) -> Logs<'f> {
        Logs {
            folder,
            files: FxHashMap::default(),
        }
    }

    /// Append `line` to `DIR/<dir>/<Resource>.log`.
    pub fn write(
        &mut self,
        topo: &Topology,
        dir: &'static str,
        res: ResId,
        line: &str,
    ) -> Result<(), String> {
        let w = match self.files.entry((dir, res)) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let rel = format!("{dir}/{}", outdir::file_name(topo, res, "log"));
                let path = self.folder.claim(&rel)?;
                if let Some(d) = path.parent() {
                    std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
                }
                slot.insert(BufWriter::new(outdir::create(&path)?))
            }
        };
        writeln!(w, "{line}").map_err(|e| e.to_string())
    }

    /// Flush every file.
    pub fn finish(&mut self) -> Result<(), String> {
        for w in self.files.values_mut() {
            w.flush().map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
