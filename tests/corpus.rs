//! The third-party corpus beside the checkout (`../shared/corpus`): real CloudFormation
//! templates through `vpcsim validate --json`, and every capture of the pcap corpus through
//! `vpcsim replay` on the example topology. Nothing may crash (exit 101 is a panic, -1 a signal);
//! every answer must be well-formed. Each test prints a note and passes when the corpus is absent.
//!
//! Run with `--nocapture` to see the per-file lines and the totals.

mod common;

use common::{corpus, example, vpcsim};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Codes of errors about a template as a whole (no resource to name).
const TEMPLATE_LEVEL: [&str; 2] = ["InvalidTemplate", "UnknownParameter"];

fn templates(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            templates(&p, out);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["yaml", "yml", "json", "template"].contains(&e))
        {
            out.push(p);
        }
    }
}

/// Check one diagnostic of `validate --json`; returns a problem description, if any.
fn check_diagnostic(d: &Value, file: &Path) -> Option<String> {
    let code = d["code"].as_str().unwrap_or("");
    if code.is_empty() {
        return Some(format!("no code: {d}"));
    }
    if !d["file"]
        .as_str()
        .is_some_and(|f| Path::new(f) == file || f.ends_with(&*file.to_string_lossy()))
    {
        return Some(format!("file is not the template: {d}"));
    }
    if d["message"].as_str().is_none_or(str::is_empty) {
        return Some(format!("no message: {d}"));
    }
    if !TEMPLATE_LEVEL.contains(&code) && d["logical_id"].as_str().is_none_or(str::is_empty) {
        return Some(format!("no logical id: {d}"));
    }
    None
}

/// (a) Every template validates to exit 0 or 2 with well-formed JSON; every error has a code, the
/// file and (for resource errors) a logical id. Templates that need parameters without defaults
/// legitimately fail with MissingParameter.
#[test]
fn cfn_templates_validate_cleanly_or_with_precise_errors() {
    let Some(dir) = corpus("cfn") else {
        eprintln!("note: ../shared/corpus/cfn is absent: CloudFormation corpus test skipped");
        return;
    };
    let mut files = Vec::new();
    templates(&dir, &mut files);
    assert!(!files.is_empty(), "no templates under {}", dir.display());
    let started = Instant::now();
    let mut problems = Vec::new();
    let (mut ok, mut failed) = (0, 0);
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&dir).unwrap().display().to_string();
        let out = vpcsim([
            "validate".as_ref(),
            "-t".as_ref(),
            f.as_os_str(),
            "--json".as_ref(),
        ]);
        if out.code != 0 && out.code != 2 {
            problems.push(format!(
                "{rel}: exit {} (101 = panic, -1 = signal): {}",
                out.code, out.stderr
            ));
            continue;
        }
        let j: Value = match serde_json::from_str(&out.stdout) {
            Ok(j) => j,
            Err(e) => {
                problems.push(format!("{rel}: stdout is not JSON ({e})"));
                continue;
            }
        };
        let (Some(errors), Some(warnings)) = (j["errors"].as_array(), j["warnings"].as_array())
        else {
            problems.push(format!("{rel}: no errors/warnings arrays"));
            continue;
        };
        if (out.code == 2) == errors.is_empty() {
            problems.push(format!(
                "{rel}: exit {} with {} errors",
                out.code,
                errors.len()
            ));
        }
        for d in errors.iter().chain(warnings) {
            if let Some(p) = check_diagnostic(d, f) {
                problems.push(format!("{rel}: {p}"));
            }
        }
        let mut mine: Vec<String> = errors
            .iter()
            .map(|e| e["code"].as_str().unwrap_or("?").to_string())
            .collect();
        for c in &mine {
            *codes.entry(c.clone()).or_default() += 1;
        }
        mine.dedup();
        if errors.is_empty() {
            ok += 1;
        } else {
            failed += 1;
        }
        println!(
            "{rel}: exit {}, {} error(s) {:?}, {} warning(s), {} resource type(s)",
            out.code,
            errors.len(),
            mine,
            warnings.len(),
            j["resources"].as_object().map_or(0, |r| r.len())
        );
    }
    println!(
        "{} templates in {:.1} s: {ok} valid, {failed} with errors; error codes: {codes:?}",
        files.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

struct Entry {
    path: String,
    linktype: String,
    packets: i64,
    tags: Vec<String>,
}

impl Entry {
    fn tagged(&self, t: &str) -> bool {
        self.tags.iter().any(|x| x == t)
    }
}

struct Outcome {
    code: i32,
    stderr: String,
    summary: Option<Value>,
}

fn replay_one(capture: &Path, out: &Path) -> Outcome {
    let o = vpcsim([
        "replay".as_ref(),
        "-t".as_ref(),
        example().as_os_str(),
        "--in".as_ref(),
        capture.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--no-verdicts".as_ref(),
        "--quiet".as_ref(),
    ]);
    let summary = std::fs::read_to_string(out.join("summary.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok());
    Outcome {
        code: o.code,
        stderr: o.stderr,
        summary,
    }
}

fn count(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// (b) Every capture of MANIFEST.tsv replays through the example without a crash: exit 0, or 2
/// only for files whose header is unparsable; summary dispositions add up to `packets`; files
/// that are neither malformed nor truncated give exactly MANIFEST's packet count; malformed ones
/// end as MALFORMED/UNSUPPORTED counts, read errors or ordinary verdicts, never a crash.
#[test]
fn pcap_corpus_replays_without_crashing() {
    let Some(dir) = corpus("pcaps") else {
        eprintln!("note: ../shared/corpus/pcaps is absent: capture corpus test skipped");
        return;
    };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let entries: Vec<Entry> = manifest
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Entry {
                path: f[0].to_string(),
                linktype: f[3].to_string(),
                packets: f[4].parse().unwrap_or(-1),
                tags: f[5]
                    .split(',')
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect(),
            }
        })
        .collect();
    assert!(!entries.is_empty());

    // Debug-mode spawns take ~10 ms each; two workers keep the run well under a minute.
    let work = tempfile::tempdir().unwrap();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> =
        Mutex::new((0..entries.len()).map(|_| None).collect());
    let started = Instant::now();
    std::thread::scope(|s| {
        for w in 0..2 {
            let (entries, next, results, dir, work) = (&entries, &next, &results, &dir, &work);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(e) = entries.get(i) else { break };
                let out = work.path().join(format!("w{w}-{i}"));
                let o = replay_one(&dir.join(&e.path), &out);
                let _ = std::fs::remove_dir_all(&out);
                results.lock().unwrap()[i] = Some(o);
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let results: Vec<Outcome> = results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect();

    let mut problems = Vec::new();
    let mut frames = 0u64;
    let mut dispositions: BTreeMap<String, u64> = BTreeMap::new();
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    let (mut exit2, mut read_errors) = (0, 0);
    let mut malformed: BTreeMap<&str, usize> = BTreeMap::new();
    for (e, o) in entries.iter().zip(&results) {
        let unparsable = e.linktype == "unparsable";
        match o.code {
            0 if unparsable => problems.push(format!(
                "{}: header is unparsable (MANIFEST) but replay exited 0",
                e.path
            )),
            0 => {}
            2 if unparsable => {
                exit2 += 1;
                if !o.stderr.contains(e.path.rsplit('/').next().unwrap()) {
                    problems.push(format!(
                        "{}: error does not name the file: {}",
                        e.path, o.stderr
                    ));
                }
                println!("{}: exit 2: {}", e.path, o.stderr.trim());
                if e.tagged("malformed") {
                    *malformed.entry("unreadable header (exit 2)").or_default() += 1;
                }
                continue;
            }
            // A corrupt record after the good frames: those are replayed and written, and the
            // run exits 2 as tcpdump does.
            2 if o
                .summary
                .as_ref()
                .is_some_and(|s| s["read_error"].is_string()) => {}
            c => {
                problems.push(format!(
                    "{}: exit {c} (101 = panic, -1 = signal): {}",
                    e.path,
                    o.stderr.trim()
                ));
                continue;
            }
        }
        let Some(s) = &o.summary else {
            problems.push(format!("{}: no summary.json", e.path));
            continue;
        };
        let packets = s["packets"].as_u64().unwrap_or(0);
        let d = count(&s["dispositions"]);
        let r = count(&s["reasons"]);
        if d.values().sum::<u64>() != packets {
            problems.push(format!(
                "{}: dispositions {d:?} do not add up to {packets}",
                e.path
            ));
        }
        if r.values().sum::<u64>() != d.get("DROPPED").copied().unwrap_or(0) {
            problems.push(format!("{}: reasons {r:?} vs dispositions {d:?}", e.path));
        }
        let read_error = s["read_error"].as_str();
        if let Some(err) = read_error {
            read_errors += 1;
            if o.code != 2 {
                problems.push(format!("{}: read error but exit {}", e.path, o.code));
            }
            println!("{}: {packets} frames, then read error: {err}", e.path);
        }
        if !e.tagged("malformed")
            && !e.tagged("truncated")
            && read_error.is_none()
            && packets as i64 != e.packets
        {
            problems.push(format!(
                "{}: {packets} frames replayed, MANIFEST counts {}",
                e.path, e.packets
            ));
        }
        if e.tagged("malformed") {
            let kind = if r.get("MALFORMED").copied().unwrap_or(0) > 0 {
                "MALFORMED frames counted"
            } else if read_error.is_some() {
                "read error after the good frames"
            } else if r.get("UNSUPPORTED").copied().unwrap_or(0) == packets {
                "only UNSUPPORTED frames"
            } else {
                "valid at the IP layer (malformed above it)"
            };
            *malformed.entry(kind).or_default() += 1;
        }
        frames += packets;
        for (k, n) in d {
            *dispositions.entry(k).or_default() += n;
        }
        for (k, n) in r {
            *reasons.entry(k).or_default() += n;
        }
    }
    println!(
        "{} captures in {elapsed:.1} s (2 workers): {frames} frames; dispositions {dispositions:?}; \
         reasons {reasons:?}; {exit2} unreadable headers (exit 2); {read_errors} read errors",
        entries.len()
    );
    println!("files tagged malformed: {malformed:?}");
    assert!(
        reasons.get("MALFORMED").copied().unwrap_or(0) > 0,
        "the corpus's broken frames are counted as MALFORMED"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
