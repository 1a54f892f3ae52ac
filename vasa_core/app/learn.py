"""The Learn tab: the four stages of VASA-1, where each lives in the kit, the motion latent
they share, and the device this app computes on."""

from __future__ import annotations

import gradio as gr

from vasa_core import schema
from vasa_core.app.shared import device_line

LEARN = """
### VASA-1 in four stages
1. **Face latents** (`vasa_core.face`, notebook 01): Face Mesh landmarks, a canonical frame
   and head pose from a rigid fit, and an expression rig whose named coefficients are the
   facial dynamics. *Shown beside the portrait; move them in Edit.*
2. **Audio features** (`vasa_core.audio`, notebook 02): log-mel, loudness, pitch, voicing per
   video frame; speech with phoneme timings; a synthetic training corpus.
3. **Motion diffusion** (`vasa_core.motion`, notebook 03): a transformer that samples pose
   and dynamics from audio, steerable by gaze, distance and emotion. *Generate.*
4. **Decoding** (`vasa_core.render`, notebook 04): warp the portrait to follow the motion:
   a mesh warp, the mouth's inside, eyes that blink and look around. *Edit and Reenact.*

Notebook 05 runs them end to end. Open the notebooks with `make lab`
(folder `notebooks/`); the tutorials are in `tutorials/`.

### This app's device
{device} The motion generator and every renderer run there; Face Mesh always runs on
the CPU.

The motion latent every stage shares:

```
{schema}
```
"""


def learn_tab() -> None:
    """Lay out the Learn tab (inside a `gr.Tab`): text only, no handlers."""
    gr.Markdown(LEARN.format(schema=schema.describe(), device=device_line()))
