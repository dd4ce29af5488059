//! The frame loop of live mode: one thread per link reads the frames its namespace sends,
//! answers ARP, judges IP frames with replay's own per-frame code ([`Pipeline::frame`]) against
//! the served region's topology of the moment and its connection state, and writes what the
//! pipeline delivers to the link of the receiving namespace. The verdicts go to one output
//! thread, which writes them with replay's writer.

use super::super::outdir::{self, OutputFolder, VERDICTS};
use super::super::replay::outputs::{delivered_frame, Outputs, TopologyRef};
use super::super::replay::{Batch, Item, Pipeline, ROUTER_MAC};
use super::super::stdio::errln;
use super::arp;
use pnet_datalink::{DataLinkReceiver, DataLinkSender};
use rustc_hash::FxHashMap;
use std::io::BufWriter;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use vpcsim_api::plane::{Compiled, RegionPlane};
use vpcsim_capture::Frame;
use vpcsim_dataplane::topology::EniIdx;
use vpcsim_dataplane::wire::LinkType;
use vpcsim_dataplane::{Disposition, Origin, ResId, Timestamp, Topology};
use vpcsim_report::summary::Counters;

/// EtherType of IPv4.
const ETHERTYPE_IPV4: u16 = 0x0800;
/// Verdicts wait at most this long before they go to the output thread.
const BATCH_AGE: Duration = Duration::from_millis(200);
/// Items in a batch before it goes to the output thread regardless of age.
const BATCH_ITEMS: usize = 512;
/// How often the outputs are flushed so they can be read while traffic flows.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// What is on the other side of a link.
#[derive(Clone, Debug)]
pub enum Peer {
    /// A namespace standing for this interface (its AWS id, stable across recompiles).
    Interface(String),
    /// The internet namespace and the addresses of its hosts.
    Internet(Vec<Ipv4Addr>),
}

/// One link vpcsim reads and writes.
pub struct Link {
    /// The host-side interface's name.
    pub name: String,
    /// Who is behind it.
    pub peer: Peer,
    /// Where frames for it are written.
    pub sender: Mutex<Box<dyn DataLinkSender>>,
}

/// What every link thread shares.
pub struct Shared {
    /// The served region: its topology of the moment and its connection state.
    pub plane: Arc<RegionPlane>,
    /// Every link, by index.
    pub links: Vec<Link>,
    /// Set when the server stops.
    pub stop: Arc<AtomicBool>,
    /// Numbers the frames of every link, for the verdict lines.
    pub frames: AtomicU64,
}

/// A batch of verdicts and the topology they were judged against.
pub struct Judged {
    compiled: Arc<Compiled>,
    batch: Batch,
}

/// Which link stands for which interface in one compiled topology (interface indexes can
/// change when the API recompiles the region).
struct Attachments {
    compiled: Arc<Compiled>,
    eni_of_link: Vec<Option<EniIdx>>,
    link_of_eni: FxHashMap<EniIdx, usize>,
    internet: Option<usize>,
}

impl Attachments {
    fn new(compiled: Arc<Compiled>, links: &[Link]) -> Attachments {
        let topo = &compiled.topology;
        let eni_of_link: Vec<Option<EniIdx>> = links
            .iter()
            .map(|l| match &l.peer {
                Peer::Interface(id) => topo
                    .find_resource(id)
                    .and_then(|r| topo.enis.position(|e| e.res == r)),
                Peer::Internet(_) => None,
            })
            .collect();
        let link_of_eni = eni_of_link
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some(((*e)?, i)))
            .collect();
        let internet = links
            .iter()
            .position(|l| matches!(l.peer, Peer::Internet(_)));
        Attachments {
            compiled,
            eni_of_link,
            link_of_eni,
            internet,
        }
    }
}

/// The clock, as the pipeline takes it.
fn now() -> Timestamp {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(since.as_nanos() as u64)
}

fn send(shared: &Shared, to: usize, frame: &[u8]) {
    let mut sender = shared.links[to]
        .sender
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    // A frame the link cannot take is lost, as on a congested wire.
    let _ = sender.send_to(frame, None);
}

/// Whether a resource is an internet gateway (IPv4 or egress-only).
fn is_internet_gateway(topo: &Topology, res: Option<ResId>) -> bool {
    let Some(res) = res else { return false };
    topo.internet_gateways.iter().any(|g| g.res == res)
        || topo.egress_only_igws.iter().any(|g| g.res == res)
}

/// Reads one link until the server stops or the link goes away.
pub fn read_link(
    shared: &Shared,
    index: usize,
    mut rx: Box<dyn DataLinkReceiver>,
    out: &SyncSender<Judged>,
) {
    let mut att = Attachments::new(shared.plane.current(), &shared.links);
    let mut batch = Batch::default();
    let mut oldest = Instant::now();
    let (mut scratch, mut framed) = (Vec::with_capacity(65_536), Vec::with_capacity(65_536));
    let flush = |batch: &mut Batch, compiled: &Arc<Compiled>| {
        if !batch.items.is_empty() {
            let b = std::mem::take(batch);
            let _ = out.send(Judged {
                compiled: Arc::clone(compiled),
                batch: b,
            });
        }
    };
    while !shared.stop.load(Ordering::Relaxed) {
        let data = match rx.next() {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                if oldest.elapsed() >= BATCH_AGE {
                    flush(&mut batch, &att.compiled);
                }
                continue;
            }
            Err(e) => {
                if !shared.stop.load(Ordering::Relaxed) {
                    errln!(
                        "warning: live link {}: {e}; it is no longer read",
                        shared.links[index].name
                    );
                }
                break;
            }
        };
        // What vpcsim itself wrote to the link comes back to its own socket.
        if data.len() < 14 || data[6..12] == ROUTER_MAC {
            continue;
        }
        let current = shared.plane.current();
        if !Arc::ptr_eq(&current, &att.compiled) {
            flush(&mut batch, &att.compiled);
            att = Attachments::new(current, &shared.links);
        }
        if let Some(req) = arp::request(data) {
            answer_arp(shared, &att, index, &req, &mut framed);
            continue;
        }
        if u16::from_be_bytes([data[12], data[13]]) != ETHERTYPE_IPV4 {
            continue;
        }
        let origin = match (&shared.links[index].peer, att.eni_of_link[index]) {
            (Peer::Internet(_), _) => Origin::Internet,
            (Peer::Interface(_), Some(e)) => Origin::Eni(e),
            // The interface is gone from the region: its namespace is cut off.
            (Peer::Interface(_), None) => continue,
        };
        if batch.items.is_empty() {
            oldest = Instant::now();
        }
        let first = batch.items.len();
        judge(shared, &att.compiled, origin, data, &mut batch);
        deliver(
            shared,
            &att,
            index,
            &batch,
            first,
            &mut scratch,
            &mut framed,
        );
        if batch.items.len() >= BATCH_ITEMS || oldest.elapsed() >= BATCH_AGE {
            flush(&mut batch, &att.compiled);
        }
    }
    flush(&mut batch, &att.compiled);
}

/// Replay's per-frame judging, on the region's state, at the clock's time.
fn judge(shared: &Shared, compiled: &Compiled, origin: Origin, data: &[u8], batch: &mut Batch) {
    let frame = Frame {
        ts: now(),
        link: LinkType::Ethernet,
        data,
        orig_len: data.len() as u32,
    };
    let mut state = shared
        .plane
        .state
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let mut pipeline = Pipeline {
        topo: &compiled.topology,
        state: &mut state,
        origin,
        counters: Counters::default(),
        firewall_logs: super::super::firewall_logs::FirewallLogs::none(),
        sim: None,
        frames_read: shared.frames.fetch_add(1, Ordering::Relaxed) + 1,
        taps: Default::default(),
        minutes: None,
    };
    pipeline.frame(&frame, batch);
}

fn answer_arp(
    shared: &Shared,
    att: &Attachments,
    index: usize,
    req: &arp::Request,
    framed: &mut Vec<u8>,
) {
    let mac = match (&shared.links[index].peer, att.eni_of_link[index]) {
        (Peer::Internet(own), _) => (!own.contains(&req.target_ip)).then_some(ROUTER_MAC),
        (Peer::Interface(_), Some(eni)) => {
            arp::answer_for_interface(&att.compiled.topology, eni, req.target_ip, ROUTER_MAC)
        }
        (Peer::Interface(_), None) => None,
    };
    if let Some(mac) = mac {
        arp::reply(req, mac, framed);
        send(shared, index, framed);
    }
}

/// Writes what the pipeline delivered to an attached namespace, or sent to the internet, to
/// that link; the resolver's answers go back to the asking link.
fn deliver(
    shared: &Shared,
    att: &Attachments,
    from: usize,
    batch: &Batch,
    first: usize,
    scratch: &mut Vec<u8>,
    framed: &mut Vec<u8>,
) {
    let topo = &att.compiled.topology;
    for item in &batch.items[first..] {
        match item {
            Item::Judged {
                outcome,
                meta,
                bytes: Some((start, len)),
                writes_frame: true,
                ..
            } => {
                let to = match outcome.delivered_eni {
                    Some(e) => att.link_of_eni.get(&e).copied(),
                    None if outcome.disposition == Disposition::Exited
                        && is_internet_gateway(topo, outcome.egress) =>
                    {
                        att.internet
                    }
                    None => None,
                };
                let Some(to) = to else { continue };
                let data = &batch.arena[*start..*start + *len];
                delivered_frame(topo, outcome, meta, data, scratch, framed);
                send(shared, to, framed);
            }
            Item::DnsAnswer(a) => send(shared, from, &a.frame),
            _ => {}
        }
    }
}

/// The output thread: replay's writer, retargeted whenever the region's topology changes,
/// flushed every second.
pub fn write_outputs(
    first: Arc<Compiled>,
    folder: &OutputFolder,
    rx: &Receiver<Judged>,
    account: &str,
    region: &str,
) -> Result<(), String> {
    let path = folder.claim(VERDICTS)?;
    let verdicts = BufWriter::new(outdir::create(&path)?);
    let mut outputs = Outputs::live(
        TopologyRef::Served(first),
        folder,
        verdicts,
        path,
        account,
        region,
    );
    let mut flushed = Instant::now();
    loop {
        match rx.recv_timeout(FLUSH_EVERY / 2) {
            Ok(j) => {
                outputs.retarget(TopologyRef::Served(j.compiled))?;
                outputs.batch(&j.batch)?;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if flushed.elapsed() >= FLUSH_EVERY {
            outputs.flush_now()?;
            flushed = Instant::now();
        }
    }
    outputs.finish().map(|_| ())
}
