"""Data: batching NumPy arrays (``DataLoader``) and readers for bundled and file-format datasets.

Everything imported here must import with NumPy and the standard library only;
readers that need optional packages import them inside their functions.
"""

from . import augment, images
from .digits import load_digits
from .loader import DataLoader
from .tabular import DataError, Table, TablePreprocessor, read_csv
