//! Query-protocol parameters: the flat `Name.1.Sub.2=value` pairs that EC2 and the generic Query
//! services receive, and the structured views handlers read them through.
//!
//! EC2 flattens a list as `Name.N`; the generic Query protocol as `Name.member.N`. Indexes start
//! at 1 and are read in numeric order (`Name.10` after `Name.9`), as the services do.

use std::collections::BTreeMap;

use crate::error::ApiError;

/// The parameters of one request, keys exactly as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    map: BTreeMap<String, String>,
}

/// One `Filter.N` of a `Describe*` call: several values are OR-ed, several filters AND-ed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The filter's name, e.g. `vpc-id`, `tag:Name`.
    pub name: String,
    /// Its values; `*` and `?` are wildcards (SPEC.md §22.3).
    pub values: Vec<String>,
}

/// One `TagSpecification.N`: the tags to put on a resource of one type as it is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSpecification {
    /// `vpc`, `subnet`, `security-group`, `instance`, ...
    pub resource_type: String,
    /// Key and value, in request order.
    pub tags: Vec<(String, String)>,
}

impl Params {
    /// Decodes an `application/x-www-form-urlencoded` body or query string.
    pub fn from_form(body: &[u8]) -> Self {
        let map = form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Params { map }
    }

    /// Parameters from pairs (tests, and requests built in code).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Params {
            map: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// Every pair, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `true` when no parameter was sent.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// One parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// One parameter's value, or `MissingParameter`.
    pub fn require(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::missing_parameter(name))
    }

    /// A boolean parameter (`true`/`false`, case-insensitive); absent is `None`.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::invalid_value(name, v, "Expected true or false.")),
        }
    }

    /// An integer parameter; absent is `None`.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| ApiError::invalid_value(name, v, "Expected an integer."))
            })
            .transpose()
    }

    /// EC2's `DryRun=true`.
    pub fn dry_run(&self) -> Result<bool, ApiError> {
        Ok(self.bool("DryRun")?.unwrap_or(false))
    }

    /// The scalar members of an EC2 list: `Name.1`, `Name.2`, ...
    pub fn ec2_list(&self, name: &str) -> Vec<&str> {
        self.indexed(&format!("{name}."))
            .into_iter()
            .filter_map(|(rest, v)| (!rest.contains('.')).then_some(v))
            .collect()
    }

    /// The scalar members of a Query list: `Name.member.1`, `Name.member.2`, ...
    pub fn query_list(&self, name: &str) -> Vec<&str> {
        self.ec2_list(&format!("{name}.member"))
    }

    /// The structures of an EC2 list (`Name.N.Field...`), each as its own parameters with the
    /// `Name.N.` prefix removed, in index order.
    pub fn ec2_structs(&self, name: &str) -> Vec<Params> {
        self.structs(&format!("{name}."))
    }

    /// The structures of a Query list (`Name.member.N.Field...`).
    pub fn query_structs(&self, name: &str) -> Vec<Params> {
        self.structs(&format!("{name}.member."))
    }

    /// The members of a nested structure (`Name.Field`), with the `Name.` prefix removed.
    pub fn nested(&self, name: &str) -> Params {
        let prefix = format!("{name}.");
        Params {
            map: self
                .map
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|r| (r.to_string(), v.clone())))
                .collect(),
        }
    }

    /// A Query map (`Name.entry.N.key` / `.value`), in index order.
    pub fn query_map(&self, name: &str) -> Vec<(String, String)> {
        self.structs(&format!("{name}.entry."))
            .into_iter()
            .filter_map(|e| Some((e.get("key")?.to_string(), e.get("value")?.to_string())))
            .collect()
    }

    /// The `Filter.N.Name` / `Filter.N.Value.M` filters of a `Describe*` call.
    pub fn filters(&self) -> Result<Vec<Filter>, ApiError> {
        self.ec2_structs("Filter")
            .into_iter()
            .map(|f| {
                let name = f.require("Name")?.to_string();
                let values = f.ec2_list("Value").into_iter().map(String::from).collect();
                Ok(Filter { name, values })
            })
            .collect()
    }

    /// The `TagSpecification.N` of a create call.
    pub fn tag_specifications(&self) -> Result<Vec<TagSpecification>, ApiError> {
        self.ec2_structs("TagSpecification")
            .into_iter()
            .map(|s| {
                Ok(TagSpecification {
                    resource_type: s.require("ResourceType")?.to_string(),
                    tags: s.ec2_tags("Tag")?,
                })
            })
            .collect()
    }

    /// The tags of an EC2 `Name.N.Key` / `Name.N.Value` list (`CreateTags`' `Tag`).
    pub fn ec2_tags(&self, name: &str) -> Result<Vec<(String, String)>, ApiError> {
        self.ec2_structs(name)
            .into_iter()
            .map(|t| {
                Ok((
                    t.require("Key")?.to_string(),
                    t.get("Value").unwrap_or("").to_string(),
                ))
            })
            .collect()
    }

    /// As JSON (CloudTrail's `requestParameters`): structures and lists rebuilt from the flat
    /// keys, scalars as strings. Credentials never reach this: SigV4 travels in headers.
    pub fn to_json(&self) -> serde_json::Value {
        let mut root = serde_json::Map::new();
        for (k, v) in &self.map {
            if k == "Action" || k == "Version" {
                continue;
            }
            root.insert(k.clone(), serde_json::Value::String(v.clone()));
        }
        serde_json::Value::Object(root)
    }

    /// `(rest-after-prefix-and-index, value)` for every key under `prefix` followed by an
    /// index, sorted by the numeric index; `rest` keeps what follows the index (`""` or `.X`).
    fn indexed(&self, prefix: &str) -> Vec<(&str, &str)> {
        let mut found: Vec<(u32, &str, &str)> = self
            .map
            .iter()
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix(prefix)?;
                let (idx, rest) = rest.split_at(rest.find('.').unwrap_or(rest.len()));
                Some((idx.parse().ok()?, rest, v.as_str()))
            })
            .collect();
        found.sort_by_key(|(i, _, _)| *i);
        found.into_iter().map(|(_, r, v)| (r, v)).collect()
    }

    fn structs(&self, prefix: &str) -> Vec<Params> {
        let mut by_index: BTreeMap<u32, Params> = BTreeMap::new();
        for (k, v) in &self.map {
            let Some(rest) = k.strip_prefix(prefix) else {
                continue;
            };
            let Some((idx, field)) = rest.split_once('.') else {
                continue;
            };
            let Ok(idx) = idx.parse::<u32>() else {
                continue;
            };
            by_index
                .entry(idx)
                .or_default()
                .map
                .insert(field.to_string(), v.clone());
        }
        by_index.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2_lists_read_in_numeric_order() {
        let p = Params::from_form(b"VpcId.10=vpc-j&VpcId.2=vpc-b&VpcId.1=vpc-a");
        assert_eq!(p.ec2_list("VpcId"), vec!["vpc-a", "vpc-b", "vpc-j"]);
    }

    #[test]
    fn filters_and_tag_specifications() {
        let p = Params::from_form(
            b"Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1&Filter.1.Value.2=vpc-2&Filter.2.Name=tag%3AName&Filter.2.Value.1=web\
              &TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=prod",
        );
        let f = p.filters().unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].values, vec!["vpc-1", "vpc-2"]);
        assert_eq!(f[1].name, "tag:Name");
        let t = p.tag_specifications().unwrap();
        assert_eq!(t[0].resource_type, "vpc");
        assert_eq!(t[0].tags, vec![("Name".to_string(), "prod".to_string())]);
    }

    #[test]
    fn query_members_structs_and_maps() {
        let p = Params::from_form(
            b"Names.member.1=a&Names.member.2=b&Targets.member.1.Id=i-1&Targets.member.1.Port=80\
              &Attributes.entry.1.key=k&Attributes.entry.1.value=v",
        );
        assert_eq!(p.query_list("Names"), vec!["a", "b"]);
        let t = p.query_structs("Targets");
        assert_eq!(t[0].get("Port"), Some("80"));
        assert_eq!(p.query_map("Attributes"), vec![("k".into(), "v".into())]);
    }

    #[test]
    fn typed_values_report_bad_input() {
        let p = Params::from_form(b"DryRun=maybe&MaxResults=x");
        assert_eq!(p.dry_run().unwrap_err().code, "InvalidParameterValue");
        assert!(p.int("MaxResults").is_err());
        assert_eq!(p.require("VpcId").unwrap_err().code, "MissingParameter");
    }
}
