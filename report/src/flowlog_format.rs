//! The fields of a VPC flow log record and custom formats made of them (SPEC §12.2, §12.3).
//!
//! A format is the `${field}` list AWS's `LogFormat` takes; the header line AWS writes at the
//! top of every file it delivers to S3 is the field names, space separated.

use crate::fastfmt::{push_ip, push_u64};
use std::net::IpAddr;
use vpcsim_dataplane::topology::{EniIdx, RouteTarget};
use vpcsim_dataplane::wire::{tcp_flags, IpProtocol};
use vpcsim_dataplane::Topology;

macro_rules! fields {
    ($($variant:ident = $name:literal, $version:literal;)*) => {
        /// One field of a flow log record.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum Field { $($variant),* }

        /// Every field AWS offers, in the order of AWS's table of available fields.
        pub const ALL_FIELDS: &[Field] = &[$(Field::$variant),*];

        impl Field {
            /// The field's name as it appears in `${name}` and in the header line.
            pub fn name(self) -> &'static str {
                match self { $(Field::$variant => $name),* }
            }

            /// The flow log version that introduced the field.
            pub fn version(self) -> u8 {
                match self { $(Field::$variant => $version),* }
            }
        }
    };
}

fields! {
    Version = "version", 2;
    AccountId = "account-id", 2;
    InterfaceId = "interface-id", 2;
    SrcAddr = "srcaddr", 2;
    DstAddr = "dstaddr", 2;
    SrcPort = "srcport", 2;
    DstPort = "dstport", 2;
    Protocol = "protocol", 2;
    Packets = "packets", 2;
    Bytes = "bytes", 2;
    Start = "start", 2;
    End = "end", 2;
    Action = "action", 2;
    LogStatus = "log-status", 2;
    VpcId = "vpc-id", 3;
    SubnetId = "subnet-id", 3;
    InstanceId = "instance-id", 3;
    TcpFlags = "tcp-flags", 3;
    Type = "type", 3;
    PktSrcAddr = "pkt-srcaddr", 3;
    PktDstAddr = "pkt-dstaddr", 3;
    Region = "region", 4;
    AzId = "az-id", 4;
    SublocationType = "sublocation-type", 4;
    SublocationId = "sublocation-id", 4;
    PktSrcAwsService = "pkt-src-aws-service", 5;
    PktDstAwsService = "pkt-dst-aws-service", 5;
    FlowDirection = "flow-direction", 5;
    TrafficPath = "traffic-path", 5;
    EcsClusterArn = "ecs-cluster-arn", 7;
    EcsClusterName = "ecs-cluster-name", 7;
    EcsContainerInstanceArn = "ecs-container-instance-arn", 7;
    EcsContainerInstanceId = "ecs-container-instance-id", 7;
    EcsContainerId = "ecs-container-id", 7;
    EcsSecondContainerId = "ecs-second-container-id", 7;
    EcsServiceName = "ecs-service-name", 7;
    EcsTaskDefinitionArn = "ecs-task-definition-arn", 7;
    EcsTaskArn = "ecs-task-arn", 7;
    EcsTaskId = "ecs-task-id", 7;
}

impl Field {
    /// Whether the field shows the addresses in the packet rather than the interface's view.
    pub fn uses_packet_addresses(self) -> bool {
        matches!(
            self,
            Field::PktSrcAddr | Field::PktDstAddr | Field::TrafficPath
        )
    }
}

/// The fields of the default format (version 2).
const DEFAULT_FIELDS: usize = 14;

/// The fields of a flow log, in the order each record lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowLogFormat {
    fields: Vec<Field>,
}

impl Default for FlowLogFormat {
    fn default() -> Self {
        FlowLogFormat {
            fields: ALL_FIELDS[..DEFAULT_FIELDS].to_vec(),
        }
    }
}

impl FlowLogFormat {
    /// Parse AWS's `LogFormat`: `${field}` tokens separated by spaces. An unknown field is an
    /// error that lists the valid ones.
    pub fn parse(s: &str) -> Result<FlowLogFormat, String> {
        let mut fields = Vec::new();
        for token in s.split_whitespace() {
            let name = token
                .strip_prefix("${")
                .and_then(|t| t.strip_suffix('}'))
                .ok_or_else(|| format!("`{token}` is not a field: write each as ${{field}}"))?;
            let field = ALL_FIELDS
                .iter()
                .copied()
                .find(|f| f.name() == name)
                .ok_or_else(|| {
                    let valid: Vec<&str> = ALL_FIELDS.iter().map(|f| f.name()).collect();
                    format!(
                        "unknown flow log field `{name}`; valid fields: {}",
                        valid.join(" ")
                    )
                })?;
            fields.push(field);
        }
        if fields.is_empty() {
            return Err("a flow log format needs at least one ${field}".into());
        }
        Ok(FlowLogFormat { fields })
    }

    /// The fields, in record order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The `version` field's value: the highest version among the selected fields, at least 2.
    pub fn version(&self) -> u8 {
        self.fields.iter().map(|f| f.version()).max().unwrap_or(2)
    }

    /// The header line AWS writes at the top of each file it delivers to S3, with its newline.
    pub fn header(&self) -> String {
        let names: Vec<&str> = self.fields.iter().map(|f| f.name()).collect();
        format!("{}\n", names.join(" "))
    }
}

/// What one record holds, as the aggregator keeps it.
pub(crate) struct RecordView {
    pub eni: EniIdx,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub pkt_src: IpAddr,
    pub pkt_dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub proto: u8,
    pub egress: bool,
    pub accept: bool,
    pub packets: u64,
    pub bytes: u64,
    pub start: u64,
    pub end: u64,
    pub tcp_flags: u8,
}

/// What flow logs report of a packet's TCP flags: FIN, SYN and RST, and ACK only beside SYN
/// (SPEC §12.3: SYN-ACK is 18, a plain ACK is not reported).
pub(crate) fn reported_tcp_flags(proto: IpProtocol, flags: u8) -> u8 {
    if proto != IpProtocol::TCP {
        return 0;
    }
    let mut f = flags & (tcp_flags::FIN | tcp_flags::SYN | tcp_flags::RST);
    if flags & tcp_flags::SYN != 0 {
        f |= flags & tcp_flags::ACK;
    }
    f
}

/// Where the subnet's route table sends the packet leaving the interface, as AWS's
/// `traffic-path` codes it; `None` for ingress and for targets AWS gives no code (a transit
/// gateway, an egress-only internet gateway, a blackhole).
fn traffic_path(topo: &Topology, eni: EniIdx, dst: IpAddr) -> Option<u8> {
    let e = &topo.enis[eni];
    if topo.vpcs[e.vpc].contains(dst) {
        return Some(1);
    }
    let table = &topo.route_tables[topo.subnets[e.subnet].route_table];
    match table.lookup(dst)?.target {
        RouteTarget::Local
        | RouteTarget::NatGateway(_)
        | RouteTarget::NetworkInterface(_)
        | RouteTarget::GatewayLoadBalancerEndpoint(_) => Some(1),
        RouteTarget::InternetGateway(_) | RouteTarget::GatewayEndpoint(_) => Some(2),
        RouteTarget::VpnGateway(_) => Some(3),
        // The model's peerings are all within one Region.
        RouteTarget::Peering(_) => Some(4),
        _ => None,
    }
}

/// Names the records need beside the topology.
pub(crate) struct RecordContext<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub version: u8,
}

/// One record's line in `format`, with its newline.
pub(crate) fn write_record(
    line: &mut Vec<u8>,
    topo: &Topology,
    cx: &RecordContext,
    format: &FlowLogFormat,
    r: &RecordView,
) {
    line.clear();
    let eni = &topo.enis[r.eni];
    let aws_id = |res| topo.resource(res).aws_id.as_bytes();
    for (i, &field) in format.fields.iter().enumerate() {
        if i > 0 {
            line.push(b' ');
        }
        let text: &[u8] = match field {
            Field::Version => {
                push_u64(line, cx.version as u64);
                continue;
            }
            Field::AccountId => cx.account_id.as_bytes(),
            Field::InterfaceId => aws_id(eni.res),
            Field::SrcAddr | Field::DstAddr | Field::PktSrcAddr | Field::PktDstAddr => {
                let a = match field {
                    Field::SrcAddr => r.src,
                    Field::DstAddr => r.dst,
                    Field::PktSrcAddr => r.pkt_src,
                    _ => r.pkt_dst,
                };
                push_ip(line, a);
                continue;
            }
            Field::SrcPort
            | Field::DstPort
            | Field::Protocol
            | Field::Packets
            | Field::Bytes
            | Field::Start
            | Field::End
            | Field::TcpFlags => {
                push_u64(
                    line,
                    match field {
                        Field::SrcPort => r.src_port as u64,
                        Field::DstPort => r.dst_port as u64,
                        Field::Protocol => r.proto as u64,
                        Field::Packets => r.packets,
                        Field::Bytes => r.bytes,
                        Field::Start => r.start,
                        Field::End => r.end,
                        _ => r.tcp_flags as u64,
                    },
                );
                continue;
            }
            Field::Action if r.accept => b"ACCEPT",
            Field::Action => b"REJECT",
            Field::LogStatus => b"OK",
            Field::VpcId => aws_id(topo.vpcs[eni.vpc].res),
            Field::SubnetId => aws_id(topo.subnets[eni.subnet].res),
            Field::InstanceId => {
                let owner = topo.resource(eni.owner);
                if owner.kind == "AWS::EC2::Instance" {
                    owner.aws_id.as_bytes()
                } else {
                    b"-"
                }
            }
            Field::Type if r.src.is_ipv6() => b"IPv6",
            Field::Type => b"IPv4",
            Field::Region => cx.region.as_bytes(),
            Field::FlowDirection if r.egress => b"egress",
            Field::FlowDirection => b"ingress",
            Field::TrafficPath => {
                match r
                    .egress
                    .then(|| traffic_path(topo, r.eni, r.pkt_dst))
                    .flatten()
                {
                    Some(code) => push_u64(line, code as u64),
                    None => line.push(b'-'),
                }
                continue;
            }
            // The account's AZ IDs, AWS's service IP ranges and ECS metadata are not modelled.
            Field::AzId
            | Field::SublocationType
            | Field::SublocationId
            | Field::PktSrcAwsService
            | Field::PktDstAwsService
            | Field::EcsClusterArn
            | Field::EcsClusterName
            | Field::EcsContainerInstanceArn
            | Field::EcsContainerInstanceId
            | Field::EcsContainerId
            | Field::EcsSecondContainerId
            | Field::EcsServiceName
            | Field::EcsTaskDefinitionArn
            | Field::EcsTaskArn
            | Field::EcsTaskId => b"-",
        };
        line.extend_from_slice(text);
    }
    line.push(b'\n');
}
