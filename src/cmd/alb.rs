//! What commands do with Application Load Balancers: their nodes' addresses (`validate`), so
//! users and tests can address them, and the HTTP request of `trace --http`.

use super::stdio::outln;
use serde_json::{json, Value};
use vpcsim_controlplane::Model;
use vpcsim_dataplane::alb::hosts::{Answer, Hosts};
use vpcsim_dataplane::alb::http::HttpRequest;
use vpcsim_dataplane::alb::proxy;
use vpcsim_dataplane::pipeline::exchange::{Exchange, REPLY_DELAY_NS};
use vpcsim_dataplane::topology::EniKind;
use vpcsim_dataplane::waf::CountryMap;
use vpcsim_dataplane::wire::Timestamp;
use vpcsim_dataplane::{Disposition, State, StateConfig, Topology, Trace};

/// Every Application Load Balancer with its nodes: subnet, zone, private and public address.
pub fn load_balancers_json(m: &Model) -> Vec<Value> {
    m.alb
        .load_balancers
        .iter()
        .map(|lb| {
            json!({
                "load_balancer": lb.origin.logical_id,
                "arn": lb.origin.id,
                "type": "application",
                "scheme": if lb.internet_facing { "internet-facing" } else { "internal" },
                "dns_name": lb.dns_name,
                "security_groups": lb.security_groups.iter().map(|&g| m.security_groups[g].origin.logical_id.clone()).collect::<Vec<_>>(),
                "nodes": lb.nodes.iter().map(|&e| {
                    let eni = &m.enis[e];
                    let private = eni.private_v4.first().copied();
                    json!({
                        "interface": eni.origin.logical_id,
                        "interface_id": eni.origin.id,
                        "subnet": m.subnets[eni.subnet].origin.logical_id,
                        "availability_zone": m.subnets[eni.subnet].availability_zone,
                        "private_ip": private.map(|a| a.to_string()),
                        "public_ip": private.and_then(|a| m.public_ip_of(e, a)).map(|a| a.to_string()),
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// The text form of [`load_balancers_json`].
pub fn print_load_balancers(lbs: &[Value]) {
    for lb in lbs {
        outln!(
            "\napplication load balancer {} ({}, {}):",
            lb["load_balancer"].as_str().unwrap_or(""),
            lb["scheme"].as_str().unwrap_or(""),
            lb["dns_name"].as_str().unwrap_or("")
        );
        for n in lb["nodes"].as_array().into_iter().flatten() {
            let public = n["public_ip"]
                .as_str()
                .map(|p| format!(", public {p}"))
                .unwrap_or_default();
            outln!(
                "  node {} ({}): private {}{public}",
                n["interface"].as_str().unwrap_or(""),
                n["availability_zone"].as_str().unwrap_or(""),
                n["private_ip"].as_str().unwrap_or("")
            );
        }
    }
}

/// A trace's `--http` request and `--hosts` model; with a hosts file, ALB target health is
/// computed again with its answers.
pub fn prepare(
    http: Option<&str>,
    headers: &[String],
    hosts: &super::hosts::HostsArgs,
    topo: &mut Topology,
) -> Result<(Option<HttpRequest>, Hosts), String> {
    let request = http.map(|l| parse_request(l, headers)).transpose()?;
    let model = hosts.load(topo)?;
    if hosts.hosts.is_some() {
        vpcsim_dataplane::alb::health::check(topo, &model);
    }
    Ok((request, model))
}

/// The `--geo-countries` file, parsed.
pub fn countries(path: Option<&std::path::Path>) -> Result<Option<CountryMap>, String> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--geo-countries {}: {e}", path.display()))?;
    CountryMap::parse(&text)
        .map(Some)
        .map_err(|(line, why)| format!("--geo-countries {}:{line}: {why}", path.display()))
}

/// What an HTTP request through a trace needs besides the topology.
pub struct HttpContext<'a> {
    /// The simulated hosts.
    pub hosts: &'a Hosts,
    /// The `--geo-countries` map.
    pub countries: Option<&'a CountryMap>,
    /// The connection-tracking configuration of the backend connection.
    pub config: StateConfig,
}

/// `--http 'METHOD /path'` with its `--header`s.
pub fn parse_request(line: &str, headers: &[String]) -> Result<HttpRequest, String> {
    let mut req = HttpRequest::parse(line).map_err(|e| format!("--http {e}"))?;
    for h in headers {
        req.add_header(h).map_err(|e| format!("--header {e}"))?;
    }
    Ok(req)
}

/// The HTTP request of a trace whose packet opened the connection: through the Application Load
/// Balancer it reached (its rules, then the backend connection, whose hops and verdict join the
/// trace), or answered by the host it was delivered to. Returns the trace's `http` object.
pub fn http_trace(
    topo: &Topology,
    ctx: &HttpContext<'_>,
    t: &mut Exchange<Trace>,
    req: &HttpRequest,
    now: Timestamp,
) -> Value {
    let request = json!({"method": req.method, "path": req.path, "host": req.host()});
    let v = t.request;
    let response = if v.disposition != Disposition::Delivered {
        Value::Null
    } else if let Some((lb, node, listener)) = proxy::listener_of(topo, &v) {
        let mut state = State::new(ctx.config);
        let out = proxy::proxy(
            topo,
            ctx.hosts,
            &mut state,
            &mut proxy::Balancing::default(),
            &proxy::Request {
                lb,
                node,
                listener,
                http: req,
                client: v.header,
                countries: ctx.countries,
            },
            Timestamp(now.0 + REPLY_DELAY_NS),
        );
        t.request_trace.hops.extend(out.hops);
        if let Some(backend) = out.verdict {
            t.request = backend;
        }
        let mut r = json!({"status": out.response.status, "from": topo.name(out.response.from)});
        if let Some(l) = &out.response.location {
            r["location"] = json!(l);
        }
        if !out.forwarded.is_empty() {
            r["forwarded_headers"] = out
                .forwarded
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        r
    } else {
        match v.delivered_eni {
            Some(e) if topo.enis[e].kind == EniKind::Host => {
                let status = match ctx.hosts.tcp(e, v.header.dst_port, Some(&req.path)) {
                    Answer::Http(s, _) => Some(s),
                    Answer::Plain | Answer::Refused => None,
                };
                json!({"status": status, "from": topo.name(topo.enis[e].owner)})
            }
            _ => Value::Null,
        }
    };
    json!({"request": request, "response": response})
}

/// The text line of a trace's `http` object.
pub fn print_http(http: &Value) {
    let req = &http["request"];
    let host = req["host"]
        .as_str()
        .map(|h| format!(" (Host {h})"))
        .unwrap_or_default();
    let line = format!(
        "HTTP {} {}{host}",
        req["method"].as_str().unwrap_or(""),
        req["path"].as_str().unwrap_or("")
    );
    let r = &http["response"];
    if r.is_null() {
        outln!("{line}: no response (the connection did not reach a host or load balancer)");
        return;
    }
    let status = r["status"]
        .as_u64()
        .map_or("no HTTP status".to_string(), |s| s.to_string());
    let location = r["location"]
        .as_str()
        .map(|l| format!(", Location: {l}"))
        .unwrap_or_default();
    outln!(
        "{line} → {status} from {}{location}",
        r["from"].as_str().unwrap_or("")
    );
}
