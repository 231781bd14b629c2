"""One interface over a PyTorch module or a Keras model: copy, forward, loss, gradients, a training step."""
from __future__ import annotations

import copy
import functools
import math

import numpy as np

from ..frameworks import batch_size, error_text, input_shapes, is_structured, keras_layers, map_inputs, to_numpy
from .losses import loss_info

# A convolution also gathers each output position's window of inputs, whatever its channels: in both frameworks a
# step through a one-channel convolution took 4 to 25 times as long per multiply-add as through Dense layers, where
# wide ones took about as long (benchmarks/diagnose_cost.py). Each kernel element at each position counts this many
# multiply-adds besides its channels' own
CONV_WINDOW_COST = 20


def _window_cost(window: int) -> float:
    """What a convolution's gathering adds at one output position, for a kernel of ``window`` elements (a weight
    matrix, window 1, gathers nothing)."""
    return CONV_WINDOW_COST * window if window > 1 else 0.0


class SharedObjectRefused(ValueError):
    """The student's Keras model cannot run on x where its copy from the config, one object in each place, can."""


def _input_array(array):
    array = np.asarray(to_numpy(array))
    return array.astype(np.float32) if array.dtype == np.float64 else array


def _one_input(x):
    if is_structured(x):
        raise ValueError("the training probes take one input array, and this model takes several "
                         "(a dict, list or tuple): train it yourself and watch it with cu.watch")


def spread_rows(ad, rows):
    """The same adapter on ``rows`` samples of its batch spread evenly over it (for the training probes): a batch
    sorted by class still gives the probes every class, where its first rows might all be of one."""
    picked = np.linspace(0, ad.n - 1, rows).round().astype(int)  # distinct: rows <= n

    def take(array):
        return [array[i] for i in picked] if isinstance(array, list) else array[picked]

    part = copy.copy(ad)
    part.x = map_inputs(take, ad.x)
    part.y, part.n = take(ad.y), rows
    if hasattr(ad, "given_x"):
        part.given_x = map_inputs(take, ad.given_x)
    return part


class TorchAdapter:
    framework = "torch"

    def __init__(self, model, x, y, loss, optimizer):
        import torch
        from torch import nn

        self.torch, self.nn = torch, nn
        self.original = model
        self.loss = loss
        self.info = loss_info(loss, "torch")
        self.given_x = x  # as the student gave it: the model may refuse what the probes' conversion accepts
        self.x = map_inputs(self._input_tensor, x)
        self.n = batch_size(self.x)
        y_t = y if torch.is_tensor(y) else torch.as_tensor(np.asarray(y))
        self.given_target_dtype = str(y_t.dtype).replace("torch.", "")  # before the probes' own conversion below
        if self.info.kind == "cross_entropy" and not y_t.is_floating_point():
            y_t = y_t.long()
        elif y_t.is_floating_point() and y_t.dtype == torch.float64:
            y_t = y_t.float()
        self.y = y_t
        self.optimizer = optimizer

    def _input_tensor(self, array):
        tensor = array if self.torch.is_tensor(array) else self.torch.as_tensor(np.asarray(array))
        return tensor.float() if tensor.dtype == self.torch.float64 else tensor

    as_input = _input_tensor  # one input array as the probes feed it

    def copy(self):
        return copy.deepcopy(self.original)

    copy_for_shapes = copy  # a copy to run layer by layer when the model refuses x (KerasAdapter's may be unbuilt)

    def has_batchnorm(self, model):
        return any(isinstance(m, self.nn.modules.batchnorm._BatchNorm) for m in model.modules())

    def switch_off_regularisers(self, model) -> list:
        """Set every dropout layer of ``model`` (a copy) to drop nothing; what was switched off, in words.

        (Weight decay lives in the student's optimizer, which the overfit probe does not use.)"""
        layers = [m for m in model.modules() if isinstance(m, self.nn.modules.dropout._DropoutNd)]
        for layer in layers:
            layer.p = 0.0
        return [f"the model's {len(layers)} dropout layer(s)"] if layers else []

    def weight_decay(self) -> float:
        """The student's optimizer's weight decay (the largest among its groups; 0 without one)."""
        from ..instruments.updates import weight_decay  # here: updates itself imports from diagnosis

        return weight_decay(self.optimizer)

    def output(self, model, training, x=None):
        """The model's output on the batch (or on ``x``, inputs of the same kind), without a gradient."""
        with self.torch.no_grad():
            was = model.training
            model.train(training)
            try:
                return model(self.x if x is None else x)
            finally:
                model.train(was)

    def loss_of(self, out, y=None):
        return float(self.loss(out, self.y if y is None else y))

    def values(self, array):
        """``array`` as float32 values the loss accepts (an output or a target)."""
        return self.torch.as_tensor(np.asarray(array, dtype=np.float32))

    def probe_optimizer(self, model, lr=1e-2):
        """The probes' own optimizer: Adam at ``lr``, whatever the student uses, with an epsilon the weights'
        dtype can hold (Adam's 1e-8 is 0 in float16, and 0/0 = NaN on a weight whose gradient is 0)."""
        params = list(model.parameters())
        tiny = self.torch.finfo(params[0].dtype).tiny if params and params[0].is_floating_point() else 0.0
        return self.torch.optim.Adam(params, lr=lr, eps=max(1e-8, tiny))

    def optimizer_for(self, model, lr_scale=1.0):
        """A new optimizer of the student's class and settings, on ``model``'s parameters."""
        if self.optimizer is None:
            return self.probe_optimizer(model)
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
        from ..training.torch_loop import train_torch

        _one_input(self.x)
        model.train()
        return train_torch(model, self.x, self.y, self.loss, optimizer, steps=steps, sample_every=steps)

    def lr(self):
        return self.optimizer.param_groups[0].get("lr") if self.optimizer is not None else None

    def multiply_adds(self, model, trace) -> float:
        """About how many multiply-adds one sample's forward pass takes: each leaf's weight matrices times the
        positions they are applied at (a convolution's output pixels, an RNN's steps); an embedding looks up."""
        total = 0.0
        for _, module, _, out in trace:
            weights = [p for p in module.parameters(recurse=False) if p.dim() >= 2]
            if weights and not isinstance(module, self.nn.Embedding):
                positions = max(1.0, out.numel() / self.n / weights[0].shape[0])  # out: rows x units, at positions
                window = math.prod(weights[0].shape[2:])  # a convolution's kernel (out, in, k...); 1 for a matrix
                total += positions * (sum(w.numel() for w in weights) + _window_cost(window))
        return total

    def leaf_trace(self, model, training):
        """Leaves in the order they ran, each with its input and output (first call only)."""
        trace, handles = [], []

        def hook(module, inputs, output, name):
            if isinstance(output, (tuple, list)) and output:  # an RNN: (outputs, hidden state)
                output = output[0]
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


# TensorFlow's CPU training step through a Conv3D with a stride above 1 took 21 to 62 times as long per multiply-add
# as through its Dense layers (three runs), where its Conv1D, Conv2D, Conv3DTranspose and unstrided Conv3D took 0.2
# to 1.6 times as long (benchmarks/diagnose_cost.py): such a layer is counted that much heavier
STRIDED_CONV3D_SLOWDOWN = 40


def strided_conv3d(layer) -> bool:
    return type(layer).__name__ == "Conv3D" and any(s > 1 for s in getattr(layer, "strides", ()))


def _lists_one_layer_twice(model, layer_type) -> bool:
    """A list inside the model (its own or one of its layers', at any depth) holds the same layer object twice:
    ``[cell] * 3`` for a stack of cells, ``Sequential([dense, dense])``."""
    seen, todo = set(), [model]
    while todo:
        layer = todo.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        for value in vars(layer).values():
            listed = isinstance(value, (list, tuple))
            held = [v for v in (value if listed else [value]) if isinstance(v, layer_type)]
            if listed and len({id(v) for v in held}) < len(held):
                return True
            todo.extend(held)
    return False


class KerasAdapter:
    framework = "keras"

    def __init__(self, model, x, y, loss, optimizer):
        from ..repro import import_tensorflow

        self.tf = import_tensorflow()
        import keras

        self.keras = keras
        self.original = model
        self.loss = loss
        self.info = loss_info(loss, "keras")
        self.x = map_inputs(_input_array, x)
        self.n = batch_size(self.x)
        self.y = np.asarray(to_numpy(y))
        if self.y.dtype == np.float64:
            self.y = self.y.astype(np.float32)
        self.optimizer = optimizer
        from ..instruments.for_keras import loss_function

        self.loss_fn = loss_function(loss)

    def _clone_layer(self, layer):
        """A new layer from ``layer``'s config. Keras 3 will not rebuild a Lambda from its config (its function
        cannot be deserialized safely), so a Lambda is made anew around the same function: it holds no weights."""
        if isinstance(layer, self.keras.layers.Lambda):
            return self.keras.layers.Lambda(layer.function, output_shape=layer._output_shape, mask=layer.mask,
                                            arguments=layer.arguments, name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    as_input = staticmethod(_input_array)  # one input array as the probes feed it

    def _clone(self):
        """keras.models.clone_model, and for a compiled model whose compile config Keras cannot rebuild (a loss
        function of the student's own, not registered) the same without compiling the copy: diagnose uses the
        loss it is given, never the copy's compiled one."""
        def clone():  # with the model's own classes at hand: a layer's config may name an unregistered one
            with self.keras.saving.CustomObjectScope(self._own_classes()):
                return self.keras.models.clone_model(self.original, clone_function=self._clone_layer)

        try:
            return clone()
        except Exception as error:  # noqa: BLE001
            first_error = error
        if getattr(self.original, "compiled", False):
            self.original.compiled = False  # read by clone_model alone, and put back at once
            try:
                return clone()
            except Exception:  # noqa: BLE001
                pass
            finally:
                self.original.compiled = True
        anew = self._subclass_anew()
        if anew is None:
            raise first_error
        return anew

    def _subclass_anew(self):
        """A subclassed Model whose __init__ takes no arguments (the tutorials' ``class Net(keras.Model)``), which
        clone_model cannot rebuild from its config: made anew by calling its class and built on one sample. None
        where __init__ wants arguments, or where the new model shares a weight with the original (layers made
        outside the class and handed in: training the copy would train the student's model)."""
        import inspect

        cls = type(self.original)
        if not isinstance(self.original, self.keras.Model) or cls in (self.keras.Model, self.keras.Sequential):
            return None
        try:
            inspect.signature(cls).bind()
            model = cls()
            model(map_inputs(lambda array: array[:1], self.x))
        except Exception:  # noqa: BLE001  (arguments wanted, or a model that cannot run: the first error says why)
            return None
        theirs = {id(w) for w in self.original.weights}
        mine = [w.shape for w in model.weights]
        if any(id(w) in theirs for w in model.weights) or (
                self.original.weights and mine != [w.shape for w in self.original.weights]):
            return None
        return model

    def _own_classes(self) -> dict:
        """Class name -> class, for the layers of the model and the cells of its recurrent layers: a cell class of
        the student's own that is not registered (@register_keras_serializable) can then be rebuilt from config."""
        found = {}
        for layer in keras_layers(self.original):
            cell = getattr(layer, "cell", None)  # a recurrent layer's cell, or a StackedRNNCells and its cells
            for obj in (layer, cell, *getattr(cell, "cells", ())):
                if obj is not None:
                    found[type(obj).__name__] = type(obj)
        return found

    def copy(self):
        try:
            clone = self._clone()
        except Exception as error:  # noqa: BLE001
            raise TypeError("diagnose works on a copy, and keras.models.clone_model could not copy this model "
                            f"(a subclassed Model needs get_config/from_config): {error}") from None
        if not clone.built or not clone.weights:
            first = map_inputs(lambda array: array[:1], self.x)
            try:
                clone(first)
            except Exception as error:  # noqa: BLE001
                raise ValueError(f"the model could not run on x of shape {input_shapes(self.x)}: "
                                 f"{error_text(error)}") from None
            self._shared_objects_run(first)
        # layer by layer: a model never called may still hold layers with weights (an adapted Normalization)
        for mine, theirs in zip(keras_layers(clone), keras_layers(self.original)):
            if theirs.weights:
                mine.set_weights(theirs.get_weights())
            if hasattr(mine, "finalize_state"):  # an adapted Normalization: set_weights leaves its mean at 0
                mine.finalize_state()
        return clone

    @functools.cached_property
    def lists_one_layer_twice(self) -> bool:  # of the student's model: the same at every copy
        return _lists_one_layer_twice(self.original, self.keras.layers.Layer)

    def _shared_objects_run(self, first):
        """A model never built is copied from its config, which makes a new object wherever the student's model
        uses one object twice (one LSTM cell given to every layer of a stack): the copy can run where the student's
        model fails. Where a list in the model holds one layer twice, a deep copy, which keeps the sharing, runs on
        one sample too, and its error is the student's. Only there: a deep copy of a Lambda layer loses its
        function's globals. A model that deepcopy cannot copy is left to the clone."""
        if not self.lists_one_layer_twice:
            return
        try:
            twin = copy.deepcopy(self.original)
        except Exception:  # noqa: BLE001
            return
        try:
            twin(first)
        except Exception as error:  # noqa: BLE001
            raise SharedObjectRefused(f"the model could not run on x of shape {input_shapes(self.x)}: "
                                      f"{error_text(error)}") from None

    def copy_for_shapes(self):
        """A copy to run layer by layer when the model refuses x: the built copy, or, for a model never built that
        cannot run on x, its clone unbuilt (the student's model has no weights yet, so there are none to copy)."""
        try:
            return self.copy()
        except ValueError:  # the clone was built on one sample and refused it
            return self._clone()

    def has_batchnorm(self, model):
        return any(type(l).__name__ == "BatchNormalization" for l in keras_layers(model))

    def switch_off_regularisers(self, model) -> list:
        """Switch off the dropout layers and weight penalties of ``model`` (a copy, not yet traced); what was
        switched off, in words."""
        layers = [l for l in keras_layers(model) if "Dropout" in type(l).__name__ and hasattr(l, "rate")]
        for layer in layers:
            layer.rate = 0.0
        penalised = [w for w in model.trainable_weights if getattr(w, "regularizer", None) is not None]
        for weight in penalised:
            weight.regularizer = None
        return ([f"the model's {len(layers)} dropout layer(s)"] if layers else []) + (
            [f"the penalties on {len(penalised)} weight(s)"] if penalised else [])

    def weight_decay(self) -> float:
        """The student's optimizer's weight decay (0 without one)."""
        from ..instruments.updates import weight_decay  # here: updates itself imports from diagnosis

        return weight_decay(self.optimizer)

    def output(self, model, training, x=None):
        """The model's output on the batch (or on ``x``, inputs of the same kind)."""
        return model(self.x if x is None else x, training=training)

    def multiply_adds(self, model, trace) -> float:
        """As TorchAdapter.multiply_adds, from each layer's kernel and the shape of its output (a layer with no
        symbolic output, in a subclassed model, counts its weights once), with a strided Conv3D counted
        STRIDED_CONV3D_SLOWDOWN times: what the count stands for is the probe's time."""
        total = 0.0
        for layer in keras_layers(model):
            weights = [w for w in layer.weights if len(w.shape) >= 2]
            if not weights or isinstance(layer, self.keras.layers.Embedding):
                continue
            try:
                per_sample = float(np.prod(layer.output.shape[1:]))
            except Exception:  # noqa: BLE001  (a shared layer, or one of a subclassed model: no single output)
                per_sample = float(weights[0].shape[-1])
            positions = max(1.0, per_sample / weights[0].shape[-1])
            window = math.prod(weights[0].shape[:-2])  # a convolution's kernel (k..., in, out); 1 for a matrix
            slowdown = STRIDED_CONV3D_SLOWDOWN if strided_conv3d(layer) else 1
            total += positions * (sum(float(np.prod(w.shape)) for w in weights) * slowdown + _window_cost(window))
        return total

    def loss_of(self, out, y=None):
        from ..instruments.for_keras import line_up  # as fit calls the loss: (n,) targets meet (n, 1) outputs

        return float(self.tf.reduce_mean(self.loss_fn(*line_up(self.y if y is None else y, out))))

    def values(self, array):
        """``array`` as float32 values the loss accepts (an output or a target)."""
        return self.tf.constant(np.asarray(array, dtype=np.float32))

    def probe_optimizer(self, model, lr=1e-2):
        return self.keras.optimizers.Adam(lr)

    def optimizer_for(self, model, lr_scale=1.0):
        if self.optimizer is None:
            return self.probe_optimizer(model)
        config = self.optimizer.get_config()
        if lr_scale != 1.0 and isinstance(config.get("learning_rate"), (int, float)):
            config["learning_rate"] = config["learning_rate"] * lr_scale
        return type(self.optimizer).from_config(config)

    def train(self, model, optimizer, steps):
        from ..training.keras_loop import train_keras

        _one_input(self.x)
        # in quarters: a run that diverges stops at the end of its quarter (the loop checks between calls), not
        # after every step of a NaN run (an LSTM's 200 NaN steps take a minute); the losses are the same
        return train_keras(model, self.x, self.y, self.loss, optimizer, steps=steps, sample_every=max(steps // 4, 1))

    def lr(self):
        if self.optimizer is None:
            return None
        value = self.optimizer.get_config().get("learning_rate")
        return value if isinstance(value, (int, float)) else None
