"""What the notebooks share: the fast mode CI runs them in, and inline video.

Notebooks run top to bottom in CI (`VASA_FAST=1` or `CI` set) with small sizes and few
steps, and in full mode for a student. Each notebook picks its sizes with `pick(fast, full)`
so the two modes run the same code.
"""

from __future__ import annotations

import os
from pathlib import Path

_OFF = {"", "0", "false", "no", "off"}


def fast_mode() -> bool:
    """True when `VASA_FAST` or `CI` is set to anything but an off value."""
    return any(os.environ.get(name, "").strip().lower() not in _OFF for name in ("VASA_FAST", "CI"))


FAST = fast_mode()


def pick(fast: object, full: object) -> object:
    """`fast` in fast mode, `full` otherwise."""
    return fast if FAST else full


def show_video(path: str | Path, width: int = 384):
    """A video player for a notebook cell. Embedded, so the notebook keeps it when saved;
    in fast mode it is linked instead, so CI outputs stay small."""
    from IPython.display import Video

    if FAST:
        return Video(str(path), width=width)
    return Video(str(path), embed=True, width=width, html_attributes="controls")


# ---------------------------------------------------------------- exercise checks
#
# An answer cell ships with a placeholder (`...`, or a function whose body is `...`), never
# the solution; the solutions are in tutorials/solutions.md for the lecturer. A check cell
# calls `check(title, test, *answers)`:
#
# - an answer still `...` (or a function that returns nothing): it prints "not answered
#   yet" and returns False, so a notebook with no answers runs top to bottom (that is how
#   CI runs them);
# - a wrong answer: it raises `WrongAnswer` with what is wrong and a hint, never the answer;
# - an answer that crashes: `WrongAnswer` too, naming the error, not a bare traceback;
# - a right answer: it prints "correct" (and what the test returns) and returns True.
#
# Tests compare against values the kit computes on the same inputs, or against a digest
# (`digest`), so a check cell neither contains nor prints the expected answer.


class WrongAnswer(AssertionError):
    """An exercise's answer is wrong; the message says what is wrong and gives a hint."""


class NotAnswered(Exception):
    """Raised inside a test when the student's code returned the placeholder."""


def unanswered(value: object) -> bool:
    """True for the placeholder (`...`) and for None (what a function with a `...` body
    returns)."""
    return value is Ellipsis or value is None


def answer_of(value):
    """`value`, or NotAnswered when it is the placeholder: wrap what a student's function
    returns with it inside a test."""
    if unanswered(value):
        raise NotAnswered
    return value


def expect(condition: object, message: str) -> None:
    """Inside a test: raise WrongAnswer(message) unless `condition` holds."""
    if not condition:
        raise WrongAnswer(message)


def _normal(value: object) -> object:
    """A canonical form for digests: floats to 6 decimals, sets sorted, numpy to lists."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return round(float(value), 6) + 0.0
    if isinstance(value, set | frozenset):
        return sorted((_normal(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in sorted(value.items())}
    if hasattr(value, "__dataclass_fields__"):
        return {name: _normal(getattr(value, name)) for name in value.__dataclass_fields__}
    return repr(value)


def digest(value: object) -> str:
    """A short hash of an answer: lets a check compare without containing the answer."""
    import hashlib
    import json

    text = json.dumps(_normal(value), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check(title: str, test, *answers: object) -> bool:
    """Run `test(*answers)` as the check of exercise `title` (see the notes above)."""
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    if any(unanswered(answer) for answer in answers):
        print(f"{title}: not answered yet. Replace the `...` in the answer cell, then run this.")
        return False
    try:
        note = test(*answers)
    except NotAnswered:
        print(f"{title}: not answered yet (your code still returns the placeholder).")
        return False
    except WrongAnswer as wrong:
        raise WrongAnswer(f"{title}: {wrong}") from None
    except Exception as error:  # the student's code crashed: say so in one line
        raise WrongAnswer(f"{title}: your answer raised {type(error).__name__}: {error}") from error
    print(f"{title}: correct." + (f" {note}" if note else ""))
    return True


# ---------------------------------------------------------------- widgets with a fallback


def _png(picture) -> bytes:
    """PNG bytes of a matplotlib figure, a PIL image or an [H, W(, 3)] uint8 array."""
    import io

    buffer = io.BytesIO()
    if hasattr(picture, "savefig"):
        picture.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    else:
        import numpy as np
        from PIL import Image

        image = picture if hasattr(picture, "save") else Image.fromarray(np.asarray(picture))
        image.save(buffer, format="png")
    return buffer.getvalue()


class InteractiveFigure:
    """Controls (an ipywidgets widget) above a picture that the controls' callbacks redraw
    with `update`. The picture is an ordinary output, updated in place, not part of the
    widget: a saved or exported copy with no widget state (an HTML or PDF handout, GitHub's
    viewer) still shows the last picture, and never `VBox(...)`."""

    def __init__(self, controls, picture) -> None:
        from IPython.display import display

        bundle = dict(controls._repr_mimebundle_())
        bundle["text/plain"] = "[controls: run the notebook to use them]"
        display(bundle, raw=True)
        self.handle = display(self._image(picture), display_id=True)

    @staticmethod
    def _image(picture):
        from IPython.display import Image

        return Image(data=_png(picture))

    def update(self, picture) -> None:
        """Show `picture` (a matplotlib figure, a PIL image or a uint8 array) instead; a
        figure is closed afterwards, so it is not drawn a second time."""
        image = self._image(picture)
        if hasattr(picture, "savefig"):
            import matplotlib.pyplot as plt

            plt.close(picture)
        if self.handle is not None:
            self.handle.update(image)
