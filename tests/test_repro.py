import os
import subprocess
import sys

import numpy as np
import pytest

from course_utils import repro


def run_python(code: str, drop=()):
    env = {k: v for k, v in os.environ.items() if k not in drop}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    return result


def test_seed_makes_numpy_and_torch_repeat():
    import torch

    repro.setup(frameworks=("torch",))
    a = (np.random.rand(3), torch.rand(3))
    repro.seed(0)
    b = (np.random.rand(3), torch.rand(3))
    repro.seed(1)
    c = np.random.rand(3)
    assert np.array_equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not np.array_equal(a[0], c)


def test_setup_pins_threads_and_determinism():
    import torch

    repro.setup(frameworks=("torch",), threads=1)
    assert torch.get_num_threads() == 1
    assert torch.are_deterministic_algorithms_enabled()
    assert repro.SETTINGS == {"seed": 0, "threads": 1, "tensorflow_threads": 1, "frameworks": ("torch",)}
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"


def test_course_threads_environment_variable(monkeypatch):
    monkeypatch.delenv("COURSE_TORCH_THREADS", raising=False)
    monkeypatch.setenv("COURSE_THREADS", "3")
    assert repro.default_threads("torch") == repro.default_threads("tensorflow") == 3
    monkeypatch.setenv("COURSE_TORCH_THREADS", "2")
    assert repro.default_threads("torch") == 2 and repro.default_threads("tensorflow") == 3
    monkeypatch.setenv("COURSE_THREADS", "0")
    with pytest.raises(ValueError, match="positive"):
        repro.default_threads("tensorflow")
    monkeypatch.setenv("COURSE_TORCH_THREADS", "two")
    with pytest.raises(ValueError, match="positive"):
        repro.default_threads("torch")
    monkeypatch.delenv("COURSE_THREADS")
    monkeypatch.delenv("COURSE_TORCH_THREADS")
    assert repro.default_threads() == 1


def test_unknown_framework_is_refused():
    with pytest.raises(ValueError, match="unknown framework"):
        repro.setup(frameworks=("jax",))


def test_torch_only_lesson_never_imports_tensorflow():
    out = run_python(
        "import sys, course_utils as cu\n"
        "cu.setup(frameworks=('torch',))\n"
        "import torch\n"
        "model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))\n"
        "x = torch.zeros(4, 2); y = torch.zeros(4, 1)\n"
        "cu.instruments.dead_fraction(model, x)\n"
        "cu.train_torch(model, x, y, torch.nn.functional.mse_loss, torch.optim.SGD(model.parameters(), 0.1), 3)\n"
        "print('tensorflow' in sys.modules, 'torch' in sys.modules)\n"
    )
    assert out.stdout.split() == ["False", "True"]


def test_importing_course_utils_imports_no_framework():
    out = run_python("import sys, course_utils\nprint('torch' in sys.modules, 'tensorflow' in sys.modules)")
    assert out.stdout.split() == ["False", "False"]


def test_tensorflow_setup_is_quiet_and_deterministic():
    out = run_python(
        "import course_utils as cu\n"
        "cu.setup(frameworks=('tensorflow',))\n"
        "import tensorflow as tf, keras\n"
        "from tensorflow.python.framework import config\n"
        "print(config.is_op_determinism_enabled())\n"
        "a = keras.random.normal((3,)).numpy(); cu.seed(0); b = keras.random.normal((3,)).numpy()\n"
        "print(bool((a == b).all()))\n",
        drop=("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS"),
    )
    assert out.stdout.split() == ["True", "True"]
    # Nothing from TensorFlow's start-up (CUDA probing, oneDNN notices) reaches stderr.
    assert "cuda" not in out.stderr.lower() and "onednn" not in out.stderr.lower(), out.stderr


def test_torch_determinism_without_loading_the_compiler():
    """setup() turns deterministic algorithms on (warn only) without importing torch._inductor (1.6 s)."""
    out = run_python(
        "import sys, course_utils as cu\n"
        "cu.setup(frameworks=('torch',))\n"
        "import torch\n"
        "print(torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),\n"
        "      'torch._inductor.config' in sys.modules)\n"
        "import torch._inductor.config as inductor\n"
        "cu.setup(frameworks=('torch',))  # the compiler is loaded now: the public call sets its flag too\n"
        "print(inductor.deterministic)\n"
    )
    assert out.stdout.split() == ["True", "True", "False", "True"], out.stdout + out.stderr
