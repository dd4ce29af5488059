//! The AWS managed policies users reach for first, as `arn:aws:iam::aws:policy/<name>`.
//!
//! `AdministratorAccess`, `AmazonEC2FullAccess` and `AmazonEC2ReadOnlyAccess` carry AWS's
//! documents as published. `ReadOnlyAccess` and `AmazonVPCFullAccess` are faithful reductions:
//! AWS's real documents list several hundred actions of services vpcsim does not have; these
//! keep every statement that concerns the services `vpcsim serve` speaks, with AWS's own
//! wildcard forms (`ec2:Describe*`, `iam:Get*`, ...).

/// `(name, description, document)` of every built-in AWS managed policy.
pub const AWS_MANAGED: &[(&str, &str, &str)] = &[
    (
        "AdministratorAccess",
        "Provides full access to AWS services and resources.",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
    (
        "ReadOnlyAccess",
        "Provides read-only access to AWS services and resources.",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"ReadOnlyAccess","Effect":"Allow","Action":["cloudformation:Describe*","cloudformation:Get*","cloudformation:List*","cloudtrail:Describe*","cloudtrail:Get*","cloudtrail:List*","cloudtrail:LookupEvents","cloudwatch:Describe*","cloudwatch:Get*","cloudwatch:List*","ec2:Describe*","ec2:Get*","ec2:SearchTransitGatewayRoutes","elasticloadbalancing:Describe*","iam:Generate*","iam:Get*","iam:List*","iam:Simulate*","logs:Describe*","logs:FilterLogEvents","logs:Get*","logs:ListTagsForResource","logs:ListTagsLogGroup","route53:Get*","route53:List*","route53:Test*","sts:GetCallerIdentity"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonEC2FullAccess",
        "Provides full access to Amazon EC2 via the AWS Management Console.",
        r#"{"Version":"2012-10-17","Statement":[{"Action":"ec2:*","Effect":"Allow","Resource":"*"},{"Effect":"Allow","Action":"elasticloadbalancing:*","Resource":"*"},{"Effect":"Allow","Action":"cloudwatch:*","Resource":"*"},{"Effect":"Allow","Action":"autoscaling:*","Resource":"*"},{"Effect":"Allow","Action":"iam:CreateServiceLinkedRole","Resource":"*","Condition":{"StringEquals":{"iam:AWSServiceName":["autoscaling.amazonaws.com","ec2scheduled.amazonaws.com","elasticloadbalancing.amazonaws.com","spot.amazonaws.com","spotfleet.amazonaws.com","transitgateway.amazonaws.com"]}}}]}"#,
    ),
    (
        "AmazonEC2ReadOnlyAccess",
        "Provides read only access to Amazon EC2 via the AWS Management Console.",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},{"Effect":"Allow","Action":"elasticloadbalancing:Describe*","Resource":"*"},{"Effect":"Allow","Action":["cloudwatch:ListMetrics","cloudwatch:GetMetricStatistics","cloudwatch:Describe*"],"Resource":"*"},{"Effect":"Allow","Action":"autoscaling:Describe*","Resource":"*"}]}"#,
    ),
    (
        "AmazonVPCFullAccess",
        "Provides full access to Amazon VPC via the AWS Management Console.",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"AmazonVPCFullAccess","Effect":"Allow","Action":["ec2:AcceptVpcPeeringConnection","ec2:AllocateAddress","ec2:Associate*","ec2:Attach*","ec2:AuthorizeSecurityGroupEgress","ec2:AuthorizeSecurityGroupIngress","ec2:CreateCustomerGateway","ec2:CreateDefaultSubnet","ec2:CreateDefaultVpc","ec2:CreateDhcpOptions","ec2:CreateEgressOnlyInternetGateway","ec2:CreateFlowLogs","ec2:CreateInternetGateway","ec2:CreateManagedPrefixList","ec2:CreateNatGateway","ec2:CreateNetworkAcl","ec2:CreateNetworkAclEntry","ec2:CreateNetworkInterface","ec2:CreateRoute","ec2:CreateRouteTable","ec2:CreateSecurityGroup","ec2:CreateSubnet","ec2:CreateTags","ec2:CreateVpc","ec2:CreateVpcEndpoint","ec2:CreateVpcPeeringConnection","ec2:CreateVpnConnection","ec2:CreateVpnGateway","ec2:DeleteCustomerGateway","ec2:DeleteDhcpOptions","ec2:DeleteEgressOnlyInternetGateway","ec2:DeleteFlowLogs","ec2:DeleteInternetGateway","ec2:DeleteManagedPrefixList","ec2:DeleteNatGateway","ec2:DeleteNetworkAcl","ec2:DeleteNetworkAclEntry","ec2:DeleteNetworkInterface","ec2:DeleteRoute","ec2:DeleteRouteTable","ec2:DeleteSecurityGroup","ec2:DeleteSubnet","ec2:DeleteTags","ec2:DeleteVpc","ec2:DeleteVpcEndpoints","ec2:DeleteVpcPeeringConnection","ec2:DeleteVpnConnection","ec2:DeleteVpnGateway","ec2:Describe*","ec2:Detach*","ec2:Disassociate*","ec2:GetManagedPrefixList*","ec2:Modify*","ec2:RejectVpcPeeringConnection","ec2:ReleaseAddress","ec2:ReplaceNetworkAclAssociation","ec2:ReplaceNetworkAclEntry","ec2:ReplaceRoute","ec2:ReplaceRouteTableAssociation","ec2:ResetNetworkInterfaceAttribute","ec2:RevokeSecurityGroupEgress","ec2:RevokeSecurityGroupIngress","ec2:UpdateSecurityGroupRuleDescriptionsEgress","ec2:UpdateSecurityGroupRuleDescriptionsIngress"],"Resource":"*"}]}"#,
    ),
];

/// The ARN of an AWS managed policy.
pub fn arn(name: &str) -> String {
    format!("arn:aws:iam::aws:policy/{name}")
}

/// The document of the AWS managed policy with this ARN.
pub fn document(policy_arn: &str) -> Option<&'static str> {
    let name = policy_arn.strip_prefix("arn:aws:iam::aws:policy/")?;
    AWS_MANAGED
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, d)| *d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::{Policy, PolicyKind};

    #[test]
    fn every_managed_policy_parses() {
        for (name, _, doc) in AWS_MANAGED {
            Policy::parse(doc, PolicyKind::Identity).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert!(document(&arn("AmazonEC2ReadOnlyAccess")).is_some());
        assert!(document("arn:aws:iam::aws:policy/Nope").is_none());
    }
}
