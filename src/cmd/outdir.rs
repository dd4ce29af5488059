//! The output folder of `vpcsim replay`: a run owns it.
//!
//! A run first removes what the previous run wrote, `summary.json` before anything else, so a
//! run that is killed leaves no summary at all rather than one that describes other files. It
//! knows what it wrote from the manifest (`.vpcsim-manifest`, one path per line, relative to the
//! folder), to which every output is added before the file is created; a path in the manifest
//! is only removed when it has one of the names replay writes, so an edited manifest cannot make
//! it delete anything else. `summary.json` is written last, to a temporary name and renamed, and
//! lists the files beside it with their sizes.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use vpcsim_dataplane::{ResId, Topology};

/// What the run wrote, one relative path per line.
pub const MANIFEST: &str = ".vpcsim-manifest";
/// The summary, written last.
pub const SUMMARY: &str = "summary.json";
/// Where the summary is written before it is renamed into place.
const SUMMARY_TMP: &str = ".summary.json.tmp";
/// One line per frame.
pub const VERDICTS: &str = "verdicts.jsonl";
/// The pcaps per exit and interface.
pub const PCAP_DIR: &str = "out";
/// The flow logs per interface.
pub const FLOWLOG_DIR: &str = "flowlogs";
/// The flow logs as delivered to S3 (`--flow-log-layout s3`).
pub const S3_DIR: &str = "AWSLogs";

/// The folder a replay writes into, and what it has written so far.
pub struct OutputFolder {
    dir: PathBuf,
    manifest: Mutex<Manifest>,
}

struct Manifest {
    file: File,
    written: Vec<String>,
}

/// A path replay may write: the fixed names at the top, `out/*.pcap`, `flowlogs/*.log`.
fn is_replay_output(rel: &str) -> bool {
    let path = Path::new(rel);
    let parts: Vec<&str> = path
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str().unwrap_or("/"),
            _ => "/",
        })
        .collect();
    match parts.as_slice() {
        [name] => [SUMMARY, SUMMARY_TMP, VERDICTS, "simulated.jsonl"].contains(name),
        [PCAP_DIR, name] => name.ends_with(".pcap") && !name.contains('/'),
        [FLOWLOG_DIR, name] => name.ends_with(".log") && !name.contains('/'),
        // Access logs and WAF logs of simulated load balancers.
        ["alb" | "waf", name] => name.ends_with(".log") && !name.contains('/'),
        // `--flow-log-layout s3`: AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/<name>.log.gz
        [S3_DIR, _, "vpcflowlogs", _, y, m, d, name] => {
            [y, m, d]
                .iter()
                .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
                && name.ends_with(".log.gz")
        }
        _ => false,
    }
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> String {
    format!("{}: {what}: {e}", path.display())
}

/// Whether two files are the same file: the same inode on Unix (which catches hard links and
/// symbolic links), the same canonical path elsewhere.
fn same_file(a: &Metadata, a_path: &Path, b_path: &Path) -> bool {
    let Ok(b) = std::fs::metadata(b_path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = a_path;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        matches!((a_path.canonicalize(), b_path.canonicalize()), (Ok(x), Ok(y)) if x == y)
    }
}

impl OutputFolder {
    /// Take `dir` over for a run that reads `inputs`: refuse when the run would write or remove
    /// one of them, remove the previous run's files, start a new manifest.
    pub fn open(dir: &Path, inputs: &[PathBuf]) -> Result<OutputFolder, String> {
        for d in [dir.to_path_buf(), dir.join(PCAP_DIR), dir.join(FLOWLOG_DIR)] {
            std::fs::create_dir_all(&d).map_err(|e| io_error(&d, "cannot create directory", e))?;
        }
        let manifest_path = dir.join(MANIFEST);
        let previous: Vec<String> = match std::fs::read(&manifest_path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes)
                .lines()
                .filter(|l| is_replay_output(l))
                .map(str::to_string)
                .collect(),
            Err(e) if e.kind() == ErrorKind::NotFound => vec![],
            Err(e) => return Err(io_error(&manifest_path, "cannot read", e)),
        };
        for (input, meta) in inputs
            .iter()
            .filter_map(|i| Some((i, std::fs::metadata(i).ok()?)))
        {
            for rel in previous.iter().cloned().chain(candidates(dir)) {
                let path = dir.join(&rel);
                if same_file(&meta, input, &path) {
                    let what = if &path == input {
                        "the capture".to_string()
                    } else {
                        format!("the capture, also {},", path.display())
                    };
                    return Err(format!(
                        "{}: {what} is a file this replay would overwrite or remove; copy it \
                         out of {} first",
                        input.display(),
                        dir.display()
                    ));
                }
            }
        }
        // The summary goes first: from here on the folder has none until this run finishes.
        let mut order = previous.clone();
        order.sort_by_key(|rel| rel != SUMMARY);
        for rel in &order {
            let path = dir.join(rel);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&path, "cannot remove the previous run's file", e)),
            }
            remove_empty_parents(dir, &path);
        }
        // Removed and made anew rather than truncated: a link in its place is not followed.
        match std::fs::remove_file(&manifest_path) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&manifest_path, "cannot remove", e)),
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&manifest_path)
            .map_err(|e| io_error(&manifest_path, "cannot create", e))?;
        Ok(OutputFolder {
            dir: dir.to_path_buf(),
            manifest: Mutex::new(Manifest {
                file,
                written: vec![],
            }),
        })
    }

    /// The path of output `rel` (relative to the folder), recorded in the manifest before the
    /// caller creates it.
    pub fn claim(&self, rel: &str) -> Result<PathBuf, String> {
        let mut m = self
            .manifest
            .lock()
            .map_err(|_| "the output manifest is unusable".to_string())?;
        if !m.written.iter().any(|w| w == rel) {
            let manifest_path = self.dir.join(MANIFEST);
            writeln!(m.file, "{rel}").map_err(|e| io_error(&manifest_path, "cannot write", e))?;
            m.written.push(rel.to_string());
        }
        Ok(self.dir.join(rel))
    }

    /// Every output written so far, except the summary, with its size in bytes.
    pub fn files(&self) -> Result<Vec<(String, u64)>, String> {
        let m = self
            .manifest
            .lock()
            .map_err(|_| "the output manifest is unusable".to_string())?;
        let mut out = vec![];
        for rel in m
            .written
            .iter()
            .filter(|r| *r != SUMMARY && *r != SUMMARY_TMP)
        {
            let path = self.dir.join(rel);
            let meta = std::fs::metadata(&path).map_err(|e| io_error(&path, "cannot stat", e))?;
            out.push((rel.clone(), meta.len()));
        }
        Ok(out)
    }

    /// Write `summary.json` whole or not at all: to a temporary file, then renamed.
    pub fn write_summary(&self, text: &str) -> Result<(), String> {
        let tmp = self.claim(SUMMARY_TMP)?;
        let path = self.claim(SUMMARY)?;
        let written = File::create(&tmp)
            .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
            .map_err(|e| io_error(&tmp, "cannot write", e))
            .and_then(|()| {
                std::fs::rename(&tmp, &path).map_err(|e| io_error(&path, "cannot rename", e))
            });
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }
}

/// The folders between `dir` and a removed file that are now empty (an S3 layout's dated
/// folders), so a rerun for other dates leaves no empty trail; `dir` itself and its fixed
/// subfolders stay.
fn remove_empty_parents(dir: &Path, file: &Path) {
    let mut at = file.parent();
    while let Some(p) = at {
        if p == dir || p == dir.join(PCAP_DIR) || p == dir.join(FLOWLOG_DIR) {
            break;
        }
        // Fails, as it should, on a folder that still holds anything.
        if std::fs::remove_dir(p).is_err() {
            break;
        }
        at = p.parent();
    }
}

/// Files now in the folder at the paths a run may write.
fn candidates(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = [SUMMARY, SUMMARY_TMP, VERDICTS, MANIFEST]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for sub in [PCAP_DIR, FLOWLOG_DIR] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            if let Some(name) = entry.file_name().to_str() {
                let rel = format!("{sub}/{name}");
                if is_replay_output(&rel) {
                    out.push(rel);
                }
            }
        }
    }
    out
}

/// Open a manifest-claimed file for writing, truncating it.
pub fn create(path: &Path) -> Result<File, String> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|e| io_error(path, "cannot create", e))
}

/// A writer whose errors name its file ("No space left on device" alone does not say where).
pub struct NamedWriter<W> {
    path: PathBuf,
    inner: W,
}

impl<W: Write> NamedWriter<W> {
    /// `inner`, writing to `path`.
    pub fn new(path: PathBuf, inner: W) -> NamedWriter<W> {
        NamedWriter { path, inner }
    }

    /// The path and the writer, to finish a writer that needs more than a flush.
    pub fn into_parts(self) -> (PathBuf, W) {
        (self.path, self.inner)
    }

    fn name(&self, e: std::io::Error) -> std::io::Error {
        std::io::Error::new(e.kind(), format!("{}: {e}", self.path.display()))
    }
}

impl<W: Write> Write for NamedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).map_err(|e| self.name(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().map_err(|e| self.name(e))
    }
}

/// File name for a resource's output: its logical id, made safe for any file system.
pub fn file_name(topo: &Topology, r: ResId, ext: &str) -> String {
    let name: String = topo
        .name(r)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}.{ext}")
}
