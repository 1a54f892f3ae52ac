"""Stage 3: motion from audio: the diffusion transformer, its sampler and the generator
that runs it over a clip. The motion latent it produces is defined in `vasa_core.schema`."""
