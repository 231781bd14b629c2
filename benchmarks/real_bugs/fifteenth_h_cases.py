"""Fifteenth held-out set, part h: real faults from Humbatova et al.'s taxonomy of real faults in deep learning
systems (Stack Overflow posts and GitHub commits or issues), each rebuilt as (buggy, fixed) twins, for one
measurement.

The entries were taken in a fixed shuffled order (`fifteenth_frame.txt`, entries 50-56) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Fifteenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

# No entry of part h (entries 50-56) was taken: two failed the rule (a library's sampling code, a data pipeline's
# resource use) and five Stack Overflow threads had no stored copy to read; the record is in the README, part h.
CASES = []
