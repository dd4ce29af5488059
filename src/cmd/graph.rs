//! `vpcsim graph`: the pipeline's stage graph, as the code defines it.

use clap::{Args, ValueEnum};

/// How to draw the graph.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// Nodes, what each one is, and where a packet goes from it.
    Text,
    /// Graphviz: `vpcsim graph --format dot | dot -Tsvg > graph.svg`.
    Dot,
    /// A Mermaid flowchart, for Markdown (the README's drawing is this output).
    Mermaid,
}

/// Arguments of `vpcsim graph`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim graph
  vpcsim graph --format dot | dot -Tsvg > graph.svg
  vpcsim graph --format mermaid

Every packet `trace`, `replay` and the health checks push, and every set of headers `reach`
and `diff` analyse, walks these nodes; `replay --stats` and summary.json count packets and
drops per node.")]
pub struct GraphArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Print the graph.
pub fn run(args: &GraphArgs) -> i32 {
    let text = match args.format {
        Format::Text => vpcsim_report::graph::text(),
        Format::Dot => vpcsim_report::graph::dot(),
        Format::Mermaid => vpcsim_report::graph::mermaid(),
    };
    crate::cmd::reach::out(&text);
    0
}
