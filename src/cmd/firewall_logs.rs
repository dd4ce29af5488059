//! AWS Network Firewall logs written by `replay` (SPEC §20.6): JSON lines in AWS's format,
//! `firewall/<Firewall>.alert.log` (one record per alert the stateful engine logs) and
//! `firewall/<Firewall>.flow.log` (one `netflow` record per direction of each flow the stateful
//! engine passed, written when the replay ends), for the firewalls whose
//! `LoggingConfiguration` sends that type.

use super::outdir::{self, OutputFolder};
use serde_json::{json, Value};
use std::fs::File;
use std::io::{BufWriter, Write};
use vpcsim_dataplane::state::firewall_flows::{AlertEvent, FlowRecord};
use vpcsim_dataplane::topology::network_firewall::{FirewallIdx, FRAGMENT_DEFAULT};
use vpcsim_dataplane::wire::{build, tcp_flags, IpProtocol, L4Spec, Meta, PacketSpec, Timestamp};
use vpcsim_dataplane::{State, Topology};

/// The open log files, by firewall.
pub struct FirewallLogs {
    alert: Vec<Option<BufWriter<File>>>,
    flow: Vec<Option<BufWriter<File>>>,
    error: Option<String>,
}

fn file(folder: &OutputFolder, rel: &str) -> Result<BufWriter<File>, String> {
    let path = folder.claim(rel)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok(BufWriter::new(outdir::create(&path)?))
}

fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl FirewallLogs {
    /// Open the files of every firewall that logs.
    pub fn open(topo: &Topology, folder: &OutputFolder) -> Result<FirewallLogs, String> {
        let mut logs = FirewallLogs {
            alert: Vec::new(),
            flow: Vec::new(),
            error: None,
        };
        for fw in topo.network_firewalls.firewalls.iter() {
            let name = safe(topo.name(fw.res));
            logs.alert.push(if fw.alert_logs {
                Some(file(folder, &format!("firewall/{name}.alert.log"))?)
            } else {
                None
            });
            logs.flow.push(if fw.flow_logs {
                Some(file(folder, &format!("firewall/{name}.flow.log"))?)
            } else {
                None
            });
        }
        Ok(logs)
    }

    /// No firewall logs (what is left after [`FirewallLogs::finish`] took them).
    pub fn none() -> FirewallLogs {
        FirewallLogs {
            alert: Vec::new(),
            flow: Vec::new(),
            error: None,
        }
    }

    /// Write the alerts the last packet logged.
    pub fn packet(&mut self, topo: &Topology, state: &mut State) {
        if self.alert.is_empty() {
            return;
        }
        let (alert, error) = (&mut self.alert, &mut self.error);
        state.firewall.take_alerts(|e| {
            if let Some(w) = alert[e.firewall.index()].as_mut() {
                if let Err(err) = writeln!(w, "{}", alert_record(topo, e)) {
                    error.get_or_insert_with(|| err.to_string());
                }
            }
        });
    }

    /// Write the flow records and close the files.
    pub fn finish(mut self, topo: &Topology, state: &State) -> Result<(), String> {
        let mut records: Vec<FlowRecord> = state.firewall.flow_records().collect();
        records.sort_by_key(|r| (r.counts.start, r.src, r.dst));
        for r in &records {
            if let Some(w) = self.flow[r.firewall.index()].as_mut() {
                writeln!(w, "{}", flow_record(topo, r)).map_err(|e| e.to_string())?;
            }
        }
        for w in self.alert.iter_mut().chain(self.flow.iter_mut()).flatten() {
            w.flush().map_err(|e| e.to_string())?;
        }
        self.error.map_or(Ok(()), Err)
    }
}

fn proto(p: u8) -> String {
    IpProtocol(p)
        .name()
        .map_or_else(|| p.to_string(), |n| n.to_ascii_uppercase())
}

/// `2020-10-13T22:10:01.006481+0000`, as Suricata's EVE timestamps read.
fn eve_time(t: Timestamp) -> String {
    let secs = t.0 / 1_000_000_000;
    let micros = (t.0 % 1_000_000_000) / 1_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}+0000",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// A stable flow id: the same for both directions of a flow.
fn flow_id(fw: FirewallIdx, a: (std::net::IpAddr, u16), b: (std::net::IpAddr, u16), p: u8) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let text = format!("{}/{p}/{}:{}/{}:{}", fw.0, lo.0, lo.1, hi.0, hi.1);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h >> 14
}

fn envelope(
    topo: &Topology,
    fw: FirewallIdx,
    ep_subnet_az: &str,
    at: Timestamp,
    event: Value,
) -> Value {
    json!({
        "firewall_name": topo.network_firewalls.firewalls[fw].name,
        "availability_zone": ep_subnet_az,
        "event_timestamp": (at.0 / 1_000_000_000).to_string(),
        "event": event,
    })
}

fn alert_record(topo: &Topology, e: &AlertEvent) -> Value {
    let fw = &topo.network_firewalls.firewalls[e.firewall];
    let ep = &topo.network_firewalls.endpoints[e.endpoint];
    let az = &topo.subnets[ep.subnet].availability_zone;
    let h = &e.header;
    let (sid, signature) = match e.rule {
        Some(i) => {
            let r = &fw.stateful[i as usize];
            (r.sid, r.msg.clone())
        }
        None => (0, "stateful default action".to_string()),
    };
    let event = json!({
        "timestamp": eve_time(e.at),
        "flow_id": flow_id(e.firewall, (h.src, h.src_port), (h.dst, h.dst_port), h.proto.0),
        "event_type": "alert",
        "src_ip": h.src.to_string(),
        "src_port": h.src_port,
        "dest_ip": h.dst.to_string(),
        "dest_port": h.dst_port,
        "proto": proto(h.proto.0),
        "alert": {
            "action": if e.blocked { "blocked" } else { "allowed" },
            "signature_id": sid,
            "rev": 0,
            "signature": signature,
            "category": "",
            "severity": 1,
        },
    });
    envelope(topo, e.firewall, az, e.at, event)
}

fn flow_record(topo: &Topology, r: &FlowRecord) -> Value {
    let ep = &topo.network_firewalls.endpoints[r.endpoint];
    let az = &topo.subnets[ep.subnet].availability_zone;
    let c = &r.counts;
    let mut event = json!({
        "timestamp": eve_time(c.end),
        "flow_id": flow_id(r.firewall, r.src, r.dst, r.proto),
        "event_type": "netflow",
        "src_ip": r.src.0.to_string(),
        "src_port": r.src.1,
        "dest_ip": r.dst.0.to_string(),
        "dest_port": r.dst.1,
        "proto": proto(r.proto),
        "netflow": {
            "pkts": c.pkts,
            "bytes": c.bytes,
            "start": eve_time(c.start),
            "end": eve_time(c.end),
            "age": (c.end.0.saturating_sub(c.start.0)) / 1_000_000_000,
            "min_ttl": c.min_ttl,
            "max_ttl": c.max_ttl,
        },
    });
    if r.proto == IpProtocol::TCP.0 {
        let f = c.tcp_flags;
        event["tcp"] = json!({
            "tcp_flags": format!("{f:02x}"),
            "fin": f & 0x01 != 0,
            "syn": f & 0x02 != 0,
            "rst": f & 0x04 != 0,
            "psh": f & 0x08 != 0,
            "ack": f & 0x10 != 0,
        });
    }
    envelope(topo, r.firewall, az, c.end, event)
}

/// What the custom actions of stateless rules published (`summary.json`'s `network_firewall`):
/// per firewall, the packets each custom action counted (CloudWatch dimension `CustomAction`).
pub fn custom_metrics(topo: &Topology, state: &State) -> Value {
    let mut per: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>> =
        Default::default();
    for (f, rule, n) in state.firewall.custom_counts() {
        let fw = &topo.network_firewalls.firewalls[f];
        let actions = match rule {
            Some(FRAGMENT_DEFAULT) => &fw.fragment_default.custom,
            Some(i) => &fw.stateless[i as usize].actions.custom,
            None => &fw.stateless_default.custom,
        };
        let m = per.entry(topo.name(fw.res).to_string()).or_default();
        for a in actions {
            *m.entry(format!("CustomAction={a}")).or_default() += n;
        }
    }
    json!(per)
}

/// The TCP RST a `reject` rule sends the client (SPEC §20.3), as an Ethernet frame from the VPC
/// router to `client_mac`: the rejected segment's addresses and ports reversed, its
/// acknowledgment number as sequence number and its sequence space acknowledged, RST|ACK, with
/// correct checksums. `false` when the segment's TCP header was not captured.
pub fn reset_frame(
    meta: &Meta,
    data: &[u8],
    router_mac: [u8; 6],
    client_mac: [u8; 6],
    out: &mut Vec<u8>,
) -> bool {
    let l4 = meta.l4_offset as usize;
    let Some(tcp) = data.get(l4..l4 + 20) else {
        return false;
    };
    let word = |i: usize| u32::from_be_bytes([tcp[i], tcp[i + 1], tcp[i + 2], tcp[i + 3]]);
    let (seq, ack) = (word(4), word(8));
    let flags = tcp[13];
    let ip_header = (meta.l4_offset - meta.l3_offset) as u32;
    let payload = (meta.header.len as u32).saturating_sub(ip_header + (tcp[12] >> 4) as u32 * 4);
    let syn_fin = u32::from(flags & (tcp_flags::SYN | tcp_flags::FIN) != 0);
    let h = &meta.header;
    let before = out.len();
    build(
        &PacketSpec {
            src: h.dst,
            dst: h.src,
            src_mac: router_mac,
            dst_mac: client_mac,
            ttl: 64,
            l4: L4Spec::Tcp {
                src_port: h.dst_port,
                dst_port: h.src_port,
                seq: if flags & tcp_flags::ACK != 0 { ack } else { 0 },
                ack: seq.wrapping_add(payload + syn_fin),
                flags: tcp_flags::RST | tcp_flags::ACK,
                window: 0,
            },
            payload_len: 0,
        },
        out,
    );
    out.len() > before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eve_timestamps() {
        assert_eq!(
            eve_time(Timestamp(1_602_627_001_006_481_000)),
            "2020-10-13T22:10:01.006481+0000"
        );
        assert_eq!(eve_time(Timestamp(0)), "1970-01-01T00:00:00.000000+0000");
    }
}
