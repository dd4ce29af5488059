//! Reads every file of the third-party capture corpus (`shared/corpus/pcaps`, see its
//! README) with the capture reader: no panic, no hang, and for every file that is neither
//! malformed nor truncated exactly the number of records MANIFEST.tsv counts.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use vpcsim_capture::{CaptureError, CaptureReader, MAX_CAPLEN};
use vpcsim_dataplane::wire::LinkType;

/// Files whose frame count differs from MANIFEST's `packets` although they are tagged
/// neither `malformed` nor `truncated`: (path, frames read, why).
const KNOWN_DIFFERENCES: &[(&str, u64, &str)] = &[];

struct Outcome {
    frames: u64,
    error: Option<String>,
}

/// Reads the whole file, checking that the first interface's link type and every frame's
/// are among `links` (MANIFEST's `linktype` column).
fn read(path: &Path, links: &[LinkType]) -> Result<Outcome, CaptureError> {
    let mut r = CaptureReader::open(path)?;
    if let Some(first) = links.first() {
        assert_eq!(r.link_type(), Some(*first), "{}: link type", path.display());
    }
    let len = r.len();
    let mut frames = 0u64;
    let mut error = None;
    let mut last_pos = r.position();
    while let Some(f) = r.next_frame() {
        match f {
            Ok(f) => {
                frames += 1;
                assert!(
                    f.data.len() <= MAX_CAPLEN as usize,
                    "{}: oversized frame",
                    path.display()
                );
            }
            Err(e) => {
                assert!(error.is_none(), "{}: two errors", path.display());
                error = Some(e.to_string());
            }
        }
        let pos = r.position();
        assert!(
            pos >= last_pos && pos <= len,
            "{}: position {pos} of {len}",
            path.display()
        );
        last_pos = pos;
    }
    assert!(
        r.next_frame().is_none(),
        "{}: a frame after the end",
        path.display()
    );
    if error.is_none() {
        assert_eq!(
            r.position(),
            len,
            "{}: stopped early without an error",
            path.display()
        );
    }
    Ok(Outcome { frames, error })
}

#[test]
fn corpus_reads_without_panic_and_counts_match() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/pcaps"
    ));
    let Ok(manifest) = std::fs::read_to_string(dir.join("MANIFEST.tsv")) else {
        eprintln!("note: no capture corpus at {}; skipping", dir.display());
        return;
    };
    let started = Instant::now();
    let (mut files, mut opened, mut total_frames, mut with_error) = (0, 0, 0u64, 0);
    let mut failures = Vec::new();
    let mut tagged_differences = BTreeMap::new();
    for line in manifest.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        assert!(f.len() >= 6, "bad manifest line {line:?}");
        let (name, linktype, tags) = (f[0], f[3], f[5]);
        let packets: i64 = f[4].parse().expect("packets column");
        let tags: Vec<&str> = tags.split(',').filter(|t| !t.is_empty()).collect();
        let clean = packets >= 0 && !tags.iter().any(|t| *t == "malformed" || *t == "truncated");
        files += 1;

        let links: Vec<LinkType> = linktype
            .split(',')
            .filter_map(|v| v.parse().ok())
            .map(LinkType::from_pcap)
            .collect();
        let outcome = read(&dir.join(name), &links);
        if linktype == "unparsable" {
            match outcome {
                Err(CaptureError::Corrupt { .. }) => {}
                Err(e) => failures.push(format!("{name}: unparsable header gave {e:?}")),
                Ok(o) => failures.push(format!(
                    "{name}: unparsable header opened ({} frames)",
                    o.frames
                )),
            }
            continue;
        }
        let o = match outcome {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{name}: open failed: {e}"));
                continue;
            }
        };
        opened += 1;
        total_frames += o.frames;
        with_error += usize::from(o.error.is_some());
        let known = KNOWN_DIFFERENCES.iter().find(|(p, _, _)| *p == name);
        if clean {
            let want = known.map_or(packets as u64, |k| k.1);
            if o.frames != want {
                failures.push(format!(
                    "{name}: {} frames, manifest says {packets} ({:?})",
                    o.frames, o.error
                ));
            }
        } else if o.frames as i64 != packets {
            tagged_differences.insert(name.to_string(), (o.frames, packets, o.error));
        }
    }
    eprintln!(
        "capture corpus: {files} files, {opened} opened, {total_frames} frames, {with_error} ending in an error, \
         {} malformed/truncated files whose count differs, {:.2?}",
        tagged_differences.len(),
        started.elapsed()
    );
    for (name, (got, want, err)) in &tagged_differences {
        eprintln!("  {name}: {got} frames, manifest {want}: {err:?}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
