//! `vpcsim gen`: synthetic traffic for a topology.
//!
//! Flows are drawn from what the topology's security groups expect (the ports their rules
//! open), between instances, from instances to the internet and from the internet to public
//! addresses: TCP handshakes with data and FIN, UDP request/response, ICMP echo. Every packet
//! is pushed through the same pipeline while generating, so replies are addressed exactly as the
//! network would deliver them (to the NAT gateway's translated port, to the Elastic IP) and a
//! replay of the file, which starts from the same empty state, reproduces them.

use super::args::{StateArgs, TopologyArgs};
use super::stdio::{errln, outln};
use clap::Args;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use vpcsim_dataplane::pipeline::Origin;
use vpcsim_dataplane::topology::{EniIdx, EniKind};
use vpcsim_dataplane::wire::{self, tcp_flags, Frag, L4Spec, LinkType, PacketSpec};
use vpcsim_dataplane::wire::{Header, IpProtocol};
use vpcsim_dataplane::{
    process_header, Disposition, DropReason, NoTrace, State, Timestamp, Topology,
};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim gen -t examples/two-tier.yaml --flows 200 --out captures/two-tier.pcap
  vpcsim gen -t examples/two-tier.yaml --flows 10000 --exchanges 50 --payload 0 --out /tmp/big.pcap")]
pub struct GenArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Number of flows (TCP: 8 packets with one exchange; UDP and ICMP: 2).
    #[arg(long, default_value_t = 100)]
    pub flows: usize,
    /// Output pcap (Ethernet); `-` writes it to standard output (the summary line then goes to
    /// standard error).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
    /// Random seed: the same seed and topology give the same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seconds over which flow starts are spread.
    #[arg(long, default_value_t = 60.0)]
    pub duration: f64,
    /// Unix time of the first packet.
    #[arg(long, default_value_t = 1_700_000_000)]
    pub start: u64,
    /// TCP/UDP payload bytes of data packets (0 gives minimum-size frames).
    #[arg(long, default_value_t = 64)]
    pub payload: usize,
    /// Request/response exchanges per flow (TCP data segments each way, UDP datagrams, echoes):
    /// long-lived flows with many packets each.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub exchanges: usize,
    /// Only flows the security groups allow: a flow whose first packet a security group would
    /// refuse is not generated (one a network ACL or a route drops still is).
    #[arg(long)]
    pub intended: bool,
    #[command(flatten)]
    pub state: StateArgs,
}

/// xorshift64*: small, fast and reproducible across platforms.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len() as u64) as usize)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Tcp,
    Udp,
    Icmp,
}

/// One packet of a flow: sent by the client (`forward`) or the server, with TCP flags and payload.
#[derive(Clone, Copy)]
struct Step {
    forward: bool,
    flags: u8,
    payload: bool,
}

/// The packets of one flow: TCP handshake, `exchanges` data segments each way, FIN both ways and
/// the last ACK; UDP and ICMP echo are `exchanges` request/response pairs. Computed per packet,
/// so a flow of billions of exchanges costs nothing until it is written.
fn step_count(kind: Kind, exchanges: u64) -> u64 {
    let n = exchanges.max(1);
    match kind {
        Kind::Tcp => 6 + 2 * n,
        _ => 2 * n,
    }
}

/// Packet `i` of a flow of `kind` with `exchanges` exchanges ([`step_count`] of them).
fn step_at(kind: Kind, exchanges: u64, i: u64) -> Step {
    let step = |forward, flags, payload| Step {
        forward,
        flags,
        payload,
    };
    if kind != Kind::Tcp {
        return step(i % 2 == 0, 0, true);
    }
    let data_end = 3 + 2 * exchanges.max(1);
    match i {
        0 => step(true, tcp_flags::SYN, false),
        1 => step(false, tcp_flags::SYN | tcp_flags::ACK, false),
        2 => step(true, tcp_flags::ACK, false),
        i if i < data_end => step(i % 2 == 1, tcp_flags::ACK | tcp_flags::PSH, true),
        i if i == data_end => step(true, tcp_flags::FIN | tcp_flags::ACK, false),
        i if i == data_end + 1 => step(false, tcp_flags::FIN | tcp_flags::ACK, false),
        _ => step(true, tcp_flags::ACK, false),
    }
}

/// Packets `gen` writes at most (about 100 GB of pcap at 100 bytes a frame).
const MAX_PACKETS: u64 = 1_000_000_000;
/// Flows `gen` holds at most (about 1 GB of flow state).
const MAX_FLOWS: usize = 10_000_000;
/// Longest gap between two packets of a flow (`make_flow` draws 0.2 to 2.2 ms).
const MAX_GAP_NS: u64 = 2_200_000;
/// A client's DNS query leaves this long before its answer, which comes this long before the
/// flow's first packet.
const DNS_STEP_NS: u64 = 1_000_000;
/// Step numbers of the DNS query and answer ahead of a flow, beyond any flow's own steps.
const DNS_QUERY: u64 = u64::MAX - 1;
const DNS_ANSWER: u64 = u64::MAX;
/// pcap timestamps are 32-bit seconds: the last second a packet may carry.
const LAST_PCAP_SECOND: u64 = u32::MAX as u64;

/// Refuse sizes that cannot be written: too many packets or flows, or packet times past what
/// pcap can hold. Checked before anything is written, so no partial file is left.
fn check_size(args: &GenArgs) -> Result<(), String> {
    if args.flows > MAX_FLOWS {
        return Err(format!("--flows {}: at most {MAX_FLOWS}", args.flows));
    }
    if !(args.duration.is_finite() && args.duration >= 0.0) {
        return Err(format!(
            "--duration {}: a number of seconds, 0 or more",
            args.duration
        ));
    }
    let per_flow = step_count(Kind::Tcp, args.exchanges as u64);
    let packets = (args.flows as u128) * u128::from(per_flow);
    if packets > u128::from(MAX_PACKETS) {
        return Err(format!(
            "--flows {} with --exchanges {} is up to {packets} packets: at most {MAX_PACKETS}",
            args.flows, args.exchanges
        ));
    }
    let last_ns = u128::from(args.start) * 1_000_000_000
        + (args.duration * 1e9) as u128
        + u128::from(per_flow) * u128::from(MAX_GAP_NS);
    if last_ns / 1_000_000_000 > u128::from(LAST_PCAP_SECOND) {
        return Err(format!(
            "--start {} with --duration {} and --exchanges {}: packets would be timed after {} (Unix time {LAST_PCAP_SECOND}), past what a pcap timestamp holds",
            args.start, args.duration, args.exchanges, "2106-02-07"
        ));
    }
    Ok(())
}

struct Flow {
    kind: Kind,
    client: Header,
    /// The first packet's header as the server received it; the server answers to its reverse.
    server_view: Option<Header>,
    start_ns: u64,
    gap_ns: u64,
    dead: bool,
    /// The name the client looks up first, when a zone of its VPC has one for the server.
    dns_name: Option<String>,
}

/// A host that can send: an instance or standalone interface with an IPv4 address.
struct Host {
    eni: EniIdx,
    addr: Ipv4Addr,
    public: Option<Ipv4Addr>,
}

/// Ports a group's rules open to `peer`-like sources, for plausible traffic.
fn open_ports(topo: &Topology, eni: EniIdx, ingress: bool, proto: IpProtocol) -> Vec<u16> {
    let e = &topo.enis[eni];
    let rules = if ingress { &e.sg_ingress } else { &e.sg_egress };
    let mut ports: Vec<u16> = rules
        .iter()
        .filter(|r| r.protocol == Some(proto))
        .map(|r| r.from_port.clamp(0, 65535) as u16)
        .filter(|p| *p != 0)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

fn internet_host(rng: &mut Rng) -> Ipv4Addr {
    match rng.below(3) {
        0 => Ipv4Addr::new(198, 51, 100, 1 + rng.below(250) as u8),
        1 => Ipv4Addr::new(203, 0, 113, 1 + rng.below(250) as u8),
        _ => Ipv4Addr::new(192, 0, 2, 1 + rng.below(250) as u8),
    }
}

fn make_flow(topo: &Topology, hosts: &[Host], rng: &mut Rng) -> Option<Flow> {
    let client_port = 32768 + rng.below(28232) as u16;
    let mut h = Header {
        src: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        proto: IpProtocol::TCP,
        src_port: client_port,
        dst_port: 443,
        icmp_type: 0,
        icmp_code: 0,
        tcp_flags: 0,
        ttl: 64,
        len: 0,
    };
    let roll = rng.below(100);
    let mut kind = match roll % 10 {
        0..=5 => Kind::Tcp,
        6..=8 => Kind::Udp,
        _ => Kind::Icmp,
    };
    let proto = match kind {
        Kind::Tcp => IpProtocol::TCP,
        Kind::Udp => IpProtocol::UDP,
        Kind::Icmp => IpProtocol::ICMP,
    };
    h.proto = proto;
    let public: Vec<&Host> = hosts.iter().filter(|x| x.public.is_some()).collect();
    let scenario = roll / 10;
    match scenario {
        // From the internet to a public address.
        0..=2 if !public.is_empty() => {
            let server = *rng.pick(&public)?;
            h.src = IpAddr::V4(internet_host(rng));
            h.dst = IpAddr::V4(server.public?);
            let ports = open_ports(topo, server.eni, true, proto);
            h.dst_port = rng.pick(&ports).copied().unwrap_or(443);
        }
        // Between two hosts.
        3..=5 if hosts.len() > 1 => {
            let client = rng.pick(hosts)?;
            let server = rng.pick(hosts)?;
            if client.eni == server.eni {
                return None;
            }
            h.src = IpAddr::V4(client.addr);
            h.dst = IpAddr::V4(server.addr);
            let ports = open_ports(topo, server.eni, true, proto);
            h.dst_port = rng.pick(&ports).copied().unwrap_or(8080);
        }
        // To a Network Load Balancer listener: from the internet to a node's public address,
        // or from a host to a node's private address.
        6 if !topo.nlb.load_balancers.is_empty() => {
            let lb = rng.pick(topo.nlb.load_balancers.as_slice())?;
            let listener = rng.pick(&lb.listeners)?;
            let node = &topo.enis[*rng.pick(&lb.nodes)?];
            let private = node.primary_v4()?;
            (kind, h.proto) = match listener.protocol {
                vpcsim_dataplane::topology::nlb::LbProtocol::Udp => (Kind::Udp, IpProtocol::UDP),
                _ => (Kind::Tcp, IpProtocol::TCP),
            };
            h.dst_port = listener.port;
            match node.public_for(private) {
                Some(public) if rng.below(2) == 0 => {
                    h.src = IpAddr::V4(internet_host(rng));
                    h.dst = IpAddr::V4(public);
                }
                _ => {
                    h.src = IpAddr::V4(rng.pick(hosts)?.addr);
                    h.dst = IpAddr::V4(private);
                }
            }
        }
        // From a host to the internet.
        _ => {
            let client = rng.pick(hosts)?;
            h.src = IpAddr::V4(client.addr);
            h.dst = IpAddr::V4(internet_host(rng));
            let ports = open_ports(topo, client.eni, false, proto);
            h.dst_port = rng.pick(&ports).copied().unwrap_or(match kind {
                Kind::Udp => 53,
                _ => 443,
            });
        }
    }
    if kind == Kind::Icmp {
        let id = 1 + rng.below(65534) as u16;
        h.src_port = id;
        h.dst_port = id;
        h.icmp_type = 8;
    }
    // Only a dual-stack topology draws the extra number: IPv4-only ones keep their captures.
    if super::gen_v6::dual_stack(topo) && rng.below(2) == 0 {
        super::gen_v6::to_ipv6(topo, &mut h);
    }
    Some(Flow {
        kind,
        client: h,
        server_view: None,
        start_ns: 0,
        gap_ns: 0,
        dead: false,
        dns_name: None,
    })
}

fn l4(kind: Kind, h: &Header, step: Step, forward: bool, seq: u32) -> L4Spec {
    match kind {
        Kind::Tcp => L4Spec::Tcp {
            src_port: h.src_port,
            dst_port: h.dst_port,
            seq,
            ack: if step.flags & tcp_flags::ACK != 0 {
                seq.wrapping_add(1)
            } else {
                0
            },
            flags: step.flags,
            window: 64240,
        },
        Kind::Udp => L4Spec::Udp {
            src_port: h.src_port,
            dst_port: h.dst_port,
        },
        Kind::Icmp => L4Spec::IcmpEcho {
            request: forward,
            id: h.src_port,
            seq: 1,
        },
    }
}

pub fn run(args: &GenArgs) -> i32 {
    if let Err(e) = check_size(args) {
        errln!("error: {e}");
        return 2;
    }
    let Ok((_, topo)) = args.topology.topology() else {
        return 2;
    };
    let hosts: Vec<Host> = topo
        .enis
        .iter_enumerated()
        .filter(|(_, e)| e.kind == EniKind::Host)
        .filter_map(|(i, e)| {
            let addr = e.primary_v4()?;
            Some(Host {
                eni: i,
                addr,
                public: e.public_for(addr),
            })
        })
        .collect();
    if hosts.is_empty() {
        errln!("error: the topology has no instance or network interface with an IPv4 address to generate traffic for");
        return 2;
    }
    let mut rng = Rng(args.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let span_ns = (args.duration.max(0.0) * 1e9) as u64;
    let mut flows = Vec::with_capacity(args.flows);
    let mut attempts = 0;
    let names = super::gen_dns::Names::of(&topo);
    while flows.len() < args.flows && attempts < args.flows * 20 + 100 {
        attempts += 1;
        if let Some(mut f) = make_flow(&topo, &hosts, &mut rng).filter(|f| {
            !args.intended || super::gen_intent::security_groups_allow(&topo, &f.client)
        }) {
            f.start_ns = args.start * 1_000_000_000 + rng.below(span_ns.max(1));
            f.gap_ns = 200_000 + rng.below(MAX_GAP_NS - 200_000);
            if let (Some(client), true) = (
                hosts.iter().find(|h| IpAddr::V4(h.addr) == f.client.src),
                f.start_ns >= 2 * DNS_STEP_NS,
            ) {
                f.dns_name = names.name_for(&topo, client.eni, f.client.dst);
            }
            flows.push(f);
        }
    }
    // A file is written next to the output and renamed over it once complete: an interrupted
    // or failed run leaves no file that looks finished. A device or pipe (`/dev/stdout`, a FIFO)
    // is written in place: renaming over it would replace the device node itself.
    let to_stdout = super::dash::is_dash(&args.out);
    let existing = std::fs::metadata(&args.out).ok();
    let in_place = to_stdout || existing.as_ref().is_some_and(|m| !m.is_file());
    let target = match (&existing, in_place) {
        (_, true) => args.out.clone(),
        // Through a symbolic link, the file it points at is replaced, not the link.
        (Some(_), false) => {
            partial_path(&std::fs::canonicalize(&args.out).unwrap_or(args.out.clone()))
        }
        (None, false) => partial_path(&args.out),
    };
    let (http, requests) = super::gen_http::requests(&topo, args.start * 1_000_000_000);
    let result = write_flows(args, &topo, &mut flows, http, &target).and_then(|written| {
        if !in_place {
            let dest = std::fs::canonicalize(&args.out).unwrap_or(args.out.clone());
            std::fs::rename(&target, &dest).map_err(|e| format!("{}: {e}", args.out.display()))?;
        }
        Ok(written)
    });
    match result {
        Ok(written) if to_stdout => {
            // Standard output holds the capture.
            errln!(
                "wrote {} packets of {} flows to standard output",
                written.packets,
                flows.len()
            );
            if let Some(w) = written.warning() {
                errln!("{w}");
            }
            0
        }
        Ok(written) => {
            let http = match requests {
                0 => String::new(),
                n => format!(" and {n} HTTP requests to load balancer listeners"),
            };
            outln!(
                "wrote {} packets of {} flows{http} to {}",
                written.packets,
                flows.len(),
                args.out.display()
            );
            if let Some(w) = written.warning() {
                errln!("{w}");
            }
            0
        }
        Err(e) => {
            if !in_place {
                let _ = std::fs::remove_file(&target);
            }
            errln!("error: {e}");
            2
        }
    }
}

/// `FILE.partial-PID` beside `FILE`.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".partial-{}", std::process::id()));
    out.with_file_name(name)
}

/// Every packet of every flow, in time order, pushed through the pipeline and written to `path`.
/// One pending packet per flow waits in a heap, so memory follows the flows, not the packets.
fn write_flows(
    args: &GenArgs,
    topo: &Topology,
    flows: &mut [Flow],
    http: Vec<(u64, Vec<u8>)>,
    path: &Path,
) -> Result<Written, String> {
    // The HTTP requests' client frames (time-ordered) go in between, in time order.
    let mut http = http.into_iter().peekable();
    let exchanges = args.exchanges as u64;
    // A flow with a name starts with its DNS query and answer.
    let mut pending: BinaryHeap<Reverse<(u64, u32, u64)>> = flows
        .iter()
        .enumerate()
        .map(|(i, f)| match f.dns_name {
            Some(_) => Reverse((f.start_ns - 2 * DNS_STEP_NS, i as u32, DNS_QUERY)),
            None => Reverse((f.start_ns, i as u32, 0)),
        })
        .collect();
    let mut writer = super::dash::capture_writer(path)?;
    let mut state = State::new(args.state.config());
    let mut buf = Vec::with_capacity(2048);
    let mut written = 0u64;
    let mut dropped = [0u64; DropReason::COUNT];
    while let Some(Reverse((t, fi, si))) = pending.pop() {
        while let Some((ht, frame)) = http.next_if(|(ht, _)| *ht <= t) {
            writer
                .write(Timestamp(ht), &frame, frame.len() as u32)
                .map_err(|e| e.to_string())?;
            written += 1;
        }
        let f = &mut flows[fi as usize];
        if si >= DNS_QUERY {
            let (Some(name), Some(client)) = (&f.dns_name, topo.owner_of(f.client.src)) else {
                continue;
            };
            let (id, port) = (fi as u16, f.client.src_port ^ 1);
            let frame = if si == DNS_QUERY {
                pending.push(Reverse((t + DNS_STEP_NS, fi, DNS_ANSWER)));
                super::gen_dns::query_frame(topo, client, name, id, port)
            } else {
                pending.push(Reverse((f.start_ns, fi, 0)));
                super::gen_dns::response_frame(topo, client, name, id, port)
            };
            if let Some(frame) = frame {
                writer
                    .write(Timestamp(t), &frame, frame.len() as u32)
                    .map_err(|e| e.to_string())?;
                written += 1;
            }
            continue;
        }
        if si + 1 < step_count(f.kind, exchanges) {
            pending.push(Reverse((t + f.gap_ns, fi, si + 1)));
        }
        if f.dead {
            continue;
        }
        let step = step_at(f.kind, exchanges, si);
        let mut h = if step.forward {
            f.client
        } else {
            match f.server_view {
                Some(v) => v.reply(),
                None => continue,
            }
        };
        h.tcp_flags = step.flags;
        let payload = if step.payload { args.payload } else { 0 };
        let spec = PacketSpec {
            src: h.src,
            dst: h.dst,
            src_mac: [0x02, 0, 0, 0, 0, 1],
            dst_mac: [0x02, 0, 0, 0, 0, 2],
            ttl: 64,
            l4: l4(
                f.kind,
                &h,
                step,
                step.forward,
                1000u32.wrapping_add((si as u32).wrapping_mul(100)),
            ),
            payload_len: payload,
        };
        buf.clear();
        wire::build(&spec, &mut buf);
        let Ok(meta) = wire::parse(LinkType::Ethernet, &buf) else {
            continue;
        };
        let v = process_header(
            topo,
            &mut state,
            meta.header,
            Frag::None,
            Origin::Auto,
            Timestamp(t),
            &mut NoTrace,
        );
        writer
            .write(Timestamp(t), &buf, buf.len() as u32)
            .map_err(|e| e.to_string())?;
        written += 1;
        if v.disposition == Disposition::Dropped {
            // Nobody answers a packet that never arrived; the flow ends here.
            f.dead = true;
            if let Some(r) = v.reason {
                dropped[r as usize] += 1;
            }
        } else if step.forward && f.server_view.is_none() {
            f.server_view = Some(v.header);
        }
    }
    for (ht, frame) in http {
        writer
            .write(Timestamp(ht), &frame, frame.len() as u32)
            .map_err(|e| e.to_string())?;
        written += 1;
    }
    writer.finish().map_err(|e| e.to_string())?;
    Ok(Written {
        packets: written,
        dropped,
    })
}

/// What [`write_flows`] wrote: packets, and the dropped ones per reason.
struct Written {
    packets: u64,
    dropped: [u64; DropReason::COUNT],
}

impl Written {
    /// A warning when most generated packets would be dropped: such a capture mostly exercises
    /// one drop, which is rarely what a user generating traffic wants to measure.
    fn warning(&self) -> Option<String> {
        let dropped: u64 = self.dropped.iter().sum();
        if self.packets == 0 || dropped * 2 <= self.packets {
            return None;
        }
        let (top, n) = DropReason::ALL
            .iter()
            .map(|&r| (r, self.dropped[r as usize]))
            .max_by_key(|&(_, n)| n)?;
        Some(format!(
            "warning: {dropped} of {} packets ({:.0}%) are dropped by the topology, most often {} ({n}); `vpcsim replay` on the capture shows where and why",
            self.packets,
            100.0 * dropped as f64 / self.packets as f64,
            top.as_str()
        ))
    }
}
