"""Run every case through cu.diagnose, buggy and fixed twin, and print a table and the summary.

    python -m benchmarks.real_bugs [NAME ...] [--framework keras|torch] [--kind TEXT] [--watch] [--program-steps]
                                   [--held-out | --fresh | --third | --fourth | --fifth | --sixth | --seventh
                                   | --eighth | --ninth | --tenth | --eleventh | --twelfth | --thirteenth
                                   | --fourteenth | --fifteenth | --sixteenth | --seventeenth]

--watch trains each twin instead, WATCH_STEPS full-batch steps with its own optimizer and loss, as the
program would (PyTorch: the textbook loop; Keras: the GradientTape step that fit runs, its loss aligned as
fit aligns it), under cu.watch, and reports watch's codes.

--program-steps tells diagnose how many optimizer steps each twin's original program takes (``train_steps``), for
the twins whose record states it (program_steps.py); the others run as without it.

The default run is the tuned set only; --held-out runs only DeepLocalize's Stack Overflow set; --fresh,
--third, ..., --seventeenth run only that later held-out set (fresh_cases.py, third_cases.py, ...,
seventh_keras_cases.py with seventh_torch_cases.py, the eighth set's three files, the ninth's seven, the tenth's four,
the eleventh's seven, the twelfth's and the thirteenth's six, the fourteenth's, fifteenth's and sixteenth's eight, the seventeenth's seven).

Exit code 0 always: this is a benchmark, not a test.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's C++ start-up notices off the table


@dataclass
class Outcome:
    """One diagnose call on one twin."""

    codes: list = field(default_factory=list)
    error: str = ""  # first line of the exception, if diagnose raised
    broken: str = ""  # the case's own builder raised: a bug in the benchmark, not in diagnose
    seconds: float = 0.0


@dataclass
class Result:
    case: object
    buggy: Outcome
    fixed: Outcome

    @property
    def verdict(self) -> str:
        if self.buggy.broken:
            return "broken"
        if self.buggy.error:
            return "crashed"
        return "named" if set(self.buggy.codes) & self.case.expected else "missed"

    @property
    def fixed_verdict(self) -> str:
        if self.fixed.broken:
            return "broken"
        if self.fixed.error:
            return "crashed"
        return f"false alarm ({', '.join(self.fixed.codes)})" if self.fixed.codes else "clean"


def diagnose_twin(build, tool=None, train_steps=None) -> Outcome:
    """One twin through ``tool(model, x, y, loss, optimizer) -> Report`` (diagnose unless given, told the
    program's ``train_steps`` when known)."""
    from course_utils.diagnosis import diagnose

    tool = tool or (lambda model, x, y, loss, optimizer: diagnose(model, x, y, loss, optimizer=optimizer,
                                                                   train_steps=train_steps))
    try:
        model, x, y, loss, optimizer = build()
    except Exception as e:  # noqa: BLE001 - a builder failing is reported like a crash, with its reason
        return Outcome(broken=f"{type(e).__name__}: {first_line(e)}")
    start = time.perf_counter()
    try:
        report = tool(model, x, y, loss, optimizer)
    except Exception as e:  # noqa: BLE001
        return Outcome(error=f"{type(e).__name__}: {first_line(e)}", seconds=time.perf_counter() - start)
    return Outcome(codes=report.codes, seconds=time.perf_counter() - start)


WATCH_STEPS = 200  # full-batch steps of a watched run: the overfit probe's budget


def watched_training(model, x, y, loss, optimizer, steps=WATCH_STEPS):
    """Train the twin as its program would, under cu.watch; watch's Report. The batch goes in as diagnose
    would give it (PyTorch: tensors, class labels as int64)."""
    from course_utils.diagnosis import watch
    from course_utils.diagnosis.adapters import TorchAdapter
    from course_utils.frameworks import framework_of, is_structured

    if framework_of(model) == "torch":
        batch = TorchAdapter(model, x, y, loss, optimizer)
        model.train()
        with watch(model, optimizer=optimizer) as w:
            for _ in range(steps):
                optimizer.zero_grad()
                value = loss(model(batch.x), batch.y)
                value.backward()
                optimizer.step()
                w.step(value)
        return w.report()
    import tensorflow as tf

    from course_utils.diagnosis.adapters import KerasAdapter
    from course_utils.instruments.for_keras import line_up

    batch = KerasAdapter(model, x, y, loss, optimizer)
    model(batch.x)  # a model declared without an input shape makes its weights on its first call
    variables = model.trainable_variables

    @tf.function
    def train_step():  # what fit runs for one batch, with its loss aligned as fit aligns it
        with tf.GradientTape() as tape:
            value = tf.reduce_mean(batch.loss_fn(*line_up(batch.y, model(batch.x, training=True))))
            if model.losses:
                value += tf.add_n(model.losses)
        grads = tape.gradient(value, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return value, grads

    with watch(model, x=None if is_structured(x) else batch.x) as w:
        for _ in range(steps):
            value, grads = train_step()
            w.step(value, grads)
    return w.report()


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""


def run_case(case, tool=None, program_steps=(None, None)) -> Result:
    """Both twins; ``program_steps``: (buggy, fixed) optimizer steps of the original programs, None if unknown."""
    return Result(case, diagnose_twin(case.buggy, tool, program_steps[0]),
                  diagnose_twin(case.fixed, tool, program_steps[1]))


def select(cases, names=(), framework=None, kind=None):
    chosen = [c for c in cases if (not names or c.name in names)
              and (framework is None or c.framework == framework)
              and (kind is None or kind.lower() in c.kind.lower())]
    unknown = set(names) - {c.name for c in cases}
    if unknown:
        print(f"unknown case(s): {', '.join(sorted(unknown))}", file=sys.stderr)
    return chosen


def row(result: Result) -> str:
    buggy = result.buggy.broken or result.buggy.error or ", ".join(result.buggy.codes) or "-"
    seconds = f"{result.buggy.seconds:5.1f} {result.fixed.seconds:5.1f}"
    return (f"{result.case.name:<40} {result.case.framework:<6} {', '.join(sorted(result.case.expected)):<52} "
            f"{buggy:<56} {result.verdict:<8} {seconds}  {result.fixed_verdict}")


def summary(results, tool="diagnose") -> list:
    n = len(results)
    named = sum(r.verdict == "named" for r in results)
    alarms = [r for r in results if r.fixed_verdict.startswith("false alarm")]
    twins = [(r.case.name, twin, o) for r in results for twin, o in (("buggy", r.buggy), ("fixed", r.fixed))]
    crashes = [(name, twin, o.error) for name, twin, o in twins if o.error]
    broken = [(name, twin, o.broken) for name, twin, o in twins if o.broken]
    seconds = [o.seconds for r in results for o in (r.buggy, r.fixed) if o.seconds]
    lines = [f"recall: {named}/{n} buggy cases get a finding in `expected`",
             f"false alarms: {len(alarms)}/{n} fixed twins get a finding",
             f"crashes: {len(crashes)} {tool} calls raised" if tool == "diagnose" else
             f"raised: {len(crashes)} watched trainings (the program's own error, or watch's)"]
    lines += [f"    {name} ({twin}): {error}" for name, twin, error in crashes]
    if broken:
        lines.append(f"broken cases (the builder raised; not counted as diagnose crashes): {len(broken)}")
        lines += [f"    {name} ({twin}): {error}" for name, twin, error in broken]
    if seconds:
        lines.append(f"seconds per {tool} call: median {statistics.median(seconds):.2f}, max {max(seconds):.2f} "
                     f"({len(seconds)} calls)")
    return lines


def main(argv=None) -> int:
    from . import LATER_SETS, all_cases, held_out_cases

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="case names (default: all)")
    parser.add_argument("--framework", choices=("keras", "torch"))
    parser.add_argument("--kind", help="only cases whose kind contains this text")
    parser.add_argument("--list", action="store_true", help="list the cases and their sources, run nothing")
    parser.add_argument("--watch", action="store_true",
                        help=f"train each twin {WATCH_STEPS} steps under cu.watch instead of calling diagnose")
    parser.add_argument("--program-steps", action="store_true",
                        help="tell diagnose each twin's program length (train_steps), where its record states one "
                             "(program_steps.py)")
    sets = parser.add_mutually_exclusive_group()
    sets.add_argument("--held-out", dest="chosen", action="store_const", const=held_out_cases,
                      help="run only the held-out set (DeepLocalize's Stack Overflow posts), not the tuned set")
    for name, cases_of_set in LATER_SETS.items():
        sets.add_argument(f"--{name}", dest="chosen", action="store_const", const=cases_of_set,
                          help=f"run only the {name} held-out set, not the tuned set")
    args = parser.parse_args(argv)
    pool = (args.chosen or all_cases)()
    cases = select(pool, args.names, args.framework, args.kind)
    if args.list:
        for c in cases:
            print(f"{c.name:<42} {c.framework:<6} {c.kind:<40} {c.source}")
        return 0
    print(f"{'case':<40} {'fw':<6} {'expected':<52} {'found on the buggy twin':<56} {'verdict':<8} "
          f"{'s bug fixed':<12} fixed twin")
    from .program_steps import PROGRAM_STEPS

    results = []
    for c in cases:
        steps = PROGRAM_STEPS.get(c.name, (None, None)) if args.program_steps else (None, None)
        results.append(run_case(c, watched_training if args.watch else None, steps))
        print(row(results[-1]), flush=True)
    print()
    print("\n".join(summary(results, "watch" if args.watch else "diagnose")))
    return 0
