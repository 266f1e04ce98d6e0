"""Image datasets from files: MNIST's IDX format, CIFAR-10's binary format, and folders of images.

All readers return NumPy arrays in the layout convolution layers take, ``(N, C, H, W)``, with
pixel values scaled to [0, 1] as float32 (or the raw uint8 with ``scale=False``), and labels
as int64 class indices. Files are checked before they are trusted: a wrong magic number, a
truncated or oversized file, or labels that do not match the images raise a ValueError that
names the file, what was expected and what was found.

No pickle is used anywhere (CIFAR-10's Python version is a pickle; its *binary* version,
read here, is not). Pillow (for image folders) and matplotlib (for prediction grids) are
imported only by the functions that need them.
"""

import gzip
import os
import struct

import numpy as np

from .._atomic import atomic_write

__all__ = [
    "read_idx", "write_idx", "load_mnist", "read_cifar10_batch", "write_cifar10_batch", "load_cifar10",
    "load_image_folder", "channel_stats", "normalize_images", "plot_image_predictions",
]

# IDX type codes (http://yann.lecun.com/exdb/mnist/): stored big-endian
_IDX_TYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
_IDX_CODES = {dtype.newbyteorder("="): code for code, dtype in _IDX_TYPES.items()}

_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path):
    """The file's bytes, gunzipped when it is a gzip file (recognised by content, not by name)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path!r}") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise ValueError(f"{path}: corrupt or truncated gzip file ({error})") from None
    return raw


def _write_bytes(path, data):
    path = os.fspath(path)
    if path.endswith(".gz"):
        data = gzip.compress(data)
    with atomic_write(path, "wb") as handle:  # a crash leaves the old file or the new, never half
        handle.write(data)


# ------------------------------------------------------------------------ IDX
def read_idx(path):
    """Read an IDX file (MNIST's format; plain or gzipped) into a NumPy array in native byte order.

    Layout: two zero bytes, a type code (0x08 = uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions, one big-endian uint32 per
    dimension, then the values, big-endian, row-major.
    """
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path}: not an IDX file: {len(data)} bytes, shorter than the 4-byte magic number")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _IDX_TYPES or ndim == 0:
        raise ValueError(
            f"{path}: not an IDX file: magic number {data[:4].hex()} (expected 0000 followed by a type code in "
            f"{sorted(hex(c) for c in _IDX_TYPES)} and the number of dimensions, e.g. 00000803 for MNIST images)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header: {ndim} dimensions need {header} bytes, the file has {len(data)}")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _IDX_TYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has extra bytes"
        raise ValueError(
            f"{path}: IDX file {what}: header says shape {shape} of {dtype.newbyteorder('=').name}, i.e. "
            f"{expected} bytes, but the {'decompressed ' if _is_gzip(path) else ''}file has {len(data)}"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _is_gzip(path):
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def write_idx(path, array):
    """Write ``array`` as an IDX file (gzipped when ``path`` ends in ``.gz``)."""
    array = np.asarray(array)
    code = _IDX_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(
            f"write_idx: IDX stores uint8, int8, int16, int32, float32 or float64, got dtype {array.dtype}"
        )
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"write_idx: IDX needs 1 to 255 dimensions, got shape {array.shape}")
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    _write_bytes(path, header + array.astype(_IDX_TYPES[code], copy=False).tobytes())


_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _find(directory, stem):
    """``directory/stem`` or a usual variant of it (``.gz``, ``stem.idx3-ubyte``...): the first that exists."""
    candidates = [stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"]
    for name in candidates:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"load_mnist: none of {candidates} found in {os.fspath(directory)!r}")


def load_mnist(directory=None, kind="train", images=None, labels=None, scale=True, dtype=np.float32):
    """MNIST (or Fashion-MNIST, EMNIST...) from IDX files: ``(x, y)`` with ``x`` of shape (N, 1, H, W).

    Parameters
    ----------
    directory : path, optional
        Folder holding the usual file names (``train-images-idx3-ubyte[.gz]``,
        ``t10k-labels-idx1-ubyte[.gz]``...).
    kind : "train" or "test"
        Which pair of files to read from ``directory``.
    images, labels : path, optional
        Explicit file paths instead of ``directory`` (``labels`` may be omitted: ``y`` is None).
    scale : bool
        Pixels as ``dtype`` in [0, 1] (divided by 255); False: the raw uint8 values.
    """
    if images is None:
        if directory is None:
            raise ValueError("load_mnist: give a directory or the images (and labels) file paths")
        if kind not in _MNIST_FILES:
            raise ValueError(f"load_mnist: kind must be 'train' or 'test', got {kind!r}")
        images, labels = (_find(directory, stem) for stem in _MNIST_FILES[kind])
    x = read_idx(images)
    if x.ndim != 3 or x.dtype != np.uint8:
        raise ValueError(
            f"{images}: expected MNIST images, a 3-D uint8 IDX array (count, rows, columns), "
            f"got shape {x.shape} of {x.dtype}"
        )
    x = x[:, None]
    y = None
    if labels is not None:
        y = read_idx(labels)
        if y.ndim != 1:
            raise ValueError(f"{labels}: expected MNIST labels, a 1-D IDX array, got shape {y.shape}")
        if len(y) != len(x):
            raise ValueError(f"{labels}: {len(y)} labels for the {len(x)} images in {images}")
        y = y.astype(np.int64)
    return (_scale(x, dtype) if scale else x), y


def _scale(x, dtype):
    """uint8 pixels as ``dtype`` in [0, 1]."""
    out = x.astype(dtype)
    out *= out.dtype.type(1.0 / 255.0)
    return out


# ------------------------------------------------------------------- CIFAR-10
_CIFAR_RECORD = 1 + 3 * 32 * 32
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def read_cifar10_batch(path, scale=True, dtype=np.float32):
    """One CIFAR-10 binary batch file (``data_batch_1.bin`` ... ``test_batch.bin``): ``(x, y)``.

    Each record is 3,073 bytes: the label (0-9), then 1,024 red, 1,024 green and 1,024 blue
    pixel values of a 32x32 image, row-major. ``x`` has shape (N, 3, 32, 32).
    """
    data = _read_bytes(path)
    if len(data) == 0 or len(data) % _CIFAR_RECORD:
        raise ValueError(
            f"{path}: not a CIFAR-10 binary batch: {len(data)} bytes is not a whole number of "
            f"{_CIFAR_RECORD}-byte records (1 label byte + 3072 pixel bytes); "
            f"{len(data) // _CIFAR_RECORD} whole records and {len(data) % _CIFAR_RECORD} bytes left over"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, _CIFAR_RECORD)
    y = records[:, 0].astype(np.int64)
    if y.max() >= len(CIFAR10_CLASSES):
        bad = int(np.argmax(y >= len(CIFAR10_CLASSES)))
        raise ValueError(
            f"{path}: record {bad} has label {y[bad]}, but CIFAR-10 labels are 0-9 "
            "(is this CIFAR-100, whose records start with 2 label bytes?)"
        )
    x = records[:, 1:].reshape(-1, 3, 32, 32)
    return (_scale(x, dtype) if scale else x.copy()), y


def write_cifar10_batch(path, images, labels):
    """Write uint8 images (N, 3, 32, 32) and labels 0-9 in CIFAR-10's binary record format."""
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.shape[1:] != (3, 32, 32) or images.dtype != np.uint8:
        raise ValueError(f"write_cifar10_batch: images must be uint8 of shape (N, 3, 32, 32), got {images.shape} {images.dtype}")
    if labels.shape != (len(images),) or labels.min(initial=0) < 0 or labels.max(initial=0) > 9:
        raise ValueError(f"write_cifar10_batch: labels must be {len(images)} integers in 0-9")
    records = np.concatenate([labels.astype(np.uint8)[:, None], images.reshape(len(images), -1)], axis=1)
    _write_bytes(path, records.tobytes())


def load_cifar10(directory, train=True, scale=True, dtype=np.float32):
    """CIFAR-10 from its binary distribution (``cifar-10-batches-bin``): ``(x, y)``.

    ``train=True`` reads ``data_batch_1.bin`` to ``data_batch_5.bin`` (50,000 images; every one
    present is read, at least one must be), ``train=False`` reads ``test_batch.bin``.
    """
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
    paths = [os.path.join(directory, name) for name in names]
    present = [p for p in paths if os.path.isfile(p) or os.path.isfile(p + ".gz")]
    if not present:
        raise FileNotFoundError(f"load_cifar10: none of {names} found in {os.fspath(directory)!r}")
    parts = [read_cifar10_batch(p if os.path.isfile(p) else p + ".gz", scale, dtype) for p in present]
    return np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts])


# --------------------------------------------------------------- image folder
_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def load_image_folder(root, image_size=None, grayscale=False, scale=True, dtype=np.float32,
                      extensions=_IMAGE_EXTENSIONS):
    """Images stored one sub-folder per class (``root/cat/1.png``, ``root/dog/7.jpg``...).

    Parameters
    ----------
    root : path
    image_size : int or (height, width), optional
        Resize every image to this size; without it all images must already have one size.
    grayscale : bool
        Convert to one channel ("L"); otherwise to RGB.
    scale, dtype
        As in :func:`load_mnist`.

    Returns
    -------
    x : array (N, C, H, W)
    y : int64 array (N,): the index of each image's folder in ``class_names``
    class_names : list of str, the sub-folder names, sorted
    """
    try:
        from PIL import Image
    except ImportError as error:  # pragma: no cover - Pillow is in the 'images' extra
        raise ImportError("load_image_folder needs Pillow: pip install 'chainrule[images]'") from error
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"load_image_folder: {root!r} is not a directory")
    class_names = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if not class_names:
        raise ValueError(f"load_image_folder: {root!r} has no sub-folders; expected one sub-folder per class")
    if image_size is not None:
        image_size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    mode = "L" if grayscale else "RGB"
    arrays, labels = [], []
    first = None
    for label, name in enumerate(class_names):
        folder = os.path.join(root, name)
        for filename in sorted(os.listdir(folder)):
            if not filename.lower().endswith(tuple(extensions)):
                continue
            path = os.path.join(folder, filename)
            try:
                with Image.open(path) as image:
                    image = image.convert(mode)
                    if image_size is not None and image.size != image_size[::-1]:
                        image = image.resize(image_size[::-1])  # Pillow sizes are (width, height)
                    array = np.asarray(image, dtype=np.uint8)
            except OSError as error:
                raise ValueError(f"{path}: cannot read this image ({error})") from None
            array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
            if first is None:
                first = (path, array.shape)
            elif array.shape != first[1]:
                raise ValueError(
                    f"{path}: image of shape {array.shape[1:]} differs from {first[1][1:]} of {first[0]}; "
                    "pass image_size=(height, width) to resize them all"
                )
            arrays.append(array)
            labels.append(label)
    if not arrays:
        raise ValueError(f"load_image_folder: no images with extensions {tuple(extensions)} under {root!r}")
    x = np.stack(arrays)
    return (_scale(x, dtype) if scale else x), np.asarray(labels, dtype=np.int64), class_names


# ---------------------------------------------------------------- normalising
def channel_stats(x):
    """Per-channel mean and standard deviation of images (N, C, H, W), as float32 arrays of shape (C,).

    Compute them on the training images only, then normalise every split with them.
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"channel_stats: expected images of shape (N, C, H, W), got {x.shape}")
    mean = x.mean(axis=(0, 2, 3), dtype=np.float64)
    std = x.std(axis=(0, 2, 3), dtype=np.float64)
    return mean.astype(np.float32), std.astype(np.float32)


def normalize_images(x, mean, std, eps=1e-7):
    """``(x - mean) / std`` per channel, for images (N, C, H, W); ``mean``/``std`` of shape (C,) or scalars."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"normalize_images: expected images of shape (N, C, H, W), got {x.shape}")
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    mean = np.asarray(mean, dtype=dtype).reshape(-1, 1, 1)
    std = np.asarray(std, dtype=dtype).reshape(-1, 1, 1)
    if mean.shape[0] not in (1, x.shape[1]) or std.shape[0] not in (1, x.shape[1]):
        raise ValueError(
            f"normalize_images: mean and std need one value per channel ({x.shape[1]}), "
            f"got {mean.shape[0]} and {std.shape[0]}"
        )
    return (x.astype(dtype) - mean) / (std + dtype.type(eps))


# ------------------------------------------------------------------- plotting
def plot_image_predictions(images, labels=None, predictions=None, class_names=None, ncols=8, path=None,
                           title=None, cmap="gray"):
    """A grid of images, each titled with its label and, when given, the predicted label
    (red when they differ). Returns the matplotlib Figure; saved to ``path`` when given
    (matplotlib's Agg backend is used when nothing else has been chosen, so it works headless).

    Parameters
    ----------
    images : array (N, C, H, W) or (N, H, W)
        Pixel values; each image is scaled to its own range for display.
    labels, predictions : array (N,) of int, optional
    class_names : sequence of str, optional
        Names for the class indices.
    """
    import matplotlib

    if "matplotlib.pyplot" not in __import__("sys").modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim == 4:
        images = images.transpose(0, 2, 3, 1)  # (N, H, W, C) for imshow
        if images.shape[-1] == 1:
            images = images[..., 0]
    elif images.ndim != 3:
        raise ValueError(f"plot_image_predictions: expected images (N, C, H, W) or (N, H, W), got {images.shape}")
    n = len(images)
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) != n:
            raise ValueError(f"plot_image_predictions: {len(values)} {name} for {n} images")
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(1.4 * ncols, 1.6 * nrows), squeeze=False)

    def name_of(index):
        return str(class_names[index]) if class_names is not None else str(int(index))

    for i, axis in enumerate(axes.flat):
        axis.axis("off")
        if i >= n:
            continue
        image = images[i].astype(np.float64)
        low, high = image.min(), image.max()
        axis.imshow((image - low) / (high - low) if high > low else image * 0, cmap=cmap)
        parts = []
        if labels is not None:
            parts.append(f"label {name_of(labels[i])}")
        if predictions is not None:
            parts.append(f"pred {name_of(predictions[i])}")
        wrong = labels is not None and predictions is not None and labels[i] != predictions[i]
        axis.set_title("\n".join(parts), fontsize=8, color="red" if wrong else "black")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    if path is not None:
        figure.savefig(os.fspath(path), dpi=100)
    return figure
