//! The account's default VPC (SPEC §1.6) and the Region's Availability Zones.
//!
//! AWS creates the default VPC with the account, so templates may launch instances and create
//! security groups without naming a VPC or subnet. It is built here as AWS lays it out:
//! 172.31.0.0/16, one /20 default subnet per Availability Zone (172.31.0.0/20 in the first zone,
//! 172.31.16.0/20 in the second, ...) that gives instances a public IPv4 address, an attached
//! internet gateway, the main route table with `0.0.0.0/0` to it, and the default security
//! group and network ACL every VPC has. It lives in a stack of its own, [`DEFAULT_VPC_STACK`],
//! so its ids depend only on the account and Region.

use super::*;

/// The stack name (and file name) the default VPC's resources are recorded under: not a valid
/// CloudFormation stack name, so no template's stack can take it.
pub const DEFAULT_VPC_STACK: &str = "(default VPC)";

/// The default VPC's logical id.
const VPC: &str = "DefaultVpc";

impl Builder {
    /// The Availability Zones of `region`: `--zones` when given for it, else the built-in list
    /// of [`cfn::availability_zones`].
    pub(super) fn region_zones(&self, region: &str) -> Vec<String> {
        self.zones
            .get(region)
            .cloned()
            .unwrap_or_else(|| cfn::availability_zones(region))
    }

    /// Refuse a zone that is not one of the Region's, as CreateSubnet does.
    pub(super) fn check_zone(&self, t: usize, az: &str) -> R<()> {
        let region = &self.model.templates[t].region;
        let zones = self.region_zones(region);
        if zones.iter().any(|z| z == az) {
            return Ok(());
        }
        let why = if az.starts_with(region.as_str()) {
            "does not exist in"
        } else {
            "is not in"
        };
        Err(Problem::new(
            "InvalidParameterValue",
            format!(
                "Value ({az}) for parameter availabilityZone is invalid: the zone {why} Region {region} (its zones: {}; --zones {region}=... changes the list)",
                zones.join(", ")
            ),
        ))
    }

    /// The default VPC, built on first use in the Region and account being loaded.
    pub(super) fn default_vpc(&mut self) -> R<usize> {
        if let Some(v) = self.default_vpc {
            return Ok(v);
        }
        let (region, account_id) = self.home.clone();
        let loading = self.template;
        let d = self.model.templates.len();
        self.model.templates.push(TemplateInfo {
            path: PathBuf::from(DEFAULT_VPC_STACK),
            stack_name: DEFAULT_VPC_STACK.into(),
            region: region.clone(),
            account_id,
        });
        self.template = d;
        let built = self.build_default_vpc(d, &region);
        self.template = loading;
        let vpc = built?;
        self.default_vpc = Some(vpc);
        Ok(vpc)
    }

    fn build_default_vpc(&mut self, d: usize, region: &str) -> R<usize> {
        self.add_vpc(
            d,
            VPC,
            &json!({"CidrBlock": "172.31.0.0/16", "EnableDnsHostnames": true}),
        )?;
        let vpc = self.model.vpcs.len() - 1;
        self.model.vpcs[vpc].is_default = true;
        let vpc_id = self.model.vpcs[vpc].origin.id.clone();
        self.add_igw(d, "DefaultInternetGateway", &json!({}))?;
        let igw_id = self.model.internet_gateways[self.model.internet_gateways.len() - 1]
            .origin
            .id
            .clone();
        self.add_gateway_attachment(
            d,
            "DefaultVpc.GatewayAttachment",
            &json!({"VpcId": vpc_id, "InternetGatewayId": igw_id}),
        )?;
        let main = self.model.vpcs[vpc].main_route_table;
        let main_id = self.model.route_tables[main].origin.id.clone();
        self.add_route(
            d,
            "DefaultVpc.DefaultRoute",
            &json!({"RouteTableId": main_id, "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw_id}),
        )?;
        // 16 /20s fit in the /16; more zones than that never exist in one Region.
        for (i, az) in self.region_zones(region).iter().take(16).enumerate() {
            let suffix = az.strip_prefix(region).unwrap_or(az).to_uppercase();
            self.add_subnet(
                d,
                &format!("DefaultSubnet{suffix}"),
                &json!({
                    "VpcId": vpc_id,
                    "CidrBlock": format!("172.31.{}.0/20", i * 16),
                    "AvailabilityZone": az,
                    "MapPublicIpOnLaunch": true,
                }),
            )?;
        }
        Ok(vpc)
    }

    /// The default subnet an instance without `SubnetId` launches into: the one in its
    /// `AvailabilityZone`, else the first zone's (AWS picks a zone for you; the model picks
    /// the first, for determinism).
    pub(super) fn default_subnet(&mut self, az: Option<&str>) -> R<usize> {
        let vpc = self.default_vpc()?;
        let mut subnets = self
            .model
            .subnets
            .iter()
            .enumerate()
            .filter(|(_, s)| s.vpc == vpc);
        let found = match az {
            Some(az) => subnets.find(|(_, s)| s.availability_zone == az),
            None => subnets.next(),
        };
        found.map(|(i, _)| i).ok_or_else(|| {
            Problem::new(
                "InvalidParameterValue",
                format!(
                    "the default VPC has no default subnet in {}",
                    az.unwrap_or("any zone")
                ),
            )
        })
    }
}

/// Whether a template relies on the default VPC: a security group without `VpcId`, or an
/// instance with neither `SubnetId` nor `NetworkInterfaces`.
pub(super) fn needs_default_vpc(t: &cfn::Template) -> bool {
    t.resources.iter().any(|r| {
        let has = |key: &str| match &r.properties {
            cfn::Node::Map(entries) => entries.iter().any(|(k, _)| k == key),
            _ => false,
        };
        match r.type_.as_str() {
            "AWS::EC2::SecurityGroup" => !has("VpcId"),
            "AWS::EC2::Instance" => !has("SubnetId") && !has("NetworkInterfaces"),
            _ => false,
        }
    })
}
