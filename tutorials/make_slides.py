"""Copies of the notebooks marked up as slides, for `make slides` to convert.

    python tutorials/make_slides.py OUT_FOLDER NOTEBOOK...

The notebooks carry no slide marks (they are read as notebooks first), so each copy gets
them here: a markdown cell that opens with a heading starts a new slide, and every other
cell is a sub-slide below it, small enough to fit a projector's screen. Cells a student
only needs at a desk (set-up, checks of exercises) stay in, so a deck runs as the
notebook does.
"""

import json
import sys
from pathlib import Path


def marked(notebook: dict) -> dict:
    """The notebook with a slide type on every cell."""
    for cell in notebook["cells"]:
        text = "".join(cell["source"]).lstrip()
        starts = cell["cell_type"] == "markdown" and text.startswith("#")
        cell.setdefault("metadata", {})["slideshow"] = {
            "slide_type": "slide" if starts else "subslide"
        }
    return notebook


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name in sys.argv[2:]:
        path = Path(name)
        copy = marked(json.loads(path.read_text()))
        (out / path.name).write_text(json.dumps(copy, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
