"""The lecturer's solutions work: every notebook, run in fast mode with each answer cell
replaced by its solution from tutorials/solutions.md, says "correct" for every exercise.

CI runs the notebooks as they ship (every answer still `...`, so each check says "not
answered yet"); this is the other half, that the checks accept the solutions a lecturer
hands out and that those solutions still fit the notebooks' code.
"""

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "tutorials" / "solutions.md"


def solutions() -> dict[str, list[str]]:
    """Notebook name -> its solutions' code, in the order of its exercises."""
    sections = re.split(r"^## ", SOLUTIONS.read_text(), flags=re.M)[1:]
    return {
        section.splitlines()[0].strip(): re.findall(r"```python\n(.*?)```", section, flags=re.S)
        for section in sections
    }


def answer_cells(notebook) -> list:
    """The cells a student fills in: those marked "your turn"."""
    return [c for c in notebook.cells if c.cell_type == "code" and "your turn" in c.source]


@pytest.mark.parametrize("name", sorted(solutions()))
def test_the_solutions_pass_every_check(name, monkeypatch):
    monkeypatch.setenv("VASA_FAST", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    path = ROOT / "notebooks" / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    cells, answers = answer_cells(notebook), solutions()[name]
    assert len(cells) == len(answers), f"{name}: {len(cells)} exercises, {len(answers)} solutions"
    for cell, answer in zip(cells, answers, strict=True):
        cell.source = answer
    NotebookClient(
        notebook, timeout=600, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    )
    assert "not answered yet" not in printed, printed
    assert printed.count(": correct.") == len(answers), printed
