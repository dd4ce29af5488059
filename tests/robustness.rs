//! Robust under load and faults (issue 13): the replay output folder, exit codes and output
//! streams, corrupt captures, ambiguous flow specs, and faults injected into real runs (a full
//! file system, SIGKILL).

mod common;

use common::{example, frames, tcp, vpcsim, write_pcap};
use serde_json::Value;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vpcsim")
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// `vpcsim replay --quiet` of `capture` into `out`, with extra arguments.
fn replay(capture: &Path, out: &Path, extra: &[&str]) -> common::Output {
    let mut args = vec![
        "replay".to_string(),
        "-t".into(),
        s(&example()),
        "--in".into(),
        s(capture),
        "--out".into(),
        s(out),
        "--quiet".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    vpcsim(&args)
}

fn summary(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

/// One TCP SYN from WebInstance to AppInstanceA: its only output pcap is AppInstanceA's.
fn one_frame_capture(dir: &Path) -> PathBuf {
    let p = dir.join("one.pcap");
    write_pcap(
        &p,
        1,
        &frames(vec![tcp("10.0.1.20", 40647, "10.0.2.30", 8080, 0x02, b"")]),
    );
    p
}

fn bundled_capture() -> PathBuf {
    common::root().join("captures/two-tier.pcap")
}

/// Every regular file under `out` (relative paths), the manifest aside.
fn files_in(out: &Path) -> Vec<String> {
    let mut found = vec![];
    for sub in ["", "out", "flowlogs"] {
        let Ok(entries) = std::fs::read_dir(out.join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_type().unwrap().is_file() {
                let name = e.file_name().to_string_lossy().into_owned();
                found.push(if sub.is_empty() {
                    name
                } else {
                    format!("{sub}/{name}")
                });
            }
        }
    }
    found.retain(|f| f != ".vpcsim-manifest");
    found.sort();
    found
}

/// The folder invariant: no summary.json, or one whose `files` are exactly the files beside it
/// with the sizes it reports. Returns whether there was a summary.
fn assert_summary_describes_folder(out: &Path) -> bool {
    let path = out.join("summary.json");
    if !path.exists() {
        // A run killed between writing the summary's temporary file and renaming it leaves
        // that file; the next run removes it.
        return false;
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("summary.json is not whole JSON ({e}): {text:?}"));
    let listed = v["files"]
        .as_object()
        .expect("summary.json lists its files");
    let mut names: Vec<String> = listed.keys().cloned().collect();
    names.push("summary.json".into());
    names.sort();
    assert_eq!(names, files_in(out), "summary.json lists other files");
    for (rel, f) in listed {
        let len = std::fs::metadata(out.join(rel)).unwrap().len();
        assert_eq!(f["bytes"].as_u64(), Some(len), "{rel}: size differs");
    }
    true
}

#[test]
fn a_rerun_removes_the_files_it_no_longer_writes_and_only_those() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    assert_eq!(replay(&bundled_capture(), &out, &[]).code, 0);
    assert!(out.join("out/InternetGateway.pcap").exists());
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    std::fs::write(out.join("out/mine.pcap"), "mine").unwrap();
    let o = replay(&one_frame_capture(dir.path()), &out, &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!out.join("out/InternetGateway.pcap").exists());
    assert!(!out.join("flowlogs/NatGateway.log").exists());
    assert!(out.join("out/AppInstanceA.pcap").exists());
    // Files vpcsim did not write stay.
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("out/mine.pcap")).unwrap(),
        "mine"
    );
    let v = summary(&out);
    let listed: Vec<&String> = v["files"].as_object().unwrap().keys().collect();
    assert_eq!(
        listed,
        [
            "verdicts.jsonl",
            "out/AppInstanceA.pcap",
            "flowlogs/WebInstance.log",
            "flowlogs/AppInstanceA.log"
        ]
    );
    std::fs::remove_file(out.join("notes.txt")).unwrap();
    std::fs::remove_file(out.join("out/mine.pcap")).unwrap();
    assert!(assert_summary_describes_folder(&out));
}

#[test]
fn no_verdicts_removes_the_old_verdicts_and_does_not_list_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    assert_eq!(replay(&bundled_capture(), &out, &[]).code, 0);
    assert!(out.join("verdicts.jsonl").exists());
    let o = replay(&bundled_capture(), &out, &["--no-verdicts"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!out.join("verdicts.jsonl").exists());
    assert!(!o.stdout.contains("verdicts.jsonl"), "{}", o.stdout);
    assert!(
        o.stdout
            .contains("out/ (4 pcaps), flowlogs/ (4 logs), summary.json"),
        "{}",
        o.stdout
    );
    assert!(summary(&out)["files"].get("verdicts.jsonl").is_none());
    assert!(assert_summary_describes_folder(&out));
}

#[test]
fn an_edited_manifest_cannot_make_replay_delete_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    std::fs::create_dir_all(&out).unwrap();
    let precious = dir.path().join("precious.txt");
    std::fs::write(&precious, "keep").unwrap();
    std::fs::write(out.join("keep.txt"), "keep").unwrap();
    std::fs::write(
        out.join(".vpcsim-manifest"),
        "../precious.txt\nkeep.txt\nout/../../precious.txt\n/etc/hostname\n",
    )
    .unwrap();
    assert_eq!(replay(&bundled_capture(), &out, &[]).code, 0);
    assert!(precious.exists() && out.join("keep.txt").exists());
    // A manifest that is a link elsewhere is replaced, not written through.
    std::fs::remove_file(out.join(".vpcsim-manifest")).unwrap();
    std::os::unix::fs::symlink(&precious, out.join(".vpcsim-manifest")).unwrap();
    assert_eq!(replay(&bundled_capture(), &out, &[]).code, 0);
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep");
    std::fs::remove_file(out.join("keep.txt")).unwrap();
    assert!(assert_summary_describes_folder(&out));
}

#[test]
fn replaying_a_file_the_run_would_overwrite_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    assert_eq!(replay(&bundled_capture(), &out, &[]).code, 0);
    let original = std::fs::read(bundled_capture()).unwrap();
    let check = |input: &Path, target: &Path| {
        let before = std::fs::read(target).unwrap();
        let o = replay(input, &out, &[]);
        assert_eq!(o.code, 2, "{}: {}{}", input.display(), o.stdout, o.stderr);
        assert!(o.stderr.contains("would overwrite"), "{}", o.stderr);
        assert!(o.stderr.contains(&s(target)) || o.stderr.contains(&s(input)));
        assert_eq!(std::fs::read(target).unwrap(), before, "the input changed");
    };
    // The case: a capture copied over an output.
    let web = out.join("out/WebInstance.pcap");
    std::fs::copy(bundled_capture(), &web).unwrap();
    check(&web, &web);
    // A symbolic link to an output, and a hard link to one.
    let link = dir.path().join("link.pcap");
    std::os::unix::fs::symlink(&web, &link).unwrap();
    check(&link, &web);
    let hard = dir.path().join("hard.pcap");
    std::fs::hard_link(out.join("out/AppInstanceA.pcap"), &hard).unwrap();
    std::fs::copy(bundled_capture(), &hard).unwrap();
    check(&hard, &hard);
    // An output that is a symbolic link to the capture.
    let capture = dir.path().join("capture.pcap");
    std::fs::write(&capture, &original).unwrap();
    std::fs::remove_file(out.join("verdicts.jsonl")).unwrap();
    std::os::unix::fs::symlink(&capture, out.join("verdicts.jsonl")).unwrap();
    check(&capture, &capture);
    assert_eq!(std::fs::read(&capture).unwrap(), original);
}

#[test]
fn output_errors_name_the_file() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let o = vpcsim(["gen", "-t", &s(&example()), "--out", "/dev/full"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("/dev/full"), "{}", o.stderr);
    // `gen` writes a file beside its output and renames it over; a device is written in place.
    use std::os::unix::fs::FileTypeExt;
    let full = std::fs::metadata("/dev/full").unwrap().file_type();
    assert!(full.is_char_device(), "gen replaced /dev/full");
    let o = vpcsim([
        "trace",
        "-t",
        &s(&example()),
        "tcp 10.0.1.20:40000 -> 10.0.2.30:8080",
        "--html",
        "/dev/full",
    ]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("/dev/full"), "{}", o.stderr);
}

/// Every command, with what it needs, writing into `dir`.
fn commands(dir: &Path) -> Vec<(&'static str, Vec<String>)> {
    let ex = s(&example());
    let d = |n: &str| s(&dir.join(n));
    let v = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        ("validate", v(&["validate", "-t", &ex])),
        (
            "trace",
            v(&["trace", "-t", &ex, "tcp 10.0.1.20:40000 -> 10.0.2.30:8080"]),
        ),
        (
            "trace --json",
            v(&[
                "trace",
                "-t",
                &ex,
                "tcp 10.0.1.20:1 -> 10.0.2.30:8080",
                "--json",
            ]),
        ),
        (
            "replay",
            v(&[
                "replay",
                "-t",
                &ex,
                "--in",
                &s(&bundled_capture()),
                "--out",
                &d("replay"),
                "--quiet",
            ]),
        ),
        (
            "gen",
            v(&["gen", "-t", &ex, "--flows", "5", "--out", &d("gen.pcap")]),
        ),
        ("export", v(&["export", "-t", &ex, "--out", &d("export")])),
        ("report", v(&["report", "-t", &ex, "--out", &d("report")])),
        ("reach", v(&["reach", "-t", &ex, "--from", "WebInstance"])),
        ("diff", v(&["diff", "--before", &ex, "--after", &ex])),
        (
            "check",
            v(&[
                "check",
                "-t",
                &ex,
                &s(&example().with_file_name("two-tier.policy.yaml")),
            ]),
        ),
        ("lint", v(&["lint", "-t", &ex])),
        ("graph", v(&["graph"])),
        ("--help", v(&["replay", "--help"])),
    ]
}

fn dev_full() -> Option<Stdio> {
    File::options()
        .write(true)
        .open("/dev/full")
        .ok()
        .map(Stdio::from)
}

#[test]
fn stdout_on_a_full_disk_exits_2_with_a_message() {
    if dev_full().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in commands(dir.path()) {
        let o = Command::new(bin())
            .args(&args)
            .stdout(dev_full().unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(
            err.contains("writing to standard output: No space left on device"),
            "{name}: {err}"
        );
    }
    // replay prints after its outputs are written: they are all there.
    assert!(assert_summary_describes_folder(&dir.path().join("replay")));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in commands(dir.path()) {
        let mut child = Command::new(bin())
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Closed long before the command has loaded its topology and has anything to print.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{name}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("error"),
            "{name}: {err}"
        );
    }
    assert!(assert_summary_describes_folder(&dir.path().join("replay")));
    // As a shell pipeline, with the pipe closed after the first line.
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' validate -t '{}' | head -1",
            bin(),
            s(&example())
        ))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn errors_with_stderr_on_a_full_disk_exit_2() {
    let Some(_) = dev_full() else { return };
    let dir = tempfile::tempdir().unwrap();
    let ex = s(&example());
    for args in [
        vec!["trace", "-t", &ex, "tcp 10.0.1.20 -> 10.0.2.30"],
        vec!["validate", "-t", "/nonexistent.yaml"],
        vec![
            "replay",
            "-t",
            &ex,
            "--in",
            "/nonexistent.pcap",
            "--out",
            &s(dir.path()),
        ],
        vec!["reach", "-t", &ex, "--from", "NoSuchInstance"],
        vec!["gen", "-t", &ex, "--out", "/nonexistent/dir/x.pcap"],
        vec!["export", "-t", "/nonexistent.yaml", "--out", "/tmp"],
    ] {
        let o = Command::new(bin())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(dev_full().unwrap())
            .status()
            .unwrap();
        assert_eq!(o.code(), Some(2), "{args:?}");
    }
}

/// A pcapng Section Header Block and an Enhanced Packet Block naming an interface that no
/// Interface Description Block declared.
fn pcapng_without_interface() -> Vec<u8> {
    let mut b = vec![];
    let block = |b: &mut Vec<u8>, kind: u32, body: &[u8]| {
        let len = (12 + body.len()) as u32;
        b.extend_from_slice(&kind.to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(body);
        b.extend_from_slice(&len.to_le_bytes());
    };
    let mut shb = vec![];
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut b, 0x0a0d_0d0a, &shb);
    let mut epb = vec![];
    for v in [0u32, 0, 0, 60, 60] {
        epb.extend_from_slice(&v.to_le_bytes());
    }
    epb.extend_from_slice(&[0; 60]);
    block(&mut b, 6, &epb);
    b
}

#[test]
fn corrupt_captures_write_what_was_read_then_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    // Two good frames, then a record that claims 4 GiB.
    let good = dir.path().join("good.pcap");
    write_pcap(
        &good,
        1,
        &frames(vec![
            tcp("10.0.1.20", 40647, "10.0.2.30", 8080, 0x02, b""),
            tcp("10.0.2.30", 8080, "10.0.1.20", 40647, 0x12, b""),
        ]),
    );
    let mut after_two = std::fs::read(&good).unwrap();
    let mut huge_first = after_two[..24].to_vec();
    for b in [&mut after_two, &mut huge_first] {
        b.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        b.extend_from_slice(&[0; 40]);
    }
    for (name, bytes, frames_read) in [
        ("after-two.pcap", after_two, 2),
        ("huge-first.pcap", huge_first, 0),
        ("no-interface.pcapng", pcapng_without_interface(), 0),
    ] {
        let input = dir.path().join(name);
        std::fs::write(&input, bytes).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        let o = replay(&input, &out, &[]);
        assert_eq!(o.code, 2, "{name}: {}{}", o.stdout, o.stderr);
        assert!(o.stderr.contains(&s(&input)), "{name}: {}", o.stderr);
        assert!(o.stderr.contains("corrupt capture"), "{name}: {}", o.stderr);
        let v = summary(&out);
        assert_eq!(v["packets"], frames_read, "{name}");
        assert!(v["read_error"].is_string(), "{name}");
        assert_eq!(common::verdicts(&out).len(), frames_read as usize, "{name}");
        assert!(assert_summary_describes_folder(&out));
    }
}

#[test]
fn ambiguous_or_mismatched_flow_specs_are_refused_with_a_hint() {
    let ex = s(&example());
    for (flow, hint) in [
        (
            "icmpv6 10.0.2.30 -> 8.8.8.8",
            "use icmp with IPv4 addresses",
        ),
        (
            "icmp [2001:db8::1] -> [2001:db8::2]",
            "use icmpv6 with IPv6 addresses",
        ),
        (
            "tcp [2001:db8::2]:1 -> 2001:db8::1:443",
            "[2001:db8::1]:443",
        ),
        (
            "tcp [2001:db8::2]:1 -> 2001:db8::1:40000",
            "[2001:db8::1]:40000",
        ),
        ("udp 2001:db8::2 -> [2001:db8::1]:53", "[2001:db8::2]:PORT"),
    ] {
        for extra in [&[][..], &["--json"][..]] {
            let mut args = vec!["trace", "-t", &ex, flow];
            args.extend(extra);
            let o = vpcsim(&args);
            assert_eq!(o.code, 2, "{flow}: {}", o.stdout);
            assert!(o.stderr.contains(hint), "{flow}: {}", o.stderr);
        }
    }
    let o = vpcsim([
        "report",
        "-t",
        &ex,
        "--out",
        "/nonexistent",
        "--flow",
        "icmpv6 10.0.2.30 -> 8.8.8.8",
    ]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("use icmp with IPv4"), "{}", o.stderr);
}

/// A capture of `flows` generated flows (seeded), for the fault tests.
fn generated_capture(dir: &Path, flows: u32) -> PathBuf {
    let p = dir.join(format!("gen-{flows}.pcap"));
    let o = vpcsim([
        "gen",
        "-t",
        &s(&example()),
        "--flows",
        &flows.to_string(),
        "--seed",
        "13",
        "--out",
        &s(&p),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    p
}

/// SIGKILL at several points of a run (from cleaning the folder to writing the summary), and
/// after each the folder holds no summary or one that describes it.
#[test]
fn a_killed_replay_leaves_no_summary_or_a_true_one() {
    let dir = tempfile::tempdir().unwrap();
    let capture = generated_capture(dir.path(), 3000);
    let out = dir.path().join("o");
    let started = Instant::now();
    assert_eq!(replay(&capture, &out, &[]).code, 0);
    let full = started.elapsed();
    assert!(assert_summary_describes_folder(&out));
    // Seeded points across the run: 1% to 83% of a complete run's time (the first run is the
    // slowest, so the later points find some runs finished).
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut summaries = 0;
    for i in 0..8 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let permille = 10 + i * 110 + x % 50;
        let delay = full.mul_f64(permille as f64 / 1000.0);
        let mut child = Command::new(bin())
            .args([
                "replay",
                "-t",
                &s(&example()),
                "--in",
                &s(&capture),
                "--out",
                &s(&out),
                "--quiet",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        if assert_summary_describes_folder(&out) {
            summaries += 1;
        }
    }
    // A run after all that cleans up and finishes.
    assert_eq!(replay(&capture, &out, &[]).code, 0);
    assert!(assert_summary_describes_folder(&out));
    println!("kill points: {summaries} of 8 runs had finished (complete run {full:?})");
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mount a tmpfs of `pages` 4 KiB pages; None when not root or mounting fails.
    fn mount(pages: u64) -> Option<Tmpfs> {
        // Only root can mount; `id -u` asks without a libc dependency.
        let uid = Command::new("id").arg("-u").output().ok()?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return None;
        }
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={}k", pages * 4))
            .arg("tmpfs")
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .ok()?
            .success();
        ok.then(|| Tmpfs {
            path: dir.path().to_path_buf(),
            _dir: dir,
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

/// The disk fills before the pcaps, in the middle and exactly at summary.json: a non-zero
/// exit naming a file, and never a 0-byte or stale summary.json.
#[test]
fn a_full_disk_fails_with_the_path_and_no_summary() {
    let dir = tempfile::tempdir().unwrap();
    let capture = bundled_capture();
    let small = one_frame_capture(dir.path());
    let reference = dir.path().join("reference");
    assert_eq!(replay(&capture, &reference, &[]).code, 0);
    let pages = |n: u64| n.div_ceil(4096);
    let v = summary(&reference);
    let files = v["files"].as_object().unwrap();
    // What the run needs before its summary: every file plus the manifest.
    let before_summary: u64 = files
        .values()
        .map(|f| pages(f["bytes"].as_u64().unwrap()))
        .sum::<u64>()
        + 1;
    let sum = |prefix: &str| -> u64 {
        files
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, f)| pages(f["bytes"].as_u64().unwrap()))
            .sum()
    };
    // The verdicts are written out first, then the pcaps: half of those is amid the pcaps.
    let (verdicts, pcaps) = (sum("verdicts"), sum("out/"));
    for (point, size) in [
        ("before the pcaps", 8),
        ("in the middle", 1 + verdicts + pcaps / 2),
        ("at summary.json", before_summary),
    ] {
        let Some(fs) = Tmpfs::mount(size) else {
            eprintln!("skipped: cannot mount a tmpfs (needs root)");
            return;
        };
        let out = fs.path.join("o");
        // A previous, complete run leaves a summary the failing run must not keep.
        let o = replay(&small, &out, &[]);
        assert_eq!(
            o.code, 0,
            "{point}: the small run does not fit: {}",
            o.stderr
        );
        assert!(out.join("summary.json").exists());
        let o = replay(&capture, &out, &[]);
        assert_ne!(o.code, 0, "{point}: {}", o.stdout);
        assert!(!o.stderr.contains("panicked"), "{point}: {}", o.stderr);
        assert!(
            o.stderr.contains("No space left on device") && o.stderr.contains(&s(&out)),
            "{point}: {}",
            o.stderr
        );
        println!("{point} ({size} pages): {}", o.stderr.trim());
        if point == "at summary.json" {
            assert!(o.stderr.contains("summary.json"), "{point}: {}", o.stderr);
        }
        assert!(
            !out.join("summary.json").exists(),
            "{point}: a summary stayed"
        );
        assert!(!out.join(".summary.json.tmp").exists(), "{point}");
        assert!(!assert_summary_describes_folder(&out));
    }
}
