//! The data-plane side of `vpcsim serve`: an uploaded capture replayed through a region's live
//! network with the code of `vpcsim replay` (`replay_through`), reachability questions answered
//! with `vpcsim reach`'s, and the thin clients `vpcsim replay|reach --endpoint`.

use super::reach::{self, Question};
use super::replay::{replay_through, Network, ReplayArgs, Sinks};
use super::replay_input::Inputs;
use super::stdio::{errln, out, outln};
use clap::Parser;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use vpcsim_api::plane::Compiled;
use vpcsim_api::server::{RemoteReplay, ReplayOptions};
use vpcsim_api::services::ec2::flow_logs::FlowLogLine;
use vpcsim_dataplane::State;

/// `vpcsim replay`'s own options, parsed from what a remote replay asks for, so a remote replay
/// runs with exactly the local defaults.
#[derive(Parser)]
struct RemoteReplayArgs {
    #[command(flatten)]
    replay: ReplayArgs,
}

/// A scratch directory removed when dropped: the replay writes its outputs there.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "vpcsim-serve-replay-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `POST /_vpcsim/replay`: `capture` through `c` from `state`, which keeps what the frames
/// leave in it (connections, NAT sessions, flows).
pub(super) fn replay(
    c: &Compiled,
    state: &mut State,
    capture: &[u8],
    options: &ReplayOptions,
) -> Result<RemoteReplay, String> {
    let scratch = Scratch::new()?;
    let input = scratch.0.join("capture");
    std::fs::write(&input, capture).map_err(|e| format!("storing the capture: {e}"))?;
    let out_dir = scratch.0.join("out");
    let mut argv: Vec<String> = ["replay", "-t", "-", "--quiet", "--stats", "--in"]
        .map(String::from)
        .to_vec();
    argv.push(input.display().to_string());
    argv.push("--out".into());
    argv.push(out_dir.display().to_string());
    if let Some(at) = &options.at {
        argv.extend(["--at".to_string(), at.clone()]);
    }
    if let Some((format, interval)) = &options.flow_log_format {
        argv.extend(["--flow-log-format".to_string(), format.clone()]);
        argv.extend(["--flow-log-interval".to_string(), interval.to_string()]);
    }
    let args = RemoteReplayArgs::try_parse_from(&argv)
        .map_err(|e| e.to_string().trim().to_string())?
        .replay;
    let topo = &c.topology;
    // What fails before the first frame fails here, while the server's state is still in place.
    super::args::origin(topo, args.at.as_deref()).map_err(|e| e.replace("--from", "at="))?;
    let mut probe = Inputs::new(&args.input, &[])?;
    probe
        .open_next()
        .ok_or("no capture in the body")?
        .map_err(|e| format!("the body is not a capture: {e}"))?;
    let network = Network {
        topo,
        hosts: args.hosts.load(topo)?,
        account: options.account.clone(),
        region: options.region.clone(),
    };
    let sinks = Sinks {
        flow_records: true,
        minutes: true,
    };
    let inputs = Inputs::new(&args.input, &[])?;
    let done = replay_through(&args, inputs, network, std::mem::take(state), sinks);
    let done = match done {
        Ok(d) => d,
        Err(e) => return Err(format!("{e} (the region's connection state was reset)")),
    };
    *state = done.state;
    let verdicts = std::fs::read_to_string(out_dir.join(super::outdir::VERDICTS))
        .map_err(|e| format!("reading the verdicts: {e}"))?;
    let verdicts: Vec<Value> = verdicts
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut summary = done.summary;
    // Scratch paths mean nothing to the client.
    if let Some(m) = summary.as_object_mut() {
        m.remove("files");
        m.remove("input");
    }
    let text = done
        .text
        .lines()
        .filter(|l| !l.starts_with("outputs in "))
        .map(|l| l.replace(&input.display().to_string(), "the uploaded capture"))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(RemoteReplay {
        answer: json!({
            "summary": summary,
            "text": text + "\n",
            "verdicts": verdicts,
            "read_error": done.read_error,
        }),
        flow_records: done
            .flow_records
            .into_iter()
            .map(|r| FlowLogLine {
                eni: r.eni,
                end_s: r.end_s,
                accept: r.accept,
                line: r.line,
            })
            .collect(),
        minutes: done.minutes,
    })
}

/// `POST /_vpcsim/reach`: the question's JSON fields are `vpcsim reach`'s options.
pub(super) fn reach(c: &Compiled, q: &Value) -> Result<Value, String> {
    let question = Question {
        from: q["from"].as_str(),
        to: q["to"].as_str(),
        protocol: q["protocol"].as_str(),
        ipv6: q["ipv6"].as_bool().unwrap_or(false),
        matrix: q["matrix"].as_bool().unwrap_or(false),
        threads: Some(1),
    };
    let text = reach::answer(&c.topology, &question, true)?;
    serde_json::from_str(&text).map_err(|e| format!("the reach answer is not JSON: {e}"))
}

/// An error answer's message: the server's `{"error": ...}`, else its text.
fn error_of(r: ureq::Response) -> String {
    let text = r.into_string().unwrap_or_default();
    serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or(text)
}

fn answer_of(url: &str, sent: Result<ureq::Response, ureq::Error>) -> Result<Value, String> {
    let r = match sent {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => return Err(error_of(r)),
        Err(e) => return Err(format!("{url}: {e}")),
    };
    let text = r.into_string().map_err(|e| format!("{url}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{url}: the answer is not JSON: {e}"))
}

/// `vpcsim replay --endpoint URL --in F [--out DIR]`.
pub fn replay_client(args: &ReplayArgs, endpoint: &str) -> i32 {
    match replay_remote(args, endpoint) {
        Ok(()) => 0,
        Err(e) => {
            errln!("error: {e}");
            2
        }
    }
}

fn replay_remote(args: &ReplayArgs, endpoint: &str) -> Result<(), String> {
    let [input] = args.input.as_slice() else {
        return Err("--endpoint replays one capture file (--in once)".into());
    };
    let capture = if super::dash::is_dash(input) {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map_err(|e| format!("reading standard input: {e}"))?;
        buf
    } else {
        std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?
    };
    let url = format!("{}/_vpcsim/replay", endpoint.trim_end_matches('/'));
    let mut request = ureq::post(&url)
        .query("region", &args.topology.region)
        .set("Content-Type", "application/octet-stream");
    if let Some(at) = &args.at {
        request = request.query("at", at);
    }
    let sent = request.send_bytes(&capture);
    let answer = answer_of(&url, sent)?;
    if let Some(dir) = &args.out {
        write_outputs(dir, &answer)?;
    }
    out!("{}", answer["text"].as_str().unwrap_or_default());
    if let Some(n) = answer["metric_data_points"].as_u64() {
        match answer["metric_time_shift_s"].as_i64().unwrap_or(0) {
            0 => outln!("published {n} CloudWatch data points at the frames' minutes"),
            s => outln!("published {n} CloudWatch data points, the capture's minutes moved by {s} s (CloudWatch takes none older than two weeks)"),
        }
    }
    if let Some(d) = answer["flow_logs"]["delivered"].as_object() {
        for (id, n) in d {
            outln!("flow log {id}: {n} records delivered");
        }
    }
    match answer["read_error"].as_str() {
        Some(e) => Err(format!("corrupt capture: {e}")),
        None => Ok(()),
    }
}

/// `summary.json` and `verdicts.jsonl` as a local replay writes them.
fn write_outputs(dir: &Path, answer: &Value) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let summary = serde_json::to_string_pretty(&answer["summary"]).unwrap_or_default() + "\n";
    let path = dir.join("summary.json");
    std::fs::write(&path, summary).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = String::new();
    for v in answer["verdicts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        lines.push_str(&v.to_string());
        lines.push('\n');
    }
    let path = dir.join(super::outdir::VERDICTS);
    std::fs::write(&path, lines).map_err(|e| format!("{}: {e}", path.display()))
}

/// `vpcsim reach --endpoint URL --from A [--to B]`: prints the server's JSON answer.
pub fn reach_client(args: &super::reach::ReachArgs, endpoint: &str) -> i32 {
    let url = format!("{}/_vpcsim/reach", endpoint.trim_end_matches('/'));
    let body = json!({
        "region": args.topology.region,
        "from": args.from,
        "to": args.to,
        "protocol": args.protocol,
        "ipv6": args.ipv6,
        "matrix": args.matrix,
    });
    let sent = ureq::post(&url)
        .set("Content-Type", "application/json")
        .send_string(&body.to_string());
    match answer_of(&url, sent) {
        Ok(v) => {
            outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            0
        }
        Err(e) => {
            errln!("error: {e}");
            2
        }
    }
}
