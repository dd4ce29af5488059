//! Pure helpers behind the intrinsic functions: no template or context access here, so each is
//! easy to test against AWS's documented examples.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Standard (RFC 4648, padded) base64, as `Fn::Base64` produces.
pub fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `Fn::Cidr`: `count` consecutive blocks with `cidr_bits` host bits, from the start of `block`.
pub fn cidr(block: &str, count: u64, cidr_bits: u64) -> Result<Vec<String>, String> {
    let net: IpNet = block
        .trim()
        .parse()
        .map_err(|_| format!("{block:?} is not a CIDR block"))?;
    if !(1..=256).contains(&count) {
        return Err(format!("count must be between 1 and 256, got {count}"));
    }
    let (width, base): (u32, u128) = match net.network() {
        IpAddr::V4(a) => (32, u128::from(u32::from(a))),
        IpAddr::V6(a) => (128, u128::from(a)),
    };
    let bits = u32::try_from(cidr_bits).unwrap_or(u32::MAX);
    let block_host_bits = width - u32::from(net.prefix_len());
    if bits > block_host_bits {
        return Err(format!(
            "cidrBits {cidr_bits} is larger than the {block_host_bits} host bits of {block}"
        ));
    }
    // Both sides fit in u128 except a whole-IPv6-space edge case, handled by checked math.
    let available = 1u128
        .checked_shl(block_host_bits - bits)
        .unwrap_or(u128::MAX);
    if u128::from(count) > available {
        return Err(format!(
            "{block} holds only {available} blocks of {} addresses, {count} requested",
            1u128
                .checked_shl(bits)
                .map_or_else(|| "2^128".to_owned(), |n| n.to_string())
        ));
    }
    let step = 1u128.checked_shl(bits).unwrap_or(0);
    let prefix = width - bits;
    Ok((0..u128::from(count))
        .map(|i| {
            let start = base.wrapping_add(i.wrapping_mul(step));
            match width {
                32 => format!("{}/{prefix}", Ipv4Addr::from(start as u32)),
                _ => format!("{}/{prefix}", Ipv6Addr::from(start)),
            }
        })
        .collect())
}

/// `Fn::GetAZs`: real zone letters for the common regions so templates that `!Select` the
/// third or fourth zone behave as they would there; other regions get a, b, c.
pub fn availability_zones(region: &str) -> Vec<String> {
    let letters: &[&str] = match region {
        "us-east-1" => &["a", "b", "c", "d", "e", "f"],
        "us-east-2" => &["a", "b", "c"],
        "us-west-1" => &["b", "c"],
        "us-west-2" => &["a", "b", "c", "d"],
        "ca-central-1" => &["a", "b", "d"],
        "eu-west-1" => &["a", "b", "c"],
        "eu-west-2" => &["a", "b", "c"],
        "eu-west-3" => &["a", "b", "c"],
        "eu-central-1" => &["a", "b", "c"],
        "eu-north-1" => &["a", "b", "c"],
        "ap-northeast-1" => &["a", "c", "d"],
        "ap-northeast-2" => &["a", "b", "c", "d"],
        "ap-southeast-1" => &["a", "b", "c"],
        "ap-southeast-2" => &["a", "b", "c"],
        "ap-south-1" => &["a", "b", "c"],
        "sa-east-1" => &["a", "b", "c"],
        "cn-north-1" => &["a", "b"],
        "us-gov-west-1" => &["a", "b", "c"],
        _ => &["a", "b", "c"],
    };
    letters.iter().map(|l| format!("{region}{l}")).collect()
}

pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

pub fn url_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

/// A piece of an `Fn::Sub` template string.
#[derive(Debug, PartialEq)]
pub enum SubPart<'a> {
    Literal(&'a str),
    /// `${!X}`: emitted as `${X}`.
    Escaped(&'a str),
    /// `${X}` or `${X.Attr}`.
    Var(&'a str),
}

pub fn sub_parts(s: &str) -> Vec<SubPart<'_>> {
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        if start > 0 {
            parts.push(SubPart::Literal(&rest[..start]));
        }
        let inner = &after[..end];
        match inner.strip_prefix('!') {
            Some(lit) => parts.push(SubPart::Escaped(lit)),
            None => parts.push(SubPart::Var(inner.trim())),
        }
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(SubPart::Literal(rest));
    }
    parts
}

pub const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64("é\n".as_bytes()), "w6kK");
    }

    #[test]
    fn cidr_edges() {
        assert_eq!(cidr("10.0.0.0/16", 1, 16).unwrap(), vec!["10.0.0.0/16"]);
        assert!(cidr("10.0.0.0/16", 2, 16).is_err());
        assert!(cidr("10.0.0.0/16", 1, 17).is_err());
        assert!(cidr("10.0.0.0/16", 0, 8).is_err());
        assert!(cidr("10.0.0.0/16", 257, 1).is_err());
        assert_eq!(cidr("10.0.0.0/30", 4, 0).unwrap().len(), 4);
        assert_eq!(
            cidr("0.0.0.0/0", 2, 31).unwrap(),
            vec!["0.0.0.0/1", "128.0.0.0/1"]
        );
        assert_eq!(cidr("::/0", 2, 127).unwrap(), vec!["::/1", "8000::/1"]);
        assert_eq!(cidr("::/0", 1, 128).unwrap(), vec!["::/0"]);
        assert!(cidr("nonsense", 1, 1).is_err());
        assert!(cidr("10.0.0.0/16", 1, u64::MAX).is_err());
    }

    #[test]
    fn sub_parsing() {
        assert_eq!(
            sub_parts("a${X}b${!Y}${Z.Attr}c${unterminated"),
            vec![
                SubPart::Literal("a"),
                SubPart::Var("X"),
                SubPart::Literal("b"),
                SubPart::Escaped("Y"),
                SubPart::Var("Z.Attr"),
                SubPart::Literal("c${unterminated"),
            ]
        );
        assert_eq!(sub_parts("$x $ {y}"), vec![SubPart::Literal("$x $ {y}")]);
    }
}
