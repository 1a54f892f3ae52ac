"""The vasa-kit app (Gradio), a front end at the top of the package: `make demo`, or
`python app.py`, then http://127.0.0.1:7860.

One portrait at the top (upload, webcam, or an example), analysed as soon as it arrives:
its Face Mesh fit and face latents are shown beside it. Then, in tabs:
- Generate: the portrait says a text (espeak-ng, any voice) or a recording, steered by every
  control; frames show live while the rest is made, then the video and its motion curves.
- Edit: a slider for every channel of the motion latent, re-rendered on release.
- Reenact: the portrait driven by the head motion and expressions of an uploaded video.
- Learn: the four stages of VASA-1 and where each lives in the kit.

Models load once, on the device `VASA_DEVICE` names (cpu, cuda or auto; unset: auto);
requests are queued one at a time (a CPU does one well); each request works in a temporary
folder of its own, removed when its answer has been sent; the app's folder, Gradio's cache
included, is removed when it exits.

One module a part of the page, each holding its layout function and its handlers:
`portrait` (the header), `generate`, `edit`, `reenact`, `learn`; `shared` holds what they
share (the device, the analysed-portrait cache, request folders, error display, the live
preview loop); `page` puts them together (`build_app`) and starts the server (`main`).
"""

import os

# Before Gradio is first imported (by the modules below): the app makes no outside calls,
# and Gradio's files go in the app's folder (`folders`), which goes when the app exits.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
import vasa_core.app.folders  # noqa: E402, F401
from vasa_core.app.page import build_app, main  # noqa: E402

__all__ = ["build_app", "main"]
