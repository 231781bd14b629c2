"""Fifteenth held-out set, part g: real faults from Humbatova et al.'s taxonomy of real faults in deep learning
systems (Stack Overflow posts and GitHub commits or issues), each rebuilt as (buggy, fixed) twins, for one
measurement.

The entries were taken in a fixed shuffled order (`fifteenth_frame.txt`, entries 43-49) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Fifteenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

# The one case this part's builder took (entry 45, DeepPavlov commit 7aeb0be6, rebuilt as the triplet loss's labels
# not squeezed) was removed by the maintainer before the set's run: that commit and entry 35's (bae243b5, taken in
# part e) make the same change to the same file, on two branches, so the one bug would be counted twice. Entry 35
# comes first in the frame and its taxonomy tag names the squeeze. The record, as written, is in the README.
CASES = []
