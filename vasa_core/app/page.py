"""The whole page: the portrait column beside five tabs (above them on a phone), put together
in `build_app`, its style sheet `CSS`, and `main`, which chooses the device and starts the
server (`python app.py` calls it).

At 1366x768 the first screen holds the portrait and its examples, the text, the voice,
Generate and the live preview beside the video; the controls wait in a closed group."""

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
        with gr.Row(elem_id="page", equal_height=False):
            with gr.Column(scale=2, min_width=300, elem_id="portrait-column"):
                top = header()
            with gr.Column(scale=5, min_width=320, elem_id="tabs-column"):
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


# Contrast (every text at 4.5:1 or more on its background), the Edit picture that stays in
# view while its sliders move, and a phone layout that puts Generate on the first screen.
CSS = """
.gradio-container {
  --body-text-color-subdued: #4b5563;
  --block-info-text-color: #4b5563;
  --block-label-text-color: #374151;
  --input-placeholder-color: #4b5563;
  --link-text-color: #1d4ed8;
  /* white on Gradio's orange is 2.8:1; on this darker orange 5.2:1 */
  --button-primary-background-fill: #c2410c;
  --button-primary-background-fill-hover: #9a3412;
  --button-primary-border-color: #c2410c;
}
/* clip, not hidden: a hidden overflow makes a scroll box that stops position: sticky */
.gradio-container { max-width: 100% !important; padding-top: 8px !important;
  overflow: clip !important; }
#title h2 { margin: 0 0 2px 0; }
#title p, #guide p { margin: 0; }
button[role="tab"][aria-selected="true"] { color: #9a3412 !important; }
footer, footer a, footer button, footer span { color: #374151 !important; }
#edit-picture { position: sticky; top: 0; align-self: flex-start; z-index: 1000;
  background: #ffffff !important; padding-bottom: 4px; }
#edit-picture .block { background: #ffffff !important; }
/* Once the video is there the preview (cleared by then) steps aside: the result alone */
#generate-outputs:has(#talking-video video) #preview,
#reenact-outputs:has(#reenact-video video) #reenact-preview { display: none !important; }
/* A refused request: its message (the toast) is the one error shown; Gradio would also
   put an "Error" badge over every output box, hiding what they held */
[data-testid="status-tracker"]:has(> span.error) { display: none !important; }
/* The plot starts below its box's label, which floats over the top of the box */
#curves [data-testid="matplotlib"] { padding-top: 30px; }
@media (max-width: 700px) {
  .gradio-container { padding: 4px !important; }
  #overlay, #latents, #consent, #device, #examples .label { display: none !important; }
  #portrait { height: 170px !important; }
  #portrait img { max-height: 130px; }
  #edit-image { height: 190px !important; }
  #edit-image img { max-height: 160px; }
  #test-video:not(:has(video)) { display: none !important; }
  #generate-recording { order: 10; }
  /* all five tabs in one row, none behind a "More tabs" menu */
  .tab-container button { padding-left: 6px !important; padding-right: 6px !important; }
}
"""


# Names that Gradio's components leave out or get wrong (axe-core checks them in the browser
# test), mended as elements come and go:
# - alt text for every picture (Gradio gives its images none): its box's label, e.g. "Live
#   preview";
# - an empty box's placeholder carries aria-label="Empty value" on a plain div, where a label
#   is not allowed: it becomes an image named "<box label>: empty";
# - an upload area is named "Drop an image file here to upload" while it shows "Drop Image
#   Here - or - Click to Upload": without the aria-label its name is the text a user sees
#   (and says, with speech input);
# - a code block that scrolls sideways (the Learn tab's schema, on a phone) takes the focus,
#   so that a keyboard can scroll it too;
# - an error's header is a "button" holding the close button (a button in a button): the close
#   button alone stays, the one control a keyboard needs.
# And the first live frame of a run brings its preview into view where it is below the screen
# (a phone): the button's own smooth scroll can be cut short as the page changes under it.
JS = """
() => {
  const previews = {'preview': 'generate-outputs', 'reenact-preview': 'reenact-outputs'};
  const had = {};
  const follow = () => Object.entries(previews).forEach(([id, box]) => {
    const frame = document.querySelector(`#${id} img`);
    if (frame && !had[id]) {
      const r = frame.getBoundingClientRect();
      if (r.top < 0 || r.bottom > window.innerHeight) {
        document.getElementById(box)?.scrollIntoView({block: 'nearest'});
      }
    }
    had[id] = !!frame;
  });
  const name = (e) => {
    const block = e.closest('.block');
    const label = block && block.querySelector('[data-testid="block-label"]');
    return (label && label.textContent.trim()) || 'picture';
  };
  const fill = () => {
    document.querySelectorAll('img:not([alt]), img[alt=""]').forEach(
      (img) => img.setAttribute('alt', name(img)));
    document.querySelectorAll('div.empty[aria-label]:not([role])').forEach((box) => {
      box.setAttribute('role', 'img');
      box.setAttribute('aria-label', `${name(box)}: empty`);
    });
    document.querySelectorAll('button.upload-container[aria-label]').forEach(
      (button) => button.removeAttribute('aria-label'));
    document.querySelectorAll('pre:not([tabindex])').forEach(
      (pre) => pre.setAttribute('tabindex', '0'));
    document.querySelectorAll('.toast-header[role="button"]').forEach((head) => {
      head.removeAttribute('role');
      head.removeAttribute('tabindex');
    });
    follow();
  };
  new MutationObserver(fill).observe(document.body, {subtree: true, childList: true,
    attributes: true, attributeFilter: ['src', 'alt', 'aria-label']});
  fill();
}
"""


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
        server_name=host,
        server_port=port,
        ssr_mode=False,
        max_file_size=shared.MAX_UPLOAD,
        css=CSS,
        js=JS,
    )
