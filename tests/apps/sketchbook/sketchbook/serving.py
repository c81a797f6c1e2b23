"""Serving the model, as the FastAPI demo does: never imported by the components."""

from sketchbook.main import model

app = model.serve if hasattr(model, "serve") else None
