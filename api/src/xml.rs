//! XML answers for the EC2, Query and REST-XML protocols: escaping, a small writer, and the
//! response envelopes the SDKs' parsers expect (SPEC.md §22.2).

use std::fmt::Write;

/// `s` with `&`, `<`, `>`, `"` and `'` escaped for element text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Writes elements in order; the caller keeps the nesting right.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    /// An empty document body.
    pub fn new() -> Self {
        Self::default()
    }

    /// `<tag>`.
    pub fn open(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.out, "<{tag}>");
        self
    }

    /// `</tag>`.
    pub fn close(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.out, "</{tag}>");
        self
    }

    /// `<tag>text</tag>`, the text escaped.
    pub fn leaf(&mut self, tag: &str, text: impl std::fmt::Display) -> &mut Self {
        let _ = write!(self.out, "<{tag}>{}</{tag}>", escape(&text.to_string()));
        self
    }

    /// [`leaf`](Self::leaf) when there is a value; nothing otherwise (AWS leaves absent members
    /// out rather than writing them empty).
    pub fn leaf_opt<T: std::fmt::Display>(&mut self, tag: &str, text: Option<T>) -> &mut Self {
        if let Some(t) = text {
            self.leaf(tag, t);
        }
        self
    }

    /// `<tag>` … `</tag>` around what `inner` writes.
    pub fn element(&mut self, tag: &str, inner: impl FnOnce(&mut Self)) -> &mut Self {
        self.open(tag);
        inner(self);
        self.close(tag)
    }

    /// Already-formed XML, appended as is.
    pub fn raw(&mut self, xml: &str) -> &mut Self {
        self.out.push_str(xml);
        self
    }

    /// What was written.
    pub fn finish(self) -> String {
        self.out
    }
}

/// An EC2 success answer: `<ActionResponse xmlns=…><requestId>…</requestId>body</ActionResponse>`.
pub fn ec2_response(action: &str, request_id: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"{}\"><requestId>{request_id}</requestId>{body}</{action}Response>",
        crate::service::Service::Ec2.xmlns()
    )
}

/// A generic Query success answer: `<OpResponse><OpResult>body</OpResult><ResponseMetadata>…`.
/// Operations without output still carry the metadata (an empty `OpResult` is left out, as AWS
/// does for e.g. IAM's `DeleteUser`).
pub fn query_response(action: &str, xmlns: &str, request_id: &str, body: Option<&str>) -> String {
    let result = body
        .map(|b| format!("<{action}Result>{b}</{action}Result>"))
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"{xmlns}\">{result}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_escapes_text() {
        let mut w = XmlWriter::new();
        w.element("tagSet", |w| {
            w.element("item", |w| {
                w.leaf("key", "a<b").leaf_opt("value", None::<&str>);
            });
        });
        assert_eq!(
            w.finish(),
            "<tagSet><item><key>a&lt;b</key></item></tagSet>"
        );
    }

    #[test]
    fn envelopes() {
        let r = ec2_response("CreateVpc", "rid", "<vpc/>");
        assert!(r.contains("<CreateVpcResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>rid</requestId><vpc/>"));
        let q = query_response("GetUser", "ns", "rid", Some("<User/>"));
        assert!(q.contains(
            "<GetUserResult><User/></GetUserResult><ResponseMetadata><RequestId>rid</RequestId>"
        ));
    }
}
