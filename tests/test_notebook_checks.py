"""The notebooks' exercise checks: a placeholder says "not answered yet", a wrong answer
fails with a message that does not contain the answer, a right one passes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vasa_core import exercises
from vasa_core.motion import diffusion
from vasa_core.notebook import (
    NotAnswered,
    WrongAnswer,
    answer_of,
    check,
    digest,
    expect,
    unanswered,
)


def equals_two(value):
    expect(value == 2, "not the number of eyes (hint: count them)")
    return "two it is"


def test_placeholder_is_not_answered_yet(capsys):
    assert unanswered(...) and unanswered(None) and not unanswered(0)
    assert check("Exercise 1", equals_two, ...) is False
    assert "not answered yet" in capsys.readouterr().out


def test_function_returning_the_placeholder_is_not_answered_yet(capsys):
    def my_function(x): ...

    assert check("Exercise 2", lambda f: answer_of(f(1)), my_function) is False
    assert "not answered yet" in capsys.readouterr().out
    with pytest.raises(NotAnswered):
        answer_of(None)


def test_right_answer_passes(capsys):
    assert check("Exercise 1", equals_two, 2) is True
    assert "correct. two it is" in capsys.readouterr().out


def test_wrong_answer_names_the_exercise_and_hints_without_the_answer():
    with pytest.raises(WrongAnswer, match=r"^Exercise 1: not the number of eyes") as info:
        check("Exercise 1", equals_two, 3)
    assert "2" not in str(info.value)


def test_a_crashing_answer_is_a_message_not_a_bare_error():
    with pytest.raises(WrongAnswer, match="your answer raised TypeError"):
        check("Exercise 1", lambda f: f(1), lambda x: x + "a")


def test_digest_is_stable_and_canonical():
    assert digest({"yaw", "roll"}) == digest({"roll", "yaw"})
    assert digest(1) == digest(1.0) == digest(np.float32(1.0))
    assert digest("up") != digest("down")
    assert len(digest("up")) == 16 and "up" not in digest("up")


# ------------------------------------------------------------ from-scratch exercises


def ddim_right(x_t, x0, t, t_next):
    a, a_next = diffusion.alpha_bar(t), diffusion.alpha_bar(t_next)
    eps = (x_t - a.sqrt() * x0) / (1 - a).sqrt()
    return a_next.sqrt() * x0 + (1 - a_next).sqrt() * eps


def ddim_swapped_times(x_t, x0, t, t_next):
    return ddim_right(x_t, x0, t_next, t)


def ddim_no_noise(x_t, x0, t, t_next):
    return diffusion.alpha_bar(t_next).sqrt() * x0


def test_ddim_step():
    assert check("DDIM", exercises.ddim_step, ddim_right)
    for wrong in (ddim_swapped_times, ddim_no_noise, lambda x_t, x0, t, t_next: x_t):
        with pytest.raises(WrongAnswer, match="differs from the library's"):
            check("DDIM", exercises.ddim_step, wrong)


def guide_right(h_all, h_without, weights):
    total = sum(weights.values())
    return (1 + total) * h_all - sum(w * h_without[c] for c, w in weights.items())


def guide_sign_flipped(h_all, h_without, weights):
    return h_all - sum(w * (h_all - h_without[c]) for c, w in weights.items())


def guide_one_weight(h_all, h_without, weights):
    (first, w), *_ = weights.items()
    return (1 + w) * h_all - w * h_without[first]


def test_guidance():
    assert check("Guidance", exercises.guidance, guide_right)
    for wrong in (guide_sign_flipped, guide_one_weight, lambda h, w_, w: h):
        with pytest.raises(WrongAnswer, match="differs from the library's"):
            check("Guidance", exercises.guidance, wrong)


def affine_right(target, source):
    t = np.c_[target, np.ones(3)]  # [3, 3]: rows (x, y, 1)
    return np.linalg.solve(t, source).T  # M [2, 3] with source = M @ (x, y, 1)


def affine_forward(target, source):
    return affine_right(source, target)


@pytest.fixture(scope="module")
def renderer_and_motion():
    from vasa_core import examples, schema
    from vasa_core.face import analyze
    from vasa_core.render import Renderer

    face = analyze(examples.load("grace_hopper"), name="grace_hopper")
    motion = face.motion.copy()
    motion[schema.index("yaw")] += 15.0
    motion[schema.index("jaw_open")] = 0.6
    return Renderer(face, size=256), motion


def test_triangle_affine(renderer_and_motion):
    renderer, motion = renderer_and_motion
    assert check("Warp", exercises.triangle_affine, affine_right, renderer, motion)
    with pytest.raises(WrongAnswer, match="target corners to the source corners"):
        check("Warp", exercises.triangle_affine, affine_forward, renderer, motion)
    with pytest.raises(WrongAnswer, match="shape"):
        check("Warp", exercises.triangle_affine, lambda t, s: np.eye(3), renderer, motion)
    with pytest.raises(WrongAnswer, match="your answer raised"):
        check("Warp", exercises.triangle_affine, lambda t, s: t @ s, renderer, motion)


def test_checks_accept_torch_answers():
    assert check(
        "Warp-free", lambda f: expect(torch.is_tensor(f()), "not a tensor"), lambda: torch.ones(1)
    )


def denoising_loss(model, batch, t, noise):
    """The exercise's loss: every condition kept, only the valid frames counted."""
    keep = torch.ones(len(t), dtype=torch.bool)
    pred = model(
        diffusion.noisy(batch["x0"], t, noise),
        t,
        batch["audio"],
        batch["controls"],
        batch["ctx"],
        batch["ctx_audio"],
        keep,
        keep,
        keep,
    )
    return ((pred - batch["x0"]) ** 2 * batch["valid"].float()[..., None]).mean()


def step_right(model, optimizer, batch, t, noise):
    loss = denoising_loss(model, batch, t, noise)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def step_no_zero_grad(model, optimizer, batch, t, noise):
    loss = denoising_loss(model, batch, t, noise)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def step_all_frames(model, optimizer, batch, t, noise):
    return step_right(
        model, optimizer, {**batch, "valid": torch.ones_like(batch["valid"])}, t, noise
    )


def step_no_update(model, optimizer, batch, t, noise):
    with torch.no_grad():
        return float(denoising_loss(model, batch, t, noise))


def test_train_step():
    assert check("Training step", exercises.train_step, step_right)
    with pytest.raises(WrongAnswer, match="step 1: your loss"):
        check("Training step", exercises.train_step, step_all_frames)
    with pytest.raises(WrongAnswer, match="second loss differs"):
        check("Training step", exercises.train_step, step_no_update)
    with pytest.raises(WrongAnswer, match="gradients cleared"):
        check("Training step", exercises.train_step, step_no_zero_grad)


def test_interactive_figure_keeps_a_static_picture(capsys):
    import ipywidgets
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vasa_core.notebook import InteractiveFigure, _png

    view = InteractiveFigure(ipywidgets.IntSlider(), np.zeros((8, 8, 3), np.uint8))
    assert "run the notebook to use them" in capsys.readouterr().out  # not `IntSlider(...)`
    fig, _ = plt.subplots()
    view.update(fig)  # a figure is drawn to PNG and closed
    assert not plt.fignum_exists(fig.number)
    assert _png(np.zeros((8, 8, 3), np.uint8)).startswith(b"\x89PNG")
