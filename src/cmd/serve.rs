//! `vpcsim serve`: the AWS API on one port, the data plane behind it; and the thin client
//! `vpcsim trace --endpoint` uses.

use super::args::origin;
use super::flowspec;
use super::stdio::{errln, outln};
use clap::Args;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use vpcsim_api::auth::{ensure_root_credentials, PolicyAuthorizer, SigV4Authenticator};
use vpcsim_api::call::{Authenticator, Authorizer};
use vpcsim_api::plane::{
    ensure_default_vpc, load_options, load_region, model_documents, Compiled, Planes,
};
use vpcsim_api::server::{AllowAll, NoAuthAuthenticator, Server, Tracer};
use vpcsim_api::services::cloudwatch::{evaluate_alarms, regions_with_alarms};
use vpcsim_api::services::ec2::{store_documents, ASYNC_DELAY_KEY};
use vpcsim_api::store::Store;
use vpcsim_api::trail::{deliver, CloudTrailRecorder};
use vpcsim_controlplane::load::{load_stacks, StackFile};
use vpcsim_controlplane::snapshot::load_snapshot;
use vpcsim_controlplane::{Loaded, Severity};
use vpcsim_dataplane::pipeline::exchange::exchange;
use vpcsim_dataplane::{State, StateConfig, Timestamp};
use vpcsim_report::{explain, json};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim serve --no-auth
  vpcsim serve --no-auth -t examples/two-tier.yaml --db state.db
  aws --endpoint-url http://127.0.0.1:4566 ec2 describe-vpcs
  vpcsim trace --endpoint http://127.0.0.1:4566 'tcp 10.0.1.20:40000 -> 10.0.2.30:5432'

Every request is checked as AWS checks it: the SigV4 signature, then the signer's IAM policies
(root may do everything). The root credentials are --access-key/--secret-key, or generated at
the first start, stored in the database and printed. --no-auth skips both (every request
allowed; the server warns at every start). Every call, allowed or denied, is a CloudTrail event
(`aws cloudtrail lookup-events`; written as a trail delivers them with --cloudtrail-dir).")]
pub struct ServeArgs {
    /// Templates or describe-* snapshot directories deployed into --region when the database
    /// is new, as if they had been created there (repeatable; `NAME=FILE` names the stack).
    #[arg(long = "topology", short = 't', value_name = "[NAME=]FILE|DIR")]
    pub topology: Vec<PathBuf>,
    /// The SQLite database holding the state (created if missing). Default: in memory, gone
    /// when the server stops.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:4566", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// The region seeded templates go into (requests name their own region in their signature).
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// The account the server simulates.
    #[arg(long, default_value = "123456789012")]
    pub account_id: String,
    /// Accept every request without verifying its signature and allow every action.
    #[arg(long)]
    pub no_auth: bool,
    /// The root user's access key id (with --secret-key).
    #[arg(long, requires = "secret_key", value_name = "KEY")]
    pub access_key: Option<String>,
    /// The root user's secret access key.
    #[arg(long, requires = "access_key", value_name = "SECRET")]
    pub secret_key: Option<String>,
    /// Seconds before resources AWS creates asynchronously become ready (NAT gateways
    /// `available`, instances `running`, terminated instances `terminated`).
    #[arg(long, default_value = "2", value_name = "SECONDS")]
    pub async_delay: f64,
    /// Worker threads answering requests.
    #[arg(long, default_value = "8", value_name = "N")]
    pub workers: usize,
    /// Also write the CloudTrail records as a trail delivers them to S3:
    /// `DIR/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/…json.gz`, one file per region and
    /// 5-minute window (the last one when the server stops).
    #[arg(long, value_name = "DIR")]
    pub cloudtrail_dir: Option<PathBuf>,
    /// Seconds between two evaluations of the CloudWatch alarms of every region that has some
    /// (also evaluated once at start).
    #[arg(long, default_value = "60", value_name = "SECONDS")]
    pub alarm_interval: f64,
    #[command(flatten)]
    pub live: super::live::LiveServeArgs,
}

/// Traces for `/_vpcsim/trace`, with the same pipeline, explanation and JSON as `vpcsim trace
/// --json`.
#[derive(Debug)]
struct Traces;

/// When a trace happens: the same fixed instant as `vpcsim trace`.
const TRACE_TIME: Timestamp = Timestamp::from_secs(1_700_000_000);

impl Tracer for Traces {
    fn trace(&self, c: &Compiled, flow: &str, from: Option<&str>) -> Result<Value, String> {
        // A destination given as a name is answered by the source's VPC resolver, as in
        // `vpcsim trace`.
        let name_dst = flowspec::destination_name(flow);
        let spec = name_dst.as_ref().map_or(flow, |(_, s)| s.as_str());
        let mut header = flowspec::parse(spec)?;
        let start = origin(&c.topology, from)?;
        let dns_hop = match &name_dst {
            Some((name, _)) => Some(super::dns::resolve_destination(
                &c.topology,
                start,
                &mut header,
                name,
            )?),
            None => None,
        };
        let mut t: vpcsim_dataplane::pipeline::exchange::Exchange<vpcsim_dataplane::Trace> =
            exchange(
                &c.topology,
                &mut State::new(StateConfig::default()),
                header,
                start,
                TRACE_TIME,
            );
        if let Some(hop) = dns_hop {
            t.request_trace.hops.insert(0, hop);
        }
        let mut out = json::trace_json(&c.topology, &t.request, &t.request_trace.hops);
        if let Some(e) = explain::explain(
            &c.topology,
            &c.model,
            &t.request,
            &t.request_trace.hops,
            false,
        ) {
            out["explanation"] = e.to_json(&c.model);
        }
        Ok(out)
    }

    fn target_health(&self, c: &Compiled) -> Value {
        Value::Array(super::health::health_json(&c.topology))
    }

    fn replay(
        &self,
        c: &Compiled,
        state: &mut State,
        capture: &[u8],
        options: &vpcsim_api::server::ReplayOptions,
    ) -> Result<vpcsim_api::server::RemoteReplay, String> {
        super::serve_dataplane::replay(c, state, capture, options)
    }

    fn reach(&self, c: &Compiled, question: &Value) -> Result<Value, String> {
        super::serve_dataplane::reach(c, question)
    }
}

/// Loads `-t` sources: snapshot directories first, then templates on top of the region.
fn seed(store: &Store, args: &ServeArgs) -> Result<(), String> {
    let (region, account) = (&args.region, &args.account_id);
    let opts = load_options(account, region);
    let (dirs, stacks): (Vec<StackFile>, Vec<StackFile>) = args
        .topology
        .iter()
        .map(|p| StackFile::parse(p))
        .partition(|s| s.path.is_dir());
    let fail = |what: &str, l: &Loaded| -> Result<(), String> {
        let errors: Vec<String> = l
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| format!("{}: {} ({})", d.file.display(), d.message, d.code))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{what} has errors:\n  {}", errors.join("\n  ")))
        }
    };
    store
        .write(|tx| {
            if !dirs.is_empty() {
                let paths: Vec<PathBuf> = dirs.iter().map(|d| d.path.clone()).collect();
                let snapshot = load_snapshot(&paths, &opts);
                fail("the snapshot", &snapshot).map_err(vpcsim_api::error::ApiError::internal)?;
                store_documents(tx, region, account, &model_documents(&snapshot.model))?;
            }
            ensure_default_vpc(tx, account, region)?;
            if !stacks.is_empty() {
                let (model, diagnostics) = load_region(tx, account, region)?;
                let loaded = load_stacks(&stacks, Some(Loaded { model, diagnostics }), &opts);
                fail("a template", &loaded).map_err(vpcsim_api::error::ApiError::internal)?;
                let stored: std::collections::HashSet<(String, String)> = tx
                    .list_all(region)?
                    .into_iter()
                    .flat_map(|(kind, docs)| {
                        let field = vpcsim_api::plane::id_field(&kind);
                        docs.into_iter()
                            .map(move |d| {
                                (
                                    kind.clone(),
                                    d[field].as_str().unwrap_or_default().to_string(),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                    .collect();
                let new: Vec<_> = model_documents(&loaded.model)
                    .into_iter()
                    .filter(|(k, i, _)| !stored.contains(&(k.clone(), i.clone())))
                    .collect();
                store_documents(tx, region, account, &new)?;
            }
            tx.put_meta("seeded", "1")
        })
        .map_err(|e| e.message)
}

pub fn run(args: &ServeArgs) -> i32 {
    let started = Instant::now();
    if args.no_auth {
        errln!("warning: --no-auth: signatures are not verified and every action is allowed; anyone who can reach {} controls this server", args.listen);
        if args.access_key.is_some() {
            errln!("warning: --access-key/--secret-key are ignored with --no-auth");
        }
    }
    let store = match Store::open(args.db.as_deref()) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            errln!("error: opening the state database: {}", e.message);
            return 2;
        }
    };
    let delay_ms = (args.async_delay.max(0.0) * 1000.0) as u64;
    let seeded = store
        .write(|tx| {
            tx.put_meta(ASYNC_DELAY_KEY, &delay_ms.to_string())?;
            tx.meta("seeded")
        })
        .map(|s| s.is_some());
    match seeded {
        Ok(true) if !args.topology.is_empty() => {
            errln!("warning: the database already holds state: -t is not deployed again");
        }
        Ok(_) => {
            if let Err(e) = seed(&store, args) {
                errln!("error: {e}");
                return 2;
            }
        }
        Err(e) => {
            errln!("error: {}", e.message);
            return 2;
        }
    }
    let planes = Arc::new(Planes::new(&args.account_id));
    if let Err(e) = planes.region(&store, &args.region) {
        errln!(
            "error: building the data plane of {}: {}",
            args.region,
            e.message
        );
        return 2;
    }
    let Some((authenticator, authorizer)) = auth(&store, args) else {
        return 2;
    };
    let listener = match vpcsim_api::server::listen(args.listen) {
        Ok(l) => l,
        Err(e) => {
            errln!("error: listening on {}: {e}", args.listen);
            return 2;
        }
    };
    let server = Server {
        store,
        planes,
        authenticator,
        authorizer,
        recorder: Arc::new(CloudTrailRecorder),
        tracer: Arc::new(Traces),
        account: args.account_id.clone(),
        default_region: args.region.clone(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        errln!("warning: cannot catch Ctrl-C/SIGTERM ({e}): stop the server with a signal that kills it");
    }
    let live = match super::live::start(
        &args.live,
        &server.planes,
        &server.store,
        &args.region,
        args.listen,
        &stop,
    ) {
        Ok(l) => l,
        Err(code) => return code,
    };
    outln!(
        "vpcsim serve: listening on http://{} (account {}, seeded region {}, ready in {} ms)",
        args.listen,
        args.account_id,
        args.region,
        started.elapsed().as_millis()
    );
    let delivery = args.cloudtrail_dir.as_ref().map(|dir| {
        let (store, dir, account, stop) = (
            Arc::clone(&server.store),
            dir.clone(),
            args.account_id.clone(),
            Arc::clone(&stop),
        );
        std::thread::spawn(move || deliver_cloudtrail(&store, &dir, &account, &stop))
    });
    let alarms = {
        let (store, stop) = (Arc::clone(&server.store), Arc::clone(&stop));
        let every = Duration::from_secs_f64(args.alarm_interval.max(0.1));
        std::thread::spawn(move || evaluate_alarms_every(&store, every, &stop))
    };
    server.run(listener, args.workers, &stop);
    if let Some(d) = delivery {
        // The delivery thread writes the last window when it sees `stop`.
        let _ = d.join();
    }
    let _ = alarms.join();
    if let Some(l) = live {
        l.finish();
    }
    errln!("vpcsim serve: stopped");
    0
}

/// Who may call: SigV4 and the signer's IAM policies, or, with `--no-auth`, anyone. Prints the
/// root credentials when they were generated now; `None` after printing why it cannot start.
fn auth(
    store: &Arc<Store>,
    args: &ServeArgs,
) -> Option<(Arc<dyn Authenticator>, Arc<dyn Authorizer>)> {
    if args.no_auth {
        return Some((
            Arc::new(NoAuthAuthenticator {
                account: args.account_id.clone(),
            }),
            Arc::new(AllowAll),
        ));
    }
    match ensure_root_credentials(
        store,
        args.access_key.as_deref(),
        args.secret_key.as_deref(),
    ) {
        Ok((key, secret, true)) => {
            outln!("root credentials (generated now, kept in the database):\n  AWS_ACCESS_KEY_ID={key}\n  AWS_SECRET_ACCESS_KEY={secret}");
        }
        Ok((key, _, false)) => outln!("root access key {key}"),
        Err(e) => {
            errln!("error: {}", e.message);
            return None;
        }
    }
    Some((
        Arc::new(SigV4Authenticator {
            account: args.account_id.clone(),
        }),
        Arc::new(PolicyAuthorizer::new(Arc::clone(store))),
    ))
}

/// Writes closed CloudTrail windows every 30 seconds, and everything left when the server stops.
fn deliver_cloudtrail(store: &Store, dir: &std::path::Path, account: &str, stop: &AtomicBool) {
    let mut last = Instant::now();
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        if stopping || last.elapsed() >= std::time::Duration::from_secs(30) {
            last = Instant::now();
            if let Err(e) = deliver(store, dir, account, std::time::SystemTime::now(), stopping) {
                errln!(
                    "warning: CloudTrail delivery to {}: {}",
                    dir.display(),
                    e.message
                );
            }
        }
        if stopping {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Evaluates the CloudWatch alarms of every region holding some, at start and then every
/// `every`, as CloudWatch does once a minute, until the server stops.
fn evaluate_alarms_every(store: &Store, every: Duration, stop: &AtomicBool) {
    let mut next = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        if Instant::now() >= next {
            next = Instant::now() + every;
            let regions = regions_with_alarms(store).unwrap_or_else(|e| {
                errln!("warning: listing the regions with alarms: {}", e.message);
                Vec::new()
            });
            for region in regions {
                if let Err(e) = evaluate_alarms(store, &region, SystemTime::now()) {
                    errln!("warning: evaluating the alarms of {region}: {}", e.message);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100).min(every));
    }
}

/// `vpcsim trace --endpoint URL`: asks a running server to trace and prints its JSON answer.
pub fn trace_remote(
    endpoint: &str,
    flow: &str,
    from: Option<&str>,
    region: &str,
) -> Result<Value, String> {
    let url = format!("{}/_vpcsim/trace", endpoint.trim_end_matches('/'));
    let mut body = serde_json::json!({"flow": flow, "region": region});
    if let Some(f) = from {
        body["from"] = serde_json::json!(f);
    }
    let answer = match ureq::post(&url)
        .set("Content-Type", "application/json")
        .send_string(&body.to_string())
    {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => {
            let text = r.into_string().unwrap_or_default();
            let msg = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or(text);
            return Err(msg);
        }
        Err(e) => return Err(format!("{url}: {e}")),
    };
    let text = answer.into_string().map_err(|e| format!("{url}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{url}: the answer is not JSON: {e}"))
}
