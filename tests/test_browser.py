"""The course in a real browser: JupyterLab and Notebook 7, headless Chromium, a student's clicks.

The test starts one Jupyter server on loopback (no token) over a temporary copy
of lessons/ (running cells in the browser autosaves the notebook, which must
not touch the committed outputs); it serves both frontends. For each lesson
below in JupyterLab, and for lesson 00 in Notebook 7, it opens the lesson, runs
all cells, and checks that no cell shows an error and that widgets render as
widgets. Then it types a new value into a slider's readout as a person does,
waits for the retrain, and checks that the figure changed and the status line
reports the new run; then an extreme value, which must produce a message
rather than a dead panel. Screenshots of each panel go to a folder the test
prints.

The server is started as the README's `jupyter lab` is, with a fresh user
configuration (a first run) and no flag about news: JupyterLab's first-run
"official Jupyter news?" prompt must stay away because of the settings that
requirements.txt installs (jupyterlab-settings/), and the test checks that it does.

Needs Chromium (Debian's package: /usr/bin/chromium, or CHROMIUM=path) and
Playwright. CI installs both; elsewhere the test is skipped with the reason
when Chromium is missing.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]

# lesson -> (the slider to type into, a new value, an extreme value, another control to change or None:
# ("toggle", its description) or ("choose", the dropdown's description, an option))
LESSONS = {
    "00_the_overfit_test.ipynb": ("width", "8", "100000", None),
    "04_tiny_data.ipynb": ("width", "8", "100000", None),
    "07_loss_and_output_disagree.ipynb": ("learning rate", "0.1", "100", ("choose", "mismatch", "softmax over one unit")),
    "08_weights_never_move.ipynb": ("dropout rate", "0.5", "5", ("toggle", "skip optimizer.step()")),
}
LESSONS = {name: spec for name, spec in LESSONS.items() if (ROOT / "lessons" / name).exists()}

# frontend -> (the address of a lesson, a JavaScript test that the page shows its kernel idle). Notebook 7 also
# shows "idle" before its kernel has started; wait_for_kernel covers that.
FRONTENDS = {
    "jupyterlab": ("/lab/tree/lessons/{lesson}?reset",
                   "/\\|\\s*Idle/.test(document.querySelector('#jp-main-statusbar')?.textContent || '')"),
    "notebook7": ("/notebooks/lessons/{lesson}",
                  "document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status === 'idle'"),
}
# Notebook 7 runs one lesson: the panel and the widget extension are the same in both frontends; the page around them is not.
CASES = [("jupyterlab", lesson) for lesson in LESSONS] + [
    ("notebook7", lesson) for lesson in LESSONS if lesson.startswith("00_")]
NEWS_PROMPT = "Would you like to get notified about official Jupyter news?"

if not Path(CHROMIUM).exists():
    reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)"
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must run the browser test: {reason}")
    pytest.skip(reason, allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def screenshots():
    folder = Path(tempfile.mkdtemp(prefix="course-screenshots-"))
    print(f"\npanel screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def jupyter_server():
    """JupyterLab's server (Notebook 7 too) over a copy of lessons/; stopped (its whole process group) afterwards."""
    work = Path(tempfile.mkdtemp(prefix="course-browser-"))
    shutil.copytree(ROOT / "lessons", work / "lessons")
    port = free_port()
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
           "JUPYTER_CONFIG_DIR": str(work / "config"), "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
           "JUPYTERLAB_WORKSPACES_DIR": str(work / "workspaces")}
    log = open(work / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--IdentityProvider.token=", "--ServerApp.password=", "--allow-root", f"--ServerApp.root_dir={work}"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.time() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"JupyterLab did not start: {(work / 'server.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the kernels it started
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


STATUS = ".course-panel .course-status"


def status_text(page) -> str:
    # textContent, not the rendered text: JupyterLab may hide a panel scrolled out of view (inner_text is then '')
    return page.text_content(STATUS) or ""


def run_number(text: str) -> int:
    match = re.match(r"Run (\d+):", text)
    assert match, f"the status line does not report a run: {text!r}"
    return int(match.group(1))


def wait_for_run(page, number: int, timeout_s: float = 180):
    page.wait_for_function(
        f"() => {{ const s = document.querySelector('{STATUS}'); return s && /^(Run {number}:|Error|Not run)/.test(s.textContent); }}",
        timeout=timeout_s * 1000,
    )


def wait_for_kernel(server: str, path: str, timeout_s: float = 180):
    """Until the server has an idle kernel for the notebook at `path` with a browser connected: a run-all before that is lost."""
    deadline = time.time() + timeout_s
    while True:
        with urllib.request.urlopen(f"{server}/api/sessions", timeout=30) as reply:
            sessions = json.load(reply)
        if any(session["path"] == path and session["kernel"]["connections"] > 0
               and session["kernel"]["execution_state"] == "idle" for session in sessions):
            return
        if time.time() > deadline:
            raise AssertionError(f"no idle kernel with a browser connected for {path} after {timeout_s} s: {sessions}")
        time.sleep(0.5)


def type_into_readout(page, description: str, value: str):
    """Click a slider's readout, replace its text and press Enter, as a person does."""
    slider = page.locator(".course-panel .widget-slider", has=page.locator(f"label:text-is('{description}')"))
    readout = slider.locator(".widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(value)
    page.keyboard.press("Enter")


def test_jupyterlab_reads_the_course_settings(jupyter_server):
    """The settings requirements.txt installs are JupyterLab's defaults: never ask about news, never check for updates."""
    settings = f"{jupyter_server}/lab/api/settings/@jupyterlab/apputils-extension:notification"
    with urllib.request.urlopen(settings, timeout=30) as reply:
        defaults = {name: spec["default"] for name, spec in json.load(reply)["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false", "jupyterlab-settings/ is not installed: pip install -r requirements.txt"
    assert defaults["checkForUpdates"] is False
    # nbgrader is installed for the instructors' export; its menus stay out of a student's JupyterLab
    with urllib.request.urlopen(f"{jupyter_server}/lab", timeout=30) as reply:
        page = reply.read().decode()
    config = json.loads(page.split('id="jupyter-config-data"', 1)[1].split(">", 1)[1].split("</script>", 1)[0])
    assert "@jupyter/nbgrader" in config["disabledExtensions"]


@pytest.mark.parametrize("frontend, lesson", CASES)
def test_lesson_runs_and_its_panel_responds(jupyter_server, browser, screenshots, frontend, lesson):
    slider, new_value, extreme, other = LESSONS[lesson]
    address, kernel_ready = FRONTENDS[frontend]
    shot = f"{frontend}_{lesson.replace('.ipynb', '')}"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(jupyter_server + address.format(lesson=lesson), timeout=120_000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        wait_for_kernel(jupyter_server, f"lessons/{lesson}")
        page.wait_for_function(f"() => {kernel_ready}", timeout=180_000)
        page.click(".jp-Notebook .jp-Cell >> nth=0")
        page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
        page.click("div.lm-Menu-itemLabel:text-is('Run All Cells')")
        panel = page.wait_for_selector(".course-panel", timeout=300_000)
        panel.scroll_into_view_if_needed()
        page.wait_for_function(
            f"() => {{ const s = document.querySelector('{STATUS}'); return s && /^(Run \\d+:|Error)/.test(s.textContent); }}",
            timeout=300_000)
        # every code cell ran
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]"
            ".every(p => /\\[\\d+\\]/.test(p.textContent))", timeout=300_000)
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count() == 0
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
        assert page.locator("text=/(IntSlider|FloatLogSlider|HBox)\\(/").count() == 0, "widgets shown as text"
        assert page.locator(".course-panel .widget-slider").count() >= 1
        # Long after JupyterLab would have asked (it asks as soon as it has loaded its settings); Notebook 7 never asks.
        assert page.get_by_text(NEWS_PROMPT).count() == 0, "JupyterLab asks about news: see jupyterlab-settings/"
        runs = run_number(status_text(page))  # the notebook may already have driven its panel
        image_before = page.get_attribute(".course-panel img", "src")

        type_into_readout(page, slider, new_value)
        wait_for_run(page, runs + 1)
        second = status_text(page)
        assert run_number(second) == runs + 1, second
        assert page.get_attribute(".course-panel img", "src") != image_before, "the figure did not change"
        panel.screenshot(path=str(screenshots / f"{shot}_changed.png"))

        if other:  # a checkbox is clicked and a dropdown chosen from, not typed into: the panel retrains on those too
            image_before = page.get_attribute(".course-panel img", "src")
            if other[0] == "toggle":
                page.locator(".course-panel .widget-checkbox", has=page.locator(f"text='{other[1]}'")).locator(
                    "input").click()
            else:
                page.locator(".course-panel .widget-dropdown", has=page.locator(f"label:text-is('{other[1]}')")).locator(
                    "select").select_option(label=other[2])
            runs += 1
            wait_for_run(page, runs + 1)
            assert run_number(status_text(page)) == runs + 1, status_text(page)
            assert page.get_attribute(".course-panel img", "src") != image_before, f"{other} changed nothing"
            panel.screenshot(path=str(screenshots / f"{shot}_other_control.png"))

        type_into_readout(page, slider, extreme)
        wait_for_run(page, runs + 2)
        third = status_text(page)
        assert "Error" not in third
        assert any(word in third for word in ("clamped", "diverged", "Not run")), third
        panel.screenshot(path=str(screenshots / f"{shot}_extreme.png"))
    except Exception:
        page.screenshot(path=str(screenshots / f"{shot}_failed.png"))  # the whole page, as it was when the test failed
        raise
    finally:
        page.close()
