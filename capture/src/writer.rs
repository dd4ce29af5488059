//! The pcap writer for what the pipeline emits.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};
use vpcsim_dataplane::wire::LinkType;
use vpcsim_dataplane::Timestamp;

use crate::{CaptureError, MAX_CAPLEN};

/// Writes a pcap file (nanosecond-resolution magic, the link type given to `create`, which is
/// LINKTYPE_ETHERNET for what the pipeline emits) through a BufWriter.
pub struct CaptureWriter {
    path: PathBuf,
    inner: PcapWriter<BufWriter<Box<dyn Write + Send>>>,
}

impl CaptureWriter {
    /// Creates (or truncates) `path` and writes a pcap file header for `link`, with
    /// nanosecond timestamps, the host's byte order and a snaplen of [`MAX_CAPLEN`].
    pub fn create(path: &Path, link: LinkType) -> Result<CaptureWriter, CaptureError> {
        let file = File::create(path).map_err(|source| CaptureError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_writer(path, Box::new(file), link)
    }

    /// Writes the capture to any byte sink (standard output, a socket) as [`create`] writes a
    /// file; `name` stands for it in error messages.
    ///
    /// [`create`]: CaptureWriter::create
    pub fn from_writer(
        name: &Path,
        sink: Box<dyn Write + Send>,
        link: LinkType,
    ) -> Result<CaptureWriter, CaptureError> {
        let path = name;
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
        let inner = PcapWriter::with_header(BufWriter::with_capacity(1 << 20, sink), header)
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
