"""The sketchbook app, run as `unionml train sketchbook.main:model` from the project's root."""

from .main import model

__all__ = ["model"]
