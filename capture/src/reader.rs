//! The reader: format detection, the read buffer, and frames handed out from it.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use vpcsim_dataplane::wire::LinkType;
use vpcsim_dataplane::Timestamp;

use crate::pcap::{is_pcap_magic, PcapState};
use crate::pcapng::{NgState, NG_SHB};
use crate::{CaptureError, Frame};

/// How much of the file is read at a time.
const READ_CHUNK: usize = 4 * 1024 * 1024;
/// The smallest read buffer, so that tiny files do not cause many small reads.
pub(crate) const MIN_BUFFER: usize = 64 * 1024;

/// Reads pcap and pcapng files frame by frame. See [`CaptureReader::open`].
pub struct CaptureReader {
    pub(crate) path: PathBuf,
    pub(crate) buf: ReadBuf,
    len: u64,
    pub(crate) format: Format,
    /// An error found while looking ahead in `open`, reported by the first `next_frame`.
    pub(crate) pending: Option<CaptureError>,
    done: bool,
}

pub(crate) enum Format {
    Pcap(PcapState),
    PcapNg(NgState),
}

/// A frame's place in the read buffer, turned into a [`Frame`] once parsing is done.
pub(crate) struct RawFrame {
    pub(crate) ts: Timestamp,
    pub(crate) link: LinkType,
    pub(crate) start: usize,
    pub(crate) len: usize,
    pub(crate) orig_len: u32,
}

impl CaptureReader {
    /// Open a pcap (any byte order, micro- or nanosecond) or pcapng (any number of
    /// interfaces, each with its own link type and if_tsresol; Enhanced, Simple and obsolete
    /// Packet blocks) file.
    pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
        Self::open_with_buffer(path, READ_CHUNK)
    }

    /// Read a capture from any byte source (standard input, memory, a socket) as [`open`]
    /// reads a file. `name` stands for the source in error messages; `len` is its length in
    /// bytes when known (it sizes the read buffer and is what [`len`] reports), else 0.
    ///
    /// [`open`]: CaptureReader::open
    /// [`len`]: CaptureReader::len
    pub fn from_reader(
        name: impl Into<PathBuf>,
        source: impl Read + 'static,
        len: u64,
    ) -> Result<CaptureReader, CaptureError> {
        Self::start(name.into(), Box::new(source), len, READ_CHUNK)
    }

    /// `open`, reading at most `max_buffer` bytes at a time (the buffer still grows to hold
    /// a record that is larger).
    pub(crate) fn open_with_buffer(
        path: &Path,
        max_buffer: usize,
    ) -> Result<CaptureReader, CaptureError> {
        let io_err = |source| CaptureError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        Self::start(path.to_path_buf(), Box::new(file), len, max_buffer)
    }

    /// Detect the format from the first bytes and read its file header.
    fn start(
        path: PathBuf,
        source: Box<dyn Read>,
        len: u64,
        max_buffer: usize,
    ) -> Result<CaptureReader, CaptureError> {
        let cap = usize::try_from(len)
            .unwrap_or(usize::MAX)
            .clamp(MIN_BUFFER.min(max_buffer), max_buffer);
        let mut reader = CaptureReader {
            path,
            buf: ReadBuf::new(source, cap),
            len,
            format: Format::Pcap(PcapState::default()),
            pending: None,
            done: false,
        };
        reader.fill(4)?;
        let head = reader.buf.bytes();
        if head.len() < 4 {
            return Err(if head.is_empty() {
                reader.corrupt("empty file")
            } else {
                reader.corrupt(format!(
                    "file of {} bytes is too short to be a capture",
                    head.len()
                ))
            });
        }
        let magic = [head[0], head[1], head[2], head[3]];
        let le = u32::from_le_bytes(magic);
        let be = u32::from_be_bytes(magic);
        if le == NG_SHB {
            reader.open_pcapng()?;
        } else if is_pcap_magic(le) {
            reader.open_pcap(false, le)?;
        } else if is_pcap_magic(be) {
            reader.open_pcap(true, be)?;
        } else {
            return Err(CaptureError::NotACapture {
                path: reader.path,
                magic,
            });
        }
        Ok(reader)
    }

    /// The next frame. `Some(Err)` reports a corrupt record (e.g. a record header claiming
    /// more bytes than the file has, a truncated last record, a pcapng block of bad length);
    /// after an error the reader returns None (the caller counts the error and stops).
    /// Never panics on any input.
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, CaptureError>> {
        if self.done {
            return None;
        }
        if let Some(err) = self.pending.take() {
            self.done = true;
            return Some(Err(err));
        }
        let next = match self.format {
            Format::Pcap(_) => self.next_pcap(),
            Format::PcapNg(_) => self.next_pcapng(),
        };
        match next {
            Ok(Some(raw)) => Some(Ok(Frame {
                ts: raw.ts,
                link: raw.link,
                data: &self.buf.data[raw.start..raw.start + raw.len],
                orig_len: raw.orig_len,
            })),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(err) => {
                self.done = true;
                Some(Err(err))
            }
        }
    }

    /// Bytes consumed so far (for a progress bar).
    pub fn position(&self) -> u64 {
        self.buf.position()
    }

    /// The file's size when it was opened (an open reader's file is never empty, so there is
    /// no `is_empty`).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Link type of the first interface (pcap: the file's), for display. `None` for a pcapng
    /// file whose first interface description block has not been seen.
    pub fn link_type(&self) -> Option<LinkType> {
        match &self.format {
            Format::Pcap(p) => Some(p.link),
            Format::PcapNg(n) => n.first_link,
        }
    }

    pub(crate) fn corrupt(&self, message: impl Into<String>) -> CaptureError {
        CaptureError::Corrupt {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// Makes `n` bytes available at the read position; false if the file ends first.
    #[inline]
    pub(crate) fn fill(&mut self, n: usize) -> Result<bool, CaptureError> {
        if self.buf.end - self.buf.start >= n {
            return Ok(true);
        }
        self.buf.fill_slow(n).map_err(|source| CaptureError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

#[inline]
pub(crate) fn rd16(b: &[u8], at: usize, big: bool) -> u16 {
    let v = [b[at], b[at + 1]];
    if big {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    }
}

#[inline]
pub(crate) fn rd32(b: &[u8], at: usize, big: bool) -> u32 {
    let v = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if big {
        u32::from_be_bytes(v)
    } else {
        u32::from_le_bytes(v)
    }
}

/// The source read in large chunks; `data[start..end]` holds the bytes not yet consumed.
pub(crate) struct ReadBuf {
    source: Box<dyn Read>,
    pub(crate) data: Vec<u8>,
    pub(crate) start: usize,
    end: usize,
    /// Source offset of `data[0]`.
    base: u64,
    eof: bool,
}

impl ReadBuf {
    fn new(source: Box<dyn Read>, cap: usize) -> ReadBuf {
        ReadBuf {
            source,
            data: vec![0; cap],
            start: 0,
            end: 0,
            base: 0,
            eof: false,
        }
    }

    pub(crate) fn avail(&self) -> usize {
        self.end - self.start
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    fn position(&self) -> u64 {
        self.base + self.start as u64
    }

    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.avail());
        self.start += n.min(self.avail());
    }

    /// Reads until `n` bytes are available or the source ends. `n` is bounded by the
    /// callers (at most [`MAX_BLOCK_LEN`](crate::MAX_BLOCK_LEN)), so growing the buffer to it
    /// is safe.
    #[cold]
    fn fill_slow(&mut self, n: usize) -> io::Result<bool> {
        loop {
            if self.avail() >= n {
                return Ok(true);
            }
            if self.eof {
                return Ok(false);
            }
            if self.data.len() - self.start < n || self.end == self.data.len() {
                self.data.copy_within(self.start..self.end, 0);
                self.base += self.start as u64;
                self.end -= self.start;
                self.start = 0;
                if self.data.len() < n {
                    self.data.resize(n.next_multiple_of(MIN_BUFFER), 0);
                }
            }
            match self.source.read(&mut self.data[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}
