//! What a new account sees of its regions: the zones, the account's attributes, the regions.

use serde_json::json;

use super::common::authorize_describe;
use super::render;
use crate::call::Call;
use crate::error::ApiError;
use crate::store::Tx;

/// The regions this server answers for (any region a signature names works; these are the ones
/// `DescribeRegions` lists, AWS's commercial regions enabled by default).
const REGIONS: &[&str] = &[
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// The zone id AWS pairs with a zone name (`use1-az1` for `us-east-1a`).
fn zone_id(region: &str, index: usize) -> String {
    let short: String = region
        .split('-')
        .enumerate()
        .map(|(i, p)| {
            if i == 2 {
                p.to_string()
            } else {
                p.chars().next().map(String::from).unwrap_or_default()
            }
        })
        .collect();
    format!("{short}-az{}", index + 1)
}

pub fn availability_zones(_tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    authorize_describe(call)?;
    let names = call.params.ec2_list("ZoneName");
    let zones: Vec<_> = crate::plane::zones(&call.region)
        .into_iter()
        .enumerate()
        .filter(|(_, z)| names.is_empty() || names.contains(&z.as_str()))
        .map(|(i, z)| {
            json!({"State": "available", "OptInStatus": "opt-in-not-required", "Messages": [],
                   "RegionName": call.region, "ZoneName": z, "ZoneId": zone_id(&call.region, i),
                   "GroupName": call.region, "NetworkBorderGroup": call.region, "ZoneType": "availability-zone"})
        })
        .collect();
    Ok(render::list("AvailabilityZones", &zones))
}

pub fn account_attributes(tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    authorize_describe(call)?;
    let default_vpc = tx
        .list(&call.region, "Vpcs")?
        .into_iter()
        .find(|v| v["IsDefault"] == true)
        .and_then(|v| v["VpcId"].as_str().map(str::to_string))
        .unwrap_or_else(|| "none".into());
    let value = |v: &str| json!([{"AttributeValue": v}]);
    let all = [
        ("supported-platforms", value("VPC")),
        ("default-vpc", value(&default_vpc)),
        ("max-instances", value("20")),
        ("vpc-max-security-groups-per-interface", value("5")),
        ("max-elastic-ips", value("5")),
        ("vpc-max-elastic-ips", value("5")),
    ];
    let names = call.params.ec2_list("AttributeName");
    let attrs: Vec<_> = all
        .into_iter()
        .filter(|(n, _)| names.is_empty() || names.contains(n))
        .map(|(n, v)| json!({"AttributeName": n, "AttributeValues": v}))
        .collect();
    Ok(render::list("AccountAttributes", &attrs))
}

pub fn regions(_tx: &Tx<'_>, call: &Call) -> Result<String, ApiError> {
    authorize_describe(call)?;
    let names = call.params.ec2_list("RegionName");
    let list: Vec<_> = REGIONS
        .iter()
        .filter(|r| names.is_empty() || names.contains(r))
        .map(|r| json!({"RegionName": r, "Endpoint": format!("ec2.{r}.amazonaws.com"), "OptInStatus": "opt-in-not-required"}))
        .collect();
    Ok(render::list("Regions", &list))
}
