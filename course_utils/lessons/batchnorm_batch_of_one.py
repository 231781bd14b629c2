"""Lesson 05 ("BatchNorm on a batch of one"): exactly-zero gradients, a model's error in
its two modes, retraining the decoder from one start, the comparison table and the panel's wiring.

A model whose loss never moves may be receiving no gradient at all. Small
gradients and *exactly* zero gradients are different diagnoses: a small one
is a scale problem, an exactly-zero one means the chain of derivatives is cut
(a ReLU sitting at 0, a BatchNorm that normalises a single value, a layer
that is not connected to the loss). Adam cannot repair a cut: it rescales a
gradient, and zero rescaled is zero.

    report = zero_gradients(model, x, y, loss)   # Keras or PyTorch
    print(report)                                # "24/24 trainable variables ..."
    report.zero                                  # their names
    report.by_layer()                            # layer -> (zero, total)

    errors = mode_errors(model, x, y)            # MSE in training and in inference mode
    trained, inferred = mode_predictions(model, x)   # the outputs in the two modes
    layer_outputs(model, x, ["bn6"])             # what a Keras layer outputs in training mode

None of these changes the model: a training-mode forward pass moves
BatchNorm's moving statistics (Keras) or running statistics (PyTorch); they
are put back afterwards, and a PyTorch model's train/eval mode is restored.

The notebook keeps what a student must read: the decoder (the buggy model),
the measurements and the fix. The plumbing it would otherwise carry lives here:

    retrainer = DecoderRetrainer(decoder)        # one compiled decoder per architecture, one start
    fixed = retrainer.train(x, y, lr=1e-3, last_bn=False, output="none", momentum=0.9)
    fixed.zeros, fixed.run, fixed.errors         # zero gradients at the start, the TrainingRun, both modes' MSE
    print(mse_table(rows))                       # section 6's table; bounded() writes a checked cell
    wiring = DecoderPanel(decoder)               # section 7: train, draw and check for cu.Panel
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..fmt import approx, claim, sig
from ..frameworks import framework_of, to_numpy
from ..metrics import mse
from ..plots import loss_curve
from ..runs import TrainingRun


def count_zero(gradients) -> int:
    """How many of ``gradients`` are exactly zero everywhere (None counts as zero).

    ``None`` is what TensorFlow and PyTorch return for a variable that the
    loss does not depend on at all; it is a zero gradient too.
    """
    return sum(1 for g in gradients if _largest(g) == 0.0)


def _largest(gradient) -> float:
    """max |g| as a float; 0.0 for None or an empty array."""
    if gradient is None:
        return 0.0
    values = np.abs(np.asarray(to_numpy(gradient), dtype=np.float64))
    return float(values.max()) if values.size else 0.0


@dataclass(frozen=True)
class ZeroGradients:
    """The gradient of one loss, variable by variable.

    names: the trainable variables, in the model's order ("conv1/kernel" in
        Keras, "0.weight" in PyTorch).
    largest: max |gradient| of each variable (0.0 means exactly zero).
    loss: the loss the gradient was taken of.
    """

    names: tuple
    largest: tuple
    loss: float

    @property
    def zero(self) -> tuple:
        """Names of the variables whose gradient is exactly zero."""
        return tuple(n for n, g in zip(self.names, self.largest) if g == 0.0)

    @property
    def n_zero(self) -> int:
        return len(self.zero)

    @property
    def n_total(self) -> int:
        return len(self.names)

    @property
    def all_zero(self) -> bool:
        return self.n_total > 0 and self.n_zero == self.n_total

    @property
    def count(self) -> str:
        """'24/24': zero-gradient variables out of all trainable ones."""
        return f"{self.n_zero}/{self.n_total}"

    def by_layer(self) -> dict:
        """layer -> (variables with a zero gradient, variables), in model order.

        The layer is the part of the name before the last separator
        ("conv1/kernel" -> "conv1", "0.weight" -> "0").
        """
        layers: dict = {}
        for name, g in zip(self.names, self.largest):
            layer = _layer_of(name)
            zero, total = layers.get(layer, (0, 0))
            layers[layer] = (zero + (g == 0.0), total + 1)
        return layers

    def __str__(self) -> str:
        return (f"{self.count} trainable variables have an exactly-zero gradient "
                f"(loss {sig(self.loss)})")

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def _layer_of(name: str) -> str:
    for separator in ("/", "."):
        if separator in name:
            return name.rsplit(separator, 1)[0]
    return name


def zero_gradients(model, x, y, loss, training: bool = True) -> ZeroGradients:
    """Which trainable variables get an exactly-zero gradient of ``loss`` on (x, y)?

    model: a Keras model or a torch.nn.Module.
    loss: Keras: a loss object, function or name, called loss(y, pred);
        PyTorch: a function called loss(pred, y) (e.g. F.mse_loss).
    training: take the gradient in training mode (the mode the optimizer
        sees: BatchNorm uses the batch's statistics). The model's state is
        left as it was.
    """
    if framework_of(model) == "torch":
        return _zero_gradients_torch(model, x, y, loss, training)
    return _zero_gradients_keras(model, x, y, loss, training)


def _zero_gradients_keras(model, x, y, loss, training):
    from ..repro import import_tensorflow

    from ..instruments.for_keras import loss_function

    tf = import_tensorflow()
    loss_fn = loss_function(loss)
    variables = model.trainable_variables
    with _keras_state_kept(model):
        with tf.GradientTape() as tape:
            value = tf.reduce_mean(loss_fn(y, model(x, training=training)))
        grads = tape.gradient(value, variables)
    names = tuple(getattr(v, "path", v.name) for v in variables)
    return ZeroGradients(names, tuple(_largest(g) for g in grads), float(value))


def _zero_gradients_torch(model, x, y, loss, training):
    import torch

    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    x, y = _torch_tensor(x), _torch_tensor(y)
    with _torch_state_kept(model, training):
        value = loss(model(x), y)
        grads = torch.autograd.grad(value, [p for _, p in params], allow_unused=True)
    return ZeroGradients(tuple(n for n, _ in params), tuple(_largest(g) for g in grads), float(value.detach()))


# --- the two modes ---------------------------------------------------------

@dataclass(frozen=True)
class ModeErrors:
    """Mean squared error of one model on one batch, in its two modes."""

    training: float
    inference: float

    def __str__(self) -> str:
        return f"MSE in training mode {sig(self.training)}, in inference mode {sig(self.inference)}"


def mode_errors(model, x, y) -> ModeErrors:
    """The model's MSE on (x, y) in training mode and in inference mode.

    Training mode is what the optimizer sees (BatchNorm normalises with the
    batch's own statistics); inference mode is what ``model.predict`` and
    ``model.eval()`` give (BatchNorm uses its moving averages). The model's
    state is left as it was.
    """
    y = np.asarray(to_numpy(y), dtype=np.float64)
    trained, inferred = mode_predictions(model, x)
    return ModeErrors(_mse(trained, y), _mse(inferred, y))


def mode_predictions(model, x) -> tuple:
    """(training-mode outputs, inference-mode outputs) of the model on x, as float64; its state is left alone."""
    return predictions(model, x, training=True), predictions(model, x, training=False)


def predictions(model, x, training: bool = False) -> np.ndarray:
    """The model's outputs on x as float64, in either mode, leaving its state alone."""
    if framework_of(model) == "torch":
        import torch

        with _torch_state_kept(model, training), torch.no_grad():
            out = model(_torch_tensor(x))
        return np.asarray(to_numpy(out), dtype=np.float64)
    with _keras_state_kept(model):
        out = model(np.asarray(x, dtype=np.float32), training=training)
    return np.asarray(out, dtype=np.float64)


def _mse(pred: np.ndarray, y: np.ndarray) -> float:
    if pred.size != y.size:
        raise ValueError(f"{pred.size} outputs for {y.size} targets")
    return float(np.mean((pred.reshape(y.shape) - y) ** 2))


def layer_outputs(model, x, names, training: bool = True) -> dict:
    """name -> what each named layer of a Keras functional model outputs on x.

    In training mode by default: this is where a BatchNorm that sees one value
    per feature shows itself (its output is exactly its beta). The model's
    moving statistics are left as they were.
    """
    import keras

    names = [names] if isinstance(names, str) else list(names)
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs, [model.get_layer(n).output for n in names])
    with _keras_state_kept(model):
        outs = probe(np.asarray(x, dtype=np.float32), training=training)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return {n: np.asarray(o) for n, o in zip(names, outs)}


# --- retraining the decoder from one start -----------------------------------

_INFERENCE = "_lesson05_compiled_inference"  # where a model keeps its compiled inference-mode call


@dataclass
class DecoderRun:
    """One run of ``DecoderRetrainer.train``: the model, its training run, and what was measured around it.

    model: the retrainer's model for this architecture, trained; the next run of the same
        architecture starts it again, so read what you need from it first.
    run: the TrainingRun (``run.losses``: the training-mode loss of every step).
    zeros: the exactly-zero gradients at the start, on the batch the run trains on.
    errors: the MSE in training and in inference mode after training, on the examples
        measured; None while the run is still going (the panel draws partial runs).
    inference_curve: (steps, inference-mode MSE on the examples measured) at the sampled
        steps, when the run was asked to record it (``record_inference``); two empty lists otherwise.
    """

    model: object
    run: TrainingRun
    zeros: ZeroGradients
    errors: ModeErrors | None = None
    inference_curve: tuple = field(default_factory=lambda: ([], []))

    @property
    def diverged(self) -> bool:
        """True when the training loss blew up (see cu.runs.DIVERGE_FACTOR)."""
        return self.run.diverged

    def describe(self) -> str:
        """One line for the panel's status: zero gradients at the start and the errors in both modes."""
        if self.diverged or self.errors is None:
            return self.run.describe()
        return (f"{self.zeros.count} zero gradients at the start; training-mode MSE {sig(self.errors.training, 2)}, "
                f"inference-mode MSE {sig(self.errors.inference, 2)}")


class DecoderRetrainer:
    """Adam on the MSE, full batch, for the lesson's decoder: every run starts from seed 0's weights.

    decoder: the notebook's ``decoder(**architecture)``, which builds a fresh Keras model.
    A ``CachedTrainer`` underneath keeps one compiled model and one Adam per architecture
    and, before each run, puts back the initial weights (BatchNorm's moving statistics too)
    and a fresh Adam: two runs of one architecture start from the same state and share one
    compiled step, where a newly built model would be traced again.
    """

    def __init__(self, decoder, seed: int = 0):
        import keras

        from ..training.cached_keras import CachedTrainer

        self.cache = CachedTrainer(decoder, keras.losses.MeanSquaredError(), seed=seed)

    def train(self, x, y, lr: float, steps: int = 100, sample_every: int = 10, measured_on=None,
              record_inference: bool = False, on_sample=None, **architecture) -> DecoderRun:
        """Train a fresh ``decoder(**architecture)`` on (x, y) for ``steps`` full-batch Adam steps.

        x: (n, 68, 3) inputs; y: (n, 1, 12) targets; lr: Adam's learning rate.
        measured_on: (x, y) on which to measure the errors in both modes (and the curve);
            by default the training batch itself (the panel measures its distinct examples,
            not their copies).
        record_inference: also record the inference-mode MSE at every sampled step, with a
            compiled inference call kept on the model (the panel draws it).
        on_sample: called with the partial DecoderRun at every sampled step; True stops the run.
        """
        from ..training.keras_loop import train_keras

        x_measured, y_measured = (x, y) if measured_on is None else measured_on
        model, optimizer = self.cache.fresh(architecture, "adam", lr, np.shape(x)[1:])
        zeros = zero_gradients(model, x, y, "mse")
        infer = _compiled_inference(model) if record_inference else None
        curve = ([], [])

        def sample(run) -> bool:
            if infer is not None:
                curve[0].append(run.steps_done)
                curve[1].append(mse(infer(x_measured), y_measured))
            return bool(on_sample is not None and on_sample(DecoderRun(model, run, zeros, inference_curve=curve)))

        run = train_keras(model, x, y, self.cache.loss, optimizer, steps=steps, sample_every=sample_every,
                          on_sample=sample)
        return DecoderRun(model, run, zeros, mode_errors(model, x_measured, y_measured), curve)


def _compiled_inference(model):
    """``model(x, training=False)`` as one tf.function, kept on the model: traced once, not per retrain."""
    from ..repro import import_tensorflow

    if _INFERENCE not in model.__dict__:
        tf = import_tensorflow()
        model.__dict__[_INFERENCE] = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    return model.__dict__[_INFERENCE]


# --- the comparison table of section 6 ----------------------------------------

TABLE_HEADER = ("model", "zero grads", "training-mode MSE", "inference-mode MSE")


def bounded(value: float, more_than: float | None = None, less_than: float | None = None) -> str:
    """A table cell for a figure that varies between machines, and the bound the lesson claims: '≈2.3e-02 (< 0.2)'.

    The bound is checked as ``cu.claim`` checks it: ClaimFailed if the figure leaves it.
    """
    claim("", value, more_than=more_than, less_than=less_than)
    bound = f"> {more_than:g}" if more_than is not None else f"< {less_than:g}"
    return f"{approx(value, _one_decimal)} ({bound})"


def _one_decimal(value: float) -> str:
    return f"{value:.1e}"


def mse_table(rows) -> str:
    """Section 6's table, a header and one line per (model, zero gradients, training-mode MSE, inference-mode MSE).

    Every cell is text already (a count like "0/22", ``cu.sig``, ``cu.below``, ``bounded``).
    """
    return "\n".join(f"{name:<30} {zeros:>10}  {trained:>17}  {inferred:>18}"
                     for name, zeros, trained, inferred in [TABLE_HEADER, *rows])


# --- figures and the panel of section 7 ----------------------------------------

def outputs_against_target(ax, target, trained=None, inferred=None, title: str = "", ylim=(-0.5, 1.5), clip=None):
    """The 12 outputs of one example against its target: bars for the target, o training mode, x inference mode.

    trained, inferred: the outputs in the two modes (``mode_predictions``), or None to draw the target only.
    clip: (low, high) to keep far-off inference-mode outputs on the plot; the label then says so.
    """
    features = np.arange(np.size(target))
    ax.bar(features, np.ravel(target), color="lightgray", label="target")
    if trained is not None:
        ax.plot(features, np.ravel(trained), "o", ms=4, label="training mode")
        shown = np.ravel(inferred) if clip is None else np.clip(np.ravel(inferred), *clip)
        ax.plot(features, shown, "x", ms=5, label="inference mode" if clip is None else "inference (clipped)")
    ax.set_ylim(*ylim)
    ax.set_title(title)
    ax.set_xlabel("output feature")


class DecoderPanel:
    """The wiring of section 7's panel: a narrow decoder trained on a few random examples, each copied.

    Hand ``train``, ``draw`` and ``check`` to ``cu.Panel``, with controls named examples,
    copies, last_bn, output and lr (the Panel reads the status line from ``DecoderRun.describe``).
    x: (examples, 68, 3) and y: (examples, 1, 12), drawn once from a generator of their own,
    so the panel leaves the lesson's random state alone.
    """

    def __init__(self, decoder, widths=(16, 16, 16, 32, 128), momentum: float = 0.9, steps: int = 100,
                 sample_every: int = 10, max_rows: int = 64, examples: int = 8, seed: int = 4):
        rng = np.random.default_rng(seed)
        self.x = rng.random((examples, 68, 3), dtype=np.float32)
        self.y = rng.random((examples, 1, 12), dtype=np.float32)
        self.retrainer = DecoderRetrainer(decoder)
        self.architecture = {"widths": tuple(widths), "momentum": momentum}
        self.steps, self.sample_every, self.max_rows = steps, sample_every, max_rows

    def check(self, values: dict) -> str | None:
        """A refusal when examples x copies is more rows than a live retrain can afford, else None."""
        rows = values["examples"] * values["copies"]
        if rows > self.max_rows:
            return (f"{values['examples']} examples x {values['copies']} copies = {rows} rows; "
                    f"keep it at most {self.max_rows} for a live retrain")
        return None

    def train(self, values: dict, progress) -> DecoderRun:
        """Retrain on the first ``examples`` examples, each repeated ``copies`` times; errors on the distinct ones."""
        x, y = self.x[: values["examples"]], self.y[: values["examples"]]
        copies = values["copies"]
        return self.retrainer.train(
            np.repeat(x, copies, axis=0), np.repeat(y, copies, axis=0), values["lr"], steps=self.steps,
            sample_every=self.sample_every, measured_on=(x, y), record_inference=True,
            on_sample=lambda partial: progress.report(partial.run.steps_done / self.steps, partial),
            last_bn=values["last_bn"], output=values["output"], **self.architecture)

    def draw(self, fig, result: DecoderRun, values: dict) -> None:
        """Left: both modes' error during training; right: example 1's outputs once the run is over."""
        left, right = fig.subplots(1, 2)
        loss_curve(left, {"training mode (batch loss)": result.run}, title="error on the examples")
        steps, errors = result.inference_curve
        if len(errors):
            left.plot(np.maximum(steps, 1), errors, ".-", label="inference mode")
            left.legend(fontsize=7)
        outputs = mode_predictions(result.model, self.x[:1]) if result.errors is not None else (None, None)
        outputs_against_target(right, self.y[0], *outputs, title="example 1: outputs", ylim=(-1.1, 2.1), clip=(-1, 2))
        right.legend(fontsize=7)


# --- leaving the model as it was ------------------------------------------

class _keras_state_kept:
    """Put back a Keras model's non-trainable variables (BatchNorm's moving statistics)."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.saved = [v.numpy() for v in self.model.non_trainable_variables]

    def __exit__(self, *exc):
        for variable, value in zip(self.model.non_trainable_variables, self.saved):
            variable.assign(value)
        return False


class _torch_state_kept:
    """Set a torch module's mode; afterwards restore the mode and every buffer."""

    def __init__(self, model, training: bool):
        self.model, self.training = model, training

    def __enter__(self):
        self.modes = {m: m.training for m in self.model.modules()}
        self.buffers = {n: b.detach().clone() for n, b in self.model.named_buffers()}
        self.model.train(self.training)

    def __exit__(self, *exc):
        import torch

        with torch.no_grad():
            for name, buffer in self.model.named_buffers():
                if name in self.buffers:
                    buffer.copy_(self.buffers[name])
        for module, mode in self.modes.items():
            module.training = mode
        return False


def _torch_tensor(a):
    import torch

    if isinstance(a, torch.Tensor):
        return a
    return torch.from_numpy(np.ascontiguousarray(np.asarray(a, dtype=np.float32)))
