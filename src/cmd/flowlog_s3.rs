//! `replay --flow-log-layout s3`: flow logs laid out as AWS delivers them to an S3 bucket.
//!
//! AWS publishes a flow log's records every 5 minutes, gzipped, to
//! `AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/` under the bucket, in files named
//! `<account>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`; the file of
//! 16:20 holds the records whose end time falls between 16:20:00 and 16:24:59, and the folder's
//! date is the file's. Every file starts with the header line (AWS's Athena table skips it).
//!
//! vpcsim logs every interface, so each VPC stands for one flow log on that VPC; its id is
//! derived from the VPC's id, so reruns give the same names.

use super::outdir::{self, OutputFolder};
use flate2::write::GzEncoder;
use flate2::Compression;
use rustc_hash::FxHashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use vpcsim_dataplane::topology::{EniIdx, VpcIdx};
use vpcsim_dataplane::Topology;

/// AWS publishes flow log files to S3 every 5 minutes.
pub const DELIVERY_PERIOD_S: u64 = 300;

/// Files of a period older than this many periods before the newest record are closed: their
/// records have all been written by then unless the capture is far out of time order, and a
/// late record then goes to another file of the same period, as AWS also delivers several.
const PERIODS_KEPT_OPEN: u64 = 2;

/// Where the flow-log files go: AWS's default per-resource files under `flowlogs/`, or S3's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FlowLogLayout {
    /// `flowlogs/<Resource>.log`, one plain-text file per resource that owns interfaces.
    #[default]
    Files,
    /// `AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/…log.gz`, as delivered to S3.
    S3,
}

type GzFile = outdir::NamedWriter<GzEncoder<BufWriter<File>>>;

/// The open `.log.gz` files of an S3 layout, one per flow log (VPC) and delivery period.
pub struct S3Layout {
    account: String,
    region: String,
    open: FxHashMap<(VpcIdx, u64), GzFile>,
    /// Files already made per flow log and period, so a late record's file gets a new hash.
    made: FxHashMap<(VpcIdx, u64), u32>,
    newest_period: u64,
}

impl S3Layout {
    /// No files yet, for the flow logs of `account` in `region`.
    pub fn new(account: &str, region: &str) -> S3Layout {
        S3Layout {
            account: account.to_string(),
            region: region.to_string(),
            open: FxHashMap::default(),
            made: FxHashMap::default(),
            newest_period: 0,
        }
    }

    /// Write one record's line (ending in a newline) to the file of its interface's VPC and of
    /// the delivery period of `end`, the record's end time in seconds.
    pub fn write(
        &mut self,
        topo: &Topology,
        folder: &OutputFolder,
        header: &str,
        eni: EniIdx,
        end: u64,
        line: &[u8],
    ) -> io::Result<()> {
        let vpc = topo.enis[eni].vpc;
        let period = end / DELIVERY_PERIOD_S;
        self.newest_period = self.newest_period.max(period);
        let key = (vpc, period);
        if !self.open.contains_key(&key) {
            let seq = {
                let n = self.made.entry(key).or_insert(0);
                *n += 1;
                *n
            };
            let rel = self.file_path(topo, vpc, period, seq)?;
            let path = folder.claim(&rel).map_err(io::Error::other)?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let f = outdir::create(&path).map_err(io::Error::other)?;
            let gz = GzEncoder::new(BufWriter::new(f), Compression::default());
            let mut w = outdir::NamedWriter::new(path, gz);
            w.write_all(header.as_bytes())?;
            self.open.insert(key, w);
        }
        if let Some(w) = self.open.get_mut(&key) {
            w.write_all(line)?;
        }
        Ok(())
    }

    /// Close the files of periods that no record is expected for any more.
    pub fn close_old(&mut self) -> io::Result<()> {
        let keep_from = self.newest_period.saturating_sub(PERIODS_KEPT_OPEN);
        let old: Vec<(VpcIdx, u64)> = self
            .open
            .keys()
            .filter(|(_, p)| *p < keep_from)
            .copied()
            .collect();
        for key in old {
            if let Some(w) = self.open.remove(&key) {
                finish(w)?;
            }
        }
        Ok(())
    }

    /// Close every file, writing the gzip trailers.
    pub fn finish(mut self) -> io::Result<()> {
        for (_, w) in self.open.drain() {
            finish(w)?;
        }
        Ok(())
    }

    /// `AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/<account>_vpcflowlogs_<region>_<id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`.
    fn file_path(&self, topo: &Topology, vpc: VpcIdx, period: u64, seq: u32) -> io::Result<String> {
        let at = i64::try_from(period * DELIVERY_PERIOD_S)
            .ok()
            .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
            .ok_or_else(|| io::Error::other(format!("flow log time {period} out of range")))?;
        let day = at
            .format(time::macros::format_description!("[year]/[month]/[day]"))
            .map_err(io::Error::other)?;
        let stamp = at
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute]Z"
            ))
            .map_err(io::Error::other)?;
        let id = flow_log_id(&topo.resources[topo.vpcs[vpc].res].aws_id);
        let (account, region) = (safe(&self.account), safe(&self.region));
        let hash = fnv1a(format!("{id}/{stamp}/{seq}").as_bytes()) as u32;
        Ok(format!(
            "AWSLogs/{account}/vpcflowlogs/{region}/{day}/\
             {account}_vpcflowlogs_{region}_{id}_{stamp}_{hash:08x}.log.gz"
        ))
    }
}

fn finish(w: GzFile) -> io::Result<()> {
    let (path, gz) = w.into_parts();
    let name = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    gz.finish().map_err(name)?.flush().map_err(name)
}

/// The id of the flow log on a VPC: `fl-` and 17 hex digits, as AWS's are, from the VPC's id.
pub fn flow_log_id(vpc_id: &str) -> String {
    let h = fnv1a(vpc_id.as_bytes());
    format!("fl-{h:016x}{:x}", h.rotate_left(7) & 0xf)
}

/// 64-bit FNV-1a: a stable hash for made-up ids (Rust's own hashers may change between
/// releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// An account or Region as a path part: anything but letters, digits and `-` becomes `_`.
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
