"""Audio augmentation, so the generator cannot learn one synthetic voice: gain, noise,
reverberation, band-limiting (telephone), and speed (tempo and pitch together).

For the phonetic audio encoder, augment_speech.py goes further (pitch and formants apart
from tempo, codecs, noise colours) and keeps phoneme times exact."""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt


def augment(samples: np.ndarray, rate: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """(augmented samples, speed factor). Times in the original scale by 1 / speed."""
    x = samples.astype(np.float64)
    speed = 1.0
    if rng.random() < 0.5:
        speed = float(rng.choice([0.9, 0.95, 1.05, 1.1]))
        up, down = {0.9: (10, 9), 0.95: (20, 19), 1.05: (20, 21), 1.1: (10, 11)}[speed]
        x = resample_poly(x, up, down)  # fewer samples at the same rate: faster and higher
    if rng.random() < 0.4:
        seconds = rng.uniform(0.15, 0.6)  # reverberation time
        n = int(seconds * rate)
        room = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
        room[0] = 1.0
        wet = fftconvolve(x, room)[: len(x)]
        x = x + rng.uniform(0.1, 0.4) * wet / (np.abs(wet).max() + 1e-9) * np.abs(x).max()
    if rng.random() < 0.25:
        x = sosfilt(butter(4, [300, 3400], btype="band", fs=rate, output="sos"), x)
    if rng.random() < 0.5:
        snr = rng.uniform(15, 40)
        noise = rng.standard_normal(len(x))
        if rng.random() < 0.5:  # pink-ish: more low frequencies
            noise = np.cumsum(noise)
            noise -= np.convolve(noise, np.ones(400) / 400, mode="same")
        power = np.mean(x**2) + 1e-12
        x = x + noise * np.sqrt(power / (np.mean(noise**2) + 1e-12) / 10 ** (snr / 10))
    x *= 10 ** (rng.uniform(-9, 3) / 20)
    peak = np.abs(x).max()
    if peak > 0.99:
        x *= 0.99 / peak
    return x.astype(np.float32), speed
