//! Rule types, each with its concrete match and its symbolic side in one place: the
//! longest-prefix match of route tables, network ACLs, security groups.

pub mod lpm;
pub mod nacl;
pub mod sg;
