//! Who is asking and what they may do: SigV4 verification ([`sigv4`]), the credentials behind
//! it ([`credentials`]), IAM policy evaluation ([`policy`], [`conditions`]) and the
//! [`Authorizer`](crate::call::Authorizer) that applies a caller's policies ([`authorizer`]).

pub mod authorizer;
pub mod conditions;
pub mod credentials;
pub mod dates;
pub mod entities;
pub mod managed;
pub mod policy;
pub mod sigv4;

pub use authorizer::{AllowAll, PolicyAuthorizer};
pub use credentials::{ensure_root_credentials, SigV4Authenticator};
