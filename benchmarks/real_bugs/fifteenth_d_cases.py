"""Fifteenth held-out set, part d: real faults from Humbatova et al.'s taxonomy of real faults in deep learning
systems (Stack Overflow posts and GitHub commits or issues), each rebuilt as (buggy, fixed) twins, for one
measurement.

The entries were taken in a fixed shuffled order (`fifteenth_frame.txt`, entries 22-28) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Fifteenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

# No entry of part d was taken: five Stack Overflow posts had no stored copy to read, and the two GitHub entries
# failed the rule (a fix in prediction code; a silent index fix in a speech toolkit's window-folding layer). The
# reasons are in the README's record of part d, "Fifteenth held-out set".
CASES = []
