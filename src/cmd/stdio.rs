//! Standard output and standard error that never panic.
//!
//! `println!` panics (exit 101) when stdout is a closed pipe (`| head -1`) or a full disk
//! (`> /dev/full`), and `eprintln!` does the same on stderr. Every command prints through
//! [`outln!`], [`out!`] and [`errln!`] instead: the first failure of a stream is remembered and
//! the stream is left alone after it, so the command finishes what it was doing (a replay's
//! outputs are complete by the time it prints) and [`exit_code`] decides how the process ends.

use std::fmt;
use std::io::{self, Write};
use std::sync::OnceLock;

/// Why a stream stopped taking output: kept for the exit code and the message.
struct Failure {
    kind: io::ErrorKind,
    message: String,
}

static STDOUT_FAILED: OnceLock<Failure> = OnceLock::new();
static STDERR_FAILED: OnceLock<Failure> = OnceLock::new();

fn record(slot: &OnceLock<Failure>, e: &io::Error) {
    let _ = slot.set(Failure {
        kind: e.kind(),
        message: e.to_string(),
    });
}

/// Write to stdout unless it already failed. Used by [`out!`] and [`outln!`].
pub fn stdout_fmt(args: fmt::Arguments<'_>, newline: bool) {
    if STDOUT_FAILED.get().is_some() {
        return;
    }
    let mut w = io::stdout().lock();
    let r = w
        .write_fmt(args)
        .and_then(|()| if newline { w.write_all(b"\n") } else { Ok(()) });
    if let Err(e) = r {
        record(&STDOUT_FAILED, &e);
    }
}

/// Write a line to stderr unless it already failed. Used by [`errln!`].
pub fn stderr_fmt(args: fmt::Arguments<'_>) {
    if STDERR_FAILED.get().is_some() {
        return;
    }
    let mut w = io::stderr().lock();
    if let Err(e) = w.write_fmt(args).and_then(|()| w.write_all(b"\n")) {
        record(&STDERR_FAILED, &e);
    }
}

/// `print!` that records a failure instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cmd::stdio::stdout_fmt(format_args!($($arg)*), false) };
}

/// `println!` that records a failure instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::cmd::stdio::stdout_fmt(format_args!($($arg)*), true) };
}

/// `eprintln!` that records a failure instead of panicking.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cmd::stdio::stderr_fmt(format_args!($($arg)*)) };
}

pub(crate) use {errln, out, outln};

/// The process's exit code once the command returned `code`: stdout is flushed, a closed pipe
/// on either stream changes nothing (the reader went away, as with `head`), any other write
/// error is reported (on stderr, if it still works) and makes it 2.
pub fn exit_code(code: i32) -> i32 {
    if STDOUT_FAILED.get().is_none() {
        if let Err(e) = io::stdout().lock().flush() {
            record(&STDOUT_FAILED, &e);
        }
    }
    let mut code = code;
    if let Some(f) = STDOUT_FAILED.get() {
        if f.kind != io::ErrorKind::BrokenPipe {
            errln!("error: writing to standard output: {}", f.message);
            code = 2;
        }
    }
    if let Some(f) = STDERR_FAILED.get() {
        if f.kind != io::ErrorKind::BrokenPipe {
            code = 2;
        }
    }
    code
}
