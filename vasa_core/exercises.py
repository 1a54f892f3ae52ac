"""Checks of the notebooks' from-scratch exercises: each runs the student's function and the
kit's own version on the same inputs and compares the numbers (`vasa_core.notebook.check`
turns a failed comparison into a message with a hint, and a placeholder into "not answered
yet"). Nothing here holds an answer: the reference is always the library code the notebook
teaches.
"""

from __future__ import annotations

import numpy as np

from vasa_core.notebook import answer_of, expect


def _toy_denoiser(x, t, keep):
    """A stand-in for the network whose output depends on x_t, t and each condition flag,
    so that a formula that mixes up the conditions or the times gives other numbers."""
    import torch

    flag = {name: value.float()[:, None, None] for name, value in keep.items()}
    return (
        torch.tanh(x) * (0.5 + flag["audio"])
        + 0.3 * flag["controls"]
        - 0.2 * flag["context"] * x
        + 0.5 * t[:, None, None]
    )


def _close(mine, reference, what: str, atol: float) -> float:
    import torch

    mine = torch.as_tensor(answer_of(mine))
    expect(
        tuple(mine.shape) == tuple(reference.shape),
        f"{what} has shape {tuple(mine.shape)}, the library's {tuple(reference.shape)}",
    )
    error = float((mine.double() - reference.double()).abs().max())
    expect(np.isfinite(error), f"{what} contains NaN or infinity")
    expect(error < atol, f"{what} differs from the library's by up to {error:.3g}")
    return error


def ddim_step(step) -> str:
    """`step(x_t, x0, t, t_next) -> x_t_next`, run through a 10-step DDIM loop on a toy
    denoiser, against `diffusion.sample` from the same starting noise."""
    import torch

    from vasa_core.motion import diffusion

    shape, steps = (2, 12, 5), 10
    keep = {name: torch.ones(shape[0], dtype=torch.bool) for name in diffusion.CONDITIONS}
    reference = diffusion.sample(
        _toy_denoiser, shape, steps=steps, generator=torch.Generator().manual_seed(3)
    )
    x = torch.randn(shape, generator=torch.Generator().manual_seed(3))
    times = torch.linspace(1.0, 0.0, steps + 1)
    with torch.no_grad():
        # one step in the middle first: the library's own update, written out
        t, t_next = times[4], times[5]
        x0 = _toy_denoiser(x, t.expand(shape[0]), keep)
        a, a_next = diffusion.alpha_bar(t), diffusion.alpha_bar(t_next)
        eps = (x - a.sqrt() * x0) / (1 - a).sqrt()
        _close(
            step(x, x0, t, t_next),
            a_next.sqrt() * x0 + (1 - a_next).sqrt() * eps,
            "one step (t = 0.6 to 0.5)",
            1e-4,
        )
        for i in range(steps):
            x0 = _toy_denoiser(x, times[i].expand(shape[0]), keep)
            x = answer_of(step(x, x0, times[i], times[i + 1]))
    expect(
        float((x - reference).abs().max()) < 2e-2,
        "each step is right on its own, but ten of them do not end where diffusion.sample "
        "does: does the last step (t_next = 0) return the predicted x0?",
    )
    return "Ten of your steps end where diffusion.sample ends."


def guidance(guide) -> str:
    """`guide(h_all, h_without, weights) -> x0`: VASA-1's guidance formula, against the one
    inside `diffusion.sample` (one step, so its output is the guided x0 at t = 1)."""
    import torch

    from vasa_core import schema
    from vasa_core.motion import diffusion

    shape = (2, 12, schema.DIM)
    per_channel = torch.linspace(0.0, 2.0, schema.DIM)
    for weights in ({"audio": 2.5}, {"audio": per_channel, "controls": 1.0}):
        reference = diffusion.sample(
            _toy_denoiser,
            shape,
            steps=1,
            guidance=weights,
            generator=torch.Generator().manual_seed(5),
        )
        x = torch.randn(shape, generator=torch.Generator().manual_seed(5))
        t = torch.ones(shape[0])

        def call(dropped=None, x=x, t=t):
            keep = {c: torch.full((shape[0],), c != dropped) for c in diffusion.CONDITIONS}
            return _toy_denoiser(x, t, keep)

        h_all = call()
        h_without = {name: call(name) for name in weights}
        what = "with one weight" if len(weights) == 1 else "with two conditions, one per channel"
        _close(guide(h_all, h_without, dict(weights)), reference, f"the guided x0 {what}", 1e-5)
    return "Your guidance matches the sampler's, per condition and per channel."


def triangle_affine(affine, renderer, motion) -> str:
    """`affine(target [3, 2], source [3, 2]) -> [2, 3]` matrix M with source = M @ (x, y, 1),
    checked on the renderer's own grid: inside a triangle, the pixel reads where M says."""
    import torch

    from vasa_core.render.warp import TRIANGLES

    target = renderer.landmarks(motion[None])[0, :, :2]
    source = renderer.warp.source.cpu().numpy()
    grid = renderer.warp(renderer.landmarks(motion[None])).grid[0].cpu().numpy()
    height, width = grid.shape[:2]
    reads = (grid + 1) / 2 * np.array([width - 1, height - 1])  # pixels
    # The largest triangles, and in each the pixels well inside it (so the neighbours' and
    # occluders' pixels do not count).
    corners = target[TRIANGLES]
    e1, e2 = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    area = 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
    tested = 0
    for k in np.argsort(-area)[:40]:
        tri_t, tri_s = corners[k], source[TRIANGLES[k]]
        m = answer_of(affine(tri_t.copy(), tri_s.copy()))
        m = np.asarray(m.cpu() if torch.is_tensor(m) else m, dtype=np.float64)
        expect(m.shape == (2, 3), f"the map has shape {m.shape}; it should be 2 x 3")
        corners_h = np.c_[tri_t, np.ones(3)]
        expect(
            np.abs(corners_h @ m.T - tri_s).max() < 1e-3,
            "the map does not send the target corners to the source corners "
            "(hint: which triangle is the map *from*? the warp is backward)",
        )
        # pixel centres at least 1.5 px inside every edge
        x0, y0 = np.floor(tri_t.min(axis=0)).astype(int)
        x1, y1 = np.ceil(tri_t.max(axis=0)).astype(int)
        ys, xs = np.mgrid[max(y0, 0) : min(y1, height - 1) + 1, max(x0, 0) : min(x1, width - 1) + 1]
        points = np.c_[xs.ravel(), ys.ravel()].astype(np.float64)
        inside = np.ones(len(points), bool)
        for i in range(3):
            a, b, c = tri_t[i], tri_t[(i + 1) % 3], tri_t[(i + 2) % 3]
            edge = b - a
            normal = np.array([-edge[1], edge[0]]) / (np.linalg.norm(edge) + 1e-9)
            side = np.sign((c - a) @ normal)
            inside &= ((points - a) @ normal) * side > 1.5
        points = points[inside].astype(int)
        if len(points) < 3:
            continue
        renderer_reads = reads[points[:, 1], points[:, 0]]
        mine = np.c_[points, np.ones(len(points))] @ m.T
        agree = np.linalg.norm(mine - renderer_reads, axis=1) < 0.05
        if agree.mean() > 0.5:  # the renderer shows this triangle here (not occluded)
            tested += 1
    expect(
        tested >= 10,
        "inside the triangles your map reads elsewhere than the renderer's grid "
        "(hint: solve for the 6 numbers from the 3 corner pairs)",
    )
    return f"Your map reads where the renderer's grid reads, in {tested} triangles."


def _tiny_batch(seed: int):
    import torch

    from vasa_core import schema
    from vasa_core.motion.controls import Controls
    from vasa_core.motion.model import Config

    config = Config(window=12, context=4, width=32, layers=1, heads=2, dropout=0.0)
    g = torch.Generator().manual_seed(seed)
    size, w, p = 3, config.window, config.context
    batch = {
        "x0": torch.randn(size, w, schema.DIM, generator=g),
        "audio": torch.randn(size, w, config.audio_dim, generator=g),
        "controls": torch.randn(size, len(Controls().vector()), generator=g),
        "ctx": torch.randn(size, p, schema.DIM, generator=g),
        "ctx_audio": torch.randn(size, p, config.audio_dim, generator=g),
        "valid": torch.rand(size, w, generator=g) > 0.2,
    }
    return config, batch, torch.rand(size, generator=g), torch.randn(batch["x0"].shape, generator=g)


def train_step(step) -> str:
    """`step(model, optimizer, batch, t, noise) -> loss`: noise the batch's x0 to time t,
    predict x0 with every condition kept, the squared error over the valid frames (the x0
    term of `vasa_core.training.loop.loss_fn`), one optimiser step. Two steps of yours on one
    copy of a tiny denoiser against two reference steps on another."""
    import copy

    import torch

    from vasa_core.motion import diffusion
    from vasa_core.motion.model import MotionDenoiser

    config, batch, t, noise = _tiny_batch(7)
    torch.manual_seed(0)
    base = MotionDenoiser(config)
    mine, reference = copy.deepcopy(base), copy.deepcopy(base)
    opt_mine = torch.optim.Adam(mine.parameters(), lr=1e-2)
    opt_ref = torch.optim.Adam(reference.parameters(), lr=1e-2)
    keep = torch.ones(len(t), dtype=torch.bool)
    for k in range(2):
        pred = reference(
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
        loss = ((pred - batch["x0"]) ** 2 * batch["valid"].float()[..., None]).mean()
        opt_ref.zero_grad()
        loss.backward()
        opt_ref.step()
        got = float(answer_of(step(mine, opt_mine, batch, t, noise)))
        expect(
            abs(got - float(loss.detach())) < 1e-4 * max(1.0, abs(float(loss.detach()))),
            f"step {k + 1}: your loss is {got:.4f}, the reference loss differs (hint: noise "
            "x0 with diffusion.noisy, keep every condition, count only the valid frames)"
            if k == 0
            else "your second loss differs: did the first step update the weights?",
        )
    moved = max(
        float((a - b).detach().abs().max())
        for a, b in zip(mine.parameters(), reference.parameters(), strict=True)
    )
    expect(
        moved < 1e-4,
        "the losses agree but the weights do not (hint: are the old gradients cleared "
        "before each backward pass?)",
    )
    return "Two of your steps move the weights exactly as the reference does."


def latent_swap(loss_fn) -> str:
    """`loss_fn(model, frame_a, frame_b) -> loss`: VASA-1's swap loss within one identity
    (notebook 06), against `latent_model.swap_loss` on a small untrained autoencoder and
    random frames: the value, and the gradient it sends to every weight."""
    import torch

    from vasa_core import latent_model

    torch.manual_seed(11)
    model = latent_model.FaceAutoencoder(latent_model.Config(width=8))
    g = torch.Generator().manual_seed(12)
    frame_a, frame_b = (
        torch.rand(4, 3, latent_model.SIZE, latent_model.SIZE, generator=g) for _ in range(2)
    )
    reference = latent_model.swap_loss(model, frame_a, frame_b)
    model.zero_grad()
    reference.backward()
    wanted = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    mine = answer_of(loss_fn(model, frame_a.clone(), frame_b.clone()))
    expect(
        torch.is_tensor(mine) and mine.numel() == 1,
        "return the loss as a one-number tensor (not a float), so training can "
        "backpropagate through it",
    )
    expect(
        mine.requires_grad, "the loss does not reach the weights: was it computed under no_grad?"
    )
    value, target = float(mine.detach()), float(reference.detach())
    ratio = value / target
    expect(
        not np.isclose(ratio, frame_b[0].numel() * len(frame_b), rtol=1e-3),
        "your loss is the right error summed: average it over every pixel, as the other "
        "losses of the notebook do",
    )
    expect(
        abs(value - target) < 1e-5 * max(1.0, target),
        "your loss differs from the swap loss (hint: which frame's identity code, which "
        "frame's pose and dynamics codes go into the decoder, and which frame must come out?)",
    )
    mine.backward()
    moved = max(
        float((p.grad - w).abs().max()) if p.grad is not None else float(w.abs().max())
        for p, w in zip(model.parameters(), wanted, strict=True)
    )
    expect(
        moved < 1e-5,
        "the value is right but the gradient is not: do all three codes come from the "
        "model's own encoder, with nothing detached?",
    )
    return "Your swap loss gives the library's value and gradients."
