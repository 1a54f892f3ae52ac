"""FaceLatents: a portrait split into appearance, identity, head pose and facial dynamics.

VASA-1 learns these four parts with separate encoders; we get them explicitly:
- appearance: the portrait itself and its Face Mesh landmarks (the renderer warps it);
- identity:   the neutral 3D shape of this face in canonical units (its expression taken out);
- pose:       yaw, pitch, roll of the head in the portrait (tx = ty = 0, scale = 1 by
              definition: later motion is relative to this place and size);
- dynamics:   the expression the portrait shows, by name (schema.DYNAMICS_NAMES).
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vasa_core import schema
from vasa_core.errors import VasaError
from vasa_core.face import landmarks as lm
from vasa_core.face import rig
from vasa_core.face.image import as_rgb_array
from vasa_core.files import atomic_write, check_output

FORMAT_VERSION = 1


@dataclass
class FaceLatents:
    image: np.ndarray  # appearance: [H, W, 3] uint8
    landmarks: np.ndarray  # appearance: [478, 3] Face Mesh landmarks, pixels
    identity: np.ndarray  # [478, 3] neutral shape, canonical units
    pose: np.ndarray  # [6] schema pose channels
    dynamics: np.ndarray  # [16] schema dynamics channels
    anchor: rig.Anchor  # where the head sits in the image
    n_faces: int = 1

    @property
    def motion(self) -> np.ndarray:
        """The portrait's own motion vector [schema.DIM]."""
        return np.concatenate([self.pose, self.dynamics]).astype(np.float32)

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Face box (x0, y0, x1, y1) in pixels, from the landmarks."""
        x, y = self.landmarks[:, 0], self.landmarks[:, 1]
        return float(x.min()), float(y.min()), float(x.max()), float(y.max())

    def decode(self, motion: np.ndarray | None = None) -> np.ndarray:
        """Landmarks [478, 3] (pixels) of this face under a motion vector (default: its own),
        or [T, 478, 3] for a motion [T, DIM]."""
        m = self.motion if motion is None else schema.check(motion)
        return rig.decode(self.identity, m[..., schema.POSE], m[..., schema.DYNAMICS], self.anchor)

    def summary(self) -> dict:
        """Plain numbers for printing or JSON."""
        return {
            "pose": {
                n: round(float(v), 3) for n, v in zip(schema.POSE_NAMES, self.pose, strict=True)
            },
            "dynamics": {
                n: round(float(v), 3)
                for n, v in zip(schema.DYNAMICS_NAMES, self.dynamics, strict=True)
            },
            "face_box": [round(v, 1) for v in self.box],
            "faces_found": self.n_faces,
            "image_size": [int(self.image.shape[1]), int(self.image.shape[0])],
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write an .npz file (atomically: a complete file or none)."""
        path = check_output(path, ".npz", "latents")  # npz bytes under another name mislead
        arrays = {
            "format_version": np.array(FORMAT_VERSION),
            "schema_version": np.array(schema.SCHEMA_VERSION),
            "image": self.image,
            "landmarks": self.landmarks,
            "identity": self.identity,
            "pose": self.pose,
            "dynamics": self.dynamics,
            "anchor_scale": np.array(self.anchor.scale),
            "anchor_offset": self.anchor.offset,
            "n_faces": np.array(self.n_faces),
        }
        with atomic_write(path) as f:
            np.savez_compressed(f, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> FaceLatents:
        path = Path(path)
        if not path.is_file():
            raise VasaError(f"{path}: no such file")
        try:
            with np.load(path, allow_pickle=False) as data:
                if int(data["schema_version"]) != schema.SCHEMA_VERSION:
                    raise VasaError(
                        f"{path}: made for motion schema v{int(data['schema_version'])}"
                    )
                return cls(
                    image=data["image"],
                    landmarks=data["landmarks"],
                    identity=data["identity"],
                    pose=data["pose"],
                    dynamics=data["dynamics"],
                    anchor=rig.Anchor(float(data["anchor_scale"]), data["anchor_offset"]),
                    n_faces=int(data["n_faces"]),
                )
        except (KeyError, ValueError, OSError, zipfile.BadZipFile) as error:
            raise VasaError(f"{path}: not a face latents file ({error})") from None


def analyze(image, name: str = "image") -> FaceLatents:
    """Split a portrait (path, PIL image or array) into its face latents."""
    if isinstance(image, (str, os.PathLike)):
        name = str(image)
    rgb = as_rgb_array(image)
    found = lm.detect(rgb, name=name)
    encoding = rig.encode(found.landmarks)
    return FaceLatents(
        image=rgb,
        landmarks=found.landmarks,
        identity=rig.identity_of(encoding),
        pose=encoding.pose,
        dynamics=encoding.dynamics,
        anchor=encoding.anchor,
        n_faces=found.n_faces,
    )


def to_json(latents: FaceLatents) -> str:
    return json.dumps(latents.summary(), indent=2)
