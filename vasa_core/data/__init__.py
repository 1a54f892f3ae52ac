"""Training data for the motion generator: synthetic speech-and-motion pairs with exact
timing (corpus.py), and the same pairs measured from real talking-face videos (ingest.py)."""
