//! The AWS services `vpcsim serve` speaks, and how each one is spoken (SPEC.md §22.1).
//!
//! One endpoint serves them all, as LocalStack's port 4566 does: the SigV4 credential scope names
//! the service; its protocol then says where the operation's name is (the `Action` form
//! parameter, the `X-Amz-Target` header, or the REST path).

/// A wire protocol, as botocore's service models name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// EC2's variant of Query: `Action=...&Version=...` forms, lists as `Name.N`, answers with
    /// `<xxxSet><item>` lists.
    Ec2,
    /// Generic Query (ELBv2, IAM, STS, CloudFormation, Auto Scaling, CloudWatch's old protocol):
    /// lists as `Name.member.N`, answers wrapped in `<OpResult>`.
    Query,
    /// AWS JSON 1.0 (CloudWatch's current protocol, Network Firewall).
    Json10,
    /// AWS JSON 1.1 (CloudWatch Logs, CloudTrail, WAFv2, Route 53 Resolver).
    Json11,
    /// REST with XML bodies (Route 53).
    RestXml,
}

/// A service, named by its SigV4 signing name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// Amazon EC2 (`ec2`).
    Ec2,
    /// Elastic Load Balancing v2 (`elasticloadbalancing`).
    Elbv2,
    /// AWS CloudFormation (`cloudformation`).
    CloudFormation,
    /// AWS Identity and Access Management (`iam`), global.
    Iam,
    /// AWS Security Token Service (`sts`).
    Sts,
    /// Amazon Route 53 (`route53`), global.
    Route53,
    /// Amazon CloudWatch metrics and alarms (`monitoring`).
    CloudWatch,
    /// Amazon CloudWatch Logs (`logs`).
    Logs,
    /// AWS CloudTrail (`cloudtrail`).
    CloudTrail,
}

impl Service {
    /// Every service, in the order `--help` and the README list them.
    pub const ALL: [Service; 9] = [
        Service::Ec2,
        Service::Elbv2,
        Service::CloudFormation,
        Service::Iam,
        Service::Sts,
        Service::Route53,
        Service::CloudWatch,
        Service::Logs,
        Service::CloudTrail,
    ];

    /// The service for a SigV4 signing name (the credential scope's third part).
    pub fn from_signing_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.signing_name() == name)
    }

    /// The SigV4 signing name.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::Elbv2 => "elasticloadbalancing",
            Service::CloudFormation => "cloudformation",
            Service::Iam => "iam",
            Service::Sts => "sts",
            Service::Route53 => "route53",
            Service::CloudWatch => "monitoring",
            Service::Logs => "logs",
            Service::CloudTrail => "cloudtrail",
        }
    }

    /// The prefix of this service's actions in IAM policies (`ec2:CreateVpc`).
    pub fn iam_prefix(self) -> &'static str {
        match self {
            Service::CloudWatch => "cloudwatch",
            other => other.signing_name(),
        }
    }

    /// The API version the SDKs send (`Version=` on Query requests).
    pub fn api_version(self) -> &'static str {
        match self {
            Service::Ec2 => "2016-11-15",
            Service::Elbv2 => "2015-12-01",
            Service::CloudFormation => "2010-05-15",
            Service::Iam => "2010-05-08",
            Service::Sts => "2011-06-15",
            Service::Route53 => "2013-04-01",
            Service::CloudWatch => "2010-08-01",
            Service::Logs => "2014-03-28",
            Service::CloudTrail => "2013-11-01",
        }
    }

    /// The XML namespace of this service's responses (empty for JSON services).
    pub fn xmlns(self) -> &'static str {
        match self {
            Service::Ec2 => "http://ec2.amazonaws.com/doc/2016-11-15/",
            Service::Elbv2 => "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
            Service::CloudFormation => "http://cloudformation.amazonaws.com/doc/2010-05-15/",
            Service::Iam => "https://iam.amazonaws.com/doc/2010-05-08/",
            Service::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
            Service::Route53 => "https://route53.amazonaws.com/doc/2013-04-01/",
            Service::CloudWatch => "http://monitoring.amazonaws.com/doc/2010-08-01/",
            Service::Logs | Service::CloudTrail => "",
        }
    }

    /// The protocol requests arrive in. CloudWatch accepts Query and JSON 1.0 (current boto3
    /// sends JSON, older botocore Query): the server looks at the request's content type.
    pub fn protocol(self) -> Protocol {
        match self {
            Service::Ec2 => Protocol::Ec2,
            Service::Elbv2 | Service::CloudFormation | Service::Iam | Service::Sts => {
                Protocol::Query
            }
            Service::CloudWatch => Protocol::Query,
            Service::Route53 => Protocol::RestXml,
            Service::Logs | Service::CloudTrail => Protocol::Json11,
        }
    }

    /// The `eventSource` of this service's CloudTrail events.
    pub fn event_source(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2.amazonaws.com",
            Service::Elbv2 => "elasticloadbalancing.amazonaws.com",
            Service::CloudFormation => "cloudformation.amazonaws.com",
            Service::Iam => "iam.amazonaws.com",
            Service::Sts => "sts.amazonaws.com",
            Service::Route53 => "route53.amazonaws.com",
            Service::CloudWatch => "monitoring.amazonaws.com",
            Service::Logs => "logs.amazonaws.com",
            Service::CloudTrail => "cloudtrail.amazonaws.com",
        }
    }

    /// Global services keep one state for every region and log their events in `us-east-1`.
    pub fn is_global(self) -> bool {
        matches!(self, Service::Iam | Service::Route53)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_names_round_trip() {
        for s in Service::ALL {
            assert_eq!(Service::from_signing_name(s.signing_name()), Some(s));
        }
        assert_eq!(Service::from_signing_name("s3"), None);
        assert_eq!(Service::CloudWatch.iam_prefix(), "cloudwatch");
    }
}
