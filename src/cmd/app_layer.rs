//! `--sni`, `--http` and `--header`: what a traced packet carries above layer 4, so AWS Network
//! Firewall's domain lists and `tls.sni` / `http.host` rules can be traced. A packet that
//! carries application data is the client's first data segment of a connection whose handshake
//! already passed (TCP flags PSH|ACK), as it would be on the wire.

use vpcsim_dataplane::pipeline::exchange::{exchange, Exchange};
use vpcsim_dataplane::pipeline::Origin;
use vpcsim_dataplane::state::firewall_flows::AppLayer;
use vpcsim_dataplane::wire::{tcp_flags, Header, IpProtocol};
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
    if app.protocol().is_none() {
        return None;
    }
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
