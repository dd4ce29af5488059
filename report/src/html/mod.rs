//! Self-contained HTML pages: `vpcsim trace --html FILE` and `vpcsim report`.
//!
//! Everything is inline (CSS, SVG, a few lines of JS) so a page fetches nothing: it opens from a
//! file, a CI artifact or an offline laptop. Every string that comes from the topology (logical
//! ids, Name tags, rule texts) goes through [`esc`], so a template cannot inject markup. The
//! output depends only on the input: the same topology and flow give the same bytes.

mod assets;
mod map;
mod report;
mod trace;

pub use report::{report_index, FlowLink, Probe, ReachRow, ReportPage};
pub use trace::{trace_page, PathView, TracePage};

use crate::text::verdict_short;
use assets::CSS;
use std::fmt::Display;
use vpcsim_controlplane::Model;
use vpcsim_dataplane::{Disposition, Topology, Verdict};

/// Escape text for HTML content and quoted attribute values (also inside inline SVG).
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// IPv4 blocks or addresses, then IPv6 ones, as text.
fn both_families<A: Display, B: Display>(
    v4: impl IntoIterator<Item = A>,
    v6: impl IntoIterator<Item = B>,
) -> Vec<String> {
    v4.into_iter()
        .map(|a| a.to_string())
        .chain(v6.into_iter().map(|a| a.to_string()))
        .collect()
}

/// The topology files as given on the command line, for page headers.
pub fn sources(paths: &[std::path::PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.display().to_string()).collect()
}

/// `why: …` and `fix: …` lines of a drop's explanation, as `vpcsim trace` prints them.
pub fn explanation_notes(e: Option<&crate::explain::Explanation>, model: &Model) -> Vec<String> {
    let Some(e) = e else { return vec![] };
    let mut out = vec![format!("why: {} ({})", e.message, e.code)];
    match (&e.fix, e.no_fix) {
        (Some(f), _) => out.push(format!("fix: {}", f.describe(model))),
        (None, Some(why)) => out.push(format!("fix: none — {why}")),
        (None, None) => {}
    }
    out
}

/// The verdict as a class, the main line and the hint (drops only); main + " — " + hint is the
/// final line of the text output.
fn verdict_parts(topo: &Topology, v: &Verdict) -> (&'static str, String, Option<&'static str>) {
    let hint = match v.disposition {
        Disposition::Dropped => v.reason.map(|r| r.hint()),
        _ => None,
    };
    (verdict_class(v), verdict_short(topo, v), hint)
}

/// The class of a verdict (`delivered`, `exited`, `dropped`) for report links.
pub fn verdict_class(v: &Verdict) -> &'static str {
    match v.disposition {
        Disposition::Delivered => "delivered",
        Disposition::Exited => "exited",
        Disposition::Dropped => "dropped",
    }
}

/// The start of every page: doctype, title, the inline style sheet.
fn head(title: &str) -> String {
    format!(
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "<meta name=\"generator\" content=\"vpcsim\">",
            "<title>{}</title><style>{}</style></head>\n<body>\n"
        ),
        esc(title),
        CSS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }
}
