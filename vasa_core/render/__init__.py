"""Stage 4: decoding motion into frames: mesh warp, mouth, eyes, paste-back. Writing them
to a video file is `vasa_core.media`'s job."""

from vasa_core.render.renderer import Renderer

__all__ = ["Renderer"]
