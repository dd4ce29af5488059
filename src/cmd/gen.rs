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
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use vpcsim_capture::CaptureWriter;
use vpcsim_dataplane::pipeline::Origin;
use vpcsim_dataplane::topology::{EniIdx, EniKind};
use vpcsim_dataplane::wire::{self, tcp_flags, Frag, L4Spec, LinkType, PacketSpec};
use vpcsim_dataplane::wire::{Header, IpProtocol};
use vpcsim_dataplane::{process_header, Disposition, NoTrace, State, Timestamp, Topology};

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
    /// Output pcap (Ethernet).
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
/// the last ACK; UDP and ICMP echo are `exchanges` request/response pairs.
fn steps(kind: Kind, exchanges: usize) -> Vec<Step> {
    let step = |forward, flags, payload| Step {
        forward,
        flags,
        payload,
    };
    let n = exchanges.max(1);
    match kind {
        Kind::Tcp => {
            let mut v = vec![
                step(true, tcp_flags::SYN, false),
                step(false, tcp_flags::SYN | tcp_flags::ACK, false),
                step(true, tcp_flags::ACK, false),
            ];
            for _ in 0..n {
                v.push(step(true, tcp_flags::ACK | tcp_flags::PSH, true));
                v.push(step(false, tcp_flags::ACK | tcp_flags::PSH, true));
            }
            v.push(step(true, tcp_flags::FIN | tcp_flags::ACK, false));
            v.push(step(false, tcp_flags::FIN | tcp_flags::ACK, false));
            v.push(step(true, tcp_flags::ACK, false));
            v
        }
        _ => (0..n)
            .flat_map(|_| [step(true, 0, true), step(false, 0, true)])
            .collect(),
    }
}

struct Flow {
    kind: Kind,
    client: Header,
    /// The first packet's header as the server received it; the server answers to its reverse.
    server_view: Option<Header>,
    start_ns: u64,
    gap_ns: u64,
    dead: bool,
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
    Some(Flow {
        kind,
        client: h,
        server_view: None,
        start_ns: 0,
        gap_ns: 0,
        dead: false,
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
    while flows.len() < args.flows && attempts < args.flows * 20 + 100 {
        attempts += 1;
        if let Some(mut f) = make_flow(&topo, &hosts, &mut rng) {
            f.start_ns = args.start * 1_000_000_000 + rng.below(span_ns.max(1));
            f.gap_ns = 200_000 + rng.below(2_000_000);
            flows.push(f);
        }
    }
    // Every packet of every flow, in time order.
    let mut events: Vec<(u64, u32, u32)> = Vec::new();
    let tcp_steps = steps(Kind::Tcp, args.exchanges);
    let pair_steps = steps(Kind::Udp, args.exchanges);
    for (i, f) in flows.iter().enumerate() {
        let n = if f.kind == Kind::Tcp {
            tcp_steps.len()
        } else {
            pair_steps.len()
        };
        for s in 0..n {
            events.push((f.start_ns + s as u64 * f.gap_ns, i as u32, s as u32));
        }
    }
    events.sort_unstable();
    let mut writer = match CaptureWriter::create(&args.out, LinkType::Ethernet) {
        Ok(w) => w,
        Err(e) => {
            errln!("error: {e}");
            return 2;
        }
    };
    let mut state = State::new(args.state.config());
    let mut buf = Vec::with_capacity(2048);
    let mut written = 0u64;
    for (t, fi, si) in events {
        let f = &mut flows[fi as usize];
        if f.dead {
            continue;
        }
        let steps: &[Step] = if f.kind == Kind::Tcp {
            &tcp_steps
        } else {
            &pair_steps
        };
        let step = steps[si as usize];
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
                1000u32.wrapping_add(si.wrapping_mul(100)),
            ),
            payload_len: payload,
        };
        buf.clear();
        wire::build(&spec, &mut buf);
        let Ok(meta) = wire::parse(LinkType::Ethernet, &buf) else {
            continue;
        };
        let v = process_header(
            &topo,
            &mut state,
            meta.header,
            Frag::None,
            Origin::Auto,
            Timestamp(t),
            &mut NoTrace,
        );
        if let Err(e) = writer.write(Timestamp(t), &buf, buf.len() as u32) {
            errln!("error: {e}");
            return 2;
        }
        written += 1;
        if v.disposition == Disposition::Dropped {
            // Nobody answers a packet that never arrived; the flow ends here.
            f.dead = true;
        } else if step.forward && f.server_view.is_none() {
            f.server_view = Some(v.header);
        }
    }
    if let Err(e) = writer.finish() {
        errln!("error: {e}");
        return 2;
    }
    outln!(
        "wrote {written} packets of {} flows to {}",
        flows.len(),
        args.out.display()
    );
    0
}
