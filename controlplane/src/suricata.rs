//! The Suricata rule subset AWS Network Firewall's stateful engine evaluates and vpcsim
//! simulates (SPEC §20.5): `action proto src sport -> dst dport (options)`.
//!
//! A rule that uses a keyword or protocol outside the subset still parses: the keyword is kept
//! in [`Rule::unsupported`], so the loader warns about it and the data plane reports the rule as
//! not evaluable instead of guessing whether it matches.

use ipnet::IpNet;
use vpcsim_dataplane::topology::network_firewall::{
    AppProtocol, Buffer, Content, FlowCondition, RuleProtocol, StatefulAction,
};

/// An address condition as written: variables unresolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddrSpec {
    /// `any`.
    Any,
    /// A CIDR or single address.
    Net(IpNet),
    /// `$NAME`.
    Var(String),
    /// `!spec`.
    Not(Box<AddrSpec>),
    /// `[a, b, ...]`: any of them.
    Group(Vec<AddrSpec>),
}

/// A port condition as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortSpec {
    /// `any`.
    Any,
    /// `80` or `1024:65535` (open ends allowed: `1024:`).
    Range(u16, u16),
    /// `$NAME`.
    Var(String),
    /// `!spec`.
    Not(Box<PortSpec>),
    /// `[a, b, ...]`.
    Group(Vec<PortSpec>),
}

/// One parsed rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// `pass`, `drop`, `reject` or `alert`.
    pub action: StatefulAction,
    /// The protocol keyword (`None`: outside the subset, named in `unsupported`).
    pub protocol: Option<RuleProtocol>,
    /// Source addresses.
    pub src: AddrSpec,
    /// Source ports.
    pub src_ports: PortSpec,
    /// `<>` rather than `->`.
    pub bidirectional: bool,
    /// Destination addresses.
    pub dst: AddrSpec,
    /// Destination ports.
    pub dst_ports: PortSpec,
    /// `flow:`.
    pub flow: FlowCondition,
    /// `content` conditions with their buffer and modifiers.
    pub contents: Vec<Content>,
    /// `ip_proto`.
    pub ip_proto: Option<u8>,
    /// `sid`.
    pub sid: u64,
    /// `msg`.
    pub msg: String,
    /// `priority`.
    pub priority: Option<u8>,
    /// Keywords (and protocols) vpcsim does not evaluate.
    pub unsupported: Vec<String>,
}

/// Keywords that say something about the rule but never change what it matches.
const INFORMATIONAL: &[&str] = &[
    "rev",
    "metadata",
    "classtype",
    "reference",
    "noalert",
    "alert",
    "ssl_state",
];

/// Parse every rule of a rules string: one per line; `#` comments and blank lines skipped.
/// Errors carry the 1-based line number.
pub fn parse_rules(text: &str) -> Vec<Result<Rule, String>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#')
        })
        .map(|(n, l)| parse_rule(l.trim()).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}

/// Parse one rule.
pub fn parse_rule(line: &str) -> Result<Rule, String> {
    let open = line
        .find('(')
        .ok_or("no options: a rule ends with (options)")?;
    let close = line.rfind(')').ok_or("the options are not closed with )")?;
    if close < open {
        return Err("the options are not closed with )".into());
    }
    let head = header_tokens(&line[..open])?;
    let [action, proto, src, sport, dir, dst, dport] = head.as_slice() else {
        return Err(format!(
            "the header has {} parts; expected: action protocol source port -> destination port",
            head.len()
        ));
    };
    let action = match action.to_ascii_lowercase().as_str() {
        "pass" => StatefulAction::Pass,
        "drop" => StatefulAction::Drop,
        "reject" => StatefulAction::Reject,
        "alert" => StatefulAction::Alert,
        other => return Err(format!("action {other:?}: pass, drop, reject or alert")),
    };
    let mut unsupported = Vec::new();
    let protocol = match proto.to_ascii_lowercase().as_str() {
        "ip" => Some(RuleProtocol::Ip),
        "tcp" => Some(RuleProtocol::Tcp),
        "udp" => Some(RuleProtocol::Udp),
        "icmp" => Some(RuleProtocol::Icmp),
        "http" => Some(RuleProtocol::App(AppProtocol::Http)),
        "tls" => Some(RuleProtocol::App(AppProtocol::Tls)),
        "dns" => Some(RuleProtocol::App(AppProtocol::Dns)),
        other => {
            unsupported.push(format!("protocol {other}"));
            None
        }
    };
    let bidirectional = match dir.as_str() {
        "->" => false,
        "<>" => true,
        other => return Err(format!("direction {other:?}: -> or <>")),
    };
    let mut rule = Rule {
        action,
        protocol,
        src: addr_spec(src)?,
        src_ports: port_spec(sport)?,
        bidirectional,
        dst: addr_spec(dst)?,
        dst_ports: port_spec(dport)?,
        flow: FlowCondition::default(),
        contents: Vec::new(),
        ip_proto: None,
        sid: 0,
        msg: String::new(),
        priority: None,
        unsupported,
    };
    options(&line[open + 1..close], &mut rule)?;
    if rule.sid == 0 {
        return Err("every rule needs a sid".into());
    }
    Ok(rule)
}

/// Split the header on whitespace, keeping `[...]` groups whole.
fn header_tokens(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c)
            }
            ']' => {
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced ]".into());
                }
                cur.push(c)
            }
            c if c.is_whitespace() && depth == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c if c.is_whitespace() => {}
            c => cur.push(c),
        }
    }
    if depth != 0 {
        return Err("unbalanced [".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// Split a group's inside on top-level commas.
fn group_items(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out.into_iter().filter(|x| !x.is_empty()).collect()
}

/// An address condition: `any`, CIDR, address, `$VAR`, `!x`, `[x, y]`.
pub fn addr_spec(s: &str) -> Result<AddrSpec, String> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('!') {
        return Ok(AddrSpec::Not(Box::new(addr_spec(rest)?)));
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        return group_items(inner)
            .into_iter()
            .map(addr_spec)
            .collect::<Result<_, _>>()
            .map(AddrSpec::Group);
    }
    if s.eq_ignore_ascii_case("any") {
        return Ok(AddrSpec::Any);
    }
    if let Some(v) = s.strip_prefix('$') {
        return Ok(AddrSpec::Var(v.to_string()));
    }
    if let Ok(n) = s.parse::<IpNet>() {
        return Ok(AddrSpec::Net(n.trunc()));
    }
    match s.parse::<std::net::IpAddr>() {
        Ok(a) => Ok(AddrSpec::Net(IpNet::from(a))),
        Err(_) => Err(format!("{s:?} is not an address, CIDR, variable or any")),
    }
}

/// A port condition: `any`, `80`, `1024:65535`, `1024:`, `$VAR`, `!x`, `[x, y]`.
pub fn port_spec(s: &str) -> Result<PortSpec, String> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('!') {
        return Ok(PortSpec::Not(Box::new(port_spec(rest)?)));
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        return group_items(inner)
            .into_iter()
            .map(port_spec)
            .collect::<Result<_, _>>()
            .map(PortSpec::Group);
    }
    if s.eq_ignore_ascii_case("any") {
        return Ok(PortSpec::Any);
    }
    if let Some(v) = s.strip_prefix('$') {
        return Ok(PortSpec::Var(v.to_string()));
    }
    let port = |x: &str, dflt: u16| -> Result<u16, String> {
        if x.is_empty() {
            return Ok(dflt);
        }
        x.parse().map_err(|_| format!("{s:?} is not a port"))
    };
    match s.split_once(':') {
        Some((lo, hi)) => {
            let (lo, hi) = (port(lo, 0)?, port(hi, u16::MAX)?);
            if lo > hi {
                return Err(format!("port range {s:?} is empty"));
            }
            Ok(PortSpec::Range(lo, hi))
        }
        None => {
            let p = port(s, 0)?;
            Ok(PortSpec::Range(p, p))
        }
    }
}

/// Split the options on `;` outside quotes (`\;` escapes inside `msg`).
fn option_items(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut escaped) = (false, false);
    for c in s.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => {
                quoted = !quoted;
                cur.push(c)
            }
            ';' if !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out.into_iter().filter(|x| !x.is_empty()).collect()
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    v.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(v)
        .to_string()
}

/// `|2e 63|` hex runs in a content string decoded to text.
fn decode_content(v: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut parts = v.split('|');
    let mut hex = false;
    for part in parts.by_ref() {
        if hex {
            for b in part.split_whitespace() {
                let byte = u8::from_str_radix(b, 16).map_err(|_| format!("bad hex byte {b:?}"))?;
                out.push(byte as char);
            }
        } else {
            out.push_str(part);
        }
        hex = !hex;
    }
    Ok(out)
}

fn options(s: &str, r: &mut Rule) -> Result<(), String> {
    let mut buffer = Buffer::Payload;
    for item in option_items(s) {
        let (key, value) = match item.split_once(':') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim())),
            None => (item.trim().to_ascii_lowercase(), None),
        };
        let last = r.contents.last_mut();
        match (key.as_str(), value, last) {
            ("msg", Some(v), _) => r.msg = unquote(v),
            ("sid", Some(v), _) => {
                r.sid = v
                    .parse()
                    .map_err(|_| format!("sid {v:?} is not a number"))?
            }
            ("priority", Some(v), _) => {
                let p: u8 = v
                    .parse()
                    .ok()
                    .filter(|p| *p >= 1)
                    .ok_or_else(|| format!("priority {v:?}: 1-255"))?;
                r.priority = Some(p)
            }
            ("flow", Some(v), _) => {
                for f in v.split(',').map(|f| f.trim().to_ascii_lowercase()) {
                    match f.as_str() {
                        "established" => r.flow.established = Some(true),
                        "not_established" => r.flow.established = Some(false),
                        "to_server" | "from_client" => r.flow.to_server = Some(true),
                        "to_client" | "from_server" => r.flow.to_server = Some(false),
                        "stateless" => r.flow.stateless = true,
                        other => r.unsupported.push(format!("flow:{other}")),
                    }
                }
            }
            ("ip_proto", Some(v), _) if v.starts_with('!') => {
                r.unsupported.push("ip_proto:!".into())
            }
            ("ip_proto", Some(v), _) => {
                let p = match v.to_ascii_lowercase().as_str() {
                    "tcp" => 6,
                    "udp" => 17,
                    "icmp" => 1,
                    n => n.parse().map_err(|_| format!("ip_proto {v:?}"))?,
                };
                r.ip_proto = Some(p)
            }
            ("tls.sni", None, _) => buffer = Buffer::TlsSni,
            ("http.host", None, _) => buffer = Buffer::HttpHost,
            ("dns.query", None, _) => buffer = Buffer::DnsQuery,
            ("content", Some(v), _) => {
                let v = unquote(v);
                if v.starts_with('!') {
                    r.unsupported.push("content:!".into());
                    continue;
                }
                r.contents.push(Content {
                    buffer,
                    text: decode_content(&v)?,
                    nocase: false,
                    startswith: false,
                    endswith: false,
                    dotprefix: false,
                });
            }
            ("dotprefix", None, _) => {
                // dotprefix precedes the content it modifies.
                r.contents.push(Content {
                    buffer,
                    text: String::new(),
                    nocase: false,
                    startswith: false,
                    endswith: false,
                    dotprefix: true,
                });
            }
            ("nocase", None, Some(c)) => c.nocase = true,
            ("startswith", None, Some(c)) => c.startswith = true,
            ("endswith", None, Some(c)) => c.endswith = true,
            (k, _, _) if INFORMATIONAL.contains(&k) => {}
            (k, _, _) => r.unsupported.push(k.to_string()),
        }
    }
    // A dotprefix placeholder takes the content that follows it.
    let mut merged: Vec<Content> = Vec::new();
    for c in r.contents.drain(..) {
        match merged.last_mut() {
            Some(prev) if prev.dotprefix && prev.text.is_empty() => {
                prev.text = c.text;
                prev.nocase |= c.nocase;
                prev.startswith |= c.startswith;
                prev.endswith |= c.endswith;
            }
            _ => merged.push(c),
        }
    }
    r.contents = merged;
    let mut seen = Vec::new();
    r.unsupported.retain(|k| {
        let new = !seen.contains(k);
        seen.push(k.clone());
        new
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_groups_variables_and_negation() {
        let r = parse_rule(
            r#"drop tcp [10.0.0.0/8, !10.1.0.0/16] any -> $EXTERNAL_NET [80,443] (msg:"web; out"; sid:7; rev:2;)"#,
        )
        .unwrap();
        assert_eq!(r.action, StatefulAction::Drop);
        assert_eq!(r.protocol, Some(RuleProtocol::Tcp));
        assert_eq!(
            r.src,
            AddrSpec::Group(vec![
                AddrSpec::Net("10.0.0.0/8".parse().unwrap()),
                AddrSpec::Not(Box::new(AddrSpec::Net("10.1.0.0/16".parse().unwrap())))
            ])
        );
        assert_eq!(r.dst, AddrSpec::Var("EXTERNAL_NET".into()));
        assert_eq!(
            r.dst_ports,
            PortSpec::Group(vec![PortSpec::Range(80, 80), PortSpec::Range(443, 443)])
        );
        assert_eq!(r.msg, "web; out");
        assert_eq!(r.sid, 7);
        assert!(r.unsupported.is_empty());
    }

    #[test]
    fn flow_content_buffers_and_modifiers() {
        let r = parse_rule(
            r#"pass tls $HOME_NET any <> any 1024: (tls.sni; dotprefix; content:".example.com"; nocase; endswith; flow:to_server, established; priority:3; sid:1;)"#,
        )
        .unwrap();
        assert!(r.bidirectional);
        assert_eq!(r.src_ports, PortSpec::Any);
        assert_eq!(r.dst_ports, PortSpec::Range(1024, u16::MAX));
        assert_eq!(r.flow.to_server, Some(true));
        assert_eq!(r.flow.established, Some(true));
        assert_eq!(r.priority, Some(3));
        assert_eq!(r.contents.len(), 1);
        let c = &r.contents[0];
        assert_eq!(c.buffer, Buffer::TlsSni);
        assert_eq!(c.text, ".example.com");
        assert!(c.nocase && c.endswith && c.dotprefix && !c.startswith);
        let r = parse_rule(
            r#"alert dns any any -> any any (dns.query; content:"EVIL|2e|com"; nocase; sid:2;)"#,
        )
        .unwrap();
        assert_eq!(r.contents[0].buffer, Buffer::DnsQuery);
        assert_eq!(r.contents[0].text, "EVIL.com");
        let r = parse_rule(r#"drop http any any -> any any (http.host; content:"a.b"; flow:to_client, not_established, stateless; ip_proto:6; sid:3;)"#).unwrap();
        assert_eq!(r.contents[0].buffer, Buffer::HttpHost);
        assert_eq!(r.flow.to_server, Some(false));
        assert_eq!(r.flow.established, Some(false));
        assert!(r.flow.stateless);
        assert_eq!(r.ip_proto, Some(6));
    }

    #[test]
    fn unsupported_keywords_and_protocols_are_named() {
        let r = parse_rule(
            r#"alert ip $HOME_NET any -> any any (msg:"CN"; flow:to_server; geoip:dst,CN; metadata:geo CN; sid:100002;)"#,
        )
        .unwrap();
        assert_eq!(r.unsupported, ["geoip"]);
        let r = parse_rule(r#"alert ssh any any -> any any (msg:"ssh"; sid:4;)"#).unwrap();
        assert_eq!(r.protocol, None);
        assert_eq!(r.unsupported, ["protocol ssh"]);
    }

    #[test]
    fn malformed_rules_are_errors() {
        assert!(parse_rule("drop tcp any any -> any any").is_err());
        assert!(parse_rule("block tcp any any -> any any (sid:1;)").is_err());
        assert!(parse_rule("drop tcp any any => any any (sid:1;)").is_err());
        assert!(parse_rule("drop tcp any any -> any any (msg:\"x\";)").is_err());
        assert!(parse_rule("drop tcp 10.0.0.300 any -> any any (sid:1;)").is_err());
        assert!(parse_rule("drop tcp any 70000 -> any any (sid:1;)").is_err());
        let all = parse_rules("# comment\n\npass ip any any -> any any (sid:1;)\nbad\n");
        assert_eq!(all.len(), 2);
        assert!(all[0].is_ok());
        assert!(all[1].as_ref().unwrap_err().starts_with("line 4:"));
    }
}
