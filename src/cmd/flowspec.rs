//! The flow spec of `vpcsim trace`: `PROTO SRC[:PORT] -> DST[:PORT]`.
//!
//! ```text
//! tcp 10.0.1.10:40000 -> 198.51.100.7:443
//! udp [2001:db8::1]:5353 -> [2001:db8::2]:53
//! icmp 10.0.2.30 -> 8.8.8.8 type 8 code 0
//! 47 10.0.1.10 -> 192.0.2.9
//! tcp 10.0.1.10:40000 -> 10.0.3.5:22 ttl 1
//! ```

use std::net::IpAddr;
use vpcsim_dataplane::wire::{tcp_flags, Header, IpProtocol};

/// Parse a flow spec into a packet header (TCP gets SYN, ICMP defaults to an echo request).
pub fn parse(spec: &str) -> Result<Header, String> {
    let spec = spec.trim();
    let (left, right) = spec
        .split_once("->")
        .ok_or_else(|| format!("{spec:?}: expected `PROTO SRC[:PORT] -> DST[:PORT]`"))?;
    let mut l = left.split_whitespace();
    let proto_word = l
        .next()
        .ok_or("missing protocol (tcp, udp, icmp, icmpv6 or a number)")?;
    let src_word = l.next().ok_or("missing source address")?;
    if let Some(extra) = l.next() {
        return Err(format!("unexpected {extra:?} before `->`"));
    }
    let mut r = right.split_whitespace();
    let dst_word = r.next().ok_or("missing destination address")?;
    let proto: IpProtocol = proto_word.parse().map_err(|_| {
        format!("unknown protocol {proto_word:?}: use tcp, udp, icmp, icmpv6 or 0-255")
    })?;
    let ports = proto == IpProtocol::TCP || proto == IpProtocol::UDP;
    let (src, src_port) = endpoint(src_word, ports, 40000)?;
    let (dst, dst_port) = endpoint(dst_word, ports, 0)?;
    if src.is_ipv4() != dst.is_ipv4() {
        return Err("source and destination must be the same address family".into());
    }
    if ports && dst_port.is_none() {
        return Err(format!(
            "{} needs a destination port: {dst_word}:PORT",
            proto_word
        ));
    }
    match (proto, dst) {
        (IpProtocol::ICMP, IpAddr::V6(_)) => {
            return Err(format!(
                "{proto_word} is ICMP for IPv4: use icmpv6 with IPv6 addresses"
            ))
        }
        (IpProtocol::ICMPV6, IpAddr::V4(_)) => {
            return Err(format!(
                "{proto_word} is ICMP for IPv6: use icmp with IPv4 addresses"
            ))
        }
        _ => {}
    }
    let mut h = Header {
        src,
        dst,
        proto,
        src_port: src_port.unwrap_or(0),
        dst_port: dst_port.unwrap_or(0),
        icmp_type: 0,
        icmp_code: 0,
        tcp_flags: if proto == IpProtocol::TCP {
            tcp_flags::SYN
        } else {
            0
        },
        ttl: 64,
        len: 0,
    };
    if h.is_icmp() {
        h.icmp_type = if proto == IpProtocol::ICMP { 8 } else { 128 };
    }
    let words: Vec<&str> = r.collect();
    for pair in words.chunks(2) {
        match pair {
            ["ttl", t] => h.ttl = t.parse().map_err(|_| format!("bad TTL {t:?}"))?,
            ["type", t] if h.is_icmp() => {
                h.icmp_type = t.parse().map_err(|_| format!("bad ICMP type {t:?}"))?
            }
            ["code", c] if h.is_icmp() => {
                h.icmp_code = c.parse().map_err(|_| format!("bad ICMP code {c:?}"))?
            }
            ["id", i] if h.is_icmp() => {
                let id: u16 = i.parse().map_err(|_| format!("bad ICMP id {i:?}"))?;
                h.src_port = id;
                h.dst_port = id;
            }
            other => {
                return Err(format!(
                    "unexpected {:?} after the destination",
                    other.join(" ")
                ))
            }
        }
    }
    if h.is_icmp_echo() && h.src_port == 0 {
        h.src_port = 1;
        h.dst_port = 1;
    }
    h.len = match (proto, src) {
        (IpProtocol::TCP, IpAddr::V4(_)) => 40,
        (IpProtocol::TCP, IpAddr::V6(_)) => 60,
        (_, IpAddr::V4(_)) => 28,
        (_, IpAddr::V6(_)) => 48,
    };
    Ok(h)
}

/// A destination given as a DNS name (`db.internal.example:5432`): the name, and the spec with
/// the name replaced by an address of the source's family, to be replaced by what the name
/// resolves to. `None` when the destination is an address.
pub fn destination_name(spec: &str) -> Option<(String, String)> {
    let (left, right) = spec.split_once("->")?;
    let word = right.split_whitespace().next()?;
    if word.starts_with('[') || word.matches(':').count() > 1 {
        return None;
    }
    let host = word.split_once(':').map_or(word, |(h, _)| h);
    if host.parse::<IpAddr>().is_ok() || !host.bytes().any(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let src_v6 = left.contains('[') || left.matches(':').count() > 1;
    let placeholder = if src_v6 { "[::]" } else { "0.0.0.0" };
    let at = spec.len() - right.len() + right.find(word)?;
    let mut replaced = spec.to_string();
    replaced.replace_range(at..at + host.len(), placeholder);
    Some((host.to_string(), replaced))
}

/// `10.0.0.1`, `10.0.0.1:80`, `[2001:db8::1]:80`, `[2001:db8::1]`, and `2001:db8::1` for a
/// protocol without ports. With ports, an IPv6 address needs its brackets: `2001:db8::1:443`
/// is itself an address, `2001:db8::1:40000` is not, so without brackets the same spelling
/// would mean a port or not depending on the digits.
fn endpoint(s: &str, ports: bool, default_port: u16) -> Result<(IpAddr, Option<u16>), String> {
    let port = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| format!("bad port {p:?} in {s:?}"))
    };
    if let Some(rest) = s.strip_prefix('[') {
        let (addr, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("missing ] in {s:?}"))?;
        let a: IpAddr = addr.parse().map_err(|_| format!("bad address {addr:?}"))?;
        return match after.strip_prefix(':') {
            Some(p) if ports => Ok((a, Some(port(p)?))),
            Some(_) => Err(format!("{s:?}: this protocol has no ports")),
            None => Ok((a, ports.then_some(default_port).filter(|p| *p != 0))),
        };
    }
    if s.matches(':').count() > 1 {
        return match s.parse::<IpAddr>() {
            Ok(a) if !ports => Ok((a, None)),
            _ => Err(ambiguous_v6(s)),
        };
    }
    if let Ok(a) = s.parse::<IpAddr>() {
        return Ok((a, ports.then_some(default_port).filter(|p| *p != 0)));
    }
    match s.rsplit_once(':') {
        Some((a, p)) if ports => {
            let a: IpAddr = a.parse().map_err(|_| format!("bad address {a:?}"))?;
            Ok((a, Some(port(p)?)))
        }
        Some(_) => Err(format!("{s:?}: this protocol has no ports")),
        None => Err(format!("bad address {s:?}")),
    }
}

/// The refusal of an unbracketed IPv6 endpoint, with its bracketed spelling as the hint.
fn ambiguous_v6(s: &str) -> String {
    let hint = match s.rsplit_once(':') {
        Some((a, p)) if a.parse::<IpAddr>().is_ok() && p.parse::<u16>().is_ok() => {
            format!("[{a}]:{p}")
        }
        _ if s.parse::<IpAddr>().is_ok() => format!("[{s}]:PORT"),
        _ => "[2001:db8::1]:443".to_string(),
    };
    format!(
        "{s:?} is ambiguous: write an IPv6 address in brackets, with its port after them, e.g. {hint}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_destination_is_found_and_an_address_is_not() {
        let (name, spec) = destination_name("tcp 10.0.2.30 -> db.internal.example:5432").unwrap();
        assert_eq!(name, "db.internal.example");
        assert_eq!(spec, "tcp 10.0.2.30 -> 0.0.0.0:5432");
        assert!(parse(&spec).is_ok());
        assert!(destination_name("tcp 10.0.2.30 -> 10.0.3.40:5432").is_none());
        assert!(destination_name("tcp [2001:db8::1]:1 -> [2001:db8::2]:443").is_none());
        let (n, s) = destination_name("icmp 10.0.2.30 -> ip-10-0-3-40.ec2.internal").unwrap();
        assert_eq!(
            (n.as_str(), s.as_str()),
            ("ip-10-0-3-40.ec2.internal", "icmp 10.0.2.30 -> 0.0.0.0")
        );
    }

    #[test]
    fn tcp_v4() {
        let h = parse("tcp 10.0.1.10:40000 -> 198.51.100.7:443").unwrap();
        assert_eq!(
            (h.proto, h.src_port, h.dst_port, h.tcp_flags),
            (IpProtocol::TCP, 40000, 443, tcp_flags::SYN)
        );
    }

    #[test]
    fn default_source_port_and_v6() {
        let h = parse("udp [2001:db8::1] -> [2001:db8::2]:53").unwrap();
        assert_eq!((h.src_port, h.dst_port), (40000, 53));
        assert!(h.src.is_ipv6());
    }

    #[test]
    fn icmp_with_type_code() {
        let h = parse("icmp 10.0.2.30 -> 8.8.8.8 type 3 code 4").unwrap();
        assert_eq!((h.icmp_type, h.icmp_code), (3, 4));
        let e = parse("icmp 10.0.2.30 -> 8.8.8.8").unwrap();
        assert_eq!((e.icmp_type, e.src_port), (8, 1));
        let v6 = parse("icmpv6 [2001:db8::1] -> [2001:db8::2]").unwrap();
        assert_eq!((v6.proto, v6.icmp_type), (IpProtocol::ICMPV6, 128));
        let bare = parse("icmpv6 2001:db8::1 -> 2001:db8::2").unwrap();
        assert_eq!(bare.dst, "2001:db8::2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn ttl_option() {
        assert_eq!(parse("tcp 10.0.0.1:1 -> 10.0.0.2:2 ttl 1").unwrap().ttl, 1);
        assert_eq!(
            parse("icmp 10.0.0.1 -> 10.0.0.2 type 8 ttl 2").unwrap().ttl,
            2
        );
        assert!(parse("tcp 10.0.0.1:1 -> 10.0.0.2:2 hops 1").is_err());
    }

    #[test]
    fn errors_are_clear() {
        assert!(parse("tcp 10.0.0.1 -> 10.0.0.2")
            .unwrap_err()
            .contains("destination port"));
        assert!(parse("foo 10.0.0.1 -> 10.0.0.2")
            .unwrap_err()
            .contains("unknown protocol"));
        assert!(parse("tcp 10.0.0.1:1 10.0.0.2:2")
            .unwrap_err()
            .contains("->"));
        assert!(parse("tcp 10.0.0.1:1 -> [::1]:2")
            .unwrap_err()
            .contains("family"));
    }

    #[test]
    fn icmp_must_match_the_address_family() {
        assert!(parse("icmpv6 10.0.2.30 -> 8.8.8.8")
            .unwrap_err()
            .contains("use icmp with IPv4"));
        assert!(parse("icmp [2001:db8::1] -> [2001:db8::2]")
            .unwrap_err()
            .contains("use icmpv6 with IPv6"));
        assert!(parse("58 10.0.2.30 -> 8.8.8.8").is_err());
        assert!(parse("1 [2001:db8::1] -> [2001:db8::2]").is_err());
    }

    #[test]
    fn unbracketed_ipv6_with_ports_is_refused() {
        for (spec, hint) in [
            (
                "tcp [2001:db8::2]:1 -> 2001:db8::1:443",
                "[2001:db8::1]:443",
            ),
            (
                "tcp [2001:db8::2]:1 -> 2001:db8::1:40000",
                "[2001:db8::1]:40000",
            ),
            ("udp 2001:db8::2 -> [2001:db8::1]:53", "[2001:db8::2]:PORT"),
        ] {
            let e = parse(spec).unwrap_err();
            assert!(e.contains("ambiguous") && e.contains(hint), "{spec}: {e}");
        }
    }
}
