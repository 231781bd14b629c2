"""Tenth held-out set, part d: real faults of the DeepFD benchmark (Cao et al., ICSE 2022), rebuilt as (buggy,
fixed) twins, for one final measurement.

The entries were taken in a fixed shuffled order (`tenth_frame.txt`, part d's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Tenth held-out set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

CASES = []
