//! Typed indices: one index type per table of the [`Topology`](super::Topology), and [`Table`],
//! a vector that only its own index type indexes. An interface's index cannot pick a subnet: the
//! compiler refuses `topo.subnets[eni]`.
//!
//! An index is a `u32` (tables never hold 2³² rows), free at run time: indexing a [`Table`] is
//! indexing its vector, with the same bounds check.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

/// A row of one table: what indexes a [`Table`].
pub trait TableIdx: Copy + From<usize> {
    /// The row's position in the table's vector.
    fn index(self) -> usize;
}

macro_rules! table_indices {
    ($( $(#[$doc:meta])* $name:ident; )*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(transparent)]
        pub struct $name(pub u32);

        impl $name {
            /// The row's position in the table's vector.
            #[inline(always)]
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl TableIdx for $name {
            #[inline(always)]
            fn index(self) -> usize {
                $name::index(self)
            }
        }

        /// The row at a position of the table's vector (the model's index, at the compile
        /// boundary).
        impl From<usize> for $name {
            #[inline(always)]
            fn from(i: usize) -> $name {
                $name(i as u32)
            }
        }

        /// The index as the `u32` it is (as [`PrefixMap`](super::tgw::PrefixMap) stores it).
        impl From<$name> for u32 {
            #[inline(always)]
            fn from(i: $name) -> u32 {
                i.0
            }
        }

        /// The index a `u32` stands for (as [`PrefixMap`](super::tgw::PrefixMap) stores it).
        impl From<u32> for $name {
            #[inline(always)]
            fn from(i: u32) -> $name {
                $name(i)
            }
        }
    )*};
}

table_indices! {
    /// Index into [`Topology::resources`](super::Topology::resources): the name of something
    /// that can appear in a verdict.
    ResId;
    /// Index into [`Topology::vpcs`](super::Topology::vpcs).
    VpcIdx;
    /// Index into [`Topology::subnets`](super::Topology::subnets).
    SubnetIdx;
    /// Index into [`Topology::route_tables`](super::Topology::route_tables).
    RouteTableIdx;
    /// Index into [`Topology::network_acls`](super::Topology::network_acls).
    NaclIdx;
    /// Index into [`Topology::security_groups`](super::Topology::security_groups).
    SgIdx;
    /// Index into [`Topology::enis`](super::Topology::enis): a network interface.
    EniIdx;
    /// Index into [`Topology::internet_gateways`](super::Topology::internet_gateways).
    IgwIdx;
    /// Index into [`Topology::egress_only_igws`](super::Topology::egress_only_igws).
    EigwIdx;
    /// Index into [`Topology::nat_gateways`](super::Topology::nat_gateways).
    NatIdx;
    /// Index into [`Topology::peerings`](super::Topology::peerings).
    PeeringIdx;
    /// Index into [`Topology::vpc_endpoints`](super::Topology::vpc_endpoints): a gateway or
    /// interface endpoint.
    VpcEndpointIdx;
    /// Index into [`Topology::transit_gateways`](super::Topology::transit_gateways).
    TgwIdx;
    /// Index into [`Topology::tgw_attachments`](super::Topology::tgw_attachments).
    TgwAttachmentIdx;
    /// Index into [`Topology::tgw_route_tables`](super::Topology::tgw_route_tables).
    TgwRouteTableIdx;
    /// Index into [`Topology::vpn_gateways`](super::Topology::vpn_gateways): a virtual private
    /// gateway.
    VgwIdx;
    /// Index into [`Topology::vpn_connections`](super::Topology::vpn_connections).
    VpnConnIdx;
    /// Index into [`Nlbs::load_balancers`](super::nlb::Nlbs::load_balancers): a Network Load
    /// Balancer.
    NlbIdx;
    /// Index into [`Nlbs::target_groups`](super::nlb::Nlbs::target_groups): a Network Load
    /// Balancer's target group.
    TargetGroupIdx;
    /// Index into [`Gwlbs::load_balancers`](super::gwlb::Gwlbs::load_balancers): a Gateway Load
    /// Balancer.
    GwlbIdx;
    /// Index into [`Gwlbs::target_groups`](super::gwlb::Gwlbs::target_groups): a Gateway Load
    /// Balancer's target group.
    GwlbTargetGroupIdx;
    /// Index into [`Gwlbs::endpoints`](super::gwlb::Gwlbs::endpoints): a Gateway Load Balancer
    /// endpoint.
    GwlbEndpointIdx;
    /// Index into [`Albs::load_balancers`](super::alb::Albs::load_balancers): an Application
    /// Load Balancer.
    AlbIdx;
    /// Index into [`NetworkFirewalls::firewalls`](super::network_firewall::NetworkFirewalls::firewalls):
    /// an AWS Network Firewall.
    FirewallIdx;
    /// Index into [`NetworkFirewalls::endpoints`](super::network_firewall::NetworkFirewalls::endpoints):
    /// a firewall endpoint.
    FirewallEndpointIdx;
}

impl ResId {
    /// The internet: origin of inbound traffic and the `at` of drops no resource can be blamed for.
    pub const INTERNET: ResId = ResId(0);
}

/// One table of the topology: a vector indexed by `I` only.
pub struct Table<I, T> {
    rows: Vec<T>,
    index: PhantomData<fn(I) -> I>,
}

impl<I, T> Table<I, T> {
    /// An empty table.
    pub const fn new() -> Table<I, T> {
        Table {
            rows: Vec::new(),
            index: PhantomData,
        }
    }
}

impl<I: TableIdx, T> Table<I, T> {
    /// Append a row; its index.
    #[inline]
    pub fn push(&mut self, row: T) -> I {
        self.rows.push(row);
        I::from(self.rows.len() - 1)
    }

    /// Number of rows.
    #[inline]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no row.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row at `i`, or `None` past the end.
    #[inline]
    pub fn get(&self, i: I) -> Option<&T> {
        self.rows.get(i.index())
    }

    /// The row at `i` to change it, or `None` past the end.
    #[inline]
    pub fn get_mut(&mut self, i: I) -> Option<&mut T> {
        self.rows.get_mut(i.index())
    }

    /// The rows as a slice (positions in it are the rows' indices).
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        &self.rows
    }

    /// The rows in order.
    #[inline]
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.rows.iter()
    }

    /// The rows in order, to change them.
    #[inline]
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.rows.iter_mut()
    }

    /// The rows in order, each with its index.
    #[inline]
    pub fn iter_enumerated(
        &self,
    ) -> impl DoubleEndedIterator<Item = (I, &T)> + ExactSizeIterator + Clone {
        self.rows
            .iter()
            .enumerate()
            .map(|(i, row)| (I::from(i), row))
    }

    /// The rows in order, each with its index, to change them.
    #[inline]
    pub fn iter_enumerated_mut(&mut self) -> impl Iterator<Item = (I, &mut T)> {
        self.rows
            .iter_mut()
            .enumerate()
            .map(|(i, row)| (I::from(i), row))
    }

    /// Every index, in order.
    #[inline]
    pub fn indices(&self) -> impl DoubleEndedIterator<Item = I> + ExactSizeIterator + Clone {
        (0..self.rows.len()).map(I::from)
    }

    /// The index of the first row that satisfies `pred`.
    #[inline]
    pub fn position(&self, pred: impl FnMut(&T) -> bool) -> Option<I> {
        self.rows.iter().position(pred).map(I::from)
    }
}

impl<I, T> Index<I> for Table<I, T>
where
    I: TableIdx,
{
    type Output = T;
    #[inline]
    fn index(&self, i: I) -> &T {
        &self.rows[i.index()]
    }
}

impl<I, T> IndexMut<I> for Table<I, T>
where
    I: TableIdx,
{
    #[inline]
    fn index_mut(&mut self, i: I) -> &mut T {
        &mut self.rows[i.index()]
    }
}

impl<I, T> Default for Table<I, T> {
    fn default() -> Table<I, T> {
        Table::new()
    }
}

impl<I, T: Clone> Clone for Table<I, T> {
    fn clone(&self) -> Table<I, T> {
        Table {
            rows: self.rows.clone(),
            index: PhantomData,
        }
    }
}

/// Prints as the vector would.
impl<I, T: fmt::Debug> fmt::Debug for Table<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.rows.fmt(f)
    }
}

impl<I, T> From<Vec<T>> for Table<I, T> {
    fn from(rows: Vec<T>) -> Table<I, T> {
        Table {
            rows,
            index: PhantomData,
        }
    }
}

impl<I, T> FromIterator<T> for Table<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(rows: It) -> Table<I, T> {
        Table::from(rows.into_iter().collect::<Vec<T>>())
    }
}

impl<'a, I, T> IntoIterator for &'a Table<I, T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter()
    }
}

impl<'a, I, T> IntoIterator for &'a mut Table<I, T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter_mut()
    }
}
