//! One HTTP request through an Application Load Balancer (SPEC §11.2.3–11.2.7): the listener's
//! rules decide; a fixed response or redirect is answered by the load balancer; a forward picks
//! a target group (weights, group stickiness) and a target (round robin or least outstanding
//! requests, cross-zone, fail open), then the node opens its own connection to the target — a
//! walk through the pipeline from the node's interface — and the simulated host answers.

use super::hosts::{Answer, Hosts};
use super::http::HttpRequest;
use super::rules::{self, describe_conditions, Decided};
use super::waf;
use crate::pipeline::exchange::{exchange, Exchange};
use crate::pipeline::Origin;
use crate::state::flow_index::mix;
use crate::state::State;
use crate::topology::alb::{AlbAction, AlbListener, AlbTargetGroup, AppLoadBalancer};
use crate::topology::nlb::{HealthState, Target};
use crate::topology::{AlbIdx, EniIdx, EniKind, ResId, Topology};
use crate::trace::{Action, Hop, Stage, Trace};
use crate::verdict::{Disposition, DropReason, Verdict};
use crate::waf::CountryMap;
use crate::wire::{tcp_flags, Header, IpProtocol, Timestamp};
use std::net::IpAddr;

/// What the client gets back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code; `None` when nothing simulated answers (Lambda targets).
    pub status: Option<u16>,
    /// Who answered: the load balancer, or the target.
    pub from: ResId,
    /// A redirect's `Location`.
    pub location: Option<String>,
}

/// The request's outcome: the hops after the client's connection reached the node, the
/// verdict that replaces the client's when the node opened a backend connection, the response
/// and the headers the load balancer added.
#[derive(Clone, Debug)]
pub struct Proxied {
    /// `alb-rule`, `alb-target`, then the backend connection's hops.
    pub hops: Vec<Hop>,
    /// The backend connection's verdict (delivered to the target, or where it was dropped);
    /// `None` when the load balancer answered itself.
    pub verdict: Option<Verdict>,
    /// The response.
    pub response: HttpResponse,
    /// `X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Port` as sent to the target.
    pub forwarded: Vec<(&'static str, String)>,
}

/// Round-robin positions per target group and the WAF's rate counters, kept across the
/// requests of one run.
#[derive(Debug, Default)]
pub struct Balancing {
    next: Vec<u32>,
    /// The web ACLs' state over the run (a fresh run starts with no request counted).
    pub waf: super::waf::WafRun,
}

/// The load balancer, node and listener a delivered client packet reached, if it reached an
/// Application Load Balancer node.
pub fn listener_of<'t>(
    topo: &'t Topology,
    v: &Verdict,
) -> Option<(AlbIdx, EniIdx, &'t AlbListener)> {
    let node = v.delivered_eni?;
    let (lb, balancer) = topo.alb.node_of(node)?;
    let listener = balancer
        .listeners
        .iter()
        .find(|l| l.port == v.header.dst_port)?;
    Some((lb, node, listener))
}

/// Everything one request needs.
pub struct Request<'a> {
    /// The load balancer.
    pub lb: AlbIdx,
    /// The node the client connected to.
    pub node: EniIdx,
    /// The listener that took the connection.
    pub listener: &'a AlbListener,
    /// The request.
    pub http: &'a HttpRequest,
    /// The client's packet as it reached the node.
    pub client: Header,
    /// The user's CIDR→country map for WAF geo matches (`--geo-countries`).
    pub countries: Option<&'a CountryMap>,
}

/// Evaluate `req` and, for a forward, open the backend connection at `now`.
pub fn proxy(
    topo: &Topology,
    hosts: &Hosts,
    state: &mut State,
    balancing: &mut Balancing,
    req: &Request<'_>,
    now: Timestamp,
) -> Proxied {
    let balancer = topo.alb.get(req.lb);
    let mut hops = Vec::new();
    // AWS WAF: a web ACL associated with the load balancer inspects the request here, after the
    // listener and before the rules; a block answers 403 from the web ACL (SPEC §11.2.7).
    let inspected = waf::inspect(
        topo,
        balancer.res,
        req.http,
        req.client,
        req.countries,
        &mut balancing.waf,
        now,
    );
    if let Some(w) = inspected {
        hops.push(w.hop);
        if let Some((acl, status)) = w.blocked {
            return blocked(hops, req.client, acl, status);
        }
    }
    let (decided, action) = rules::evaluate(req.listener, req.http, req.client.src);
    let (rule_res, rule_text) = match decided {
        Decided::Rule(i) => {
            let r = &req.listener.rules[i];
            (
                r.res,
                format!(
                    "priority {}: {}",
                    r.priority,
                    describe_conditions(&r.conditions)
                ),
            )
        }
        Decided::Default => (req.listener.res, "default".to_string()),
    };
    let mut hop = |stage, res, action, rule: Option<String>, detail: String| {
        hops.push(Hop {
            resource: res,
            stage,
            action,
            rule,
            detail,
            header: req.client,
        })
    };
    match action {
        AlbAction::FixedResponse { status, .. } => {
            hop(
                Stage::AlbRule,
                rule_res,
                Action::Deliver,
                Some(rule_text),
                format!("fixed-response {status}: answered by the load balancer"),
            );
            answered(hops, balancer, *status, None)
        }
        AlbAction::Redirect(r) => {
            let location = rules::redirect_location(r, req.http, req.listener, &balancer.dns_name);
            hop(
                Stage::AlbRule,
                rule_res,
                Action::Deliver,
                Some(rule_text),
                format!("redirect {} to {location}", r.status),
            );
            answered(hops, balancer, r.status, Some(location))
        }
        AlbAction::Forward {
            groups,
            stickiness_s,
        } => {
            let Some(g) = pick_group(topo, groups, *stickiness_s, req) else {
                hop(
                    Stage::AlbRule,
                    rule_res,
                    Action::Drop,
                    Some(rule_text),
                    "forward: every target group has weight 0 (503)".into(),
                );
                return answered(hops, balancer, 503, None);
            };
            let group = &topo.alb.target_groups[g];
            let detail = if groups.len() > 1 {
                format!(
                    "forward to {} (weighted, {} groups)",
                    topo.name(group.res),
                    groups.len()
                )
            } else {
                format!("forward to {}", topo.name(group.res))
            };
            hop(
                Stage::AlbRule,
                rule_res,
                Action::Forward,
                Some(rule_text),
                detail,
            );
            forward(topo, hosts, state, balancing, req, g, hops, now)
        }
    }
}

/// The web ACL answered: the request ends there, dropped, and the client gets `status`.
fn blocked(hops: Vec<Hop>, client: Header, acl: ResId, status: u16) -> Proxied {
    let mut verdict = Verdict::new(client);
    verdict.disposition = Disposition::Dropped;
    verdict.reason = Some(DropReason::WafBlocked);
    verdict.at = acl;
    Proxied {
        hops,
        verdict: Some(verdict),
        response: HttpResponse {
            status: Some(status),
            from: acl,
            location: None,
        },
        forwarded: Vec::new(),
    }
}

/// The load balancer answers itself: the client's connection ends at the node, delivered.
fn answered(
    hops: Vec<Hop>,
    lb: &AppLoadBalancer,
    status: u16,
    location: Option<String>,
) -> Proxied {
    Proxied {
        hops,
        verdict: None,
        response: HttpResponse {
            status: Some(status),
            from: lb.res,
            location,
        },
        forwarded: Vec::new(),
    }
}

/// A group of a forward action: the one the `AWSALBTG` cookie names (group stickiness; vpcsim's
/// cookie value is the group's logical id or name, not AWS's encrypted one), else by weight with
/// the client's address and port as the deterministic draw.
fn pick_group(
    topo: &Topology,
    groups: &[(usize, u32)],
    stickiness_s: Option<u32>,
    req: &Request<'_>,
) -> Option<usize> {
    if stickiness_s.is_some() {
        if let Some(c) = req.http.cookie("AWSALBTG") {
            if let Some(&(g, _)) = groups.iter().find(|(g, w)| {
                *w > 0 && {
                    let r = topo.resource(topo.alb.target_groups[*g].res);
                    r.logical_id == c || r.aws_id == c || r.name.as_deref() == Some(c)
                }
            }) {
                return Some(g);
            }
        }
    }
    let total: u64 = groups.iter().map(|(_, w)| *w as u64).sum();
    if total == 0 {
        return None;
    }
    let mut draw = mix(client_key(req.client)) % total;
    for &(g, w) in groups {
        if draw < w as u64 {
            return Some(g);
        }
        draw -= w as u64;
    }
    None
}

fn client_key(h: Header) -> u64 {
    let ip = match h.src {
        IpAddr::V4(a) => a.to_bits() as u64,
        IpAddr::V6(a) => a.to_bits() as u64 ^ (a.to_bits() >> 64) as u64,
    };
    ip << 16 | h.src_port as u64
}

/// The target for the next request of group `g`: round robin over the healthy targets of every
/// zone (cross-zone is always on for ALBs), or over all of them when none is healthy (fail
/// open). Least outstanding requests picks among the targets with the fewest requests in
/// flight; requests complete one after another here, so that is round robin too.
fn pick_target(
    group: &AlbTargetGroup,
    g: usize,
    balancing: &mut Balancing,
) -> Option<(usize, usize, bool)> {
    let healthy: Vec<usize> = (0..group.targets.len())
        .filter(|&i| group.targets[i].health.state != HealthState::Unhealthy)
        .collect();
    let fail_open = healthy.is_empty();
    let candidates: Vec<usize> = if fail_open {
        (0..group.targets.len()).collect()
    } else {
        healthy
    };
    if candidates.is_empty() {
        return None;
    }
    if balancing.next.len() <= g {
        balancing.next.resize(g + 1, 0);
    }
    let n = balancing.next[g] as usize % candidates.len();
    balancing.next[g] = balancing.next[g].wrapping_add(1);
    Some((candidates[n], candidates.len(), fail_open))
}

#[allow(clippy::too_many_arguments)]
fn forward(
    topo: &Topology,
    hosts: &Hosts,
    state: &mut State,
    balancing: &mut Balancing,
    req: &Request<'_>,
    g: usize,
    mut hops: Vec<Hop>,
    now: Timestamp,
) -> Proxied {
    let group = &topo.alb.target_groups[g];
    let forwarded = forwarded_headers(req);
    let Some((ti, among, fail_open)) = pick_target(group, g, balancing) else {
        let why = if group.target_type == crate::topology::alb::AlbTargetType::Lambda {
            "Lambda targets are not simulated"
        } else {
            "the target group has no registered target (503)"
        };
        hops.push(Hop {
            resource: group.res,
            stage: Stage::AlbTarget,
            action: Action::Drop,
            rule: None,
            detail: why.into(),
            header: req.client,
        });
        let status =
            (group.target_type != crate::topology::alb::AlbTargetType::Lambda).then_some(503);
        return Proxied {
            hops,
            verdict: None,
            response: HttpResponse {
                status,
                from: group.res,
                location: None,
            },
            forwarded,
        };
    };
    let target = &group.targets[ti];
    let headers = forwarded
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let how = match (fail_open, group.algorithm) {
        (true, _) => format!("every target is unhealthy: fail open, 1 of {among}"),
        (false, a) => format!("{}: 1 of {among} healthy target(s), cross-zone", a.as_str()),
    };
    let zone = target.eni.map_or("outside the topology", |e| {
        topo.subnet_of(e).availability_zone.as_str()
    });
    let node_addr = topo.enis[req.node]
        .primary_v4()
        .map(IpAddr::V4)
        .unwrap_or(req.client.dst);
    let backend = Header {
        src: node_addr,
        dst: target.addr,
        proto: IpProtocol::TCP,
        src_port: 1024 + (mix(client_key(req.client) ^ ti as u64) % 64_512) as u16,
        dst_port: target.port,
        icmp_type: 0,
        icmp_code: 0,
        tcp_flags: tcp_flags::SYN,
        ttl: 64,
        len: 60,
    };
    hops.push(Hop {
        resource: group.res,
        stage: Stage::AlbTarget,
        action: Action::Forward,
        rule: Some(format!(
            "{} {}:{} ({}, {zone})",
            group.target_type.as_str(),
            target.id,
            target.port,
            target.health.state.as_str()
        )),
        detail: format!("{how}; new connection from the node with {headers}"),
        header: backend,
    });
    let ex: Exchange<Trace> = exchange(topo, state, backend, Origin::Eni(req.node), now);
    hops.extend(ex.request_trace.hops);
    let reached = ex.request.disposition != Disposition::Dropped
        && (target.eni.is_none() || ex.request.delivered_eni == target.eni);
    let timeout = |hops, v| Proxied {
        hops,
        verdict: Some(v),
        response: HttpResponse {
            status: Some(504),
            from: topo.alb.get(req.lb).res,
            location: None,
        },
        forwarded: forwarded_headers(req),
    };
    if !reached {
        return timeout(hops, ex.request);
    }
    if let Some((back, t)) = ex.reply {
        if back.disposition != Disposition::Delivered || back.delivered_eni != Some(req.node) {
            hops.extend(t.hops);
            return timeout(hops, back);
        }
    }
    let (verdict, response, host_hop) = answer(topo, hosts, req, target, ex.request);
    hops.push(host_hop);
    Proxied {
        hops,
        verdict: Some(verdict),
        response,
        forwarded,
    }
}

/// What the target's host answers once the backend connection is up: its HTTP status, or a RST
/// (502, `HOST_PORT_CLOSED`) or silence (504) that the load balancer turns into its own status.
fn answer(
    topo: &Topology,
    hosts: &Hosts,
    req: &Request<'_>,
    target: &Target,
    mut verdict: Verdict,
) -> (Verdict, HttpResponse, Hop) {
    let lb = topo.alb.get(req.lb).res;
    let answer = match target.eni {
        Some(e) if topo.enis[e].kind == EniKind::Host => {
            hosts.tcp(e, target.port, Some(&req.http.path))
        }
        _ => Answer::Http(200, None),
    };
    let (status, detail, from) = match answer {
        Answer::Refused => {
            verdict.disposition = Disposition::Dropped;
            verdict.reason = Some(DropReason::HostPortClosed);
            verdict.at = target.res;
            verdict.delivered_to = None;
            verdict.delivered_eni = None;
            (
                502,
                format!("nothing listens on TCP port {} (--hosts): the target answers with a RST; the load balancer returns 502", target.port),
                lb,
            )
        }
        Answer::Plain => (
            504,
            format!("port {} is a plain TCP listener (--hosts): no HTTP response before the idle timeout; the load balancer returns 504", target.port),
            lb,
        ),
        Answer::Http(s, body) => (
            s,
            format!(
                "HTTP {s}{}",
                body.map(|b| format!(" ({b:?})")).unwrap_or_default()
            ),
            target.res,
        ),
    };
    let action = if verdict.disposition == Disposition::Dropped {
        Action::Drop
    } else {
        Action::Deliver
    };
    let hop = Hop {
        resource: target.res,
        stage: Stage::Host,
        action,
        rule: None,
        detail,
        header: verdict.header,
    };
    let response = HttpResponse {
        status: Some(status),
        from,
        location: None,
    };
    (verdict, response, hop)
}

/// The headers the load balancer adds (SPEC §11.2.6): `X-Forwarded-For` appended to (the
/// default `append` mode), `X-Forwarded-Proto` and `X-Forwarded-Port` replaced.
fn forwarded_headers(req: &Request<'_>) -> Vec<(&'static str, String)> {
    let client = req.client.src.to_string();
    let xff = match req.http.header("x-forwarded-for").next() {
        Some(prev) => format!("{prev}, {client}"),
        None => client,
    };
    vec![
        ("X-Forwarded-For", xff),
        (
            "X-Forwarded-Proto",
            req.listener.protocol.scheme().to_string(),
        ),
        ("X-Forwarded-Port", req.listener.port.to_string()),
    ]
}
