//! pcapng: blocks of type, length, body and the length again. A Section Header Block sets the
//! byte order; Interface Description Blocks give each interface its link type, snaplen and
//! timestamp resolution; packet blocks name their interface.

use vpcsim_dataplane::wire::LinkType;
use vpcsim_dataplane::Timestamp;

use crate::reader::{rd16, rd32, CaptureReader, Format, RawFrame};
use crate::{CaptureError, MAX_BLOCK_LEN, MAX_CAPLEN};

/// The most interfaces one pcapng section may declare.
const MAX_INTERFACES: usize = 65_536;

pub(crate) const NG_SHB: u32 = 0x0A0D_0D0A;
pub(crate) const NG_IDB: u32 = 1;
pub(crate) const NG_PB: u32 = 2;
pub(crate) const NG_SPB: u32 = 3;
pub(crate) const NG_EPB: u32 = 6;
pub(crate) const NG_BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
pub(crate) const NG_OPT_ENDOFOPT: u16 = 0;
pub(crate) const NG_OPT_IF_TSRESOL: u16 = 9;
pub(crate) const NG_OPT_IF_TSOFFSET: u16 = 14;

pub(crate) struct NgState {
    big: bool,
    ifaces: Vec<Iface>,
    /// Link type of the first interface of the file.
    pub(crate) first_link: Option<LinkType>,
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

/// The result of reading one pcapng block.
enum NgBlock {
    Packet(RawFrame),
    Other,
}

impl CaptureReader {
    pub(crate) fn open_pcapng(&mut self) -> Result<(), CaptureError> {
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

    pub(crate) fn next_pcapng(&mut self) -> Result<Option<RawFrame>, CaptureError> {
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
