"""Stage 4: decoding motion into frames (mesh warp, mouth, eyes, paste-back) and video."""

from vasa_core.render.renderer import Renderer, pick_device

__all__ = ["Renderer", "pick_device"]
