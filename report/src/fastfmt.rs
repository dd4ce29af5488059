//! Formatting integers and addresses into byte buffers without `core::fmt`, for the per-frame
//! outputs of `replay` (a verdict line per frame, flow-log rows), where `write!` dominated.

use std::io::Write;
use std::net::IpAddr;

/// Append the decimal digits of `n`.
#[inline]
pub fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Append an address in its usual text form (IPv6 through `Display`, which is rare enough).
#[inline]
pub fn push_ip(buf: &mut Vec<u8>, a: IpAddr) {
    match a {
        IpAddr::V4(a) => {
            let o = a.octets();
            for (i, b) in o.iter().enumerate() {
                if i > 0 {
                    buf.push(b'.');
                }
                push_u64(buf, *b as u64);
            }
        }
        IpAddr::V6(a) => {
            let _ = write!(buf, "{a}");
        }
    }
}

/// Append seconds with six decimals (`1700000000.123456`) from nanoseconds.
#[inline]
pub fn push_ts(buf: &mut Vec<u8>, ns: u64) {
    push_u64(buf, ns / 1_000_000_000);
    buf.push(b'.');
    let us = (ns % 1_000_000_000) / 1000;
    let mut tmp = [b'0'; 6];
    let mut v = us;
    for d in tmp.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    buf.extend_from_slice(&tmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_display() {
        for n in [0u64, 7, 10, 99, 65535, 1_700_000_000, u64::MAX] {
            let mut b = Vec::new();
            push_u64(&mut b, n);
            assert_eq!(String::from_utf8(b).unwrap(), n.to_string());
        }
        for a in [
            "0.0.0.0",
            "10.0.2.30",
            "100.64.9.199",
            "255.255.255.255",
            "2001:db8::1",
            "::ffff:255.255.255.255",
        ] {
            let mut b = Vec::new();
            push_ip(&mut b, a.parse().unwrap());
            assert_eq!(String::from_utf8(b).unwrap(), a);
        }
        let mut b = Vec::new();
        push_ts(&mut b, 1_700_000_000_000_042_000);
        assert_eq!(String::from_utf8(b).unwrap(), "1700000000.000042");
    }
}
