"""Whether a portrait is a drawing or a photo, decided once per portrait.

What the renderer paints itself (teeth, closed lids) must match the picture: flat colours
and crisp edges on a drawing, shading, grain and camera softness on a photo. The sign is
texture: a flat-shaded drawing has almost no fine-grain change inside the face.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Median grey change against a 1.5 px blur inside the face below which a picture is a
# drawing: drawings measure 0.00, photos 2-6, a painting-like filtered photo 1.4.
DRAWING_TEXTURE = 0.5


def blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of `image` [C, H, W], edges repeated."""
    radius = max(1, int(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=image.dtype, device=image.device)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = (kernel / kernel.sum()).view(1, 1, 1, -1).repeat(len(image), 1, 1, 1)
    padded = F.pad(image[None], (radius,) * 4, mode="replicate")
    out = F.conv2d(padded, kernel, groups=len(image))
    return F.conv2d(out, kernel.transpose(2, 3), groups=len(image))[0]


def texture(image: torch.Tensor, box: tuple[float, float, float, float]) -> float:
    """Median fine-grain grey change (0..255 scale) of `image` [3, H, W] in 0..1 inside
    `box` (x0, y0, x1, y1): near zero for flat-shaded drawings, a few levels for photos."""
    grey = image.mean(dim=0, keepdim=True) * 255
    x0, y0, x1, y1 = (int(v) for v in box)
    detail = (grey - blur(grey, 1.5))[0, max(y0, 0) : y1, max(x0, 0) : x1].abs()
    return float(detail.median()) if detail.numel() else 0.0


def is_drawing(image: torch.Tensor, landmarks: torch.Tensor) -> bool:
    """True for a flat-shaded drawing; `landmarks` [478, 2] place the face in `image`."""
    box = (*landmarks.min(dim=0).values.tolist(), *landmarks.max(dim=0).values.tolist())
    return texture(image, box) < DRAWING_TEXTURE
