//! Fuzz the describe-* snapshot reader end to end, from memory: split the input into files,
//! read them as one snapshot (JSON, keys, references across files and accounts, the model's
//! validation) and compile the model. Nothing may panic, whatever the input; every finding has
//! a code and names a file given.
//!
//! Input: files separated by a line `=== PATH` (the first file without a header is
//! `aws_configs/snapshot.json`); the path's folders place a file in an account and Region as on
//! disk, e.g. `=== aws_configs/accounts/111122223333/eu-west-1/vpcs.json`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use vpcsim_controlplane::snapshot::{load_snapshot_files, SnapshotFile};
use vpcsim_controlplane::{compile, LoadOptions};

const HEADER: &[u8] = b"=== ";

fn split(data: &[u8]) -> Vec<SnapshotFile> {
    let mut files = Vec::new();
    let mut path = PathBuf::from("aws_configs/snapshot.json");
    let mut body = Vec::new();
    let mut headed = false;
    for line in data.split_inclusive(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(HEADER) {
            if headed || !body.is_empty() {
                files.push(SnapshotFile {
                    path,
                    bytes: std::mem::take(&mut body),
                });
            }
            headed = true;
            path = PathBuf::from(String::from_utf8_lossy(rest).trim());
        } else {
            body.extend_from_slice(line);
        }
    }
    files.push(SnapshotFile { path, bytes: body });
    files
}

fuzz_target!(|data: &[u8]| {
    let files = split(data);
    let loaded = load_snapshot_files(&files, &LoadOptions::default());
    for d in &loaded.diagnostics {
        assert!(!d.code.is_empty() && !d.code.contains(' '), "{d}");
        assert!(
            files.iter().any(|f| f.path == d.file),
            "finding names a file not given: {d}"
        );
    }
    if !loaded.has_errors() {
        let _ = compile(&loaded.model);
    }
});
