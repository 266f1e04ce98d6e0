"""Data: batching NumPy arrays (``DataLoader``) and readers for bundled and file-format datasets.

Everything imported here must import with NumPy and the standard library only;
readers that need optional packages import them inside their functions.
"""

from . import augment, images, text, timeseries
from .digits import load_digits
from .loader import DataLoader
from .text import Vocabulary, encode, read_imdb, read_text_csv, tokenize
from .timeseries import SeriesScaler, chronological_split, sliding_windows
from .tabular import DataError, Table, TablePreprocessor, read_csv
