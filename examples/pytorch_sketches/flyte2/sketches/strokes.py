import torch


class StrokesDataset(torch.utils.data.Dataset):
    """Small 8x8 'sketches' of a few classes: each class lights one row band, plus noise."""

    def __init__(self, count: int, classes: int, seed: int = 0):
        generator = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(0, classes, (count,), generator=generator)
        self.images = torch.rand(count, 1, 8, 8, generator=generator) * 0.3
        for index, label in enumerate(self.labels.tolist()):
            self.images[index, 0, label * 2 : label * 2 + 2, :] += 1.0

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index):
        return self.images[index], int(self.labels[index])

    def split(self, fraction: float):
        cut = int(len(self) * (1 - fraction))
        indices = list(range(len(self)))
        return torch.utils.data.Subset(self, indices[:cut]), torch.utils.data.Subset(self, indices[cut:])
