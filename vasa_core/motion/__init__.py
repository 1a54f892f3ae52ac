"""Stage 3: the motion latent and (later) its generator. `schema` is read by every stage."""

from vasa_core.motion import schema

__all__ = ["schema"]
