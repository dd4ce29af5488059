//! The stage graph of the pipeline, drawn from the data that defines it
//! ([`vpcsim_dataplane::pipeline::graph`]): as text, as Graphviz `dot`, as a Mermaid flowchart
//! (what the README shows).

use std::fmt::Write;
use vpcsim_dataplane::pipeline::graph::{Edge, End};
use vpcsim_dataplane::pipeline::NodeKind;

fn edge_name(e: &Edge) -> &'static str {
    match e {
        Edge::Node(k) => k.name(),
        Edge::End(x) => x.name(),
    }
}

/// Every node with what it is and where a packet goes from it; the origins first.
pub fn text() -> String {
    let edges: usize = NodeKind::ALL.iter().map(|k| k.edges().len()).sum();
    let mut out = format!(
        "stage graph: {} nodes, {edges} edges (`vpcsim graph --format dot | dot -Tsvg` draws it)\n\nstarts:\n",
        NodeKind::COUNT
    );
    for (origin, node) in NodeKind::STARTS {
        let _ = writeln!(out, "  {origin:<28} → {}", node.name());
    }
    out.push_str("\nnodes:\n");
    let width = NodeKind::ALL
        .iter()
        .map(|k| k.name().len())
        .max()
        .unwrap_or(0);
    for k in NodeKind::ALL {
        let _ = writeln!(out, "  {:<width$}  {}", k.name(), k.what());
        let to: Vec<&str> = k.edges().iter().map(edge_name).collect();
        let _ = writeln!(out, "  {:<width$}    → {}", "", to.join(", "));
    }
    out
}

/// Graphviz `dot`.
pub fn dot() -> String {
    let mut out = String::from(
        "digraph vpcsim {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    for end in [End::Deliver, End::Exit, End::Drop] {
        let _ = writeln!(out, "  \"{}\" [shape=oval];", end.name());
    }
    for (origin, node) in NodeKind::STARTS {
        let _ = writeln!(
            out,
            "  \"from {origin}\" [shape=plaintext];\n  \"from {origin}\" -> \"{}\";",
            node.name()
        );
    }
    for k in NodeKind::ALL {
        for e in k.edges() {
            let _ = writeln!(out, "  \"{}\" -> \"{}\";", k.name(), edge_name(e));
        }
    }
    out.push_str("}\n");
    out
}

/// A Mermaid flowchart (GitHub renders it in Markdown). Edges to `DROP` are left out: nearly
/// every node can drop, and the text and `dot` forms list them.
pub fn mermaid() -> String {
    let id = |name: &str| name.replace('-', "_");
    let mut out = String::from("flowchart TD\n");
    for (i, (origin, node)) in NodeKind::STARTS.iter().enumerate() {
        let _ = writeln!(out, "  start{i}([{origin}]) --> {}", id(node.name()));
    }
    for k in NodeKind::ALL {
        let _ = writeln!(out, "  {}[{}]", id(k.name()), k.name());
    }
    for end in [End::Deliver, End::Exit] {
        let _ = writeln!(out, "  {}(({}))", end.name(), end.name());
    }
    for k in NodeKind::ALL {
        for e in k.edges() {
            let to = match e {
                Edge::Node(n) => id(n.name()),
                Edge::End(End::Drop) => continue,
                Edge::End(x) => x.name().to_string(),
            };
            let _ = writeln!(out, "  {} --> {to}", id(k.name()));
        }
    }
    out
}
