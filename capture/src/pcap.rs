//! pcap: a 24-byte file header, then records of a 16-byte header and the captured bytes.

use vpcsim_dataplane::wire::LinkType;
use vpcsim_dataplane::Timestamp;

use crate::reader::{rd16, rd32, CaptureReader, Format, RawFrame};
use crate::{CaptureError, MAX_CAPLEN};

pub(crate) const PCAP_MAGIC_USEC: u32 = 0xA1B2_C3D4;
pub(crate) const PCAP_MAGIC_NSEC: u32 = 0xA1B2_3C4D;
/// Alexey Kuznetzov's patched libpcap: usec timestamps, 24-byte record headers.
const PCAP_MAGIC_KUZNETZOV: u32 = 0xA1B2_CD34;
const PCAP_FILE_HEADER_LEN: usize = 24;
/// Bits of the pcap link-type field that must be zero (libpcap's `LT_RESERVED1`).
const PCAP_LINKTYPE_RESERVED: u32 = 0x03FF_0000;

pub(crate) struct PcapState {
    big: bool,
    /// What the sub-second field is multiplied by to give nanoseconds (1000 or 1).
    frac_to_ns: u64,
    /// Record header length: 16, or 24 for Kuznetzov's format.
    rec_hdr_len: usize,
    lengths: LengthOrder,
    pub(crate) link: LinkType,
}

/// What a reader holds before it has seen a file header: never used to read a record.
impl Default for PcapState {
    fn default() -> Self {
        PcapState {
            big: false,
            frac_to_ns: 0,
            rec_hdr_len: 16,
            lengths: LengthOrder::Normal,
            link: LinkType::Unsupported(0),
        }
    }
}

/// Before pcap 2.3 the captured and original lengths were stored the other way round, and
/// some 2.3 files were written either way (as libpcap and Wireshark, swap them back).
#[derive(Clone, Copy, PartialEq, Eq)]
enum LengthOrder {
    Normal,
    Swapped,
    MaybeSwapped,
}

pub(crate) fn is_pcap_magic(m: u32) -> bool {
    matches!(m, PCAP_MAGIC_USEC | PCAP_MAGIC_NSEC | PCAP_MAGIC_KUZNETZOV)
}

impl CaptureReader {
    pub(crate) fn open_pcap(&mut self, big: bool, magic: u32) -> Result<(), CaptureError> {
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
    pub(crate) fn next_pcap(&mut self) -> Result<Option<RawFrame>, CaptureError> {
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
}
