import pandas as pd
from sklearn.datasets import load_digits

from sketchbook.strokes import blur


def load_sketches(count: int) -> pd.DataFrame:
    frame = load_digits(as_frame=True).frame.head(count)
    features = blur(frame.drop(columns=["target"]))
    return features.assign(label=frame["target"])
