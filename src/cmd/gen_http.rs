//! HTTP requests `gen` sends to Application Load Balancer listeners: for every listener of an
//! internet-facing load balancer, one request per rule (its path, Host header, method, header
//! and query drawn from the rule's conditions, so each rule is exercised) and one for the
//! default action. Only the client's side is written: replaying the file, the load balancer's
//! nodes and the simulated hosts behind them answer (`vpcsim replay`).

use etherparse::PacketBuilder;
use std::net::Ipv4Addr;
use vpcsim_dataplane::alb::http::wildcard;
use vpcsim_dataplane::topology::alb::{AlbListener, Condition};
use vpcsim_dataplane::Topology;

/// Time between a client's packets.
const STEP_NS: u64 = 1_000_000;
/// Time between two requests' connections.
const REQUEST_GAP_NS: u64 = 10_000_000;

/// One request: its method, target (path and query), extra headers.
struct Request {
    method: String,
    target: String,
    host: String,
    headers: Vec<(String, String)>,
}

/// A concrete value a wildcard pattern matches (`*` → `x`, `?` → `a`).
fn instance(pattern: &str) -> String {
    pattern.replace('*', "x").replace('?', "a")
}

/// A request that meets every condition of a rule; `None` when gen cannot send one that does
/// (a `source-ip` condition: gen's clients come from the internet).
fn request_for(conditions: &[Condition], default_host: &str) -> Option<Request> {
    let mut r = Request {
        method: "GET".into(),
        target: "/".into(),
        host: default_host.into(),
        headers: Vec::new(),
    };
    let mut query = Vec::new();
    for c in conditions {
        match c {
            Condition::HostHeader(v) => r.host = instance(v.first()?),
            Condition::PathPattern(v) => r.target = instance(v.first()?),
            Condition::HttpRequestMethod(v) => r.method = v.first()?.clone(),
            Condition::HttpHeader { name, values } => {
                r.headers.push((name.clone(), instance(values.first()?)))
            }
            Condition::QueryString(pairs) => {
                let (k, v) = pairs.first()?;
                let v = instance(&v.replace("\\*", "*").replace("\\?", "?"));
                query.push(match k {
                    Some(k) => format!("{}={v}", instance(k)),
                    None => v,
                });
            }
            Condition::SourceIp(_) => return None,
        }
    }
    if !query.is_empty() {
        r.target = format!("{}?{}", r.target, query.join("&"));
    }
    Some(r)
}

/// A request that reaches the listener's default action: a path no rule's path pattern takes.
fn default_request(listener: &AlbListener, host: &str) -> Request {
    let mut path = "/".to_string();
    for candidate in ["/", "/index.html", "/home", "/vpcsim-default"] {
        let taken = listener.rules.iter().any(|r| {
            r.conditions.iter().any(|c| match c {
                Condition::PathPattern(v) => v.iter().any(|p| wildcard(p, candidate, true, false)),
                _ => false,
            })
        });
        if !taken {
            path = candidate.into();
            break;
        }
    }
    Request {
        method: "GET".into(),
        target: path,
        host: host.into(),
        headers: Vec::new(),
    }
}

fn bytes(r: &Request) -> Vec<u8> {
    let mut s = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: vpcsim-gen\r\nAccept: */*\r\n",
        r.method, r.target, r.host
    );
    for (k, v) in &r.headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s.into_bytes()
}

/// One client connection carrying `request`: SYN, ACK, the request, FIN. The client
/// acknowledges a server sequence space starting at 1 (the simulated node's is mapped onto it).
fn connection(
    client: (Ipv4Addr, u16),
    server: (Ipv4Addr, u16),
    request: &[u8],
    t: u64,
    out: &mut Vec<(u64, Vec<u8>)>,
) {
    let isn = 1_000u32;
    let n = request.len() as u32;
    let segment = |seq: u32, flags: u8, payload: &[u8]| {
        let mut b = PacketBuilder::ethernet2([0x02, 0, 0, 0, 0, 1], [0x02, 0, 0, 0, 0, 2])
            .ipv4(client.0.octets(), server.0.octets(), 64)
            .tcp(client.1, server.1, seq, 64240);
        if flags & 0x02 != 0 {
            b = b.syn();
        } else {
            b = b.ack(2);
        }
        if flags & 0x08 != 0 {
            b = b.psh();
        }
        if flags & 0x01 != 0 {
            b = b.fin();
        }
        let mut f = Vec::with_capacity(64 + payload.len());
        // Writing into a Vec cannot fail; a frame too large for IPv4 is left out.
        b.write(&mut f, payload).ok().map(|_| f)
    };
    let frames = [
        segment(isn, 0x02, b""),
        segment(isn + 1, 0x10, b""),
        segment(isn + 1, 0x18, request),
        segment(isn + 1 + n, 0x11, b""),
    ];
    for (i, f) in frames.into_iter().enumerate() {
        if let Some(f) = f {
            out.push((t + i as u64 * STEP_NS, f));
        }
    }
}

/// The client frames of every request to every listener of the internet-facing load balancers,
/// from `start_ns` on, in time order; and the number of requests.
pub fn requests(topo: &Topology, start_ns: u64) -> (Vec<(u64, Vec<u8>)>, usize) {
    let mut out = Vec::new();
    let mut n = 0usize;
    for lb in topo.alb.load_balancers.iter().filter(|l| l.internet_facing) {
        let nodes: Vec<Ipv4Addr> = lb
            .nodes
            .iter()
            .filter_map(|&e| {
                let eni = &topo.enis[e];
                eni.public_for(eni.primary_v4()?)
            })
            .collect();
        if nodes.is_empty() {
            continue;
        }
        for l in &lb.listeners {
            let mut reqs: Vec<Request> = l
                .rules
                .iter()
                .filter_map(|r| request_for(&r.conditions, &lb.dns_name))
                .collect();
            reqs.push(default_request(l, &lb.dns_name));
            for r in reqs {
                // Clients from TEST-NET-3, one address and port per request.
                let client = Ipv4Addr::new(203, 0, 113, 10 + (n % 200) as u8);
                let node = nodes[n % nodes.len()];
                let t = start_ns + n as u64 * REQUEST_GAP_NS;
                connection(
                    (client, 40_000u16.wrapping_add(n as u16)),
                    (node, l.port),
                    &bytes(&r),
                    t,
                    &mut out,
                );
                n += 1;
            }
        }
    }
    out.sort_by_key(|(t, _)| *t);
    (out, n)
}
