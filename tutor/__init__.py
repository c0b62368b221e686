"""dl-tutor: a terminal tutor for deep learning with PyTorch."""

__version__ = "0.1.0"
