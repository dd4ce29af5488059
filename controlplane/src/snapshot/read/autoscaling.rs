//! Auto Scaling groups from `aws autoscaling describe-auto-scaling-groups` (SPEC §18): their
//! instances are in describe-instances already (tagged `aws:autoscaling:groupName`); what the
//! group adds is their registration in its `TargetGroupARNs`, which AWS keeps up itself, so a
//! snapshot whose describe-target-health missed an instance still routes to it.

use super::{list, s, Item, Reader, Ref};
use crate::model::*;

impl Reader {
    pub(super) fn add_auto_scaling_groups(&mut self, items: &[Item]) {
        for it in items {
            let name = s(&it.v, "AutoScalingGroupName")
                .unwrap_or_default()
                .to_string();
            let instances: Vec<(String, Option<usize>)> = list(&it.v, "Instances")
                .iter()
                .filter(|i| s(i, "LifecycleState").is_none_or(|st| st == "InService"))
                .filter_map(|i| s(i, "InstanceId"))
                .map(|id| {
                    let found = match self.by_id.get(id) {
                        Some(Ref::Instance(x)) => Some(*x),
                        _ => None,
                    };
                    (id.to_string(), found)
                })
                .collect();
            for (id, found) in &instances {
                if found.is_none() {
                    self.warn(
                        it.file,
                        &name,
                        "UnresolvedReference",
                        format!("instance {id} of the group is not in describe-instances: it is not registered in the group's target groups"),
                    );
                }
            }
            for arn in list(&it.v, "TargetGroupARNs")
                .iter()
                .filter_map(|a| a.as_str())
            {
                let targets = match self.by_id.get(arn).copied() {
                    Some(Ref::AlbTargetGroup(g)) => &mut self.model.alb.target_groups[g].targets,
                    Some(Ref::TargetGroup(g)) => &mut self.model.target_groups[g].targets,
                    Some(_) => continue,
                    None => {
                        self.warn(
                            it.file,
                            &name,
                            "UnresolvedReference",
                            format!("TargetGroupARNs {arn} is not in the snapshot: the group's instances are not registered in it"),
                        );
                        continue;
                    }
                };
                for (id, i) in &instances {
                    let Some(i) = *i else { continue };
                    if !targets.iter().any(|t| t.id == *id && t.port.is_none()) {
                        targets.push(Target {
                            id: id.clone(),
                            target: TargetRef::Instance(i),
                            port: None,
                        });
                    }
                }
            }
        }
    }
}
