"""Stage 2: audio in any common format, and features aligned to video frames."""

from vasa_core.audio.features import AudioFeatures, compute_features
from vasa_core.audio.load import RATE, load_audio

__all__ = ["RATE", "AudioFeatures", "compute_features", "load_audio"]
