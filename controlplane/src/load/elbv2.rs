//! What all Elastic Load Balancing v2 resources share: the `AWS::ElasticLoadBalancingV2` types,
//! their `Key`/`Value` attribute lists, names and ARNs, and the choice, by load balancer type or
//! target group protocol, between Network (`super::nlb`), Gateway (`super::gwlb`) and
//! Application (`super::alb`) Load Balancers, and the subnet and target checks all three make.

use super::*;

pub(super) const LOAD_BALANCER: &str = "AWS::ElasticLoadBalancingV2::LoadBalancer";
pub(super) const LISTENER: &str = "AWS::ElasticLoadBalancingV2::Listener";
pub(super) const TARGET_GROUP: &str = "AWS::ElasticLoadBalancingV2::TargetGroup";

/// `Key`/`Value` attribute lists (`LoadBalancerAttributes`, `TargetGroupAttributes`).
pub(super) fn attribute(p: &Value, list: &str, key: &str) -> R<Option<String>> {
    for a in opt_list(p, list)? {
        if a.get("Key").and_then(Value::as_str) == Some(key) {
            return Ok(a.get("Value").and_then(props::scalar_string));
        }
    }
    Ok(None)
}

pub(super) fn bool_attribute(p: &Value, list: &str, key: &str) -> R<Option<bool>> {
    match attribute(p, list, key)?.as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(Problem::new(
            "ValidationError",
            format!("{list} {key}: {other:?} is neither true nor false"),
        )),
    }
}

pub(super) fn port(p: &Value, key: &str) -> R<Option<u16>> {
    match opt_int(p, key)? {
        None => Ok(None),
        Some(n) if (1..=65535).contains(&n) => Ok(Some(n as u16)),
        Some(n) => Err(Problem::new(
            "ValidationError",
            format!("{key} {n} is not a port (1-65535)"),
        )),
    }
}

/// An integer setting with its AWS range and default.
pub(super) fn ranged(
    p: &Value,
    key: &str,
    range: std::ops::RangeInclusive<i64>,
    default: u32,
) -> R<u32> {
    match opt_int(p, key)? {
        None => Ok(default),
        Some(n) if range.contains(&n) => Ok(n as u32),
        Some(n) => Err(Problem::new(
            "ValidationError",
            format!(
                "{key} {n} is out of range ({}-{})",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// `Matcher.HttpCode` of an HTTP(S) health check (`default` when absent, codes within
/// `allowed`); a TCP check takes none.
pub(super) fn matcher(
    p: &Value,
    http: bool,
    default: &str,
    allowed: std::ops::RangeInclusive<u16>,
) -> R<Option<vpcsim_dataplane::topology::target_health::HttpCodes>> {
    use vpcsim_dataplane::topology::target_health::HttpCodes;
    let given = match get(p, "Matcher") {
        Some(m) => opt_str(m, "HttpCode")?,
        None => None,
    };
    match (http, given) {
        (false, None) => Ok(None),
        (false, Some(_)) => Err(Problem::new(
            "ValidationError",
            "Matcher: a TCP health check takes no HTTP codes",
        )),
        (true, given) => HttpCodes::parse(given.as_deref().unwrap_or(default), allowed)
            .map(Some)
            .map_err(|e| Problem::new("ValidationError", format!("Matcher: {e}"))),
    }
}

/// The 16 hex digits ELB ARNs end with, from the simulator's deterministic id.
pub(super) fn arn_suffix(o: &Origin) -> String {
    o.id.rsplit('-')
        .next()
        .unwrap_or("0")
        .chars()
        .take(16)
        .collect()
}

pub(super) fn elb_arn(m: &Model, o: &Origin, path: &str) -> String {
    let t = &m.templates[o.template];
    format!(
        "arn:aws:elasticloadbalancing:{}:{}:{path}",
        t.region, t.account_id
    )
}

/// A generated name: at most 32 characters, as AWS allows.
fn generated_name(m: &Model, o: &Origin) -> String {
    let stack = &m.templates[o.template].stack_name;
    let mut base: String = format!("{stack}-{}", o.logical_id)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(19)
        .collect();
    base.push('-');
    base.push_str(&arn_suffix(o)[..12]);
    base
}

/// The resource's `Name` (as AWS checks it: 1–32 characters, no leading or trailing hyphen) or a
/// generated one; the origin's id becomes the ARN `…:{kind}/{name}/{suffix}`, where `kind` is
/// `loadbalancer/net`, `loadbalancer/gwy` or `targetgroup`. Returns the name and the suffix.
pub(super) fn name_and_arn(
    m: &Model,
    p: &Value,
    origin: &mut Origin,
    kind: &str,
) -> Result<(String, String), Problem> {
    let name = match opt_str(p, "Name")? {
        Some(n) if n.is_empty() || n.len() > 32 || n.starts_with('-') || n.ends_with('-') => {
            return Err(Problem::new(
                "ValidationError",
                format!("Name {n:?}: 1-32 characters, no leading or trailing hyphen"),
            ))
        }
        Some(n) => n,
        None => generated_name(m, origin),
    };
    let suffix = arn_suffix(origin);
    origin.id = elb_arn(m, origin, &format!("{kind}/{name}/{suffix}"));
    Ok((name, suffix))
}

impl Builder {
    /// `AWS::ElasticLoadBalancingV2::LoadBalancer`, by its `Type`.
    pub(super) fn add_load_balancer(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        if super::gwlb::is_gateway(p) {
            return self.add_gateway_load_balancer(t, lid, p);
        }
        if super::alb::is_application(p) {
            return self.add_application_load_balancer(t, lid, p);
        }
        if !super::nlb::is_network(p) {
            self.keep_unsupported(self.origin(t, lid, LOAD_BALANCER, props::name_tag(p)));
            return Ok(());
        }
        self.add_network_load_balancer(t, lid, p)
    }

    /// `AWS::ElasticLoadBalancingV2::TargetGroup`: GENEVE groups serve Gateway Load Balancers.
    pub(super) fn add_target_group(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        if opt_str(p, "Protocol")?.as_deref() == Some("GENEVE") {
            return self.add_gwlb_target_group(t, lid, p);
        }
        if super::alb::is_application_group(p) {
            return self.add_alb_target_group(t, lid, p);
        }
        self.add_nlb_target_group(t, lid, p)
    }

    /// `AWS::ElasticLoadBalancingV2::Listener`, by the type of its load balancer.
    pub(super) fn add_listener(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let lb_id = req_str(p, "LoadBalancerArn")?;
        match self.lookup(&lb_id) {
            Some(Ref::LoadBalancer(i)) => self.add_nlb_listener(t, lid, i, p),
            Some(Ref::GatewayLoadBalancer(i)) => self.add_gwlb_listener(t, lid, i, p),
            Some(Ref::AppLoadBalancer(i)) => self.add_alb_listener(t, lid, i, p),
            // A listener of a load balancer vpcsim does not model.
            Some(Ref::Unsupported(_)) => {
                self.keep_unsupported(self.origin(t, lid, LISTENER, props::name_tag(p)));
                Ok(())
            }
            Some(Ref::Failed) => Err(Problem::quiet()),
            _ => Err(Problem::new(
                "LoadBalancerNotFound",
                format!("LoadBalancerArn {lb_id} is not a load balancer of the loaded topology"),
            )),
        }
    }
}

impl Builder {
    /// A load balancer's subnets checked as Elastic Load Balancing does: all in one VPC and at
    /// most one per Availability Zone. Returns the number of zones (one per subnet).
    pub(super) fn check_load_balancer_subnets(&self, subnets: &[usize]) -> R<usize> {
        let Some(&first) = subnets.first() else {
            return Err(Problem::new(
                "ValidationError",
                "a load balancer needs Subnets or SubnetMappings",
            ));
        };
        let vpc = self.model.subnets[first].vpc;
        let mut zones: Vec<&str> = Vec::new();
        for &s in subnets {
            let sub = &self.model.subnets[s];
            if sub.vpc != vpc {
                return Err(Problem::new(
                    "InvalidConfigurationRequest",
                    format!(
                        "subnet {} is in another VPC than {}",
                        sub.origin.logical_id, self.model.subnets[first].origin.logical_id
                    ),
                ));
            }
            if zones.contains(&sub.availability_zone.as_str()) {
                return Err(Problem::new(
                    "InvalidConfigurationRequest",
                    format!(
                        "a load balancer has one subnet per Availability Zone; {} has two",
                        sub.availability_zone
                    ),
                ));
            }
            zones.push(&sub.availability_zone);
        }
        Ok(zones.len())
    }
}

/// The ARN of a resource that lives under another (a listener under its load balancer, a rule
/// under its listener): `<kind>/<the parent's path after its own kind>/<suffix>`, as ELB writes them.
pub(super) fn child_arn(
    m: &Model,
    origin: &Origin,
    parent_arn: &str,
    parent_kind: &str,
    kind: &str,
) -> String {
    let parent_path = parent_arn
        .split_once(&format!(":{parent_kind}/"))
        .map_or("", |(_, rest)| rest);
    elb_arn(
        m,
        origin,
        &format!("{kind}/{parent_path}/{}", arn_suffix(origin)),
    )
}

/// Add a registered target to a group's list, refusing the same id twice on one port as
/// `RegisterTargets` does.
pub(super) fn push_target(targets: &mut Vec<Target>, t: Target) -> R<()> {
    if targets.iter().any(|x| x.id == t.id && x.port == t.port) {
        return Err(Problem::new(
            "ValidationError",
            format!("target {} is registered twice on the same port", t.id),
        ));
    }
    targets.push(t);
    Ok(())
}

/// `Fn::GetAtt` of a load balancer, for the attributes every type has; `zone` is the Route 53
/// zone of its DNS names (per type, in us-east-1).
pub(super) fn load_balancer_attribute(
    m: &Model,
    origin: &Origin,
    name: &str,
    dns_name: &str,
    zone: &str,
    security_groups: &[usize],
    attr: &str,
) -> Option<Value> {
    Some(match attr {
        "DNSName" => json!(dns_name),
        "LoadBalancerArn" => json!(origin.id),
        "LoadBalancerName" => json!(name),
        "LoadBalancerFullName" => json!(origin
            .id
            .split_once(":loadbalancer/")
            .map_or("", |(_, rest)| rest)),
        "CanonicalHostedZoneID" => json!(zone),
        "SecurityGroups" => json!(security_groups
            .iter()
            .map(|&g| m.security_groups[g].origin.id.clone())
            .collect::<Vec<_>>()),
        _ => return None,
    })
}

/// `Fn::GetAtt` of a target group, for the attributes every type has.
pub(super) fn target_group_attribute(origin: &Origin, name: &str, attr: &str) -> Option<Value> {
    Some(match attr {
        "TargetGroupArn" => json!(origin.id),
        "TargetGroupName" => json!(name),
        "TargetGroupFullName" => json!(origin
            .id
            .split_once(":targetgroup/")
            .map_or(String::new(), |(_, rest)| format!("targetgroup/{rest}"))),
        _ => return None,
    })
}
