"""The notebooks as a learner meets them: a real JupyterLab (with
jupyterlab-myst) on 127.0.0.1, driven by headless Chromium.

For every notebook: before anything runs, the markdown shows no raw MyST
(``{eval}``, ``{eq}``, ``{ref}``, ``{cite}``, directives) and its numbers come
from the stored ``{eval}`` values; *Run All* finishes without an error output,
and the markdown then reads exactly as before (the stored numbers, which the
HTML book also shows, are the ones a fresh run computes).  For every notebook
with an explorer, moving one control of the explorer then shows a new image.

JupyterLab serves a copy of ``chapters/`` (it autosaves what it runs), with
its own settings and workspace folders.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
NOTEBOOKS = sorted(p.name for p in CHAPTERS.glob("*.ipynb"))
EXPLORED = [name for name in NOTEBOOKS
            if any("explorer" in cell.get("metadata", {}).get("tags", [])
                   for cell in json.loads((CHAPTERS / name).read_text())["cells"])]

#: MyST that must not survive rendering: roles, and directive fences.
RAW_MYST = re.compile(r"\{(eval|glue|glue:text|eq|ref|numref|cite|cite:t|cite:p|doc)\}`"
                      r"|```\{|^:label:", re.M)

#: Settings for the test's JupyterLab: every cell in the DOM (no windowing, so
#: the explorer is there to find) and no news or update pop-ups.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}

MARKDOWN_CELLS_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-MarkdownCell'))
  .map(cell => Array.from(cell.querySelectorAll('.jp-RenderedMarkdown, .myst'))
                    .map(e => e.innerText).join('\\n'))"""
MARKDOWN_TEXT_JS = "() => (" + MARKDOWN_CELLS_JS + ")().join('\\n')"

#: Values measured with the clock (timings, bandwidths) are named ``prose.clock_*``:
#: a fresh run measures them anew, so they are not compared with the stored ones.
CLOCK = "prose.clock_"

#: Where jupyterlab-myst keeps a markdown cell's {eval} values (and the
#: notebook stores them), and the notebook's markdown cell models.
STORED = "user_expressions"
MARKDOWN_MODELS_JS = ("window.jupyterapp.shell.currentWidget.content.widgets"
                      ".filter(c => c.model.type === 'markdown').map(c => c.model)")
EVALUATED_JS = f"() => {MARKDOWN_MODELS_JS}.map(m => m.getMetadata('{STORED}') !== undefined)"

PROMPTS_JS = """() => Array.from(document.querySelectorAll(
    '.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')).map(e => e.textContent.trim())"""

ERRORS_JS = """() => Array.from(document.querySelectorAll(
    '.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"],'
  + ' .jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'))
  .map(e => e.innerText.slice(0, 300))"""

pytestmark = pytest.mark.lab


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="class")
def lab(tmp_path_factory):
    """``(base url, token)`` of a JupyterLab serving a copy of the chapters."""
    pytest.importorskip("jupyterlab")
    pytest.importorskip("jupyterlab_myst")
    home = tmp_path_factory.mktemp("jupyterlab")
    served = home / "chapters"
    shutil.copytree(CHAPTERS, served)
    shutil.copy(ROOT / "references.bib", home / "references.bib")
    settings = home / "settings"
    for name, values in SETTINGS.items():
        path = settings / name.split("/", 1)[0] / name.split("/", 1)[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = _free_port(), os.urandom(8).hex()
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "PYTHONPATH": str(ROOT), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={served}", "--ServerApp.open_browser=False",
               # window.jupyterapp: open and close notebooks in one loaded page
               "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")       # containers run as root
    log = open(home / "jupyterlab.log", "w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"JupyterLab did not start: {(home / 'jupyterlab.log').read_text()}")
            time.sleep(0.3)
    yield base, token
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="class")
def lab_page(browser, lab):
    """One JupyterLab page per class: its notebooks open and close in it."""
    base, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/lab?reset&token={token}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started", timeout=90_000)
    page.evaluate("() => window.jupyterapp.started")
    yield page
    page.close()


def _wait_for(page, script: str, done, timeout_s: float):
    """Evaluate ``script`` until ``done(value)`` holds or ``timeout_s`` pass; the
    last value either way (the caller's assertions then say what is wrong).
    jupyterlab-myst renders and re-renders asynchronously, slowly under load."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(script)
        if done(value) or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(500)


def _open(page, notebook: str):
    page.evaluate("(path) => { window.jupyterapp.commands.execute('docmanager:open', {path}); }",
                  notebook)
    page.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=60_000)
    stored, visible = _stored_values(notebook), _visible_cells(notebook)

    def rendered(cells):
        text = "\n".join(cells)
        return (len(cells) == len(visible) and all(c.strip() for c, v in zip(cells, visible) if v)
                and not _raw_myst(text) and not _missing(stored, text)
                and page.locator(".jp-MarkdownCell .katex").count() > 0)

    _wait_for(page, MARKDOWN_CELLS_JS, done=rendered, timeout_s=180)
    return page


def _markdown_cells(notebook: str) -> list[dict]:
    """The notebook's markdown cells, in order (the DOM's .jp-MarkdownCell order)."""
    return [c for c in json.loads((CHAPTERS / notebook).read_text())["cells"]
            if c["cell_type"] == "markdown"]


def _visible_cells(notebook: str) -> list[bool]:
    """For each markdown cell, whether it renders any text (a ``{solution-end}``
    fence renders none)."""
    return [not re.fullmatch(r"```\{solution-end\}\s*```", "".join(c["source"]).strip())
            for c in _markdown_cells(notebook)]


def _evaluated(notebook: str) -> list[bool]:
    """For each markdown cell, whether it has {eval} values (stored, or after
    Run All evaluated anew)."""
    return [bool(c["metadata"].get(STORED)) for c in _markdown_cells(notebook)]


def _missing(values: list[str], text: str) -> list[str]:
    """The values not shown in ``text`` (whitespace-insensitive)."""
    flat = " ".join(text.split())
    return [v for v in values if " ".join(v.split()) not in flat]


def _close(page) -> None:
    """Close the notebook and shut its kernel down (no dialog: nothing is saved)."""
    page.evaluate("""async () => {
        const app = window.jupyterapp;
        const panel = app.shell.currentWidget;
        if (!panel) return;
        panel.context.model.dirty = false;
        if (panel.sessionContext) await panel.sessionContext.shutdown();
        panel.dispose();
    }""")
    page.wait_for_function("() => !document.querySelector('.jp-Notebook')", timeout=30_000)


def _stored_values(notebook: str) -> list[str]:
    """The text of every stored {eval} value of the notebook (quotes of strings
    stripped, as both renderers do)."""
    values = []
    for cell in _markdown_cells(notebook):
        for entry in cell["metadata"].get(STORED, []):
            text = entry["result"].get("data", {}).get("text/plain", "")
            values.append(text[1:-1] if text[:1] == text[-1:] and text[:1] in "'\"" else text)
    return values


def _clocked_cells(notebook: str) -> set[int]:
    """Indices (among the markdown cells) of the cells that quote a clock value."""
    return {i for i, cell in enumerate(_markdown_cells(notebook))
            if any(e["expression"].startswith(CLOCK) for e in cell["metadata"].get(STORED, []))}


def _raw_myst(text: str) -> list[str]:
    return sorted({m.group(0) for m in RAW_MYST.finditer(text)})


def _run_all(page, notebook: str, timeout_s: float = 180) -> None:
    # Under load the kernel may still be starting: a Run All sent before it is
    # ready is dropped, so wait for the session and the kernel's info reply.
    page.evaluate("""async () => {
        const panel = window.jupyterapp.shell.currentWidget;
        await panel.context.ready;
        await panel.sessionContext.ready;
        await panel.sessionContext.session.kernel.info;
    }""")
    # Forget the stored values, so that what the markdown shows after the run
    # can only be what the run evaluated (see _evaluated).
    page.evaluate(f"() => {{ {MARKDOWN_MODELS_JS}.forEach(m => m.deleteMetadata('{STORED}')); }}")
    # what Run > Run All Cells does
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        prompts = page.evaluate(PROMPTS_JS)
        if prompts and all(re.fullmatch(r"\[\d+\]:", p) for p in prompts):
            return
        page.wait_for_timeout(500)
    pytest.fail(f"{notebook}: Run All did not finish in {timeout_s:.0f} s: {prompts}")


def _image_source(page) -> str:
    image = page.locator(".jp-Notebook img.widget-image").first
    image.wait_for(state="attached", timeout=30_000)
    return image.get_attribute("src") or ""


def _move_one_control(page) -> None:
    explorer = page.locator(".jp-Notebook .widget-vbox").filter(
        has=page.locator("img.widget-image")).first
    handle = explorer.locator(".noUi-handle").first
    if handle.count():
        handle.focus()
        page.keyboard.press("ArrowRight")
        return
    explorer.locator("select, input[type=checkbox]").first.click()


def check_notebook(lab_page, notebook):
    """What a learner meets in ``notebook``: see the module docstring."""
    page = _open(lab_page, notebook)
    try:
        before = page.evaluate(MARKDOWN_TEXT_JS)
        cells_before = page.evaluate(MARKDOWN_CELLS_JS)
        assert before.strip(), f"{notebook}: no rendered markdown"
        assert not _raw_myst(before), f"{notebook}: raw MyST visible: {_raw_myst(before)}"
        # jupyterlab-myst typesets math with KaTeX
        assert page.locator(".jp-MarkdownCell .katex").count() > 0, f"{notebook}: no math"
        missing = _missing(_stored_values(notebook), before)
        assert not missing, f"{notebook}: stored {{eval}} values not shown: {missing[:5]}"
        _run_all(page, notebook)
        errors = page.evaluate(ERRORS_JS)
        assert not errors, f"{notebook}: error output after Run All: {errors}"
        clocked = _clocked_cells(notebook)

        def changed_cells(cells_after):
            return [i for i, (a, b) in enumerate(zip(cells_before, cells_after))
                    if a != b and i not in clocked]

        # Run All evaluates every markdown cell's roles anew, then re-renders it
        evaluated = _wait_for(page, EVALUATED_JS, done=lambda e: e == _evaluated(notebook),
                              timeout_s=60)
        assert evaluated == _evaluated(notebook), f"{notebook}: roles not evaluated by Run All"
        cells_after = _wait_for(page, MARKDOWN_CELLS_JS, timeout_s=60, done=lambda cells: (
            len(cells) == len(cells_before) and not changed_cells(cells)))
        after = "\n".join(cells_after)
        assert not _raw_myst(after), f"{notebook}: raw MyST after Run All: {_raw_myst(after)}"
        assert len(cells_after) == len(cells_before)
        changed = changed_cells(cells_after)
        assert not changed, (
            f"{notebook}: markdown cells {changed} show stored {{eval}} values that differ "
            "from a fresh run (re-store with tools/store_outputs.py); the first one before:\n"
            f"{cells_before[changed[0]][:600]}\nafter:\n{cells_after[changed[0]][:600]}")
        if notebook not in EXPLORED:
            return
        first = _image_source(page)
        assert first, f"{notebook}: the explorer shows no image"
        _move_one_control(page)
        page.wait_for_function(
            "([old]) => { const i = document.querySelector('.jp-Notebook img.widget-image');"
            " return i && i.src && i.src !== old && i.complete && i.naturalWidth > 0; }",
            arg=[first], timeout=30_000)
        assert not page.evaluate(ERRORS_JS), f"{notebook}: error after moving a control"
    finally:
        _close(page)


# Two halves, each with its own JupyterLab: pytest-xdist's --dist loadscope gives
# each class to one worker, so the halves run side by side on the two cores.
class TestFirstHalf:
    @pytest.mark.parametrize("notebook", NOTEBOOKS[0::2])
    def test_notebook_as_a_learner_meets_it(self, lab_page, notebook):
        check_notebook(lab_page, notebook)


class TestSecondHalf:
    @pytest.mark.parametrize("notebook", NOTEBOOKS[1::2])
    def test_notebook_as_a_learner_meets_it(self, lab_page, notebook):
        check_notebook(lab_page, notebook)
