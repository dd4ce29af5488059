//! AWS WAF (v2) from `aws wafv2` output (SPEC §19): `get-ip-set` (`IPSet`) and `get-web-acl`
//! (`WebACL`), one file per resource. A web ACL's file carries the `ResourceArns` of
//! `list-resources-for-web-acl` beside its `WebACL`: they are its associations. Rules have the
//! shape of the CloudFormation properties (blobs aside: the CLI prints `SearchString`
//! base64-encoded) and are read by the template loader's own rules.

use super::{list, s, Item, Items, Reader};
use crate::load::api_shapes;
use crate::model::*;
use serde_json::{Map, Value};
use std::sync::Arc;

const IP_SET: &str = "AWS::WAFv2::IPSet";
const WEB_ACL: &str = "AWS::WAFv2::WebACL";
const WEB_ACL_ASSOCIATION: &str = "AWS::WAFv2::WebACLAssociation";

/// A whole `get-web-acl` or `get-ip-set` file; `Err` gives back any other file.
pub(super) fn take_call(
    file: usize,
    map: Map<String, Value>,
    items: &mut Items,
) -> Result<(), Map<String, Value>> {
    let target = if map.get("WebACL").is_some_and(Value::is_object) {
        &mut items.web_acls
    } else if map.get("IPSet").is_some_and(Value::is_object) {
        &mut items.waf_ip_sets
    } else {
        return Err(map);
    };
    target.push(Item {
        file,
        v: Value::Object(map),
    });
    Ok(())
}

/// `SearchString` as the API prints it (base64) under the name the template loader decodes.
fn api_blobs(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.remove("SearchString") {
                m.insert("SearchStringBase64".into(), x);
            }
            m.values_mut().for_each(api_blobs);
        }
        Value::Array(a) => a.iter_mut().for_each(api_blobs),
        _ => {}
    }
}

impl Reader {
    pub(super) fn add_waf(&mut self, items: &Items) {
        for it in &items.waf_ip_sets {
            self.add_waf_ip_set(it);
        }
        for it in &items.web_acls {
            self.add_web_acl(it);
        }
    }

    fn add_waf_ip_set(&mut self, it: &Item) {
        let part = Item {
            file: it.file,
            v: it.v["IPSet"].clone(),
        };
        let arn = s(&part.v, "ARN").unwrap_or_default().to_string();
        let set = match api_shapes::waf_ip_set(&part.v) {
            Ok(x) => x,
            Err(p) => return self.refuse(it, &arn, p),
        };
        let Some(mut origin) = self.origin(&part, Some(&arn), IP_SET, "ARN") else {
            return;
        };
        origin.name = s(&part.v, "Name").map(str::to_string);
        let addresses = list(&part.v, "Addresses")
            .iter()
            .filter_map(|a| a.as_str()?.parse().ok())
            .collect();
        self.model.waf.ip_sets.push(WafIpSet {
            origin,
            set: Arc::new(set),
            addresses,
        });
    }

    fn add_web_acl(&mut self, it: &Item) {
        let mut source = it.v["WebACL"].clone();
        let arn = s(&source, "ARN").unwrap_or_default().to_string();
        api_blobs(&mut source);
        let account = self.model.templates[it.file].account_id.clone();
        let (acl, warnings) = match api_shapes::waf_web_acl(&self.model.waf, &account, &source) {
            Ok(x) => x,
            Err(p) => return self.refuse(it, &arn, p),
        };
        for (code, message) in warnings {
            self.warn(it.file, &arn, code, message);
        }
        let part = Item {
            file: it.file,
            v: source.clone(),
        };
        let Some(mut origin) = self.origin(&part, Some(&arn), WEB_ACL, "ARN") else {
            return;
        };
        origin.name = s(&source, "Name").map(str::to_string);
        let web_acl = self.model.waf.web_acls.len();
        self.model.waf.web_acls.push(WafWebAcl {
            origin,
            acl,
            source,
        });
        for resource in list(&it.v, "ResourceArns").iter().filter_map(Value::as_str) {
            let origin = Origin {
                template: it.file,
                logical_id: format!("{arn}|{resource}"),
                id: format!("{arn}|{resource}"),
                name: None,
                kind: WEB_ACL_ASSOCIATION.into(),
            };
            self.model.waf.associations.push(WafAssociation {
                origin: origin.clone(),
                resource_id: resource.to_string(),
                resource_logical_id: None,
                web_acl,
            });
            self.model.links.push(origin);
        }
    }
}
