//! Resource dependency ordering.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use super::codes::{CIRCULAR_DEPENDENCY, UNRESOLVED_REFERENCE};
use super::eval::{is_pseudo, Evaluator};
use super::funcs::{self, SubPart};
use super::{CfnError, Intrinsic, Node};

/// How a resource refers to a name, for error messages.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum RefKind {
    Ref,
    GetAtt,
    DependsOn,
}

impl<'t> Evaluator<'t> {
    /// Resource indices (into `template.resources`) in an order where every resource comes
    /// after everything it references. Disabled resources are left out, and only the `Fn::If`
    /// branches the conditions select count, as in CloudFormation.
    pub fn dependency_order(&self) -> Result<Vec<usize>, Vec<CfnError>> {
        let (order, errors) = self.buildable_order();
        if errors.is_empty() {
            Ok(order)
        } else {
            Err(errors)
        }
    }

    /// Like [`Self::dependency_order`], but never all-or-nothing: every problem, and the order
    /// of the resources that can still be built (neither a broken reference nor a cycle in
    /// them or in anything they depend on), so the checks of later phases still run on them.
    pub fn buildable_order(&self) -> (Vec<usize>, Vec<CfnError>) {
        let resources = &self.template.resources;
        let mut errors = Vec::new();
        let mut enabled = vec![false; resources.len()];
        for (i, r) in resources.iter().enumerate() {
            match self.resource_enabled(r) {
                Ok(e) => enabled[i] = e,
                Err(e) => errors.push(e),
            }
        }
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); resources.len()];
        let mut broken = vec![false; resources.len()];
        for (i, r) in resources.iter().enumerate() {
            if !enabled[i] {
                continue;
            }
            let mut refs: BTreeSet<(&str, RefKind)> = BTreeSet::new();
            self.collect_refs(&r.properties, &mut refs);
            refs.extend(
                r.depends_on
                    .iter()
                    .map(|d| (d.as_str(), RefKind::DependsOn)),
            );
            let mut d = BTreeSet::new();
            let before = errors.len();
            for (name, kind) in refs {
                let target = self.resource_index.get(name).copied();
                match (target, kind) {
                    (Some(j), _) if enabled[j] => {
                        d.insert(j);
                    }
                    (Some(j), _) => errors.push(self.error(
                        Some(&r.logical_id),
                        UNRESOLVED_REFERENCE,
                        format!(
                            "references resource {name}, which is not created because condition {} is false",
                            resources[j].condition.as_deref().unwrap_or("?")
                        ),
                    )),
                    (None, RefKind::Ref) if is_pseudo(name) || self.params.contains_key(name) => {}
                    (None, RefKind::Ref) => errors.push(self.error(
                        Some(&r.logical_id),
                        UNRESOLVED_REFERENCE,
                        format!("{name} is not a parameter, pseudo parameter or resource"),
                    )),
                    (None, RefKind::GetAtt) => errors.push(self.error(
                        Some(&r.logical_id),
                        UNRESOLVED_REFERENCE,
                        format!("Fn::GetAtt names {name}, which is not a resource"),
                    )),
                    (None, RefKind::DependsOn) => errors.push(self.error(
                        Some(&r.logical_id),
                        UNRESOLVED_REFERENCE,
                        format!("DependsOn names {name}, which is not a resource"),
                    )),
                }
            }
            broken[i] = errors.len() > before;
            deps[i] = d.into_iter().collect();
        }
        let (order, cycles) = topo_sort(&deps);
        for cycle in cycles {
            let names: Vec<&str> = cycle
                .iter()
                .map(|&i| resources[i].logical_id.as_str())
                .collect();
            errors.push(self.error(
                Some(names[0]),
                CIRCULAR_DEPENDENCY,
                format!(
                    "circular dependency between resources: {}",
                    names.join(", ")
                ),
            ));
        }
        // `order` puts dependencies first, so one pass carries breakage to the dependents.
        let mut buildable = Vec::new();
        for i in order {
            if deps[i].iter().any(|&j| broken[j]) {
                broken[i] = true;
            }
            if enabled[i] && !broken[i] {
                buildable.push(i);
            }
        }
        (buildable, errors)
    }

    fn collect_refs<'n>(&self, node: &'n Node, out: &mut BTreeSet<(&'n str, RefKind)>) {
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            match n {
                Node::List(items) => stack.extend(items),
                Node::Map(entries) => stack.extend(entries.iter().map(|(_, v)| v)),
                Node::Fn(f) => match &**f {
                    Intrinsic::Ref(name) => {
                        out.insert((name, RefKind::Ref));
                    }
                    Intrinsic::GetAtt(res, _) => {
                        out.insert((res, RefKind::GetAtt));
                    }
                    Intrinsic::Sub(s, vars) => {
                        for part in funcs::sub_parts(s) {
                            let SubPart::Var(name) = part else { continue };
                            if vars.iter().any(|(v, _)| v == name) {
                                continue;
                            }
                            let whole_is_known = is_pseudo(name)
                                || self.params.contains_key(name)
                                || self.resource_index.contains_key(name);
                            match name.split_once('.') {
                                Some((res, _)) if !whole_is_known => {
                                    out.insert((res, RefKind::GetAtt));
                                }
                                _ => {
                                    out.insert((name, RefKind::Ref));
                                }
                            }
                        }
                        stack.extend(vars.iter().map(|(_, v)| v));
                    }
                    // Unknown conditions were reported by `Evaluator::new`; follow both
                    // branches then so nothing is silently skipped.
                    Intrinsic::If(cond, a, b) => match self.conditions.get(cond.as_str()) {
                        Some(true) => stack.push(a),
                        Some(false) => stack.push(b),
                        None => stack.extend([a, b]),
                    },
                    other => stack.extend(other.args()),
                },
                _ => {}
            }
        }
    }
}

/// Topological order of a graph given as `deps[i]` = nodes `i` depends on, preferring lower
/// indices (file order) among ready nodes. Also returns the cycles (strongly connected
/// components with more than one node, or a self-loop), each sorted by index; nodes that only
/// depend on a cycle appear in neither.
pub(super) fn topo_sort(deps: &[Vec<usize>]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let n = deps.len();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut pending = vec![0usize; n];
    for (i, d) in deps.iter().enumerate() {
        for &j in d {
            if j < n {
                dependents[j].push(i);
                pending[i] += 1;
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| pending[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for &k in &dependents[i] {
            pending[k] -= 1;
            if pending[k] == 0 {
                ready.push(Reverse(k));
            }
        }
    }
    if order.len() == n {
        return (order, Vec::new());
    }
    let mut done = vec![false; n];
    for &i in &order {
        done[i] = true;
    }
    (order, strongly_connected(deps, &done))
}

/// Iterative Tarjan over the nodes not yet `done`; returns the components that are cycles.
fn strongly_connected(deps: &[Vec<usize>], done: &[bool]) -> Vec<Vec<usize>> {
    let n = deps.len();
    const UNSEEN: usize = usize::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0usize;
    let mut cycles = Vec::new();
    for root in 0..n {
        if done[root] || index[root] != UNSEEN {
            continue;
        }
        // (node, position in its dependency list)
        let mut work = vec![(root, 0usize)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut pos)) = work.last_mut() {
            if let Some(&w) = deps[v].get(*pos) {
                *pos += 1;
                if w >= n || done[w] {
                    continue;
                }
                if index[w] == UNSEEN {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 || deps[v].contains(&v) {
                    component.sort_unstable();
                    cycles.push(component);
                }
            }
        }
    }
    cycles.sort();
    cycles
}

#[cfg(test)]
mod tests {
    use super::topo_sort;

    #[test]
    fn orders_and_finds_cycles() {
        let (order, cycles) = topo_sort(&[vec![1], vec![], vec![0, 1]]);
        assert_eq!(order, vec![1, 0, 2]);
        assert!(cycles.is_empty());

        // 0 <-> 1 cycle, 2 depends on the cycle, 3 self-loop, 4 free.
        let (order, cycles) = topo_sort(&[vec![1], vec![0], vec![0], vec![3], vec![]]);
        assert_eq!(order, vec![4]);
        assert_eq!(cycles, vec![vec![0, 1], vec![3]]);
    }
}
