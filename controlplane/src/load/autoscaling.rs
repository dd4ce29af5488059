//! Loading EC2 Auto Scaling (SPEC §18): `AWS::EC2::LaunchTemplate`,
//! `AWS::AutoScaling::LaunchConfiguration` and `AWS::AutoScaling::AutoScalingGroup`. A group
//! launches `DesiredCapacity` instances when it is built, spread over its subnets' zones as AWS
//! balances them (§18.2), each named `<Group>/<n>` and registered in the group's target groups
//! (`super::targets`). Scaling and the replacement of unhealthy instances are not simulated.

use super::targets::Registration;
use super::*;

pub(super) const LAUNCH_TEMPLATE: &str = "AWS::EC2::LaunchTemplate";
pub(super) const LAUNCH_CONFIGURATION: &str = "AWS::AutoScaling::LaunchConfiguration";
pub(super) const AUTO_SCALING_GROUP: &str = "AWS::AutoScaling::AutoScalingGroup";
/// Resources of Auto Scaling that change a group over time: loaded with a note, since vpcsim
/// keeps every group at its desired capacity.
pub(super) const NOT_SIMULATED: &[&str] = &[
    "AWS::AutoScaling::ScalingPolicy",
    "AWS::AutoScaling::LifecycleHook",
    "AWS::AutoScaling::ScheduledAction",
    "AWS::AutoScaling::WarmPool",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
];

/// The only version CloudFormation creates a launch template with.
const TEMPLATE_VERSION: &str = "1";

/// `<stack>-<LogicalId>-<12 characters>`: the name CloudFormation gives a group or launch
/// configuration without one.
fn generated_name(stack: &str, o: &Origin) -> String {
    let tail: String =
        o.id.rsplit('-')
            .next()
            .unwrap_or("0")
            .chars()
            .take(12)
            .collect();
    format!("{stack}-{}-{}", o.logical_id, tail.to_ascii_uppercase())
}

/// A non-negative size property.
fn size(p: &Value, key: &str) -> R<Option<u32>> {
    match opt_int(p, key)? {
        None => Ok(None),
        Some(n) if (0..=i64::from(u32::MAX)).contains(&n) => Ok(Some(n as u32)),
        Some(n) => Err(Problem::new(
            "ValidationError",
            format!("{key} {n} must be 0 or more"),
        )),
    }
}

/// The network settings of a launch template's `LaunchTemplateData`.
fn template_network(data: &Value) -> R<LaunchNetworkSettings> {
    let mut interfaces = Vec::new();
    for (i, nic) in opt_list(data, "NetworkInterfaces")?.iter().enumerate() {
        if opt_str(nic, "NetworkInterfaceId")?.is_some() {
            return Err(Problem::new(
                "ValidationError",
                "NetworkInterfaces.NetworkInterfaceId: an existing interface limits a group to one instance, which vpcsim does not model; let the group create the interfaces",
            ));
        }
        let device = match opt_int(nic, "DeviceIndex")? {
            Some(d) if (0..=i64::from(u32::MAX)).contains(&d) => d as u32,
            Some(d) => return Err(invalid("NetworkInterfaces.DeviceIndex", d)),
            None => i as u32,
        };
        interfaces.push(LaunchInterface {
            device_index: device,
            associate_public_ip: opt_bool(nic, "AssociatePublicIpAddress")?,
            groups: str_list(nic, "Groups")?,
        });
    }
    interfaces.sort_by_key(|n| n.device_index);
    let network = LaunchNetworkSettings {
        security_group_ids: str_list(data, "SecurityGroupIds")?,
        security_group_names: str_list(data, "SecurityGroups")?,
        interfaces,
        associate_public_ip: None,
    };
    let instance_level =
        !network.security_group_ids.is_empty() || !network.security_group_names.is_empty();
    if instance_level && network.interfaces.iter().any(|n| !n.groups.is_empty()) {
        return Err(Problem::new(
            "InvalidParameterCombination",
            "Network interfaces and an instance-level security groups may not be specified on the same request",
        ));
    }
    let public = network
        .interfaces
        .iter()
        .any(|n| n.associate_public_ip == Some(true));
    if public && network.interfaces.len() > 1 {
        return Err(Problem::new(
            "InvalidParameterCombination",
            "The associatePublicIPAddress parameter cannot be specified when launching with multiple network interfaces.",
        ));
    }
    Ok(network)
}

impl Builder {
    pub(super) fn add_launch_template(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let data = get(p, "LaunchTemplateData").ok_or_else(|| missing("LaunchTemplateData"))?;
        let network = template_network(data).map_err(|e| prefix(e, "LaunchTemplateData"))?;
        let origin = self.origin(t, lid, LAUNCH_TEMPLATE, props::name_tag(p));
        let name = opt_str(p, "LaunchTemplateName")?
            .unwrap_or_else(|| format!("{lid}-{}", origin.id.trim_start_matches("lt-")));
        let id = origin.id.clone();
        self.model.launch_templates.push(LaunchTemplate {
            origin,
            name,
            network,
        });
        let i = self.model.launch_templates.len() - 1;
        self.register(t, lid, &id, Ref::LaunchTemplate(i));
        Ok(())
    }

    pub(super) fn add_launch_configuration(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let mut origin = self.origin(t, lid, LAUNCH_CONFIGURATION, None);
        let stack = self.model.templates[t].stack_name.clone();
        origin.id = opt_str(p, "LaunchConfigurationName")?
            .unwrap_or_else(|| generated_name(&stack, &origin));
        let mut network = LaunchNetworkSettings {
            security_group_names: str_list(p, "SecurityGroups")?,
            associate_public_ip: opt_bool(p, "AssociatePublicIpAddress")?,
            ..Default::default()
        };
        // Derived from an instance: its settings, unless the configuration gives its own.
        if let Some(id) = opt_str(p, "InstanceId")? {
            let instance = self.instance_settings(&id)?;
            if network.security_group_names.is_empty() {
                network.security_group_ids = instance.security_group_ids;
            }
        }
        let id = origin.id.clone();
        self.model
            .launch_configurations
            .push(LaunchConfiguration { origin, network });
        let i = self.model.launch_configurations.len() - 1;
        self.register(t, lid, &id, Ref::LaunchConfiguration(i));
        Ok(())
    }

    /// A launch template specification (`LaunchTemplateId` or `LaunchTemplateName`, and
    /// `Version`).
    fn launch_template_spec(&self, spec: &Value) -> R<LaunchSource> {
        let template = match (
            opt_str(spec, "LaunchTemplateId")?,
            opt_str(spec, "LaunchTemplateName")?,
        ) {
            (Some(id), None) => match self.lookup(&id) {
                Some(Ref::LaunchTemplate(i)) => i,
                Some(Ref::Failed) => return Err(Problem::quiet()),
                _ => {
                    return Err(Problem::new(
                        "InvalidLaunchTemplateId.NotFound",
                        format!("LaunchTemplateId {id} is not a launch template of the loaded topology"),
                    ))
                }
            },
            (None, Some(name)) => self
                .model
                .launch_templates
                .iter()
                .position(|l| l.name == name)
                .ok_or_else(|| {
                    Problem::new(
                        "InvalidLaunchTemplateName.NotFoundException",
                        format!("no launch template named {name:?} in the loaded topology"),
                    )
                })?,
            _ => {
                return Err(Problem::new(
                    "ValidationError",
                    "a launch template is named by exactly one of LaunchTemplateId and LaunchTemplateName",
                ))
            }
        };
        let version = opt_str(spec, "Version")?.unwrap_or_else(|| "$Default".into());
        if !matches!(version.as_str(), "$Latest" | "$Default" | TEMPLATE_VERSION) {
            return Err(Problem::new(
                "InvalidLaunchTemplateId.VersionNotFound",
                format!(
                    "version {version} of launch template {} does not exist (a template created by CloudFormation has version {TEMPLATE_VERSION}: $Latest and $Default)",
                    self.model.launch_templates[template].origin.logical_id
                ),
            ));
        }
        Ok(LaunchSource::Template { template, version })
    }

    /// Exactly one launch source (SPEC §18.1).
    fn launch_source(&self, p: &Value) -> R<LaunchSource> {
        let mut sources = Vec::new();
        if let Some(spec) = get(p, "LaunchTemplate") {
            sources.push(self.launch_template_spec(spec)?);
        }
        if let Some(mixed) = get(p, "MixedInstancesPolicy") {
            let spec = get(mixed, "LaunchTemplate")
                .and_then(|l| get(l, "LaunchTemplateSpecification"))
                .ok_or_else(|| {
                    missing("MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification")
                })?;
            sources.push(
                self.launch_template_spec(spec)
                    .map_err(|e| prefix(e, "MixedInstancesPolicy"))?,
            );
        }
        if let Some(name) = opt_str(p, "LaunchConfigurationName")? {
            let c = match self.lookup(&name) {
                Some(Ref::LaunchConfiguration(c)) => c,
                Some(Ref::Failed) => return Err(Problem::quiet()),
                _ => {
                    return Err(Problem::new(
                        "ValidationError",
                        format!("Launch configuration name not found - {name}"),
                    ))
                }
            };
            sources.push(LaunchSource::Configuration(c));
        }
        if let Some(id) = opt_str(p, "InstanceId")? {
            sources.push(LaunchSource::Instance(self.instance_id("InstanceId", &id)?));
        }
        match <[LaunchSource; 1]>::try_from(sources) {
            Ok([one]) => Ok(one),
            Err(_) => Err(Problem::new(
                "ValidationError",
                "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.",
            )),
        }
    }

    /// `VPCZoneIdentifier`, checked against `AvailabilityZones`; without it, the default
    /// subnets of `AvailabilityZones`.
    fn group_subnets(&mut self, p: &Value) -> R<Vec<usize>> {
        let zones = str_list(p, "AvailabilityZones")?;
        let ids = str_list(p, "VPCZoneIdentifier")?;
        let mut subnets = Vec::new();
        if ids.is_empty() {
            for z in &zones {
                subnets.push(self.default_subnet(Some(z))?);
            }
        }
        for id in &ids {
            let s = self.subnet_id("VPCZoneIdentifier", id)?;
            let az = &self.model.subnets[s].availability_zone;
            if !zones.is_empty() && !zones.contains(az) {
                return Err(Problem::new(
                    "ValidationError",
                    format!(
                        "subnet {id} is in {az}, which is not one of the group's AvailabilityZones"
                    ),
                ));
            }
            if !subnets.contains(&s) {
                subnets.push(s);
            }
        }
        let Some(&first) = subnets.first() else {
            return Err(Problem::new(
                "ValidationError",
                "At least one Availability Zone or VPC Subnet is required.",
            ));
        };
        let vpc = self.model.subnets[first].vpc;
        if subnets.iter().any(|&s| self.model.subnets[s].vpc != vpc) {
            return Err(Problem::new(
                "ValidationError",
                "The subnets of VPCZoneIdentifier must all be in the same VPC",
            ));
        }
        Ok(subnets)
    }

    pub(super) fn add_auto_scaling_group(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let min = size(p, "MinSize")?.ok_or_else(|| missing("MinSize"))?;
        let max = size(p, "MaxSize")?.ok_or_else(|| missing("MaxSize"))?;
        if min > max {
            return Err(Problem::new(
                "ValidationError",
                format!("Max bound, {max}, must be greater than or equal to min bound, {min}"),
            ));
        }
        let desired = size(p, "DesiredCapacity")?.unwrap_or(min);
        if desired < min || desired > max {
            return Err(Problem::new(
                "ValidationError",
                format!("Desired capacity:{desired} must be between the specified min size:{min} and max size:{max}"),
            ));
        }
        let launch_source = self.launch_source(p)?;
        let subnets = self.group_subnets(p)?;
        let target_group_arns = str_list(p, "TargetGroupARNs")?;
        let mut registrations = Vec::new();
        for arn in &target_group_arns {
            registrations.push(self.registration(arn, "TargetGroupARNs")?);
        }
        let network = match &launch_source {
            LaunchSource::Template { template, .. } => {
                self.model.launch_templates[*template].network.clone()
            }
            LaunchSource::Configuration(c) => self.model.launch_configurations[*c].network.clone(),
            LaunchSource::Instance(i) => {
                let id = self.model.instances[*i].origin.id.clone();
                self.instance_settings(&id)?
            }
        };
        let mut origin = self.origin(t, lid, AUTO_SCALING_GROUP, None);
        let stack = self.model.templates[t].stack_name.clone();
        let name =
            opt_str(p, "AutoScalingGroupName")?.unwrap_or_else(|| generated_name(&stack, &origin));
        origin.id = name.clone();
        let group = self.model.auto_scaling_groups.len();
        let tags: Vec<Value> = opt_list(p, "Tags")?
            .iter()
            .filter(|tag| opt_bool(tag, "PropagateAtLaunch").ok().flatten() == Some(true))
            .cloned()
            .collect();
        let mut instances = Vec::new();
        for (n, subnet) in balanced_placement(&self.model, &subnets, desired)
            .into_iter()
            .enumerate()
        {
            let props = instance_properties(&self.model, &network, subnet, &tags);
            let i = self.launch_instance(t, &format!("{lid}/{n}"), &props)?;
            self.model.instances[i].auto_scaling = Some(AutoScalingMember {
                group: Some(group),
                group_name: name.clone(),
                index: n as u32,
            });
            for r in &registrations {
                self.register_instance_target(r, i);
            }
            instances.push(i);
        }
        for r in &registrations {
            if let Registration::NotSimulated(target_group) = r {
                let msg = format!("TargetGroupARNs: target group {target_group} is not simulated: the group's instances are not registered in it");
                self.diag(Severity::Warning, t, lid, "UnsupportedReference", msg);
            }
        }
        let id = origin.id.clone();
        self.model.auto_scaling_groups.push(AutoScalingGroup {
            origin,
            name,
            min_size: min,
            max_size: max,
            desired_capacity: desired,
            subnets,
            launch_source,
            target_group_arns,
            instances,
        });
        self.register(t, lid, &id, Ref::AutoScalingGroup(group));
        Ok(())
    }

    /// A scaling policy, lifecycle hook or scheduled action: kept, with a note that the group
    /// does not change.
    pub(super) fn add_auto_scaling_extra(&mut self, t: usize, lid: &str, kind: &str, p: &Value) {
        let origin = self.origin(t, lid, kind.to_string(), props::name_tag(p));
        self.keep_unsupported(origin);
        self.diag(
            Severity::Warning,
            t,
            lid,
            "NotSimulated",
            format!("{kind} is not simulated: vpcsim keeps every Auto Scaling group at its DesiredCapacity (no scaling, no replacement of unhealthy instances)"),
        );
    }

    /// The settings a launch configuration derived from instance `id` takes from it (AWS
    /// creates one when a group or configuration names `InstanceId`): its primary interface's
    /// security groups.
    fn instance_settings(&self, id: &str) -> R<LaunchNetworkSettings> {
        let i = self.instance_id("InstanceId", id)?;
        let groups = self.model.instances[i]
            .enis
            .first()
            .map(|&e| {
                self.model.enis[e]
                    .security_groups
                    .iter()
                    .map(|&g| self.model.security_groups[g].origin.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        Ok(LaunchNetworkSettings {
            security_group_ids: groups,
            ..Default::default()
        })
    }

    /// `Fn::GetAtt` of a launch template.
    pub(super) fn launch_template_attribute(&self, i: usize, attr: &str) -> Option<Value> {
        Some(match attr {
            "LatestVersionNumber" | "DefaultVersionNumber" => json!(TEMPLATE_VERSION),
            "LaunchTemplateId" => json!(self.model.launch_templates[i].origin.id),
            _ => return None,
        })
    }
}

/// The subnet of each of `count` launches: each goes to the zone with the fewest instances so
/// far (ties: the zone listed first in `VPCZoneIdentifier`), into that zone's first subnet
/// (SPEC §18.2: AWS picks one at random; the first keeps loads reproducible).
fn balanced_placement(m: &Model, subnets: &[usize], count: u32) -> Vec<usize> {
    // (zone, its first subnet, instances so far), in VPCZoneIdentifier order.
    let mut zones: Vec<(&str, usize, u32)> = Vec::new();
    for &s in subnets {
        let az = m.subnets[s].availability_zone.as_str();
        if !zones.iter().any(|z| z.0 == az) {
            zones.push((az, s, 0));
        }
    }
    let mut out = Vec::new();
    for _ in 0..count {
        let Some(z) = zones.iter_mut().min_by_key(|z| z.2) else {
            break;
        };
        z.2 += 1;
        out.push(z.1);
    }
    out
}

/// `AWS::EC2::Instance` properties of one launch in `subnet` (the group's subnets override any
/// subnet of the template).
fn instance_properties(
    m: &Model,
    network: &LaunchNetworkSettings,
    subnet: usize,
    tags: &[Value],
) -> Value {
    let subnet_id = m.subnets[subnet].origin.id.clone();
    let interface = |device: u32, public: Option<bool>, ids: &[String], names: &[String]| {
        let mut nic = json!({"DeviceIndex": device, "SubnetId": subnet_id, "GroupSet": ids});
        if !names.is_empty() {
            nic["SecurityGroups"] = json!(names);
        }
        if let Some(b) = public {
            nic["AssociatePublicIpAddress"] = json!(b);
        }
        nic
    };
    let nics: Vec<Value> = if network.interfaces.is_empty() {
        vec![interface(
            0,
            network.associate_public_ip,
            &network.security_group_ids,
            &network.security_group_names,
        )]
    } else {
        network
            .interfaces
            .iter()
            .map(|n| {
                let (ids, names) = if n.device_index == 0 && n.groups.is_empty() {
                    (
                        network.security_group_ids.as_slice(),
                        network.security_group_names.as_slice(),
                    )
                } else {
                    (n.groups.as_slice(), &[][..])
                };
                interface(n.device_index, n.associate_public_ip, ids, names)
            })
            .collect()
    };
    json!({"NetworkInterfaces": nics, "Tags": tags})
}
