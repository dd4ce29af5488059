//! Signature Version 4, verified as AWS verifies it (SPEC.md §23.1): the canonical request, the
//! string to sign, the derived signing key, and the two ways a client carries the signature
//! (the `Authorization` header, or `X-Amz-*` query parameters of a presigned URL).

use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

use crate::auth::dates;
use crate::call::HttpRequest;
use crate::error::ApiError;

/// The only algorithm SigV4 names.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// SHA-256 of the empty string, the payload hash of a request without a body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// How far a request's date may be from the server's clock, either way.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// RFC 3986's unreserved characters stay; everything else is `%XX` (upper-case hex).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// As [`UNRESERVED`], keeping `/` (the canonical URI encodes path segments, not separators).
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

type HmacSha256 = Hmac<Sha256>;

/// The signature parts a request carries, from whichever form it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The access key id of the credential scope.
    pub access_key_id: String,
    /// `YYYYMMDD` of the credential scope.
    pub scope_date: String,
    /// The region of the credential scope.
    pub region: String,
    /// The service (signing name) of the credential scope.
    pub service: String,
    /// Lower-case header names, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// The signature, lower-case hex.
    pub signature: String,
    /// The request's timestamp as sent (`YYYYMMDDTHHMMSSZ`, or an HTTP date).
    pub amz_date: String,
    /// When the request was signed.
    pub signed_at: SystemTime,
    /// `X-Amz-Security-Token`, for temporary credentials.
    pub security_token: Option<String>,
    /// `X-Amz-Expires` of a presigned URL; `None` for the header form.
    pub expires: Option<u64>,
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn incomplete(message: impl Into<String>) -> ApiError {
    ApiError::client("IncompleteSignature", message)
}

/// `MissingAuthenticationToken`: the request carries no signature at all.
pub fn missing_token() -> ApiError {
    ApiError::with_status(
        "MissingAuthenticationToken",
        "Request is missing Authentication Token",
        403,
    )
}

/// `SignatureDoesNotMatch` with AWS's sentence.
pub fn mismatch() -> ApiError {
    ApiError::with_status(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        403,
    )
}

/// The five parts of a SigV4 credential (`AKID/20261207/us-east-1/ec2/aws4_request`): key,
/// date, region, service.
pub(crate) fn parse_credential(
    credential: &str,
) -> Result<(String, String, String, String), ApiError> {
    let parts: Vec<&str> = credential.split('/').collect();
    if parts.len() != 5 || parts[4] != "aws4_request" || parts.iter().any(|p| p.is_empty()) {
        return Err(incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        )));
    }
    Ok((
        parts[0].to_string(),
        parts[1].to_string(),
        parts[2].to_string(),
        parts[3].to_string(),
    ))
}

fn parse_authorization(value: &str) -> Result<(String, String, String), ApiError> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| {
            let alg = value.split_whitespace().next().unwrap_or_default();
            incomplete(format!("Unsupported AWS 'algorithm': '{alg}'"))
        })?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').unwrap_or((part.trim(), ""));
        match k {
            "Credential" => credential = Some(v.to_string()),
            "SignedHeaders" => signed = Some(v.to_string()),
            "Signature" => signature = Some(v.to_string()),
            _ => {}
        }
    }
    let missing: Vec<&str> = [
        ("Credential", &credential),
        ("SignedHeaders", &signed),
        ("Signature", &signature),
    ]
    .iter()
    .filter(|(_, v)| v.as_deref().is_none_or(str::is_empty))
    .map(|(k, _)| *k)
    .collect();
    if !missing.is_empty() {
        return Err(incomplete(format!(
            "Authorization header requires '{}' parameter(s). Authorization={value}",
            missing.join("', '")
        )));
    }
    Ok((
        credential.unwrap_or_default(),
        signed.unwrap_or_default(),
        signature.unwrap_or_default(),
    ))
}

/// Reads the signature from the `Authorization` header or the query string.
pub fn parse(req: &HttpRequest<'_>) -> Result<SignedRequest, ApiError> {
    let query = query_pairs(req.query);
    let q = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let auth_header = req.header("authorization");
    let presigned = q("X-Amz-Algorithm").is_some() || q("X-Amz-Signature").is_some();
    let (credential, signed, signature, date, expires) = match (auth_header, presigned) {
        (Some(_), true) => {
            return Err(incomplete(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified",
            ))
        }
        (None, false) => return Err(missing_token()),
        (Some(h), false) => {
            let (c, s, sig) = parse_authorization(h)?;
            let date = req.header("x-amz-date")
                .or_else(|| req.header("date"))
                .ok_or_else(|| {
                    incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
                })?;
            (c, s, sig, date.to_string(), None)
        }
        (None, true) => {
            if q("X-Amz-Algorithm").as_deref() != Some(ALGORITHM) {
                return Err(incomplete("Unsupported X-Amz-Algorithm; expected AWS4-HMAC-SHA256"));
            }
            let need = |n: &str| q(n).ok_or_else(|| incomplete(format!("AWS query-string parameters must include '{n}'.")));
            let expires = match q("X-Amz-Expires") {
                Some(e) => Some(e.parse::<u64>().map_err(|_| {
                    incomplete(format!("X-Amz-Expires must be a number of seconds, got '{e}'"))
                })?),
                None => None,
            };
            (
                need("X-Amz-Credential")?,
                need("X-Amz-SignedHeaders")?,
                need("X-Amz-Signature")?,
                need("X-Amz-Date")?,
                Some(expires.unwrap_or(u64::MAX)),
            )
        }
    };
    let (access_key_id, scope_date, region, service) = parse_credential(&credential)?;
    let signed_at = dates::parse_amz_date(&date)
        .or_else(|| dates::parse_http_date(&date))
        .ok_or_else(|| {
            incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{date}'."
            ))
        })?;
    let request_day = dates::amz_date(signed_at)[..8].to_string();
    if request_day != scope_date {
        return Err(mismatch_with(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{request_day}', from '{date}'."
        )));
    }
    let signed_headers: Vec<String> = signed
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if !signed_headers
        .iter()
        .any(|h| h == "host" || h == ":authority")
    {
        return Err(mismatch_with(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    Ok(SignedRequest {
        access_key_id,
        scope_date,
        region,
        service,
        signed_headers,
        signature,
        amz_date: date,
        signed_at,
        security_token: req
            .header("x-amz-security-token")
            .map(str::to_string)
            .or_else(|| q("X-Amz-Security-Token")),
        expires,
    })
}

fn mismatch_with(detail: impl Into<String>) -> ApiError {
    ApiError::with_status("SignatureDoesNotMatch", detail, 403)
}

/// The canonical URI: the path as sent, dot segments and empty segments removed, each
/// character outside RFC 3986's unreserved set percent-encoded (so a `%` the client already
/// encoded is encoded again, as non-S3 services do).
pub fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut normal = String::from(if path.starts_with('/') { "/" } else { "" });
    normal.push_str(&out.join("/"));
    if path.ends_with('/') && !out.is_empty() {
        normal.push('/');
    }
    utf8_percent_encode(&normal, PATH).to_string()
}

/// The canonical query string: names and values decoded then encoded per RFC 3986, sorted by
/// name then value, `X-Amz-Signature` left out.
pub fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(query)
        .into_iter()
        .filter(|(k, _)| k != "X-Amz-Signature")
        .map(|(k, v)| {
            (
                utf8_percent_encode(&k, UNRESERVED).to_string(),
                utf8_percent_encode(&v, UNRESERVED).to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn trim_all(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical request over `signed_headers` with `payload_hash`; `None` when a signed header
/// is not in the request.
pub fn canonical_request(
    req: &HttpRequest<'_>,
    signed_headers: &[String],
    payload_hash: &str,
) -> Option<String> {
    let mut names: Vec<&str> = signed_headers.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let mut headers = String::new();
    for name in &names {
        let values: Vec<String> = req
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| trim_all(v))
            .collect();
        if values.is_empty() {
            return None;
        }
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    Some(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method.to_ascii_uppercase(),
        canonical_uri(req.path),
        canonical_query(req.query),
        headers,
        names.join(";"),
        payload_hash
    ))
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The string to sign for a canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// `kSigning`, derived from the secret through the date, region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// The hex signature of `string_to_sign` with `key`.
pub fn sign(key: &[u8], string_to_sign: &str) -> String {
    hex::encode(hmac(key, string_to_sign.as_bytes()))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `RequestExpired`: the request's date is over 15 minutes from `now`, or a presigned URL's
/// `X-Amz-Expires` has passed.
pub fn check_time(signed: &SignedRequest, now: SystemTime) -> Result<(), ApiError> {
    let skew = match now.duration_since(signed.signed_at) {
        Ok(past) => {
            let limit = signed
                .expires
                .map(|e| Duration::from_secs(e.min(7 * 24 * 3600)).max(MAX_SKEW))
                .unwrap_or(MAX_SKEW);
            past > limit
        }
        Err(future) => future.duration() > MAX_SKEW,
    };
    if skew {
        return Err(ApiError::client(
            "RequestExpired",
            format!(
                "Request has expired. Timestamp date is {} and the server time is {}. The request reached the service more than 15 minutes after the date stamp on the request or more than 15 minutes after the request expiration date (such as for pre-signed URLs), or the date stamp on the request is more than 15 minutes in the future.",
                signed.amz_date,
                dates::amz_date(now)
            ),
        ));
    }
    Ok(())
}

/// Checks the signature of `req` with `secret` (the time is checked separately by
/// [`check_time`]). A presigned URL's payload may be signed as `UNSIGNED-PAYLOAD`.
pub fn verify(req: &HttpRequest<'_>, signed: &SignedRequest, secret: &str) -> Result<(), ApiError> {
    let body_hash = sha256_hex(req.body);
    let mut candidates = Vec::new();
    match req.header("x-amz-content-sha256") {
        Some(claimed) => {
            if claimed != "UNSIGNED-PAYLOAD" && !claimed.eq_ignore_ascii_case(&body_hash) {
                return Err(mismatch_with(
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ));
            }
            candidates.push(claimed.to_string());
        }
        None => {
            candidates.push(body_hash);
            if signed.expires.is_some() {
                candidates.push("UNSIGNED-PAYLOAD".into());
            }
        }
    }
    let scope = format!(
        "{}/{}/{}/aws4_request",
        signed.scope_date, signed.region, signed.service
    );
    let key = signing_key(secret, &signed.scope_date, &signed.region, &signed.service);
    for payload in &candidates {
        let Some(canonical) = canonical_request(req, &signed.signed_headers, payload) else {
            return Err(mismatch());
        };
        let expected = sign(
            &key,
            &string_to_sign(&dates::amz_date(signed.signed_at), &scope, &canonical),
        );
        if constant_time_eq(&expected, &signed.signature.to_ascii_lowercase()) {
            return Ok(());
        }
    }
    Err(mismatch())
}

#[cfg(test)]
#[path = "sigv4_tests.rs"]
mod tests;
