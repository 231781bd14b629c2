"""The project's set-up: pins, the widget frontend, and CI running the README's commands."""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
CI = (ROOT / ".ci" / "run").read_text()


def readme_commands():
    """The two quick-start commands: the first code block under 'Quick start'."""
    section = README.split("## Quick start", 1)[1]
    block = re.search(r"```(?:bash)?\n(.*?)```", section, re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_requirements_pin_the_tested_stack():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    pins = dict(line.split("==") for line in lines if "==" in line and not line.startswith("#"))
    assert pins["torch"] == "2.13.0"  # an unpinned torch pulls a multi-GB CUDA build
    for package in ("tensorflow", "jupyterlab", "ipywidgets", "jupyterlab-widgets", "nbval", "pytest",
                    "scikit-learn", "matplotlib"):
        assert package in pins, f"{package} is not pinned"
    assert "-e ." in lines  # course_utils is installed, so every notebook can import it


def test_jupyterlab_has_the_widget_frontend():
    # Without it JupyterLab shows "IntSlider(value=...)" instead of a slider.
    manager = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter-widgets" / "jupyterlab-manager"
    assert (manager / "package.json").exists(), f"missing {manager}"


def test_readme_quick_start_is_two_commands():
    install, test = readme_commands()
    assert install.startswith("pip install -r requirements.txt") and "jupyter lab" in install
    assert test == "pytest"


def test_ci_runs_exactly_the_readme_commands_in_a_fresh_environment():
    install, test = readme_commands()
    install_only = install.split("&&")[0].strip()  # CI cannot open a browser: it runs the install half
    assert "python3 -m venv" in CI
    assert re.search(rf"^\s*{re.escape(install_only)}\s*$", CI, re.M)
    assert re.search(rf"^\s*{re.escape(test)}\s*$", CI, re.M)
    assert "set -euo pipefail" in CI


def test_readme_lists_every_lesson():
    for path in sorted((ROOT / "lessons").glob("*.ipynb")):
        assert path.name in README, f"{path.name} is not in the README"


def test_readme_documents_the_configuration_matrix():
    from output_matrix import CONFIGURATIONS

    section = README.split("## For instructors", 1)[1]
    assert "python tests/output_matrix.py --release" in section
    for name in CONFIGURATIONS:
        assert f"`{name}`" in section, f"the README does not say what configuration {name} stands for"
