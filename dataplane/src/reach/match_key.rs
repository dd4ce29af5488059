//! Equality of two fields of the current packet, as a condition on the original header: what
//! connection tracking, NAT sessions and flow-hash choices need to know whether a later packet
//! belongs to a flow the walk created.

use super::expr::{Expr, IDENT};
use crate::aws::NAT_PORTS as PORTS;
use crate::space::HBox;

/// Ports picked from state, as numbers.
pub(crate) const NAT_PORTS: (u128, u128) = (PORTS.0 as u128, PORTS.1 as u128);

/// Whether two current fields are equal, as a condition on the original header.
pub(crate) enum Same {
    Always,
    Never,
    /// When original dimension `.0` equals `.1`.
    When(usize, u128),
    /// Not decidable statically (two different original fields, or a picked port).
    Unknown,
}

/// Whether fields `a` and `b` are equal, for original headers in `dom`.
pub(crate) fn same(dom: &HBox, a: Expr, b: Expr) -> Same {
    use Expr::*;
    match (a, b) {
        (Orig(k, x), Orig(j, y)) if k == j => {
            if x == y {
                Same::Always
            } else {
                Same::Never
            }
        }
        (Orig(..), Orig(..)) => Same::Unknown,
        (Orig(k, x), Const(v)) | (Const(v), Orig(k, x)) => {
            let o = v as i128 - x as i128;
            let k = k as usize;
            if k == IDENT {
                return Same::Unknown;
            }
            if o < 0 || o as u128 > dom.hi[k] {
                Same::Never
            } else {
                Same::When(k, o as u128)
            }
        }
        (Const(v), Const(w)) => {
            if v == w {
                Same::Always
            } else {
                Same::Never
            }
        }
        (Picked(n), Picked(m)) if n == m => Same::Always,
        (Picked(_), Const(v)) | (Const(v), Picked(_)) => {
            if (NAT_PORTS.0..=NAT_PORTS.1).contains(&v) {
                Same::Unknown
            } else {
                Same::Never
            }
        }
        _ => Same::Unknown,
    }
}
