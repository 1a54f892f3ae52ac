"""Trained weights that ship with the kit (see MODEL_CARD.md)."""
