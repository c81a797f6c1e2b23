"""Helpers of the sketch classifier: synthetic strokes data, the network, its training loop."""
