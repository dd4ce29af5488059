//! Loading topologies from the command line: `--topology`, `--param`, `--import`.

use super::names;
use super::stdio::errln;
use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;
use vpcsim_controlplane::load::{load_stacks, StackFile};
use vpcsim_controlplane::quotas::{parse_quota, Quotas};
use vpcsim_controlplane::snapshot::load_snapshot;
use vpcsim_controlplane::{compile, Diagnostic, LoadOptions, Loaded, Severity};
use vpcsim_dataplane::reach::Start;
use vpcsim_dataplane::state::conntrack::Timeouts;
use vpcsim_dataplane::{Origin, StateConfig, Topology};

#[derive(Args, Debug, Clone)]
pub struct TopologyArgs {
    /// CloudFormation template (YAML or JSON), `terraform show -json` output (a state or a
    /// plan), or a directory holding a describe-* snapshot of a
    /// real account (`aws ec2 describe-*` output, one file per call, or
    /// `aws_configs/[account]/[region]/*.json`; `vpcsim export` writes one). Repeat to load
    /// several stacks (or snapshot directories) into one topology; exports of earlier templates
    /// satisfy Fn::ImportValue in later ones. `NAME=FILE` (or `--stack NAME=FILE`) names the
    /// stack; by default it is the file name without its extension. Templates given with
    /// snapshot directories are deployed into that account.
    #[arg(
        long = "topology",
        short = 't',
        visible_alias = "stack",
        value_name = "[NAME=]FILE|DIR",
        required = true
    )]
    pub topology: Vec<PathBuf>,
    /// Template parameter value, overriding its Default (repeatable). `STACK:KEY=VALUE` sets it
    /// for one stack only; a VALUE (or list item) `STACK.LOGICALID` is that resource's Ref.
    #[arg(long = "param", value_name = "[STACK:]KEY=VALUE", value_parser = parse_key_value)]
    pub params: Vec<(String, String)>,
    /// Value of Fn::GetAtt of a custom resource, which vpcsim cannot run (repeatable).
    #[arg(long = "custom-attr", value_name = "STACK.LOGICALID.ATTR=VALUE", value_parser = parse_key_value)]
    pub custom_attrs: Vec<(String, String)>,
    /// An endpoint service (its ServiceName) outside the loaded templates; Gateway Load
    /// Balancer endpoints of it load, and traffic routed to them goes nowhere (repeatable).
    #[arg(long = "endpoint-service", value_name = "NAME")]
    pub endpoint_services: Vec<String>,
    /// Value for an Fn::ImportValue export the templates do not define themselves (repeatable).
    #[arg(long = "import", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    pub imports: Vec<(String, String)>,
    /// AWS::Region of the stacks.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// AWS::AccountId of the stacks (also the account in flow logs).
    #[arg(long, default_value = "123456789012")]
    pub account_id: String,
    /// Create the account's default VPC (172.31.0.0/16, a default /20 subnet with public IPs
    /// in every zone, an internet gateway) even when no template needs it; it is created
    /// anyway for security groups without VpcId and instances without a subnet.
    #[arg(long)]
    pub default_vpc: bool,
    /// The Availability Zones of a Region, replacing the built-in list (repeatable), e.g.
    /// `--zones us-east-1=us-east-1a,us-east-1b`. Subnets in other zones are refused.
    #[arg(long = "zones", value_name = "REGION=ZONE,...", value_parser = parse_zones)]
    pub zones: Vec<(String, Vec<String>)>,
    /// Target health of Network Load Balancer targets, overriding the health vpcsim computes:
    /// JSON like `aws elbv2 describe-target-health` output with the group added, e.g.
    /// `[{"TargetGroup": "WebTargets", "Target": {"Id": "i-…", "Port": 80}, "TargetHealth": {"State": "unhealthy"}}]`.
    #[arg(long, value_name = "FILE")]
    pub target_health: Option<PathBuf>,
    /// Treat every warning as an error: a partial snapshot (a reference to something it does
    /// not hold, a quota above AWS's default) then fails to load.
    #[arg(long)]
    pub strict: bool,
    /// Set an AWS quota to the value the account has (repeatable): rules-per-sg (default 60),
    /// cidrs-per-vpc (5), propagated-routes-per-route-table (100), addresses-per-nat-gateway (8).
    #[arg(long = "quota", value_name = "NAME=N", value_parser = parse_quota)]
    pub quotas: Vec<(String, u32)>,
    /// Names of the internet (and of on-premises resolvers that forwarding rules reach) that no
    /// hosted zone holds: a zone-file-like list, one record a line (`api.example.com. 60 IN A
    /// 203.0.113.10`; README "Route 53 and the VPC resolver").
    #[arg(long = "dns-records", value_name = "FILE")]
    pub dns_records: Option<PathBuf>,
    /// A Route 53 health check (logical id or id) that reports unhealthy (repeatable); every
    /// other health check is healthy.
    #[arg(long = "unhealthy-check", value_name = "HEALTHCHECK")]
    pub unhealthy_checks: Vec<String>,
}

/// Environment variable naming a file of AWS service address ranges in the format of AWS's
/// ip-ranges.json (its S3 and DYNAMODB entries feed the prefix lists of gateway endpoints),
/// replacing vpcsim's built-in subset: `curl -o ip-ranges.json
/// https://ip-ranges.amazonaws.com/ip-ranges.json; VPCSIM_SERVICE_RANGES=ip-ranges.json vpcsim ...`.
pub const SERVICE_RANGES_ENV: &str = "VPCSIM_SERVICE_RANGES";

/// `--param KEY=VALUE` and the like.
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

/// `--zones REGION=ZONE,ZONE,...`.
pub fn parse_zones(s: &str) -> Result<(String, Vec<String>), String> {
    let (region, zones) = parse_key_value(s)?;
    let zones: Vec<String> = zones
        .split(',')
        .map(|z| z.trim().to_string())
        .filter(|z| !z.is_empty())
        .collect();
    if zones.is_empty() {
        return Err(format!("expected REGION=ZONE,ZONE,..., got {s:?}"));
    }
    Ok((region, zones))
}

impl TopologyArgs {
    pub fn options(&self) -> LoadOptions {
        let mut quotas = Quotas::default();
        for (name, n) in &self.quotas {
            // parse_quota accepted the name.
            let _ = quotas.set(name, *n);
        }
        LoadOptions {
            quotas,
            region: self.region.clone(),
            account_id: self.account_id.clone(),
            parameters: self.params.iter().cloned().collect::<BTreeMap<_, _>>(),
            imports: self.imports.iter().cloned().collect::<BTreeMap<_, _>>(),
            service_ranges: std::env::var_os(SERVICE_RANGES_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            custom_attributes: self.custom_attrs.iter().cloned().collect(),
            endpoint_services: self.endpoint_services.clone(),
            default_vpc: self.default_vpc,
            zones: self.zones.iter().cloned().collect(),
        }
    }

    /// Load, with `--strict` making every warning an error.
    pub fn load(&self) -> Loaded {
        let mut loaded = self.load_lenient();
        if self.strict {
            for d in &mut loaded.diagnostics {
                d.severity = Severity::Error;
            }
        }
        loaded
    }

    fn load_lenient(&self) -> Loaded {
        let (dirs, stacks): (Vec<StackFile>, Vec<StackFile>) = self
            .topology
            .iter()
            .map(|p| StackFile::parse(p))
            .partition(|s| s.path.is_dir());
        if dirs.is_empty() {
            return load_stacks(&stacks, None, &self.options());
        }
        if let Some(named) = dirs.iter().find(|d| d.stack_name.is_some()) {
            return Loaded {
                diagnostics: vec![Diagnostic {
                    severity: Severity::Error,
                    file: named.path.clone(),
                    logical_id: None,
                    code: "ValidationError".into(),
                    message: "a snapshot directory is an account, not a stack: it takes no NAME="
                        .into(),
                }],
                ..Loaded::default()
            };
        }
        let dirs: Vec<PathBuf> = dirs.into_iter().map(|d| d.path).collect();
        let account = load_snapshot(&dirs, &self.options());
        if stacks.is_empty() {
            return account;
        }
        load_stacks(&stacks, Some(account), &self.options())
    }

    /// Load and compile, or print every error and return `Err` (exit code 2).
    pub fn topology(&self) -> Result<(Loaded, Topology), ()> {
        let loaded = self.load();
        let warnings = loaded.warnings().count();
        if warnings > 0 {
            errln!("{warnings} warnings; `vpcsim validate` lists them");
        }
        if loaded.has_errors() {
            for e in loaded.errors() {
                errln!("error: {e}");
            }
            errln!(
                "error: the topology has {} error(s); `vpcsim validate` lists them",
                loaded.errors().count()
            );
            return Err(());
        }
        let mut topo = compile(&loaded.model);
        if let Some(path) = &self.target_health {
            if let Err(e) = apply_target_health(&mut topo, path) {
                errln!("error: --target-health {}: {e}", path.display());
                return Err(());
            }
        }
        if let Err(e) = super::dns::apply_options(
            &mut topo,
            self.dns_records.as_deref(),
            &self.unhealthy_checks,
        ) {
            errln!("error: {e}");
            return Err(());
        }
        for a in &topo.ambiguous {
            errln!("warning: {a} belongs to interfaces in several VPCs; packets from it start at the first one loaded (use --from/--at)");
        }
        Ok((loaded, topo))
    }
}

/// State tunables shared by `trace`, `replay` and `gen`.
#[derive(Args, Debug, Clone)]
pub struct StateArgs {
    /// Tracked connections (all interfaces together) before new ones are refused with CONNTRACK_FULL.
    #[arg(long, default_value_t = 4_000_000, value_name = "N")]
    pub conntrack_capacity: usize,
    /// Network Load Balancer flows held at once before new ones are refused with
    /// NLB_FLOW_TABLE_FULL (at most 4,194,304).
    #[arg(long, default_value_t = 4_000_000, value_name = "N")]
    pub nlb_flow_capacity: usize,
    /// NAT gateway sessions held at once (every gateway together) before new connections are
    /// refused with NAT_TABLE_FULL; a bound of the simulator, not an AWS quota.
    #[arg(long, default_value_t = 4_000_000, value_name = "N")]
    pub nat_capacity: usize,
    /// IP datagrams whose fragments may be in flight at once (each held until all its bytes have
    /// passed or 30 s after its first fragment); past it first fragments are refused with
    /// FRAGMENT_TABLE_FULL.
    #[arg(long, default_value_t = 65_536, value_name = "N")]
    pub fragment_capacity: usize,
    /// Security-group idle timeout for established TCP, seconds (AWS: 432000; 350 on Nitro v6 types).
    #[arg(long, default_value_t = 432_000, value_name = "SECONDS")]
    pub tcp_established_timeout: u64,
    /// Security-group idle timeout for UDP flows with a single exchange, seconds (AWS: 30).
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub udp_timeout: u64,
    /// Security-group idle timeout for UDP streams, seconds (AWS: 180).
    #[arg(long, default_value_t = 180, value_name = "SECONDS")]
    pub udp_stream_timeout: u64,
}

impl StateArgs {
    pub fn config(&self) -> StateConfig {
        StateConfig {
            conntrack_capacity: self.conntrack_capacity,
            timeouts: Timeouts {
                tcp_established: self.tcp_established_timeout,
                udp: self.udp_timeout,
                udp_stream: self.udp_stream_timeout,
                ..Timeouts::default()
            },
            fragment_capacity: self.fragment_capacity,
            nlb_flow_capacity: self.nlb_flow_capacity,
            nat_capacity: self.nat_capacity,
            ..StateConfig::default()
        }
    }
}

/// Apply a `--target-health` file: a list of `{"TargetGroup" | "TargetGroupArn", "Target":
/// {"Id", "Port"}, "TargetHealth": {"State", "Reason"?, "Description"?}}` entries, or objects
/// holding the group and a `TargetHealthDescriptions` list as `aws elbv2 describe-target-health`
/// (and `vpcsim health --json`) prints it. Targets are named by their registered id (instance id
/// or address) or the instance's logical id. Without a `Reason`, the state's usual one is given.
pub fn apply_target_health(topo: &mut Topology, path: &std::path::Path) -> Result<(), String> {
    use serde_json::Value;
    use vpcsim_dataplane::topology::nlb::TargetHealth;
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let group_of = |v: &Value| {
        v.get("TargetGroup")
            .or_else(|| v.get("TargetGroupArn"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    // (group, target, port, health)
    let mut entries: Vec<(String, String, Option<u16>, TargetHealth)> = Vec::new();
    let mut add = |group: Option<String>, d: &Value| -> Result<(), String> {
        let group = group_of(d)
            .or(group)
            .ok_or_else(|| format!("entry without TargetGroup: {d}"))?;
        let target = d
            .get("Target")
            .ok_or_else(|| format!("entry without Target: {d}"))?;
        let (id, port) = match target {
            Value::String(s) => (s.clone(), None),
            t => (
                t.get("Id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("Target without Id: {d}"))?
                    .to_string(),
                t.get("Port").and_then(Value::as_u64).map(|p| p as u16),
            ),
        };
        entries.push((group, id, port, override_health(d)?));
        Ok(())
    };
    let items: Vec<&Value> = match &doc {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    for item in items {
        match item
            .get("TargetHealthDescriptions")
            .and_then(Value::as_array)
        {
            Some(list) => {
                for d in list {
                    add(group_of(item), d)?;
                }
            }
            None => add(None, item)?,
        }
    }
    for (group, target, port, health) in entries {
        match check_target_name(topo, &group, &target)? {
            HealthGroup::Network(_) => {
                let resources = &topo.resources;
                let names = |r: vpcsim_dataplane::ResId| {
                    let res = &resources[r];
                    (res.logical_id.as_str(), res.aws_id.as_str())
                };
                if !topo.nlb.set_health(names, &group, &target, port, &health) {
                    return Err(format!(
                        "no target {target}{} in target group {group}",
                        port.map(|p| format!(":{p}")).unwrap_or_default()
                    ));
                }
            }
            HealthGroup::Gateway(g) => {
                // Appliances receive GENEVE on 6081 only.
                if port.is_some_and(|p| p != vpcsim_dataplane::wire::geneve::PORT) {
                    return Err(format!(
                        "no target {target}:{} in target group {group} (appliances take port 6081)",
                        port.unwrap_or_default()
                    ));
                }
                let resources = &topo.resources;
                for t in &mut topo.gwlb.target_groups[g].targets {
                    if t.id == target || resources[t.res].logical_id == target {
                        t.health = health.clone();
                    }
                }
            }
        }
    }
    Ok(())
}

/// A target group `--target-health` names, of any kind of load balancer.
#[derive(Clone, Copy)]
enum HealthGroup {
    Network(vpcsim_dataplane::topology::TargetGroupIdx),
    Gateway(vpcsim_dataplane::topology::GwlbTargetGroupIdx),
}

/// The health one `--target-health` entry sets: its `TargetHealth` (or a bare `State`).
fn override_health(
    d: &serde_json::Value,
) -> Result<vpcsim_dataplane::topology::nlb::TargetHealth, String> {
    use serde_json::Value;
    use vpcsim_dataplane::topology::nlb::{HealthReason, HealthState, TargetHealth};
    let field = |key: &str| {
        d.get("TargetHealth")
            .and_then(|h| h.get(key))
            .or_else(|| d.get(key))
            .and_then(Value::as_str)
    };
    let state = field("State").ok_or_else(|| format!("entry without TargetHealth.State: {d}"))?;
    let all = |names: Vec<&str>| names.join(", ");
    let state = HealthState::parse(state).ok_or_else(|| {
        format!(
            "state {state:?}: expected {}",
            all(HealthState::ALL.iter().map(|s| s.as_str()).collect())
        )
    })?;
    let reason = match field("Reason") {
        None => state.default_reason(),
        Some(r) => Some(HealthReason::parse(r).ok_or_else(|| {
            format!(
                "reason {r:?}: expected one of {}",
                all(HealthReason::ALL.iter().map(|r| r.as_str()).collect())
            )
        })?),
    };
    Ok(TargetHealth {
        state,
        reason,
        description: field("Description")
            .map_or_else(|| "set by --target-health".into(), str::to_string),
        overridden: true,
    })
}

/// A `--target-health` entry's group and target exist (the port is `set_health`'s to check), or
/// the error names the closest ones.
fn check_target_name(topo: &Topology, group: &str, target: &str) -> Result<HealthGroup, String> {
    let candidate = |value, res: vpcsim_dataplane::ResId| {
        let res = topo.resource(res);
        names::Candidate {
            value,
            shown: res.logical_id.clone(),
            spellings: vec![res.logical_id.clone(), res.aws_id.clone()],
        }
    };
    let groups: Vec<names::Candidate<HealthGroup>> = topo
        .nlb
        .target_groups
        .iter_enumerated()
        .map(|(i, g)| candidate(HealthGroup::Network(i), g.res))
        .chain(
            topo.gwlb
                .target_groups
                .iter_enumerated()
                .map(|(i, g)| candidate(HealthGroup::Gateway(i), g.res)),
        )
        .collect();
    let noun = names::Noun::new("target group", "target groups");
    let found = names::lookup(group, &groups, &noun)?;
    let registered: Vec<(&str, vpcsim_dataplane::ResId)> = match found {
        HealthGroup::Network(g) => topo.nlb.target_groups[g]
            .targets
            .iter()
            .map(|t| (t.id.as_str(), t.res))
            .collect(),
        HealthGroup::Gateway(g) => topo.gwlb.target_groups[g]
            .targets
            .iter()
            .map(|t| (t.id.as_str(), t.res))
            .collect(),
    };
    let targets: Vec<names::Candidate<()>> = registered
        .iter()
        .map(|&(id, r)| {
            let res = topo.resource(r);
            let shown = match res.kind.as_str() {
                "AWS::EC2::Instance" => res.logical_id.clone(),
                _ => id.to_string(),
            };
            names::Candidate {
                value: (),
                shown,
                spellings: vec![id.to_string(), res.logical_id.clone()],
            }
        })
        .collect();
    if targets
        .iter()
        .any(|c| c.spellings.iter().any(|s| s == target))
    {
        return Ok(found);
    }
    let noun = names::Noun::new("target", "targets");
    Err(names::not_found(
        target,
        &targets,
        &noun,
        &format!(" in target group {group}"),
    ))
}

/// `--from` of trace and reach (and replay's `--at`): a logical id or AWS id of an instance,
/// network interface, customer gateway, VPN connection (its on-premises side) or transit gateway
/// attachment, or `internet`.
pub fn resolve_start(topo: &Topology, from: &str) -> Result<Start, String> {
    if from.eq_ignore_ascii_case("internet") {
        return Ok(Start::Internet);
    }
    let r = match topo.find_resource(from) {
        Some(r) => r,
        None => {
            let (candidates, noun) = names::resources(topo, |r| {
                topo.eni_by_resource(r).is_some()
                    || topo.tgw_attachment_by_resource(r).is_some()
                    || topo.vpn_connection_by_resource(r).is_some()
            });
            names::lookup(from, &candidates, &noun)?
        }
    };
    if let Some(e) = topo.eni_by_resource(r) {
        return Ok(Start::Eni(e));
    }
    if let Some(a) = topo.tgw_attachment_by_resource(r) {
        return Ok(Start::TgwAttachment(a));
    }
    if let Some(c) = topo.vpn_connection_by_resource(r) {
        return Ok(Start::OnPrem(c));
    }
    Err(format!(
        "--from {from}: {} is not an instance, network interface, customer gateway, VPN connection, virtual private gateway or transit gateway attachment",
        topo.resource(r).kind
    ))
}

/// Where a traced or replayed packet starts: [`resolve_start`], or with no `--from` the interface
/// that owns its source (else the VPN or the internet), as the pipeline decides.
pub fn origin(topo: &Topology, from: Option<&str>) -> Result<Origin, String> {
    from.map_or(Ok(Origin::Auto), |f| {
        resolve_start(topo, f).map(Start::origin)
    })
}

/// `--threads`: as many workers as asked, by default one per core.
pub fn worker_threads(n: Option<usize>) -> usize {
    n.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}
