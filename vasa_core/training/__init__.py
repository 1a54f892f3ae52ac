"""Training the motion generator on a corpus (synthetic or ingested), in three parts:

- `setup`: the clips of a corpus folder, the train/held-out split, the window sampler;
- `loop`: the loss, and the training loop with its validation;
- `checkpointing`: the model file and the training state a run resumes from.

    vasa train --data DIR --out CKPT.safetensors [--steps N] [--resume]
"""

from vasa_core.training.loop import DROP, train
from vasa_core.training.setup import load_clips, split

__all__ = ["DROP", "load_clips", "split", "train"]
