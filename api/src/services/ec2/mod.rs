//! Amazon EC2 (the EC2 protocol): VPCs, subnets, route tables, gateways, security groups,
//! network ACLs, interfaces, instances, Elastic IPs, NAT gateways, tags, zones and regions.
//!
//! Resources are stored as the documents `aws ec2 describe-*` prints, so the region's data plane
//! is compiled from exactly what `Describe*` answers. Every call runs in one write transaction:
//! its checks, its changes, its `ClientToken` record and its tags commit together.

mod common;
mod endpoints;
mod filters;
pub mod flow_logs;
mod gateways;
mod instances;
mod interfaces;
mod meta;
mod network_acls;
mod peering;
mod prefix_lists;
pub mod render;
mod route_tables;
mod security_groups;
mod subnets;
mod tags;
mod tgw_routes;
mod transit_gateways;
mod vpcs;

pub use common::{iso8601 as common_iso8601, store_documents};
pub use security_groups::delete_rules as delete_group_rules;

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::store::{Store, Tx};
use crate::xml::ec2_response;

/// The store's meta key holding the delay (milliseconds) before NAT gateways become
/// `available` and instances `running` (`--async-delay`).
pub const ASYNC_DELAY_KEY: &str = "ec2-async-delay-ms";

type Action = fn(&Tx<'_>, &Call) -> Result<String, ApiError>;

fn action(name: &str) -> Option<Action> {
    Some(match name {
        "CreateVpc" => vpcs::create,
        "DeleteVpc" => vpcs::delete,
        "DescribeVpcs" => vpcs::describe,
        "AssociateVpcCidrBlock" => vpcs::associate_cidr,
        "ModifyVpcAttribute" => vpcs::modify_attribute,
        "CreateSubnet" => subnets::create,
        "DeleteSubnet" => subnets::delete,
        "DescribeSubnets" => subnets::describe,
        "ModifySubnetAttribute" => subnets::modify_attribute,
        "CreateRouteTable" => route_tables::create,
        "DeleteRouteTable" => route_tables::delete,
        "DescribeRouteTables" => route_tables::describe,
        "CreateRoute" => route_tables::create_route,
        "ReplaceRoute" => route_tables::replace_route,
        "DeleteRoute" => route_tables::delete_route,
        "AssociateRouteTable" => route_tables::associate,
        "DisassociateRouteTable" => route_tables::disassociate,
        "CreateInternetGateway" => gateways::create_igw,
        "AttachInternetGateway" => gateways::attach_igw,
        "DetachInternetGateway" => gateways::detach_igw,
        "DeleteInternetGateway" => gateways::delete_igw,
        "DescribeInternetGateways" => gateways::describe_igws,
        "CreateNatGateway" => gateways::create_nat,
        "DeleteNatGateway" => gateways::delete_nat,
        "DescribeNatGateways" => gateways::describe_nats,
        "CreateSecurityGroup" => security_groups::create,
        "DeleteSecurityGroup" => security_groups::delete,
        "DescribeSecurityGroups" => security_groups::describe,
        "AuthorizeSecurityGroupIngress" => security_groups::authorize,
        "AuthorizeSecurityGroupEgress" => security_groups::authorize,
        "RevokeSecurityGroupIngress" => security_groups::revoke,
        "RevokeSecurityGroupEgress" => security_groups::revoke,
        "DescribeSecurityGroupRules" => security_groups::describe_rules,
        "CreateNetworkAcl" => network_acls::create,
        "DeleteNetworkAcl" => network_acls::delete,
        "DescribeNetworkAcls" => network_acls::describe,
        "CreateNetworkAclEntry" => network_acls::create_entry,
        "ReplaceNetworkAclEntry" => network_acls::replace_entry,
        "DeleteNetworkAclEntry" => network_acls::delete_entry,
        "ReplaceNetworkAclAssociation" => network_acls::replace_association,
        "CreateNetworkInterface" => interfaces::create,
        "DeleteNetworkInterface" => interfaces::delete,
        "DescribeNetworkInterfaces" => interfaces::describe,
        "AllocateAddress" => interfaces::allocate_address,
        "AssociateAddress" => interfaces::associate_address,
        "DisassociateAddress" => interfaces::disassociate_address,
        "ReleaseAddress" => interfaces::release_address,
        "DescribeAddresses" => interfaces::describe_addresses,
        "RunInstances" => instances::run,
        "TerminateInstances" => instances::terminate,
        "StopInstances" => instances::stop,
        "StartInstances" => instances::start,
        "DescribeInstances" => instances::describe,
        "CreateTags" => tags::create,
        "DeleteTags" => tags::delete,
        "DescribeTags" => tags::describe,
        "DescribeAvailabilityZones" => meta::availability_zones,
        "DescribeAccountAttributes" => meta::account_attributes,
        "DescribeRegions" => meta::regions,
        "CreateVpcPeeringConnection" => peering::create,
        "AcceptVpcPeeringConnection" => peering::accept,
        "RejectVpcPeeringConnection" => peering::reject,
        "DeleteVpcPeeringConnection" => peering::delete,
        "DescribeVpcPeeringConnections" => peering::describe,
        "CreateTransitGateway" => transit_gateways::create,
        "DeleteTransitGateway" => transit_gateways::delete,
        "DescribeTransitGateways" => transit_gateways::describe,
        "CreateTransitGatewayRouteTable" => transit_gateways::create_table,
        "DeleteTransitGatewayRouteTable" => transit_gateways::delete_table,
        "DescribeTransitGatewayRouteTables" => transit_gateways::describe_tables,
        "CreateTransitGatewayVpcAttachment" => transit_gateways::create_vpc_attachment,
        "DeleteTransitGatewayVpcAttachment" => transit_gateways::delete_vpc_attachment,
        "DescribeTransitGatewayVpcAttachments" => transit_gateways::describe_vpc_attachments,
        "DescribeTransitGatewayAttachments" => transit_gateways::describe_attachments,
        "AssociateTransitGatewayRouteTable" => tgw_routes::associate,
        "DisassociateTransitGatewayRouteTable" => tgw_routes::disassociate,
        "EnableTransitGatewayRouteTablePropagation" => tgw_routes::enable_propagation,
        "DisableTransitGatewayRouteTablePropagation" => tgw_routes::disable_propagation,
        "GetTransitGatewayRouteTablePropagations" => tgw_routes::get_propagations,
        "CreateTransitGatewayRoute" => tgw_routes::create_route,
        "DeleteTransitGatewayRoute" => tgw_routes::delete_route,
        "SearchTransitGatewayRoutes" => tgw_routes::search_routes,
        "CreateManagedPrefixList" => prefix_lists::create,
        "ModifyManagedPrefixList" => prefix_lists::modify,
        "DeleteManagedPrefixList" => prefix_lists::delete,
        "DescribeManagedPrefixLists" => prefix_lists::describe_managed,
        "GetManagedPrefixListEntries" => prefix_lists::get_entries,
        "DescribePrefixLists" => prefix_lists::describe_aws,
        "CreateVpcEndpoint" => endpoints::create,
        "ModifyVpcEndpoint" => endpoints::modify,
        "DeleteVpcEndpoints" => endpoints::delete,
        "DescribeVpcEndpoints" => endpoints::describe,
        "CreateFlowLogs" | "DescribeFlowLogs" | "DeleteFlowLogs" => return flow_logs_action(name),
        _ => return None,
    })
}

/// The EC2 actions this server answers.
pub const ACTIONS: &[&str] = &[
    "CreateVpc",
    "DeleteVpc",
    "DescribeVpcs",
    "AssociateVpcCidrBlock",
    "ModifyVpcAttribute",
    "CreateSubnet",
    "DeleteSubnet",
    "DescribeSubnets",
    "ModifySubnetAttribute",
    "CreateRouteTable",
    "DeleteRouteTable",
    "DescribeRouteTables",
    "CreateRoute",
    "ReplaceRoute",
    "DeleteRoute",
    "AssociateRouteTable",
    "DisassociateRouteTable",
    "CreateInternetGateway",
    "AttachInternetGateway",
    "DetachInternetGateway",
    "DeleteInternetGateway",
    "DescribeInternetGateways",
    "CreateNatGateway",
    "DeleteNatGateway",
    "DescribeNatGateways",
    "CreateSecurityGroup",
    "DeleteSecurityGroup",
    "DescribeSecurityGroups",
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
    "DescribeSecurityGroupRules",
    "CreateNetworkAcl",
    "DeleteNetworkAcl",
    "DescribeNetworkAcls",
    "CreateNetworkAclEntry",
    "ReplaceNetworkAclEntry",
    "DeleteNetworkAclEntry",
    "ReplaceNetworkAclAssociation",
    "CreateNetworkInterface",
    "DeleteNetworkInterface",
    "DescribeNetworkInterfaces",
    "AllocateAddress",
    "AssociateAddress",
    "DisassociateAddress",
    "ReleaseAddress",
    "DescribeAddresses",
    "RunInstances",
    "TerminateInstances",
    "StopInstances",
    "StartInstances",
    "DescribeInstances",
    "CreateTags",
    "DeleteTags",
    "DescribeTags",
    "DescribeAvailabilityZones",
    "DescribeAccountAttributes",
    "DescribeRegions",
    "CreateVpcPeeringConnection",
    "AcceptVpcPeeringConnection",
    "RejectVpcPeeringConnection",
    "DeleteVpcPeeringConnection",
    "DescribeVpcPeeringConnections",
    "CreateTransitGateway",
    "DeleteTransitGateway",
    "DescribeTransitGateways",
    "CreateTransitGatewayRouteTable",
    "DeleteTransitGatewayRouteTable",
    "DescribeTransitGatewayRouteTables",
    "CreateTransitGatewayVpcAttachment",
    "DeleteTransitGatewayVpcAttachment",
    "DescribeTransitGatewayVpcAttachments",
    "DescribeTransitGatewayAttachments",
    "AssociateTransitGatewayRouteTable",
    "DisassociateTransitGatewayRouteTable",
    "EnableTransitGatewayRouteTablePropagation",
    "DisableTransitGatewayRouteTablePropagation",
    "GetTransitGatewayRouteTablePropagations",
    "CreateTransitGatewayRoute",
    "DeleteTransitGatewayRoute",
    "SearchTransitGatewayRoutes",
    "CreateManagedPrefixList",
    "ModifyManagedPrefixList",
    "DeleteManagedPrefixList",
    "DescribeManagedPrefixLists",
    "GetManagedPrefixListEntries",
    "DescribePrefixLists",
    "CreateVpcEndpoint",
    "ModifyVpcEndpoint",
    "DeleteVpcEndpoints",
    "DescribeVpcEndpoints",
    "CreateFlowLogs",
    "DescribeFlowLogs",
    "DeleteFlowLogs",
];

fn flow_logs_action(name: &str) -> Option<Action> {
    Some(match name {
        "CreateFlowLogs" => flow_logs::create,
        "DescribeFlowLogs" => flow_logs::describe,
        _ => flow_logs::delete,
    })
}

/// Answers one EC2 call.
pub fn handle(store: &Store, call: &Call) -> Result<Reply, ApiError> {
    let Some(run) = action(&call.action) else {
        return Err(ApiError::invalid_action(&call.action));
    };
    let body = store.write(|tx| {
        // Resources AWS creates asynchronously reach their next state when their delay is over.
        if common::settle(tx, call)? {
            call.changed(&call.region);
        }
        common::idempotent(tx, call, run)
    })?;
    Ok(Reply::Xml(ec2_response(
        &call.action,
        &call.request_id,
        &body,
    )))
}

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_network;
