"""The course's checklist as code: ``diagnose`` a model on one batch, ``watch`` a training loop.

    report = cu.diagnose(model, x, y, loss=nn.CrossEntropyLoss(), optimizer=opt)
    report                 # a table in a notebook; print(report) for plain text
    report.codes           # ['dead-relu', 'linear-stack'] - stable short codes
    report.findings[0]     # Finding(code, title, evidence, fix, lesson)
    report.skipped         # checks that could not run on this batch, and why

    with cu.watch(model, optimizer=opt, every=10) as w:     # PyTorch: your own loop
        for step in range(steps):
            ...; loss.backward(); opt.step(); w.step(loss)
    w.report()

    w = cu.watch(keras_model, x=x_sample)                   # Keras: a callback for fit
    keras_model.fit(x, y, callbacks=[w]); w.report()

Every check is built on the mechanism that breaks training, not on how a
model is named: a probability output is recognised by rows that sum to one,
a linear stack by two layers with weights whose outputs meet with nothing
non-linear between them (checked on the values that actually flow, for a
PyTorch module with its own ``forward``), a degenerate BatchNorm by the
number of values and the variance it normalises over, and so on.

``diagnose`` never touches the student's model or optimizer: it works on a
copy (``copy.deepcopy`` for PyTorch; ``keras.models.clone_model`` and
``set_weights`` for Keras) and on a new optimizer built from the student's
settings. ``watch`` only reads (hooks and a callback); it changes nothing.
"""
from __future__ import annotations

import copy
import html
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from .fmt import percent, sig
from .frameworks import framework_of, keras_layers, to_numpy

# --- findings and the report ------------------------------------------------

LESSONS = {
    "00": "00 The overfit test",
    "01": "01 Missing zero_grad",
    "02": "02 Linear convs",
    "03": "03 Dying ReLU",
    "04": "04 Tiny data",
    "05": "05 BatchNorm with a batch of one",
}

# code -> (title, fix in one sentence, lessons that teach it)
CATALOGUE = {
    "gradients-accumulate": (
        "gradients are not reset between optimizer steps",
        "Call optimizer.zero_grad() once per step, before loss.backward().", ("01",)),
    "softmax-before-crossentropy": (
        "probabilities fed to a loss that expects logits",
        "Remove the final softmax/sigmoid (or use from_logits=False in Keras): the loss applies it itself.", ("01",)),
    "logits-into-probability-loss": (
        "raw scores fed to a loss that expects probabilities",
        "Pass from_logits=True (Keras) or use the logits version of the loss (CrossEntropyLoss, BCEWithLogitsLoss).",
        ("01",)),
    "one-unit-softmax": (
        "softmax over a single unit: the output is always 1",
        "Use one sigmoid unit with binary cross-entropy, or K >= 2 softmax units with categorical cross-entropy.",
        ("00", "05")),
    "output-cannot-reach-target": (
        "the output activation cannot produce the targets",
        "Use a linear output (no activation) for targets outside the activation's range, or rescale the targets.",
        ("05",)),
    "target-shape-broadcast": (
        "output and target shapes differ, so the loss broadcasts them",
        "Give the targets the output's shape (e.g. y.reshape(-1, 1) or output.squeeze(1)).", ("00",)),
    "init-loss-off": (
        "loss at initialisation is far from the chance level",
        "Check the output layer, the loss and the labels; initialise the last layer so the untrained model is unsure.",
        ("00",)),
    "non-finite-loss": (
        "the loss is NaN or infinite",
        "Find the first step with a non-finite loss: lower the learning rate, scale the inputs, check log/division.",
        ("00",)),
    "linear-stack": (
        "two layers with weights with nothing non-linear between them",
        "Put an activation (e.g. ReLU) after each hidden Dense/Linear/Conv layer.", ("02",)),
    "unscaled-inputs": (
        "the inputs are badly scaled",
        "Standardise the inputs per feature with the training set's mean and standard deviation.", ("02", "04")),
    "degenerate-batchnorm": (
        "BatchNorm normalises over a single value (or identical values) per feature",
        "Train with batches of several different samples, or remove the BatchNorm / use LayerNorm there.", ("05",)),
    "cannot-overfit": (
        "the model cannot memorise this one batch",
        "Fix the other findings first; a model that cannot overfit one batch will not learn the dataset.", ("00",)),
    "too-few-steps": (
        "the loss was still falling when the probe stopped",
        "Train for more steps (or with a larger learning rate): this batch is learnable but not yet learned.",
        ("04", "00")),
    "zero-gradients": (
        "layers receive a gradient of exactly zero",
        "Walk back from the output to the first layer that passes no gradient (dead ReLU, degenerate BatchNorm, "
        "a layer not connected to the loss).", ("05",)),
    "vanishing-gradients": (
        "gradients shrink by orders of magnitude towards the input",
        "Use ReLU-family activations with He initialisation, normalisation layers or residual connections.", ()),
    "exploding-gradients": (
        "gradients grow by orders of magnitude towards the input (or are not finite)",
        "Scale the inputs and targets, lower the learning rate or clip gradients; check the initialisation.", ()),
    "dead-relu": (
        "ReLU units are dead (zero for every sample)",
        "Lower the learning rate, use LeakyReLU/ELU, and keep narrow layers alive (check biases and input offsets).",
        ("03",)),
    "lr-too-high": (
        "the learning rate makes the loss diverge",
        "Lower the learning rate (try 10x smaller) until the loss falls steadily.", ("03", "00")),
    "loss-not-decreasing": (
        "the loss is not going down",
        "Run diagnose() on one batch: a model that cannot overfit one batch has a bug, not too little data.",
        ("00",)),
    "update-ratio-high": (
        "each step changes the weights by a large fraction of their size",
        "Lower the learning rate: healthy steps change weights by about 1e-3 of their norm.", ("00",)),
    "update-ratio-low": (
        "steps barely change the weights",
        "Raise the learning rate, or look for zero gradients: healthy steps change weights by about 1e-3 of "
        "their norm.", ("00",)),
}

SEVERITY_ORDER = {"error": 0, "warning": 1, "consequence": 2}


@dataclass
class Finding:
    """One thing wrong, with the numbers that show it."""

    code: str
    evidence: list = field(default_factory=list)
    title: str = ""
    fix: str = ""
    lesson: str = ""
    severity: str = "error"
    data: dict = field(default_factory=dict)

    def __post_init__(self):
        title, fix, lessons = CATALOGUE.get(self.code, ("", "", ()))
        self.title = self.title or title
        self.fix = self.fix or fix
        if not self.lesson:
            self.lesson = ", ".join(LESSONS[n] for n in lessons) if lessons else "not covered by a lesson yet"
        if isinstance(self.evidence, str):
            self.evidence = [self.evidence]

    def __str__(self) -> str:
        lines = [f"[{self.code}] {self.title}"]
        lines += [f"    evidence: {e}" for e in self.evidence]
        lines += [f"    fix: {self.fix}", f"    lesson: {self.lesson}"]
        return "\n".join(lines)


@dataclass
class Report:
    """What diagnose() or watch() found: findings, checks that ran, checks skipped (and why)."""

    findings: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (check, reason)
    passed: list = field(default_factory=list)  # checks that ran and found nothing
    source: str = "diagnose"
    framework: str = ""

    @property
    def codes(self) -> list:
        """The findings' codes, sorted: a stable summary to compare and test."""
        return sorted({f.code for f in self.findings})

    @property
    def clean(self) -> bool:
        return not self.findings

    def __contains__(self, code) -> bool:
        return code in self.codes

    def __len__(self) -> int:
        return len(self.findings)

    def finding(self, code: str) -> Finding:
        for f in self.findings:
            if f.code == code:
                return f
        raise KeyError(f"no finding {code!r}; found {self.codes}")

    def add(self, code, evidence, severity="error", **data):
        self.findings.append(Finding(code, evidence, severity=severity, data=data))

    def skip(self, check, reason):
        self.skipped.append((check, str(reason)))

    def _sorted(self):
        return sorted(self.findings, key=lambda f: SEVERITY_ORDER.get(f.severity, 2))

    def __str__(self) -> str:
        head = f"{self.source} ({self.framework}): "
        if self.clean:
            lines = [head + f"no problems found ({len(self.passed)} checks passed)"]
        else:
            lines = [head + f"{len(self.findings)} finding(s): {', '.join(self.codes)}"]
            lines += [str(f) for f in self._sorted()]
        if self.skipped:
            lines.append("skipped:")
            lines += [f"    {check}: {reason}" for check, reason in self.skipped]
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))

    def _repr_html_(self) -> str:
        esc = html.escape
        if self.clean:
            head = f"<b style='color:#1b5e20'>{esc(self.source)}: no problems found</b> ({len(self.passed)} checks passed)"
        else:
            head = f"<b style='color:#b71c1c'>{esc(self.source)}: {len(self.findings)} finding(s)</b>"
        rows = "".join(
            f"<tr><td><code>{esc(f.code)}</code></td><td>{esc(f.title)}</td>"
            f"<td>{'<br>'.join(esc(e) for e in f.evidence)}</td><td>{esc(f.fix)}</td><td>{esc(f.lesson)}</td></tr>"
            for f in self._sorted())
        table = ("<table><tr><th>code</th><th>problem</th><th>evidence</th><th>fix</th><th>lesson</th></tr>"
                 f"{rows}</table>") if rows else ""
        skipped = "".join(f"<li>{esc(c)}: {esc(r)}</li>" for c, r in self.skipped)
        skipped = f"<p>Skipped:</p><ul>{skipped}</ul>" if skipped else ""
        return f"<div class='course-diagnosis'>{head}{table}{skipped}</div>"


# --- what a loss expects ------------------------------------------------------

@dataclass(frozen=True)
class LossInfo:
    kind: str | None  # cross_entropy, binary_cross_entropy, mse, mae or None (unknown)
    expects: str | None  # logits, probabilities, log_probabilities, values
    name: str
    sparse: bool = True  # cross-entropy with class indices (not one-hot rows)


_TORCH_LOSSES = {
    "CrossEntropyLoss": ("cross_entropy", "logits"), "cross_entropy": ("cross_entropy", "logits"),
    "NLLLoss": ("cross_entropy", "log_probabilities"), "nll_loss": ("cross_entropy", "log_probabilities"),
    "BCEWithLogitsLoss": ("binary_cross_entropy", "logits"),
    "binary_cross_entropy_with_logits": ("binary_cross_entropy", "logits"),
    "BCELoss": ("binary_cross_entropy", "probabilities"), "binary_cross_entropy": ("binary_cross_entropy", "probabilities"),
    "MSELoss": ("mse", "values"), "mse_loss": ("mse", "values"),
    "L1Loss": ("mae", "values"), "l1_loss": ("mae", "values"),
    "SmoothL1Loss": ("mse", "values"), "smooth_l1_loss": ("mse", "values"),
    "HuberLoss": ("mse", "values"), "huber_loss": ("mse", "values"),
}
_KERAS_LOSSES = {
    "sparse_categorical_crossentropy": ("cross_entropy", True), "sparsecategoricalcrossentropy": ("cross_entropy", True),
    "categorical_crossentropy": ("cross_entropy", False), "categoricalcrossentropy": ("cross_entropy", False),
    "binary_crossentropy": ("binary_cross_entropy", True), "binarycrossentropy": ("binary_cross_entropy", True),
    "mse": ("mse", True), "mean_squared_error": ("mse", True), "meansquarederror": ("mse", True),
    "mae": ("mae", True), "mean_absolute_error": ("mae", True), "meanabsoluteerror": ("mae", True),
    "huber": ("mse", True), "huber_loss": ("mse", True),
}


def loss_info(loss, framework: str) -> LossInfo:
    """What kind of loss ``loss`` is and what it expects the model to output."""
    if framework == "torch":
        name = type(loss).__name__ if not callable(loss) or hasattr(loss, "forward") else getattr(loss, "__name__", "")
        kind, expects = _TORCH_LOSSES.get(name, (None, None))
        return LossInfo(kind, expects, name or repr(loss))
    if isinstance(loss, str):
        name, config = loss, {}
    elif hasattr(loss, "get_config") and not isinstance(loss, type):
        name = type(loss).__name__
        try:
            config = loss.get_config()
        except Exception:  # noqa: BLE001
            config = {}
        if name == "LossFunctionWrapper":
            name = str(config.get("fn", name))
    else:
        name, config = getattr(loss, "__name__", repr(loss)), {}
    kind, sparse = _KERAS_LOSSES.get(name.lower().replace(" ", ""), (None, True))
    if kind in ("cross_entropy", "binary_cross_entropy"):
        expects = "logits" if config.get("from_logits") else "probabilities"
    else:
        expects = "values" if kind else None
    return LossInfo(kind, expects, name, sparse)


# --- the framework adapters ---------------------------------------------------

class _Torch:
    framework = "torch"

    def __init__(self, model, x, y, loss, optimizer):
        import torch
        from torch import nn

        self.torch, self.nn = torch, nn
        self.original = model
        self.loss = loss
        self.info = loss_info(loss, "torch")
        self.x = x if torch.is_tensor(x) else torch.as_tensor(np.asarray(x))
        if self.x.is_floating_point() and self.x.dtype == torch.float64:
            self.x = self.x.float()
        y_t = y if torch.is_tensor(y) else torch.as_tensor(np.asarray(y))
        if self.info.kind == "cross_entropy" and not y_t.is_floating_point():
            y_t = y_t.long()
        elif y_t.is_floating_point() and y_t.dtype == torch.float64:
            y_t = y_t.float()
        self.y = y_t
        self.optimizer = optimizer

    def copy(self):
        return copy.deepcopy(self.original)

    def has_batchnorm(self, model):
        return any(isinstance(m, self.nn.modules.batchnorm._BatchNorm) for m in model.modules())

    def output(self, model, training):
        with self.torch.no_grad():
            was = model.training
            model.train(training)
            try:
                return model(self.x)
            finally:
                model.train(was)

    def loss_of(self, out, y=None):
        return float(self.loss(out, self.y if y is None else y))

    def optimizer_for(self, model, lr_scale=1.0, default_only=False):
        """A new optimizer of the student's class and settings, on ``model``'s parameters."""
        if self.optimizer is None or default_only:
            return self.torch.optim.Adam(model.parameters(), lr=1e-2)
        index = {id(p): i for i, p in enumerate(self.original.parameters())}
        params = list(model.parameters())
        groups = []
        for group in self.optimizer.param_groups:
            settings = {k: v for k, v in group.items() if k != "params"}
            settings["params"] = [params[index[id(p)]] for p in group["params"] if id(p) in index]
            if "lr" in settings:
                settings["lr"] = settings["lr"] * lr_scale
            groups.append(settings)
        return type(self.optimizer)(groups)

    def train(self, model, optimizer, steps):
        from .torch_loop import train_torch

        model.train()
        return train_torch(model, self.x, self.y, self.loss, optimizer, steps=steps, sample_every=steps)

    def lr(self):
        return self.optimizer.param_groups[0].get("lr") if self.optimizer is not None else None

    def leaf_trace(self, model, training):
        """Leaves in the order they ran, each with its input and output (first call only)."""
        trace, handles = [], []

        def hook(module, inputs, output, name):
            if inputs and self.torch.is_tensor(inputs[0]) and self.torch.is_tensor(output):
                trace.append((name, module, inputs[0].detach(), output.detach()))

        for name, m in model.named_modules():
            if not list(m.children()):
                handles.append(m.register_forward_hook(lambda mod, i, o, name=name: hook(mod, i, o, name)))
        try:
            out = self.output(model, training)
        finally:
            for h in handles:
                h.remove()
        return trace, out


class _Keras:
    framework = "keras"

    def __init__(self, model, x, y, loss, optimizer):
        from .repro import import_tensorflow

        self.tf = import_tensorflow()
        import keras

        self.keras = keras
        self.original = model
        self.loss = loss
        self.info = loss_info(loss, "keras")
        self.x = np.asarray(to_numpy(x))
        if self.x.dtype == np.float64:
            self.x = self.x.astype(np.float32)
        self.y = np.asarray(to_numpy(y))
        if self.y.dtype == np.float64:
            self.y = self.y.astype(np.float32)
        self.optimizer = optimizer
        self.loss_fn = keras.losses.get(loss) if isinstance(loss, str) else loss

    def copy(self):
        try:
            clone = self.keras.models.clone_model(self.original)
        except Exception as error:  # noqa: BLE001
            raise TypeError("diagnose works on a copy, and keras.models.clone_model could not copy this model "
                            f"(a subclassed Model needs get_config/from_config): {error}") from None
        if self.original.built and self.original.weights:
            if not clone.built or not clone.weights:
                clone(self.x[:1])
            clone.set_weights(self.original.get_weights())
        else:
            clone(self.x[:1])
        return clone

    def has_batchnorm(self, model):
        return any(type(l).__name__ == "BatchNormalization" for l in keras_layers(model))

    def output(self, model, training):
        return model(self.x, training=training)

    def loss_of(self, out, y=None):
        return float(self.tf.reduce_mean(self.loss_fn(self.y if y is None else y, out)))

    def optimizer_for(self, model, lr_scale=1.0, default_only=False):
        if self.optimizer is None or default_only:
            return self.keras.optimizers.Adam(1e-2)
        config = self.optimizer.get_config()
        if lr_scale != 1.0 and isinstance(config.get("learning_rate"), (int, float)):
            config["learning_rate"] = config["learning_rate"] * lr_scale
        return type(self.optimizer).from_config(config)

    def train(self, model, optimizer, steps):
        from .keras_loop import train_keras

        return train_keras(model, self.x, self.y, self.loss, optimizer, steps=steps, sample_every=steps)

    def lr(self):
        if self.optimizer is None:
            return None
        value = self.optimizer.get_config().get("learning_rate")
        return value if isinstance(value, (int, float)) else None


# --- the checks ---------------------------------------------------------------

def _fraction(mask) -> float:
    mask = np.asarray(mask)
    return float(mask.mean()) if mask.size else 0.0


def _probability_rows(out: np.ndarray) -> bool:
    """Every row non-negative and summing to 1 (a softmax's output), over >= 2 classes."""
    if out.ndim < 2 or out.shape[-1] < 2 or out.ndim != 2:
        return False
    return bool(np.all(out >= 0) and np.allclose(out.sum(axis=-1), 1.0, atol=1e-4))


def _log_probability_rows(out: np.ndarray) -> bool:
    if out.ndim != 2 or out.shape[-1] < 2:
        return False
    return bool(np.all(out <= 1e-6) and np.allclose(np.exp(out.astype(np.float64)).sum(axis=-1), 1.0, atol=1e-4))


_RANGES = {"relu": (0.0, math.inf), "sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0),
           "softplus": (0.0, math.inf), "exponential": (0.0, math.inf), "relu6": (0.0, 6.0)}


def _torch_final_activation(ad, trace, out):
    """The function applied last: from the last leaf that ran, if its output is the model's output."""
    if not trace:
        return None
    name, module, _, last_out = trace[-1]
    same = last_out.shape == out.shape and bool(ad.torch.equal(last_out, out))
    if not same:
        return None
    kind = type(module).__name__.lower()
    for key in ("softmax", "logsoftmax", "sigmoid", "tanh", "relu6", "relu", "softplus"):
        if kind == key:
            return key
    return None


def _keras_final_activation(model):
    layers = list(keras_layers(model))
    if not layers:
        return None
    last = layers[-1]
    kind = type(last).__name__
    if kind == "Softmax":
        return "softmax"
    if kind == "ReLU":
        return "relu"
    act = getattr(last, "activation", None)
    name = getattr(act, "__name__", None)
    return name if name not in (None, "linear") else None


def _check_output(ad, rep, out, activation):
    """Output activation against the loss and the targets."""
    info = ad.info
    y = np.asarray(to_numpy(ad.y), dtype=np.float64)
    n_out = out.shape[-1] if out.ndim >= 2 else 1
    # one unit through a softmax: the output is exactly 1 for every sample
    if n_out == 1 and out.size >= 2 and np.allclose(out, 1.0, rtol=0, atol=1e-5) and out.std() < 1e-6:
        rep.add("one-unit-softmax", [f"the output has 1 unit and equals 1 (to 1e-5) for all {out.shape[0]} samples"
                                     + (" (a softmax over one unit)" if activation == "softmax" else ""),
                                     "its gradient with respect to every weight is exactly 0"])
        return
    probs = _probability_rows(out) or (activation in ("softmax", "sigmoid") and np.all((out >= 0) & (out <= 1)))
    if info.expects == "logits" and probs:
        what = activation or "softmax"
        rep.add("softmax-before-crossentropy",
                [f"the model's outputs are probabilities (a {what}: all in [0, 1]"
                 + (", rows sum to 1" if _probability_rows(out) else "") + ")",
                 f"but {info.name} applies its own softmax/sigmoid to what it gets: "
                 f"output range {sig(out.min())}..{sig(out.max())} becomes nearly uniform"])
    elif info.expects == "log_probabilities" and not _log_probability_rows(out):
        rep.add("logits-into-probability-loss",
                [f"{info.name} expects log-probabilities (rows with exp summing to 1); "
                 f"these outputs range {sig(out.min())}..{sig(out.max())}"
                 + (" and are probabilities: use log_softmax" if probs else ": add log_softmax")])
    elif info.expects == "probabilities" and info.kind in ("cross_entropy", "binary_cross_entropy"):
        in_range = bool(np.all((out >= 0) & (out <= 1)))
        rows_ok = _probability_rows(out) if info.kind == "cross_entropy" and n_out >= 2 else in_range
        if not rows_ok:
            rep.add("logits-into-probability-loss",
                    [f"{info.name} expects probabilities, but outputs range {sig(out.min())}..{sig(out.max())}"
                     + ("" if in_range else " (outside [0, 1])")])
    # an output that cannot reach the targets (regression or binary targets)
    if activation in _RANGES and info.kind in ("mse", "mae", "binary_cross_entropy") and info.expects != "logits":
        low, high = _RANGES[activation]
        outside = (y < low) | (y > high)
        if _fraction(outside) > 0.0:
            rep.add("output-cannot-reach-target",
                    [f"the output goes through {activation}, range [{sig(low)}, {sig(high) if high < math.inf else 'inf'}]",
                     f"{percent(_fraction(outside))} of the targets lie outside it "
                     f"(targets range {sig(y.min())}..{sig(y.max())})"])
    # regression outputs clipped at zero by a ReLU (also one applied inside forward)
    if activation is None and info.kind in ("mse", "mae") and np.any(y < 0):
        zeros = _fraction(out == 0)
        if np.all(out >= 0) and zeros >= 0.1 and np.ptp(out) > 0:  # a constant output is another story
            rep.add("output-cannot-reach-target",
                    [f"every output is >= 0 and {percent(zeros)} are exactly 0 (a ReLU at the output)",
                     f"{percent(_fraction(y < 0))} of the targets are negative"])
    # shapes that broadcast in the loss
    if info.kind in ("mse", "mae", "binary_cross_entropy"):
        ys = tuple(np.shape(y))
        if tuple(out.shape) != ys:
            try:
                b = np.broadcast_shapes(tuple(out.shape), ys)
            except ValueError:
                b = None
            if b is not None and int(np.prod(b)) > max(out.size, int(np.prod(ys))):
                rep.add("target-shape-broadcast",
                        [f"output shape {tuple(out.shape)}, target shape {ys}: the loss compares every output "
                         f"with every target (shape {tuple(b)})"])


def _chance(ad, out):
    info = ad.info
    y = np.asarray(to_numpy(ad.y), dtype=np.float64)
    if info.kind == "cross_entropy":
        k = out.shape[-1] if out.ndim >= 2 else None
        return math.log(k) if k and k >= 2 else None
    if info.kind == "binary_cross_entropy":
        return math.log(2)
    if info.kind == "mse":
        return float(np.mean((y - y.mean(axis=0)) ** 2))
    if info.kind == "mae":
        return float(np.mean(np.abs(y - np.median(y, axis=0))))
    return None


def _check_init_loss(ad, rep, init_loss, out):
    if not math.isfinite(init_loss):
        rep.add("non-finite-loss", [f"the loss of the untrained model on this batch is {init_loss}"])
        return
    chance = _chance(ad, out)
    if chance is not None and chance <= 0:
        rep.skip("init-loss", "the targets do not vary in this batch: no chance level to compare with")
        return
    if chance is None:
        rep.skip("init-loss", f"no chance level for loss {ad.info.name!r} (pass loss_kind=... to set one)")
        return
    ratio = init_loss / chance
    high = 2.0 if ad.info.kind in ("cross_entropy", "binary_cross_entropy") else 10.0
    if ratio > high or ratio < 1 / high:
        rep.add("init-loss-off", [f"loss at initialisation {sig(init_loss)} vs chance {sig(chance)} "
                                  f"({ad.info.kind}): {sig(ratio)} times chance (healthy: within {sig(high)}x)"],
                severity="warning", ratio=ratio)
    else:
        rep.passed.append("init-loss")


def _feature_axis_values(ad, x: np.ndarray):
    """(samples, features): torch is channels first, Keras channels last."""
    if x.ndim == 1:
        return x.reshape(-1, 1)
    if x.ndim == 2:
        return x
    if ad.framework == "torch":
        return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    return x.reshape(-1, x.shape[-1])


def _check_inputs(ad, rep, min_samples):
    x = np.asarray(to_numpy(ad.x))
    if not np.issubdtype(x.dtype, np.floating):
        rep.skip("unscaled-inputs", f"the inputs are {x.dtype} (indices for an embedding?), not measurements")
        return
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        rep.add("unscaled-inputs", [f"{percent(_fraction(~np.isfinite(x)))} of the input values are NaN or infinite"])
        return
    v = _feature_axis_values(ad, x)
    if v.shape[0] < min_samples:
        rep.skip("unscaled-inputs", f"{v.shape[0]} value(s) per feature: too few to estimate a scale "
                                    f"(need >= {min_samples})")
        return
    mean, std = v.mean(axis=0), v.std(axis=0)
    rms = np.sqrt(mean ** 2 + std ** 2)
    evidence = []
    if rms.max() > 10:
        j = int(np.argmax(rms))
        evidence.append(f"feature {j} has mean {sig(mean[j])}, std {sig(std[j])}: values of order {sig(rms.max())} "
                        "(healthy: about 1)")
    varying = std > 0
    if varying.any():
        offset = np.median(np.abs(mean[varying]) / std[varying])
        if offset > 5:
            evidence.append(f"a typical feature sits at {sig(offset)} standard deviations from zero "
                            f"(overall mean {sig(v.mean())}, typical std {sig(np.median(std[varying]))}): "
                            "every sample looks alike")
    if 0 < rms.max() < 1e-2:
        evidence.append(f"every input value is tiny (largest feature scale {sig(rms.max())})")
    if evidence:
        rep.add("unscaled-inputs", evidence)
    else:
        rep.passed.append("unscaled-inputs")


def _check_linear_stack(ad, rep, model, trace):
    from .linearity import linear_pairs

    found = linear_pairs(model)
    pairs = list(found.pairs)
    if ad.framework == "torch" and pairs and not isinstance(model, ad.nn.Sequential):
        pairs = [p for p in pairs if _torch_pair_flows(ad, p, trace)]
    if pairs:
        rep.add("linear-stack", [f"{p}: these compose into one linear map" for p in pairs]
                + [f"{len(pairs)} of {len(found.maps)} layers with weights feed another with nothing non-linear "
                   "between"])
    else:
        rep.passed.append("linear-stack")


def _torch_pair_flows(ad, pair, trace):
    """For a module with its own forward: does the first layer's output reach the second unchanged?

    The registration order of a custom module is not its execution order, and a
    functional F.relu in forward is invisible to the module list; the values
    tell: the second layer's input must equal the first layer's output passed
    through the (linear) layers listed between them.
    """
    labels = [pair.first, *pair.between, pair.second]
    names = [lab.split(" (")[0] for lab in labels]
    by_name = {}
    for name, module, inp, out in trace:
        by_name.setdefault(name, (inp, out))
    if any(n not in by_name for n in names):
        return False
    for a, b in zip(names, names[1:]):
        out_a, in_b = by_name[a][1], by_name[b][0]
        if out_a.numel() != in_b.numel() or not ad.torch.allclose(out_a.reshape(-1), in_b.reshape(-1)):
            return False
    return True


def _bn_inputs(ad, model):
    """name -> (input of every BatchNorm layer in a training-mode pass, channel axis)."""
    if ad.framework == "torch":
        bns = {n: m for n, m in model.named_modules() if isinstance(m, ad.nn.modules.batchnorm._BatchNorm)}
        seen, handles = {}, []
        def keep(name, inputs):
            seen.setdefault(name, inputs[0].detach().numpy())  # returns None: the input is left as it is

        for n, m in bns.items():
            handles.append(m.register_forward_pre_hook(lambda mod, i, n=n: keep(n, i)))
        error = None
        try:
            ad.output(model, training=True)
        except ValueError as e:  # torch refuses to normalise one value per channel in training mode
            error = e
        finally:
            for h in handles:
                h.remove()
        return {n: (a, 1) for n, a in seen.items()}, error
    layers = [l for l in keras_layers(model) if type(l).__name__ == "BatchNormalization"]
    if not layers:
        return {}, None
    probe = ad.keras.Model(model.inputs, [l.input for l in layers])
    saved = [v.numpy() for v in model.non_trainable_variables]
    outs = probe(ad.x, training=True)
    for var, value in zip(model.non_trainable_variables, saved):
        var.assign(value)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return {l.name: (np.asarray(o), getattr(l, "axis", -1)) for l, o in zip(layers, outs)}, None


def _check_batchnorm(ad, rep, model):
    if not ad.has_batchnorm(model):
        return
    try:
        inputs, error = _bn_inputs(ad, model)
    except Exception as e:  # noqa: BLE001
        rep.skip("degenerate-batchnorm", f"could not read the BatchNorm inputs: {e}")
        return
    evidence = []
    for name, (a, axis) in inputs.items():
        axis = axis[0] if isinstance(axis, (list, tuple)) else axis
        a = np.moveaxis(a.astype(np.float64), axis, -1)
        per_channel = a.reshape(-1, a.shape[-1])
        count = per_channel.shape[0]
        var = per_channel.var(axis=0)
        scale = np.abs(per_channel).max(axis=0) + 1e-12
        flat = var <= (1e-6 * scale) ** 2
        if count <= 1:
            evidence.append(f"{name}: normalises over {count} value per feature: its output is its bias, whatever the input")
        elif _fraction(flat) >= 0.5:
            evidence.append(f"{name}: {percent(_fraction(flat))} of its {len(var)} features have zero variance over the "
                            f"{count} values in the batch (identical samples): the output is its bias")
    if error is not None and "more than 1 value per channel" in str(error):
        evidence.append(f"PyTorch refuses a training step: {error}")
    if evidence:
        rep.add("degenerate-batchnorm", evidence + ["its gradient to everything before it is exactly 0"])
    else:
        rep.passed.append("degenerate-batchnorm")


def _layer_weight_norms(model):
    from . import instruments

    snap = instruments.snapshot_weights(model)
    return {k: float(np.sqrt(sum(float((np.asarray(to_numpy(w), dtype=np.float64) ** 2).sum()) for w in ws)))
            for k, ws in snap.items()}


def _check_gradients(ad, rep, model, vanish=1e-3, explode=1e3, too_large=1e2):
    from . import instruments

    if ad.framework == "torch":
        model.train()
    try:
        norms = instruments.grad_norms(model, ad.x, ad.y, ad.loss)
    except Exception as e:  # noqa: BLE001
        rep.skip("gradient-flow", f"could not compute gradients in training mode: {type(e).__name__}: {e}")
        return
    if not norms:
        rep.skip("gradient-flow", "the model has no trainable layers")
        return
    names = list(norms)
    values = np.array([norms[n] for n in names])
    if not np.all(np.isfinite(values)):
        bad = [n for n, v in zip(names, values) if not math.isfinite(v)]
        rep.add("exploding-gradients", [f"non-finite gradient in {', '.join(bad)}"])
        return
    if values.max() == 0:
        rep.add("zero-gradients", [f"all {len(names)} layers receive a gradient of exactly 0: the loss does not "
                                   "depend on any weight"], zero=names)
        return
    zero = [n for n, v in zip(names, values) if v == 0]
    if zero:
        rep.add("zero-gradients", [f"{len(zero)} of {len(names)} layers receive exactly 0: {', '.join(zero)}"],
                zero=zero)
    weights = _layer_weight_norms(model)
    rel = {n: norms[n] / weights[n] for n in names if norms[n] > 0 and weights.get(n, 0) > 0}
    if len(rel) >= 2:
        order = [n for n in names if n in rel]
        first, last = order[0], order[-1]
        ratio = rel[first] / rel[last]
        if ratio < vanish:
            rep.add("vanishing-gradients",
                    [f"gradient/weight norm: {first} {sig(rel[first])} vs {last} {sig(rel[last])} "
                     f"({sig(ratio)} times; healthy: within {sig(1 / vanish)}x)"])
        elif ratio > explode:
            rep.add("exploding-gradients",
                    [f"gradient/weight norm: {first} {sig(rel[first])} vs {last} {sig(rel[last])} "
                     f"({sig(ratio)} times; healthy: within {sig(explode)}x)"])
        elif max(rel.values()) > too_large:
            worst = max(rel, key=rel.get)
            rep.add("exploding-gradients",
                    [f"{worst}: gradient norm {sig(norms[worst])} is {sig(rel[worst])} times its weights' norm "
                     f"(flagged above {sig(too_large)}): one step at lr 0.01 would more than replace the weights"])
        else:
            rep.passed.append("gradient-flow")
    rep.gradient_norms = norms


def _dead(ad, model):
    from . import instruments

    if ad.framework == "torch":
        model.train(ad.has_batchnorm(model))
    return instruments.dead_fraction(model, ad.x)


def _check_dead(ad, rep, model, threshold, min_samples, label="at initialisation"):
    n = len(ad.x)
    if n < min_samples:
        rep.skip("dead-relu", f"batch of {n}: a unit is 'dead' only if it is off for many samples (need >= {min_samples})")
        return None
    try:
        dead = _dead(ad, model)
    except Exception as e:  # noqa: BLE001
        rep.skip("dead-relu", f"could not read the activations: {e}")
        return None
    bad = {k: v for k, v in dead.items() if v >= threshold}
    if bad:
        rep.add("dead-relu", [f"{k}: {percent(v)} of units are 0 for all {n} samples {label}" for k, v in bad.items()],
                dead=dead)
    elif dead:
        rep.passed.append("dead-relu")
    return dead


def _probe_lr(ad, rep, steps):
    """A few steps at the student's learning rate, and at a tenth of it, on copies."""
    if ad.optimizer is None:
        return None
    model = ad.copy()
    run = ad.train(model, ad.optimizer_for(model), steps)
    first = float(run.losses[0])
    tail = np.asarray(run.losses[-max(steps // 4, 1):], dtype=np.float64)
    diverged = run.diverged or not np.all(np.isfinite(tail)) or float(np.median(tail)) > 1.5 * first
    if diverged:  # the same steps at a tenth of the learning rate, for the evidence
        model = ad.copy()
        calm_final = float(ad.train(model, ad.optimizer_for(model, 0.1), steps).losses[-1])
        lr = ad.lr()
        rep.add("lr-too-high", [f"{steps} steps at {'lr ' + sig(lr) if lr else 'your settings'}: loss {sig(first)} -> "
                                + ("not finite or exploding" if run.diverged or not np.all(np.isfinite(tail))
                                   else f"about {sig(float(np.median(tail)))}"),
                                f"at a tenth of the learning rate: loss {sig(first)} -> {sig(calm_final)}"])
        return True
    rep.passed.append("lr-too-high")
    return False


def _probe_overfit(ad, rep, steps, target, dead_threshold, min_samples, rounds=3):
    """Adam (lr 1e-2) on a copy, on this batch only: can the model memorise it?

    The probe tests the model, the loss and the data, not the student's
    optimizer settings (the learning-rate probe does that). While the loss is
    still falling it gets up to ``rounds`` x ``steps`` steps.
    """
    model = ad.copy()
    optimizer = ad.optimizer_for(model, default_only=True)
    parts = []
    for _ in range(rounds):
        run = ad.train(model, optimizer, steps)
        parts.append(np.asarray(run.losses, dtype=np.float64))
        losses = np.concatenate(parts)
        if run.diverged or not np.all(np.isfinite(losses)):
            break
        first, best, q = float(losses[0]), float(losses.min()), max(steps // 4, 1)
        if best <= target * first or best < 1e-4 or losses[-1] > 0.95 * float(np.min(losses[:-q])):
            break  # memorised, or flat
    first = float(losses[0])
    if not np.all(np.isfinite(losses)) or run.diverged:
        rep.add("non-finite-loss", [f"the overfit probe's loss (Adam, lr 1e-2) became {sig(losses[-1])} "
                                    f"after {len(losses)} steps"])
    else:
        final = float(losses[-1])
        q = max(steps // 4, 1)
        earlier = float(np.min(losses[:-q]))
        best = float(losses.min())
        if best <= target * first or best < 1e-4:
            rep.passed.append("overfit-one-batch")
        elif final < 0.95 * earlier:
            rep.add("too-few-steps", [f"{len(losses)} steps of Adam (lr 1e-2) on one batch: loss {sig(first)} -> "
                                      f"{sig(final)}",
                                      f"still falling: {percent(1 - final / earlier)} lower than {q} steps earlier"],
                    severity="warning")
        else:
            rep.add("cannot-overfit", [f"{len(losses)} steps of Adam (lr 1e-2) on one batch of {len(ad.x)}: loss "
                                       f"{sig(first)} -> {sig(final)} (goal: below {sig(target * first)})",
                                       f"flat: the last {q} steps lowered it by less than 5%"])
    # units that died while the probe trained (the lesson 03 mechanism)
    if len(ad.x) >= min_samples and "dead-relu" not in rep.codes:
        try:
            dead = _dead(ad, model)
        except Exception:  # noqa: BLE001
            dead = {}
        bad = {k: v for k, v in dead.items() if v >= dead_threshold}
        if bad:
            rep.add("dead-relu", [f"{k}: {percent(v)} of units are 0 for all {len(ad.x)} samples after the probe's "
                                  f"{len(losses)} steps" for k, v in bad.items()], dead=dead)
    return run


# findings that follow from another one: listed after their cause, and said so
CONSEQUENCES = {
    "degenerate-batchnorm": ("dead-relu", "zero-gradients", "vanishing-gradients", "cannot-overfit",
                             "output-cannot-reach-target"),
    "one-unit-softmax": ("zero-gradients", "cannot-overfit", "init-loss-off"),
    "linear-stack": ("cannot-overfit",),
    "softmax-before-crossentropy": ("cannot-overfit", "too-few-steps"),
    "output-cannot-reach-target": ("cannot-overfit", "dead-relu", "zero-gradients"),
    "unscaled-inputs": ("init-loss-off", "cannot-overfit", "too-few-steps", "dead-relu", "exploding-gradients"),
    "dead-relu": ("zero-gradients", "cannot-overfit", "loss-not-decreasing", "update-ratio-low"),
    "zero-gradients": ("loss-not-decreasing", "update-ratio-low", "cannot-overfit"),
    "gradients-accumulate": ("lr-too-high", "update-ratio-high", "loss-not-decreasing", "non-finite-loss"),
    "target-shape-broadcast": ("cannot-overfit",),
}


def _mark_consequences(rep):
    codes = set(rep.codes)
    for f in rep.findings:
        causes = [c for c, follows in CONSEQUENCES.items() if c in codes and f.code in follows and c != f.code]
        if causes:
            f.severity = "consequence"
            f.evidence.append(f"(probably a consequence of {', '.join(causes)})")


def diagnose(model, x, y, loss, optimizer=None, steps: int = 200, lr_steps: int = 20, overfit_target: float = 0.1,
             dead_threshold: float = 0.5, min_samples: int = 8, loss_kind: str | None = None) -> Report:
    """Run the course's checklist on ``model`` and one batch ``(x, y)``; return a Report.

    loss: PyTorch: the loss you call as ``loss(output, target)`` (nn.CrossEntropyLoss(), F.mse_loss, ...);
        Keras: the loss you compile with ("mse", keras.losses.SparseCategoricalCrossentropy(from_logits=True)).
    optimizer: your optimizer (optional): its class and settings are reused on a copy for the
        overfit probe and the learning-rate probe (without one: Adam, lr 1e-2, and no lr probe).
    steps: optimizer steps of the overfit probe; it passes when the loss falls below
        ``overfit_target`` times its first value.
    dead_threshold: a ReLU layer with at least this fraction of dead units is reported.
    min_samples: checks that need a spread of samples (dead units, input scale) are skipped below it.
    loss_kind: "cross_entropy", "binary_cross_entropy", "mse" or "mae" for a loss we cannot recognise.
    The model (its weights, BatchNorm statistics, train/eval mode) and optimizer are never modified.
    """
    import logging

    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)  # tf.function retracing notes: the probes train fresh copies on purpose
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. torch's broadcasting warning: reported as a finding instead
            return _diagnose(model, x, y, loss, optimizer, steps, lr_steps, overfit_target, dead_threshold, min_samples,
                             loss_kind)
    finally:
        tf_logger.setLevel(level)


def _diagnose(model, x, y, loss, optimizer, steps, lr_steps, overfit_target, dead_threshold, min_samples, loss_kind):
    framework = framework_of(model)
    n_x, n_y = len(x), len(y)
    if n_x != n_y:
        raise ValueError(f"x has {n_x} samples but y has {n_y}: they must describe the same batch")
    if n_x == 0:
        raise ValueError("the batch is empty")
    ad = (_Torch if framework == "torch" else _Keras)(model, x, y, loss, optimizer)
    if loss_kind is not None:
        ad.info = LossInfo(loss_kind, ad.info.expects, ad.info.name, ad.info.sparse)
    rep = Report(source="diagnose", framework=framework)
    if ad.info.kind is None:
        rep.skip("loss-recognition", f"loss {ad.info.name!r} not recognised: checks tied to the loss's kind are skipped "
                                     "(pass loss_kind=...)")

    work = ad.copy()
    # the forward pass, in inference mode (training mode if there is BatchNorm: its statistics are fresh)
    training = ad.has_batchnorm(work)
    try:
        if framework == "torch":
            trace, out_t = ad.leaf_trace(work, training)
        else:
            trace, out_t = [], ad.output(work, training)
    except Exception as e:  # noqa: BLE001
        if framework == "torch" and training and "more than 1 value per channel" in str(e):
            training = False
            trace, out_t = ad.leaf_trace(work, False)
        else:
            raise ValueError(f"the model could not run on x of shape {tuple(np.shape(to_numpy(x)))}: "
                             f"{type(e).__name__}: {e}") from None
    out = np.asarray(to_numpy(out_t), dtype=np.float64)
    if len(out) != n_x:
        raise ValueError(f"the model returned {len(out)} outputs for {n_x} inputs")
    try:
        init_loss = ad.loss_of(out_t)
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"the loss could not compare outputs of shape {tuple(out.shape)} with targets of shape "
                         f"{tuple(np.shape(to_numpy(y)))}: {type(e).__name__}: {e}") from None

    activation = _torch_final_activation(ad, trace, out_t) if framework == "torch" else _keras_final_activation(work)
    _check_output(ad, rep, out, activation)
    _check_init_loss(ad, rep, init_loss, out)
    _check_inputs(ad, rep, min_samples)
    _check_linear_stack(ad, rep, work, trace)
    _check_batchnorm(ad, rep, work)
    _check_gradients(ad, rep, work)
    _check_dead(ad, rep, work, dead_threshold, min_samples)
    for name, probe in (("lr-too-high", lambda: _probe_lr(ad, rep, lr_steps)),
                        ("overfit-one-batch", lambda: steps > 0 and _probe_overfit(
                            ad, rep, steps, overfit_target, dead_threshold, min_samples))):
        try:
            probe()
        except Exception as e:  # noqa: BLE001
            rep.skip(name, f"training a copy on this batch failed: {type(e).__name__}: {e}")
    _mark_consequences(rep)
    if optimizer is None:
        rep.skip("lr-too-high", "no optimizer given")
    return rep


# --- watch: the same instruments on your own training loop ---------------------

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
                peak = float(finite.max())
                if peak > 10 * max(start, 1e-12) and end > 2 * start:
                    rep.add("lr-too-high", [f"loss rose from {sig(start)} (first {k} steps) to {sig(end)} "
                                            f"(last {k}), peak {sig(peak)}"])
                elif end >= 0.95 * start and not bad.size:
                    rep.add("loss-not-decreasing", [f"median loss of the first {k} steps {sig(start)}, of the last {k} "
                                                    f"{sig(end)} over {n} steps"])
                else:
                    rep.passed.append("loss-trend")
            elif not bad.size:
                rep.skip("loss-trend", f"{finite.size} finite losses recorded: need >= 10 to see a trend")
        if n and not np.all(np.isfinite(losses)):
            rep.skip("dead-relu / update-ratio", "the loss went non-finite: weights after that say nothing")
            return rep
        if self.dead:
            first, last = self.dead[0][1], self.dead[-1][1]
            died = {k: (first.get(k, 0.0), v) for k, v in last.items() if v >= self.dead_threshold}
            if died:
                rep.add("dead-relu", [f"{k}: {percent(a)} dead at step {self.dead[0][0]}, {percent(b)} at step "
                                      f"{self.dead[-1][0]}" for k, (a, b) in died.items()])
            else:
                rep.passed.append("dead-relu")
        if self.zero_at_step:
            layers = self.zero_at_step[-1][1]
            always = [k for k in layers if all(r[1].get(k, 1) == 0 for r in self.zero_at_step)]
            if always and len(self.zero_at_step) >= 2:
                rep.add("zero-gradients", [f"{len(always)} of {len(layers)} layers held a gradient of exactly 0 at "
                                           f"all {len(self.zero_at_step)} sampled optimizer steps: {', '.join(always)}",
                                           "(zero_grad() between backward() and step()? a cut in the graph?)"])
        if self.ratios:
            layers = self.ratios[-1][1].keys()
            med = {k: float(np.median([r[1][k] for r in self.ratios if k in r[1]])) for k in layers}
            high = {k: v for k, v in med.items() if v > self.ratio_high}
            if high:
                rep.add("update-ratio-high", [f"{k}: median update/weight ratio {sig(v)} (healthy: about 1e-3, "
                                              f"flagged above {sig(self.ratio_high)})" for k, v in high.items()])
            elif med and max(med.values()) < self.ratio_low:
                rep.add("update-ratio-low", [f"largest median update/weight ratio {sig(max(med.values()))} over "
                                             f"{len(self.ratios)} sampled steps (flagged below {sig(self.ratio_low)})"])
            else:
                rep.passed.append("update-ratio")
        _mark_consequences(rep)
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
        from . import instruments_torch

        self._it = instruments_torch
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
        for name, module in self._it.activation_layers(self.model).items():
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
        return self.state.report()

    def __str__(self):
        return str(self.report())

    def _repr_html_(self):
        return self.report()._repr_html_()


def _keras_watch_class():
    import keras

    class KerasWatch(keras.callbacks.Callback):
        """A callback for ``model.fit``: losses, dead units (on ``x``), update/weight ratios.

        Keras's fit resets gradients itself, so gradients-accumulate does not
        apply. ``x``: a sample batch on which dead units are read every
        ``every`` batches (optional).
        """

        def __init__(self, x=None, every=10, dead_threshold=0.5, ratio_range=(1e-7, 0.1)):
            super().__init__()
            self.x = None if x is None else np.asarray(to_numpy(x))
            self.state = _WatchState(every, dead_threshold, ratio_range)
            self.state.framework = "keras"
            self._steps = 0
            self._snapshot = None

        def on_train_batch_begin(self, batch, logs=None):
            from . import instruments_keras as ik

            if self._steps % self.state.every == 0:
                self._snapshot = ik.snapshot_weights(self.model)
                if self.x is not None and len(self.x) >= 2:
                    try:
                        self.state.dead.append((self._steps, ik.dead_fraction(self.model, self.x)))
                    except TypeError:
                        self.x = None

        def on_train_batch_end(self, batch, logs=None):
            from . import instruments_keras as ik

            if logs and "loss" in logs:
                self.state.losses.append(float(logs["loss"]))
            if self._snapshot is not None:
                self.state.ratios.append((self._steps, ik.update_ratios(self._snapshot, self.model)))
                self._snapshot = None
            self._steps += 1

        def on_train_end(self, logs=None):
            from . import instruments_keras as ik

            if self.x is not None:
                self.state.dead.append((self._steps, ik.dead_fraction(self.model, self.x)))

        def report(self) -> Report:
            return self.state.report()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def __str__(self):
            return str(self.report())

        def _repr_html_(self):
            return self.report()._repr_html_()

    return KerasWatch


def watch(model, optimizer=None, every: int = 10, x=None, dead_threshold: float = 0.5, ratio_range=(1e-7, 0.1)):
    """Watch your own training: a context manager (PyTorch) or a callback for ``fit`` (Keras).

    PyTorch: ``with watch(model, optimizer=opt) as w: ... w.step(loss)`` after each optimizer.step().
    Keras: ``w = watch(model, x=x_sample); model.fit(..., callbacks=[w])``.
    Then ``w.report()``: a Report with the same findings and codes as diagnose().
    every: read the heavier instruments (dead units, update ratios) every this many steps.
    ratio_range: update/weight ratios flagged below/above (healthy SGD/Adam: about 1e-3).
    """
    framework = framework_of(model)
    if framework == "torch":
        return TorchWatch(model, optimizer, every, dead_threshold, ratio_range)
    return _keras_watch_class()(x, every, dead_threshold, ratio_range)
