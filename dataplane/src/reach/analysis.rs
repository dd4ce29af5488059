//! A walk's parts grouped for answers: per header its outcome, and per fate the headers.
//!
//! Where the pipeline picks by flow hash (a transit gateway's zone in appliance mode, a Network
//! Load Balancer's target, a Gateway Load Balancer's appliance) the walk followed every answer:
//! those parts overlap. A header whose answers agree has that fate; a header whose answers
//! differ has [`Fate::OneOf`] them, since which one a given flow gets depends on its hash.

use super::{Family, Fate, HeaderSet, Part, Point};
use std::collections::{BTreeMap, BTreeSet};

/// How the answer for headers whose flow-hash choices disagree is described.
pub const HASH_DEPENDENT: &str =
    "each flow gets one, picked by its flow hash: a transit gateway's zone, a load balancer's healthy target or appliance";

/// What happened to the replies of one part of the requests.
#[derive(Clone, Debug)]
pub enum Replies {
    /// The request did not arrive.
    None,
    /// Answered by a link-local service: not filtered.
    Unfiltered,
    /// The replies' walk, in the coordinates of the requests they answer.
    Parts(Vec<Part>),
}

/// Requests and, for each part that arrived, its replies.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The address family analysed.
    pub family: Family,
    /// The requests' parts.
    pub requests: Vec<Part>,
    /// For each request part, what happened to its replies.
    pub replies: Vec<Replies>,
}

/// An analysis grouped for output; every set is in the coordinates of the requests.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Requests that arrive and whose replies get back, by where the requests arrive.
    pub complete: BTreeMap<Fate, HeaderSet>,
    /// Requests that arrive but whose replies do not, by what happens to the replies.
    pub reply_blocked: BTreeMap<Fate, HeaderSet>,
    /// Requests that do not arrive (dropped, or not analysed).
    pub blocked: BTreeMap<Fate, HeaderSet>,
    /// Requests that get through for some answers of a flow-hash choice and not for others,
    /// by [`Fate::OneOf`] what decides each answer (where the request arrives when its reply
    /// gets back; the reply's fate when it does not; the request's fate when it is dropped).
    pub depends: BTreeMap<Fate, HeaderSet>,
}

impl Summary {
    /// Every request that arrives and gets its reply back.
    pub fn complete_set(&self) -> HeaderSet {
        union_of(&self.complete)
    }

    /// Every request that arrives but whose reply does not get back.
    pub fn reply_blocked_set(&self) -> HeaderSet {
        union_of(&self.reply_blocked)
    }
}

fn union_of(m: &BTreeMap<Fate, HeaderSet>) -> HeaderSet {
    let mut s = HeaderSet::new();
    for v in m.values() {
        s.extend_disjoint(v.clone());
    }
    s.coalesce();
    s
}

fn add_to(map: &mut BTreeMap<Fate, HeaderSet>, fate: Fate, set: &HeaderSet) {
    if !set.is_empty() {
        map.entry(fate).or_default().extend_disjoint(set.clone());
    }
}

/// What the walk says about one header: its request and, when the request arrived at an
/// interface or left the topology, its reply. Either may be [`Fate::OneOf`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// What happens to the request.
    pub request: Fate,
    /// `None` when no reply is walked (the request did not arrive, or a link-local service
    /// answered it) or, with `reply_walked`, when no part of the reply walk holds the header.
    pub reply: Option<Fate>,
    /// A reply walk exists for the request.
    pub reply_walked: bool,
}

/// The fate several answers of a flow-hash choice give: the one they agree on, or
/// [`Fate::OneOf`] the distinct ones.
pub fn one_of(fates: impl IntoIterator<Item = Fate>) -> Fate {
    let mut all: BTreeSet<Fate> = BTreeSet::new();
    for f in fates {
        match f {
            Fate::OneOf(v) => all.extend(v),
            f => {
                all.insert(f);
            }
        }
    }
    if all.len() == 1 {
        all.into_iter().next().unwrap_or(Fate::OneOf(Vec::new()))
    } else {
        Fate::OneOf(all.into_iter().collect())
    }
}

/// Sets tagged with a key, where sets from a branched walk (`true`) may overlap: every point
/// with the keys of all sets that hold it. Sets that are not branched never overlap anything.
fn resolve<K: Ord + Clone>(leaves: Vec<(HeaderSet, K, bool)>) -> Vec<(Vec<K>, HeaderSet)> {
    let mut out: Vec<(Vec<K>, HeaderSet)> = Vec::new();
    let mut pieces: Vec<(BTreeSet<K>, HeaderSet)> = Vec::new();
    for (set, key, branched) in leaves {
        if set.is_empty() {
            continue;
        }
        if !branched {
            out.push((vec![key], set));
            continue;
        }
        let mut left = set;
        let mut next: Vec<(BTreeSet<K>, HeaderSet)> = Vec::with_capacity(pieces.len() + 1);
        for (keys, piece) in pieces {
            let both = piece.intersect(&left);
            if both.is_empty() {
                next.push((keys, piece));
                continue;
            }
            left = left.subtract(&both);
            let only = piece.subtract(&both);
            if !only.is_empty() {
                next.push((keys.clone(), only));
            }
            let mut k = keys;
            k.insert(key.clone());
            next.push((k, both));
        }
        if !left.is_empty() {
            next.push((BTreeSet::from([key]), left));
        }
        pieces = next;
    }
    let mut grouped: BTreeMap<Vec<K>, HeaderSet> = BTreeMap::new();
    for (keys, set) in pieces {
        grouped
            .entry(keys.into_iter().collect())
            .or_default()
            .extend_disjoint(set);
    }
    out.extend(grouped);
    out
}

/// Where a request ends up, for grouping.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Cat {
    Complete(Fate),
    ReplyBlocked(Fate),
    Blocked(Fate),
}

impl Analysis {
    /// Every answer for one header: per part that holds it, the request's fate and (when
    /// walked) the reply's. One entry unless a flow-hash choice was followed every way.
    pub fn alternatives_at(&self, p: &Point) -> Vec<(Fate, Option<Fate>)> {
        let mut out = Vec::new();
        for (req, rep) in self.requests.iter().zip(&self.replies) {
            if !req.set.contains(p) {
                continue;
            }
            match rep {
                Replies::Parts(parts) => {
                    let replies: Vec<&Part> = parts.iter().filter(|r| r.set.contains(p)).collect();
                    if replies.is_empty() {
                        out.push((req.fate.clone(), None));
                    }
                    for r in replies {
                        out.push((req.fate.clone(), Some(r.fate.clone())));
                    }
                }
                _ => out.push((req.fate.clone(), None)),
            }
        }
        out
    }

    /// The outcome of one header (`None`: no part of the walk holds it).
    pub fn outcome_at(&self, p: &Point) -> Option<Outcome> {
        let hits: Vec<usize> = (0..self.requests.len())
            .filter(|&i| self.requests[i].set.contains(p))
            .collect();
        if hits.is_empty() {
            return None;
        }
        let request = one_of(hits.iter().map(|&i| self.requests[i].fate.clone()));
        let mut replies = Vec::new();
        let mut walked = false;
        for &i in &hits {
            let Replies::Parts(parts) = &self.replies[i] else {
                continue;
            };
            walked = true;
            replies.extend(
                parts
                    .iter()
                    .filter(|r| r.set.contains(p))
                    .map(|r| r.fate.clone()),
            );
        }
        let reply = (!replies.is_empty()).then(|| one_of(replies));
        Some(Outcome {
            request,
            reply,
            reply_walked: walked,
        })
    }

    /// The analysis grouped by outcome.
    pub fn summary(&self) -> Summary {
        let mut leaves = Vec::new();
        for (req, rep) in self.requests.iter().zip(&self.replies) {
            let b = req.branched();
            match rep {
                Replies::None => leaves.push((req.set.clone(), Cat::Blocked(req.fate.clone()), b)),
                Replies::Unfiltered => {
                    leaves.push((req.set.clone(), Cat::Complete(req.fate.clone()), b))
                }
                Replies::Parts(parts) => {
                    for r in parts {
                        let cat = if r.fate.arrives() {
                            Cat::Complete(req.fate.clone())
                        } else {
                            Cat::ReplyBlocked(r.fate.clone())
                        };
                        leaves.push((r.set.clone(), cat, b || r.branched()));
                    }
                }
            }
        }
        let mut s = Summary::default();
        for (cats, set) in resolve(leaves) {
            match cats.as_slice() {
                [Cat::Complete(f)] => add_to(&mut s.complete, f.clone(), &set),
                [Cat::ReplyBlocked(f)] => add_to(&mut s.reply_blocked, f.clone(), &set),
                [Cat::Blocked(f)] => add_to(&mut s.blocked, f.clone(), &set),
                _ => {
                    let fates = cats.iter().map(|c| match c {
                        Cat::Complete(f) | Cat::ReplyBlocked(f) | Cat::Blocked(f) => f.clone(),
                    });
                    let map = if cats.iter().all(|c| matches!(c, Cat::Complete(_))) {
                        &mut s.complete
                    } else if cats.iter().all(|c| matches!(c, Cat::ReplyBlocked(_))) {
                        &mut s.reply_blocked
                    } else if cats.iter().all(|c| matches!(c, Cat::Blocked(_))) {
                        &mut s.blocked
                    } else {
                        &mut s.depends
                    };
                    add_to(map, one_of(fates), &set);
                }
            }
        }
        for m in [
            &mut s.complete,
            &mut s.reply_blocked,
            &mut s.blocked,
            &mut s.depends,
        ] {
            m.retain(|_, v| !v.is_empty());
            for v in m.values_mut() {
                v.coalesce();
            }
        }
        s
    }
}
