"""Drop repeated <script>/<link> entries from each page.

With Sphinx 7.4, sphinx-thebe and sphinx-togglebutton register their inline
configuration scripts twice under Jupyter Book 1, so every page declared
``const THEBE_JS_URL`` twice: a JavaScript SyntaxError on every page load.
Keeping the first of identical entries fixes it without touching the theme.
"""


def _key(asset):
    """What the rendered tag depends on: Sphinx drops None-valued attributes
    when it writes the tag, so two entries that differ only there are one tag."""
    attributes = getattr(asset, "attributes", {}) or {}
    return (getattr(asset, "filename", None) or None,
            tuple(sorted((k, str(v)) for k, v in attributes.items() if v is not None)))


def _dedupe(app, pagename, templatename, context, doctree):
    for name in ("script_files", "css_files"):
        assets = context.get(name)
        if not assets:
            continue
        seen, unique = set(), []
        for asset in assets:
            key = _key(asset)
            if key not in seen:
                seen.add(key)
                unique.append(asset)
        assets[:] = unique   # in place: later handlers append to this very list


def setup(app):
    # Run after the extensions that add assets in html-page-context.
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

