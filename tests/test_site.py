"""The course site in a real browser: built offline from the committed notebooks, then read as a student would.

The site (course_utils.site) is built once into a temporary folder, served on loopback, and opened in
headless Chromium with every request that leaves the site refused (the course's machines are offline).
Each lesson and lab page must exist and show its figures, no page may show an error or stderr output
(except a cell tagged raises-exception, where the lesson shows the error on purpose), every link within the
site must reach an existing page and anchor, no solution may be on it, the navigation must list the lessons
and then the labs in order, and the search page must find a word. A panel's page must show the figure the
notebook stored, the kernel line and its Binder link. The build time is printed (-s); its speed is measured
in benchmarks/site_build.py.
"""
from __future__ import annotations

import functools
import http.server
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from test_browser import browser  # noqa: F401  (the suite's Chromium launch; skips this module without Chromium)

from course_utils import site

# myst-parser 5.2 still reads Sphinx's app attribute that Sphinx 11 removes: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated. Check CHANGES for Sphinx API")

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "https://github.com/example/cant-even-overfit"
LESSONS = sorted(p.stem for p in (ROOT / "lessons").glob("*.ipynb"))
LABS = sorted(p.stem for p in (ROOT / "labs").glob("*.ipynb"))
PAGES = ["index"] + [f"lessons/{name}" for name in LESSONS] + [f"labs/{name}" for name in LABS]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    started = time.perf_counter()
    warnings = site.build(out, repository=REPOSITORY, branch="main")
    print(f"\nsite built in {time.perf_counter() - started:.1f} s")
    return out, warnings


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(built):
    out, _ = built
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def page(browser, served):  # noqa: F811
    """One tab for the whole module; requests that leave the site are refused and recorded."""
    tab = browser.new_page(viewport={"width": 1300, "height": 900})
    tab.external_requests = []

    def only_the_site(route):
        url = route.request.url
        if url.startswith(served):
            route.continue_()
        else:
            tab.external_requests.append(url)
            route.abort()

    tab.route("**/*", only_the_site)
    yield tab
    tab.close()


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for name, value in attrs if name in ("id", "name") and value)


@functools.cache
def anchors_in(path: Path) -> frozenset:
    parser = _Ids()
    parser.feed(path.read_text())
    return frozenset(parser.ids)


def broken_links(out: Path, base: str, hrefs: list) -> list:
    """The links within the site whose file or #anchor does not exist."""
    broken = []
    for href in hrefs:
        if not href.startswith(base):
            continue
        parts = urlsplit(href)
        target = out / unquote(parts.path[len(urlsplit(base).path):])
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{href} (no file)")
        elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in anchors_in(target):
            broken.append(f"{href} (no #{parts.fragment})")
    return broken


def test_the_build_has_no_warnings_every_page_and_no_solution(built):
    out, warnings = built
    assert warnings == []
    missing = [name for name in PAGES if not (out / f"{name}.html").is_file()]
    assert not missing, f"pages not built: {missing}"
    assert len(LESSONS) >= 9 and len(LABS) >= 9
    assert (out / ".nojekyll").is_file(), "GitHub Pages would hide _static/ and _images/"
    solutions = [str(p.relative_to(out)) for p in out.rglob("*") if "solution" in str(p.relative_to(out)).lower()]
    assert not solutions, f"solutions on the site: {solutions}"


def test_the_link_checker_sees_a_missing_file_and_a_missing_anchor(built):
    out, _ = built
    base = "http://127.0.0.1:1/"
    ok = [f"{base}index.html#quick-start", f"{base}lessons/{LESSONS[0]}.html"]
    assert broken_links(out, base, ok) == []
    assert len(broken_links(out, base, [f"{base}nowhere.html", f"{base}index.html#no-such-anchor"])) == 2


def test_binder_links_for_github_and_for_any_other_git_host():
    assert site.binder_url("https://github.com/a/b.git", "main", "lessons/x.ipynb") == \
        "https://mybinder.org/v2/gh/a/b/main?urlpath=lab/tree/lessons/x.ipynb"
    assert site.binder_url("https://git.example.org/a/b", "dev", "labs/y.ipynb") == \
        "https://mybinder.org/v2/git/https%3A%2F%2Fgit.example.org%2Fa%2Fb/dev?urlpath=lab/tree/labs/y.ipynb"


def test_the_build_refuses_to_replace_a_folder_that_is_not_a_site(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="refusing to replace"):
        site.build(tmp_path)
    with pytest.raises(ValueError, match="web URL"):
        site.build(tmp_path / "new", repository="github.com/a/b")
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("name", PAGES)
def test_page_shows_its_figures_no_error_and_links_that_resolve(built, served, page, name):
    out, _ = built
    page.goto(f"{served}{name}.html", wait_until="load")
    broken_images = page.eval_on_selector_all(
        "article img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert broken_images == []
    errors = page.locator(".cell:not(.tag_raises-exception) .output.traceback, .output.stderr").count()
    assert errors == 0, f"{name} shows {errors} error or stderr output(s)"
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    assert any(h.startswith(served) for h in hrefs)
    assert broken_links(out, served, hrefs) == []
    assert page.external_requests == []  # MathJax, fonts and all come from the site itself


@pytest.mark.parametrize("lesson", [n for n in LESSONS if '"application/vnd.jupyter.widget-view+json"'
                                    in (ROOT / "lessons" / f"{n}.ipynb").read_text()])
def test_a_panel_is_its_figure_with_a_binder_link(served, page, lesson):
    page.goto(f"{served}lessons/{lesson}.html")
    note = page.locator(".course-static-panel")
    assert note.count() == 1
    assert "needs a running kernel" in note.inner_text()
    expected = f"https://mybinder.org/v2/gh/example/cant-even-overfit/main?urlpath=lab/tree/lessons/{lesson}.ipynb"
    assert note.locator("a").get_attribute("href") == expected
    # the figure is the output just before the note, and it loaded
    width = page.evaluate("""() => {
        const before = document.querySelector('.course-static-panel').parentElement.previousElementSibling;
        return before && before.tagName === 'IMG' ? before.naturalWidth : 0; }""")
    assert width > 100


def test_the_navigation_lists_the_lessons_then_the_labs_in_order(served, page):
    page.goto(f"{served}index.html")
    links = page.eval_on_selector_all(".bd-sidebar-primary nav a.reference.internal",
                                      "links => links.map(a => a.getAttribute('href'))")
    pages = [link.removesuffix(".html") for link in links if link.startswith(("lessons/", "labs/"))]
    assert pages == PAGES[1:]


def test_search_finds_a_word_of_lesson_03(served, page):
    page.goto(f"{served}search.html")
    field = page.locator(".bd-search-container input[name=q]")
    field.fill("autoencoder")
    field.press("Enter")
    page.wait_for_selector("#search-results ul.search li a", timeout=30_000)
    found = page.eval_on_selector_all("#search-results ul.search li a", "links => links.map(a => a.href)")
    assert any("lessons/03_dying_relu" in href for href in found), found
    assert not any("solution" in href for href in found)


def test_formulas_are_typeset_with_no_request_off_the_site(served, page):
    """Lesson 00 writes ln K in TeX: MathJax, copied into the site, typesets it while every other host is refused."""
    page.external_requests.clear()
    page.goto(f"{served}lessons/00_the_overfit_test.html")
    page.wait_for_selector("mjx-container", timeout=30_000)
    assert page.locator("mjx-container").count() >= 3
    assert "\\ln K" not in page.inner_text("article")  # no TeX source left on the page
    assert page.external_requests == []
