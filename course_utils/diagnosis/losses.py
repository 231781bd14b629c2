"""What a loss expects the model to output (logits, probabilities, values), for PyTorch and Keras."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LossInfo:
    kind: str | None  # cross_entropy, binary_cross_entropy, mse, mae or None (unknown)
    expects: str | None  # logits, probabilities, log_probabilities, values
    name: str
    sparse: bool = True  # cross-entropy with class indices (not one-hot rows)
    ignored: int | None = None  # a label the loss skips (PyTorch's ignore_index, -100 by default; Keras's ignore_class)


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
        if kind is None:  # a module of the student's own around exactly one standard loss: read as that loss
            inner = list(getattr(loss, "children", lambda: [])())
            if len(inner) == 1 and type(inner[0]).__name__ in _TORCH_LOSSES:
                loss, inner_name = inner[0], type(inner[0]).__name__
                kind, expects = _TORCH_LOSSES[inner_name]
                name = f"{name} (around {inner_name})"
        # the functional cross_entropy and nll_loss skip -100 too, unless told another ignore_index
        ignored = getattr(loss, "ignore_index", -100) if kind == "cross_entropy" else None
        return LossInfo(kind, expects, name or repr(loss), ignored=ignored)
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
    return LossInfo(kind, expects, name, sparse, config.get("ignore_class") if kind == "cross_entropy" else None)
