"""Stage 4: the renderer reproduces the portrait, moves what the motion says, and only that."""

import cv2
import numpy as np
import pytest

from vasa_core import schema
from vasa_core.face import landmarks as lmk
from vasa_core.face import rig
from vasa_core.render import Renderer, camera


@pytest.fixture(scope="module")
def renderers(latents):
    return {name: Renderer(face, size=512) for name, face in latents.items()}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def moved(face, **channels) -> np.ndarray:
    motion = face.motion.copy()
    for name, value in channels.items():
        relative = name in ("yaw", "pitch", "roll")
        motion[schema.index(name)] = value + (motion[schema.index(name)] if relative else 0)
    return motion


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper", "drawn"])
def test_rendering_a_portraits_own_latents_gives_the_portrait_back(name, latents, renderers):
    face, renderer = latents[name], renderers[name]
    crop = (renderer.image.permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype(np.uint8)
    assert psnr(renderer.render(face.motion)[0], crop) >= 40
    full = Renderer(face, size=None)
    assert psnr(full.render(face.motion)[0], face.image) >= 40


@pytest.mark.parametrize("size", [512, None])
def test_pixels_a_face_width_away_move_less_than_a_pixel_at_yaw_20(size, latents):
    import cv2

    face = latents["astronaut"]
    renderer = Renderer(face, size=size)
    target = renderer.landmarks(moved(face, yaw=20.0)[None])
    grid = renderer.warp(target).grid[0]
    height, width = renderer.crop_shape
    scale = np.array([(width - 1) / 2, (height - 1) / 2])
    source_px = (grid.cpu().numpy() + 1) * scale
    ys, xs = np.mgrid[0:height, 0:width]
    motion = np.hypot(source_px[..., 0] - xs, source_px[..., 1] - ys)
    # Distance from the face outline, before and after the turn: "far" is far from both.
    far = np.ones((height, width), bool)
    for points in (renderer._to_crop(face.landmarks[None])[0], target[0]):
        outline = points[list(rig.top.FACE_OVAL), :2].astype(np.float32).reshape(-1, 1, 2)
        mask = np.zeros((height, width), np.uint8)
        cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 1)
        distance = cv2.distanceTransform(1 - mask, cv2.DIST_L2, 5)
        far &= distance > renderer.face_width
    assert far.sum() > 1000  # the corners of the warped square
    assert motion[far].max() < 1.0
    assert motion[~far].max() > 5.0  # ...while the face itself did turn
    if size is None:  # beyond the warped square, the portrait is pasted back untouched
        frame = renderer.render(moved(face, yaw=20.0))[0]
        left, top, right, bottom = renderer.region
        outside = np.ones(face.image.shape[:2], bool)
        outside[top:bottom, left:right] = False
        assert np.array_equal(frame[outside], face.image[outside])


def detect_motion(renderer, face, frame):
    """Face Mesh on a rendered frame, encoded against the portrait's identity."""
    found = renderer.to_portrait(lmk.detect(frame).landmarks)
    fit = rig.encode(found, identity=face.identity, anchor=face.anchor)
    return found, np.concatenate([fit.pose, fit.dynamics])


CLOSED_LOOP = {
    "neutral": {},
    "jaw": {"jaw_open": 0.6},
    "smile": {"smile": 0.8},
    "blink": {"blink_left": 1.0, "blink_right": 1.0},
    "wink": {"blink_left": 1.0},
    "look right": {"gaze_yaw": 20.0},
    "look left": {"gaze_yaw": -20.0},
    "turn right": {"yaw": 20.0},
    "turn left": {"yaw": -20.0},
    "nod up": {"pitch": schema.REACH["pitch"][1]},
}


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper", "drawn"])
def test_closed_loop_face_mesh_sees_the_motion_that_was_rendered(name, latents, renderers):
    """Render, run Face Mesh on the frame, encode: the motion comes back.

    What this asserts is what holds today on all three portraits (see
    benchmarks/closed_loop.py for the full table against the issue's targets): landmarks
    within 3% of the eye distance, pose within 5 degrees when only the eyes move (6 with
    a broad smile or open jaw), blinks detected, and turns, gaze and jaw read in the
    right direction.
    """
    face, renderer = latents[name], renderers[name]
    motions = {label: moved(face, **change) for label, change in CLOSED_LOOP.items()}
    frames = renderer.render(np.stack(list(motions.values())))
    seen = {}
    for (label, motion), frame in zip(motions.items(), frames, strict=True):
        found, seen[label] = detect_motion(renderer, face, frame)
        target = face.decode(motion)
        eyes = np.linalg.norm(target[33, :2] - target[263, :2])
        assert np.linalg.norm(found[:, :2] - target[:, :2], axis=1).mean() < 0.03 * eyes, label
        pose_error = np.abs(seen[label][:3] - motion[:3]).max()
        if label in ("neutral", "blink", "wink", "look right", "look left"):
            # Face Mesh's own reading of a frame and of its mirror image differ by up to
            # 4.9 degrees in pose on these frames (benchmarks/closed_loop.py): finer bounds
            # measure Face Mesh, not the renderer (the 2-3 degree targets were withdrawn).
            # Closed lids on the astronaut read as 3.2 degrees of nod since her crop was
            # slid inside the picture (2.75 more than her open eyes read).
            assert pose_error < 5.0, label
        elif label in ("jaw", "smile"):  # Face Mesh reads a broad smile as a slight nod
            assert pose_error < 6.0, label
    d = {k: dict(zip(schema.NAMES, v, strict=True)) for k, v in seen.items()}
    assert d["blink"]["blink_left"] > 0.5 and d["blink"]["blink_right"] > 0.5
    assert d["wink"]["blink_left"] > 0.5 and d["wink"]["blink_right"] < 0.4
    assert d["neutral"]["blink_left"] < 0.4
    assert d["jaw"]["jaw_open"] > d["neutral"]["jaw_open"] + 0.05
    assert d["look right"]["gaze_yaw"] > d["neutral"]["gaze_yaw"] + 5
    assert d["look left"]["gaze_yaw"] < d["neutral"]["gaze_yaw"] - 5
    assert d["turn right"]["yaw"] > d["neutral"]["yaw"] + 10
    assert d["turn left"]["yaw"] < d["neutral"]["yaw"] - 10
    assert d["nod up"]["pitch"] > d["neutral"]["pitch"] + 8


def test_a_smooth_motion_gives_a_smooth_video(latents, renderers):
    face, renderer = latents["grace_hopper"], renderers["grace_hopper"]
    frames_n = 30
    motion = np.tile(face.motion, (frames_n, 1))
    ramp = np.linspace(0, 1, frames_n)
    motion[:, schema.index("jaw_open")] = 0.7 * ramp  # teeth appear and grow
    motion[:, schema.index("yaw")] += 12 * ramp
    motion[:, schema.index("smile")] = 0.5 * ramp
    frames = renderer.render(motion).astype(np.float32)
    target = renderer.landmarks(motion)
    x0, y0 = target[..., :2].min(axis=(0, 1)).astype(int)
    x1, y1 = target[..., :2].max(axis=(0, 1)).astype(int)
    face_box = frames[:, y0:y1, x0:x1]
    mouth = target[:, [61, 291, 13, 14], :2]
    mx0, my0 = mouth.min(axis=(0, 1)).astype(int) - 4
    mx1, my1 = mouth.max(axis=(0, 1)).astype(int) + 4
    for region in (face_box, frames[:, my0:my1, mx0:mx1]):
        change = np.abs(np.diff(region, axis=0)).mean(axis=(1, 2, 3))
        assert change.min() > 0  # it does move, every frame
        assert change.max() < 2.5 * np.median(change)  # and never jumps


def test_a_moved_iris_uncovers_the_white_and_brings_no_skin(latents, renderers):
    """The drawn face's green irises, looking right and up.

    Where the iris was, the white must show (the old renderer left a greyed rim of the
    drawn iris there); an iris looking up must show iris where its portrait had lower lid
    over it (the old renderer copied that skin into the moved iris, 36-44% of its pixels).
    """
    import cv2

    from vasa_core.render.eyes import EYES, _contour

    face, renderer = latents["drawn"], renderers["drawn"]
    motions = np.stack([face.motion, moved(face, gaze_yaw=20.0), moved(face, gaze_pitch=15.0)])
    frames = renderer.render(motions).astype(np.float64)
    points = renderer.landmarks(motions)[..., :2]
    opening = np.zeros(frames.shape[1:3], np.uint8)
    for corners, upper, lower, _ in EYES:
        outline = np.round(points[0, _contour(corners, upper, lower)]).astype(np.int32)
        cv2.fillPoly(opening, [outline], 1)
    opening = cv2.erode(opening, np.ones((5, 5), np.uint8)) > 0  # well inside the lids
    ys, xs = np.mgrid[: frames.shape[1], : frames.shape[2]]
    for centre in (468, 473):
        ring = points[0, centre + 1 : centre + 5] - points[0, centre]
        radius = 1.3 * np.linalg.norm(ring, axis=1).mean()  # Face Mesh's ring, and a margin

        def near(frame: int, reach: float, c=centre) -> np.ndarray:
            return np.hypot(xs - points[frame, c, 0], ys - points[frame, c, 1]) < reach

        uncovered = near(0, radius - 1) & ~near(1, radius + 2) & opening
        assert uncovered.sum() >= 8
        assert frames[1][uncovered].min(axis=1).mean() > 200  # white, not a grey rim
        iris = frames[2][near(2, radius - 1) & opening]
        assert len(iris) >= 30
        assert np.mean(iris[:, 0] > iris[:, 1] + 20) < 0.05  # green, not skin


def test_at_the_gaze_limits_a_drawn_iris_leaves_no_outline_in_the_white(latents, renderers):
    """The drawn iris is outlined a pixel beyond its radius; moved 30 degrees either way,
    the white it uncovers must not keep that outline (at a 1.5 px rim it did: a thin grey
    line, the uncovered white 212 at its darkest eye against 222 now)."""
    import cv2

    from vasa_core.render.eyes import EYES, _contour

    face, renderer = latents["drawn"], renderers["drawn"]
    limit = schema.knob("gaze_yaw").high
    motions = np.stack([face.motion, moved(face, gaze_yaw=limit), moved(face, gaze_yaw=-limit)])
    frames = renderer.render(motions).astype(np.float64)
    points = renderer.landmarks(motions)[..., :2]
    opening = np.zeros(frames.shape[1:3], np.uint8)
    for corners, upper, lower, _ in EYES:
        cv2.fillPoly(
            opening, [np.round(points[0, _contour(corners, upper, lower)]).astype(np.int32)], 1
        )
    opening = cv2.erode(opening, np.ones((5, 5), np.uint8)) > 0
    ys, xs = np.mgrid[: frames.shape[1], : frames.shape[2]]
    whites = []
    for centre in (468, 473):
        radius = (
            1.3
            * np.linalg.norm(points[0, centre + 1 : centre + 5] - points[0, centre], axis=1).mean()
        )

        def near(frame: int, reach: float, c=centre) -> np.ndarray:
            return np.hypot(xs - points[frame, c, 0], ys - points[frame, c, 1]) < reach

        for frame in (1, 2):
            uncovered = near(0, radius + 1) & ~near(frame, radius + 2) & opening
            assert uncovered.sum() >= 20
            whites.append(frames[frame][uncovered].min(axis=1).mean())
    assert min(whites) > 218, whites


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper", "drawn"])
def test_the_teeth_stay_on_the_bone_while_the_lips_move(name, latents, renderers):
    """Jaw held half open, head still, lips rounding, widening, smiling: what shows between
    the lips is teeth fixed to the skull and jaw, so it does not move. (The renderer that
    hung the teeth from the lips changed these pixels by 1.7 grey levels a frame or more.)"""
    import cv2

    from vasa_core.face import topology as top

    face, renderer = latents[name], renderers[name]
    n = 12
    motion = np.tile(face.motion, (n, 1))
    motion[:, schema.index("jaw_open")] = 0.45
    motion[:, schema.index("mouth_wide")] = np.linspace(0, 0.3, n)
    motion[:, schema.index("smile")] = np.linspace(0.3, 0, n)
    frames = renderer.render(motion).astype(np.float32)
    ring = [*top.LIPS_INNER_UPPER, *reversed(top.LIPS_INNER_LOWER[1:-1])]
    masks = []
    for points in renderer.landmarks(motion)[..., :2]:
        mask = np.zeros(renderer.frame_shape, np.uint8)
        cv2.fillPoly(mask, [np.round(points[ring]).astype(np.int32)], 1)
        masks.append(cv2.erode(mask, np.ones((5, 5), np.uint8)).astype(bool))
    both = np.stack(masks[1:]) & np.stack(masks[:-1])
    assert both.sum() > 500  # the mouth is open: there is an inside to look at
    change = np.abs(np.diff(frames, axis=0)).mean(axis=-1)[both]
    assert change.mean() < 1.0


def test_drawn_teeth_take_the_portraits_style(renderers):
    """Flat colours on the drawing, shaded teeth on the photo: across the mouth's middle
    the drawing's upper teeth hold one colour, the photo's vary."""
    assert renderers["drawn"].mouth.drawing and not renderers["grace_hopper"].mouth.drawing
    spreads = {}
    for name in ("drawn", "grace_hopper"):
        renderer = renderers[name]
        motion = renderer.latents.motion.copy()
        motion[schema.index("jaw_open")] = 0.5
        frame = renderer.render(motion)[0].astype(np.float32)
        points = renderer.landmarks(motion)[0]
        x = np.linspace(points[78, 0], points[308, 0], 9)[3:6].round().astype(int)
        y = int(round(points[13, 1] + 3))  # just below the upper lip: upper teeth
        spreads[name] = frame[y, x[0] : x[-1]].mean(axis=-1).std()
    assert spreads["drawn"] < 1.0 < spreads["grace_hopper"]


@pytest.mark.parametrize("pitch", [25, -25])
def test_the_iris_stays_in_sight_looking_up_and_down(pitch, latents, renderers):
    """The drawn face's green irises at the gaze range's vertical limits: the lids may
    cover the rim, but not roll the iris out of sight (the renderer that let it follow the
    gaze past the lids showed 36% of it looking up, 41% looking down; this one 53%, 80%)."""
    face, renderer = latents["drawn"], renderers["drawn"]
    motion = np.tile(face.motion, (2, 1))
    motion[1, schema.index("gaze_pitch")] = pitch
    frames = renderer.render(motion).astype(int)
    eyes = renderer.landmarks(motion)[0, [33, 263, 159, 386, 145, 374], :2]
    (x0, y0), (x1, y1) = eyes.min(axis=0).astype(int) - 10, eyes.max(axis=0).astype(int) + 10
    box = frames[:, y0:y1, x0:x1]
    green = ((box[..., 1] > box[..., 0] + 20) & (box[..., 1] > box[..., 2] + 20)).sum(axis=(1, 2))
    assert green[1] >= 0.45 * green[0]


def test_the_camera_takes_only_what_the_neck_cannot():
    """Talking-size motions stay on the neck with the picture still; large ones become a
    zoom and pan whose product with the head's part is exactly the motion asked for."""
    motion = np.tile(schema.neutral(), (4, 1))
    motion[:, schema.index("scale")] = [1.03, 0.97, 1.4, 0.7]
    motion[:, schema.index("tx")] = [0.04, -0.02, 0.4, -0.3]
    head, view = camera.split(motion)
    assert camera.is_still(view[:2]) and np.allclose(head[:2], motion[:2])
    assert np.all(np.abs(np.log(head[:, schema.index("scale")])) <= 0.06 + 1e-9)
    assert np.all(np.abs(head[:, schema.index("tx")]) <= 0.075 + 1e-9)
    assert np.allclose(
        head[:, schema.index("scale")] * view[:, 0], motion[:, schema.index("scale")]
    )
    shift = view[:, 0] * head[:, schema.index("tx")] + view[:, 1]
    assert np.allclose(shift, motion[:, schema.index("tx")])


@pytest.mark.parametrize("scale", [0.7, 1.4])
def test_the_body_comes_with_the_head_at_the_distance_limits(scale, latents, renderers):
    """Head distance zooms shoulders and collar with the face (a camera move), instead of
    pasting a bigger face over a body that stays (the collar band then matched the rest
    frame unzoomed, k = 1, and the face covered it)."""
    face, renderer = latents["grace_hopper"], renderers["grace_hopper"]
    # The rest picture with the portrait around it (what a zoom out shows), as uint8 HWC.
    around = (renderer.surround.permute(1, 2, 0).cpu().numpy() * 255).astype(np.float32)
    m = renderer.margin
    frame = renderer.render(moved(face, scale=scale))[0].astype(np.float32)
    size = frame.shape[0]
    band = slice(int(0.85 * size), int(0.97 * size))  # the shoulders, below the face
    ys, xs = np.mgrid[band, 0:size].astype(np.float32)
    cx, cy = renderer.centre[:2]
    errors = {}
    for k in np.round(np.arange(0.6, 1.61, 0.02), 2):
        map_x, map_y = cx + (xs - cx) / k + m, cy + (ys - cy) / k + m
        zoomed = cv2.remap(around, map_x, map_y, cv2.INTER_LINEAR)
        errors[k] = np.mean(np.abs(zoomed - frame[band]))
    best = min(errors, key=errors.get)
    assert abs(best / scale - 1) < 0.1, (best, scale)


def test_a_whole_portrait_moves_with_the_camera_too(latents):
    """At native resolution the camera moves the whole picture: the corners change at
    distance 1.4 and stay exactly the portrait's at rest."""
    face = latents["drawn"]
    renderer = Renderer(face, size=None)
    frames = renderer.render(np.stack([face.motion, moved(face, scale=1.4)]))
    assert frames.shape[1:3] == face.image.shape[:2]
    corner = (slice(0, 20), slice(0, 20))
    assert np.array_equal(frames[0][corner], face.image[corner])
    assert np.abs(frames[1].astype(int) - face.image.astype(int)).mean() > 1


def test_the_upper_lids_follow_the_gaze_up_and_down(latents, renderers):
    """Looking down lowers the upper lids a little, looking up raises them; the motion
    latent itself keeps blink and gaze apart (its own decoding does not move the lids)."""
    face, renderer = latents["astronaut"], renderers["astronaut"]
    motion = np.tile(face.motion, (3, 1))
    motion[:, schema.index("gaze_pitch")] = [-20, 0, 20]
    upper_lid = [159, 386]
    drawn = renderer.landmarks(motion)[:, upper_lid, 1].mean(axis=1)
    assert drawn[0] > drawn[1] + 1 and drawn[2] < drawn[1] - 0.3  # image y grows down
    own = face.decode(motion)[:, upper_lid, 1].mean(axis=1)
    assert np.allclose(own[0], own[1], atol=0.05) and np.allclose(own[2], own[1], atol=0.05)


def test_a_closing_lid_covers_the_iris_face_mesh_put_below_its_margin():
    """On a small or bespectacled eye Face Mesh may draw the upper lid across the iris;
    the painted lid must reach the iris's real top, and leave a lid that Face Mesh got
    right (its margin on the iris's top, with a lash line above) as it was."""
    import torch

    from vasa_core.render import lids

    image = torch.empty(3, 100, 100)
    image[:] = torch.tensor([0.8, 0.6, 0.5])[:, None, None]  # skin
    ys, xs = torch.meshgrid(torch.arange(100.0), torch.arange(100.0), indexing="ij")
    image[:, (xs - 50) ** 2 + (ys - 50) ** 2 < 10**2] = torch.tensor([0.2, 0.1, 0.05])[:, None]
    frame = lids.EyeFrame(torch.tensor([[[30.0, 50.0], [70.0, 50.0]]]))
    skin, iris = torch.tensor([0.8, 0.6, 0.5]), torch.tensor([0.2, 0.1, 0.05])
    found = (skin, iris, torch.tensor([50.0, 50.0]), 10.0)

    def hidden(margin_y):
        top_v = torch.full((lids.SAMPLES,), margin_y - 50.0)
        return lids._hidden_above(image, frame, top_v, 10.0, found)

    wide, narrow = hidden(48.0)  # the iris shows 8 px above Face Mesh's lid
    middle = lids.SAMPLES // 2
    assert 7.0 <= float(wide[middle]) <= 9.0 and float(wide[0]) == 0 == float(wide[-1])
    assert (narrow <= wide + 1e-6).all() and float(narrow[middle]) == float(wide[middle])
    for margin_y in (41.0, 39.0):  # a lash's width of iris above the lid points, or none
        assert all(float(h.abs().max()) == 0 for h in hidden(margin_y))
    assert all(
        float(h.abs().max()) == 0
        for h in lids._hidden_above(image, frame, torch.zeros(lids.SAMPLES), 10.0, None)
    )


def test_a_painted_lid_takes_its_colour_from_skin_not_lashes_or_a_glasses_frame():
    """Where something dark (lashes, an iris top, a glasses frame) fills most of the band
    just above the lashes, the lid is still painted with the skin there, read around it and
    further up; elsewhere it is the band's median, as it always was."""
    import torch

    from vasa_core.render import lids

    rows, samples = 16, lids.SAMPLES
    torch.manual_seed(0)
    skin = torch.tensor([0.8, 0.6, 0.5])[:, None, None] * (1 + 0.05 * torch.rand(3, rows, samples))
    near = torch.arange(rows) < 6
    plain = lids._skin_colour(skin, near)
    torch.testing.assert_close(plain, skin[:, :6].median(dim=1).values)
    dark = torch.tensor([0.25, 0.15, 0.1])[:, None, None]
    framed = skin.clone()
    framed[:, :5, 10:20] = dark  # five of the six band rows, a third of the eye
    framed[:, :, 25:] = dark  # every row: no skin to find at these points at all
    colour = lids._skin_colour(framed, near)
    assert (colour[:, :10] == plain[:, :10]).all()  # untouched where the band is skin
    for points in (slice(10, 20), slice(25, None)):  # skin around it, or the typical skin
        assert (colour[:, points] - torch.tensor([0.8, 0.6, 0.5])[:, None]).abs().max() < 0.06


def test_lips_the_motion_shuts_are_drawn_shut_on_a_portrait_smiling_with_its_teeth(
    latents, renderers
):
    """The astronaut smiles with parted lips; fitting her leaves part of that gap in her
    identity. A mouth the motion shuts must still be drawn shut, as Face Mesh sees it (it
    read a dark slit there as lips apart), while her own expression stays as it was."""
    from vasa_core.face.basis import CLOSED_GAP
    from vasa_core.render.mouth import lip_seal

    face, renderer = latents["astronaut"], renderers["astronaut"]
    assert lip_seal(face.identity, face.motion) is not None  # the case this test is about
    shut = schema.neutral()
    shut[schema.POSE] = face.motion[schema.POSE]
    upper, lower = [13, 82, 312], [14, 87, 317]  # the middle of the inner lips
    points = renderer.landmarks(shut[None])
    assert np.abs(points[0][lower, 1] - points[0][upper, 1]).max() < 0.5  # pixels: they meet
    frame = renderer.render(shut)[0]
    seen = lmk.detect_all(frame)[0]
    width = np.linalg.norm(seen[234, :2] - seen[454, :2])
    assert (seen[14, 1] - seen[13, 1]) / width < CLOSED_GAP / 2
    # And no slit of teeth or shadow between them: the seam is as light as the lips.
    x, y = points[0][[13, 14], :2].mean(axis=0).round().astype(int)
    seam = frame[y - 1 : y + 2, x - 10 : x + 11].reshape(-1, 3).mean(axis=0)
    lips = frame[y - 4 : y + 5, x - 10 : x + 11].reshape(-1, 3).mean(axis=0)
    assert np.abs(seam - lips).max() < 20, (seam, lips)


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper", "drawn"])
def test_the_lip_seal_leaves_every_portraits_own_expression_as_fitted(name, latents, renderers):
    """The seal closes only what the motion closes: at the portrait's own expression the
    landmarks are the fit's, sealed or not (only the astronaut's identity needs a seal)."""
    from vasa_core.render.mouth import lip_seal

    face, renderer = latents[name], renderers[name]
    assert (lip_seal(face.identity, face.motion) is not None) == (name == "astronaut")
    drawn = renderer.to_portrait(renderer.landmarks(face.motion[None]))[0]
    fitted = rig.decode(
        face.identity,
        face.motion[None, schema.POSE],
        face.motion[None, schema.DYNAMICS],
        face.anchor,
    )[0]
    assert np.abs(drawn[:, :2] - fitted[:, :2]).max() < 1e-3
