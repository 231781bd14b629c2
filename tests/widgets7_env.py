"""A second environment with ipywidgets 7.7, the series Colab ships, for tests/test_widgets7.py.

    python tests/widgets7_env.py      # build it once, from the package index (run it where pip works)

It is a virtual environment that sees every package of the environment that built it (torch,
TensorFlow, course_utils, ...) but holds its own ipywidgets 7.7.1, which shadows the 8.x of
requirements.txt. `python -m venv --system-site-packages` cannot do that when the course's own
environment is itself a venv (it would see the base interpreter's site-packages, not the
course's), so a .pth file adds the course environment's site-packages after the new venv's own.
It lives inside the course's environment (``{sys.prefix}/widgets7``), so it goes with that
environment and never points at another one. The suite never installs anything:
tests/test_widgets7.py skips, naming this command, when it is absent. Set COURSE_WIDGETS7_VENV to
build or use it somewhere else.
"""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

# 7.7.1 is the version Colab pinned when ipywidgets 8 broke its widget manager (googlecolab/colabtools#3020).
WIDGETS7_REQUIREMENT = "ipywidgets==7.7.1"
VENV = Path(os.environ.get("COURSE_WIDGETS7_VENV", Path(sys.prefix) / "widgets7"))
PYTHON = VENV / "bin" / "python"


def widgets_version() -> str | None:
    """The ipywidgets version the environment imports, or None if it is missing or broken."""
    if not PYTHON.exists():
        return None
    done = subprocess.run([str(PYTHON), "-c", "import ipywidgets; print(ipywidgets.__version__)"],
                          capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def build() -> str:
    venv.create(VENV, with_pip=True, clear=True)
    own_site = subprocess.run([str(PYTHON), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
    # addsitedir (not a bare path) so that the course environment's own .pth files run too: the
    # editable install of course_utils is one.
    parent_site = sysconfig.get_paths()["purelib"]
    Path(own_site, "course_environment.pth").write_text(f"import site; site.addsitedir({parent_site!r})\n")
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", WIDGETS7_REQUIREMENT], check=True)
    version = widgets_version()
    if version is None or not version.startswith("7.7"):
        raise SystemExit(f"{VENV} imports ipywidgets {version}, not {WIDGETS7_REQUIREMENT}")
    return version


if __name__ == "__main__":
    print(f"ipywidgets {build()} in {VENV} (python: {PYTHON}); made from {sys.prefix}")
