//! Simulated hosts (`--hosts`): what listens on the instances and interfaces, and what an HTTP
//! application answers. Without a hosts file every host answers every TCP port and every HTTP
//! path with 200: the application is assumed up. With one, a host it names answers only what it
//! lists; a TCP port it does not list answers a SYN with a RST, as Linux does. Hosts the file
//! does not name keep the assumption.

use super::http::wildcard;
use crate::topology::{EniIdx, EniKind, Topology};
use crate::trace::{Action, Hop, Stage, Trace};
use crate::verdict::{Disposition, DropReason, Verdict};
use crate::wire::{tcp_flags, IpProtocol};
use rustc_hash::FxHashMap;

/// An HTTP application on a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpApp {
    /// `(path pattern, status)`, first match wins (AWS-style wildcards, case-sensitive).
    pub paths: Vec<(String, u16)>,
    /// The status of every other path.
    pub status: u16,
    /// The response body, if given.
    pub body: Option<String>,
}

impl HttpApp {
    /// The status it answers for `path`.
    pub fn status_for(&self, path: &str) -> u16 {
        self.paths
            .iter()
            .find(|(p, _)| wildcard(p, path, true, false))
            .map_or(self.status, |(_, s)| *s)
    }
}

/// Something listening on a port of a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// The port.
    pub port: u16,
    /// TCP or UDP.
    pub protocol: IpProtocol,
    /// The HTTP application, for a TCP service that speaks HTTP (a plain listener otherwise).
    pub http: Option<HttpApp>,
}

/// What a host does with a TCP connection to a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer<'h> {
    /// Nothing listens: the SYN is answered with a RST.
    Refused,
    /// A listener that does not speak HTTP (per the hosts file).
    Plain,
    /// An HTTP application: the status it answers and its body.
    Http(u16, Option<&'h str>),
}

/// The hosts: for each interface named by the file, its services.
#[derive(Clone, Debug, Default)]
pub struct Hosts {
    services: FxHashMap<EniIdx, Vec<Service>>,
}

impl Hosts {
    /// No hosts file: every application is assumed up.
    pub fn assumed_up() -> Hosts {
        Hosts::default()
    }

    /// Set what runs on interface `eni` (replacing what was there).
    pub fn set(&mut self, eni: EniIdx, services: Vec<Service>) {
        self.services.insert(eni, services);
    }

    /// Whether the file says what runs on `eni`.
    pub fn describes(&self, eni: EniIdx) -> bool {
        self.services.contains_key(&eni)
    }

    /// What interface `eni` answers to a TCP connection to `port` carrying an HTTP request for
    /// `path` (`None`: no request, only the handshake).
    pub fn tcp(&self, eni: EniIdx, port: u16, path: Option<&str>) -> Answer<'_> {
        let Some(list) = self.services.get(&eni) else {
            return Answer::Http(200, None);
        };
        match list
            .iter()
            .find(|s| s.port == port && s.protocol == IpProtocol::TCP)
        {
            None => Answer::Refused,
            Some(Service { http: None, .. }) => Answer::Plain,
            Some(Service {
                http: Some(app), ..
            }) => Answer::Http(
                path.map_or(app.status, |p| app.status_for(p)),
                app.body.as_deref(),
            ),
        }
    }

    /// A TCP SYN delivered to a host whose port is closed: the host refuses it. Turns the
    /// verdict into `HOST_PORT_CLOSED` at the host with a `host` hop and returns true; leaves
    /// everything else alone.
    pub fn refuse(&self, topo: &Topology, v: &mut Verdict, trace: &mut Trace) -> bool {
        let h = v.header;
        let Some(eni) = v.delivered_eni else {
            return false;
        };
        if v.disposition != Disposition::Delivered
            || topo.enis[eni].kind != EniKind::Host
            || h.proto != IpProtocol::TCP
            || h.tcp_flags & (tcp_flags::SYN | tcp_flags::ACK) != tcp_flags::SYN
            || self.tcp(eni, h.dst_port, None) != Answer::Refused
        {
            return false;
        }
        let owner = topo.enis[eni].owner;
        trace.hops.push(Hop {
            resource: owner,
            stage: Stage::Host,
            action: Action::Drop,
            rule: None,
            detail: format!(
                "nothing listens on TCP port {} (--hosts): the host answers the SYN with a RST, connection refused",
                h.dst_port
            ),
            header: h,
        });
        v.disposition = Disposition::Dropped;
        v.reason = Some(DropReason::HostPortClosed);
        v.at = owner;
        v.delivered_to = None;
        v.delivered_eni = None;
        true
    }
}
