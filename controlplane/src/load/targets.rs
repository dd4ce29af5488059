//! Registering instances in target groups on behalf of another resource (an Auto Scaling
//! group's `TargetGroupARNs`): one place that knows every kind of target group, so a new load
//! balancer type adds its group here and every registering resource follows.

use super::*;
use vpcsim_dataplane::topology::alb::AlbTargetType;
use vpcsim_dataplane::topology::nlb::TargetType;

/// A target group an instance can be registered in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Registration {
    /// A Network Load Balancer target group (index into [`Model::target_groups`]).
    Network(usize),
    /// A Gateway Load Balancer target group (index into [`Model::gwlb_target_groups`]).
    Gateway(usize),
    /// An Application Load Balancer target group (index into the model's ALB target groups).
    Application(usize),
    /// A target group of a kind vpcsim does not simulate (its logical id): nothing to register.
    NotSimulated(String),
}

impl Builder {
    /// The target group `arn` names, checked to take instance targets (SPEC §18.3); `key` is
    /// the property that names it.
    pub(super) fn registration(&self, arn: &str, key: &str) -> R<Registration> {
        match self.lookup(arn) {
            Some(Ref::TargetGroup(g)) => {
                let group = &self.model.target_groups[g];
                if group.target_type != TargetType::Instance {
                    return Err(Problem::new(
                        "ValidationError",
                        format!(
                            "{key}: target group {} has target type {}; instances register only in target groups of type instance",
                            group.origin.logical_id,
                            group.target_type.as_str()
                        ),
                    ));
                }
                Ok(Registration::Network(g))
            }
            Some(Ref::GwlbTargetGroup(g)) => Ok(Registration::Gateway(g)),
            Some(Ref::AlbTargetGroup(g)) => {
                let group = &self.model.alb.target_groups[g];
                if group.target_type != AlbTargetType::Instance {
                    return Err(Problem::new(
                        "ValidationError",
                        format!(
                            "{key}: target group {} has target type {}; instances register only in target groups of type instance",
                            group.origin.logical_id,
                            group.target_type.as_str()
                        ),
                    ));
                }
                Ok(Registration::Application(g))
            }
            Some(Ref::Unsupported(u))
                if self.model.unsupported[u].origin.kind == elbv2::TARGET_GROUP =>
            {
                Ok(Registration::NotSimulated(
                    self.model.unsupported[u].origin.logical_id.clone(),
                ))
            }
            Some(Ref::Failed) => Err(Problem::quiet()),
            _ => Err(Problem::new(
                "ValidationError",
                format!("{key}: {arn} is not a target group of the loaded topology"),
            )),
        }
    }

    /// Register instance `instance` in a target group, on the group's port, by instance id.
    pub(super) fn register_instance_target(&mut self, r: &Registration, instance: usize) {
        let id = self.model.instances[instance].origin.id.clone();
        match *r {
            Registration::Network(g) => self.model.target_groups[g].targets.push(Target {
                id,
                target: TargetRef::Instance(instance),
                port: None,
            }),
            Registration::Gateway(g) => self.model.gwlb_target_groups[g]
                .targets
                .push((id, instance)),
            Registration::Application(g) => self.model.alb.target_groups[g].targets.push(Target {
                id,
                target: TargetRef::Instance(instance),
                port: None,
            }),
            Registration::NotSimulated(_) => {}
        }
    }
}
