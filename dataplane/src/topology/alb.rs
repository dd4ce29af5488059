//! Application Load Balancers (SPEC §11.2): the compiled listeners, their rules and actions, and
//! the target groups. A load balancer is present in the data plane as one interface per enabled
//! subnet (its nodes, [`crate::topology::EniKind::ApplicationLoadBalancer`]); a client's
//! connection ends at a node (the load balancer is a proxy), and what the load balancer does with
//! an HTTP request on it is [`crate::alb`]'s.

use crate::pipeline::driver::Rules;
use crate::space::{protocol_box, HBox, DPORT};
use crate::topology::nlb::Target;
use crate::topology::{AlbIdx, EniIdx, ResId};
use crate::wire::{Family, Header, IpProtocol};
use ipnet::IpNet;

/// Every Application Load Balancer and target group of the topology.
#[derive(Clone, Debug, Default)]
pub struct Albs {
    /// The load balancers, indexed by [`AlbIdx`].
    pub load_balancers: Vec<AppLoadBalancer>,
    /// Their target groups (index: [`AlbTargetGroupId`]).
    pub target_groups: Vec<AlbTargetGroup>,
}

impl Albs {
    /// The load balancer `lb`.
    pub fn get(&self, lb: AlbIdx) -> &AppLoadBalancer {
        &self.load_balancers[lb.index()]
    }

    /// The load balancer and node that own interface `eni`, if it is an ALB node.
    pub fn node_of(&self, eni: EniIdx) -> Option<(AlbIdx, &AppLoadBalancer)> {
        self.load_balancers
            .iter()
            .enumerate()
            .find(|(_, lb)| lb.nodes.contains(&eni))
            .map(|(i, lb)| (AlbIdx::from(i), lb))
    }
}

/// An index into [`Albs::target_groups`].
pub type AlbTargetGroupId = usize;

/// An Application Load Balancer: its nodes, security groups and listeners.
#[derive(Clone, Debug)]
pub struct AppLoadBalancer {
    /// The `AWS::ElasticLoadBalancingV2::LoadBalancer` resource, which names it in output.
    pub res: ResId,
    /// One interface per enabled subnet, in the order the subnets were given.
    pub nodes: Vec<EniIdx>,
    /// Scheme `internet-facing` (its nodes have public addresses) rather than `internal`.
    pub internet_facing: bool,
    /// The DNS name clients resolve (the Host of HTTP/1.0 requests without one).
    pub dns_name: String,
    /// Its listeners.
    pub listeners: Vec<AlbListener>,
}

/// `HTTP` or `HTTPS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlbProtocol {
    /// `HTTP`.
    Http,
    /// `HTTPS` (TLS is not terminated by the simulator: requests are taken as already decrypted).
    Https,
}

impl AlbProtocol {
    /// The protocol of its AWS name.
    pub fn parse(s: &str) -> Option<AlbProtocol> {
        match s {
            "HTTP" => Some(AlbProtocol::Http),
            "HTTPS" => Some(AlbProtocol::Https),
            _ => None,
        }
    }
    /// The AWS name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlbProtocol::Http => "HTTP",
            AlbProtocol::Https => "HTTPS",
        }
    }
    /// The scheme as written in URLs and `X-Forwarded-Proto` (`http`, `https`).
    pub fn scheme(self) -> &'static str {
        match self {
            AlbProtocol::Http => "http",
            AlbProtocol::Https => "https",
        }
    }
}

/// A listener: a port on every node, its rules in priority order, and its default actions.
#[derive(Clone, Debug)]
pub struct AlbListener {
    /// The `AWS::ElasticLoadBalancingV2::Listener` resource.
    pub res: ResId,
    /// `HTTP` or `HTTPS`.
    pub protocol: AlbProtocol,
    /// The port it listens on, on every node's address.
    pub port: u16,
    /// Certificate ARNs (the default one first, then `ListenerCertificate`s).
    pub certificates: Vec<String>,
    /// Its rules, sorted by priority (lowest first).
    pub rules: Vec<AlbRule>,
    /// The default rule's action.
    pub default_action: AlbAction,
}

/// A listener rule: every condition must match; the action decides.
#[derive(Clone, Debug)]
pub struct AlbRule {
    /// The `AWS::ElasticLoadBalancingV2::ListenerRule` resource.
    pub res: ResId,
    /// 1–50000, unique per listener.
    pub priority: u32,
    /// AND-ed conditions.
    pub conditions: Vec<Condition>,
    /// The final action (`forward`, `redirect` or `fixed-response`).
    pub action: AlbAction,
    /// `authenticate-oidc`/`authenticate-cognito` actions before it, not simulated.
    pub authenticate: Vec<String>,
}

/// A rule condition (SPEC §11.2.2); the values of one condition are OR-ed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// `host-header`: case-insensitive, `*`/`?` wildcards, the host part only.
    HostHeader(Vec<String>),
    /// `path-pattern`: case-sensitive, `*`/`?` wildcards, the path without the query.
    PathPattern(Vec<String>),
    /// `http-header`: the name case-insensitive, values case-insensitive with wildcards.
    HttpHeader {
        /// The header name.
        name: String,
        /// The values, any of which may match.
        values: Vec<String>,
    },
    /// `http-request-method`: case-sensitive, exact.
    HttpRequestMethod(Vec<String>),
    /// `query-string`: `(key, value)` pairs, case-insensitive, wildcards; no key: any value.
    QueryString(Vec<(Option<String>, String)>),
    /// `source-ip`: the client connection's peer address.
    SourceIp(Vec<IpNet>),
}

impl Condition {
    /// The AWS `Field` name (`host-header`, ...).
    pub fn field(&self) -> &'static str {
        match self {
            Condition::HostHeader(_) => "host-header",
            Condition::PathPattern(_) => "path-pattern",
            Condition::HttpHeader { .. } => "http-header",
            Condition::HttpRequestMethod(_) => "http-request-method",
            Condition::QueryString(_) => "query-string",
            Condition::SourceIp(_) => "source-ip",
        }
    }

    /// The condition as traces print it: `path-pattern /api/*`.
    pub fn describe(&self) -> String {
        let values = match self {
            Condition::HostHeader(v)
            | Condition::PathPattern(v)
            | Condition::HttpRequestMethod(v) => v.join(" | "),
            Condition::HttpHeader { name, values } => format!("{name}: {}", values.join(" | ")),
            Condition::QueryString(pairs) => pairs
                .iter()
                .map(|(k, v)| match k {
                    Some(k) => format!("{k}={v}"),
                    None => v.clone(),
                })
                .collect::<Vec<_>>()
                .join(" | "),
            Condition::SourceIp(nets) => nets
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" | "),
        };
        format!("{} {values}", self.field())
    }
}

/// A rule's (or the listener default's) deciding action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlbAction {
    /// `forward` to one or several weighted target groups.
    Forward {
        /// `(group, weight)`.
        groups: Vec<(AlbTargetGroupId, u32)>,
        /// `TargetGroupStickinessConfig.DurationSeconds` when group stickiness is on.
        stickiness_s: Option<u32>,
    },
    /// `redirect`: each part `None` keeps the request's (`#{...}` placeholders are expanded).
    Redirect(Redirect),
    /// `fixed-response`.
    FixedResponse {
        /// `StatusCode` (2XX, 4XX or 5XX).
        status: u16,
        /// `ContentType`.
        content_type: Option<String>,
        /// `MessageBody`.
        body: Option<String>,
    },
}

impl AlbAction {
    /// Whether it forwards (with any weight) to target group `g`.
    pub fn forwards_to(&self, g: AlbTargetGroupId) -> bool {
        matches!(self, AlbAction::Forward { groups, .. } if groups.iter().any(|(x, _)| *x == g))
    }
}

/// `RedirectConfig`, with AWS's defaults (`#{protocol}`, `#{host}`, `#{port}`, `/#{path}`,
/// `#{query}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// `Protocol`: `HTTP`, `HTTPS` or `#{protocol}`.
    pub protocol: String,
    /// `Host`.
    pub host: String,
    /// `Port`.
    pub port: String,
    /// `Path` (starts with `/`).
    pub path: String,
    /// `Query` (without the `?`).
    pub query: String,
    /// `HTTP_301` → 301, `HTTP_302` → 302.
    pub status: u16,
}

/// How a target group spreads requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// `round_robin` (the default).
    RoundRobin,
    /// `least_outstanding_requests`.
    LeastOutstandingRequests,
}

impl Algorithm {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RoundRobin => "round_robin",
            Algorithm::LeastOutstandingRequests => "least_outstanding_requests",
        }
    }
}

/// `instance`, `ip` or `lambda`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlbTargetType {
    /// By instance id.
    Instance,
    /// By private IP address.
    Ip,
    /// A Lambda function: loaded, not simulated.
    Lambda,
}

impl AlbTargetType {
    /// The AWS name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlbTargetType::Instance => "instance",
            AlbTargetType::Ip => "ip",
            AlbTargetType::Lambda => "lambda",
        }
    }
}

/// An HTTP(S) health check: a `GET` of `path` on `port`, judged by `matcher`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlbHealthCheck {
    /// `HTTP` or `HTTPS`.
    pub protocol: AlbProtocol,
    /// `None`: the traffic port of each target.
    pub port: Option<u16>,
    /// `HealthCheckPath` (default `/`).
    pub path: String,
    /// `Matcher.HttpCode` (default `200`): codes and ranges, `200,202` or `200-299`.
    pub matcher: String,
}

impl AlbHealthCheck {
    /// Whether `status` is one of the matcher's codes.
    pub fn matches(&self, status: u16) -> bool {
        self.matcher.split(',').any(|part| {
            let part = part.trim();
            match part.split_once('-') {
                Some((lo, hi)) => match (lo.trim().parse::<u16>(), hi.trim().parse::<u16>()) {
                    (Ok(lo), Ok(hi)) => (lo..=hi).contains(&status),
                    _ => false,
                },
                None => part.parse::<u16>() == Ok(status),
            }
        })
    }
}

/// An Application Load Balancer target group.
#[derive(Clone, Debug)]
pub struct AlbTargetGroup {
    /// The `AWS::ElasticLoadBalancingV2::TargetGroup` resource.
    pub res: ResId,
    /// How targets are registered.
    pub target_type: AlbTargetType,
    /// `HTTP` or `HTTPS` towards targets.
    pub protocol: AlbProtocol,
    /// The default port of its targets.
    pub port: u16,
    /// The health check.
    pub health_check: AlbHealthCheck,
    /// Round robin or least outstanding requests.
    pub algorithm: Algorithm,
    /// The registered targets (instance and ip; none for lambda).
    pub targets: Vec<Target>,
}

/// A load balancer's listeners as a rule list over TCP destination ports: the listener that
/// takes a connection (index into the listeners).
#[derive(Clone, Copy, Debug)]
pub struct AlbListenerRules<'a>(pub &'a [AlbListener]);

impl Rules for AlbListenerRules<'_> {
    type Key = u32;
    const ANY_MATCH: bool = false;
    #[inline]
    fn first_match(&self, h: &Header) -> Option<u32> {
        if h.proto != IpProtocol::TCP {
            return None;
        }
        self.0
            .iter()
            .position(|l| l.port == h.dst_port)
            .map(|i| i as u32)
    }
    fn for_each_box(&self, fam: Family, f: &mut dyn FnMut(HBox, u32)) {
        for (i, l) in self.0.iter().enumerate() {
            if let Some(b) = protocol_box(fam, IpProtocol::TCP, None)
                .and_then(|b| b.with(DPORT, l.port as u128, l.port as u128))
            {
                f(b, i as u32);
            }
        }
    }
    #[inline]
    fn passes(decided: Option<u32>) -> bool {
        decided.is_some()
    }
}
