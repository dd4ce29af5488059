//! The CIDR summary `vpcsim validate` prints.

use crate::model::Model;
use ipnet::{Ipv4Net, Ipv6Net};

/// A subnet in the CIDR summary: logical id, IPv4 and IPv6 blocks, Availability Zone.
pub type SubnetSummary = (String, Option<Ipv4Net>, Option<Ipv6Net>, String);
/// A VPC in the CIDR summary: logical id, IPv4 and IPv6 blocks, its subnets.
pub type VpcSummary = (String, Vec<Ipv4Net>, Vec<Ipv6Net>, Vec<SubnetSummary>);

/// Every VPC and subnet CIDR, for `validate` output and tests.
pub fn cidr_summary(model: &Model) -> Vec<VpcSummary> {
    model
        .vpcs
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let subnets = model
                .subnets
                .iter()
                .filter(|s| s.vpc == i)
                .map(|s| {
                    (
                        s.origin.logical_id.clone(),
                        s.cidr_v4,
                        s.cidr_v6,
                        s.availability_zone.clone(),
                    )
                })
                .collect();
            (
                v.origin.logical_id.clone(),
                v.cidrs_v4.clone(),
                v.cidrs_v6.clone(),
                subnets,
            )
        })
        .collect()
}
