//! Network namespaces and veth links of live mode, made and removed with `ip` (iproute2), and
//! the record of what this run made (`/run/vpcsim/live.json`), so `vpcsim live down` and the
//! next start can remove it after a crash.
//!
//! Only names starting with `vpcsim-` are ever created, and a namespace is only removed when
//! vpcsim's owner file for it sits in `/run/vpcsim/owners/`: a namespace or link someone else
//! made is never touched.

use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Prefix of every namespace and host-side link live mode creates (pinned).
pub const PREFIX: &str = "vpcsim-";
/// The namespace that holds the internet hosts (pinned), and its host-side link.
pub const INTERNET: &str = "vpcsim-internet";
/// Where the record of the running network is kept.
const RUN_DIR: &str = "/run/vpcsim";
/// The record's file name.
const RECORD: &str = "live.json";
/// Where the files that mark namespaces as vpcsim's live: `<ns>` holds the owner's pid (not in
/// `/etc/netns/<ns>/`, whose every file `ip netns exec` mounts over `/etc`).
const OWNERS_DIR: &str = "/run/vpcsim/owners";
/// Linux's limit on an interface name (IFNAMSIZ - 1).
const IFNAME_MAX: usize = 15;

/// One namespace as the record and `live status` show it.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Namespace {
    /// `vpcsim-<name>`.
    pub name: String,
    /// The host-side end of its veth link (vpcsim reads and writes it).
    pub link: String,
    /// The instance or interface it stands for (logical id or Name tag), or `internet`.
    pub resource: String,
    /// The interface's AWS id (`eni-…`); empty for the internet.
    pub interface: String,
    /// Addresses with their prefix length, as `ip addr` holds them.
    pub addresses: Vec<String>,
    /// The default gateway (the subnet's base + 1); empty for the internet.
    pub gateway: String,
    /// The VPC resolver written to the namespace's `resolv.conf`; empty for the internet.
    pub resolver: String,
}

/// What a live run made: read by `vpcsim live status` and `vpcsim live down`.
#[derive(Serialize, Deserialize, Default, Debug)]
pub struct Record {
    /// The server's process id.
    pub pid: u32,
    /// The API endpoint of the server.
    pub endpoint: String,
    /// The served region.
    pub region: String,
    /// The folder the flow logs and verdicts go to.
    pub out: String,
    /// The namespaces, the internet's last.
    pub namespaces: Vec<Namespace>,
}

/// The record's path.
pub fn record_path() -> PathBuf {
    Path::new(RUN_DIR).join(RECORD)
}

/// The running network's record, if there is one.
pub fn read_record() -> Option<Record> {
    let bytes = std::fs::read(record_path()).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Writes the record (to a temporary name, renamed: a reader never sees half of it).
pub fn write_record(r: &Record) -> Result<(), String> {
    std::fs::create_dir_all(RUN_DIR).map_err(|e| format!("{RUN_DIR}: {e}"))?;
    let tmp = Path::new(RUN_DIR).join(".live.json.tmp");
    let text = serde_json::to_string_pretty(r).map_err(|e| e.to_string())? + "\n";
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, record_path()).map_err(|e| format!("{}: {e}", record_path().display()))
}

/// Whether a process is alive (its `/proc` entry exists).
pub fn alive(pid: u32) -> bool {
    pid != 0 && Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether this process may create namespaces and links: CAP_NET_ADMIN (bit 12) in its
/// effective capabilities, which root has.
pub fn may_administer_network() -> bool {
    const CAP_NET_ADMIN: u32 = 12;
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_NET_ADMIN) != 0)
}

/// A resource's name made safe for a namespace name: letters, digits, `-`, `_` and `.` kept,
/// anything else `-`, at most 48 characters.
pub fn namespace_name(resource: &str) -> String {
    let safe: String = resource
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(48)
        .collect();
    format!("{PREFIX}{safe}")
}

/// The host-side link of a namespace: `vpcsim-` and eight hex digits of a hash of the
/// namespace's name, stable across runs and within Linux's 15 characters.
pub fn link_name(namespace: &str) -> String {
    if namespace == INTERNET {
        return INTERNET.to_string();
    }
    // FNV-1a: stable across Rust versions, unlike the std hasher.
    let hash = namespace.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let name = format!("{PREFIX}{hash:08x}");
    debug_assert!(name.len() <= IFNAME_MAX);
    name
}

/// Runs `ip` (or another tool) and turns a failure into its stderr.
fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Every network namespace `ip netns` lists.
fn namespaces() -> Vec<String> {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return vec![];
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Whether an interface exists in this namespace.
pub fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

fn owner_file(ns: &str) -> PathBuf {
    Path::new(OWNERS_DIR).join(ns)
}

/// The pid recorded as a namespace's owner; `None` when vpcsim did not make it.
fn owner_of(ns: &str) -> Option<u32> {
    std::fs::read_to_string(owner_file(ns))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// Where a namespace to be created stands: free, or held by a live run or by someone else.
pub fn check_free(ns: &str) -> Result<(), String> {
    if !namespaces().iter().any(|n| n == ns) {
        return Ok(());
    }
    match owner_of(ns) {
        Some(pid) if alive(pid) && pid != std::process::id() => Err(format!(
            "namespace {ns} belongs to a running vpcsim (pid {pid}): stop it or run `vpcsim live down`"
        )),
        Some(_) => remove_namespace(ns),
        None => Err(format!(
            "namespace {ns} exists and was not created by vpcsim: remove or rename it"
        )),
    }
}

/// How a namespace's interface is configured.
pub struct LinkSetup<'a> {
    /// The namespace.
    pub namespace: &'a str,
    /// The host-side link's name.
    pub link: &'a str,
    /// The MAC of the interface inside (the ENI's).
    pub mac: [u8; 6],
    /// Addresses with prefix length.
    pub addresses: &'a [String],
    /// The default gateway; `None` routes everything straight out of the link (the internet).
    pub gateway: Option<Ipv4Addr>,
    /// `resolv.conf` contents.
    pub resolv_conf: Option<String>,
    /// The interface MTU.
    pub mtu: u32,
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.map(|b| format!("{b:02x}")).join(":")
}

/// Creates a namespace with one veth link: `eth0` inside with the addresses, the route and the
/// MAC; the other end, up and without addresses, left to vpcsim.
pub fn create(s: &LinkSetup<'_>) -> Result<(), String> {
    let ns = s.namespace;
    let etc = Path::new("/etc/netns").join(ns);
    std::fs::create_dir_all(&etc).map_err(|e| format!("{}: {e}", etc.display()))?;
    std::fs::create_dir_all(OWNERS_DIR).map_err(|e| format!("{OWNERS_DIR}: {e}"))?;
    // The owner file first: a crash from here on leaves a namespace the next start removes.
    std::fs::write(owner_file(ns), format!("{}\n", std::process::id()))
        .map_err(|e| format!("{}: {e}", owner_file(ns).display()))?;
    if let Some(conf) = &s.resolv_conf {
        let path = etc.join("resolv.conf");
        std::fs::write(&path, conf).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    run("ip", &["netns", "add", ns])?;
    run(
        "ip",
        &[
            "link", "add", s.link, "type", "veth", "peer", "name", "eth0", "netns", ns,
        ],
    )?;
    let mtu = s.mtu.to_string();
    // The host end carries no IPv6 (no router solicitations of its own into the namespace).
    let _ = std::fs::write(
        format!("/proc/sys/net/ipv6/conf/{}/disable_ipv6", s.link),
        "1",
    );
    run("ip", &["link", "set", s.link, "mtu", &mtu, "up"])?;
    let mac = mac_text(s.mac);
    run(
        "ip",
        &[
            "-n", ns, "link", "set", "eth0", "address", &mac, "mtu", &mtu,
        ],
    )?;
    // IPv4 only for now: no neighbour discovery is answered on the link.
    run(
        "ip",
        &[
            "netns",
            "exec",
            ns,
            "sh",
            "-c",
            "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6",
        ],
    )?;
    // The pipeline reads whole frames with their checksums filled in: no segmentation or
    // checksum offload on the link (a best effort when ethtool is missing).
    if let Err(e) = run(
        "ip",
        &[
            "netns", "exec", ns, "ethtool", "-K", "eth0", "tx", "off", "tso", "off", "gso", "off",
        ],
    ) {
        super::super::stdio::errln!("warning: {e}: large TCP segments may not pass");
    }
    run("ip", &["-n", ns, "link", "set", "lo", "up"])?;
    run("ip", &["-n", ns, "link", "set", "eth0", "up"])?;
    for a in s.addresses {
        run("ip", &["-n", ns, "addr", "add", a, "dev", "eth0"])?;
    }
    match s.gateway {
        Some(gw) => run(
            "ip",
            &["-n", ns, "route", "add", "default", "via", &gw.to_string()],
        ),
        None => run("ip", &["-n", ns, "route", "add", "default", "dev", "eth0"]),
    }
}

/// Removes a namespace vpcsim made (its link goes with it) and its `/etc/netns` folder.
pub fn remove_namespace(ns: &str) -> Result<(), String> {
    if !ns.starts_with(PREFIX) || owner_of(ns).is_none() {
        return Ok(());
    }
    if namespaces().iter().any(|n| n == ns) {
        run("ip", &["netns", "del", ns])?;
    }
    let etc = Path::new("/etc/netns").join(ns);
    if etc.exists() {
        std::fs::remove_dir_all(&etc).map_err(|e| format!("{}: {e}", etc.display()))?;
    }
    let _ = std::fs::remove_file(owner_file(ns));
    Ok(())
}

/// Removes a host-side link vpcsim made, if it is still there.
pub fn remove_link(link: &str) -> Result<(), String> {
    if link.starts_with(PREFIX) && link_exists(link) {
        // The kernel removes a veth whose peer's namespace is gone on its own, maybe meanwhile.
        if let Err(e) = run("ip", &["link", "del", link]) {
            if link_exists(link) {
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Removes everything in `record`, and any other vpcsim namespace whose owner is gone (or is
/// `record`'s owner). Returns the namespaces removed.
pub fn tear_down(record: Option<&Record>) -> Result<Vec<String>, String> {
    let mut removed = Vec::new();
    let mut errors = Vec::new();
    if let Some(r) = record {
        for ns in &r.namespaces {
            if owner_of(&ns.name).is_some() {
                match remove_namespace(&ns.name) {
                    Ok(()) => removed.push(ns.name.clone()),
                    Err(e) => errors.push(e),
                }
            }
            if let Err(e) = remove_link(&ns.link) {
                errors.push(e);
            }
        }
    }
    let recorded_pid = record.map(|r| r.pid);
    for ns in namespaces().into_iter().filter(|n| n.starts_with(PREFIX)) {
        let Some(pid) = owner_of(&ns) else { continue };
        if !alive(pid) || Some(pid) == recorded_pid {
            match remove_namespace(&ns) {
                Ok(()) => removed.push(ns.clone()),
                Err(e) => errors.push(e),
            }
            if let Err(e) = remove_link(&link_name(&ns)) {
                errors.push(e);
            }
        }
    }
    let _ = std::fs::remove_file(record_path());
    removed.sort();
    removed.dedup();
    if errors.is_empty() {
        Ok(removed)
    } else {
        Err(errors.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_and_links_fit_fifteen_characters() {
        assert_eq!(namespace_name("AppInstanceA"), "vpcsim-AppInstanceA");
        assert_eq!(namespace_name("web server/1"), "vpcsim-web-server-1");
        let l = link_name("vpcsim-AppInstanceA");
        assert!(l.len() <= 15 && l.starts_with(PREFIX), "{l}");
        assert_eq!(l, link_name("vpcsim-AppInstanceA"), "stable");
        assert_ne!(l, link_name("vpcsim-AppInstanceB"));
        assert_eq!(link_name(INTERNET), "vpcsim-internet");
    }
}
