//! Rendering what the vpcsim pipeline decided, for people and for tools: verdict, packet and hop
//! JSON, the trace table, VPC Flow Logs, why a packet was dropped and the change that lets it
//! through, and self-contained HTML pages. No command-line parsing and no file I/O: callers
//! hand in the topology, verdicts and traces and get text, JSON or bytes back.

pub mod explain;
mod fastfmt;
pub mod flowlog;
pub mod flowlog_format;
pub mod flows;
pub mod graph;
pub mod html;
pub mod json;
pub mod reach;
pub mod summary;
pub mod text;
