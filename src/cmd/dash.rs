//! `-` for standard input and output, as Unix tools take it: `replay --in -`, `gen --out -`,
//! `trace --html -` (and `-t -`, which the template loader reads itself).

use std::io::IsTerminal;
use std::path::Path;
use vpcsim_capture::{CaptureReader, CaptureWriter};
use vpcsim_dataplane::wire::LinkType;

/// Whether a path argument is `-`.
pub fn is_dash(p: &Path) -> bool {
    p.as_os_str() == "-"
}

/// The capture at `path`, or on standard input for `-` (pcap or pcapng, as for a file; its
/// length is unknown, so there is no progress bar).
pub fn capture_reader(path: &Path) -> Result<CaptureReader, String> {
    if is_dash(path) {
        return CaptureReader::from_reader("<stdin>", std::io::stdin(), 0)
            .map_err(|e| e.to_string());
    }
    CaptureReader::open(path).map_err(|e| e.to_string())
}

/// A pcap written to `path`, or to standard output for `-`; a terminal is refused, as binary
/// output there is only noise.
pub fn capture_writer(path: &Path) -> Result<CaptureWriter, String> {
    if is_dash(path) {
        if std::io::stdout().is_terminal() {
            return Err("standard output is a terminal: redirect it (`> file.pcap`) or pipe it (`| tcpdump -r -`)".into());
        }
        return CaptureWriter::from_writer(
            Path::new("<stdout>"),
            Box::new(std::io::stdout()),
            LinkType::Ethernet,
        )
        .map_err(|e| e.to_string());
    }
    CaptureWriter::create(path, LinkType::Ethernet).map_err(|e| e.to_string())
}

/// Whether standard input is claimed by more than one argument (`-t -` and `--in -`).
pub fn stdin_claimed_twice<'a>(paths: impl IntoIterator<Item = &'a Path>) -> bool {
    paths
        .into_iter()
        .filter(|p| is_dash(p) || p.to_str().is_some_and(|s| s.ends_with("=-")))
        .count()
        > 1
}

/// `trace --html -` prints the page alone: not with `--json`, which wants standard output too.
pub fn one_stdout(json: bool, html: Option<&Path>) -> Result<(), &'static str> {
    match (json, html) {
        (true, Some(p)) if is_dash(p) => {
            Err("--html - and --json both want standard output: write the page to a file")
        }
        _ => Ok(()),
    }
}
