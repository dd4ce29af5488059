//! `--hosts FILE`: what runs on the instances and interfaces (pinned YAML format):
//!
//! ```yaml
//! WebInstanceA:                      # logical id, AWS id or Name tag of an instance or interface
//!   - {port: 80, http: {status: 200, body: "web-a"}}
//!   - {port: 8080, http: {paths: {"/health": 200, "/api/*": 200}, status: 404}}
//!   - {port: 22}
//!   - {port: 53, protocol: udp}
//! ```
//!
//! Without the option every host answers every TCP port and HTTP path with 200 (the application
//! is assumed up).

use super::names;
use clap::Args;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use vpcsim_dataplane::alb::hosts::{Hosts, HttpApp, Service};
use vpcsim_dataplane::topology::EniKind;
use vpcsim_dataplane::wire::IpProtocol;
use vpcsim_dataplane::Topology;

/// `--hosts`, shared by the commands that simulate hosts.
#[derive(Args, Debug, Clone, Default)]
pub struct HostsArgs {
    /// What runs on instances and interfaces (YAML: `Name: [{port: 80, http: {status: 200}},
    /// {port: 22}, {port: 53, protocol: udp}]`). Without it every instance answers every TCP
    /// port and HTTP path with 200 (the application is assumed up); with it a TCP port a listed
    /// host does not list is refused (RST), as Linux does.
    #[arg(long, value_name = "FILE")]
    pub hosts: Option<PathBuf>,
}

impl HostsArgs {
    /// The hosts model: the file's, or everything assumed up.
    pub fn load(&self, topo: &Topology) -> Result<Hosts, String> {
        match &self.hosts {
            None => Ok(Hosts::assumed_up()),
            Some(p) => parse_file(topo, p).map_err(|e| format!("--hosts {}: {e}", p.display())),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    port: u16,
    #[serde(default)]
    protocol: Option<String>,
    #[serde(default)]
    http: Option<Http>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Http {
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    paths: BTreeMap<String, u16>,
}

fn parse_file(topo: &Topology, path: &Path) -> Result<Hosts, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    parse(topo, &text)
}

/// Parse the YAML text of a hosts file against `topo`.
pub fn parse(topo: &Topology, text: &str) -> Result<Hosts, String> {
    // Keep the file's order so errors and path patterns read as written.
    let doc: serde_yaml_ng::Mapping = if text.trim().is_empty() {
        serde_yaml_ng::Mapping::new()
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| format!("not a hosts file: {e}"))?
    };
    let mut hosts = Hosts::default();
    for (k, v) in doc {
        let name = match k {
            serde_yaml_ng::Value::String(s) => s,
            other => {
                return Err(format!(
                    "{other:?}: a key is the name of an instance or interface"
                ))
            }
        };
        let entries: Vec<Entry> = serde_yaml_ng::from_value(v)
            .map_err(|e| format!("{name}: a list of {{port, http?, protocol?}} entries: {e}"))?;
        let services = entries
            .into_iter()
            .map(|e| service(&name, e))
            .collect::<Result<Vec<_>, _>>()?;
        for eni in enis(topo, &name)? {
            hosts.set(eni, services.clone());
        }
    }
    Ok(hosts)
}

fn service(name: &str, e: Entry) -> Result<Service, String> {
    let protocol = match e.protocol.as_deref() {
        None | Some("tcp") => IpProtocol::TCP,
        Some("udp") => IpProtocol::UDP,
        Some(other) => {
            return Err(format!(
                "{name} port {}: protocol {other:?}: tcp or udp",
                e.port
            ))
        }
    };
    if e.port == 0 {
        return Err(format!("{name}: port 0 is not a port"));
    }
    let http = match e.http {
        None => None,
        Some(_) if protocol == IpProtocol::UDP => {
            return Err(format!(
                "{name} port {}: HTTP runs over TCP, not udp",
                e.port
            ))
        }
        Some(h) => {
            for s in h.paths.values().chain(h.status.iter()) {
                if !(100..=599).contains(s) {
                    return Err(format!(
                        "{name} port {}: status {s} is not an HTTP status (100-599)",
                        e.port
                    ));
                }
            }
            if let Some(bad) = h.paths.keys().find(|p| !p.starts_with('/')) {
                return Err(format!(
                    "{name} port {}: path {bad:?} starts with /",
                    e.port
                ));
            }
            // Longer (more specific) patterns first, so `/api/health` wins over `/api/*`.
            let mut paths: Vec<(String, u16)> = h.paths.into_iter().collect();
            paths.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
            Some(HttpApp {
                status: h.status.unwrap_or(if paths.is_empty() { 200 } else { 404 }),
                paths,
                body: h.body,
            })
        }
    };
    Ok(Service {
        port: e.port,
        protocol,
        http,
    })
}

/// The interfaces a hosts-file key names: every interface of an instance, or one interface.
fn enis(topo: &Topology, name: &str) -> Result<Vec<vpcsim_dataplane::topology::EniIdx>, String> {
    let is_host = |r| {
        topo.enis
            .iter()
            .any(|e| (e.res == r || e.owner == r) && e.kind == EniKind::Host)
    };
    let r = match topo.find_resource(name).filter(|&r| is_host(r)) {
        Some(r) => r,
        None => {
            let (candidates, noun) = names::resources(topo, is_host);
            names::lookup(name, &candidates, &noun)?
        }
    };
    Ok(topo
        .enis
        .iter_enumerated()
        .filter(|(_, e)| (e.res == r || e.owner == r) && e.kind == EniKind::Host)
        .map(|(i, _)| i)
        .collect())
}
