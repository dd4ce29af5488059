//! HTTP/1.1 messages on a simulated connection: when a request or response is complete (headers
//! and a `Content-Length` body), and the bytes of the answers the simulated applications and
//! the load balancer write.

use vpcsim_dataplane::alb::http::HttpRequest;

/// A complete request at the start of a connection's bytes.
pub struct Received {
    /// Method, path, query and headers.
    pub request: HttpRequest,
    /// The HTTP version, `HTTP/1.0` or `HTTP/1.1`.
    pub version: &'static str,
    /// Bytes of the whole message (request line, headers and body).
    pub len: usize,
    /// Offset of the body.
    pub body_at: usize,
}

/// Why bytes cannot be a request.
pub struct Malformed;

fn content_length(headers: &[httparse::Header<'_>]) -> usize {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The request `buf` starts with, once it has all arrived.
pub fn request(buf: &[u8]) -> Result<Option<Received>, Malformed> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Request::new(&mut headers);
    let head = match r.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(Malformed),
    };
    let len = head + content_length(r.headers);
    if buf.len() < len {
        return Ok(None);
    }
    let target = r.path.unwrap_or("/");
    let method = r.method.unwrap_or("GET");
    let mut request = HttpRequest::parse(&format!("{method} {target}")).map_err(|_| Malformed)?;
    for h in r.headers.iter() {
        let value = String::from_utf8_lossy(h.value);
        request
            .headers
            .push((h.name.to_string(), value.into_owned()));
    }
    Ok(Some(Received {
        request,
        version: if r.version == Some(0) {
            "HTTP/1.0"
        } else {
            "HTTP/1.1"
        },
        len,
        body_at: head,
    }))
}

/// A complete response at the start of `buf`: its status and length.
pub fn response(buf: &[u8]) -> Result<Option<(u16, usize)>, Malformed> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut headers);
    let head = match r.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(Malformed),
    };
    let len = head + content_length(r.headers);
    if buf.len() < len {
        return Ok(None);
    }
    Ok(Some((r.code.unwrap_or(0), len)))
}

/// The reason phrase of a status.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        _ => "",
    }
}

/// A response with `headers` and `body`.
pub fn write_response(
    out: &mut Vec<u8>,
    status: u16,
    headers: &[(&str, &str)],
    content_type: &str,
    body: &[u8],
) {
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason(status)).as_bytes());
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
}

/// The request as the load balancer forwards it: the client's request line, headers and body,
/// with its own `X-Forwarded-*` headers in place of any the client sent.
pub fn forwarded_request(
    received: &Received,
    raw: &[u8],
    forwarded: &[(&'static str, String)],
) -> Vec<u8> {
    let r = &received.request;
    let mut out = Vec::with_capacity(received.len + 128);
    let target = if r.query.is_empty() {
        r.path.clone()
    } else {
        format!("{}?{}", r.path, r.query)
    };
    out.extend_from_slice(format!("{} {target} {}\r\n", r.method, received.version).as_bytes());
    for (k, v) in &r.headers {
        if forwarded.iter().any(|(f, _)| f.eq_ignore_ascii_case(k)) {
            continue;
        }
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    for (k, v) in forwarded {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(raw.get(received.body_at..received.len).unwrap_or_default());
    out
}
