"""The whole page: the portrait header above five tabs, put together in `build_app`, and
`main`, which chooses the device and starts the server (`python app.py` calls it)."""

from __future__ import annotations

import os
import signal
import sys

import gradio as gr

from vasa_core.app import shared
from vasa_core.app.edit import edit_tab
from vasa_core.app.generate import generate_tab
from vasa_core.app.learn import learn_tab
from vasa_core.app.live import live_tab
from vasa_core.app.portrait import header, run_analyze
from vasa_core.app.reenact import reenact_tab
from vasa_core.device import device_from_environment
from vasa_core.errors import VasaError


def build_app() -> gr.Blocks:
    """The page: each tab lays itself out and wires its own handlers; only the portrait's
    analysis spans two parts (it fills the header and the Edit tab), so it is wired here."""
    with gr.Blocks(title="vasa-kit", delete_cache=shared.DELETE_CACHE) as demo:
        top = header()
        with gr.Tab("Generate", elem_id="tab-generate"):
            generate_tab(top.portrait)
        with gr.Tab("Edit", elem_id="tab-edit"):
            edit = edit_tab(top.portrait)
        with gr.Tab("Live", elem_id="tab-live"):
            live_tab(top.portrait)
        with gr.Tab("Reenact", elem_id="tab-reenact"):
            reenact_tab(top.portrait)
        with gr.Tab("Learn", elem_id="tab-learn"):
            learn_tab()
        top.portrait.change(
            run_analyze,
            [top.portrait],
            [top.overlay, top.numbers, edit.moved, *edit.sliders],
            api_name="analyze",
        )
    return demo


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Start the app: `VASA_HOST` and `VASA_PORT` say where, `VASA_DEVICE` on what."""
    try:
        # Read once, before anything loads: a wrong name, or cuda on a machine without a
        # GPU, stops here with one line instead of failing at the first Generate.
        chosen = shared.use_device(device_from_environment())
    except VasaError as error:
        sys.exit(f"vasa-kit app: VASA_DEVICE: {error}")  # printed to stderr, exit status 1
    host = os.environ.get("VASA_HOST", "127.0.0.1")
    port = int(os.environ.get("VASA_PORT", "7860"))
    print(f"vasa-kit app: open http://{host}:{port} (Ctrl+C stops it); computing on {chosen}")
    # SIGTERM (kill, a service manager) stops the server as Ctrl+C does, so that Gradio
    # empties its cache and the app's folder goes (atexit), which a plain SIGTERM skips.
    signal.signal(signal.SIGTERM, _interrupt)
    # One request at a time: a CPU does one well, and the models are shared.
    build_app().queue(default_concurrency_limit=1).launch(
        server_name=host, server_port=port, ssr_mode=False, max_file_size=shared.MAX_UPLOAD
    )
