"""The app's own temporary folder, made before Gradio is first imported so that Gradio keeps
its files there too (uploads, answers: `GRADIO_TEMP_DIR`, unless the user chose one), and
removed, all of it, when the app exits.

- `WORK`: one folder per request, each removed when its answer has been sent;
- `EXAMPLES`: the example portraits as files, since Gradio's examples are file paths.
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
WORK.mkdir()
atexit.register(shutil.rmtree, FOLDER, ignore_errors=True)
os.environ.setdefault("GRADIO_TEMP_DIR", str(FOLDER / "gradio"))
