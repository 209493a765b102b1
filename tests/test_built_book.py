"""The built HTML book, opened from disk in headless Chromium with the network
cut off: every page renders its math and images, requests nothing outside the
site, logs no JavaScript error, shows no traceback or warning in a cell output,
and every internal link resolves.  On each chapter with an explorer, moving a
control of its offline explorer swaps the image.  A screenshot of each page is saved to
``_build/screenshots/`` (a build artifact, not committed).

Needs the book built first (``make book``; ``make test`` does it) and Debian's
``chromium`` (installed by the Makefile's set-up).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from adamref.plots.explorers import EXPLORERS

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
SKIP_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static"}
# Pages under dot-directories are leftovers of old builds, not part of the book.

pytestmark = pytest.mark.book


def pages() -> list[Path]:
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built book at {SITE}: run `make book` first (`make test` does)")
    return sorted(p for p in SITE.rglob("*.html")
                  if not SKIP_DIRS.intersection(p.relative_to(SITE).parts)
                  and not any(part.startswith(".") for part in p.relative_to(SITE).parts))


# Text that must not survive rendering, outside code blocks.
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\\frac|\\hat\{|\\beta")
# Text that must not appear in a cell's output.
BAD_OUTPUT = re.compile(r"Traceback|Error|Warning|warn\(")

VISIBLE_TEXT_JS = """() => {
  const clone = document.querySelector('main').cloneNode(true);
  clone.querySelectorAll('pre, code, mjx-container, script, style').forEach(e => e.remove());
  return clone.innerText;
}"""


def relative(page: Path) -> str:
    return page.relative_to(SITE).as_posix()


@pytest.mark.parametrize("page", pages() if (SITE / "index.html").exists() else [None],
                         ids=lambda p: relative(p) if p else "no-book")
def test_page_renders_offline(browser, page):
    if page is None:
        pages()  # fails with the explanation
    redirect = re.search(r'http-equiv="Refresh" content="0; url=([^"]+)"', page.read_text())
    if redirect:   # index.html only forwards to the first chapter
        assert (page.parent / redirect.group(1)).exists(), f"redirect to missing {redirect[1]}"
        return
    site_url = SITE.as_uri()
    outside, console_errors = [], []
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = context.new_page()

    def route(request_route):
        url = request_route.request.url
        if url.startswith(site_url) or url.startswith("data:") or url.startswith("blob:"):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()
    tab.route("**/*", route)
    tab.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: console_errors.append(str(e)))

    tab.goto(page.as_uri(), wait_until="load")
    if tab.evaluate("() => !!document.querySelector('main')"):
        if tab.evaluate("() => typeof MathJax !== 'undefined'"):
            tab.wait_for_function("() => MathJax.startup && MathJax.startup.promise")
            tab.evaluate("() => MathJax.startup.promise")
        text = tab.evaluate(VISIBLE_TEXT_JS)
        raw = RAW_TEX.findall(text)
        assert not raw, f"{relative(page)}: unrendered TeX {raw[:5]}"
        assert tab.evaluate("() => document.querySelectorAll('mjx-merror').length") == 0
        broken = tab.evaluate("""() => [...document.images]
            .filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)""")
        assert not broken, f"{relative(page)}: images that did not load: {broken}"
        no_alt = tab.evaluate("""() => [...document.querySelectorAll('main img')]
            .filter(i => !i.alt || i.alt.includes('_images/')).map(i => i.src)""")
        assert not no_alt, f"{relative(page)}: images without alt text: {no_alt}"
        outputs = tab.evaluate("""() => [...document.querySelectorAll('.cell_output')]
            .map(e => e.innerText)""")
        bad = [o[:200] for o in outputs if BAD_OUTPUT.search(o)]
        assert not bad, f"{relative(page)}: error or warning text in cell output: {bad}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SHOTS / (relative(page).replace("/", "_") + ".png")),
                       full_page=False)   # the first screen: a full page costs seconds
        if page.parent.name == "chapters" and page.stem in EXPLORERS:
            _move_the_offline_explorer(tab, page)
    context.close()
    assert not outside, f"{relative(page)}: requests outside the site: {outside}"
    assert not console_errors, f"{relative(page)}: JavaScript errors: {console_errors}"


def _anchors(html: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html))


def test_internal_links_resolve():
    missing = []
    anchors: dict[Path, set[str]] = {}      # a page's ids, read once (pages are large)
    for page in pages():
        for href in re.findall(r'\bhref="([^"]+)"', page.read_text(encoding="utf-8")):
            parts = urlsplit(href)
            if parts.scheme or href.startswith("//") or href.startswith("mailto:"):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                missing.append(f"{relative(page)} -> {href}")
                continue
            if parts.fragment and target.suffix == ".html":
                if target not in anchors:
                    anchors[target] = _anchors(target.read_text(encoding="utf-8"))
                if unquote(parts.fragment) not in anchors[target]:
                    missing.append(f"{relative(page)} -> {href} (no such anchor)")
    assert not missing, "broken internal links:\n" + "\n".join(missing)


def test_no_page_references_an_outside_script_or_stylesheet():
    offenders = []
    for page in pages():
        html = page.read_text(encoding="utf-8")
        for url in re.findall(r'<(?:script|link)[^>]+(?:src|href)="((?:https?:)?//[^"]+)"', html):
            offenders.append(f"{relative(page)}: {url}")
    assert not offenders, "\n".join(offenders)


#: The offline explorers' budget (issue: ≤ 3 MB of images per explorer).
EXPLORER_BYTES = 3_000_000


def test_every_explorer_is_drawn_offline_within_its_budget():
    pages()   # fails with the explanation when there is no book
    for name in EXPLORERS:
        folder = SITE / "_explorers" / name
        images = sorted(folder.glob("*.png"))
        assert images, f"no offline images for the {name} explorer in {folder}"
        size = sum(p.stat().st_size for p in images)
        assert size <= EXPLORER_BYTES, f"{name}: {size / 1e6:.1f} MB of images"
        html = (SITE / "chapters" / f"{name}.html").read_text(encoding="utf-8")
        assert html.count('class="adamref-explorer"') == 1, f"{name}.html: not one explorer"


MOVE_FIRST_CONTROL_JS = """(explorer) => {
  const input = explorer.querySelector('input[type=range]:not([disabled])');
  input.value = (+input.value + 1 <= +input.max) ? +input.value + 1 : +input.value - 1;
  input.dispatchEvent(new Event('input'));
}"""


def _move_the_offline_explorer(tab, page: Path) -> None:
    """A chapter with an explorer shows it offline: moving a control swaps the
    image for another one that loads, and its value is shown."""
    assert tab.locator(".adamref-explorer").count() == 1, f"{relative(page)}: no offline explorer"
    explorer = tab.locator(".adamref-explorer").first
    image = explorer.locator("img")
    first = image.get_attribute("src")
    assert tab.evaluate("(i) => i.complete && i.naturalWidth > 0", image.element_handle())
    explorer.evaluate(MOVE_FIRST_CONTROL_JS)
    tab.wait_for_function(
        "([e, old]) => { const i = e.querySelector('img'); return i.getAttribute('src') !== old"
        " && i.complete && i.naturalWidth > 0; }", arg=[explorer.element_handle(), first])
    readout = explorer.locator("output").first.inner_text()
    assert readout.strip(), f"{relative(page)}: the moved control shows no value"
