//! Identifiers as AWS mints them: resource ids (`vpc-0a1b2c3d4e5f67890`), unique ids of IAM
//! entities (`AIDA…`), access keys, request ids (UUIDs).

use rand::Rng;

/// A resource id: `prefix-` and 17 lowercase hex digits, as EC2 has minted since 2018.
pub fn resource_id(prefix: &str) -> String {
    let n: u128 = rand::rng().random();
    format!("{prefix}-{:017x}", n & ((1u128 << 68) - 1))
}

/// An IAM unique id or access key id: `prefix` and upper-case letters and digits, 20 characters
/// in all (`AIDA…` users, `AROA…` roles, `ANPA…` policies, `AKIA…`/`ASIA…` keys).
pub fn unique_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::rng();
    let mut id = String::from(prefix);
    while id.len() < 20 {
        id.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
    }
    id
}

/// A secret access key: 40 characters of base64's alphabet, as AWS issues them.
pub fn secret_key() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rng();
    (0..40)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A random (version 4) UUID, the form of request ids and CloudTrail event ids.
pub fn uuid() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let v = resource_id("vpc");
        assert_eq!(v.len(), 4 + 17);
        assert!(v[4..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        let k = unique_id("AKIA");
        assert_eq!(k.len(), 20);
        assert!(k.starts_with("AKIA"));
        assert_eq!(secret_key().len(), 40);
        let u = uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
