//! The files of a snapshot directory: every `.json` file under it (or under its
//! `aws_configs/`), its account and Region from the folders around it, and its top-level keys
//! sorted into the describe-* lists the model is built from.

use super::{list, s, tag, types, Item, Items, Reader, Ref, INFORMATIONAL_KEYS, UNSUPPORTED_KEYS};
use crate::load::{display_path, Diagnostic, LoadOptions, Severity};
use crate::model::*;
use crate::snapshot::SUPPORTED_KEYS;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The largest snapshot file read (256 MiB): describe-* output of the largest accounts is a few
/// tens of MiB, and a bound keeps a stray device or a runaway file from exhausting memory.
pub const MAX_SNAPSHOT_FILE_BYTES: u64 = 256 << 20;

/// One file of a snapshot held in memory: its path inside the snapshot (the folders around it
/// give account and Region, as on disk) and its contents.
#[derive(Clone, Debug)]
pub struct SnapshotFile {
    /// Where the file sits, e.g. `aws_configs/accounts/111122223333/eu-west-1/vpcs.json`.
    pub path: PathBuf,
    /// The file's bytes (describe-* JSON).
    pub bytes: Vec<u8>,
}

impl Reader {
    pub(super) fn read_dir(&mut self, dir: &Path, opts: &LoadOptions, items: &mut Items) {
        let nested = dir.join("aws_configs");
        let root = if nested.is_dir() {
            nested
        } else {
            dir.to_path_buf()
        };
        let mut files = Vec::new();
        if let Err(e) = json_files(&root, &mut files) {
            self.diags.push(Diagnostic {
                severity: Severity::Error,
                file: dir.to_path_buf(),
                logical_id: None,
                code: "InvalidSnapshot.Directory".into(),
                message: format!("cannot read the snapshot directory: {e}"),
            });
            return;
        }
        if files.is_empty() {
            self.diags.push(Diagnostic {
                severity: Severity::Error,
                file: dir.to_path_buf(),
                logical_id: None,
                code: "InvalidSnapshot.Empty".into(),
                message: "no .json files: a snapshot holds the output of aws ec2 describe-* calls, one file per call".into(),
            });
        }
        let stack = display_path(dir);
        for path in files {
            let rel = path.strip_prefix(&root).unwrap_or(&path).to_path_buf();
            match read_regular_file(&path) {
                Ok(bytes) => self.read_file(&stack, path, &rel, &bytes, opts, items),
                Err((code, message)) => self.diags.push(Diagnostic {
                    severity: Severity::Error,
                    file: path,
                    logical_id: None,
                    code: code.into(),
                    message,
                }),
            }
        }
    }

    /// Files given in memory ([`super::load_snapshot_files`]), as one snapshot.
    pub(super) fn read_memory(
        &mut self,
        files: &[SnapshotFile],
        opts: &LoadOptions,
        items: &mut Items,
    ) {
        for f in files {
            let rel = f.path.strip_prefix("aws_configs").unwrap_or(&f.path);
            if f.bytes.len() as u64 > MAX_SNAPSHOT_FILE_BYTES {
                self.diags.push(Diagnostic {
                    severity: Severity::Error,
                    file: f.path.clone(),
                    logical_id: None,
                    code: "InvalidSnapshot.TooLarge".into(),
                    message: too_large(f.bytes.len() as u64),
                });
                continue;
            }
            self.read_file("memory", f.path.clone(), rel, &f.bytes, opts, items);
        }
    }

    /// One describe-* file: `rel` is its path below the snapshot root (`aws_configs/`).
    fn read_file(
        &mut self,
        stack: &str,
        path: PathBuf,
        rel: &Path,
        bytes: &[u8],
        opts: &LoadOptions,
        items: &mut Items,
    ) {
        let (region, account_id) = place(rel, opts);
        let file = self.model.templates.len();
        self.model.templates.push(TemplateInfo {
            path,
            stack_name: stack.to_string(),
            region,
            account_id,
        });
        let value = match types::parse_strict(bytes) {
            Ok(v) => v,
            Err(e) => {
                let code = if e.to_string().starts_with("duplicate key") {
                    "InvalidSnapshot.DuplicateKey"
                } else {
                    "InvalidSnapshot.Json"
                };
                self.error(file, "", code, e.to_string());
                return;
            }
        };
        let Value::Object(map) = value else {
            self.warn(
                file,
                "",
                "InvalidSnapshot.NotDescribeOutput",
                "not the output of a describe-* call (a JSON object such as {\"Vpcs\": [...]}): ignored".into(),
            );
            return;
        };
        let Err(map) = super::network_firewall::take_call(file, map, items) else {
            return;
        };
        let Err(map) = super::route53::take_call(file, map, items) else {
            return;
        };
        let Err(map) = super::waf::take_call(file, map, items) else {
            return;
        };
        let keys = map.len();
        let mut unknown = Vec::new();
        for (key, v) in map {
            self.read_key(file, &key, v, items, &mut unknown);
        }
        let listed = unknown
            .iter()
            .map(|k| format!("{k:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        if !unknown.is_empty() && unknown.len() == keys {
            // Other JSON that happens to sit in the directory (router configs, notes).
            self.warn(
                file,
                "",
                "InvalidSnapshot.NotDescribeOutput",
                format!("top-level key {listed} is not the output of a describe-* call vpcsim knows: the file is ignored"),
            );
        } else if !unknown.is_empty() {
            let known: Vec<&str> = SUPPORTED_KEYS.iter().map(|(k, _)| *k).collect();
            self.error(
                file,
                "",
                "InvalidSnapshot.UnknownKey",
                format!(
                    "top-level key {listed} is not the output of a describe-* call vpcsim knows and is ignored (read: {})",
                    known.join(", ")
                ),
            );
        }
    }

    fn read_key(
        &mut self,
        file: usize,
        key: &str,
        v: Value,
        items: &mut Items,
        unknown: &mut Vec<String>,
    ) {
        let target = match key {
            "Vpcs" => &mut items.vpcs,
            "Subnets" => &mut items.subnets,
            "RouteTables" => &mut items.route_tables,
            "NetworkAcls" => &mut items.nacls,
            "SecurityGroups" => &mut items.sgs,
            "Reservations" | "Instances" => &mut items.instances,
            "NetworkInterfaces" => &mut items.enis,
            "InternetGateways" => &mut items.igws,
            "EgressOnlyInternetGateways" => &mut items.eigws,
            "NatGateways" => &mut items.nats,
            "Addresses" => &mut items.addresses,
            "VpcPeeringConnections" => &mut items.peerings,
            "PrefixLists" => &mut items.prefix_lists,
            "TransitGateways" => &mut items.tgws,
            "TransitGatewayRouteTables" => &mut items.tgw_route_tables,
            "TransitGatewayVpcAttachments" => &mut items.tgw_vpc_attachments,
            "TransitGatewayAttachments" => &mut items.tgw_attachments,
            "TransitGatewayPeeringAttachments" => &mut items.tgw_peerings,
            "TransitGatewayPropagations" => &mut items.tgw_propagations,
            "TransitGatewayStaticRoutes" => &mut items.tgw_static_routes,
            "VpnGateways" => &mut items.vgws,
            "CustomerGateways" => &mut items.cgws,
            "VpnConnections" => &mut items.vpns,
            "VpcEndpoints" => &mut items.endpoints,
            "LoadBalancers" => &mut items.load_balancers,
            "TargetGroups" => &mut items.target_groups,
            "LoadBalancerListeners" | "Listeners" => &mut items.listeners,
            "LoadBalancerAttributes" => &mut items.lb_attributes,
            "TargetGroupAttributes" => &mut items.tg_attributes,
            "LoadBalancerTargetHealth" => &mut items.target_health,
            "ListenerRules" => &mut items.alb_rules,
            "AutoScalingGroups" => &mut items.auto_scaling_groups,
            "HostedZones" => &mut items.hosted_zones,
            "HostedZoneRecordSets" => &mut items.record_sets,
            "HealthChecks" => &mut items.health_checks,
            "VpcAttributes" => &mut items.vpc_attributes,
            "ResolverEndpoints" => &mut items.resolver_endpoints,
            "ResolverEndpointIpAddresses" => &mut items.resolver_ip_addresses,
            "ResolverRules" => &mut items.resolver_rules,
            "ResolverRuleAssociations" => &mut items.resolver_rule_associations,
            "FirewallDomainLists" => &mut items.firewall_domain_lists,
            "FirewallDomainListDomains" => &mut items.firewall_domains,
            "FirewallRuleGroups" => &mut items.dns_firewall_groups,
            "FirewallRules" => &mut items.dns_firewall_rules,
            "FirewallRuleGroupAssociations" => &mut items.dns_firewall_associations,
            _ if INFORMATIONAL_KEYS.contains(&key) => return,
            _ => {
                if let Some(&(_, kind, id_field)) =
                    UNSUPPORTED_KEYS.iter().find(|(k, _, _)| *k == key)
                {
                    self.unsupported(file, key, kind, id_field, &v);
                } else {
                    unknown.push(key.to_string());
                }
                return;
            }
        };
        let Value::Array(entries) = v else {
            self.error(
                file,
                "",
                "InvalidSnapshot.Json",
                format!("{key} must be a list"),
            );
            return;
        };
        let mut entries = entries;
        if key == "Reservations" {
            entries = entries
                .iter()
                .flat_map(|r| list(r, "Instances").iter().cloned())
                .collect();
        }
        let instances = matches!(key, "Reservations" | "Instances");
        let id_field = types::id_field(key);
        for v in entries {
            match types::wrong_type(&v, instances) {
                None => target.push(Item { file, v }),
                Some((field, expected)) => {
                    // The entry is left out; what refers to it is a follow-on, not reported.
                    let id = s(&v, id_field).unwrap_or_default().to_string();
                    let got = v.pointer(&pointer(&field)).map(short).unwrap_or_default();
                    self.error(
                        file,
                        &id,
                        "InvalidSnapshot.Type",
                        format!("{key}: {field} must be {expected}, not {got}"),
                    );
                    self.skip(&id);
                }
            }
        }
    }

    pub(super) fn unsupported(
        &mut self,
        file: usize,
        key: &str,
        kind: &'static str,
        id_field: &str,
        v: &Value,
    ) {
        let entries: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        for (i, e) in entries.into_iter().enumerate() {
            let id = s(e, id_field)
                .map(str::to_string)
                .or_else(|| {
                    e.as_object()?.iter().find_map(|(k, v)| {
                        (k.ends_with("Id") || k.ends_with("Arn"))
                            .then(|| v.as_str().map(str::to_string))
                            .flatten()
                    })
                })
                .unwrap_or_else(|| format!("{key}[{i}]"));
            self.by_id.entry(id.clone()).or_insert(Ref::Unsupported);
            let name = tag(e, "Name").map(str::to_string);
            self.model.unsupported.push(Unsupported {
                origin: Origin {
                    template: file,
                    logical_id: id.clone(),
                    id,
                    name,
                    kind: kind.into(),
                },
            });
        }
    }
}

/// A JSON pointer for a field path like `IpPermissions[0].FromPort`.
fn pointer(path: &str) -> String {
    let mut p = String::new();
    for part in path.split('.') {
        let (name, index) = part.split_once('[').unwrap_or((part, ""));
        p.push('/');
        p.push_str(&name.replace('~', "~0").replace('/', "~1"));
        if let Some(i) = index.strip_suffix(']') {
            p.push('/');
            p.push_str(i);
        }
    }
    p
}

/// A value as a message shows it: JSON, cut short.
fn short(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

fn too_large(len: u64) -> String {
    format!(
        "{len} bytes: a snapshot file is read only up to {} MiB",
        MAX_SNAPSHOT_FILE_BYTES >> 20
    )
}

/// The `.json` entries below `dir`, sorted. Symbolic links are not followed into directories, so
/// a link to a parent cannot make the walk endless; what they point at is checked on reading.
fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<(PathBuf, bool)> = std::fs::read_dir(dir)?
        .filter_map(|e| {
            let e = e.ok()?;
            let is_dir = e.file_type().ok()?.is_dir();
            Some((e.path(), is_dir))
        })
        .collect();
    entries.sort();
    for (p, is_dir) in entries {
        if is_dir {
            json_files(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
    Ok(())
}

/// A file's bytes, if it is a regular file (or a link to one) of at most
/// [`MAX_SNAPSHOT_FILE_BYTES`]; otherwise the code and message of the refusal.
fn read_regular_file(path: &Path) -> Result<Vec<u8>, (&'static str, String)> {
    use std::io::Read;
    let unreadable = |e: std::io::Error| {
        (
            "InvalidSnapshot.Unreadable",
            format!("cannot read the file: {e}"),
        )
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err((
            "InvalidSnapshot.NotRegularFile",
            "not a regular file (a device, pipe, socket or directory): only regular files and links to them are read".into(),
        ));
    }
    if meta.len() > MAX_SNAPSHOT_FILE_BYTES {
        return Err(("InvalidSnapshot.TooLarge", too_large(meta.len())));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow between the size check and the read.
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SNAPSHOT_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_SNAPSHOT_FILE_BYTES {
        return Err(("InvalidSnapshot.TooLarge", too_large(bytes.len() as u64)));
    }
    Ok(bytes)
}

/// Region and account from `[accounts/]<account>/<region>/file.json` below `aws_configs/`.
fn place(rel: &Path, opts: &LoadOptions) -> (String, String) {
    let (mut region, mut account) = (opts.region.clone(), opts.account_id.clone());
    let parts: Vec<String> = rel
        .parent()
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for part in parts {
        let looks_like_region = part.split('-').count() >= 3
            && part.chars().last().is_some_and(|c| c.is_ascii_digit())
            && part.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if looks_like_region {
            region = part;
        } else if part != "accounts" {
            account = part;
        }
    }
    (region, account)
}
