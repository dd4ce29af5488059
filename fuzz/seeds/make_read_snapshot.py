#!/usr/bin/env python3
"""Write seeds/read_snapshot/: the hand-written snapshots of tests/fixtures/snapshot, each as one
fuzz input (files separated by `=== PATH` lines, as fuzz_targets/read_snapshot.rs splits them)."""
import os

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, '..', '..', 'tests', 'fixtures', 'snapshot')
out = os.path.join(here, 'read_snapshot')
os.makedirs(out, exist_ok=True)
for name in sorted(os.listdir(fixtures)):
    root = os.path.join(fixtures, name)
    if not os.path.isdir(root):
        continue
    parts = []
    for dirpath, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            if not f.endswith('.json'):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            if not rel.startswith('aws_configs'):
                rel = os.path.join('aws_configs', rel)
            with open(os.path.join(dirpath, f), 'rb') as fh:
                parts.append(b'=== ' + rel.encode() + b'\n' + fh.read())
    with open(os.path.join(out, name), 'wb') as fh:
        fh.write(b''.join(p if p.endswith(b'\n') else p + b'\n' for p in parts))
