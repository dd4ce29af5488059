//! Deterministic AWS ids: the same account, Region, stack and logical id always give the same
//! id, so traces and exports are stable across runs.

/// Deterministic AWS-style id: `prefix-` + 17 hex digits hashed from the resource's identity.
pub fn aws_id(prefix: &str, account: &str, region: &str, stack: &str, logical_id: &str) -> String {
    let h1 = fnv1a(
        &[account, region, stack, logical_id, prefix],
        0xcbf2_9ce4_8422_2325,
    );
    let h2 = fnv1a(
        &[prefix, logical_id, stack, region, account],
        0x8422_2325_cbf2_9ce4,
    );
    format!("{prefix}-{:016x}{:x}", h1, h2 & 0xf)
}

pub(super) fn fnv1a(parts: &[&str], seed: u64) -> u64 {
    let mut h = seed;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The AWS id prefix of a resource type.
pub(super) fn id_prefix(kind: &str) -> &'static str {
    match kind {
        "AWS::EC2::VPC" => "vpc",
        "AWS::EC2::Subnet" => "subnet",
        "AWS::EC2::RouteTable" => "rtb",
        "AWS::EC2::Route" => "r-rtb",
        "AWS::EC2::InternetGateway" => "igw",
        "AWS::EC2::EgressOnlyInternetGateway" => "eigw",
        "AWS::EC2::NatGateway" => "nat",
        "AWS::EC2::EIP" => "eipalloc",
        "AWS::EC2::EIPAssociation" => "eipassoc",
        "AWS::EC2::NetworkAcl" => "acl",
        "AWS::EC2::NetworkAclEntry" => "aclentry",
        "AWS::EC2::SecurityGroup" => "sg",
        "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => "sgr",
        "AWS::EC2::Instance" => "i",
        "AWS::EC2::NetworkInterface" => "eni",
        "AWS::EC2::NetworkInterfaceAttachment" => "eni-attach",
        "AWS::EC2::VPCPeeringConnection" => "pcx",
        "AWS::EC2::VPCCidrBlock" => "vpc-cidr-assoc",
        "AWS::EC2::SubnetRouteTableAssociation" => "rtbassoc",
        "AWS::EC2::SubnetNetworkAclAssociation" => "aclassoc",
        "AWS::EC2::VPCGatewayAttachment" => "attach",
        "AWS::EC2::TransitGateway" => "tgw",
        "AWS::EC2::TransitGatewayAttachment"
        | "AWS::EC2::TransitGatewayVpcAttachment"
        | "AWS::EC2::TransitGatewayPeeringAttachment" => "tgw-attach",
        "AWS::EC2::TransitGatewayRouteTable" => "tgw-rtb",
        "AWS::EC2::TransitGatewayRoute" => "tgw-route",
        "AWS::EC2::TransitGatewayRouteTableAssociation" => "tgw-rtb-assoc",
        "AWS::EC2::TransitGatewayRouteTablePropagation" => "tgw-rtb-prop",
        "AWS::EC2::VPNGateway" => "vgw",
        "AWS::EC2::CustomerGateway" => "cgw",
        "AWS::EC2::VPNConnection" => "vpn",
        "AWS::EC2::VPNConnectionRoute" => "vpn-route",
        "AWS::EC2::VPNGatewayRoutePropagation" => "vgw-prop",
        "AWS::EC2::GatewayRouteTableAssociation" => "rtbassoc",
        "AWS::EC2::PrefixList" => "pl",
        "AWS::EC2::VPCEndpoint" => "vpce",
        "AWS::EC2::VPCEndpointService" => "vpce-svc",
        "AWS::EC2::LaunchTemplate" => "lt",
        _ => "res",
    }
}
