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
    sliders = result[2:]  # the session state is not part of the API's answer
    assert len(sliders) == vasa_app.schema.DIM
    assert sliders[0]["value"] == pytest.approx(numbers["pose"]["yaw"], abs=1e-3)


def test_no_face_is_a_visible_error_not_a_crash(client, tmp_path):
    import skimage.data

    path = tmp_path / "coffee.png"
    Image.fromarray(skimage.data.coffee()).save(path)
    with pytest.raises(Exception, match="no face found"):
        client.predict(gradio_client.handle_file(str(path)), api_name="/run_analyze")


def test_motion_sliders_move_the_landmarks(latents):
    face = latents["drawn"]
    motion = face.motion.copy()
    rest = vasa_app.run_motion(face, *motion)
    motion[vasa_app.schema.index("jaw_open")] = 1.0
    open_mouth = vasa_app.run_motion(face, *motion)
    assert rest.shape == open_mouth.shape
    assert np.abs(rest.astype(int) - open_mouth).sum() > 0
