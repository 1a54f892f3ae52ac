"""The app's own temporary folder, made before Gradio is first imported so that Gradio keeps
its files there too (uploads, answers: `GRADIO_TEMP_DIR`, unless the user chose one), and
removed, all of it, when the app exits.

- `WORK`: one folder per request, each removed when its answer has been sent;
- `EXAMPLES`: the example portraits as files, since Gradio's examples are file paths, and
  the Reenact tab's driving clip, made by the kit itself on first use;
- `KEPT`: the examples' finished videos, kept for as long as the app runs (Gradio's cache of
  example outputs, `GRADIO_EXAMPLES_CACHE`, is in the app's folder too).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

FOLDER = Path(tempfile.mkdtemp(prefix="vasa-app-"))
WORK = FOLDER / "requests"
EXAMPLES = FOLDER / "examples"
KEPT = FOLDER / "kept"
WORK.mkdir()
atexit.register(shutil.rmtree, FOLDER, ignore_errors=True)
os.environ.setdefault("GRADIO_TEMP_DIR", str(FOLDER / "gradio"))
os.environ.setdefault("GRADIO_EXAMPLES_CACHE", str(FOLDER / "cached_examples"))
