"""A notebook cell's outputs as a learner sees them in JupyterLab at 1280x800 with the file browser open (stdlib
only). Used by tests/test_lessons.py on the solutions' stored outputs, and by the repository's conftest.py on
the outputs of every cell nbval runs (the lessons the browser tests do not open, and the solutions)."""
import base64
import re
import struct

# A code cell's output area is 848 px wide (measured by tests/test_browser.py, which also fails on a figure it shows
# shrunk), and about 107 characters of printed text fit a line.
FIGURE_WIDTH = 840
PRINT_WIDTH = 100


def png_width(data):
    """The width in pixels of a base64-encoded PNG (from its IHDR chunk)."""
    png = base64.b64decode(data)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">I", png[16:20])[0]


def printed_text(output):
    """What is shown as text: a stream, or text/plain (also the plain side of a check's HTML box, which a terminal,
    nbval and other notebook front ends show), but not a figure's "<Figure size ...>"."""
    if output.get("output_type") == "stream":
        text = output.get("text", "")
    else:
        data = output.get("data", {})
        text = data.get("text/plain", "") if "image/png" not in data else ""
    return "".join(text) if isinstance(text, list) else text


def output_problems(output):
    """What is wrong with one output of a notebook cell (nbformat's dict) as a learner would see it in JupyterLab:
    a list of sentences, empty when nothing is."""
    if output.get("output_type") == "error":
        return [f"error output: {output.get('ename')}: {output.get('evalue')}"[:300]]
    text, found = printed_text(output), []
    if "Traceback (most recent call last)" in text or re.search(r"\w+Error: ", text) and output.get("name") == "stderr":
        found.append(f"a traceback or an error printed: {text[:300]}")
    if "IProgress not found" in text:
        found.append('the tqdm warning "IProgress not found" (ipywidgets missing from the kernel)')
    found += [f"a printed line of {len(line)} characters, which JupyterLab wraps: {line[:80]}"
              for line in text.splitlines() if len(line) > PRINT_WIDTH]
    if "image/png" in output.get("data", {}):
        width = png_width(output["data"]["image/png"])
        if width > FIGURE_WIDTH:
            found.append(f"a figure {width} px wide, which JupyterLab shrinks to fit {FIGURE_WIDTH} px")
    return found
