"""Alt text for figures drawn by notebook cells.

myst-nb gives a cell's PNG output its file name as alt text.  Every chapter
follows a figure cell with a caption paragraph ("*Figure: ...*"), so this uses
that caption as the image's alt text: screen readers read the caption, and a
figure that fails to load still says what it showed.
"""

from docutils import nodes

CAPTION_PREFIX = "Figure"
MAX_LENGTH = 300


def _is_cell(node) -> bool:
    return isinstance(node, nodes.container) and "cell" in node.get("classes", [])


def _caption_after(cell) -> str | None:
    """The first paragraph after ``cell`` if it is a figure caption; cells in
    between are skipped unless they draw a figure of their own."""
    parent = cell.parent
    for sibling in parent.children[parent.index(cell) + 1:]:
        if _is_cell(sibling):
            if any(True for _ in sibling.findall(nodes.image)):
                return None
            continue
        paragraphs = [sibling] if isinstance(sibling, nodes.paragraph) else \
            list(sibling.findall(nodes.paragraph))
        if paragraphs:
            text = paragraphs[0].astext().strip()
            return text if text.startswith(CAPTION_PREFIX) else None
    return None


def _set_alt_text(app, doctree, docname):
    for image in doctree.findall(nodes.image):
        if image.get("alt") and image["alt"] != image.get("uri"):
            continue
        cell = image.parent
        while cell is not None and not _is_cell(cell):
            cell = cell.parent
        caption = _caption_after(cell) if cell is not None else None
        if caption:
            image["alt"] = caption if len(caption) <= MAX_LENGTH else \
                caption[:MAX_LENGTH - 1].rstrip() + "…"


def setup(app):
    app.connect("doctree-resolved", _set_alt_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

