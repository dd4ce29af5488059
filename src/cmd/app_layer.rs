//! `--sni`, `--http` and `--header`: what a traced packet carries above layer 4, so AWS Network
//! Firewall's domain lists and `tls.sni` / `http.host` rules can be traced. A packet that
//! carries application data is the client's first data segment of a connection whose handshake
//! already passed (TCP flags PSH|ACK), as it would be on the wire.

use vpcsim_dataplane::pipeline::exchange::{exchange, Exchange};
use vpcsim_dataplane::pipeline::Origin;
use vpcsim_dataplane::state::firewall_flows::AppLayer;
use vpcsim_dataplane::wire::{tcp_flags, Header, IpProtocol, Meta};
use vpcsim_dataplane::{Disposition, State, Timestamp, Topology, Trace};

/// The application layer the flags describe (empty when none is given).
pub fn from_args(
    sni: Option<&str>,
    http: Option<&str>,
    headers: &[String],
) -> Result<AppLayer, String> {
    let mut app = AppLayer {
        sni: sni.map(str::to_string),
        ..AppLayer::default()
    };
    if let Some(line) = http {
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some(m), Some(path), None) if path.starts_with('/') => {
                app.http_request = Some(format!("{m} {path}"))
            }
            _ => {
                return Err(format!(
                    "--http {line:?}: expected a method and a path, e.g. 'GET /index.html'"
                ))
            }
        }
    }
    for h in headers {
        let Some((name, value)) = h.split_once(':') else {
            return Err(format!("--header {h:?}: expected 'Name: value'"));
        };
        if name.trim().eq_ignore_ascii_case("host") {
            // The port, when given, is not part of the host name rules match.
            let host = value.trim();
            let host = host.rsplit_once(':').map_or(host, |(h, p)| {
                if p.bytes().all(|b| b.is_ascii_digit()) {
                    h
                } else {
                    host
                }
            });
            app.http_host = Some(host.to_string());
        }
    }
    if app.http_host.is_some() && app.http_request.is_none() {
        app.http_request = Some("GET /".into());
    }
    if app.sni.is_some() && app.http_request.is_some() {
        return Err("--sni and --http/--header describe different protocols: give one".into());
    }
    Ok(app)
}

/// The packet as the application data makes it: a TCP segment with PSH|ACK.
pub fn carrying(app: &AppLayer, mut h: Header) -> Result<Header, String> {
    if app.protocol().is_none() {
        return Ok(h);
    }
    if h.proto != IpProtocol::TCP {
        return Err("--sni, --http and --header need a tcp flow".into());
    }
    h.tcp_flags = tcp_flags::PSH | tcp_flags::ACK;
    Ok(h)
}

/// Before a packet that carries application data, its connection's handshake (SYN, SYN-ACK)
/// goes through the same state, so NAT gateways, security groups and firewalls know the
/// connection. `Some`: the handshake did not get through, and that is the trace to show.
pub fn handshake(
    topo: &Topology,
    state: &mut State,
    data: Header,
    origin: Origin,
    at: Timestamp,
    app: &AppLayer,
) -> Option<Exchange<Trace>> {
    // Only a packet that carries application data has a handshake before it.
    app.protocol()?;
    let mut syn = data;
    syn.tcp_flags = tcp_flags::SYN;
    syn.len = 60;
    const BEFORE_NS: u64 = 10_000_000;
    let t: Exchange<Trace> = exchange(topo, state, syn, origin, Timestamp(at.0 - BEFORE_NS));
    let ok = t.request.disposition != Disposition::Dropped
        && t.reply
            .as_ref()
            .is_none_or(|(v, _)| v.disposition != Disposition::Dropped);
    (!ok).then_some(t)
}

/// What a replayed TCP segment's payload tells Network Firewall: the server name of a TLS
/// ClientHello, or the request line and `Host` of an HTTP request. The strings are reused
/// from packet to packet.
pub fn from_payload(app: &mut AppLayer, payload: &[u8]) {
    let sni = client_hello_sni(payload);
    let (request, host) = http_request(payload).unwrap_or((None, None));
    set(&mut app.sni, sni);
    set(&mut app.http_request, request);
    set(&mut app.http_host, host);
    app.dns_query = None;
}

/// What a replayed UDP datagram to port 53 tells Network Firewall: the name a DNS query asks
/// for (the first question), without its trailing dot.
pub fn from_dns_query(app: &mut AppLayer, payload: &[u8]) {
    from_payload(app, &[]);
    let mut name = app.dns_query.take().unwrap_or_default();
    name.clear();
    if dns_question(payload, &mut name) {
        app.dns_query = Some(name);
    }
}

/// The first question's name of a DNS query message, appended to `name`.
fn dns_question(p: &[u8], name: &mut String) -> bool {
    // Header: QR bit clear (a query), at least one question.
    if p.len() < 12 || p[2] & 0x80 != 0 || u16::from_be_bytes([p[4], p[5]]) == 0 {
        return false;
    }
    let mut i = 12;
    loop {
        let Some(&len) = p.get(i) else { return false };
        if len == 0 {
            return !name.is_empty();
        }
        // Compression pointers do not appear in a query's first name.
        let Some(label) = p.get(i + 1..i + 1 + len as usize).filter(|_| len < 64) else {
            return false;
        };
        let Ok(label) = std::str::from_utf8(label) else {
            return false;
        };
        if !name.is_empty() {
            name.push('.');
        }
        name.push_str(label);
        i += 1 + len as usize;
    }
}

fn set(slot: &mut Option<String>, v: Option<&str>) {
    match v {
        Some(v) => {
            let mut s = slot.take().unwrap_or_default();
            s.clear();
            s.push_str(v);
            *slot = Some(s);
        }
        None => *slot = None,
    }
}

/// The `server_name` extension of a TLS ClientHello at the start of `p`.
fn client_hello_sni(p: &[u8]) -> Option<&str> {
    let be16 = |i: usize| -> Option<usize> {
        Some(u16::from_be_bytes([*p.get(i)?, *p.get(i + 1)?]) as usize)
    };
    // Record header: handshake (22); handshake header: ClientHello (1).
    if p.first() != Some(&22) || p.get(5) != Some(&1) {
        return None;
    }
    let mut i = 5 + 4 + 2 + 32;
    i += 1 + *p.get(i)? as usize; // session id
    i += 2 + be16(i)?; // cipher suites
    i += 1 + *p.get(i)? as usize; // compression methods
    let end = (i + 2 + be16(i)?).min(p.len());
    i += 2;
    while i + 4 <= end {
        let (kind, len) = (be16(i)?, be16(i + 2)?);
        if kind == 0 {
            // server_name list: length, then (type 0: host_name, length, name).
            let name_len = be16(i + 7)?;
            let name = p.get(i + 9..i + 9 + name_len)?;
            return std::str::from_utf8(name).ok();
        }
        i += 4 + len;
    }
    None
}

/// The request line (`GET /path`) and `Host` of an HTTP request at the start of `p`.
fn http_request(p: &[u8]) -> Option<(Option<&str>, Option<&str>)> {
    let head = std::str::from_utf8(&p[..p.len().min(4096)]).ok()?;
    let mut lines = head.split("\r\n");
    let first = lines.next()?;
    let mut parts = first.split(' ');
    let (method, path) = (parts.next()?, parts.next()?);
    if method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || !path.starts_with('/')
    {
        return None;
    }
    let request = &first[..method.len() + 1 + path.len()];
    let host = lines
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("host").then_some(v.trim())
        })
        .map(|h| match h.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => h,
        });
    Some((Some(request), host))
}

/// The payload of a TCP segment or UDP datagram (empty for anything else), for Network
/// Firewall's application-layer rules.
pub fn l4_payload<'a>(meta: &Meta, data: &'a [u8]) -> (IpProtocol, &'a [u8]) {
    let proto = meta.header.proto;
    let l4 = meta.l4_offset as usize;
    let header = match proto {
        _ if !meta.l4 => return (proto, &[]),
        IpProtocol::TCP => match data.get(l4 + 12) {
            Some(&off) => (off >> 4) as usize * 4,
            None => return (proto, &[]),
        },
        IpProtocol::UDP => 8,
        _ => return (proto, &[]),
    };
    (proto, data.get(l4 + header..).unwrap_or(&[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ClientHello for `name`.
    pub(crate) fn client_hello(name: &str) -> Vec<u8> {
        let n = name.len();
        let mut ext = vec![0, 0];
        ext.extend(((n + 5) as u16).to_be_bytes());
        ext.extend(((n + 3) as u16).to_be_bytes());
        ext.push(0);
        ext.extend((n as u16).to_be_bytes());
        ext.extend(name.as_bytes());
        let mut body = vec![3, 3];
        body.extend([0; 32]);
        body.extend([0, 0, 2, 0x13, 0x01, 1, 0]);
        body.extend((ext.len() as u16).to_be_bytes());
        body.extend(ext);
        let mut hs = vec![1, 0];
        hs.extend((body.len() as u16).to_be_bytes());
        hs.extend(body);
        let mut rec = vec![22, 3, 1];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn payloads_give_the_names_rules_match() {
        let mut app = AppLayer::default();
        from_payload(&mut app, &client_hello("www.example.com"));
        assert_eq!(app.sni.as_deref(), Some("www.example.com"));
        from_payload(&mut app, b"GET /a HTTP/1.1\r\nhost: Api.Test:8080\r\n\r\n");
        assert_eq!(app.sni, None);
        assert_eq!(app.http_request.as_deref(), Some("GET /a"));
        assert_eq!(app.http_host.as_deref(), Some("Api.Test"));
        from_payload(&mut app, b"\x16\x03");
        assert_eq!(app, AppLayer::default());
        let query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04evil\x07example\x00\x00\x01\x00\x01";
        from_dns_query(&mut app, query);
        assert_eq!(app.dns_query.as_deref(), Some("evil.example"));
        let mut answer = query.to_vec();
        answer[2] |= 0x80;
        from_dns_query(&mut app, &answer);
        assert_eq!(app.dns_query, None);
    }

    #[test]
    fn flags_describe_one_protocol() {
        assert!(from_args(Some("a"), Some("GET /"), &[]).is_err());
        assert!(from_args(None, Some("GET"), &[]).is_err());
        assert!(from_args(None, None, &["Host".into()]).is_err());
        let app = from_args(None, None, &["Host: a.b:80".into()]).unwrap();
        assert_eq!(app.http_host.as_deref(), Some("a.b"));
        assert_eq!(app.http_request.as_deref(), Some("GET /"));
    }
}
