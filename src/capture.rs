//! Capture files: a reader for pcap and pcapng, a writer for pcap.
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
//! The reader reads the file through its own buffer in large chunks and hands out frames
//! borrowed from it, so reading allocates nothing per frame. Every length taken from the file
//! is checked against the bytes actually present and against fixed caps ([`MAX_CAPLEN`] for
//! a record's captured bytes, [`MAX_BLOCK_LEN`] for a pcapng block) before anything is
//! sliced or allocated, so no input can make it panic, loop or allocate more than a few
//! MiB beyond the file's largest valid record.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};
use vpcsim_dataplane::packet::LinkType;
use vpcsim_dataplane::Timestamp;

/// The most captured bytes one record may hold (libpcap's `MAXIMUM_SNAPLEN`). A record that
/// claims more is reported as corrupt rather than read.
pub const MAX_CAPLEN: u32 = 256 * 1024;
/// The largest pcapng block accepted (libpcap's initial maximum block size).
pub const MAX_BLOCK_LEN: u32 = 16 * 1024 * 1024;
/// The most interfaces one pcapng section may declare.
const MAX_INTERFACES: usize = 65_536;
/// How much of the file is read at a time.
const READ_CHUNK: usize = 4 * 1024 * 1024;
/// The smallest read buffer, so that tiny files do not cause many small reads.
const MIN_BUFFER: usize = 64 * 1024;

const PCAP_MAGIC_USEC: u32 = 0xA1B2_C3D4;
const PCAP_MAGIC_NSEC: u32 = 0xA1B2_3C4D;
/// Alexey Kuznetzov's patched libpcap: usec timestamps, 24-byte record headers.
const PCAP_MAGIC_KUZNETZOV: u32 = 0xA1B2_CD34;
const PCAP_FILE_HEADER_LEN: usize = 24;
/// Bits of the pcap link-type field that must be zero (libpcap's `LT_RESERVED1`).
const PCAP_LINKTYPE_RESERVED: u32 = 0x03FF_0000;

const NG_SHB: u32 = 0x0A0D_0D0A;
const NG_IDB: u32 = 1;
const NG_PB: u32 = 2;
const NG_SPB: u32 = 3;
const NG_EPB: u32 = 6;
const NG_BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const NG_OPT_ENDOFOPT: u16 = 0;
const NG_OPT_IF_TSRESOL: u16 = 9;
const NG_OPT_IF_TSOFFSET: u16 = 14;

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
    Io { path: PathBuf, source: io::Error },
    /// The file starts with neither a pcap magic number nor a pcapng Section Header Block.
    #[error("{path}: not a pcap or pcapng file (magic {magic:02x?})")]
    NotACapture { path: PathBuf, magic: [u8; 4] },
    /// A bad file header, a bad record or block, or a truncated one.
    #[error("{path}: {message}")]
    Corrupt { path: PathBuf, message: String },
}

/// Reads pcap and pcapng files frame by frame. See [`CaptureReader::open`].
pub struct CaptureReader {
    path: PathBuf,
    buf: ReadBuf,
    len: u64,
    format: Format,
    /// An error found while looking ahead in `open`, reported by the first `next_frame`.
    pending: Option<CaptureError>,
    done: bool,
}

enum Format {
    Pcap(PcapState),
    PcapNg(NgState),
}

struct PcapState {
    big: bool,
    /// What the sub-second field is multiplied by to give nanoseconds (1000 or 1).
    frac_to_ns: u64,
    /// Record header length: 16, or 24 for Kuznetzov's format.
    rec_hdr_len: usize,
    lengths: LengthOrder,
    link: LinkType,
}

/// Before pcap 2.3 the captured and original lengths were stored the other way round, and
/// some 2.3 files were written either way (as libpcap and Wireshark, swap them back).
#[derive(Clone, Copy, PartialEq, Eq)]
enum LengthOrder {
    Normal,
    Swapped,
    MaybeSwapped,
}

struct NgState {
    big: bool,
    ifaces: Vec<Iface>,
    /// Link type of the first interface of the file.
    first_link: Option<LinkType>,
}

#[derive(Clone, Copy, Debug)]
struct Iface {
    link: LinkType,
    snaplen: u32,
    scale: TsScale,
    /// `if_tsoffset`, in nanoseconds.
    offset_ns: i128,
}

/// How one interface's timestamp units become nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TsScale {
    /// 10^-n with n <= 9: multiply.
    Mul(u64),
    /// 10^-n with n > 9: divide.
    Div(u64),
    /// 2^-n: multiply by 10^9, shift right by n.
    Shift(u32),
}

impl TsScale {
    fn from_tsresol(v: u8) -> Result<TsScale, String> {
        if v & 0x80 != 0 {
            let shift = u32::from(v & 0x7F);
            if shift > 63 {
                return Err(format!("if_tsresol 2^-{shift} is too fine"));
            }
            Ok(TsScale::Shift(shift))
        } else if v <= 9 {
            Ok(TsScale::Mul(10u64.pow(9 - u32::from(v))))
        } else if v <= 19 {
            Ok(TsScale::Div(10u64.pow(u32::from(v) - 9)))
        } else {
            Err(format!("if_tsresol 10^-{v} is too fine"))
        }
    }

    #[inline]
    fn to_ns(self, t: u64) -> u64 {
        match self {
            TsScale::Mul(m) => t.saturating_mul(m),
            TsScale::Div(d) => t / d,
            TsScale::Shift(s) => {
                u64::try_from((u128::from(t) * 1_000_000_000) >> s).unwrap_or(u64::MAX)
            }
        }
    }
}

impl Iface {
    #[inline]
    fn timestamp(&self, t: u64) -> Timestamp {
        let ns = self.scale.to_ns(t);
        if self.offset_ns == 0 {
            Timestamp(ns)
        } else {
            let v = (i128::from(ns) + self.offset_ns).clamp(0, i128::from(u64::MAX));
            Timestamp(v as u64)
        }
    }
}

/// A frame's place in the read buffer, turned into a [`Frame`] once parsing is done.
struct RawFrame {
    ts: Timestamp,
    link: LinkType,
    start: usize,
    len: usize,
    orig_len: u32,
}

/// The result of reading one pcapng block.
enum NgBlock {
    Packet(RawFrame),
    Other,
}

impl CaptureReader {
    /// Open a pcap (any byte order, micro- or nanosecond) or pcapng (any number of
    /// interfaces, each with its own link type and if_tsresol; Enhanced, Simple and obsolete
    /// Packet blocks) file.
    pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
        Self::open_with_buffer(path, READ_CHUNK)
    }

    /// `open`, reading at most `max_buffer` bytes at a time (the buffer still grows to hold
    /// a record that is larger).
    fn open_with_buffer(path: &Path, max_buffer: usize) -> Result<CaptureReader, CaptureError> {
        let io_err = |source| CaptureError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        let cap = usize::try_from(len)
            .unwrap_or(usize::MAX)
            .clamp(MIN_BUFFER.min(max_buffer), max_buffer);
        let mut reader = CaptureReader {
            path: path.to_path_buf(),
            buf: ReadBuf::new(file, cap),
            len,
            format: Format::Pcap(PcapState {
                big: false,
                frac_to_ns: 0,
                rec_hdr_len: 16,
                lengths: LengthOrder::Normal,
                link: LinkType::Unsupported(0),
            }),
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

    fn corrupt(&self, message: impl Into<String>) -> CaptureError {
        CaptureError::Corrupt {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// Makes `n` bytes available at the read position; false if the file ends first.
    #[inline]
    fn fill(&mut self, n: usize) -> Result<bool, CaptureError> {
        if self.buf.end - self.buf.start >= n {
            return Ok(true);
        }
        self.buf.fill_slow(n).map_err(|source| CaptureError::Io {
            path: self.path.clone(),
            source,
        })
    }

    // ---- pcap ----

    fn open_pcap(&mut self, big: bool, magic: u32) -> Result<(), CaptureError> {
        if !self.fill(PCAP_FILE_HEADER_LEN)? {
            return Err(self.corrupt(format!(
                "truncated pcap file header ({} of {PCAP_FILE_HEADER_LEN} bytes)",
                self.buf.avail()
            )));
        }
        let h = &self.buf.bytes()[..PCAP_FILE_HEADER_LEN];
        let major = rd16(h, 4, big);
        let minor = rd16(h, 6, big);
        let linktype = rd32(h, 20, big);
        if major != 2 {
            return Err(self.corrupt(format!("unsupported pcap version {major}.{minor}")));
        }
        if linktype & PCAP_LINKTYPE_RESERVED != 0 {
            return Err(self.corrupt(format!(
                "pcap link-type field {linktype:#010x} has reserved bits set"
            )));
        }
        let lengths = match minor {
            0..=2 => LengthOrder::Swapped,
            3 => LengthOrder::MaybeSwapped,
            _ => LengthOrder::Normal,
        };
        self.buf.consume(PCAP_FILE_HEADER_LEN);
        self.format = Format::Pcap(PcapState {
            big,
            frac_to_ns: if magic == PCAP_MAGIC_NSEC { 1 } else { 1000 },
            rec_hdr_len: if magic == PCAP_MAGIC_KUZNETZOV {
                24
            } else {
                16
            },
            lengths,
            link: LinkType::from_pcap(linktype & 0xFFFF),
        });
        Ok(())
    }

    #[inline]
    fn next_pcap(&mut self) -> Result<Option<RawFrame>, CaptureError> {
        let Format::Pcap(p) = &self.format else {
            return Ok(None);
        };
        let (big, frac_to_ns, hdr_len, lengths, link) =
            (p.big, p.frac_to_ns, p.rec_hdr_len, p.lengths, p.link);
        if !self.fill(hdr_len)? {
            return match self.buf.avail() {
                0 => Ok(None),
                n => Err(self.corrupt(format!(
                    "truncated record header at offset {} ({n} of {hdr_len} bytes)",
                    self.position()
                ))),
            };
        }
        let h = &self.buf.bytes()[..hdr_len];
        let sec = rd32(h, 0, big);
        let frac = rd32(h, 4, big);
        let mut incl = rd32(h, 8, big);
        let mut orig = rd32(h, 12, big);
        if lengths == LengthOrder::Swapped || (lengths == LengthOrder::MaybeSwapped && incl > orig)
        {
            std::mem::swap(&mut incl, &mut orig);
        }
        if incl > MAX_CAPLEN {
            return Err(self.corrupt(format!(
                "record at offset {} claims {incl} captured bytes (more than {MAX_CAPLEN})",
                self.position()
            )));
        }
        let total = hdr_len + incl as usize;
        if !self.fill(total)? {
            return Err(self.corrupt(format!(
                "truncated record at offset {}: claims {incl} bytes, {} remain",
                self.position(),
                self.buf.avail() - hdr_len
            )));
        }
        let start = self.buf.start + hdr_len;
        self.buf.consume(total);
        Ok(Some(RawFrame {
            ts: Timestamp(u64::from(sec) * 1_000_000_000 + u64::from(frac) * frac_to_ns),
            link,
            start,
            len: incl as usize,
            orig_len: orig,
        }))
    }

    // ---- pcapng ----

    fn open_pcapng(&mut self) -> Result<(), CaptureError> {
        self.format = Format::PcapNg(NgState {
            big: false,
            ifaces: Vec::new(),
            first_link: None,
        });
        self.ng_block()?; // the first block is the section header
                          // Read on to the first interface description, so that `link_type` can answer, but
                          // stop before any packet block; an error found here is reported by `next_frame`.
        loop {
            if !matches!(self.fill(8), Ok(true)) {
                break;
            }
            let Format::PcapNg(ng) = &self.format else {
                break;
            };
            if ng.first_link.is_some() {
                break;
            }
            let block_type = rd32(self.buf.bytes(), 0, ng.big);
            if matches!(block_type, NG_EPB | NG_SPB | NG_PB) {
                break;
            }
            if let Err(e) = self.ng_block() {
                self.pending = Some(e);
                break;
            }
        }
        Ok(())
    }

    fn next_pcapng(&mut self) -> Result<Option<RawFrame>, CaptureError> {
        loop {
            if !self.fill(1)? {
                return Ok(None);
            }
            if let NgBlock::Packet(raw) = self.ng_block()? {
                return Ok(Some(raw));
            }
        }
    }

    /// Reads one block at the read position (there is at least one byte) and consumes it.
    fn ng_block(&mut self) -> Result<NgBlock, CaptureError> {
        let offset = self.position();
        if !self.fill(12)? {
            return Err(self.corrupt(format!(
                "truncated block header at offset {offset} ({} bytes left)",
                self.buf.avail()
            )));
        }
        let Format::PcapNg(ng) = &self.format else {
            return Ok(NgBlock::Other);
        };
        let head = self.buf.bytes();
        let block_type = rd32(head, 0, ng.big);
        let mut big = ng.big;
        if block_type == NG_SHB {
            // A section header sets the byte order of its section.
            big = match rd32(head, 8, false) {
                NG_BYTE_ORDER_MAGIC => false,
                m if m.swap_bytes() == NG_BYTE_ORDER_MAGIC => true,
                m => {
                    return Err(self.corrupt(format!(
                        "section header at offset {offset} has a bad byte-order magic {m:#010x}"
                    )))
                }
            };
        }
        let len = rd32(head, 4, big);
        let min_len = if block_type == NG_SHB { 28 } else { 12 };
        if len < min_len || len % 4 != 0 || len > MAX_BLOCK_LEN {
            return Err(self.corrupt(format!(
                "block of type {block_type:#x} at offset {offset} has a bad length {len}"
            )));
        }
        let len = len as usize;
        if !self.fill(len)? {
            return Err(self.corrupt(format!(
                "truncated block of type {block_type:#x} at offset {offset}: {len} bytes claimed, {} remain",
                self.buf.avail()
            )));
        }
        let block = &self.buf.bytes()[..len];
        let trailer = rd32(block, len - 4, big);
        if trailer as usize != len {
            return Err(self.corrupt(format!(
                "block of type {block_type:#x} at offset {offset}: length {len} at its head, {trailer} at its tail"
            )));
        }
        let body_start = self.buf.start + 8;
        let body = &block[8..len - 4];
        let Format::PcapNg(ng) = &mut self.format else {
            return Ok(NgBlock::Other);
        };
        let result = match block_type {
            NG_SHB => ng.section(body, big).map(|()| NgBlock::Other),
            NG_IDB => ng.interface(body).map(|()| NgBlock::Other),
            NG_EPB | NG_PB => ng.packet(block_type, body, body_start).map(NgBlock::Packet),
            NG_SPB => ng.simple_packet(body, body_start).map(NgBlock::Packet),
            _ => Ok(NgBlock::Other),
        };
        let block = result.map_err(|m| self.corrupt(format!("{m} (block at offset {offset})")))?;
        self.buf.consume(len);
        Ok(block)
    }
}

impl NgState {
    fn section(&mut self, body: &[u8], big: bool) -> Result<(), String> {
        // body: byte-order magic (4), major (2), minor (2), section length (8), options.
        let (major, minor) = (rd16(body, 4, big), rd16(body, 6, big));
        if !(major == 1 && (minor == 0 || minor == 2)) {
            return Err(format!("unsupported pcapng version {major}.{minor}"));
        }
        for_each_option(&body[16..], big, |_, _| Ok(()))?;
        self.big = big;
        self.ifaces.clear();
        Ok(())
    }

    fn interface(&mut self, body: &[u8]) -> Result<(), String> {
        let big = self.big;
        if body.len() < 8 {
            return Err("interface description block too short".into());
        }
        let link = LinkType::from_pcap(u32::from(rd16(body, 0, big)));
        let snaplen = rd32(body, 4, big);
        let mut scale = TsScale::Mul(1000);
        let mut offset_ns = 0i128;
        for_each_option(&body[8..], big, |code, value| {
            match code {
                NG_OPT_IF_TSRESOL => {
                    let [v] = value else {
                        return Err(format!("if_tsresol of length {} != 1", value.len()));
                    };
                    scale = TsScale::from_tsresol(*v)?;
                }
                NG_OPT_IF_TSOFFSET => {
                    let Ok(v) = <[u8; 8]>::try_from(value) else {
                        return Err(format!("if_tsoffset of length {} != 8", value.len()));
                    };
                    let secs = if big {
                        i64::from_be_bytes(v)
                    } else {
                        i64::from_le_bytes(v)
                    };
                    offset_ns = i128::from(secs) * 1_000_000_000;
                }
                _ => {}
            }
            Ok(())
        })?;
        if self.ifaces.len() >= MAX_INTERFACES {
            return Err(format!(
                "more than {MAX_INTERFACES} interfaces in one section"
            ));
        }
        self.ifaces.push(Iface {
            link,
            snaplen,
            scale,
            offset_ns,
        });
        self.first_link.get_or_insert(link);
        Ok(())
    }

    /// An Enhanced Packet Block or an obsolete Packet Block, which share a layout but for the
    /// interface id (32 bits in EPB; 16 bits and a 16-bit drop count in PB).
    fn packet(
        &mut self,
        block_type: u32,
        body: &[u8],
        body_start: usize,
    ) -> Result<RawFrame, String> {
        let big = self.big;
        if body.len() < 20 {
            return Err("packet block too short".into());
        }
        let iface_id = if block_type == NG_PB {
            u32::from(rd16(body, 0, big))
        } else {
            rd32(body, 0, big)
        };
        let t = (u64::from(rd32(body, 4, big)) << 32) | u64::from(rd32(body, 8, big));
        let caplen = rd32(body, 12, big);
        let orig_len = rd32(body, 16, big);
        if caplen > MAX_CAPLEN {
            return Err(format!(
                "packet claims {caplen} captured bytes (more than {MAX_CAPLEN})"
            ));
        }
        // Like Wireshark (unlike libpcap), a caplen above the interface's snaplen is accepted.
        if caplen as usize > body.len() - 20 {
            return Err(format!(
                "packet claims {caplen} captured bytes, its block holds {}",
                body.len() - 20
            ));
        }
        let Some(iface) = self.ifaces.get(iface_id as usize) else {
            return Err(format!(
                "packet on interface {iface_id}, which was not described"
            ));
        };
        Ok(RawFrame {
            ts: iface.timestamp(t),
            link: iface.link,
            start: body_start + 20,
            len: caplen as usize,
            orig_len,
        })
    }

    fn simple_packet(&mut self, body: &[u8], body_start: usize) -> Result<RawFrame, String> {
        if body.len() < 4 {
            return Err("simple packet block too short".into());
        }
        let orig_len = rd32(body, 0, self.big);
        let Some(iface) = self.ifaces.first() else {
            return Err("simple packet block before any interface description".into());
        };
        // The captured length is not stored: it is the original length, cut to the
        // interface's snaplen and to what the block holds.
        let mut caplen = (orig_len as usize).min(body.len() - 4);
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen as usize);
        }
        if caplen > MAX_CAPLEN as usize {
            return Err(format!(
                "packet holds {caplen} captured bytes (more than {MAX_CAPLEN})"
            ));
        }
        Ok(RawFrame {
            ts: Timestamp(0),
            link: iface.link,
            start: body_start + 4,
            len: caplen,
            orig_len,
        })
    }
}

fn is_pcap_magic(m: u32) -> bool {
    matches!(m, PCAP_MAGIC_USEC | PCAP_MAGIC_NSEC | PCAP_MAGIC_KUZNETZOV)
}

/// Calls `f(code, value)` for each option up to `opt_endofopt`; an option that overruns the
/// block is an error.
fn for_each_option(
    mut opts: &[u8],
    big: bool,
    mut f: impl FnMut(u16, &[u8]) -> Result<(), String>,
) -> Result<(), String> {
    while !opts.is_empty() {
        if opts.len() < 4 {
            return Err("option header cut short".into());
        }
        let code = rd16(opts, 0, big);
        let len = usize::from(rd16(opts, 2, big));
        let padded = (len + 3) & !3;
        if padded > opts.len() - 4 {
            return Err(format!(
                "option {code} of length {len} overruns its block ({} bytes left)",
                opts.len() - 4
            ));
        }
        if code == NG_OPT_ENDOFOPT {
            return Ok(());
        }
        f(code, &opts[4..4 + len])?;
        opts = &opts[4 + padded..];
    }
    Ok(())
}

#[inline]
fn rd16(b: &[u8], at: usize, big: bool) -> u16 {
    let v = [b[at], b[at + 1]];
    if big {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    }
}

#[inline]
fn rd32(b: &[u8], at: usize, big: bool) -> u32 {
    let v = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if big {
        u32::from_be_bytes(v)
    } else {
        u32::from_le_bytes(v)
    }
}

/// The file read in large chunks; `data[start..end]` holds the bytes not yet consumed.
struct ReadBuf {
    file: File,
    data: Vec<u8>,
    start: usize,
    end: usize,
    /// File offset of `data[0]`.
    base: u64,
    eof: bool,
}

impl ReadBuf {
    fn new(file: File, cap: usize) -> ReadBuf {
        ReadBuf {
            file,
            data: vec![0; cap],
            start: 0,
            end: 0,
            base: 0,
            eof: false,
        }
    }

    fn avail(&self) -> usize {
        self.end - self.start
    }

    fn bytes(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    fn position(&self) -> u64 {
        self.base + self.start as u64
    }

    fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.avail());
        self.start += n.min(self.avail());
    }

    /// Reads until `n` bytes are available or the file ends. `n` is bounded by the
    /// callers (at most [`MAX_BLOCK_LEN`]), so growing the buffer to it is safe.
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
            match self.file.read(&mut self.data[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Writes a pcap file (nanosecond-resolution magic, the link type given to `create`, which is
/// LINKTYPE_ETHERNET for what the pipeline emits) through a BufWriter.
pub struct CaptureWriter {
    path: PathBuf,
    inner: PcapWriter<BufWriter<File>>,
}

impl CaptureWriter {
    /// Creates (or truncates) `path` and writes a pcap file header for `link`, with
    /// nanosecond timestamps, the host's byte order and a snaplen of [`MAX_CAPLEN`].
    pub fn create(path: &Path, link: LinkType) -> Result<CaptureWriter, CaptureError> {
        let file = File::create(path).map_err(|source| CaptureError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let header = PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: MAX_CAPLEN,
            datalink: DataLink::from(link.pcap_value()),
            ts_resolution: TsResolution::NanoSecond,
            endianness: Endianness::native(),
        };
        let inner = PcapWriter::with_header(BufWriter::with_capacity(1 << 20, file), header)
            .map_err(|e| pcap_error(path, e))?;
        Ok(CaptureWriter {
            path: path.to_path_buf(),
            inner,
        })
    }

    /// Appends one record. `data` must be at most [`MAX_CAPLEN`] bytes and `ts` before 2106;
    /// an `orig_len` shorter than `data` is raised to `data.len()`.
    pub fn write(&mut self, ts: Timestamp, data: &[u8], orig_len: u32) -> Result<(), CaptureError> {
        if data.len() > MAX_CAPLEN as usize {
            return Err(CaptureError::Corrupt {
                path: self.path.clone(),
                message: format!("frame of {} bytes is longer than {MAX_CAPLEN}", data.len()),
            });
        }
        let orig_len = orig_len.max(data.len() as u32);
        let packet = PcapPacket::new(Duration::from_nanos(ts.0), orig_len, data);
        self.inner
            .write_packet(&packet)
            .map_err(|e| pcap_error(&self.path, e))?;
        Ok(())
    }

    /// Flushes the buffered records to the file.
    pub fn finish(self) -> Result<(), CaptureError> {
        let mut w = self.inner.into_writer();
        w.flush().map_err(|source| CaptureError::Io {
            path: self.path,
            source,
        })
    }
}

fn pcap_error(path: &Path, e: PcapError) -> CaptureError {
    match e {
        PcapError::IoError(source) => CaptureError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => CaptureError::Corrupt {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- fixture builders ----

    fn put16(v: &mut Vec<u8>, x: u16, big: bool) {
        v.extend_from_slice(&if big {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        });
    }

    fn put32(v: &mut Vec<u8>, x: u32, big: bool) {
        v.extend_from_slice(&if big {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        });
    }

    fn pcap_header(big: bool, magic: u32, link: u32) -> Vec<u8> {
        let mut v = Vec::new();
        put32(&mut v, magic, big);
        put16(&mut v, 2, big);
        put16(&mut v, 4, big);
        put32(&mut v, 0, big);
        put32(&mut v, 0, big);
        put32(&mut v, 65535, big);
        put32(&mut v, link, big);
        v
    }

    fn pcap_record(v: &mut Vec<u8>, big: bool, sec: u32, frac: u32, data: &[u8], orig: u32) {
        put32(v, sec, big);
        put32(v, frac, big);
        put32(v, data.len() as u32, big);
        put32(v, orig, big);
        v.extend_from_slice(data);
    }

    fn block(v: &mut Vec<u8>, big: bool, block_type: u32, body: &[u8]) {
        let padded = body.len().next_multiple_of(4);
        let len = (12 + padded) as u32;
        put32(v, block_type, big);
        put32(v, len, big);
        v.extend_from_slice(body);
        v.resize(v.len() + padded - body.len(), 0);
        put32(v, len, big);
    }

    fn shb(v: &mut Vec<u8>, big: bool) {
        let mut b = Vec::new();
        put32(&mut b, NG_BYTE_ORDER_MAGIC, big);
        put16(&mut b, 1, big);
        put16(&mut b, 0, big);
        b.extend_from_slice(&[0xFF; 8]);
        block(v, big, NG_SHB, &b);
    }

    fn option(b: &mut Vec<u8>, big: bool, code: u16, value: &[u8]) {
        put16(b, code, big);
        put16(b, value.len() as u16, big);
        b.extend_from_slice(value);
        b.resize(b.len().next_multiple_of(4), 0);
    }

    fn idb(v: &mut Vec<u8>, big: bool, link: u16, tsresol: Option<u8>, tsoffset: Option<i64>) {
        let mut b = Vec::new();
        put16(&mut b, link, big);
        put16(&mut b, 0, big);
        put32(&mut b, 0, big);
        if let Some(r) = tsresol {
            option(&mut b, big, NG_OPT_IF_TSRESOL, &[r]);
        }
        if let Some(o) = tsoffset {
            let bytes = if big {
                o.to_be_bytes()
            } else {
                o.to_le_bytes()
            };
            option(&mut b, big, NG_OPT_IF_TSOFFSET, &bytes);
        }
        if tsresol.is_some() || tsoffset.is_some() {
            option(&mut b, big, NG_OPT_ENDOFOPT, &[]);
        }
        block(v, big, NG_IDB, &b);
    }

    fn epb(v: &mut Vec<u8>, big: bool, iface: u32, t: u64, data: &[u8], orig: u32) {
        let mut b = Vec::new();
        put32(&mut b, iface, big);
        put32(&mut b, (t >> 32) as u32, big);
        put32(&mut b, t as u32, big);
        put32(&mut b, data.len() as u32, big);
        put32(&mut b, orig, big);
        b.extend_from_slice(data);
        b.resize(b.len().next_multiple_of(4), 0);
        option(&mut b, big, 1, b"a comment");
        option(&mut b, big, NG_OPT_ENDOFOPT, &[]);
        block(v, big, NG_EPB, &b);
    }

    fn write_tmp(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f.flush().unwrap();
        f
    }

    #[derive(Debug, PartialEq)]
    struct Owned {
        ts: u64,
        link: LinkType,
        data: Vec<u8>,
        orig_len: u32,
    }

    /// Reads every frame; the error, if any, is last.
    fn read_all(r: &mut CaptureReader) -> (Vec<Owned>, Option<CaptureError>) {
        let mut frames = Vec::new();
        let mut err = None;
        while let Some(f) = r.next_frame() {
            match f {
                Ok(f) => frames.push(Owned {
                    ts: f.ts.0,
                    link: f.link,
                    data: f.data.to_vec(),
                    orig_len: f.orig_len,
                }),
                Err(e) => {
                    assert!(err.is_none(), "a second error after {:?}", err);
                    err = Some(e);
                }
            }
        }
        assert!(r.next_frame().is_none(), "frames after the end");
        (frames, err)
    }

    fn read_bytes(bytes: &[u8]) -> Result<(Vec<Owned>, Option<CaptureError>), CaptureError> {
        let f = write_tmp(bytes);
        let mut r = CaptureReader::open(f.path())?;
        Ok(read_all(&mut r))
    }

    fn frame(ts: u64, link: LinkType, data: &[u8], orig_len: u32) -> Owned {
        Owned {
            ts,
            link,
            data: data.to_vec(),
            orig_len,
        }
    }

    // ---- tests ----

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rt.pcap");
        let mut w = CaptureWriter::create(&path, LinkType::Ethernet).unwrap();
        let frames: Vec<(u64, Vec<u8>, u32)> = (0..1000u32)
            .map(|i| {
                let len = (i % 200) as usize;
                let data: Vec<u8> = (0..len).map(|j| (i as usize + j) as u8).collect();
                (
                    1_700_000_000_123_456_789 + u64::from(i) * 1_001,
                    data,
                    len as u32 + i % 3,
                )
            })
            .collect();
        for (ts, data, orig) in &frames {
            w.write(Timestamp(*ts), data, *orig).unwrap();
        }
        w.finish().unwrap();

        let mut r = CaptureReader::open(&path).unwrap();
        assert_eq!(r.link_type(), Some(LinkType::Ethernet));
        assert_eq!(r.position(), 24);
        let (got, err) = read_all(&mut r);
        assert!(err.is_none(), "{err:?}");
        let want: Vec<Owned> = frames
            .iter()
            .map(|(ts, d, o)| frame(*ts, LinkType::Ethernet, d, *o))
            .collect();
        assert_eq!(got, want);
        assert_eq!(r.position(), r.len());
    }

    #[test]
    fn round_trip_other_link_and_short_orig_len() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("raw.pcap");
        let mut w = CaptureWriter::create(&path, LinkType::Unsupported(147)).unwrap();
        w.write(Timestamp(5), &[0x45; 20], 0).unwrap();
        assert!(w
            .write(Timestamp(6), &vec![0; MAX_CAPLEN as usize + 1], 0)
            .is_err());
        w.finish().unwrap();
        let mut r = CaptureReader::open(&path).unwrap();
        assert_eq!(r.link_type(), Some(LinkType::Unsupported(147)));
        let (got, err) = read_all(&mut r);
        assert!(err.is_none());
        assert_eq!(
            got,
            vec![frame(5, LinkType::Unsupported(147), &[0x45; 20], 20)]
        );
    }

    #[test]
    fn big_endian_usec_pcap() {
        let mut v = pcap_header(true, PCAP_MAGIC_USEC, 101);
        pcap_record(&mut v, true, 1_000, 999_999, &[1, 2, 3], 60);
        pcap_record(&mut v, true, 1_001, 5, &[4; 70], 70);
        let (got, err) = read_bytes(&v).unwrap();
        assert!(err.is_none());
        assert_eq!(
            got,
            vec![
                frame(1_000_999_999_000, LinkType::Raw, &[1, 2, 3], 60),
                frame(1_001_000_005_000, LinkType::Raw, &[4; 70], 70),
            ]
        );
    }

    #[test]
    fn nanosecond_pcap_both_orders() {
        for big in [false, true] {
            let mut v = pcap_header(big, PCAP_MAGIC_NSEC, 1);
            pcap_record(&mut v, big, 7, 123_456_789, &[9; 14], 14);
            let (got, err) = read_bytes(&v).unwrap();
            assert!(err.is_none());
            assert_eq!(
                got,
                vec![frame(7_123_456_789, LinkType::Ethernet, &[9; 14], 14)]
            );
        }
    }

    #[test]
    fn old_pcap_versions_swap_lengths() {
        let mut v = pcap_header(false, PCAP_MAGIC_USEC, 1);
        v[6] = 2; // version 2.2: lengths stored (orig, incl)
        put32(&mut v, 0, false);
        put32(&mut v, 0, false);
        put32(&mut v, 100, false);
        put32(&mut v, 4, false);
        v.extend_from_slice(&[1, 2, 3, 4]);
        let (got, err) = read_bytes(&v).unwrap();
        assert!(err.is_none());
        assert_eq!(got, vec![frame(0, LinkType::Ethernet, &[1, 2, 3, 4], 100)]);
    }

    #[test]
    fn bad_pcap_headers() {
        let mut v = pcap_header(false, PCAP_MAGIC_USEC, 1);
        v[4] = 1; // version 1.4
        assert!(matches!(read_bytes(&v), Err(CaptureError::Corrupt { .. })));
        let v = pcap_header(false, PCAP_MAGIC_USEC, 0x0030_0001);
        assert!(matches!(read_bytes(&v), Err(CaptureError::Corrupt { .. })));
        let v = pcap_header(false, PCAP_MAGIC_USEC, 1);
        assert!(matches!(
            read_bytes(&v[..20]),
            Err(CaptureError::Corrupt { .. })
        ));
        // A header alone is a valid, empty capture.
        let (got, err) = read_bytes(&v).unwrap();
        assert!(got.is_empty() && err.is_none());
    }

    #[test]
    fn pcapng_two_interfaces() {
        for big in [false, true] {
            let mut v = Vec::new();
            shb(&mut v, big);
            idb(&mut v, big, 1, None, None); // Ethernet, microseconds
            block(&mut v, big, 0x0000_0BAD, &[0xEE; 10]); // unknown: skipped
            idb(&mut v, big, 113, Some(9), Some(10)); // Linux SLL, ns, +10 s
            idb(&mut v, big, 147, Some(0x80 | 20), None); // user 0, 2^-20 s
            block(&mut v, big, 5, &[0; 16]); // interface statistics: skipped
            epb(&mut v, big, 0, 1_500_000_000_000_001, &[1; 60], 60);
            epb(&mut v, big, 1, 1_500_000_000_000_000_007, &[2; 33], 1500);
            epb(&mut v, big, 2, 3 << 19, &[3; 1], 1);
            // An obsolete Packet Block on interface 1 and a Simple Packet Block (interface 0).
            let mut pb = Vec::new();
            put16(&mut pb, 1, big);
            put16(&mut pb, 0, big);
            put32(&mut pb, 0, big);
            put32(&mut pb, 42, big);
            put32(&mut pb, 2, big);
            put32(&mut pb, 2, big);
            pb.extend_from_slice(&[4, 4]);
            block(&mut v, big, NG_PB, &pb);
            let mut spb = Vec::new();
            put32(&mut spb, 5, big);
            spb.extend_from_slice(&[5; 5]);
            block(&mut v, big, NG_SPB, &spb);

            let f = write_tmp(&v);
            let mut r = CaptureReader::open(f.path()).unwrap();
            assert_eq!(r.link_type(), Some(LinkType::Ethernet));
            let (got, err) = read_all(&mut r);
            assert!(err.is_none(), "{err:?}");
            assert_eq!(
                got,
                vec![
                    frame(1_500_000_000_000_001_000, LinkType::Ethernet, &[1; 60], 60),
                    frame(
                        1_500_000_010_000_000_007,
                        LinkType::LinuxSll,
                        &[2; 33],
                        1500
                    ),
                    frame(1_500_000_000, LinkType::Unsupported(147), &[3], 1),
                    frame(10_000_000_042, LinkType::LinuxSll, &[4, 4], 2),
                    frame(0, LinkType::Ethernet, &[5; 5], 5),
                ]
            );
        }
    }

    #[test]
    fn pcapng_second_section_resets_interfaces() {
        let mut v = Vec::new();
        shb(&mut v, false);
        idb(&mut v, false, 1, None, None);
        epb(&mut v, false, 0, 1, &[1], 1);
        shb(&mut v, true);
        idb(&mut v, true, 101, Some(3), None);
        epb(&mut v, true, 0, 2, &[2], 1);
        epb(&mut v, true, 1, 3, &[3], 1); // interface 1 of the old section is gone
        let (got, err) = read_bytes(&v).unwrap();
        assert_eq!(
            got,
            vec![
                frame(1_000, LinkType::Ethernet, &[1], 1),
                frame(2_000_000, LinkType::Raw, &[2], 1)
            ]
        );
        assert!(matches!(err, Some(CaptureError::Corrupt { .. })));
    }

    #[test]
    fn pcapng_bad_headers() {
        // Version 1.1 is not accepted.
        let mut v = Vec::new();
        shb(&mut v, false);
        v[14] = 1;
        assert!(matches!(read_bytes(&v), Err(CaptureError::Corrupt { .. })));
        // An SHB option longer than its block.
        let mut v = Vec::new();
        let mut b = Vec::new();
        put32(&mut b, NG_BYTE_ORDER_MAGIC, false);
        put32(&mut b, 1, false);
        b.extend_from_slice(&[0; 8]);
        put16(&mut b, 2, false);
        put16(&mut b, 400, false);
        block(&mut v, false, NG_SHB, &b);
        assert!(matches!(read_bytes(&v), Err(CaptureError::Corrupt { .. })));
        // Bad byte-order magic, trailer mismatch, truncated SHB.
        let mut v = Vec::new();
        shb(&mut v, false);
        v[8] = 0;
        assert!(matches!(read_bytes(&v), Err(CaptureError::Corrupt { .. })));
        let mut v = Vec::new();
        shb(&mut v, false);
        let n = v.len();
        v[n - 4] = 0;
        assert!(matches!(read_bytes(&v), Err(CaptureError::Corrupt { .. })));
        let mut v = Vec::new();
        shb(&mut v, false);
        assert!(matches!(
            read_bytes(&v[..20]),
            Err(CaptureError::Corrupt { .. })
        ));
        // A section with no interfaces and no packets is an empty capture.
        let mut v = Vec::new();
        shb(&mut v, false);
        let f = write_tmp(&v);
        let mut r = CaptureReader::open(f.path()).unwrap();
        assert_eq!(r.link_type(), None);
        assert!(r.next_frame().is_none());
    }

    #[test]
    fn pcapng_bad_blocks() {
        let start = || {
            let mut v = Vec::new();
            shb(&mut v, false);
            idb(&mut v, false, 1, None, None);
            epb(&mut v, false, 0, 0, &[1; 4], 4);
            v
        };
        let expect_one_then_err = |v: &[u8]| {
            let (got, err) = read_bytes(v).unwrap();
            assert_eq!(got.len(), 1);
            assert!(matches!(err, Some(CaptureError::Corrupt { .. })), "{err:?}");
        };
        // Length not a multiple of 4, too small, too large.
        for len in [13u32, 8, MAX_BLOCK_LEN + 4, u32::MAX - 3] {
            let mut v = start();
            put32(&mut v, NG_EPB, false);
            put32(&mut v, len, false);
            v.extend_from_slice(&[0; 64]);
            expect_one_then_err(&v);
        }
        // Captured length beyond the block, and absurd.
        for caplen in [100u32, 0xFFFF_FFF0] {
            let mut v = start();
            let mut b = Vec::new();
            for x in [0, 0, 0, caplen, 4] {
                put32(&mut b, x, false);
            }
            b.extend_from_slice(&[0; 8]);
            block(&mut v, false, NG_EPB, &b);
            expect_one_then_err(&v);
        }
        // Unknown interface, truncated last block, bad if_tsresol.
        let mut v = start();
        epb(&mut v, false, 3, 0, &[1; 4], 4);
        expect_one_then_err(&v);
        let mut v = start();
        epb(&mut v, false, 0, 0, &[1; 40], 40);
        v.truncate(v.len() - 9);
        expect_one_then_err(&v);
        let mut v = start();
        idb(&mut v, false, 1, Some(20), None);
        expect_one_then_err(&v);
        // A packet block before any interface: open succeeds, the first frame is an error.
        let mut v = Vec::new();
        shb(&mut v, false);
        epb(&mut v, false, 0, 0, &[1; 4], 4);
        let (got, err) = read_bytes(&v).unwrap();
        assert!(got.is_empty() && err.is_some());
        // A broken block before the first interface: open succeeds, the error comes first.
        let mut v = Vec::new();
        shb(&mut v, false);
        put32(&mut v, 0x99, false);
        put32(&mut v, 7, false);
        put32(&mut v, 7, false);
        let (got, err) = read_bytes(&v).unwrap();
        assert!(got.is_empty() && err.is_some());
    }

    #[test]
    fn pcapng_unknown_block_skipped() {
        let mut v = Vec::new();
        shb(&mut v, false);
        block(&mut v, false, 0x4000_0BAD, &[7; 21]); // before the first IDB
        idb(&mut v, false, 229, None, None);
        block(&mut v, false, 0x8000_0001, &[]); // empty custom block
        epb(&mut v, false, 0, 7, &[6; 40], 40);
        block(&mut v, false, 0x0000_0BAD, &[0xA5; 3000]);
        let f = write_tmp(&v);
        let mut r = CaptureReader::open(f.path()).unwrap();
        assert_eq!(r.link_type(), Some(LinkType::Ipv6));
        let (got, err) = read_all(&mut r);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(got, vec![frame(7_000, LinkType::Ipv6, &[6; 40], 40)]);
    }

    #[test]
    fn truncated_last_record() {
        let mut v = pcap_header(false, PCAP_MAGIC_USEC, 1);
        pcap_record(&mut v, false, 1, 0, &[1; 60], 60);
        pcap_record(&mut v, false, 2, 0, &[2; 60], 60);
        for cut in [1, 10, 59, 60 + 16 - 1] {
            let (got, err) = read_bytes(&v[..v.len() - cut]).unwrap();
            assert_eq!(
                got,
                vec![frame(1_000_000_000, LinkType::Ethernet, &[1; 60], 60)]
            );
            let err = err.expect("truncation is reported");
            assert!(matches!(err, CaptureError::Corrupt { .. }), "{err}");
        }
        let f = write_tmp(&v[..v.len() - 1]);
        let mut r = CaptureReader::open(f.path()).unwrap();
        assert!(matches!(r.next_frame(), Some(Ok(_))));
        assert!(matches!(r.next_frame(), Some(Err(_))));
        assert!(r.next_frame().is_none());
        assert!(r.next_frame().is_none());
    }

    #[test]
    fn absurd_incl_len() {
        for incl in [MAX_CAPLEN + 1, 0xFFFF_FFFF] {
            let mut v = pcap_header(false, PCAP_MAGIC_USEC, 1);
            pcap_record(&mut v, false, 1, 0, &[1; 8], 8);
            for x in [0, 0, incl, incl] {
                put32(&mut v, x, false);
            }
            v.extend_from_slice(&[0; 100]);
            let (got, err) = read_bytes(&v).unwrap();
            assert_eq!(got.len(), 1);
            let msg = err.expect("an error").to_string();
            assert!(msg.contains("captured bytes"), "{msg}");
        }
        // The cap itself is accepted.
        let mut v = pcap_header(false, PCAP_MAGIC_USEC, 1);
        pcap_record(
            &mut v,
            false,
            1,
            0,
            &vec![3; MAX_CAPLEN as usize],
            MAX_CAPLEN,
        );
        let (got, err) = read_bytes(&v).unwrap();
        assert!(err.is_none());
        assert_eq!(got[0].data.len(), MAX_CAPLEN as usize);
    }

    #[test]
    fn not_a_capture() {
        let err = read_bytes(b"GET / HTTP/1.1\r\n").expect_err("not a capture");
        match &err {
            CaptureError::NotACapture { magic, .. } => assert_eq!(magic, b"GET "),
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("not a pcap or pcapng file"));
        assert!(matches!(
            read_bytes(b"ab"),
            Err(CaptureError::Corrupt { .. })
        ));
        let missing = Path::new("/nonexistent/dir/x.pcap");
        assert!(matches!(
            CaptureReader::open(missing),
            Err(CaptureError::Io { .. })
        ));
    }

    #[test]
    fn empty_file() {
        let err = read_bytes(&[]).expect_err("an empty file is an error");
        assert!(matches!(err, CaptureError::Corrupt { .. }));
        assert!(err.to_string().contains("empty file"), "{err}");
    }

    #[test]
    fn reads_across_buffer_refills() {
        // Records straddle the chunk boundaries of a small buffer, and one is bigger than it.
        let mut v = pcap_header(false, PCAP_MAGIC_NSEC, 1);
        let sizes: Vec<usize> = (0..300).map(|i| (i * 37) % 1500).chain([9000, 3]).collect();
        for (i, &n) in sizes.iter().enumerate() {
            pcap_record(&mut v, false, 0, i as u32, &vec![i as u8; n], n as u32);
        }
        let f = write_tmp(&v);
        let mut r = CaptureReader::open_with_buffer(f.path(), 1000).unwrap();
        assert_eq!(r.buf.data.len(), 1000);
        let (got, err) = read_all(&mut r);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(got.len(), sizes.len());
        for (i, (g, &n)) in got.iter().zip(&sizes).enumerate() {
            assert_eq!((g.ts, g.data.len()), (i as u64, n));
            assert!(g.data.iter().all(|&b| b == i as u8));
        }
        assert_eq!(r.position(), v.len() as u64);
    }

    #[test]
    fn hostile_inputs_never_panic() {
        // Every prefix of small valid files, and byte flips of them.
        let mut pcap = pcap_header(true, PCAP_MAGIC_USEC, 1);
        pcap_record(&mut pcap, true, 1, 2, &[1; 30], 30);
        pcap_record(&mut pcap, true, 3, 4, &[2; 7], 9);
        let mut ng = Vec::new();
        shb(&mut ng, false);
        idb(&mut ng, false, 1, Some(0x85), Some(-3));
        epb(&mut ng, false, 0, 99, &[1; 30], 30);
        block(&mut ng, false, NG_SPB, &[4, 0, 0, 0, 1, 2, 3, 4]);
        for base in [pcap, ng] {
            for cut in 0..=base.len() {
                let _ = read_bytes(&base[..cut]).map(|(frames, _)| frames.len());
            }
            for i in 0..base.len() {
                for x in [0x01u8, 0x80, 0xFF] {
                    let mut v = base.clone();
                    v[i] ^= x;
                    let _ = read_bytes(&v);
                }
            }
        }
    }
}
