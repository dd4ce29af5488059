//! A walk's parts grouped for answers: per header its outcome, and per fate the headers.

use super::{Family, Fate, HeaderSet, Part, Point};
use std::collections::BTreeMap;

/// Why a part is not analysed when a transit gateway's flow-hash choice of zone matters.
pub const HASH_DEPENDENT: &str =
    "the transit gateway picks the Availability Zone by flow hash and the zones disagree";

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
    pub family: Family,
    pub requests: Vec<Part>,
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
}

impl Summary {
    /// Every request that arrives and gets its reply back.
    pub fn complete_set(&self) -> HeaderSet {
        let mut s = HeaderSet::new();
        for v in self.complete.values() {
            s.extend_disjoint(v.clone());
        }
        s.coalesce();
        s
    }

    /// Every request that arrives but whose reply does not get back.
    pub fn reply_blocked_set(&self) -> HeaderSet {
        let mut s = HeaderSet::new();
        for v in self.reply_blocked.values() {
            s.extend_disjoint(v.clone());
        }
        s.coalesce();
        s
    }
}

fn add_to(map: &mut BTreeMap<Fate, HeaderSet>, fate: &Fate, set: &HeaderSet) {
    map.entry(fate.clone())
        .or_default()
        .extend_disjoint(set.clone());
}

/// What the walk says about one header: its request and, when the request arrived at an
/// interface or left the topology, its reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub request: Fate,
    /// `None` when no reply is walked (the request did not arrive, or a link-local service
    /// answered it) or, with `reply_walked`, when no part of the reply walk holds the header.
    pub reply: Option<Fate>,
    pub reply_walked: bool,
}

/// Sets tagged with a key, where sets from a branched walk may overlap: a point of several
/// such sets is known only when they all carry the same key. Returns the known sets per key
/// and the undecided rest.
fn resolve<K: Ord + Clone>(leaves: Vec<(HeaderSet, K, bool)>) -> (Vec<(K, HeaderSet)>, HeaderSet) {
    let mut out = Vec::new();
    let mut branched: BTreeMap<K, HeaderSet> = BTreeMap::new();
    for (set, key, b) in leaves {
        if set.is_empty() {
            continue;
        }
        if b {
            let e = branched.entry(key).or_default();
            *e = e.union(&set);
        } else {
            out.push((key, set));
        }
    }
    let mut undecided = HeaderSet::new();
    let keys: Vec<K> = branched.keys().cloned().collect();
    for k in &keys {
        let mine = &branched[k];
        let mut known = mine.clone();
        for o in keys.iter().filter(|o| *o != k) {
            known = known.subtract(&branched[o]);
        }
        undecided = undecided.union(&mine.subtract(&known));
        out.push((k.clone(), known));
    }
    (out, undecided)
}

impl Analysis {
    /// The outcome of one header (`None`: no part of the walk holds it).
    pub fn outcome_at(&self, p: &Point) -> Option<Outcome> {
        let hits: Vec<usize> = (0..self.requests.len())
            .filter(|&i| self.requests[i].set.contains(p))
            .collect();
        let first = &self.requests[*hits.first()?].fate;
        if hits.iter().any(|&i| &self.requests[i].fate != first) {
            return Some(Outcome {
                request: Fate::NotAnalysed(HASH_DEPENDENT.into()),
                reply: None,
                reply_walked: false,
            });
        }
        let mut reply: Option<Fate> = None;
        let mut walked = false;
        for &i in &hits {
            let Replies::Parts(parts) = &self.replies[i] else {
                continue;
            };
            walked = true;
            for r in parts.iter().filter(|r| r.set.contains(p)) {
                match &reply {
                    None => reply = Some(r.fate.clone()),
                    Some(f) if *f == r.fate => {}
                    Some(_) => reply = Some(Fate::NotAnalysed(HASH_DEPENDENT.into())),
                }
            }
        }
        Some(Outcome {
            request: first.clone(),
            reply,
            reply_walked: walked,
        })
    }

    pub fn summary(&self) -> Summary {
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
        enum Cat {
            Complete(Fate),
            ReplyBlocked(Fate),
            Blocked(Fate),
        }
        let mut leaves = Vec::new();
        let mut requests = Vec::new();
        for (req, rep) in self.requests.iter().zip(&self.replies) {
            let b = req.ctx.branched;
            requests.push((req.set.clone(), req.fate.clone(), b));
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
                        leaves.push((r.set.clone(), cat, b || r.ctx.branched));
                    }
                }
            }
        }
        let (known, undecided) = resolve(leaves);
        let (_, request_undecided) = resolve(requests);
        let mut s = Summary::default();
        for (cat, set) in known {
            match cat {
                Cat::Complete(f) => add_to(&mut s.complete, &f, &set),
                Cat::ReplyBlocked(f) => add_to(&mut s.reply_blocked, &f, &set),
                Cat::Blocked(f) => add_to(&mut s.blocked, &f, &set),
            }
        }
        let why = Fate::NotAnalysed(HASH_DEPENDENT.into());
        let blocked = undecided.intersect(&request_undecided);
        add_to(&mut s.blocked, &why, &blocked);
        add_to(&mut s.reply_blocked, &why, &undecided.subtract(&blocked));
        for m in [&mut s.complete, &mut s.reply_blocked, &mut s.blocked] {
            m.retain(|_, v| !v.is_empty());
            for v in m.values_mut() {
                v.coalesce();
            }
        }
        s
    }
}
