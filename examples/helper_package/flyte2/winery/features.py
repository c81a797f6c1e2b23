import pandas as pd

from . import data
from .data import FEATURE_COLUMNS


def scaled(frame: pd.DataFrame) -> pd.DataFrame:
    """Every feature column divided by its maximum in the frame, the target left as it is."""
    frame = frame.copy()
    for column in FEATURE_COLUMNS:
        frame[column] = frame[column] / frame[column].abs().max()
    return frame[FEATURE_COLUMNS + [data.TARGET_COLUMN]] if data.TARGET_COLUMN in frame else frame
