"""The live retraining panel every lesson uses: controls beside one figure.

    panel = Panel(
        controls={"lr": log_slider("learning rate", 1e-4, 1.0, 1e-2),
                  "steps": int_slider("steps", 10, 2000, 300)},
        train=lambda values, progress: ...,   # returns a result, e.g. a TrainingRun
        draw=lambda fig, result, values: ...,  # draws the result into fig
    )
    panel                                      # last line of a cell: shows it and trains once

Rules it follows (see the course guide):
- sliders use ``continuous_update=False``: a retrain starts when the student
  lets go of a slider, not on every pixel;
- work stays on the kernel's main thread; ``progress.report`` moves the
  progress bar and redraws at most every ``REDRAW_SECONDS`` while training;
- one figure per panel, redrawn into an image widget: no figure per retrain;
- divergence is reported as a finding in the status line, an exception is
  shown there too, and the panel keeps working; ``check(values)`` may refuse
  a combination of settings with a message.
"""
from __future__ import annotations

import io
import time
import traceback

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

REDRAW_SECONDS = 0.3
# No intermediate redraw once a run is this far along: the final redraw is near.
NO_REDRAW_AFTER = 0.7
# Fixed margins instead of constrained layout, which took most of a redraw's time.
FIGURE_MARGINS = dict(left=0.1, right=0.98, bottom=0.2, top=0.88, wspace=0.32, hspace=0.4)
PANEL_CSS_CLASS = "course-panel"


# --- controls --------------------------------------------------------------

def log_slider(description: str, low: float, high: float, value: float, readout_format: str = ".1e"):
    """A slider over [low, high] on a log scale (learning rates and the like)."""
    if not 0 < low < high:
        raise ValueError(f"a log slider needs 0 < low < high, got {low}, {high}")
    return widgets.FloatLogSlider(
        value=value, base=10, min=np.log10(low), max=np.log10(high), step=0.1,
        description=description, continuous_update=False, readout_format=readout_format,
        style={"description_width": "initial"},
    )


def int_slider(description: str, low: int, high: int, value: int, step: int = 1):
    return widgets.IntSlider(
        value=value, min=low, max=high, step=step, description=description,
        continuous_update=False, style={"description_width": "initial"},
    )


def float_slider(description: str, low: float, high: float, value: float, step: float = 0.01):
    return widgets.FloatSlider(
        value=value, min=low, max=high, step=step, description=description,
        continuous_update=False, style={"description_width": "initial"},
    )


def toggle(description: str, value: bool = False):
    return widgets.Checkbox(value=value, description=description, indent=False)


def choice(description: str, options, value=None):
    options = list(options)
    return widgets.Dropdown(
        options=options, value=options[0] if value is None else value, description=description,
        style={"description_width": "initial"},
    )


# --- progress -------------------------------------------------------------

class Progress:
    """Handed to ``train``: report progress and partial results while training."""

    def __init__(self, panel: "Panel"):
        self._panel = panel
        self._started = self._last_redraw = time.perf_counter()
        self.redraws = 0
        self.first_redraw_seconds = None  # from the start of the run to the first intermediate redraw

    def report(self, fraction: float, partial=None) -> bool:
        """Move the progress bar; redraw ``partial`` if enough time has passed.

        Returns False, so it can be returned from a trainer's on_sample
        callback (which stops the run on True).
        """
        fraction = float(min(max(fraction, 0.0), 1.0))
        self._panel.progress.value = fraction
        now = time.perf_counter()
        if partial is not None and fraction < NO_REDRAW_AFTER and now - self._last_redraw >= REDRAW_SECONDS:
            self._panel._draw(partial)
            self.redraws += 1
            self._last_redraw = time.perf_counter()
            if self.first_redraw_seconds is None:
                self.first_redraw_seconds = self._last_redraw - self._started
        return False

    def on_sample(self, total_steps: int):
        """A callback for train_torch / train_keras that reports their progress."""
        total = max(int(total_steps), 1)
        return lambda run: self.report(run.steps_done / total, run)


# --- the panel --------------------------------------------------------------

def _describe(result) -> str:
    describe = getattr(result, "describe", None)
    return describe() if callable(describe) else ""


class Panel:
    """Controls on the left; one figure, a progress bar and a status line on the right."""

    def __init__(self, controls: dict, train, draw, title: str = "", live: bool = True,
                 check=None, describe=_describe, figsize=(7.2, 2.8), dpi: int = 80):
        if not controls:
            raise ValueError("a panel needs at least one control")
        self.controls = dict(controls)
        self._train, self._draw_fn, self._check, self._describe_fn = train, draw, check, describe
        for control in self.controls.values():
            if hasattr(control, "continuous_update"):
                control.continuous_update = False  # retrain on release, never per pixel
        self.figure = Figure(figsize=figsize, dpi=dpi)
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{int(figsize[0] * dpi)}px"))
        self.progress = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, description="training")
        self.status = widgets.HTML(value="")
        self.run_button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.run_button.on_click(lambda _button: self.run())
        self.live = live
        self.runs = 0
        self.last_result = None
        self.last_error = None
        self.last_values = None
        self.last_seconds = None
        self.last_progress = None
        self._running = False
        self.status_kind = "note"
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        header = [widgets.HTML(f"<b>{title}</b>")] if title else []
        side = widgets.VBox(header + list(self.controls.values()) + [self.run_button],
                            layout=widgets.Layout(min_width="320px"))
        main = widgets.VBox([self.image, self.progress, self.status])
        self.widget = widgets.HBox([side, main])
        self.widget.add_class(PANEL_CSS_CLASS)

    # values and events
    @property
    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values):
        """Change controls from Python as a student would (each change retrains when live)."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise KeyError(f"no control(s) {sorted(unknown)}; this panel has {sorted(self.controls)}")
        for name, value in values.items():
            self.controls[name].value = value
        return self

    def _on_change(self, _change):
        if self.live:
            self.run()
        else:
            self._set_status("Settings changed: press <b>Run</b> to retrain.", "note")

    # running
    def run(self):
        """Retrain with the current values and redraw; never raises."""
        if self._running:  # a change made by train() itself: ignore, the run in progress wins
            return self.last_result
        self._running = True
        values = self.values
        started = time.perf_counter()
        self.run_button.disabled = True
        self.progress.value = 0.0
        self.progress.bar_style = ""
        try:
            refusal = self._check(values) if self._check is not None else None
            if refusal:
                self.last_error = None
                self._set_status(f"Not run: {refusal}", "refused")
                return None
            self._set_status("training...", "note")
            progress = Progress(self)
            result = self._train(values, progress)
            self.runs += 1
            self.last_result, self.last_values, self.last_error = result, values, None
            self.last_progress = progress
            self._draw(result)
            self.last_seconds = time.perf_counter() - started
            self.progress.value = 1.0
            self._report(result)
            return result
        except Exception as error:  # shown to the student, never a silent death
            self.last_error = error
            self.progress.bar_style = "danger"
            where = traceback.extract_tb(error.__traceback__)[-1]
            self._set_status(f"Error: {type(error).__name__}: {error} (line {where.lineno} of {where.name})", "error")
            return None
        finally:
            self.run_button.disabled = False
            self._running = False

    def _draw(self, result):
        self.figure.clear()
        self.figure.subplots_adjust(**FIGURE_MARGINS)  # clear() forgets them
        self._draw_fn(self.figure, result, self.values)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        self.image.value = buffer.getvalue()

    def _limits_reached(self) -> str:
        """A note for every slider at the end of its range (the slider clamps what is typed)."""
        notes = []
        for control in self.controls.values():
            low, high = getattr(control, "min", None), getattr(control, "max", None)
            if low is None or high is None or isinstance(control.value, bool):
                continue
            if isinstance(control, widgets.FloatLogSlider):
                low, high = control.base ** low, control.base ** high
            if np.isclose(control.value, high) or np.isclose(control.value, low):
                bound = "maximum" if np.isclose(control.value, high) else "minimum"
                notes.append(f"{control.description} is at its {bound} ({control.value:g}); values beyond it are clamped")
        return " ".join(f"Note: {note}." for note in notes)

    def _report(self, result):
        text = self._describe_fn(result) if self._describe_fn else ""
        timing = f"({self.last_seconds:.2f} s)"
        limits = self._limits_reached()
        if limits:
            timing = f"{timing} {limits}"
        if getattr(result, "diverged", False):
            self.progress.bar_style = "warning"
            self._set_status(f"Run {self.runs}: {text}. The loss blew up: try a smaller learning rate. {timing}", "finding")
        else:
            self.progress.bar_style = "success"
            self._set_status(f"Run {self.runs}: {text} {timing}", "ok")

    _COLOURS = {"ok": "#1b5e20", "note": "#555555", "finding": "#b26a00", "refused": "#b26a00", "error": "#b71c1c"}

    def _set_status(self, html: str, kind: str):
        self.status_kind = kind
        self.status.value = f'<span class="course-status course-status-{kind}" style="color:{self._COLOURS[kind]}">{html}</span>'

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
        if self.runs == 0 and self.last_error is None:
            self.run()
