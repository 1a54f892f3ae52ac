"""One device setting: what `pick_device` accepts, and that the stages keep to it."""

import pytest
import torch

from vasa_core.device import device_from_environment, pick_device
from vasa_core.errors import VasaError


def test_auto_picks_cuda_only_when_there_is_one():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device(None).type == expected
    assert pick_device("auto").type == expected
    assert pick_device(" CPU ") == torch.device("cpu")
    assert pick_device(torch.device("cpu")) == torch.device("cpu")


def test_a_bad_or_missing_device_is_one_clear_error():
    with pytest.raises(VasaError, match="not one of auto, cpu, cuda"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(VasaError, match="no CUDA GPU"):
            pick_device("cuda")


def test_the_environment_names_the_apps_device(monkeypatch):
    monkeypatch.setenv("VASA_DEVICE", "cpu")
    assert device_from_environment() == torch.device("cpu")
    monkeypatch.setenv("VASA_DEVICE", "gpu")
    with pytest.raises(VasaError, match="gpu"):
        device_from_environment()


def test_the_pipelines_device_reaches_generator_and_renderer(latents, monkeypatch):
    import numpy as np

    from vasa_core.audio import compute_features
    from vasa_core.motion.controls import Controls
    from vasa_core.pipeline import Pipeline
    from vasa_core.render import renderer
    from vasa_core.settings import Sampling

    asked = []
    original = renderer.Renderer.__init__

    def spy(self, latents, size=512, device=None):
        asked.append(device)
        original(self, latents, size, device)

    monkeypatch.setattr(renderer.Renderer, "__init__", spy)
    pipe = Pipeline(device="cpu")
    assert next(pipe.generator.model.parameters()).device == torch.device("cpu")
    features = compute_features(np.zeros(8000, np.float32), fps=25)
    next(pipe.stream(latents["drawn"], features, Controls(), sampling=Sampling(steps=1)))
    assert asked == [torch.device("cpu")]
