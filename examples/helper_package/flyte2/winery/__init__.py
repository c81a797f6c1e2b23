"""Helpers of the wine app: data loading and feature engineering."""

from .data import FEATURE_COLUMNS, TARGET_COLUMN
