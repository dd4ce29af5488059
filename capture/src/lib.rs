//! Capture files for vpcsim: a reader for pcap and pcapng, a writer for pcap.
//!
//! The reader is hand-written rather than built on `pcap-file`: `pcap-file` 2.0 rejects valid
//! records (any `orig_len` above the snaplen, i.e. every snaplen-truncated packet, and
//! sub-second fields of 10^9 or more), ignores `if_tsresol` (it reads every pcapng
//! timestamp as nanoseconds), accepts headers that libpcap refuses (bad versions, reserved
//! link-type bits, SHB options that overrun their block) and allocates a `Vec` of options per
//! Enhanced Packet Block. The formats are small: a pcap record is a 16-byte header and its
//! bytes, a pcapng block is type, length, body and the length again. The writer does use
//! `pcap-file`.
//!
//! The reader reads its source through its own buffer in large chunks and hands out frames
//! borrowed from it, so reading allocates nothing per frame. Every length taken from the file
//! is checked against the bytes actually present and against fixed caps ([`MAX_CAPLEN`] for
//! a record's captured bytes, [`MAX_BLOCK_LEN`] for a pcapng block) before anything is
//! sliced or allocated, so no input can make it panic, loop or allocate more than a few
//! MiB beyond the file's largest valid record. `fuzz/fuzz_targets/read_capture.rs` holds it
//! to that.
//!
//! Link-layer headers (Ethernet, VLAN tags, Linux cooked capture, BSD loopback) are left to
//! `vpcsim_dataplane::wire::parse`: a [`Frame`] carries its interface's [`LinkType`] and the
//! bytes as captured.

mod pcap;
mod pcapng;
mod reader;
mod writer;

#[cfg(test)]
mod tests;

use std::io;
use std::path::PathBuf;

use vpcsim_dataplane::wire::LinkType;
use vpcsim_dataplane::Timestamp;

pub use reader::CaptureReader;
pub use writer::CaptureWriter;

/// The most captured bytes one record may hold (libpcap's `MAXIMUM_SNAPLEN`). A record that
/// claims more is reported as corrupt rather than read.
pub const MAX_CAPLEN: u32 = 256 * 1024;
/// The largest pcapng block accepted (libpcap's initial maximum block size).
pub const MAX_BLOCK_LEN: u32 = 16 * 1024 * 1024;

/// One captured frame, borrowed from the reader's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Capture time, nanoseconds since the epoch (0 for pcapng Simple Packet Blocks, which
    /// carry no timestamp).
    pub ts: Timestamp,
    /// Link type of the interface the frame was captured on.
    pub link: LinkType,
    /// The captured bytes (at most [`MAX_CAPLEN`]).
    pub data: &'a [u8],
    /// The frame's length on the wire, as recorded in the file (not checked against
    /// `data.len()`).
    pub orig_len: u32,
}

/// Why a capture file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The operating system refused a read or a write.
    #[error("{path}: {source}")]
    Io {
        /// The file (or the name given to [`CaptureReader::from_reader`]).
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The file starts with neither a pcap magic number nor a pcapng Section Header Block.
    #[error("{path}: not a pcap or pcapng file (magic {magic:02x?})")]
    NotACapture {
        /// The file (or the name given to [`CaptureReader::from_reader`]).
        path: PathBuf,
        /// Its first four bytes.
        magic: [u8; 4],
    },
    /// A bad file header, a bad record or block, or a truncated one.
    #[error("{path}: {message}")]
    Corrupt {
        /// The file (or the name given to [`CaptureReader::from_reader`]).
        path: PathBuf,
        /// What is wrong, with the offset where it is.
        message: String,
    },
}
