"""How a check's verdict and a fallback label are shown: an HTML box in Jupyter, plain text everywhere else.

Each is published as one display bundle holding both ``text/plain`` and ``text/html``: JupyterLab renders the
HTML (a compact coloured box that wraps at word boundaries), while nbval, ``tinygrad-lite check`` and a terminal
read the plain text. Outside an IPython kernel the plain text is printed.

The HTML contract (a browser test relies on it): a verdict's root element is
``<div class="tgl-check tgl-passed">`` (``tgl-passed`` | ``tgl-failed`` | ``tgl-not-attempted`` | ``tgl-error``)
and a fallback label is ``<div class="tgl-fallback">``. Styles are inline, so the box looks the same in
JupyterLab, Notebook and exported HTML, light theme or dark.
"""
import html
import re
import sys

PASSED, FAILED, NOT_ATTEMPTED, ERROR = "passed", "failed", "not attempted", "error"
SYMBOL = {PASSED: "✔", FAILED: "✘", NOT_ATTEMPTED: "…", ERROR: "✘"}

#                 (css class,           accent,    background)
_STYLE = {PASSED: ("tgl-passed", "#2e7d32", "rgba(46, 125, 50, 0.09)"),
          FAILED: ("tgl-failed", "#c62828", "rgba(198, 40, 40, 0.08)"),
          NOT_ATTEMPTED: ("tgl-not-attempted", "#546e7a", "rgba(84, 110, 122, 0.09)"),
          ERROR: ("tgl-error", "#e65100", "rgba(230, 81, 0, 0.09)")}
_WRAP = "white-space: pre-wrap; overflow-wrap: normal; word-break: normal"
_FONT = "font-family: var(--jp-content-font-family, system-ui, sans-serif); font-size: 13px; line-height: 1.45"
_CODE = "font-family: var(--jp-code-font-family, monospace); font-size: 12.5px"


def _esc(text):
    """Escaped text, with `backticked` words set in the code font."""
    return re.sub(r"`([^`\n]+)`", rf'<code style="{_CODE}">\1</code>', html.escape(text, quote=False))


def result_html(status, title, details=(), hints=()):
    """The HTML box of a verdict: the headline (``00.relu: failed on ...``), the detail lines (shapes, numbers, a
    traceback: in a code font), and the hints, each on its own line."""
    css, accent, background = _STYLE[status]
    exercise, _, rest = title.partition(": ")
    parts = [f'<div class="tgl-check {css}" style="border-left: 4px solid {accent}; background: {background}; '
             f'padding: 6px 10px; margin: 4px 0; border-radius: 3px; max-width: 100ch; {_FONT}; {_WRAP}">',
             f'<div class="tgl-title" style="{_WRAP}"><span style="color: {accent}; font-weight: bold">'
             f'{SYMBOL[status]} {_esc(exercise)}</span>: {_esc(rest)}</div>']
    for line in details:  # a traceback (an error's first detail) in the code font, explanations in the text font
        font = _CODE if status == ERROR and line is details[0] else ""
        parts.append(f'<div class="tgl-detail" style="{font}; {_WRAP}; margin: 3px 0 0 1.2em">{_esc(line)}</div>')
    for label, hint in hint_lines(hints):
        parts.append(f'<div class="tgl-hint" style="{_WRAP}; margin: 4px 0 0 1.2em"><b>{label}:</b> '
                     f"{_esc(hint)}</div>")
    parts.append("</div>")
    return "".join(parts)


def hint_lines(hints):
    """``[(label, hint)]``: the first hint is the "Hint", a more concrete one (shown when a mistake comes back)
    is "More"."""
    return [("Hint" if i == 0 else "More", hint) for i, hint in enumerate(hints)]


def result_text(status, title, details=(), hints=()):
    """The plain text of a verdict: ``✘ 00.relu: failed on ...``, then the indented details and hints."""
    lines = [f"{title}"] + ["  " + line.replace("\n", "\n  ") for line in details]
    lines += [f"  {label}: {hint}" for label, hint in hint_lines(hints)]
    return "\n".join(lines)


def fallback_html(text):
    return (f'<div class="tgl-fallback" style="border-left: 4px solid #8d6e63; background: rgba(141, 110, 99, 0.1); '
            f'padding: 3px 10px; margin: 2px 0; border-radius: 3px; max-width: 100ch; {_FONT}; {_WRAP}">'
            f"↪ {_esc(text)}</div>")


def shell():
    """The running IPython shell (a kernel's, or a terminal IPython's), or None. IPython is not imported for this:
    where no module imported it, no shell is running."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def in_kernel():
    """True inside a running IPython kernel (JupyterLab, nbclient, nbval), False in a terminal or a script."""
    running = shell()
    return running is not None and getattr(running, "kernel", None) is not None


def publish(text, html_text):
    """Show one bundle with both representations in a kernel; print the text anywhere else."""
    if in_kernel():
        from IPython.display import display
        display({"text/plain": text, "text/html": html_text}, raw=True)
    else:
        print(text, flush=True)


def execution_count():
    """The number of the cell running now in an IPython kernel (None outside one)."""
    return getattr(shell(), "execution_count", None)
