"""watch(): the same instruments on the student's own training loop (PyTorch context manager, Keras callback)."""
from __future__ import annotations

import numpy as np

from .. import instruments
from ..fmt import percent, sig
from ..frameworks import framework_of, keras_layers, to_numpy
from .findings import Report, mark_consequences
from .setup_checks import parameters_left_out


KERAS_UNCHANGED_FIX = ("Call optimizer.apply_gradients(zip(grads, model.trainable_variables)) in every step, with the "
                       "gradients the tape gives for this model's variables (not a model built again).")


class _WatchState:
    """What watch() records, whichever framework: losses, dead fractions, update ratios."""

    def __init__(self, every, dead_threshold, ratio_range):
        self.every = max(int(every), 1)
        self.dead_threshold = dead_threshold
        self.ratio_low, self.ratio_high = ratio_range
        self.losses = []
        self.dead = []  # (step, {layer: fraction})
        self.ratios = []  # (step, {layer: ratio})
        self.leftover = []  # (step, leftover norm, fresh norm)
        self.zero_at_step = []  # (step, {layer: norm}) read just before optimizer.step
        self.framework = ""
        self.why_unchanged = []  # what the loop's end shows when the weights never moved (torch: step count, .grad)

    def report(self) -> Report:
        rep = Report(source="watch", framework=self.framework)
        losses = np.asarray(self.losses, dtype=np.float64)
        n = len(losses)
        if self.leftover:
            step, old, fresh = self.leftover[-1]
            rep.add("gradients-accumulate",
                    [f"at {len(self.leftover)} step(s), .grad still held the previous step's gradient when backward() "
                     f"added a new one (step {step}: left over {sig(old)}, new {sig(fresh)})"])
        elif self.framework == "torch":
            rep.passed.append("gradients-accumulate")
        learned = ""  # how far the loss fell, when it fell by half or more: what it learned despite a reading
        if n == 0:
            rep.skip("loss", "no losses recorded (call w.step(loss) once per step)")
        else:
            bad = np.flatnonzero(~np.isfinite(losses))
            if bad.size:
                rep.add("non-finite-loss", [f"the loss was {losses[bad[0]]} at step {bad[0]} "
                                            f"(first of {bad.size} non-finite steps)"])
            finite = losses[np.isfinite(losses)]
            if finite.size >= 10:
                k = max(finite.size // 5, 2)
                start, end = float(np.median(finite[:k])), float(np.median(finite[-k:]))
                first, peak = float(finite[0]), float(finite.max())
                # a rate that blows the loss up at its first steps puts the blow-up in the first k steps' median,
                # so the rise is also measured from the first loss, taken before any update
                blown_up = first > 0 and peak > 10 * first and end > 2 * first
                if peak > 10 * max(start, 1e-12) and end > 2 * start:
                    rep.add("lr-too-high", [f"loss rose from {sig(start)} (first {k} steps) to {sig(end)} "
                                            f"(last {k}), peak {sig(peak)}"])
                elif blown_up:
                    rep.add("lr-too-high", [f"loss rose from {sig(first)} (first step) to {sig(end)} (last {k}), "
                                            f"peak {sig(peak)}: it came down from the peak but ended "
                                            f"{sig(end / first)} times where it started"])
                elif end >= 0.95 * start and not bad.size:
                    rep.add("loss-not-decreasing", [f"median loss of the first {k} steps {sig(start)}, of the last {k} "
                                                    f"{sig(end)} over {n} steps"])
                else:
                    rep.passed.append("loss-trend")
                    fell_by_half = end <= 0.5 * (min(start, first) if first > 0 else start)  # below where it began
                    learned = f"the loss fell from {sig(start)} to {sig(end)} anyway" if fell_by_half else ""
            elif not bad.size:
                rep.skip("loss-trend", f"{finite.size} finite losses recorded: need >= 10 to see a trend")
        if n and not np.all(np.isfinite(losses)):
            rep.skip("dead-relu / update-ratio", "the loss went non-finite: weights after that say nothing")
            return rep
        if self.dead:
            first, last = self.dead[0][1], self.dead[-1][1]
            died = {k: (first.get(k, 0.0), v) for k, v in last.items() if v >= self.dead_threshold}
            evidence = [f"{k}: {percent(a)} dead at step {self.dead[0][0]}, {percent(b)} at step {self.dead[-1][0]}"
                        for k, (a, b) in died.items()]
            if died and learned:  # the units it lost did not stop it learning: worth knowing, not a bug to fix
                rep.notes.append(f"dead-relu: {'; '.join(evidence)} ({learned})")
            elif died:
                rep.add("dead-relu", evidence)
            else:
                rep.passed.append("dead-relu")
        if self.zero_at_step:
            layers = self.zero_at_step[-1][1]
            always = [k for k in layers if all(r[1].get(k, 1) == 0 for r in self.zero_at_step)]
            if always and len(self.zero_at_step) >= 2:
                held, steps, causes = (
                    ("held no gradient (.grad None or exactly 0)", "sampled optimizer steps",
                     "(zero_grad() between backward() and step()? a cut in the graph?)") if self.framework == "torch"
                    else ("got no gradient (None or exactly 0) from the tape", "sampled steps",
                          "(a layer the loss does not use? the loss computed outside the tape, or through NumPy?)"))
                rep.add("zero-gradients", [f"{len(always)} of {len(layers)} layers {held} at all "
                                           f"{len(self.zero_at_step)} {steps}: {', '.join(always)}", causes])
        if self.ratios:
            layers = self.ratios[-1][1].keys()
            med = {k: float(np.median([r[1][k] for r in self.ratios if k in r[1]])) for k in layers}
            high = {k: v for k, v in med.items() if v > self.ratio_high}
            if not med:
                rep.add("frozen-parameters", ["no layer has a weight that trains (requires_grad=False or "
                                              "trainable=False everywhere)"])
            elif all(v == 0 for _, ratios in self.ratios for v in ratios.values()):
                rep.add("weights-unchanged", [f"no weight of the {len(med)} layers changed at all between the "
                                              f"{len(self.ratios)} sampled steps (update/weight ratio exactly 0)"]
                        + self.why_unchanged, fix=KERAS_UNCHANGED_FIX if self.framework == "keras" else "")
            elif high:
                rep.add("update-ratio-high", [f"{k}: median update/weight ratio {sig(v)} (healthy: about 1e-3, "
                                              f"flagged above {sig(self.ratio_high)})" for k, v in high.items()])
            elif med and max(med.values()) < self.ratio_low:
                rep.add("update-ratio-low", [f"largest median update/weight ratio {sig(max(med.values()))} over "
                                             f"{len(self.ratios)} sampled steps (flagged below {sig(self.ratio_low)})"])
            else:
                rep.passed.append("update-ratio")
        mark_consequences(rep)
        return rep


class TorchWatch:
    """Hooks on a PyTorch model (and optimizer) that read your own training loop.

        with watch(model, optimizer=opt, every=10) as w:
            for step in range(steps):
                opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step()
                w.step(loss)
        w.report()

    - gradients-accumulate: a hook on each parameter's gradient sees ``.grad``
      just before backward() adds the new gradient; if an optimizer step came
      since the last backward and ``.grad`` is not empty, it was never reset.
      (Several backward passes per step, on purpose, are not flagged.)
    - dead units: forward hooks on the ReLU-family modules, every ``every`` steps;
    - update/weight ratio: weights copied at a sampled w.step(), compared at the next;
    - with ``optimizer``: its step pre-hook reads ``.grad`` at step time (all-zero gradients).
    Nothing in the model or optimizer changes; the hooks are removed on exit.
    """

    def __init__(self, model, optimizer=None, every=10, dead_threshold=0.5, ratio_range=(1e-7, 0.1), check=4):
        from ..instruments import for_torch

        self._it = for_torch
        self.model, self.optimizer = model, optimizer
        self.state = _WatchState(every, dead_threshold, ratio_range)
        self.state.framework = "torch"
        self._handles = []
        self._steps = 0
        self._stepped_since_backward = {}
        self._snapshot = None
        self._check = check
        self._opt_steps = 0

    # hooks -----------------------------------------------------------------
    def _grad_hook(self, param, key):
        def hook(grad):
            if self._stepped_since_backward.get(key, False) and param.grad is not None:
                old = float(param.grad.detach().double().norm())
                if old > 0:
                    self.state.leftover.append((self._now(), old, float(grad.detach().double().norm())))
            self._stepped_since_backward[key] = False
            return None
        return hook

    def _activation_hook(self, name):
        def hook(module, inputs, output):
            now = self._now()
            if now % self.state.every == 0 and output.dim() >= 1 and output.shape[0] >= 2:
                units = self._it._units_last(output.detach())
                frac = float((units <= 0).all(dim=0).double().mean())
                if not self.state.dead or self.state.dead[-1][0] != now:
                    self.state.dead.append((now, {}))
                self.state.dead[-1][1][name] = frac
        return hook

    def _pre_step(self, optimizer, args, kwargs):
        if self._now() % self.state.every == 0:
            self.state.zero_at_step.append((self._now(), self._it.stored_grad_norms(self.model)))

    def __enter__(self):
        params = [p for p in self.model.parameters() if p.requires_grad][: self._check]
        for i, p in enumerate(params):
            self._handles.append(p.register_hook(self._grad_hook(p, i)))
        stopping = self._it.gradient_stopping_layers(self.model)  # only there is "off" dead
        for name, module in self._it.activation_layers(self.model).items():
            if name not in stopping:
                continue
            self._handles.append(module.register_forward_hook(self._activation_hook(name)))
        if self.optimizer is not None:
            self._handles.append(self.optimizer.register_step_pre_hook(self._pre_step))
            self._handles.append(self.optimizer.register_step_post_hook(lambda opt, args, kwargs: self._mark_step()))
        return self

    def _mark_step(self):
        for key in self._stepped_since_backward:
            self._stepped_since_backward[key] = True
        self._opt_steps += 1  # counts steps also in a loop that never calls w.step()

    def _now(self):
        return max(self._steps, self._opt_steps)

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles = []
        return False

    def step(self, loss=None):
        """Call once per optimizer step, after optimizer.step(), with that step's loss."""
        if loss is not None:
            self.state.losses.append(float(loss.detach() if hasattr(loss, "detach") else loss))
        if self._snapshot is not None:
            self.state.ratios.append((self._steps, self._it.update_ratios(self._snapshot, self.model)))
            self._snapshot = None
        self._steps += 1
        if self.optimizer is None:
            self._mark_step()
        if self._steps % self.state.every == 0:
            self._snapshot = self._it.snapshot_weights(self.model)

    def report(self) -> Report:
        self.state.why_unchanged = self._why_unchanged()
        return self.state.report()

    def _why_unchanged(self) -> list:
        """What the loop's end says about weights that never moved: optimizer steps taken, gradients present."""
        why = []
        if self.optimizer is not None:
            why.append(f"optimizer.step() was called {self._opt_steps} times in {self._steps} steps")
            held, trainable, left_out = parameters_left_out(self.model, self.optimizer)
            if trainable and left_out:
                why.append(f"the optimizer holds {len(held)} tensors and leaves out {len(left_out)} of the model's "
                           f"{len(trainable)} trainable parameters")
        from ..instruments.updates import grad_states  # here: updates itself imports from diagnosis

        trainable = {name for name, p in self.model.named_parameters() if p.requires_grad}
        states = [state for name, state in grad_states(self.model).states.items() if name in trainable]
        if states and set(states) == {"none"}:
            why.append(f".grad is None for all {len(states)} trainable parameters: backward() never reached them")
        elif states and set(states) == {"zero"}:
            why.append(f".grad is 0 for all {len(states)} trainable parameters")
        if not states:
            why.append("the model has no trainable parameter (requires_grad=False everywhere)")
        return why

    def __str__(self):
        return str(self.report())

    def _repr_html_(self):
        return self.report()._repr_html_()


def _dense(gradient) -> np.ndarray:
    """A gradient as a float64 array; an embedding's (tf.IndexedSlices: only the rows looked up) made whole."""
    if hasattr(gradient, "indices") and hasattr(gradient, "values"):
        import tensorflow as tf

        gradient = tf.convert_to_tensor(gradient)
    return np.asarray(to_numpy(gradient), dtype=np.float64)


def _keras_watch_class():
    import keras

    class KerasWatch(keras.callbacks.Callback):
        """A callback for ``model.fit``, or a watch on a loop of your own (tf.GradientTape): losses, dead units
        (on ``x``), update/weight ratios.

            w = watch(model, x=x_sample); model.fit(..., callbacks=[w]); w.report()

            with watch(model, x=x_sample) as w:
                for step in range(steps):
                    with tf.GradientTape() as tape:
                        loss = loss_fn(y, model(x, training=True))
                    grads = tape.gradient(loss, model.trainable_variables)
                    optimizer.apply_gradients(zip(grads, model.trainable_variables))
                    w.step(loss, grads)
            w.report()

        Keras's fit resets gradients itself, so gradients-accumulate does not
        apply. ``x``: a sample batch on which dead units are read every
        ``every`` batches (optional).
        """

        def __init__(self, model, x=None, every=10, dead_threshold=0.5, ratio_range=(1e-7, 0.1)):
            super().__init__()
            self.set_model(model)  # fit sets it again; a loop of your own has only this
            self.x = None if x is None else np.asarray(to_numpy(x))
            self.state = _WatchState(every, dead_threshold, ratio_range)
            self.state.framework = "keras"
            self._steps = 0
            self._snapshot = None
            self._own_loop = False  # set by step(): the loop is the student's, not fit's (which ends it itself)

        def on_train_batch_begin(self, batch, logs=None):
            from ..instruments import for_keras as ik

            if self._steps % self.state.every == 0:
                self._snapshot = ik.snapshot_weights(self.model)
                if self.x is not None and len(self.x) >= 2:
                    try:
                        self.state.dead.append((self._steps, instruments.dead_relu_fraction(self.model, self.x)))
                    except TypeError:
                        self.x = None

        def on_train_batch_end(self, batch, logs=None):
            from ..instruments import for_keras as ik

            if logs and "loss" in logs:
                self.state.losses.append(float(logs["loss"]))
            if self._snapshot is not None:
                self.state.ratios.append((self._steps, ik.update_ratios(self._snapshot, self.model)))
                self._snapshot = None
            self._steps += 1

        def step(self, loss=None, gradients=None):
            """A loop of your own: call once per step, after optimizer.apply_gradients, with that step's loss and
            (optional) the gradients the tape gave for ``model.trainable_variables``, in their order."""
            self._own_loop = True
            if gradients is not None and self._steps % self.state.every == 0:
                self.state.zero_at_step.append((self._steps, self._gradient_norms(list(gradients))))
            self.on_train_batch_end(self._steps, None if loss is None else {"loss": float(to_numpy(loss))})
            self.on_train_batch_begin(self._steps)  # copies the weights before the next step, every ``every``

        def _gradient_norms(self, gradients) -> dict:
            """layer -> the norm of the gradients of its trainable variables (a gradient of None counts as 0)."""
            variables = self.model.trainable_variables
            if len(gradients) != len(variables):
                raise ValueError(f"w.step got {len(gradients)} gradients for the model's {len(variables)} trainable "
                                 "variables: pass what tape.gradient(loss, model.trainable_variables) returned")
            by_variable = {id(v): g for v, g in zip(variables, gradients)}
            norms = {}
            for layer in keras_layers(self.model):
                found = [by_variable[id(v)] for v in layer.trainable_variables if id(v) in by_variable]
                if layer.trainable_variables:
                    norms[layer.name] = float(np.sqrt(sum(np.sum(np.square(_dense(g))) for g in found
                                                          if g is not None)))
            return norms

        def on_train_end(self, logs=None):
            if self.x is not None:
                self.state.dead.append((self._steps, instruments.dead_relu_fraction(self.model, self.x)))

        def report(self) -> Report:
            return self.state.report()

        def __enter__(self):
            self.on_train_batch_begin(self._steps)  # a loop of your own: the weights before its first step
            return self

        def __exit__(self, *exc):
            if self._steps and self._own_loop:
                self.on_train_end()  # fit calls it itself
            return False

        def __str__(self):
            return str(self.report())

        def _repr_html_(self):
            return self.report()._repr_html_()

    return KerasWatch


def watch(model, optimizer=None, every: int = 10, x=None, dead_threshold: float = 0.5, ratio_range=(1e-7, 0.1)):
    """Watch your own training: a context manager (PyTorch) or a callback for ``fit`` (Keras).

    PyTorch: ``with watch(model, optimizer=opt) as w: ... w.step(loss)`` after each optimizer.step().
    Keras: ``w = watch(model, x=x_sample); model.fit(..., callbacks=[w])``; in a loop of your own (GradientTape),
    ``with watch(model, x=x_sample) as w: ... w.step(loss)`` after each optimizer.apply_gradients().
    Then ``w.report()``: a Report with the same findings and codes as diagnose().
    every: read the heavier instruments (dead units, update ratios) every this many steps.
    ratio_range: update/weight ratios flagged below/above (healthy SGD/Adam: about 1e-3).
    """
    framework = framework_of(model)
    if framework == "torch":
        return TorchWatch(model, optimizer, every, dead_threshold, ratio_range)
    return _keras_watch_class()(model, x, every, dead_threshold, ratio_range)
