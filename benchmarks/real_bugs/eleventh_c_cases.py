"""Eleventh held-out set, part c: Stack Overflow bugs of the deepmufl benchmark (Ghanbari et al., ASE 2023), rebuilt
as (buggy, fixed) twins, for one final measurement.

The entries were taken in a fixed shuffled order (`eleventh_frame.txt`, part c's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Eleventh held-out set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

CASES = []
