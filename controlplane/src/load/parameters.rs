//! AWS-specific parameter types (`AWS::EC2::VPC::Id`, `List<AWS::EC2::Subnet::Id>`, ...)
//! checked against what is loaded, as CloudFormation checks them against the account before
//! it creates the stack.

use super::*;
use cfn::AwsParameterKind as Kind;

impl Builder {
    /// Report every parameter value of an AWS-specific type that names nothing loaded;
    /// `false` when there was one (CloudFormation then creates nothing).
    pub(super) fn check_aws_parameters(&mut self, t: &cfn::Template, ev: &Evaluator<'_>) -> bool {
        let region = self.home.0.clone();
        let zones = self.region_zones(&region);
        let mut ok = true;
        for p in &t.parameters {
            let Some((kind, _)) = cfn::aws_parameter_kind(&p.type_) else {
                continue;
            };
            let values: Vec<String> = match ev.parameter(&p.name) {
                Some(Value::Array(items)) => {
                    items.iter().filter_map(props::scalar_string).collect()
                }
                Some(v) => props::scalar_string(v).into_iter().collect(),
                None => continue,
            };
            for value in values {
                let exists = match kind {
                    Kind::Vpc => matches!(self.lookup(&value), Some(Ref::Vpc(_))),
                    Kind::Subnet => matches!(self.lookup(&value), Some(Ref::Subnet(_))),
                    Kind::SecurityGroupId => matches!(self.lookup(&value), Some(Ref::Sg(_))),
                    Kind::Instance => matches!(self.lookup(&value), Some(Ref::Instance(_))),
                    Kind::SecurityGroupName => self
                        .model
                        .security_groups
                        .iter()
                        .any(|g| g.group_name == value),
                    Kind::AvailabilityZone => zones.contains(&value),
                };
                if !exists {
                    ok = false;
                    self.diags.push(Diagnostic {
                        severity: Severity::Error,
                        file: t.path.clone(),
                        logical_id: Some(p.name.clone()),
                        code: cfn::codes::INVALID_PARAMETER_VALUE.into(),
                        message: cfn::does_not_exist(&p.name, &value),
                    });
                }
            }
        }
        ok
    }
}
