//! Records the git commit the binary is built from, for `vpcsim --version`.
//!
//! Sets `VPCSIM_BUILD_COMMIT` to `<short hash> <commit date>` (`49fffdd 2026-12-07`), or to
//! `unknown` when git is missing or the sources are not a git checkout of this project (a source
//! tarball, a crate unpacked by `cargo install`). Nothing here may fail the build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = match git_commit(&manifest_dir) {
        Some((commit, watched)) => {
            // Cargo reruns a build script whose watched file is missing on every build, so
            // only files that exist are watched (a ref can live in packed-refs only).
            for path in watched.iter().filter(|p| p.exists()) {
                println!("cargo:rerun-if-changed={}", path.display());
            }
            commit
        }
        None => "unknown".to_string(),
    };
    println!("cargo:rustc-env=VPCSIM_BUILD_COMMIT={commit}");
    // `replay --filter` links libpcap (cargo feature `filter`, on by default): when it is not
    // where linkers look, say what to do before the linker's own "cannot find -lpcap".
    if std::env::var_os("CARGO_FEATURE_FILTER").is_some() && !libpcap_found() {
        println!(
            "cargo:warning=libpcap not found (replay --filter links it): install it (Debian/Ubuntu: \
             apt-get install libpcap-dev) or build without --filter: cargo build --no-default-features"
        );
    }
}

/// Whether libpcap's link library is in a usual place, or the `pcap` crate is told where it is.
fn libpcap_found() -> bool {
    if std::env::var_os("LIBPCAP_LIBDIR").is_some()
        || std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os != "linux")
    {
        return true;
    }
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let dirs = [
        format!("/usr/lib/{arch}-linux-gnu"),
        "/usr/lib".into(),
        "/usr/lib64".into(),
        "/usr/local/lib".into(),
    ];
    dirs.iter().any(|d| {
        ["libpcap.so", "libpcap.a"]
            .iter()
            .any(|f| Path::new(d).join(f).exists())
    })
}

/// `<short hash> <date>` of HEAD and the files whose change moves HEAD: HEAD itself (a checkout)
/// and the branch it points at (a commit). Paths come from git so that linked worktrees, whose
/// `.git` is a file, work too.
fn git_commit(manifest_dir: &Path) -> Option<(String, Vec<PathBuf>)> {
    // A tarball unpacked inside some other repository must not take that repository's HEAD.
    let toplevel = git(manifest_dir, &["rev-parse", "--show-toplevel"])?;
    if !same_dir(Path::new(&toplevel), manifest_dir) {
        return None;
    }
    let hash = git(manifest_dir, &["rev-parse", "--short", "HEAD"])?;
    let date = git(
        manifest_dir,
        &["show", "-s", "--format=%cd", "--date=short", "HEAD"],
    )?;
    let mut watched = Vec::new();
    let head = git(manifest_dir, &["rev-parse", "--git-path", "HEAD"])?;
    watched.push(manifest_dir.join(head));
    if let Some(branch) = git(manifest_dir, &["symbolic-ref", "-q", "HEAD"]) {
        for file in [branch.as_str(), "packed-refs"] {
            if let Some(path) = git(manifest_dir, &["rev-parse", "--git-path", file]) {
                watched.push(manifest_dir.join(path));
            }
        }
    }
    Some((format!("{hash} {date}"), watched))
}

/// Trimmed stdout of a git command that succeeded with output; `None` for anything else.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
