"""The course site: the README, the lessons and the labs as a static HTML book, built offline.

    python -m course_utils.site                  # into build/site/ (build/ is not committed)
    python -m course_utils.site --out DIR --repository https://github.com/OWNER/REPO --branch main

Sphinx with MyST-NB and sphinx-book-theme (pinned in requirements.txt): the theme ships inside
its PyPI package, so the build fetches nothing (jupyter-book 2 asks a template server for its
theme and fails offline), and MathJax is copied into the site, so formulas render offline too. Notebooks are never executed: the pages show their committed outputs.
solutions/ is never read. A panel is a widget, which a static page cannot run; its page shows
the figure the committed notebook stored in the panel's widget state, the settings it was drawn
at, a line saying that moving the sliders needs a running kernel, and a Binder link when the
repository URL is given (--repository, or the environment variable COURSE_REPOSITORY).
"""
from __future__ import annotations

import argparse
import html
import io
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "build" / "site"
BINDER = "https://mybinder.org"
# (caption in the navigation, folder): the order of the book. solutions/ is left out on purpose.
SECTIONS = (("Lessons", "lessons"), ("Labs", "labs"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
CONTROL_MODELS = {"IntSliderModel", "FloatSliderModel", "FloatLogSliderModel", "CheckboxModel", "DropdownModel"}


# --- panels: a widget's stored state -> a figure and a caption ---------------------------------------

@dataclass
class PanelSnapshot:
    """What a committed notebook stored of one panel: its figure (base64 PNG), settings and status line."""
    png_base64: str
    settings: list
    status: str


def _descendants(state: dict, model_id: str) -> list:
    """The model and every model below it, in the order the panel lays them out."""
    model = state.get(model_id)
    if model is None:
        return []
    found = [model]
    for child in model["state"].get("children", []):
        found += _descendants(state, child.removeprefix("IPY_MODEL_"))
    return found


def _setting(model: dict) -> tuple:
    values = model["state"]
    if model["model_name"] == "DropdownModel":
        value = values["_options_labels"][values["index"]]
    elif model["model_name"] == "CheckboxModel":
        value = "on" if values["value"] else "off"
    else:
        value = f"{values['value']:g}"
    return values.get("description", ""), value


def panel_snapshot(state: dict, model_id: str) -> PanelSnapshot | None:
    """The panel whose outermost widget is ``model_id``, or None if its state holds no drawn figure."""
    models = _descendants(state, model_id)
    images = [m for m in models if m["model_name"] == "ImageModel" and m.get("buffers")]
    if not images:
        return None
    statuses = [m["state"]["value"] for m in models
                if m["model_name"] == "HTMLModel" and "course-status" in m["state"].get("value", "")]
    status = html.unescape(re.sub(r"<[^>]+>", "", statuses[0])) if statuses else ""
    return PanelSnapshot(png_base64=images[0]["buffers"][0]["data"],
                         settings=[_setting(m) for m in models if m["model_name"] in CONTROL_MODELS],
                         status=status)


def binder_url(repository: str, branch: str, path: str) -> str:
    """A mybinder.org link that opens ``path`` of the repository in JupyterLab."""
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(\.git)?/?", repository)
    spec = f"gh/{match[1]}/{match[2]}" if match else f"git/{quote(repository, safe='')}"
    return f"{BINDER}/v2/{spec}/{branch}?urlpath=lab/tree/{path}"


def static_panel_outputs(snapshot: PanelSnapshot, launch_url: str | None) -> list:
    """The outputs that stand for a panel on a static page: its figure, then what it shows and how to run it."""
    settings = ", ".join(f"{name} {value}" for name, value in snapshot.settings)
    # A status such as "Settings changed: press Run" describes the live widget, not the stored figure.
    status = ""
    if snapshot.status.startswith("Run "):  # "Run 2: <what it shows> (0.45 s) Note: ...": keep what it shows
        status = " " + re.sub(r"^Run \d+: |\s*\(\d+(\.\d+)? s\).*$", "", snapshot.status)
    where = (f'<a href="{html.escape(launch_url)}">launch this lesson on Binder</a> or open it in JupyterLab'
             if launch_url else "open the notebook in JupyterLab (see Quick start on the home page)")
    note = (f'<p class="course-static-panel"><em>The live panel, as the committed notebook last drew it '
            f"(settings: {html.escape(settings)}).{html.escape(status)}</em> "
            f"Moving the sliders needs a running kernel: {where}.</p>")
    return [{"output_type": "display_data", "metadata": {},
             "data": {"image/png": snapshot.png_base64, "text/plain": "the panel's figure"}},
            {"output_type": "display_data", "metadata": {}, "data": {"text/html": note}}]


# --- the sources Sphinx reads ------------------------------------------------------------------------

def prepare_notebook(source: Path, target: Path, launch_url: str | None):
    """Copy a notebook with each panel replaced by its static stand-in (and no widget state to load)."""
    import nbformat

    notebook = nbformat.read(source, as_version=4)
    state = notebook.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in notebook.cells:
        outputs = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            snapshot = panel_snapshot(state, view["model_id"]) if view else None
            if view and snapshot is None:
                raise ValueError(f"{source.name}: a widget output whose stored state holds no figure "
                                 "(re-execute the notebook with its widget state saved)")
            outputs += static_panel_outputs(snapshot, launch_url) if snapshot else [output]
        if "outputs" in cell:
            cell.outputs = [nbformat.from_dict(o) for o in outputs]
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)


def home_page(readme: str, documents: dict) -> str:
    """The README, then one hidden table of contents per section (the navigation, in study order)."""
    tables = [f"```{{toctree}}\n:caption: {caption}\n:hidden:\n\n" + "\n".join(names) + "\n```"
              for caption, names in documents.items()]
    return readme.rstrip() + "\n\n" + "\n\n".join(tables) + "\n"


def write_sources(source_dir: Path, repository: str | None, branch: str) -> dict:
    """index.md and the notebook copies in ``source_dir``; returns {caption: [document names]}."""
    documents = {}
    for caption, folder in SECTIONS:
        notebooks = sorted((ROOT / folder).glob("*.ipynb"))
        if not notebooks:
            raise FileNotFoundError(f"no notebooks in {ROOT / folder}")
        for notebook in notebooks:
            relative = f"{folder}/{notebook.name}"
            prepare_notebook(notebook, source_dir / relative,
                             binder_url(repository, branch, relative) if repository else None)
        documents[caption] = [f"{folder}/{notebook.stem}" for notebook in notebooks]
    (source_dir / "index.md").write_text(home_page((ROOT / "README.md").read_text(), documents))
    return documents


def sphinx_settings(title: str, repository: str | None, branch: str) -> dict:
    """The whole Sphinx configuration (no conf.py)."""
    theme = {"home_page_in_toc": True, "show_navbar_depth": 1, "use_download_button": True}
    if repository:
        theme.update(repository_url=repository, repository_branch=branch, path_to_docs="",
                     use_repository_button=True,
                     launch_buttons={"binderhub_url": BINDER, "notebook_interface": "jupyterlab"})
    return {
        "project": title, "html_title": title,
        # githubpages writes .nojekyll, without which GitHub Pages hides _static/ and _images/
        "extensions": ["myst_nb", "sphinx.ext.githubpages"],
        "html_theme": "sphinx_book_theme", "html_theme_options": theme,
        "nb_execution_mode": "off",   # the committed outputs, never a re-run
        "myst_enable_extensions": ["dollarmath"],
        "mathjax_path": MATHJAX_SCRIPT,  # under _static/, copied there by copy_mathjax: no CDN
        "html_show_sourcelink": False,
    }


MATHJAX_SCRIPT = "mathjax/tex-mml-chtml.js"
# what that script loads as a page needs it: fonts, TeX extensions named in a formula, the menu and assistive MathML
# (speech, sre/, only if a reader turns it on in the menu: left out, 4 MB)
MATHJAX_PARTS = ("tex-mml-chtml.js", "output/chtml", "input/tex/extensions", "ui", "a11y")


def copy_mathjax(static: Path) -> None:
    """MathJax 3 from the django-static-mathjax package (its files only; Django is not needed) into ``static``."""
    import mathjax

    source = Path(mathjax.__file__).parent / "static" / "mathjax"
    for part in MATHJAX_PARTS:
        target = static / "mathjax" / part
        if (source / "es5" / part).is_dir():
            shutil.copytree(source / "es5" / part, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / "es5" / part, target)
    shutil.copy2(source / "LICENSE", static / "mathjax" / "LICENSE")


def build(out: Path = DEFAULT_OUT, repository: str | None = None, branch: str = "main") -> list:
    """Build the site into ``out`` (replaced); returns Sphinx's warnings, one string each."""
    from sphinx.application import Sphinx

    if out.exists() and any(out.iterdir()) and not (out / ".buildinfo").exists():
        raise ValueError(f"refusing to replace {out}: it is not empty and holds no site built before")
    if repository and not re.match(r"https?://", repository):
        raise ValueError(f"--repository must be the repository's web URL (https://...), got {repository!r}")
    readme = (ROOT / "README.md").read_text()
    title = readme.splitlines()[0].lstrip("# ").strip()
    warnings = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="course-site-") as work:
        source_dir = Path(work) / "source"
        write_sources(source_dir, repository, branch)
        shutil.rmtree(out, ignore_errors=True)
        app = Sphinx(source_dir, None, out, Path(work) / "doctrees", "html",
                     confoverrides=sphinx_settings(title, repository, branch),
                     status=None, warning=warnings, freshenv=True)
        app.build()
    copy_mathjax(out / "_static")
    for _caption, folder in SECTIONS:  # the download button serves the committed notebook, widget state and all
        for notebook in (ROOT / folder).glob("*.ipynb"):
            shutil.copy2(notebook, out / "_sources" / folder / notebook.name)
    return [line for line in warnings.getvalue().splitlines() if "WARNING" in line or "ERROR" in line]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.site", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: build/site)")
    parser.add_argument("--repository", default=os.environ.get("COURSE_REPOSITORY"),
                        help="the course's public git URL, for Binder links (default: $COURSE_REPOSITORY)")
    parser.add_argument("--branch", default="main", help="the branch Binder opens (default: main)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        warnings = build(args.out.resolve(), args.repository, args.branch)
    except ValueError as error:
        parser.error(str(error))
    for warning in warnings:
        print(warning, file=sys.stderr)
    print(f"site built in {time.perf_counter() - started:.1f} s: {args.out / 'index.html'}"
          f" ({len(warnings)} warnings)")
    if not args.repository:
        print("no --repository (or COURSE_REPOSITORY) given: the pages have no Binder links")
    return 0


if __name__ == "__main__":
    sys.exit(main())
