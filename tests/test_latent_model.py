"""The learned face latent of notebook 06 (`vasa_core.latent_model`): the data it renders,
the model's shapes, that training lowers the losses, that a swap moves the picture towards
the driving frame, the probes, and the notebook's swap-loss exercise check."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from vasa_core import exercises
from vasa_core import latent_model as lm
from vasa_core.notebook import WrongAnswer, check


@pytest.fixture(scope="module")
def grid() -> lm.FaceGrid:
    torch.set_num_threads(1)
    poses, expressions = lm.sample_factors(4, 4, seed=0)
    return lm.make_grid(poses, expressions, names=("grace_hopper", "drawn"))


def test_grid_holds_every_identity_under_every_motion(grid):
    assert grid.images.shape == (8, 4, 4, lm.SIZE, lm.SIZE, 3)
    assert grid.images.dtype == np.uint8
    assert grid.names[:2] == ("grace_hopper", "grace_hopper (mirrored)")
    frames, ids, factors = grid.all_frames()
    assert frames.shape == (8 * 16, 3, lm.SIZE, lm.SIZE)
    assert factors.shape == (8 * 16, len(lm.FACTORS)) and ids.max() == 7
    # the grey variant is the plain one desaturated; the mirrored one is another picture
    names = grid.names
    assert names.index("grace_hopper (grey)") == 2 and names[4] == "drawn"
    assert np.array_equal(grid.images[2], lm._grey(grid.images[0]))

    def colour(images):  # mean spread of the three channels
        return np.ptp(images.astype(int), axis=-1).mean()

    assert colour(grid.images[2]) < 0.3 * colour(grid.images[0])
    assert np.abs(grid.images[0].astype(int) - grid.images[1]).mean() > 10
    # the expression changes the picture, and so does the pose
    assert np.abs(grid.images[0, 0, 0].astype(int) - grid.images[0, 0, 1]).max() > 40
    assert np.abs(grid.images[0, 0, 0].astype(int) - grid.images[0, 1, 0]).max() > 40


def test_factors_stay_in_their_ranges():
    poses, expressions = lm.sample_factors(50, 50, seed=3)
    assert (poses >= lm.POSE_RANGE[:, 0]).all() and (poses <= lm.POSE_RANGE[:, 1]).all()
    assert (expressions >= 0).all() and (expressions <= 1).all()
    row = lm.motion_row(np.zeros(22), poses[0], expressions[0], mirrored=True)
    assert row[0] == pytest.approx(-poses[0, 0]) and row[2] == pytest.approx(-poses[0, 2])
    assert row[1] == pytest.approx(poses[0, 1])


def test_shapes_of_codes_and_pictures():
    config = lm.Config(width=8)
    model = lm.FaceAutoencoder(config)
    codes = model.encode(torch.rand(3, 3, lm.SIZE, lm.SIZE))
    assert codes.identity.shape == (3, config.identity_dim)
    assert codes.motion().shape == (3, config.pose_dim + config.dynamics_dim)
    out = model.decode(codes.identity, codes.pose, codes.dynamics)
    assert out.shape == (3, 3, lm.SIZE, lm.SIZE) and 0 <= out.min() and out.max() <= 1
    assert lm.swap(
        model, torch.rand(2, 3, lm.SIZE, lm.SIZE), torch.rand(5, 3, lm.SIZE, lm.SIZE)
    ).shape[:2] == (2, 5)


def _pixel_losses(model, batch, weight=None):
    """The standalone pixel losses of a batch, by the names `lm.losses` gives them."""
    return {
        "reconstruction": lm.reconstruction_loss(model, batch["target"], weight),
        "swap": lm.swap_loss(model, batch["same_identity"], batch["target"], weight),
        "split": lm.split_loss(
            model,
            batch["same_identity"],
            batch["same_pose"],
            batch["same_expression"],
            batch["target"],
            weight,
        ),
    }


def test_batched_losses_match_the_functions(grid):
    torch.manual_seed(0)
    model = lm.FaceAutoencoder(lm.Config(width=8))
    batch = lm.sample_batch(grid, 6, np.random.default_rng(0))
    parts = lm.losses(model, batch)
    pairs = _pixel_losses(model, batch)
    pairs["cross_identity"] = lm.cross_identity_loss(model, batch["target"], batch["same_motion"])
    for name, value in pairs.items():
        assert float(parts[name].detach()) == pytest.approx(float(value.detach()), rel=1e-4)
    # with pixel weights (`expression_weights` of the grid, picked by the target's identity)
    weight = lm.expression_weights(grid, 4.0)[batch["i"]]
    weighted = lm.losses(model, {**batch, "weight": weight})
    for name, value in _pixel_losses(model, batch, weight).items():
        assert float(weighted[name].detach()) == pytest.approx(float(value.detach()), rel=1e-4)
        assert float(weighted[name].detach()) != pytest.approx(float(parts[name].detach()))
    assert set(lm.losses(model, batch, lm.RECONSTRUCTION_ONLY)) == {"reconstruction", "total"}
    # the batch's partners share what their names say
    i, p, e = batch["i"].numpy(), batch["p"].numpy(), batch["e"].numpy()
    assert torch.equal(batch["target"], grid.frames(i, p, e))


def test_training_lowers_the_loss_and_the_swap_follows_the_driving_frame(grid):
    model, history = lm.train(grid, steps=60, config=lm.Config(width=8), batch=8, every=10)
    total = history.losses["total"]
    assert total[-1] < 0.6 * total[0]
    # Swap: identity from one frame of each face, pose and expression from another frame
    # of the same face. Closer to the true frame than the identity frame it started from.
    n_id = grid.shape[0]
    ids = np.arange(n_id)
    source = grid.frames(ids, np.zeros(n_id, int), np.zeros(n_id, int))
    target = grid.frames(ids, np.full(n_id, 3), np.full(n_id, 2))
    with torch.no_grad():
        who, how = model.encode(source), model.encode(target)
        swapped = model.decode(who.identity, how.pose, how.dynamics)
    assert F.mse_loss(swapped, target) < 0.8 * F.mse_loss(source, target)


def test_expression_weights_count_most_where_expression_changes_the_picture(grid):
    weights = lm.expression_weights(grid, 4.0)
    assert weights.shape == (grid.shape[0], 1, lm.SIZE, lm.SIZE)
    assert torch.allclose(weights.mean(dim=(1, 2, 3)), torch.ones(grid.shape[0]), atol=1e-5)
    assert (weights > 0).all() and weights.amax() > 3
    # the top corners (background, far from mouth and eyes) count less than average
    assert weights[:, :, :4, :4].mean() < 1
    assert torch.equal(lm.expression_weights(grid, 0.0), torch.ones_like(weights))


def test_probes_read_what_is_there_and_not_what_is_not():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(400, 2))
    x = np.c_[y[:, :1] * 3 + 0.01 * rng.normal(size=(400, 1)), rng.normal(size=(400, 3))]
    r2 = lm.probe_r2(x[:300], y[:300], x[300:], y[300:])
    assert r2[0] > 0.99 and r2[1] < 0.1
    labels = rng.integers(4, size=400)
    codes = np.eye(4)[labels] + 0.1 * rng.normal(size=(400, 4))
    assert lm.probe_accuracy(codes[:300], labels[:300], codes[300:], labels[300:]) > 0.95
    noise = rng.normal(size=(400, 4))
    assert lm.probe_accuracy(noise[:300], labels[:300], noise[300:], labels[300:]) < 0.5


def swap_right(model, frame_a, frame_b):
    a, b = model.encode(frame_a), model.encode(frame_b)
    return F.mse_loss(model.decode(a.identity, b.pose, b.dynamics), frame_b)


def swap_against_a(model, frame_a, frame_b):
    a, b = model.encode(frame_a), model.encode(frame_b)
    return F.mse_loss(model.decode(a.identity, b.pose, b.dynamics), frame_a)


def swap_reconstruction(model, frame_a, frame_b):
    return F.mse_loss(model(frame_b), frame_b)


def swap_summed(model, frame_a, frame_b):
    a, b = model.encode(frame_a), model.encode(frame_b)
    return ((model.decode(a.identity, b.pose, b.dynamics) - frame_b) ** 2).sum()


def swap_detached(model, frame_a, frame_b):
    a, b = model.encode(frame_a), model.encode(frame_b)
    return F.mse_loss(model.decode(a.identity.detach(), b.pose, b.dynamics), frame_b)


def test_swap_exercise_check(capsys):
    assert check("Exercise 1", exercises.latent_swap, swap_right)
    wrong_answers = [
        (swap_against_a, "differs from the swap loss"),
        (swap_reconstruction, "differs from the swap loss"),
        (swap_summed, "summed"),
        (swap_detached, "gradient"),
        (lambda m, a, b: float(swap_right(m, a, b)), "one-number tensor"),
    ]
    for wrong, message in wrong_answers:
        with pytest.raises(WrongAnswer, match=message):
            check("Exercise 1", exercises.latent_swap, wrong)
    assert check("Exercise 1", exercises.latent_swap, lambda m, a, b: None) is False
    assert "not answered yet" in capsys.readouterr().out
