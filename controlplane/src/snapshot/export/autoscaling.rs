//! Auto Scaling groups as `aws autoscaling describe-auto-scaling-groups` prints them, with the
//! instances they launched (each also in describe-instances, tagged with the group's name).

use super::Exporter;
use crate::model::*;
use serde_json::{json, Value};

impl Exporter<'_> {
    pub(super) fn auto_scaling_group(&self, g: &AutoScalingGroup) -> Value {
        let m = self.m;
        let subnets: Vec<&str> = g
            .subnets
            .iter()
            .map(|s| m.subnets[*s].origin.id.as_str())
            .collect();
        let mut zones: Vec<&str> = Vec::new();
        for s in &g.subnets {
            let az = m.subnets[*s].availability_zone.as_str();
            if !zones.contains(&az) {
                zones.push(az);
            }
        }
        let instances: Vec<Value> = g
            .instances
            .iter()
            .map(|i| {
                let inst = &m.instances[*i];
                let az = inst
                    .enis
                    .first()
                    .map(|e| m.subnets[m.enis[*e].subnet].availability_zone.as_str())
                    .unwrap_or_default();
                json!({
                    "InstanceId": inst.origin.id,
                    "AvailabilityZone": az,
                    "LifecycleState": "InService",
                    "HealthStatus": "Healthy",
                    "ProtectedFromScaleIn": false,
                })
            })
            .collect();
        let mut v = json!({
            "AutoScalingGroupName": g.name,
            "MinSize": g.min_size,
            "MaxSize": g.max_size,
            "DesiredCapacity": g.desired_capacity,
            "AvailabilityZones": zones,
            "VPCZoneIdentifier": subnets.join(","),
            "TargetGroupARNs": g.target_group_arns,
            "Instances": instances,
            "HealthCheckType": "EC2",
        });
        match &g.launch_source {
            LaunchSource::Template { template, version } => {
                let t = &m.launch_templates[*template];
                v["LaunchTemplate"] = json!({"LaunchTemplateId": t.origin.id, "LaunchTemplateName": t.name, "Version": version});
            }
            LaunchSource::Configuration(c) => {
                v["LaunchConfigurationName"] = json!(m.launch_configurations[*c].origin.id);
            }
            LaunchSource::Instance(_) => {}
        }
        v
    }
}
