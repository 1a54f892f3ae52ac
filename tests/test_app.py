"""The app, launched for real on a local port and driven through gradio_client."""

import socket

import numpy as np
import pytest
from PIL import Image

gradio_client = pytest.importorskip("gradio_client")

import app as vasa_app  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def client():
    demo = vasa_app.build_app()
    port = free_port()
    demo.queue().launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        ssr_mode=False,
    )
    yield gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
    demo.close()


def test_analyze_an_example_through_the_api(client, tmp_path):
    path = tmp_path / "grace.png"
    Image.fromarray(vasa_app.examples.load("grace_hopper")).save(path)
    result = client.predict(gradio_client.handle_file(str(path)), api_name="/run_analyze")
    overlay, numbers = result[0], result[1]
    assert Image.open(overlay).size[0] >= 512
    assert numbers["faces_found"] == 1
    assert numbers["dynamics"]["jaw_open"] < 0.15
    assert Image.open(result[2]).size == (512, 512)  # the portrait, rendered for the Edit tab
    sliders = result[3:]  # the session state is not part of the API's answer
    assert len(sliders) == vasa_app.schema.DIM
    assert sliders[0]["value"] == pytest.approx(numbers["pose"]["yaw"], abs=1e-3)


def test_no_face_is_a_visible_error_not_a_crash(client, tmp_path):
    import skimage.data

    path = tmp_path / "coffee.png"
    Image.fromarray(skimage.data.coffee()).save(path)
    with pytest.raises(Exception, match="no face found"):
        client.predict(gradio_client.handle_file(str(path)), api_name="/run_analyze")


def test_edit_sliders_re_render_the_portrait(latents):
    face = latents["drawn"]
    motion = face.motion.copy()
    rest = vasa_app.run_motion(face, *motion)
    motion[vasa_app.schema.index("jaw_open")] = 1.0
    open_mouth = vasa_app.run_motion(face, *motion)
    assert rest.shape == open_mouth.shape == (512, 512, 3)
    changed = np.abs(rest.astype(int) - open_mouth).max(axis=2) > 30
    ys, xs = np.nonzero(changed)
    mouth = vasa_app._renderer(face).landmarks(motion[None])[0][[13, 14]].mean(axis=0)
    assert changed.sum() > 200  # the mouth opened...
    assert np.hypot(xs.mean() - mouth[0], ys.mean() - mouth[1]) < 60  # ...around the mouth


def test_test_video_renders_an_mp4(latents):
    from vasa_core.render.video import read_video

    class NoProgress:
        def tqdm(self, iterable, **_):
            return iterable

    path = vasa_app.run_test_video(latents["drawn"], progress=NoProgress())
    frames, fps = read_video(path)
    assert frames.shape == (100, 512, 512, 3) and fps == 25


def test_generate_makes_a_talking_video(latents):
    from vasa_core.render.video import read_video

    class NoProgress:
        def __call__(self, *args, **kwargs):
            pass

    path = vasa_app.run_generate(
        latents["drawn"], "Hello there.", None, "en-us", "happy", 0.5, 1.0, 0, progress=NoProgress()
    )
    frames, fps = read_video(path)
    assert fps == 25 and len(frames) > 15 and frames.shape[1:] == (512, 512, 3)
    with pytest.raises(Exception, match="type something"):
        vasa_app.run_generate(
            latents["drawn"], "  ", None, "en-us", "neutral", 0, 1, 0, progress=NoProgress()
        )
