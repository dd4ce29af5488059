//! One simulated interface as a smoltcp network stack: the frames the pipeline delivers to the
//! interface go in, the segments its TCP sockets answer come out, all at packet time (smoltcp's
//! clock is the time of the frame that woke it, never the wall clock).

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{Checksum, Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, IpEndpoint};
use std::collections::VecDeque;
use std::net::IpAddr;
use vpcsim_dataplane::wire::Timestamp;

/// Each socket's buffers: room for a request or response of the simulated applications.
const SOCKET_BUFFER: usize = 16 * 1024;

/// Connections an interface holds at once; past it a new SYN is not answered (counted), so
/// memory stays bounded when a capture opens connections it never closes.
pub const MAX_CONNECTIONS: usize = 4096;

/// The link between the stack and the simulator: IP packets in and out, no link layer.
#[derive(Default)]
struct Link {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
}

struct Rx(Vec<u8>);
struct Tx<'a>(&'a mut Vec<Vec<u8>>);

impl RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut p = vec![0; len];
        let r = f(&mut p);
        self.0.push(p);
        r
    }
}

impl Device for Link {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(Rx, Tx<'_>)> {
        let p = self.rx.pop_front()?;
        Some((Rx(p), Tx(&mut self.tx)))
    }

    fn transmit(&mut self, _: Instant) -> Option<Tx<'_>> {
        Some(Tx(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ip;
        c.max_transmission_unit = 1500;
        // Captured frames often carry offloaded (unfilled) checksums and the pipeline rewrote
        // some addresses: the stack takes what arrives and computes its own on the way out.
        c.checksum.ipv4 = Checksum::Tx;
        c.checksum.tcp = Checksum::Tx;
        c.checksum.udp = Checksum::Tx;
        c.checksum.icmpv4 = Checksum::Tx;
        c.checksum.icmpv6 = Checksum::Tx;
        c
    }
}

/// The TCP fields the endpoint reads and rewrites in a packet.
#[derive(Clone, Copy, Debug)]
pub struct Segment {
    /// Source address and port.
    pub src: (IpAddr, u16),
    /// Destination address and port.
    pub dst: (IpAddr, u16),
    /// Flags byte.
    pub flags: u8,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Offset of the TCP header in the packet.
    tcp: usize,
}

/// TCP flag bits.
pub const SYN: u8 = 0x02;
/// TCP flag bits.
pub const ACK: u8 = 0x10;

/// The TCP segment in an IP packet (IPv4, or IPv6 without extension headers).
pub fn segment(ip: &[u8]) -> Option<Segment> {
    let (src, dst, tcp) = match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            if ip.len() < 20 || *ip.get(9)? != 6 {
                return None;
            }
            let s: [u8; 4] = ip[12..16].try_into().ok()?;
            let d: [u8; 4] = ip[16..20].try_into().ok()?;
            (IpAddr::from(s), IpAddr::from(d), ihl)
        }
        6 => {
            if ip.len() < 40 || ip[6] != 6 {
                return None;
            }
            let s: [u8; 16] = ip[8..24].try_into().ok()?;
            let d: [u8; 16] = ip[24..40].try_into().ok()?;
            (IpAddr::from(s), IpAddr::from(d), 40)
        }
        _ => return None,
    };
    let t = ip.get(tcp..tcp + 20)?;
    let word = |i: usize| u32::from_be_bytes([t[i], t[i + 1], t[i + 2], t[i + 3]]);
    Some(Segment {
        src: (src, u16::from_be_bytes([t[0], t[1]])),
        dst: (dst, u16::from_be_bytes([t[2], t[3]])),
        flags: t[13],
        seq: word(4),
        ack: word(8),
        tcp,
    })
}

/// A connection of the stack and what the simulator keeps for it.
pub struct Conn<R> {
    /// The smoltcp socket.
    pub handle: SocketHandle,
    /// The local port.
    pub port: u16,
    /// The peer, once known.
    pub remote: Option<(IpAddr, u16)>,
    /// The initial sequence number the stack chose, read from its SYN.
    isn: Option<u32>,
    /// A captured client acknowledges the sequence numbers of the host that really answered it,
    /// not this stack's: the difference, learnt from the handshake's ACK, is taken off every
    /// acknowledgment before the stack sees it.
    ack_offset: Option<u32>,
    /// Bytes received and not yet consumed by the application.
    pub inbox: Vec<u8>,
    /// What the application keeps.
    pub role: R,
}

/// A simulated interface: a smoltcp interface, its sockets and their connections.
pub struct Endpoint<R> {
    iface: Interface,
    link: Link,
    sockets: SocketSet<'static>,
    /// Every connection, listening ones included.
    pub conns: Vec<Conn<R>>,
    /// Connections forgotten after the stack sent its last FIN, by peer and local port: a late
    /// ACK or FIN of theirs is taken in silence (the peer of a one-sided capture never sends
    /// it, and keeping them would make every packet scan them).
    closed: rustc_hash::FxHashSet<((IpAddr, u16), u16)>,
}

/// smoltcp's instant for a packet time.
pub fn instant(t: Timestamp) -> Instant {
    Instant::from_micros((t.0 / 1_000) as i64)
}

impl<R> Endpoint<R> {
    /// A stack with no address yet; `seed` makes its sequence numbers deterministic.
    pub fn new(seed: u64, now: Timestamp) -> Endpoint<R> {
        let mut link = Link::default();
        let mut config = Config::new(HardwareAddress::Ip);
        config.random_seed = seed;
        let iface = Interface::new(config, &mut link, instant(now));
        Endpoint {
            iface,
            link,
            sockets: SocketSet::new(Vec::new()),
            conns: Vec::new(),
            closed: Default::default(),
        }
    }

    /// Answer for `a` too. Every destination is on-link: the VPC router, not the stack, routes.
    pub fn add_address(&mut self, a: IpAddr) {
        let addr = IpAddress::from(a);
        if self.iface.has_ip_addr(addr) {
            return;
        }
        self.iface.update_ip_addrs(|list| {
            let _ = list.push(IpCidr::new(addr, 0));
        });
    }

    fn socket() -> tcp::Socket<'static> {
        let mut s = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; SOCKET_BUFFER]),
            tcp::SocketBuffer::new(vec![0; SOCKET_BUFFER]),
        );
        // Without a clock between packets a delayed ACK would wait for the next frame.
        s.set_ack_delay(None);
        s.set_nagle_enabled(false);
        s
    }

    /// Whether a socket listens on `port`.
    pub fn listening(&mut self, port: u16) -> bool {
        let sockets = &self.sockets;
        self.conns.iter().any(|c| {
            c.port == port && sockets.get::<tcp::Socket<'_>>(c.handle).state() == tcp::State::Listen
        })
    }

    /// Listen on `port` for one more connection; false when the interface holds
    /// [`MAX_CONNECTIONS`] already.
    pub fn listen(&mut self, port: u16, role: R) -> bool {
        if self.conns.len() >= MAX_CONNECTIONS {
            return false;
        }
        let mut s = Self::socket();
        if s.listen(port).is_err() {
            return false;
        }
        let handle = self.sockets.add(s);
        self.conns.push(Conn {
            handle,
            port,
            remote: None,
            isn: None,
            ack_offset: None,
            inbox: Vec::new(),
            role,
        });
        true
    }

    /// Open a connection from `local` to `remote`; its index in [`Endpoint::conns`].
    pub fn connect(
        &mut self,
        local: (IpAddr, u16),
        remote: (IpAddr, u16),
        role: R,
    ) -> Option<usize> {
        let mut s = Self::socket();
        let r = IpEndpoint::new(IpAddress::from(remote.0), remote.1);
        let l = IpEndpoint::new(IpAddress::from(local.0), local.1);
        s.connect(self.iface.context(), r, l).ok()?;
        let handle = self.sockets.add(s);
        self.conns.push(Conn {
            handle,
            port: local.1,
            remote: Some(remote),
            isn: None,
            ack_offset: None,
            inbox: Vec::new(),
            role,
        });
        Some(self.conns.len() - 1)
    }

    /// The socket of connection `i`.
    pub fn tcp(&mut self, i: usize) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut(self.conns[i].handle)
    }

    /// Hand the stack an IP packet delivered to the interface.
    pub fn receive(&mut self, mut ip: Vec<u8>) {
        if let Some(s) = segment(&ip) {
            let key = (s.src, s.dst.1);
            if self.closed.contains(&key) {
                if s.flags & SYN == 0 {
                    return;
                }
                self.closed.remove(&key);
            }
            if let Some(i) = self
                .conns
                .iter()
                .position(|c| c.remote == Some(s.src) && c.port == s.dst.1)
            {
                self.unshift_ack(i, &s, &mut ip);
            }
        }
        self.link.rx.push_back(ip);
    }

    fn unshift_ack(&mut self, i: usize, s: &Segment, ip: &mut [u8]) {
        if s.flags & ACK == 0 {
            return;
        }
        let state = self.tcp(i).state();
        let c = &mut self.conns[i];
        if c.ack_offset.is_none() && state == tcp::State::SynReceived {
            if let Some(isn) = c.isn {
                c.ack_offset = Some(s.ack.wrapping_sub(isn.wrapping_add(1)));
            }
        }
        if let Some(off) = c.ack_offset.filter(|&o| o != 0) {
            let at = s.tcp + 8;
            ip[at..at + 4].copy_from_slice(&s.ack.wrapping_sub(off).to_be_bytes());
        }
    }

    /// Run the stack at `now`; `app` runs after each pass over the sockets and says whether it
    /// did anything (then the stack runs again). Returns the packets the interface sends.
    pub fn run(&mut self, now: Timestamp, mut app: impl FnMut(&mut Self) -> bool) -> Vec<Vec<u8>> {
        let at = instant(now);
        for _ in 0..16 {
            self.iface.poll(at, &mut self.link, &mut self.sockets);
            self.learn_peers();
            if !app(self) {
                break;
            }
        }
        self.iface.poll(at, &mut self.link, &mut self.sockets);
        let out = std::mem::take(&mut self.link.tx);
        for p in &out {
            self.learn_isn(p);
        }
        self.reap();
        out
    }

    fn learn_peers(&mut self) {
        for c in &mut self.conns {
            if c.remote.is_none() {
                let s = self.sockets.get::<tcp::Socket<'_>>(c.handle);
                if let Some(r) = s.remote_endpoint() {
                    c.remote = Some((r.addr.into(), r.port));
                }
            }
        }
    }

    fn learn_isn(&mut self, p: &[u8]) {
        let Some(s) = segment(p) else { return };
        if s.flags & SYN == 0 {
            return;
        }
        if let Some(c) = self
            .conns
            .iter_mut()
            .find(|c| c.remote == Some(s.dst) && c.port == s.src.1 && c.isn.is_none())
        {
            c.isn = Some(s.seq);
        }
    }

    /// Forget closed connections (a new one to the same ports starts afresh), and those where
    /// the stack has nothing left to send or receive but the peer's last ACK.
    fn reap(&mut self) {
        let (sockets, closed) = (&mut self.sockets, &mut self.closed);
        self.conns.retain(|c| {
            let st = sockets.get::<tcp::Socket<'_>>(c.handle).state();
            let done = matches!(st, tcp::State::LastAck | tcp::State::TimeWait);
            if done {
                // Bounded: past it, a very late ACK meets a RST, as after a host's TIME-WAIT.
                if closed.len() >= 65_536 {
                    closed.clear();
                }
                if let Some(r) = c.remote {
                    closed.insert((r, c.port));
                }
            }
            let gone = done || st == tcp::State::Closed;
            if gone {
                sockets.remove(c.handle);
            }
            !gone
        });
    }
}
