import pandas as pd
from sklearn.datasets import load_wine

FEATURE_COLUMNS = ["alcohol", "malic_acid", "ash", "magnesium", "flavanoids", "color_intensity", "proline"]
TARGET_COLUMN = "target"


def load_wine_frame(limit: int) -> pd.DataFrame:
    frame = load_wine(as_frame=True).frame
    return frame[FEATURE_COLUMNS + [TARGET_COLUMN]].head(limit)
