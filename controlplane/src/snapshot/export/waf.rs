//! AWS WAF (v2) as `aws wafv2` prints it: one `get-ip-set` file per IP set and one
//! `get-web-acl` file per web ACL, the latter with the `ResourceArns` of
//! `list-resources-for-web-acl` (its associations) beside the `WebACL`.

use super::{derived, ExportFile, Exporter};
use base64::Engine;
use serde_json::{json, Value};

/// The name segment of a WAF ARN (`.../webacl/NAME/ID`), safe as a file name.
fn file_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Blobs as the API prints them: `SearchString` base64-encoded (a template may give it plain or
/// as `SearchStringBase64`).
fn api_blobs(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(plain)) = m.remove("SearchString") {
                let encoded = base64::engine::general_purpose::STANDARD.encode(plain.as_bytes());
                m.insert("SearchString".into(), json!(encoded));
            }
            if let Some(encoded) = m.remove("SearchStringBase64") {
                m.insert("SearchString".into(), encoded);
            }
            m.values_mut().for_each(api_blobs);
        }
        Value::Array(a) => a.iter_mut().for_each(api_blobs),
        _ => {}
    }
}

impl Exporter<'_> {
    pub(super) fn waf_files(&self) -> Vec<ExportFile> {
        let w = &self.m.waf;
        let mut out = Vec::new();
        for s in &w.ip_sets {
            let v6 = s.addresses.iter().any(|n| matches!(n, ipnet::IpNet::V6(_)));
            let arn = &s.origin.id;
            let id = arn.rsplit('/').next().unwrap_or_default();
            out.push(ExportFile {
                name: format!("IPSet-{}.json", file_part(&s.set.name)),
                json: json!({
                    "IPSet": {
                        "Name": s.set.name,
                        "Id": id,
                        "ARN": arn,
                        "IPAddressVersion": if v6 { "IPV6" } else { "IPV4" },
                        "Addresses": s.addresses.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    },
                    "LockToken": derived("lock", id),
                }),
            });
        }
        for (i, a) in w.web_acls.iter().enumerate() {
            let mut acl = a.source.clone();
            api_blobs(&mut acl);
            if let Some(m) = acl.as_object_mut() {
                // Template-only properties get-web-acl does not print.
                m.remove("Scope");
                m.remove("Tags");
            }
            let resources: Vec<&str> = w
                .associations
                .iter()
                .filter(|x| x.web_acl == i)
                .map(|x| x.resource_id.as_str())
                .collect();
            let id = a.origin.id.rsplit('/').next().unwrap_or_default();
            out.push(ExportFile {
                name: format!("WebACL-{}.json", file_part(&a.acl.name)),
                json: json!({"WebACL": acl, "LockToken": derived("lock", id), "ResourceArns": resources}),
            });
        }
        out
    }
}
