//! The Application Load Balancer as the proxy it is (SPEC §11.2): a client's HTTP request on a
//! connection that ended at a node ([`crate::pipeline`]'s `alb` stage) is matched against the
//! listener's rules ([`rules`]), then answered by the load balancer (fixed response, redirect)
//! or forwarded to a target over a new connection from the node ([`proxy`]), which is a walk
//! through the same pipeline. What runs on the hosts is [`hosts`]'s; target health with the
//! hosts' answers is [`health`]'s. The web ACL
//! associated with the load balancer inspects each request first ([`waf`]).
//!
//! None of this is per packet: a request is evaluated once, when it is complete.

pub mod health;
pub mod hosts;
pub mod http;
pub mod proxy;
pub mod rules;
pub mod waf;
