"""Instruments against hand-built cases whose answer is known, in both frameworks."""
import math

import numpy as np
import pytest
import torch
from torch import nn

import course_utils as cu
from course_utils import instruments
from course_utils.repro import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402


def torch_net():
    """2 -> 4 ReLU -> 1; units 0 and 1 are dead on positive inputs (weights -1, bias -1)."""
    net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[-1.0, -1.0], [-1.0, -1.0], [1.0, 0.0], [0.0, 1.0]]))
        net[0].bias.copy_(torch.tensor([-1.0, -1.0, 0.0, 0.0]))
        net[2].weight.copy_(torch.tensor([[1.0, 1.0, 1.0, 1.0]]))
        net[2].bias.zero_()
    return net


def keras_net():
    """The same network in Keras (Dense kernels are the transposed torch weights)."""
    net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
    torch_version = torch_net()
    net.layers[0].set_weights([torch_version[0].weight.detach().numpy().T, torch_version[0].bias.detach().numpy()])
    net.layers[1].set_weights([torch_version[2].weight.detach().numpy().T, torch_version[2].bias.detach().numpy()])
    return net


X = np.array([[1.0, 2.0], [3.0, 0.5], [0.5, 0.5]], dtype=np.float32)
Y = np.array([[1.0], [2.0], [0.0]], dtype=np.float32)


def test_dead_fraction_known_answer_both_frameworks():
    assert instruments.dead_fraction(torch_net(), torch.from_numpy(X)) == {"1 ReLU": 0.5}
    assert list(instruments.dead_fraction(keras_net(), X).values()) == [0.5]


def test_dead_fraction_counts_a_unit_alive_if_any_sample_activates_it():
    x = torch.tensor([[1.0, 1.0], [-5.0, -5.0]])  # the second sample wakes the "dead" units
    assert instruments.dead_fraction(torch_net(), x) == {"1 ReLU": 0.0}


def test_dead_fraction_counts_conv_channels():
    conv = nn.Sequential(nn.Conv1d(1, 2, kernel_size=1), nn.ReLU())
    with torch.no_grad():
        conv[0].weight.fill_(1.0)
        conv[0].bias.copy_(torch.tensor([0.0, -100.0]))
    assert instruments.dead_fraction(conv, torch.ones(3, 1, 5)) == {"1 ReLU": 0.5}


def test_grad_norms_match_the_analytic_gradient():
    # For a linear layer with MSE, d/dW mean((Wx + b - y)^2) = 2/n * sum(err * x).
    layer = nn.Linear(2, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.5, -1.0]]))
        layer.bias.fill_(0.1)
    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    err = (x @ layer.weight.detach().T + layer.bias.detach() - y).squeeze(1)
    grad_w = 2 / len(x) * (err[:, None] * x).sum(0)
    grad_b = 2 / len(x) * err.sum()
    expected = math.sqrt(float((grad_w ** 2).sum() + grad_b ** 2))
    norms = instruments.grad_norms(layer, x, y, nn.functional.mse_loss)
    assert norms == {"Linear": pytest.approx(expected, rel=1e-6)}
    assert layer.weight.grad is None  # the model's own gradients are left alone


def test_torch_and_keras_agree_on_the_same_weights():
    t = instruments.grad_norms(torch_net(), torch.from_numpy(X), torch.from_numpy(Y), nn.functional.mse_loss)
    k = instruments.grad_norms(keras_net(), X, Y, "mse")
    assert list(k.values()) == pytest.approx(list(t.values()), rel=1e-5)
    assert t["2 Linear"] > 0


def test_stored_grad_norms_show_accumulation():
    net = torch_net()
    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    nn.functional.mse_loss(net(x), y).backward()
    once = instruments.stored_grad_norms(net)
    nn.functional.mse_loss(net(x), y).backward()  # no zero_grad: .grad now holds twice the gradient
    twice = instruments.stored_grad_norms(net)
    for name in once:
        assert twice[name] == pytest.approx(2 * once[name], rel=1e-6)
    assert once == pytest.approx(instruments.grad_norms(torch_net(), x, y, nn.functional.mse_loss), rel=1e-6)
    with pytest.raises(TypeError, match="Keras keeps no gradients"):
        instruments.stored_grad_norms(keras_net())


@pytest.mark.parametrize("make", [torch_net, keras_net])
def test_update_ratio_of_a_known_change(make):
    net = make()
    before = instruments.snapshot_weights(net)
    first = next(iter(before))
    if isinstance(net, nn.Module):
        with torch.no_grad():
            for p in net.parameters():
                p.mul_(1.1)
    else:
        for layer in net.layers:
            layer.set_weights([w * 1.1 for w in layer.get_weights()])
    ratios = instruments.update_ratios(before, net)
    assert ratios[first] == pytest.approx(0.1, rel=1e-5)


def test_gradient_stopping_layers_are_the_relus_not_the_leaky_ones():
    torch_model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.LeakyReLU(0.1), nn.Linear(3, 3),
                                nn.LeakyReLU(0.0), nn.ELU(), nn.ReLU6())
    assert instruments.gradient_stopping_layers(torch_model) == {"1 ReLU", "5 LeakyReLU", "7 ReLU6"}
    keras_model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="relu", name="d_relu"),
                                    keras.layers.Dense(3, activation="leaky_relu", name="d_leaky"),
                                    keras.layers.LeakyReLU(0.0, name="flat_leaky"), keras.layers.ReLU(name="relu_layer"),
                                    keras.layers.ELU(name="elu_layer")])
    assert instruments.gradient_stopping_layers(keras_model) == {"d_relu", "flat_leaky", "relu_layer"}
    x = torch.tensor([[-1.0, -1.0], [-2.0, -0.5]])
    with torch.no_grad():
        for m in torch_model:
            if isinstance(m, nn.Linear):
                m.weight.fill_(1.0)
                m.bias.fill_(0.0)
    # every unit is <= 0 for both samples, but only the ReLU-like layers count as dead
    assert instruments.dead_fraction(torch_model, x)["3 LeakyReLU"] == 1.0
    assert instruments.dead_relu_fraction(torch_model, x) == {"1 ReLU": 1.0, "5 LeakyReLU": 1.0, "7 ReLU6": 1.0}


def test_activation_stats_known_values():
    stats = instruments.activation_stats(torch_net(), torch.from_numpy(X))["1 ReLU"]
    # outputs: units 2,3 copy x's two columns, units 0,1 are zero
    assert stats["zero_fraction"] == pytest.approx(0.5)
    assert stats["mean"] == pytest.approx(X.sum() / 12)


def test_chance_loss_levels():
    assert instruments.chance_loss([0, 1, 2, 3], "cross_entropy") == pytest.approx(math.log(4))
    assert instruments.chance_loss([0, 1], "cross_entropy", n_classes=10) == pytest.approx(math.log(10))
    assert instruments.chance_loss([0, 1], "binary_cross_entropy") == pytest.approx(math.log(2))
    assert instruments.chance_loss([1.0, 3.0], "mse") == pytest.approx(1.0)
    assert instruments.chance_loss([1.0, 2.0, 9.0], "mae") == pytest.approx(8 / 3)
    with pytest.raises(ValueError, match="unknown loss kind"):
        instruments.chance_loss([1.0], "hinge")
    with pytest.raises(ValueError, match="at least 2 classes"):
        instruments.chance_loss([1, 1], "cross_entropy")


def test_untrained_loss_is_what_outputs_near_zero_score():
    assert instruments.untrained_loss([0, 1], "cross_entropy", n_classes=10) == pytest.approx(math.log(10))
    assert instruments.untrained_loss([1.0, 3.0], "mse") == pytest.approx(5.0)   # variance 1 + mean² 4
    assert instruments.untrained_loss([1.0, -3.0], "mae") == pytest.approx(2.0)
    with pytest.raises(ValueError, match="unknown loss kind"):
        instruments.untrained_loss([1.0], "hinge")


def test_init_loss_check_names_a_loss_below_chance_as_a_loss_bug():
    x, y = torch.zeros(5, 3), torch.tensor([0, 1, 2, 0, 1])
    silent = nn.Linear(3, 3)
    nn.init.zeros_(silent.weight)
    nn.init.zeros_(silent.bias)
    # nll_loss expects log-probabilities; given raw scores near 0 it reports a loss near 0
    check = instruments.init_loss_check(silent, x, y, nn.functional.nll_loss, "cross_entropy")
    assert check.ratio < 0.5 and not check.healthy and "cannot beat chance" in str(check)


def test_init_loss_check_on_regression_uses_mean_square_not_variance():
    x = torch.zeros(4, 1)
    y = torch.full((4, 1), 3.0) + torch.tensor([[0.1], [-0.1], [0.1], [-0.1]])   # variance 0.01, mean² 9
    zero = nn.Linear(1, 1)
    nn.init.zeros_(zero.weight)
    nn.init.zeros_(zero.bias)
    check = instruments.init_loss_check(zero, x, y, nn.functional.mse_loss, "mse")
    assert check.healthy and check.reference == pytest.approx(9.01) and "mean(y²)" in str(check)


def test_init_loss_check_flags_a_confident_model():
    x = torch.zeros(5, 3)
    y = torch.tensor([0, 1, 2, 0, 1])
    silent = nn.Linear(3, 3)
    nn.init.zeros_(silent.weight)
    nn.init.zeros_(silent.bias)
    check = instruments.init_loss_check(silent, x, y, nn.functional.cross_entropy, "cross_entropy")
    assert check.initial_loss == pytest.approx(math.log(3)) and check.healthy
    loud = nn.Linear(3, 3)
    with torch.no_grad():
        loud.weight.zero_()
        loud.bias.copy_(torch.tensor([20.0, 0.0, 0.0]))  # sure it is always class 0
    check = instruments.init_loss_check(loud, x, y, nn.functional.cross_entropy, "cross_entropy")
    assert not check.healthy and "NOT near chance" in str(check)


def test_unsupported_model_type_is_a_clear_error():
    with pytest.raises(TypeError, match="expected a torch.nn.Module or a keras.Model"):
        instruments.dead_fraction(object(), X)
    assert cu.instruments.total_norm({"a": 3.0, "b": 4.0}) == 5.0


def test_step_gradients_halve_per_step_through_a_recurrence_of_one_half():
    """h_t = 0.5 h_(t-1) + x_t (linear on positive inputs), loss = sum of the last h: step t gets 0.5^(T-1-t)."""
    steps, x = 6, np.ones((2, 6, 1), dtype=np.float32)
    rnn = nn.RNN(1, 1, nonlinearity="relu", bias=False, batch_first=True)
    with torch.no_grad():
        rnn.weight_ih_l0.fill_(1.0)
        rnn.weight_hh_l0.fill_(0.5)

    class LastStep(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnn

        def forward(self, inputs):
            return self.rnn(inputs)[0][:, -1]

    keras.utils.set_random_seed(0)
    keras_rnn = keras.Sequential([keras.Input((steps, 1)), keras.layers.SimpleRNN(1, activation="linear",
                                                                                    use_bias=False)])
    keras_rnn.layers[0].set_weights([np.ones((1, 1)), np.full((1, 1), 0.5)])
    torch_loss = lambda out, y: out.sum()  # noqa: E731
    keras_loss = lambda y, out: tf.reduce_sum(out)  # noqa: E731
    expected = 0.5 ** np.arange(steps - 1, -1, -1) * np.sqrt(2)  # two samples, one feature each
    for model, loss, inputs in ((LastStep(), torch_loss, torch.as_tensor(x)), (keras_rnn, keras_loss, x)):
        name, per_step = instruments.step_gradients(model, inputs, np.zeros((2, 1), dtype=np.float32), loss)
        np.testing.assert_allclose(per_step, expected, rtol=1e-5)
    assert instruments.step_gradients(torch_net(), torch.as_tensor(X), torch.as_tensor(Y), nn.MSELoss()) is None
    assert instruments.step_gradients(keras_net(), X, Y, "mse") is None


def test_weight_decay_reads_both_frameworks_optimizers():
    from course_utils.instruments.updates import weight_decay

    net = torch_net()
    groups = [{"params": net[0].parameters(), "weight_decay": 0.0}, {"params": net[2].parameters(), "weight_decay": 0.1}]
    assert weight_decay(torch.optim.SGD(groups, lr=0.1)) == 0.1  # the largest group's
    assert weight_decay(torch.optim.SGD(net.parameters(), lr=0.1)) == 0.0
    assert weight_decay(keras.optimizers.AdamW(1e-3, weight_decay=0.01)) == pytest.approx(0.01)
    assert weight_decay(None) == 0.0
