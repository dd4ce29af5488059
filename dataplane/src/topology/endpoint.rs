//! VPC endpoints (SPEC §10): gateway endpoints for S3 and DynamoDB, interface endpoints
//! (PrivateLink).
//!
//! A gateway endpoint has no interface: route tables reach it through a route whose destination
//! is the service's AWS-managed prefix list, and packets to the service leave the VPC there. An
//! interface endpoint is a set of requester-managed interfaces ([`crate::topology::EniKind::
//! VpcEndpoint`]) that the ordinary local route, network ACLs and security groups reach; the
//! packet is delivered to the endpoint service at that interface.

use crate::pipeline::driver::Rules;
use crate::space::{protocol_box, HBox};
use crate::topology::{ResId, VpcIdx};
use crate::wire::{Family, Header, IpProtocol};

/// What kind of endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointKind {
    /// S3 or DynamoDB through route-table entries.
    Gateway,
    /// PrivateLink: one interface per subnet.
    Interface,
}

/// A VPC endpoint: a gateway endpoint that routes reach, or an interface endpoint reached at its
/// interfaces.
#[derive(Clone, Debug)]
pub struct VpcEndpoint {
    /// The `AWS::EC2::VPCEndpoint` resource, which names it in output.
    pub res: ResId,
    /// The VPC it belongs to.
    pub vpc: VpcIdx,
    /// Gateway or interface endpoint.
    pub kind: EndpointKind,
    /// `com.amazonaws.us-east-1.s3`.
    pub service_name: String,
    /// The service's prefix list (gateway endpoints).
    pub prefix_list: Option<ResId>,
}

/// Gateway endpoints carry TCP and ICMP echo only (SPEC §10.1,
/// `VPCE_GATEWAY_PROTOCOL_RESTRICTION`): a request towards the service is TCP or an echo request.
#[inline]
pub fn gateway_admits(h: &Header) -> bool {
    const ECHO_REQUEST: u8 = 8;
    match h.proto {
        IpProtocol::TCP => true,
        IpProtocol::ICMP => h.icmp_type == ECHO_REQUEST,
        _ => false,
    }
}

/// What a gateway endpoint carries, as a rule list: TCP, and ICMP echo requests towards the
/// service or echo replies back from it.
#[derive(Clone, Copy, Debug)]
pub struct GatewayTraffic {
    /// Towards the service (echo requests), or back from it (echo replies).
    pub towards_service: bool,
}

impl Rules for GatewayTraffic {
    type Key = ();
    const ANY_MATCH: bool = true;
    #[inline]
    fn first_match(&self, h: &Header) -> Option<()> {
        const ECHO_REPLY: u8 = 0;
        let ok = if self.towards_service {
            gateway_admits(h)
        } else {
            match h.proto {
                IpProtocol::TCP => true,
                IpProtocol::ICMP => h.icmp_type == ECHO_REPLY,
                _ => false,
            }
        };
        ok.then_some(())
    }
    fn for_each_box(&self, fam: Family, f: &mut dyn FnMut(HBox, ())) {
        let echo = if self.towards_service { 8 } else { 0 };
        for (p, t) in [(IpProtocol::TCP, None), (IpProtocol::ICMP, Some(echo))] {
            if let Some(b) = protocol_box(fam, p, t) {
                f(b, ());
            }
        }
    }
    #[inline]
    fn passes(decided: Option<()>) -> bool {
        decided.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(proto: IpProtocol, icmp_type: u8) -> Header {
        Header {
            src: "10.0.1.10".parse().unwrap(),
            dst: "52.216.8.1".parse().unwrap(),
            proto,
            src_port: 40000,
            dst_port: 443,
            icmp_type,
            icmp_code: 0,
            tcp_flags: 2,
            ttl: 64,
            len: 60,
        }
    }

    #[test]
    fn tcp_and_echo_only() {
        assert!(gateway_admits(&h(IpProtocol::TCP, 0)));
        assert!(gateway_admits(&h(IpProtocol::ICMP, 8)));
        assert!(!gateway_admits(&h(IpProtocol::ICMP, 13)));
        assert!(!gateway_admits(&h(IpProtocol::UDP, 0)));
    }
}
