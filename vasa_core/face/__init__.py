"""Stage 1: a portrait split into appearance, identity, head pose and facial dynamics."""

from vasa_core.face.latents import FaceLatents, analyze

__all__ = ["FaceLatents", "analyze"]
