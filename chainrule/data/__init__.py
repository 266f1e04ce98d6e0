"""Data: batching NumPy arrays (``DataLoader``) and readers for bundled and file-format datasets.

Everything imported here must import with NumPy and the standard library only;
readers that need optional packages import them inside their functions.
"""

from . import augment, images, text, timeseries
from .digits import load_digits
from .collate import default_collate, default_convert
from .dataset import ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .loader import DataLoader
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)
from .workers import WorkerInfo, get_worker_info
from .text import Vocabulary, encode, read_imdb, read_text_csv, tokenize
from .timeseries import SeriesScaler, chronological_split, sliding_windows
from .tabular import DataError, Table, TablePreprocessor, read_csv
