//! Application Load Balancer nodes in replay (SPEC §11.2.6): a client's connection ends at the
//! node's stack; a complete request goes through the web ACL, the listener's rules and the
//! target choice of trace ([`proxy::proxy`], the same code), then the node either answers
//! itself (fixed response, redirect, WAF block, 503) or opens its own connection to the target
//! with the forwarded headers and relays the target's response; a refused backend connection
//! is answered 502, one that gets no answer 504.

use super::endpoint::{segment, Endpoint, ACK, SYN};
use super::logs::{elb_field, AccessEntry, Logs};
use super::message::{self, Received};
use super::{http_json, SimStats};
use rustc_hash::FxHashMap;
use serde_json::Value;
use smoltcp::socket::tcp::State as TcpState;
use std::net::IpAddr;
use vpcsim_dataplane::alb::hosts::Hosts;
use vpcsim_dataplane::alb::proxy::{self, Balancing, Proxied};
use vpcsim_dataplane::alb::rules;
use vpcsim_dataplane::topology::alb::AlbAction;
use vpcsim_dataplane::topology::{AlbIdx, EniIdx};
use vpcsim_dataplane::trace::{Action, Stage};
use vpcsim_dataplane::waf::log::{record, LogSource};
use vpcsim_dataplane::waf::{CountryMap, WafRequest};
use vpcsim_dataplane::wire::{Header, Timestamp};
use vpcsim_dataplane::{DropReason, ResId, State, StateConfig, Topology, Verdict};

/// What a connection of a node is for.
pub enum NodeConn {
    /// A client's connection to listener `listener`.
    Client {
        /// Index of the listener.
        listener: usize,
        /// The client's SYN as it reached the node.
        client: Header,
        /// The request being answered by a target, if one is.
        pending: Option<Box<AccessEntry>>,
    },
    /// The node's connection to a target for the client at `client` (its address and port)
    /// on listener port `listener_port`.
    Backend {
        /// The client's address and port.
        client: (IpAddr, u16),
        /// The listener's port.
        listener_port: u16,
        /// The request, until the connection is up and it is sent.
        request: Option<Vec<u8>>,
        /// The request's time of dispatch.
        dispatched: Timestamp,
    },
}

/// Every node's stack, the balancing state shared by their requests, and the logs' lines.
pub struct Nodes<'t> {
    topo: &'t Topology,
    endpoints: FxHashMap<EniIdx, Endpoint<NodeConn>>,
    /// Where the request's backend walk is judged before the real connection is opened, as
    /// trace does, so the verdict line's `http` says what the client will get.
    scratch: State,
    /// The request count when `scratch` was made.
    scratch_since: u64,
    config: StateConfig,
    balancing: Balancing,
    countries: Option<CountryMap>,
    access: Vec<(ResId, String)>,
    waf: Vec<(ResId, String)>,
    requests: u64,
}

/// Requests judged in one scratch state before it starts afresh.
const SCRATCH_REQUESTS: u64 = 16_384;

/// The output packets of a node: `(packet, sent to a client)`.
type Out = Vec<(Vec<u8>, bool)>;

impl<'t> Nodes<'t> {
    /// No node has a connection yet.
    pub fn new(topo: &'t Topology, countries: Option<CountryMap>, config: StateConfig) -> Self {
        Nodes {
            topo,
            endpoints: FxHashMap::default(),
            scratch: State::new(config),
            scratch_since: 0,
            config,
            balancing: Balancing::default(),
            countries,
            access: Vec::new(),
            waf: Vec::new(),
            requests: 0,
        }
    }

    /// A packet delivered to node `eni` of load balancer `lb`.
    #[allow(clippy::too_many_arguments)]
    pub fn deliver(
        &mut self,
        hosts: &Hosts,
        eni: EniIdx,
        lb: AlbIdx,
        v: &Verdict,
        ip: Vec<u8>,
        now: Timestamp,
        stats: &mut SimStats,
    ) -> (Out, Option<Value>) {
        let topo = self.topo;
        let balancer = topo.alb.get(lb);
        let ep = self
            .endpoints
            .entry(eni)
            .or_insert_with(|| Endpoint::new(super::seed(eni), now));
        let h = v.header;
        ep.add_address(h.dst);
        if h.tcp_flags & (SYN | ACK) == SYN && !ep.listening(h.dst_port) {
            if let Some(li) = balancer.listeners.iter().position(|l| l.port == h.dst_port) {
                let role = NodeConn::Client {
                    listener: li,
                    client: h,
                    pending: None,
                };
                if !ep.listen(h.dst_port, role) {
                    stats.syns_over_capacity += 1;
                    return (Vec::new(), None);
                }
            }
        }
        ep.receive(ip);
        // The scratch state only holds the predicted backend connections: start it afresh now
        // and then, so its capped tables never fill up and turn predictions into drops.
        if self.requests >= self.scratch_since + SCRATCH_REQUESTS {
            self.scratch = State::new(self.config);
            self.scratch_since = self.requests;
        }
        let mut cx = Cx {
            topo,
            hosts,
            eni,
            lb,
            scratch: &mut self.scratch,
            balancing: &mut self.balancing,
            countries: self.countries.as_ref(),
            access: &mut self.access,
            waf: &mut self.waf,
            requests: &mut self.requests,
            http: None,
            now,
        };
        let out = ep.run(now, |ep| {
            let mut progress = false;
            for i in 0..ep.conns.len() {
                progress |= cx.step(ep, i);
            }
            progress
        });
        let http = cx.http.take();
        if http.is_some() {
            stats.alb_requests += 1;
        }
        (mark_client_packets(ep, balancer, out), http)
    }

    /// End the backend connections that wait in vain; the node answers their clients.
    pub fn settle(&mut self, now: Timestamp, _stats: &mut SimStats) -> Vec<(EniIdx, AlbIdx, Out)> {
        let topo = self.topo;
        let mut sent = Vec::new();
        for (&eni, ep) in self.endpoints.iter_mut() {
            let mut stuck = Vec::new();
            for i in 0..ep.conns.len() {
                // A backend connection is stuck while its client still waits for the answer.
                if let NodeConn::Backend {
                    client,
                    listener_port,
                    ..
                } = ep.conns[i].role
                {
                    let waiting = client_conn(ep, client, listener_port).is_some_and(|c| {
                        matches!(
                            &ep.conns[c].role,
                            NodeConn::Client {
                                pending: Some(_),
                                ..
                            }
                        )
                    });
                    if waiting {
                        stuck.push(i);
                    }
                }
            }
            if stuck.is_empty() {
                continue;
            }
            let vpcsim_dataplane::topology::EniKind::ApplicationLoadBalancer(lb) =
                topo.enis[eni].kind
            else {
                continue;
            };
            for &i in &stuck {
                ep.tcp(i).abort();
                let NodeConn::Backend {
                    client,
                    listener_port,
                    ..
                } = ep.conns[i].role
                else {
                    continue;
                };
                if let Some(c) = client_conn(ep, client, listener_port) {
                    let e = respond_error(ep, c, 504, now);
                    self.access.extend(e.map(|e| {
                        (
                            topo.alb.get(lb).res,
                            e.line(&elb_field(topo, topo.alb.get(lb).res)),
                        )
                    }));
                }
            }
            let out = ep.run(now, |_| false);
            sent.push((eni, lb, mark_client_packets(ep, topo.alb.get(lb), out)));
        }
        sent
    }

    /// Write the lines logged since the last call.
    pub fn write_logs(&mut self, logs: &mut Logs<'_>) -> Result<(), String> {
        for (res, line) in self.access.drain(..) {
            logs.write(self.topo, "alb", res, &line)?;
        }
        for (res, line) in self.waf.drain(..) {
            logs.write(self.topo, "waf", res, &line)?;
        }
        Ok(())
    }
}

/// Which of a node's packets go to clients (from a listener port, not a backend connection).
fn mark_client_packets(
    ep: &Endpoint<NodeConn>,
    balancer: &vpcsim_dataplane::topology::alb::AppLoadBalancer,
    out: Vec<Vec<u8>>,
) -> Out {
    out.into_iter()
        .map(|p| {
            let to_client = segment(&p).is_some_and(|s| {
                balancer.listeners.iter().any(|l| l.port == s.src.1)
                    && !ep
                        .conns
                        .iter()
                        .any(|c| matches!(c.role, NodeConn::Backend { .. }) && c.port == s.src.1)
            });
            (p, to_client)
        })
        .collect()
}

fn client_conn(ep: &Endpoint<NodeConn>, client: (IpAddr, u16), port: u16) -> Option<usize> {
    ep.conns.iter().position(|c| {
        c.remote == Some(client) && c.port == port && matches!(c.role, NodeConn::Client { .. })
    })
}

/// Answer the pending request of client connection `c` with an error of the load balancer;
/// returns its finished access-log entry (`error_reason` stays `-`: AWS's error reason codes
/// are those of authenticate actions and Lambda targets, neither simulated).
fn respond_error(
    ep: &mut Endpoint<NodeConn>,
    c: usize,
    status: u16,
    now: Timestamp,
) -> Option<Box<AccessEntry>> {
    let NodeConn::Client { pending, .. } = &mut ep.conns[c].role else {
        return None;
    };
    let mut entry = pending.take()?;
    let mut out = Vec::new();
    let body = error_page(status);
    message::write_response(
        &mut out,
        status,
        &[("Server", "awselb/2.0")],
        "text/html",
        body.as_bytes(),
    );
    let _ = ep.tcp(c).send_slice(&out);
    entry.elb_status = status;
    entry.sent_bytes = out.len();
    entry.responded = now;
    Some(entry)
}

fn error_page(status: u16) -> String {
    format!(
        "<html>\r\n<head><title>{status} {r}</title></head>\r\n<body>\r\n<center><h1>{status} {r}</h1></center>\r\n</body>\r\n</html>\r\n",
        r = message::reason(status)
    )
}

/// What a pass over a node's connections needs.
struct Cx<'a, 't> {
    topo: &'t Topology,
    hosts: &'a Hosts,
    eni: EniIdx,
    lb: AlbIdx,
    scratch: &'a mut State,
    balancing: &'a mut Balancing,
    countries: Option<&'a CountryMap>,
    access: &'a mut Vec<(ResId, String)>,
    waf: &'a mut Vec<(ResId, String)>,
    requests: &'a mut u64,
    /// The `http` object of the request this packet completed.
    http: Option<Value>,
    now: Timestamp,
}

fn read_all(ep: &mut Endpoint<NodeConn>, i: usize) -> bool {
    let mut buf = [0u8; 4096];
    let mut any = false;
    while ep.tcp(i).can_recv() {
        match ep.tcp(i).recv_slice(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                ep.conns[i].inbox.extend_from_slice(&buf[..n]);
                any = true;
            }
        }
    }
    any
}

impl Cx<'_, '_> {
    fn step(&mut self, ep: &mut Endpoint<NodeConn>, i: usize) -> bool {
        let mut progress = read_all(ep, i);
        match &ep.conns[i].role {
            NodeConn::Client { pending, .. } => {
                if pending.is_none() && !ep.conns[i].inbox.is_empty() {
                    progress |= self.request(ep, i);
                }
                if ep.tcp(i).state() == TcpState::CloseWait {
                    ep.tcp(i).close();
                    progress = true;
                }
            }
            NodeConn::Backend { .. } => progress |= self.backend(ep, i),
        }
        progress
    }

    /// A client connection's bytes: when a request is complete, decide and answer or forward.
    fn request(&mut self, ep: &mut Endpoint<NodeConn>, i: usize) -> bool {
        let rx = match message::request(&ep.conns[i].inbox) {
            Ok(None) => return false,
            Ok(Some(rx)) => rx,
            Err(message::Malformed) => {
                ep.conns[i].inbox.clear();
                let mut out = Vec::new();
                message::write_response(
                    &mut out,
                    400,
                    &[("Server", "awselb/2.0")],
                    "text/html",
                    error_page(400).as_bytes(),
                );
                let _ = ep.tcp(i).send_slice(&out);
                ep.tcp(i).close();
                return true;
            }
        };
        let raw: Vec<u8> = ep.conns[i].inbox.drain(..rx.len).collect();
        let NodeConn::Client {
            listener, client, ..
        } = ep.conns[i].role
        else {
            return false;
        };
        let topo = self.topo;
        let balancer = topo.alb.get(self.lb);
        let l = &balancer.listeners[listener];
        let out = proxy::proxy(
            topo,
            self.hosts,
            self.scratch,
            self.balancing,
            &proxy::Request {
                lb: self.lb,
                node: self.eni,
                listener: l,
                http: &rx.request,
                client,
                countries: self.countries,
            },
            self.now,
        );
        *self.requests += 1;
        self.waf_log(&rx, client);
        self.http = Some(http_json(
            topo,
            &rx.request,
            out.response.status,
            out.response.from,
            out.response.location.as_deref(),
        ));
        let mut entry = Box::new(self.entry(&rx, &raw, client, l.port, &out));
        let forward = out
            .hops
            .iter()
            .find(|h| h.stage == Stage::AlbTarget && h.action == Action::Forward);
        match (forward, &out.verdict) {
            (Some(hop), Some(backend)) if backend.reason != Some(DropReason::WafBlocked) => {
                let b = backend.header;
                entry.target = Some(format!("{}:{}", b.dst, b.dst_port));
                entry.target_group_arn = Some(topo.resource(hop.resource).aws_id.clone());
                entry.dispatched = Some(self.now);
                let request = message::forwarded_request(&rx, &raw, &out.forwarded);
                let mut port = b.src_port;
                while ep.conns.iter().any(|c| c.port == port) {
                    port = port.checked_add(1).unwrap_or(1024);
                }
                let opened = ep.connect(
                    (b.src, port),
                    (b.dst, b.dst_port),
                    NodeConn::Backend {
                        client: (client.src, client.src_port),
                        listener_port: l.port,
                        request: Some(request),
                        dispatched: self.now,
                    },
                );
                if opened.is_some() {
                    if let NodeConn::Client { pending, .. } = &mut ep.conns[i].role {
                        *pending = Some(entry);
                    }
                    return true;
                }
                if let NodeConn::Client { pending, .. } = &mut ep.conns[i].role {
                    *pending = Some(entry);
                }
                let e = respond_error(ep, i, 502, self.now);
                self.log_access(e);
            }
            _ => self.answer_itself(ep, i, (&rx, client.src), l, out, entry),
        }
        true
    }

    /// The load balancer answers: WAF block, fixed response, redirect, no target (503).
    fn answer_itself(
        &mut self,
        ep: &mut Endpoint<NodeConn>,
        i: usize,
        (rx, client_ip): (&Received, IpAddr),
        l: &vpcsim_dataplane::topology::alb::AlbListener,
        out: Proxied,
        mut entry: Box<AccessEntry>,
    ) {
        let Some(status) = out.response.status else {
            // Lambda targets are not simulated: nothing answers, the connection is left as is.
            self.log_access(Some(entry));
            return;
        };
        let mut bytes = Vec::new();
        let blocked = out
            .verdict
            .as_ref()
            .is_some_and(|v| v.reason == Some(DropReason::WafBlocked));
        let server = ("Server", "awselb/2.0");
        if blocked {
            message::write_response(
                &mut bytes,
                status,
                &[server],
                "text/html",
                error_page(status).as_bytes(),
            );
        } else if let Some(loc) = &out.response.location {
            message::write_response(
                &mut bytes,
                status,
                &[server, ("Location", loc)],
                "text/html",
                error_page(status).as_bytes(),
            );
            entry.redirect_url = Some(loc.clone());
        } else {
            let (_, action) = rules::evaluate(l, &rx.request, client_ip);
            match action {
                AlbAction::FixedResponse {
                    content_type, body, ..
                } => message::write_response(
                    &mut bytes,
                    status,
                    &[server],
                    content_type
                        .as_deref()
                        .unwrap_or("text/plain; charset=utf-8"),
                    body.as_deref().unwrap_or("").as_bytes(),
                ),
                _ => message::write_response(
                    &mut bytes,
                    status,
                    &[server],
                    "text/html",
                    error_page(status).as_bytes(),
                ),
            }
        }
        let _ = ep.tcp(i).send_slice(&bytes);
        entry.elb_status = status;
        entry.sent_bytes = bytes.len();
        entry.responded = self.now;
        self.log_access(Some(entry));
    }

    /// A backend connection: send the request once it is up, relay the response when it is
    /// complete; a refused connection is answered 502.
    fn backend(&mut self, ep: &mut Endpoint<NodeConn>, i: usize) -> bool {
        let NodeConn::Backend {
            client,
            listener_port,
            request,
            dispatched,
        } = &mut ep.conns[i].role
        else {
            return false;
        };
        let (client, listener_port, dispatched) = (*client, *listener_port, *dispatched);
        let mut progress = false;
        if let Some(req) = request.take() {
            if ep.tcp(i).may_send() {
                let _ = ep.tcp(i).send_slice(&req);
                progress = true;
            } else if let NodeConn::Backend { request, .. } = &mut ep.conns[i].role {
                *request = Some(req);
            }
        }
        let state = ep.tcp(i).state();
        let response = match message::response(&ep.conns[i].inbox) {
            Ok(r) => r,
            Err(message::Malformed) => Some((0, ep.conns[i].inbox.len())),
        };
        let Some(c) = client_conn(ep, client, listener_port) else {
            if response.is_some() || state == TcpState::Closed {
                ep.tcp(i).abort();
            }
            return progress;
        };
        match response {
            Some((status, len)) => {
                let bytes: Vec<u8> = ep.conns[i].inbox.drain(..len).collect();
                ep.tcp(i).close();
                let _ = ep.tcp(c).send_slice(&bytes);
                if let NodeConn::Client { pending, .. } = &mut ep.conns[c].role {
                    if let Some(mut e) = pending.take() {
                        e.elb_status = status;
                        e.target_status = Some(status);
                        e.sent_bytes = bytes.len();
                        e.dispatched = Some(dispatched);
                        e.responded = self.now;
                        self.log_access(Some(e));
                    }
                }
                true
            }
            None if state == TcpState::Closed => {
                let e = respond_error(ep, c, 502, self.now);
                self.log_access(e);
                true
            }
            None => progress,
        }
    }

    fn log_access(&mut self, e: Option<Box<AccessEntry>>) {
        if let Some(e) = e {
            let res = self.topo.alb.get(self.lb).res;
            self.access.push((res, e.line(&elb_field(self.topo, res))));
        }
    }

    /// The access-log entry of a request, before the answer is known.
    fn entry(
        &self,
        rx: &Received,
        raw: &[u8],
        client: Header,
        port: u16,
        out: &Proxied,
    ) -> AccessEntry {
        let r = &rx.request;
        let host = r
            .host()
            .map_or_else(|| client.dst.to_string(), str::to_string);
        let query = if r.query.is_empty() {
            String::new()
        } else {
            format!("?{}", r.query)
        };
        let priority = out
            .hops
            .iter()
            .find(|h| h.stage == Stage::AlbRule)
            .map_or(-1, |h| {
                h.rule
                    .as_deref()
                    .and_then(|t| t.strip_prefix("priority "))
                    .and_then(|t| t.split(':').next())
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0)
            });
        let mut actions = Vec::new();
        if out.hops.iter().any(|h| h.stage == Stage::Waf) {
            actions.push("waf");
        }
        if let Some(h) = out.hops.iter().find(|h| h.stage == Stage::AlbRule) {
            actions.push(if out.response.location.is_some() {
                "redirect"
            } else if h.action == Action::Forward {
                "forward"
            } else {
                "fixed-response"
            });
        }
        AccessEntry {
            received: self.now,
            dispatched: None,
            responded: self.now,
            client: format!("{}:{}", client.src, client.src_port),
            target: None,
            elb_status: 0,
            target_status: None,
            received_bytes: raw.len(),
            sent_bytes: 0,
            request: format!(
                "{} http://{host}:{port}{}{query} {}",
                r.method, r.path, rx.version
            ),
            user_agent: r.header("user-agent").next().unwrap_or("-").to_string(),
            target_group_arn: None,
            matched_rule_priority: priority,
            actions_executed: actions,
            redirect_url: None,
            error_reason: None,
            trace_id: format!(
                "Root=1-{:08x}-{:024x}",
                self.now.0 / 1_000_000_000,
                *self.requests
            ),
        }
    }

    /// The WAF log record of the request, when a web ACL inspected it.
    fn waf_log(&mut self, rx: &Received, client: Header) {
        let topo = self.topo;
        let lb_res = topo.alb.get(self.lb).res;
        let Some(i) = topo.waf.web_acl_index_of(&topo.resource(lb_res).aws_id) else {
            return;
        };
        let acl = &topo.waf.web_acls[i];
        let r = &rx.request;
        let headers: Vec<(&str, &str)> = r
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = WafRequest {
            client_ip: client.src,
            method: &r.method,
            uri_path: &r.path,
            query_string: &r.query,
            http_version: rx.version,
            headers: &headers,
            body: &[],
            countries: self.countries,
        };
        let elb = elb_field(topo, lb_res);
        let account = topo
            .resource(lb_res)
            .aws_id
            .split(':')
            .nth(4)
            .unwrap_or("")
            .to_string();
        let source_id = format!("{account}-{elb}");
        let request_id = format!("{:016x}", *self.requests);
        let line = record(
            acl,
            &request,
            self.balancing.waf.last_decision(),
            &LogSource {
                timestamp: self.now,
                http_source_name: "ALB",
                http_source_id: &source_id,
                request_id: &request_id,
            },
        );
        self.waf.push((topo.waf.resources[i], line));
    }
}
