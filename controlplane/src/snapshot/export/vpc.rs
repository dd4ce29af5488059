//! `describe-vpcs` and `describe-subnets`.

use super::{derived, Exporter};
use crate::model::*;
use serde_json::{json, Value};

impl Exporter<'_> {
    pub(super) fn vpc(&self, v: &Vpc) -> Value {
        let mut out = json!({
            "VpcId": v.origin.id,
            "OwnerId": self.account(&v.origin),
            "State": "available",
            "IsDefault": v.is_default,
            "CidrBlock": v.cidrs_v4.first().map(|c| c.to_string()),
            "CidrBlockAssociationSet": v.cidrs_v4.iter().enumerate().map(|(i, c)| json!({
                "AssociationId": derived("vpc-cidr-assoc", &format!("{}{i}", v.origin.id)),
                "CidrBlock": c.to_string(),
                "CidrBlockState": {"State": "associated"},
            })).collect::<Vec<_>>(),
            "Ipv6CidrBlockAssociationSet": v.cidrs_v6.iter().map(|c| json!({
                "Ipv6CidrBlock": c.to_string(),
                "Ipv6CidrBlockState": {"State": "associated"},
            })).collect::<Vec<_>>(),
        });
        self.tags(&mut out, &v.origin, "Tags");
        out
    }

    pub(super) fn subnet(&self, s: &Subnet) -> Value {
        let mut out = json!({
            "SubnetId": s.origin.id,
            "VpcId": self.m.vpcs[s.vpc].origin.id,
            "OwnerId": self.account(&s.origin),
            "State": "available",
            "AvailabilityZone": s.availability_zone,
            "MapPublicIpOnLaunch": s.map_public_ip_on_launch,
            "Ipv6CidrBlockAssociationSet": s.cidr_v6.iter().map(|c| json!({
                "Ipv6CidrBlock": c.to_string(),
                "Ipv6CidrBlockState": {"State": "associated"},
            })).collect::<Vec<_>>(),
        });
        if let Some(c) = s.cidr_v4 {
            out["CidrBlock"] = json!(c.to_string());
        }
        self.tags(&mut out, &s.origin, "Tags");
        out
    }
}
