//! Resource names typed on the command line (`--from`, `--at`, `--to`, `--target-health`): one
//! lookup and one wording for a name that does not exist, with the closest names as "did you
//! mean …?" and the list of what the option accepts, so a typo costs one more try, not a trip
//! through `vpcsim validate`.

use vpcsim_dataplane::{ResId, Topology};

/// Candidates listed at most; a snapshot can hold thousands of interfaces.
const MAX_LISTED: usize = 20;
/// Suggestions at most.
const MAX_SUGGESTED: usize = 3;

/// Something a name may denote: what the error lists it as, and every spelling the lookup
/// accepts for it (logical id or Terraform address, AWS id or ARN, `Name` tag).
pub struct Candidate<T> {
    pub value: T,
    pub shown: String,
    pub spellings: Vec<String>,
}

/// What kind of thing was expected, singular and plural (`instance or interface`, `instances and
/// interfaces`).
pub struct Noun {
    pub one: String,
    pub many: String,
}

impl Noun {
    pub fn new(one: &str, many: &str) -> Noun {
        Noun {
            one: one.into(),
            many: many.into(),
        }
    }
}

/// The candidate `given` spells (case-sensitively, as AWS ids are), or the error: several
/// candidates share that spelling (a `Name` tag), or none has it.
pub fn lookup<T: Copy>(given: &str, candidates: &[Candidate<T>], noun: &Noun) -> Result<T, String> {
    lookup_in(given, candidates, noun, "")
}

/// [`lookup`] with a place (` in target group WebTargets`) after the name in the error.
pub fn lookup_in<T: Copy>(
    given: &str,
    candidates: &[Candidate<T>],
    noun: &Noun,
    place: &str,
) -> Result<T, String> {
    let exact: Vec<&Candidate<T>> = candidates
        .iter()
        .filter(|c| c.spellings.iter().any(|s| s == given))
        .collect();
    match exact.as_slice() {
        [one] => Ok(one.value),
        [] => Err(not_found(given, candidates, noun, place)),
        several => Err(format!(
            "{given:?} names several {}{place}: {}; give a logical id or AWS id",
            noun.many,
            list(several.iter().map(|c| c.shown.as_str()).collect())
        )),
    }
}

/// `no instance or interface named "WebInstanse"; did you mean WebInstance? (instances and
/// interfaces: AppInstanceA, AppInstanceB, WebInstance)`.
pub fn not_found<T>(given: &str, candidates: &[Candidate<T>], noun: &Noun, place: &str) -> String {
    let mut msg = format!("no {} named {given:?}{place}", noun.one);
    let close = suggestions(given, candidates);
    if !close.is_empty() {
        msg.push_str("; did you mean ");
        msg.push_str(&or_list(&close));
        msg.push('?');
    }
    if candidates.is_empty() {
        msg.push_str(&format!(" (there are no {})", noun.many));
    } else {
        let mut shown: Vec<&str> = candidates.iter().map(|c| c.shown.as_str()).collect();
        shown.sort_unstable();
        shown.dedup();
        msg.push_str(&format!(" ({}: {})", noun.many, list(shown)));
    }
    msg
}

/// The spellings within reach of a typo, closest first: edit distance ignoring case (so
/// `webinstance` finds `WebInstance`), at most a third of the name's length (and at least 2).
fn suggestions<T>(given: &str, candidates: &[Candidate<T>]) -> Vec<String> {
    let lower = given.to_lowercase();
    let limit = (lower.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = candidates
        .iter()
        .filter_map(|c| {
            c.spellings
                .iter()
                .map(|s| (strsim::levenshtein(&lower, &s.to_lowercase()), s.as_str()))
                .min()
        })
        .filter(|(d, _)| *d <= limit)
        .collect();
    scored.sort_unstable();
    let mut out: Vec<String> = Vec::new();
    for (_, s) in scored {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
        if out.len() == MAX_SUGGESTED {
            break;
        }
    }
    out
}

/// `A`, `A or B`, `A, B or C`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// `A, B, C`, cut after [`MAX_LISTED`] with `and N more`.
fn list(items: Vec<&str>) -> String {
    let more = items.len().saturating_sub(MAX_LISTED);
    let mut s = items[..items.len().min(MAX_LISTED)].join(", ");
    if more > 0 {
        s.push_str(&format!(", and {more} more"));
    }
    s
}

/// Every spelling `Topology::find_resource` accepts for a resource.
fn spellings(topo: &Topology, r: ResId) -> Vec<String> {
    let res = topo.resource(r);
    let mut s = vec![res.logical_id.clone()];
    if res.aws_id != res.logical_id {
        s.push(res.aws_id.clone());
    }
    if let Some(n) = res.name.as_ref().filter(|n| **n != res.logical_id) {
        s.push(n.clone());
    }
    s
}

/// What a resource is called in an error, by the kinds a packet can start at or go to; anything
/// else that resolves does so through its network interface (a NAT gateway, an endpoint).
fn category(kind: &str) -> usize {
    match kind {
        "AWS::EC2::Instance" => 0,
        "AWS::EC2::CustomerGateway" => 2,
        "AWS::EC2::VPNConnection" => 3,
        "AWS::EC2::VPNGateway" => 4,
        k if k.starts_with("AWS::EC2::TransitGateway") => 5,
        _ => 1,
    }
}

const CATEGORIES: [(&str, &str); 6] = [
    ("instance", "instances"),
    ("interface", "interfaces"),
    ("customer gateway", "customer gateways"),
    ("VPN connection", "VPN connections"),
    ("virtual private gateway", "virtual private gateways"),
    ("transit gateway attachment", "transit gateway attachments"),
];

/// The resources `accepts` takes, as candidates, and the noun for the kinds among them
/// (instances and interfaces when there are none).
pub fn resources(
    topo: &Topology,
    accepts: impl Fn(ResId) -> bool,
) -> (Vec<Candidate<ResId>>, Noun) {
    let mut present = [false; CATEGORIES.len()];
    let candidates: Vec<Candidate<ResId>> = topo
        .resources
        .iter_enumerated()
        .filter(|(r, _)| accepts(*r))
        .map(|(r, res)| {
            present[category(&res.kind)] = true;
            Candidate {
                value: r,
                shown: res.logical_id.clone(),
                spellings: spellings(topo, r),
            }
        })
        .collect();
    if !present.contains(&true) {
        present[0] = true;
        present[1] = true;
    }
    let kinds: Vec<(&str, &str)> = CATEGORIES
        .iter()
        .zip(present)
        .filter(|(_, p)| *p)
        .map(|(c, _)| *c)
        .collect();
    let join = |words: Vec<&str>, conj: &str| match words.as_slice() {
        [init @ .., last] if !init.is_empty() => format!("{} {conj} {last}", init.join(", ")),
        _ => words.concat(),
    };
    let noun = Noun {
        one: join(kinds.iter().map(|k| k.0).collect(), "or"),
        many: join(kinds.iter().map(|k| k.1).collect(), "and"),
    };
    (candidates, noun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(names: &[&str]) -> Vec<Candidate<usize>> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| Candidate {
                value: i,
                shown: n.to_string(),
                spellings: vec![n.to_string()],
            })
            .collect()
    }

    #[test]
    fn typo_gets_the_closest_names_first() {
        let noun = Noun::new("instance or interface", "instances and interfaces");
        let e = lookup("WebInstanse", &c(&["WebInstance", "AppInstanceA"]), &noun).unwrap_err();
        assert_eq!(
            e,
            "no instance or interface named \"WebInstanse\"; did you mean WebInstance? \
             (instances and interfaces: AppInstanceA, WebInstance)"
        );
        let e = lookup("Ap", &c(&["A", "App", "Apps", "Ax", "Bzzzz"]), &noun).unwrap_err();
        // Three at most: Apps (two edits) is left out.
        assert!(e.contains("did you mean A, App or Ax?"), "{e}");
    }

    #[test]
    fn exact_and_ambiguous() {
        let noun = Noun::new("x", "xs");
        assert_eq!(lookup("b", &c(&["a", "b"]), &noun), Ok(1));
        let e = lookup("a", &c(&["a", "a"]), &noun).unwrap_err();
        assert!(e.contains("names several xs"), "{e}");
        assert_eq!(
            not_found("a", &c(&[]), &noun, ""),
            "no x named \"a\" (there are no xs)"
        );
    }

    #[test]
    fn list_is_capped() {
        let many: Vec<String> = (0..25).map(|i| format!("Host{i:02}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let e = not_found("Zebra", &c(&refs), &Noun::new("x", "xs"), "");
        assert!(e.ends_with("Host19, and 5 more)"), "{e}");
        assert!(!e.contains("did you mean"), "{e}");
    }
}
