"""A notebook's cells saved as a script, as unionml-demo's notebook is: it imports the model from the
app's package (whose `__init__.py` re-exports it from `sketchbook/main.py`) and the dataset from the
app's module, looks at the data, then schedules training with constants of its own."""

from datetime import timedelta

from sketchbook import model
from sketchbook.main import dataset

TREES = 25
SAMPLES = 240
WEEKLY = "0 4 * * 1"

print(dataset.name, model.name)

model.schedule_training(
    name="weekly_sketch_training",
    expression=WEEKLY,
    hyperparameters={"n_estimators": TREES, "random_state": 5},
    count=SAMPLES,
)
model.schedule_training(
    name="hourly_sketch_training",
    fixed_rate=timedelta(hours=1),
    hyperparameters={"n_estimators": TREES // 5, "random_state": 1},
)
