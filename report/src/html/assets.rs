//! The inline style sheet and script every page carries, and the map's legend.

pub(super) const LEGEND: &str = concat!(
    r#"<div class="legend"><span><i class="sw public"></i>public subnet</span>"#,
    r#"<span><i class="sw private"></i>private subnet</span>"#,
    r#"<span><i class="sw host"></i>instance / interface</span>"#,
    r#"<span><i class="sw nat"></i>NAT gateway</span>"#,
    r#"<span><i class="sw gateway"></i>gateway / peering</span>"#,
    r#"<span><i class="sw other"></i>other</span>"#,
);

pub(super) const CSS: &str = r#"
:root{--fwd:#1f6feb;--ret:#d9480f;--bad:#c92a2a;--ok:#2b8a3e;--line:#d0d7de;--muted:#57606a}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2328;background:#f6f8fa}
code{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
header{padding:12px 20px 12px;background:#fff;border-bottom:1px solid var(--line)}
h1{font-size:18px;margin:0 0 2px}
h1 code.flow{font-size:16px;background:#eef1f4;padding:2px 8px;border-radius:4px;margin-left:6px}
h2{font-size:16px;margin:22px 0 8px}
.sub,.muted{color:var(--muted)}
.sub{font-size:13px}
a.back{font-size:13px;display:inline-block;margin-bottom:4px}
.verdicts{display:flex;flex-wrap:wrap;gap:8px 16px;margin-top:8px}
.verdict{font-size:19px;font-weight:700;padding:6px 14px;border-radius:6px;border-left:6px solid}
.verdict .which{font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.06em;margin-right:10px;opacity:.8}
.verdict .hint{font-weight:400;font-size:14px}
.verdict.delivered{background:#e6f4ea;border-color:var(--ok);color:#14532d}
.verdict.exited{background:#e7f0fd;border-color:var(--fwd);color:#0b3d91}
.verdict.dropped{background:#fdecec;border-color:var(--bad);color:#7f1d1d}
.verdict .note{font-size:13px;font-weight:400;margin-top:2px}
.verdict.none{background:#f1f3f5;border-color:#adb5bd;color:#495057;font-size:15px}
main{display:flex;gap:16px;padding:14px 20px 0;align-items:flex-start}
.map{flex:1;min-width:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px}
.map svg{display:block;max-width:100%;height:auto}
aside{width:380px;flex:none;position:sticky;top:10px;background:#fff;border:1px solid var(--line);border-radius:8px;padding:4px 14px 12px;overflow-wrap:anywhere}
aside h3{font-size:15px;margin:10px 0 8px;display:flex;align-items:center;gap:8px}
dl{margin:0;display:grid;grid-template-columns:88px 1fr;gap:6px 10px;font-size:13px}
dt{color:var(--muted)}
dd{margin:0}
dd.bad,td.bad{color:var(--bad);font-weight:600}
dd.good,td.good{color:var(--ok);font-weight:600}
dd.v-dropped{color:var(--bad)}
dd.v-delivered,dd.v-exited{color:var(--ok)}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:#424a53;padding:6px 4px 2px}
.legend i{display:inline-block;width:14px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px;border:1px solid #8c959f}
.legend i.ln{height:0;border:0;border-top:3px solid var(--fwd);width:22px;vertical-align:3px}
.legend i.ln.return{border-top:3px dashed var(--ret)}
.sw.public{background:#e3f4e1}.sw.private{background:#e4eefb}.sw.host{background:#fff}
.sw.nat{background:#fff1dc}.sw.gateway{background:#f3e8fd}.sw.other{background:#f1f3f5}
.tables{padding:0 20px 28px}
table{border-collapse:collapse;background:#fff;border:1px solid var(--line);font-size:13px;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td ul{margin:0;padding-left:16px}
tr.hop-row{cursor:pointer}
tr.hop-row:hover{background:#f6f8fa}
tr.hop-row.selected{background:#fff8c5}
td.changed code{background:#fff1dc}
.dot{display:inline-flex;align-items:center;justify-content:center;min-width:20px;height:20px;border-radius:10px;color:#fff;font-size:11px;font-weight:700;background:var(--fwd)}
.dot.return{background:var(--ret)}
tr.bad .dot,.dot.bad{background:var(--bad)}
.probe{display:inline-block;margin:1px 6px 1px 0;padding:1px 8px;border-radius:10px;font-size:12px;white-space:nowrap}
.probe.ok{background:#e6f4ea;color:#14532d}
.probe.bad{background:#fdecec;color:#7f1d1d}
.pill{font-size:12px;padding:1px 8px;border-radius:10px}
.pill.delivered,.pill.exited{background:#e6f4ea;color:#14532d}.pill.dropped{background:#fdecec;color:#7f1d1d}
ul.flows li{margin:4px 0}
#map text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;pointer-events:none}
#map .t-title{font-size:12.5px;font-weight:700;fill:#1f2328}
#map .t-line{font-size:11px;fill:#424a53}
#map .t-az{font-size:11px;font-weight:600;fill:#57606a;letter-spacing:.04em}
#map .internet rect{fill:#eef1f4;stroke:#8c959f;stroke-dasharray:5 4}
#map .vpc>rect{fill:#fbfcfe;stroke:#5b7db1;stroke-width:1.6}
#map .az>rect{fill:none;stroke:#b6c2d1;stroke-dasharray:4 4}
#map .subnet.public>rect{fill:#e3f4e1;stroke:#6aa864}
#map .subnet.private>rect{fill:#e4eefb;stroke:#6b8fc7}
#map .host>rect{fill:#fff;stroke:#8c959f}
#map .nat>rect{fill:#fff1dc;stroke:#d08c2c}
#map .gateway>rect,#map .peering>rect{fill:#f3e8fd;stroke:#8a5cc7}
#map .other>rect{fill:#f1f3f5;stroke:#8c959f;stroke-dasharray:3 3}
#map .res.selected>rect{stroke:#f0b400;stroke-width:3}
#map .link{stroke:#8c959f;stroke-width:1.4;stroke-dasharray:3 3}
#map .hop-seg{fill:none;stroke-width:2.6;opacity:.9;cursor:pointer}
#map .hop-seg.forward,#map .exit-seg.forward{stroke:var(--fwd)}
#map .hop-seg.return,#map .exit-seg.return{stroke:var(--ret);stroke-dasharray:7 4}
#map .exit-seg{fill:none;stroke-width:2;opacity:.7}
#map .hop-seg.selected{stroke-width:5;opacity:1}
#map .arrowhead.forward{fill:var(--fwd)}
#map .arrowhead.return{fill:var(--ret)}
#map .hop-badge{cursor:pointer}
#map .hop-badge circle{stroke:#fff;stroke-width:1.5}
#map .hop-badge.forward circle{fill:var(--fwd)}
#map .hop-badge.return circle{fill:var(--ret)}
#map .hop-badge.bad circle{fill:var(--bad)}
#map .hop-badge text{font-size:11px;font-weight:700;fill:#fff;text-anchor:middle}
#map .hop-badge.selected circle{stroke:#1f2328;stroke-width:3}
#map .hop-badge:focus{outline:none}
#map .hop-badge:focus circle{stroke:#1f2328;stroke-width:2}
@media (max-width:1000px){main{flex-direction:column}aside{width:100%;position:static}}
"#;

/// Clicking a hop (badge, line or table row) shows its detail from the matching `<template>`;
/// `#forward-3` in the URL opens that hop; arrow keys step along the selected path.
pub(super) const JS: &str = r#"
(function () {
  var body = document.getElementById('panel-body');
  var cur = null;
  function count(path) {
    return document.querySelectorAll('template[id^="detail-' + path + '-"]').length;
  }
  function select(path, idx) {
    var t = document.getElementById('detail-' + path + '-' + idx);
    if (!t) return;
    document.querySelectorAll('.selected').forEach(function (e) { e.classList.remove('selected'); });
    document.querySelectorAll('[data-path="' + path + '"][data-hop-index="' + idx + '"]').forEach(function (e) {
      e.classList.add('selected');
      var n = e.getAttribute('data-node');
      var box = n && document.getElementById(n);
      if (box) box.classList.add('selected');
    });
    body.replaceChildren(t.content.cloneNode(true));
    cur = { path: path, idx: Number(idx) };
  }
  document.querySelectorAll('[data-hop-index]').forEach(function (e) {
    e.addEventListener('click', function () {
      select(e.getAttribute('data-path'), e.getAttribute('data-hop-index'));
    });
    e.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' || ev.key === ' ') {
        select(e.getAttribute('data-path'), e.getAttribute('data-hop-index'));
        ev.preventDefault();
      }
    });
  });
  document.addEventListener('keydown', function (ev) {
    if (!cur) return;
    var step = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
    var next = cur.idx + step;
    if (step && next >= 0 && next < count(cur.path)) {
      select(cur.path, next);
      ev.preventDefault();
    }
  });
  var m = /^#(forward|return)-(\d+)$/.exec(location.hash);
  if (m) select(m[1], m[2]);
  else if (count('forward')) select('forward', count('forward') - 1);
})();
"#;
