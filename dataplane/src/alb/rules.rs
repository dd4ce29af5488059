//! Listener rules (SPEC §11.2.2–11.2.3): the first rule, in priority order, whose every condition
//! matches decides; else the listener's default action. Redirect URLs are built here.

use super::http::{wildcard, HttpRequest};
use crate::topology::alb::{AlbAction, AlbListener, Condition, Redirect};
use std::net::IpAddr;

/// What decided a request: a rule (index into the listener's rules) or the default action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decided {
    /// The rule at this index of [`AlbListener::rules`].
    Rule(usize),
    /// No rule matched: the default action.
    Default,
}

/// The rule that takes `req` from `client` on `listener`, and its action.
pub fn evaluate<'l>(
    listener: &'l AlbListener,
    req: &HttpRequest,
    client: IpAddr,
) -> (Decided, &'l AlbAction) {
    for (i, r) in listener.rules.iter().enumerate() {
        if r.conditions.iter().all(|c| matches(c, req, client)) {
            return (Decided::Rule(i), &r.action);
        }
    }
    (Decided::Default, &listener.default_action)
}

/// Whether one condition holds (its values OR-ed).
pub fn matches(c: &Condition, req: &HttpRequest, client: IpAddr) -> bool {
    match c {
        Condition::HostHeader(values) => req
            .host()
            .is_some_and(|h| values.iter().any(|v| wildcard(v, h, false, false))),
        Condition::PathPattern(values) => {
            values.iter().any(|v| wildcard(v, &req.path, true, false))
        }
        Condition::HttpHeader { name, values } => req
            .header(name)
            .any(|h| values.iter().any(|v| wildcard(v, h, false, false))),
        Condition::HttpRequestMethod(values) => values.contains(&req.method),
        Condition::QueryString(pairs) => {
            let have = req.query_pairs();
            pairs.iter().any(|(k, v)| {
                have.iter().any(|(hk, hv)| {
                    let key_ok = match k {
                        Some(k) => hk.as_deref().is_some_and(|hk| wildcard(k, hk, false, true)),
                        None => true,
                    };
                    key_ok && wildcard(v, hv, false, true)
                })
            })
        }
        Condition::SourceIp(nets) => nets.iter().any(|n| n.contains(&client)),
    }
}

/// The `Location` of a redirect: `#{protocol}`, `#{host}`, `#{port}`, `#{path}` (without its
/// leading `/`) and `#{query}` replaced by the request's, as AWS documents.
pub fn redirect_location(
    r: &Redirect,
    req: &HttpRequest,
    listener: &AlbListener,
    default_host: &str,
) -> String {
    let scheme = listener.protocol.scheme();
    let host = req.host().unwrap_or(default_host).to_string();
    let port = listener.port.to_string();
    let path = req.path.trim_start_matches('/');
    let fill = |s: &str| {
        s.replace("#{protocol}", scheme)
            .replace("#{host}", &host)
            .replace("#{port}", &port)
            .replace("#{path}", path)
            .replace("#{query}", &req.query)
    };
    let proto = fill(&r.protocol).to_ascii_lowercase();
    let port = fill(&r.port);
    let default_port = matches!(
        (proto.as_str(), port.as_str()),
        ("http", "80") | ("https", "443")
    );
    let query = fill(&r.query);
    format!(
        "{proto}://{}{}{}{}",
        fill(&r.host),
        if default_port {
            String::new()
        } else {
            format!(":{port}")
        },
        fill(&r.path),
        if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        }
    )
}

/// A rule's conditions as traces print them.
pub fn describe_conditions(conds: &[Condition]) -> String {
    conds
        .iter()
        .map(Condition::describe)
        .collect::<Vec<_>>()
        .join(" AND ")
}
