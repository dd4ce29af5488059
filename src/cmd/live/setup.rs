//! Starting and stopping live mode: the namespaces and links of the attached instances, the
//! link threads, the output thread, and the clean-up.

use super::super::outdir::OutputFolder;
use super::super::replay::INTERNET_MAC;
use super::super::stdio::{errln, outln};
use super::frames::{self, Link, Peer, Shared};
use super::netns::{self, LinkSetup, Namespace, Record};
use super::LiveServeArgs;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use vpcsim_api::plane::Planes;
use vpcsim_api::store::Store;
use vpcsim_dataplane::topology::{EniIdx, EniKind};
use vpcsim_dataplane::Topology;

/// The internet's MTU (SPEC §15).
const INTERNET_MTU: u32 = 1500;
/// How long a link thread waits for a frame before it looks at the stop flag.
const READ_TIMEOUT: Duration = Duration::from_millis(100);

/// A running live network.
pub struct Live {
    record: Record,
    stop: Arc<AtomicBool>,
    readers: Vec<JoinHandle<()>>,
    writer: Option<JoinHandle<Result<(), String>>>,
}

impl Live {
    /// Stops the link threads, writes the last outputs and removes every namespace and link.
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        if let Some(w) = self.writer.take() {
            match w.join() {
                Ok(Err(e)) => errln!("warning: live outputs: {e}"),
                Err(_) => errln!("warning: live outputs: the output thread failed"),
                Ok(Ok(())) => {}
            }
        }
        match netns::tear_down(Some(&self.record)) {
            Ok(removed) => errln!("vpcsim live: removed {}", removed.join(", ")),
            Err(e) => errln!("warning: removing the live network: {e}"),
        }
    }
}

/// The name an instance's namespace takes: its logical id when it has one, else its Name tag,
/// else its AWS id.
fn display_name(topo: &Topology, eni: EniIdx) -> String {
    let r = topo.resource(topo.enis[eni].owner);
    if r.logical_id != r.aws_id {
        return r.logical_id.clone();
    }
    r.name.clone().unwrap_or_else(|| r.aws_id.clone())
}

/// The interfaces to attach: the ones named, or every instance's.
fn chosen(topo: &Topology, attach: &[String], region: &str) -> Result<Vec<EniIdx>, String> {
    if attach.is_empty() {
        return Ok(topo
            .enis
            .iter_enumerated()
            .filter(|(_, e)| e.kind == EniKind::Host && !e.private_v4.is_empty())
            .map(|(i, _)| i)
            .collect());
    }
    attach
        .iter()
        .map(|name| {
            topo.find_resource(name)
                .and_then(|r| topo.eni_by_resource(r))
                .filter(|&e| topo.enis[e].kind == EniKind::Host)
                .ok_or_else(|| format!("--attach {name}: no instance or network interface of that name in {region}"))
        })
        .collect()
}

/// The namespace of one interface, as recorded.
fn namespace_of(topo: &Topology, eni: EniIdx, name: &str) -> Option<Namespace> {
    let e = &topo.enis[eni];
    let cidr = topo.subnets[e.subnet].cidr_v4?;
    let base = u32::from(cidr.network());
    let ns = netns::namespace_name(name);
    Some(Namespace {
        link: netns::link_name(&ns),
        name: ns,
        resource: name.to_string(),
        interface: topo.resource(e.res).aws_id.clone(),
        addresses: e
            .private_v4
            .iter()
            .map(|a| format!("{a}/{}", cidr.prefix_len()))
            .collect(),
        gateway: Ipv4Addr::from(base + 1).to_string(),
        resolver: topo.vpcs[e.vpc]
            .resolver_v4
            .map_or_else(String::new, |r| r.to_string()),
    })
}

/// The search domain the VPC's DHCP options give (SPEC §25.3).
fn search_domain(region: &str) -> String {
    if region == "us-east-1" {
        "ec2.internal".into()
    } else {
        format!("{region}.compute.internal")
    }
}

/// Starts live mode when `--live` is given: `Ok(None)` without it, `Err(exit code)` after
/// printing why it cannot start (and removing what it made).
pub fn start(
    args: &LiveServeArgs,
    planes: &Planes,
    store: &Store,
    region: &str,
    endpoint: SocketAddr,
    stop: &Arc<AtomicBool>,
) -> Result<Option<Live>, i32> {
    if !args.live {
        return Ok(None);
    }
    if !netns::may_administer_network() {
        errln!("error: serve --live needs root (or CAP_NET_ADMIN) to create network namespaces and links");
        return Err(2);
    }
    if std::process::Command::new("ip").arg("-V").output().is_err() {
        errln!("error: serve --live needs the `ip` command (iproute2)");
        return Err(2);
    }
    match build(args, planes, store, region, endpoint, stop) {
        Ok(live) => Ok(Some(live)),
        Err((e, made)) => {
            errln!("error: serve --live: {e}");
            if let Some(namespaces) = made {
                let made = Record {
                    namespaces,
                    ..Record::default()
                };
                let _ = netns::tear_down(Some(&made));
            }
            Err(2)
        }
    }
}

/// Why the start failed, and the namespaces made so far (to remove).
type Failed = (String, Option<Vec<Namespace>>);

fn build(
    args: &LiveServeArgs,
    planes: &Planes,
    store: &Store,
    region: &str,
    endpoint: SocketAddr,
    stop: &Arc<AtomicBool>,
) -> Result<Live, Failed> {
    if let Some(r) = netns::read_record() {
        if netns::alive(r.pid) && r.pid != std::process::id() {
            return Err((
                format!(
                    "a live network is up (vpcsim pid {}): stop it or run `vpcsim live down`",
                    r.pid
                ),
                None,
            ));
        }
    }
    match netns::tear_down(netns::read_record().as_ref()) {
        Ok(removed) if !removed.is_empty() => {
            errln!(
                "vpcsim live: removed what a crashed run left: {}",
                removed.join(", ")
            );
        }
        Ok(_) => {}
        Err(e) => return Err((format!("removing what a crashed run left: {e}"), None)),
    }
    let plane = planes
        .region(store, region)
        .map_err(|e| (e.message, None))?;
    let compiled = plane.current();
    let topo = &compiled.topology;
    let enis = chosen(topo, &args.attach, region).map_err(|e| (e, None))?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("/run/vpcsim/out"));
    let mut record = Record {
        pid: std::process::id(),
        endpoint: format!("http://{endpoint}"),
        region: region.to_string(),
        out: out.display().to_string(),
        namespaces: Vec::new(),
    };
    let mut peers = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for eni in enis {
        let mut name = display_name(topo, eni);
        let mut n = 2;
        while !seen.insert(netns::namespace_name(&name)) {
            name = format!("{}-{n}", display_name(topo, eni));
            n += 1;
        }
        let Some(ns) = namespace_of(topo, eni, &name) else {
            continue;
        };
        let resolv_conf = (!ns.resolver.is_empty()).then(|| {
            format!(
                "nameserver {}\nsearch {}\n",
                ns.resolver,
                search_domain(region)
            )
        });
        make(&mut record, &ns, topo.enis[eni].mac, resolv_conf, args.mtu)?;
        peers.push(Peer::Interface(ns.interface.clone()));
    }
    if !args.internet_hosts.is_empty() {
        let ns = Namespace {
            name: netns::INTERNET.to_string(),
            link: netns::link_name(netns::INTERNET),
            resource: "internet".into(),
            interface: String::new(),
            addresses: args
                .internet_hosts
                .iter()
                .map(|a| format!("{a}/32"))
                .collect(),
            gateway: String::new(),
            resolver: String::new(),
        };
        // No resolver out there: lookups in the namespace must not reach the host's.
        let resolv_conf = Some("# vpcsim-internet: no DNS resolver\nnameserver 127.0.0.1\n".into());
        make(&mut record, &ns, INTERNET_MAC, resolv_conf, INTERNET_MTU)?;
        peers.push(Peer::Internet(args.internet_hosts.clone()));
    }
    let fail = |e: String, r: &Record| -> Failed { (e, Some(r.namespaces.clone())) };
    let mut links = Vec::new();
    let mut receivers = Vec::new();
    for (ns, peer) in record.namespaces.iter().zip(peers) {
        let (tx, rx) = open_link(&ns.link).map_err(|e| fail(e, &record))?;
        links.push(Link {
            name: ns.link.clone(),
            peer,
            sender: Mutex::new(tx),
        });
        receivers.push(rx);
    }
    let folder = OutputFolder::open(&out, &[]).map_err(|e| fail(e, &record))?;
    let shared = Arc::new(Shared {
        plane,
        links,
        stop: Arc::clone(stop),
        frames: AtomicU64::new(0),
    });
    let (judged_tx, judged_rx) = std::sync::mpsc::sync_channel(64);
    let writer = {
        let (first, account, region) = (
            Arc::clone(&compiled),
            planes.account().to_string(),
            region.to_string(),
        );
        std::thread::spawn(move || {
            frames::write_outputs(first, &folder, &judged_rx, &account, &region)
        })
    };
    let readers = receivers
        .into_iter()
        .enumerate()
        .map(|(i, rx)| {
            let (shared, out) = (Arc::clone(&shared), judged_tx.clone());
            std::thread::spawn(move || frames::read_link(&shared, i, rx, &out))
        })
        .collect();
    netns::write_record(&record).map_err(|e| fail(e, &record))?;
    outln!("{}", describe(&record));
    Ok(Live {
        record,
        stop: Arc::clone(stop),
        readers,
        writer: Some(writer),
    })
}

/// Records a namespace, then creates it (a crash in between leaves a record `down` follows).
fn make(
    record: &mut Record,
    ns: &Namespace,
    mac: [u8; 6],
    resolv_conf: Option<String>,
    mtu: u32,
) -> Result<(), Failed> {
    let snapshot = |r: &Record| Some(r.namespaces.clone());
    netns::check_free(&ns.name).map_err(|e| (e, snapshot(record)))?;
    record.namespaces.push(ns.clone());
    netns::write_record(record).map_err(|e| (e, snapshot(record)))?;
    let gateway = ns.gateway.parse().ok();
    netns::create(&LinkSetup {
        namespace: &ns.name,
        link: &ns.link,
        mac,
        addresses: &ns.addresses,
        gateway,
        resolv_conf,
        mtu,
    })
    .map_err(|e| (e, snapshot(record)))
}

type Channel = (
    Box<dyn pnet_datalink::DataLinkSender>,
    Box<dyn pnet_datalink::DataLinkReceiver>,
);

/// The AF_PACKET channel of a host-side link.
fn open_link(name: &str) -> Result<Channel, String> {
    let iface = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == name)
        .ok_or_else(|| format!("link {name} is missing"))?;
    let config = pnet_datalink::Config {
        read_timeout: Some(READ_TIMEOUT),
        read_buffer_size: 65_536,
        write_buffer_size: 65_536,
        ..Default::default()
    };
    match pnet_datalink::channel(&iface, config) {
        Ok(pnet_datalink::Channel::Ethernet(tx, rx)) => Ok((tx, rx)),
        Ok(_) => Err(format!("link {name}: not an Ethernet channel")),
        Err(e) => Err(format!("link {name}: {e}")),
    }
}

/// The namespaces and what to run in them, as `vpcsim live status` and the server print it.
pub fn describe(r: &Record) -> String {
    let mut s = format!(
        "live network of vpcsim pid {} ({}, region {}); verdicts and flow logs in {}\n",
        r.pid, r.endpoint, r.region, r.out
    );
    let width = r.namespaces.iter().map(|n| n.name.len()).max().unwrap_or(0);
    for n in &r.namespaces {
        let _ = write!(s, "  {:width$}  eth0 {}", n.name, n.addresses.join(" "));
        if !n.gateway.is_empty() {
            let _ = write!(s, "  via {}", n.gateway);
        }
        if !n.resolver.is_empty() {
            let _ = write!(s, "  dns {}", n.resolver);
        }
        if !n.interface.is_empty() {
            let _ = write!(s, "  ({} {})", n.resource, n.interface);
        }
        s.push('\n');
    }
    let host = r
        .namespaces
        .iter()
        .find(|n| n.name == netns::INTERNET)
        .and_then(|n| n.addresses.first())
        .and_then(|a| a.split('/').next());
    let first = r.namespaces.iter().find(|n| n.name != netns::INTERNET);
    s.push_str("try:\n");
    if let Some(h) = host {
        let _ = writeln!(
            s,
            "  ip netns exec {} python3 -m http.server --bind {h} 80 &",
            netns::INTERNET
        );
        if let Some(f) = first {
            let _ = writeln!(s, "  ip netns exec {} curl http://{h}/", f.name);
        }
    }
    if let Some(f) = first {
        let _ = writeln!(s, "  ip netns exec {} bash", f.name);
    }
    s.push_str("  vpcsim live down    # or Ctrl-C on the server");
    s
}
