//! Simulated hosts and Application Load Balancer nodes in `replay`: the TCP endpoints (smoltcp)
//! that answer what a capture's clients send.
//!
//! The pipeline stays as it is: replay hands [`HostSim::delivered`] each TCP packet the pipeline
//! delivered to an interface that is simulated, the interface's stack answers, and replay takes
//! the answers from [`HostSim::next`] and pushes them through the pipeline from that interface,
//! like captured frames (security groups, NACLs, routes, gateways, flow logs, outputs). Answers
//! delivered to another simulated interface go on from there (an ALB node's backend connection
//! to a target and back) until nothing is left to send; then [`HostSim::settle`] ends the
//! backend connections that can no longer get an answer.
//!
//! Load balancer nodes always answer, and the targets answer the connections the nodes open;
//! hosts answer the capture's own clients only with `--hosts` (without it, replay's outputs for
//! a capture without load balancers stay what they were: one-sided captures are judged, not
//! answered). A connection whose answers are in the capture (a frame with its addresses and ports swapped)
//! is not simulated: the capture holds the real host's answers.

mod endpoint;
pub mod logs;
mod message;
mod node;

use endpoint::{Endpoint, ACK, SYN};
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{json, Value};
use std::net::IpAddr;
use vpcsim_dataplane::alb::hosts::{Answer, Hosts};
use vpcsim_dataplane::alb::http::HttpRequest;
use vpcsim_dataplane::topology::{EniIdx, EniKind};
use vpcsim_dataplane::waf::CountryMap;
use vpcsim_dataplane::wire::{IpProtocol, Timestamp};
use vpcsim_dataplane::{Disposition, Header, ResId, StateConfig, Topology, Verdict};

/// How long a simulated answer takes to leave after what caused it: a distinct instant, far
/// below any timeout.
pub const ANSWER_DELAY_NS: u64 = 10_000;

/// A packet a simulated interface sends.
pub struct Sent {
    /// The interface that sends it.
    pub from: EniIdx,
    /// When.
    pub ts: Timestamp,
    /// The IP packet, checksums computed.
    pub ip: Vec<u8>,
    /// When an ALB node sends it to a client: the load balancer, whose capture holds it too.
    pub to_client_of: Option<ResId>,
}

/// What the simulation counted, for summary.json.
#[derive(Debug, Default)]
pub struct SimStats {
    /// HTTP requests answered by simulated hosts.
    pub host_requests: u64,
    /// HTTP requests the load balancers took.
    pub alb_requests: u64,
    /// SYNs left unanswered because the interface held `MAX_CONNECTIONS` connections.
    pub syns_over_capacity: u64,
}

/// The role of a connection of a simulated host: the HTTP or plain TCP server on a port.
#[derive(Default)]
pub struct Served;

/// A TCP packet's addresses and ports, `(src, src port, dst, dst port)`, hashed: the set of a
/// capture's conversations takes 8 bytes per entry (a collision only leaves one connection
/// unanswered, with odds of one in 2^64 per lookup).
pub type Conversation = u64;

/// The [`Conversation`] of a packet with header `h`.
pub fn conversation(src: (IpAddr, u16), dst: (IpAddr, u16)) -> Conversation {
    use std::hash::{Hash, Hasher};
    let mut hasher = rustc_hash::FxHasher::default();
    (src, dst).hash(&mut hasher);
    hasher.finish()
}

/// Everything simulated in one replay.
pub struct HostSim<'t> {
    topo: &'t Topology,
    hosts: Hosts,
    /// Whether hosts answer the capture's clients (`--hosts` given), not only load balancers.
    answer_clients: bool,
    /// The TCP conversations of the capture, as captured.
    captured: FxHashSet<Conversation>,
    servers: FxHashMap<EniIdx, Endpoint<Served>>,
    nodes: node::Nodes<'t>,
    queue: std::collections::VecDeque<Sent>,
    /// Counts for the summary.
    pub stats: SimStats,
}

/// The `http` object of a verdict line (the shape of trace's).
pub fn http_json(
    topo: &Topology,
    req: &HttpRequest,
    status: Option<u16>,
    from: ResId,
    location: Option<&str>,
) -> Value {
    let mut response = json!({"status": status, "from": topo.name(from)});
    if let Some(l) = location {
        response["location"] = json!(l);
    }
    json!({
        "request": {"method": req.method, "path": req.path, "host": req.host()},
        "response": response,
    })
}

impl<'t> HostSim<'t> {
    /// The simulation of `topo`'s hosts and load balancer nodes for a capture whose TCP
    /// packets are `captured`.
    pub fn new(
        topo: &'t Topology,
        hosts: Hosts,
        answer_clients: bool,
        captured: FxHashSet<Conversation>,
        countries: Option<CountryMap>,
        config: StateConfig,
    ) -> HostSim<'t> {
        HostSim {
            topo,
            hosts,
            answer_clients,
            captured,
            servers: FxHashMap::default(),
            nodes: node::Nodes::new(topo, countries, config),
            queue: Default::default(),
            stats: SimStats::default(),
        }
    }

    /// Whether `eni` answers a packet that was `sent` (its header as it was sent).
    fn simulates(&self, eni: EniIdx, sent: &Header) -> bool {
        !self.captured.contains(&conversation(
            (sent.dst, sent.dst_port),
            (sent.src, sent.src_port),
        )) && match self.topo.enis[eni].kind {
            EniKind::ApplicationLoadBalancer(_) => true,
            EniKind::Host => self.answer_clients || self.is_node_address(sent.src),
            _ => false,
        }
    }

    /// Whether `a` is the address of a load balancer node.
    fn is_node_address(&self, a: IpAddr) -> bool {
        let topo = self.topo;
        topo.owner_of(a)
            .is_some_and(|e| matches!(topo.enis[e].kind, EniKind::ApplicationLoadBalancer(_)))
    }

    /// A packet the pipeline judged (`sent`: its header as sent; `ip`: the IP packet as it
    /// arrived, with the verdict's addresses and ports). When it was delivered to a simulated
    /// interface, that interface answers (see [`HostSim::next`]); returns the `http` object of
    /// the request it completed.
    pub fn delivered(
        &mut self,
        sent: &Header,
        v: &Verdict,
        ip: Vec<u8>,
        now: Timestamp,
    ) -> Option<Value> {
        let eni = v.delivered_eni?;
        if v.disposition != Disposition::Delivered
            || v.header.proto != IpProtocol::TCP
            || !self.simulates(eni, sent)
        {
            return None;
        }
        let ts = Timestamp(now.0 + ANSWER_DELAY_NS);
        let (out, http, to_client_of) = match self.topo.enis[eni].kind {
            EniKind::ApplicationLoadBalancer(lb) => {
                let (out, http) =
                    self.nodes
                        .deliver(&self.hosts, eni, lb, v, ip, now, &mut self.stats);
                (out, http, Some(lb))
            }
            _ => {
                let (out, http) = self.serve(eni, v, ip, now);
                (out, http, None)
            }
        };
        self.send(eni, ts, out, to_client_of);
        http
    }

    fn send(
        &mut self,
        from: EniIdx,
        ts: Timestamp,
        out: Vec<(Vec<u8>, bool)>,
        lb: Option<vpcsim_dataplane::topology::AlbIdx>,
    ) {
        for (ip, to_client) in out {
            let to_client_of = lb.filter(|_| to_client).map(|l| self.topo.alb.get(l).res);
            self.queue.push_back(Sent {
                from,
                ts,
                ip,
                to_client_of,
            });
        }
    }

    /// The next packet a simulated interface sends.
    pub fn next(&mut self) -> Option<Sent> {
        self.queue.pop_front()
    }

    /// Nothing is left to send: backend connections that wait for an answer that cannot come
    /// (their SYN was dropped, or the target sends nothing) end, and the load balancer answers
    /// their clients itself. Returns whether anything new is to be sent.
    pub fn settle(&mut self, now: Timestamp) -> bool {
        let ts = Timestamp(now.0 + ANSWER_DELAY_NS);
        let sent = self.nodes.settle(now, &mut self.stats);
        let any = !sent.is_empty();
        for (eni, lb, out) in sent {
            self.send(eni, ts, out, Some(lb));
        }
        any
    }

    /// Write the access and WAF log lines of the requests answered since the last call.
    pub fn write_logs(&mut self, logs: &mut logs::Logs<'_>) -> Result<(), String> {
        self.nodes.write_logs(logs)
    }

    /// A simulated host's stack: a SYN to a port something listens on opens a connection (a
    /// port the hosts file does not list is answered with a RST by the stack itself); an HTTP
    /// request is answered with the application's status and body.
    fn serve(
        &mut self,
        eni: EniIdx,
        v: &Verdict,
        ip: Vec<u8>,
        now: Timestamp,
    ) -> (Vec<(Vec<u8>, bool)>, Option<Value>) {
        let topo = self.topo;
        let hosts = &self.hosts;
        let ep = self
            .servers
            .entry(eni)
            .or_insert_with(|| Endpoint::new(seed(eni), now));
        let h = v.header;
        ep.add_address(h.dst);
        if h.tcp_flags & (SYN | ACK) == SYN
            && hosts.tcp(eni, h.dst_port, None) != Answer::Refused
            && !ep.listening(h.dst_port)
            && !ep.listen(h.dst_port, Served)
        {
            // At capacity: the SYN goes unanswered, as a host whose backlog is full.
            self.stats.syns_over_capacity += 1;
            return (Vec::new(), None);
        }
        ep.receive(ip);
        let mut http = None;
        let mut answered = 0;
        let from = topo.enis[eni].owner;
        let out = ep.run(now, |ep| {
            let mut progress = false;
            for i in 0..ep.conns.len() {
                progress |= serve_conn(ep, i, hosts, eni, |req, status| {
                    answered += 1;
                    http = Some(http_json(topo, req, status, from, None));
                });
            }
            progress
        });
        self.stats.host_requests += answered;
        // A load balancer's backend request is the client request's: its line carries `http`.
        let http = http.filter(|_| !self.is_node_address(h.src));
        (out.into_iter().map(|p| (p, false)).collect(), http)
    }
}

/// A deterministic seed per interface, so two runs send the same sequence numbers.
fn seed(eni: EniIdx) -> u64 {
    0x5eed_0000_0000_0000 ^ (eni.index() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Read what connection `i` received and answer each complete request; close when the client
/// closed. Returns whether it did anything.
fn serve_conn(
    ep: &mut Endpoint<Served>,
    i: usize,
    hosts: &Hosts,
    eni: EniIdx,
    mut on_request: impl FnMut(&HttpRequest, Option<u16>),
) -> bool {
    let port = ep.conns[i].port;
    let mut progress = false;
    let mut buf = [0u8; 4096];
    while ep.tcp(i).can_recv() {
        match ep.tcp(i).recv_slice(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => ep.conns[i].inbox.extend_from_slice(&buf[..n]),
        }
    }
    loop {
        let inbox = &ep.conns[i].inbox;
        if inbox.is_empty() {
            break;
        }
        let (status, body) = match hosts.tcp(eni, port, None) {
            Answer::Http(..) => match message::request(inbox) {
                Ok(None) => break,
                Ok(Some(rx)) => {
                    let Answer::Http(s, body) = hosts.tcp(eni, port, Some(&rx.request.path)) else {
                        break;
                    };
                    on_request(&rx.request, Some(s));
                    ep.conns[i].inbox.drain(..rx.len);
                    (s, body.unwrap_or_default().to_string())
                }
                Err(message::Malformed) => {
                    ep.conns[i].inbox.clear();
                    (400, String::new())
                }
            },
            // A plain listener takes the bytes and says nothing.
            _ => {
                ep.conns[i].inbox.clear();
                break;
            }
        };
        let mut out = Vec::new();
        message::write_response(&mut out, status, &[], "text/plain", body.as_bytes());
        let _ = ep.tcp(i).send_slice(&out);
        progress = true;
    }
    let s = ep.tcp(i);
    if s.state() == smoltcp::socket::tcp::State::CloseWait {
        s.close();
        progress = true;
    }
    progress
}
