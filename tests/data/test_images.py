"""Tests for chainrule/data/images.py and chainrule/data/augment.py.

Every reader is tested on small files written in the real format (plain and gzipped), and on
corrupt ones: wrong magic number, truncated, extra bytes, mismatched labels.
"""

import gzip
import struct

import numpy as np
import pytest

from chainrule.data import augment
from chainrule.data.images import (
    channel_stats,
    load_cifar10,
    load_image_folder,
    load_mnist,
    normalize_images,
    plot_image_predictions,
    read_cifar10_batch,
    read_idx,
    write_cifar10_batch,
    write_idx,
)


@pytest.fixture
def digits(rng):
    """Five 28x28 uint8 'images' and their labels."""
    return rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), np.array([3, 1, 4, 1, 5], np.uint8)


def _idx_bytes(array, code=0x08):
    """An IDX file built by hand from the format description (independent of write_idx)."""
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


# ------------------------------------------------------------------------ IDX
@pytest.mark.parametrize("gzipped", [False, True])
def test_read_idx_of_a_hand_made_file(tmp_path, digits, gzipped):
    images, _ = digits
    data = _idx_bytes(images)
    path = tmp_path / ("images.idx3-ubyte" + (".gz" if gzipped else ""))
    path.write_bytes(gzip.compress(data) if gzipped else data)
    out = read_idx(path)
    assert out.dtype == np.uint8 and out.shape == (5, 28, 28)
    np.testing.assert_array_equal(out, images)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_write_and_read_idx_round_trip(tmp_path, rng, dtype):
    array = (rng.standard_normal((3, 4, 2)) * 100).astype(dtype)
    for name in ("a.idx", "a.idx.gz"):
        write_idx(tmp_path / name, array)
        out = read_idx(tmp_path / name)
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, array)
    # big-endian on disk, as the format requires
    assert (tmp_path / "a.idx").read_bytes()[2] == {np.uint8: 8, np.int8: 9, np.int16: 11, np.int32: 12,
                                                     np.float32: 13, np.float64: 14}[dtype]


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda b: b"\x00\x01" + b[2:], r"not an IDX file: magic number 00010803"),
        (lambda b: b[:2] + b"\x07" + b[3:], r"not an IDX file: magic number 00000703"),
        (lambda b: b[:-10], r"IDX file truncated: header says shape \(5, 28, 28\) of uint8, i.e. 3936 bytes, but the file has 3926"),
        (lambda b: b + b"\x00", r"IDX file has extra bytes: .* 3936 bytes, but the file has 3937"),
        (lambda b: b[:2], r"not an IDX file: 2 bytes, shorter than the 4-byte magic number"),
        (lambda b: b[:9], r"truncated IDX header: 3 dimensions need 16 bytes, the file has 9"),
    ],
)
def test_read_idx_rejects_corrupt_files_naming_them(tmp_path, digits, mutate, message):
    path = tmp_path / "bad-images-idx3-ubyte"
    path.write_bytes(mutate(_idx_bytes(digits[0])))
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_rejects_truncated_gzip(tmp_path, digits):
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(_idx_bytes(digits[0]))[:-20])
    with pytest.raises(ValueError, match=r"images.gz: corrupt or truncated gzip file"):
        read_idx(path)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_idx(tmp_path / "nothing")


@pytest.mark.parametrize("gzipped", [False, True])
def test_load_mnist_from_a_directory(tmp_path, digits, gzipped):
    images, labels = digits
    suffix = ".gz" if gzipped else ""
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", images)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", labels)
    x, y = load_mnist(tmp_path, kind="test")
    assert x.shape == (5, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x[:, 0], images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    raw, _ = load_mnist(images=tmp_path / f"t10k-images-idx3-ubyte{suffix}", scale=False)
    np.testing.assert_array_equal(raw[:, 0], images)


def test_load_mnist_checks_images_against_labels(tmp_path, digits):
    images, labels = digits
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels[:4])
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte: 4 labels for the 5 images in .*train-images"):
        load_mnist(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", images.astype(np.int32))
    with pytest.raises(ValueError, match=r"expected MNIST images, a 3-D uint8 IDX array .* got shape \(5, 28, 28\) of int32"):
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"load_mnist: none of .*t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, kind="test")


# ------------------------------------------------------------------- CIFAR-10
def _cifar_records(rng, n):
    images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, n)
    # one record per image: label byte, then the red, green and blue planes, each row-major
    raw = b"".join(bytes([labels[i]]) + images[i, 0].tobytes() + images[i, 1].tobytes() + images[i, 2].tobytes()
                   for i in range(n))
    return images, labels, raw


@pytest.mark.parametrize("gzipped", [False, True])
def test_read_cifar10_batch_of_hand_made_records(tmp_path, rng, gzipped):
    images, labels, raw = _cifar_records(rng, 4)
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(gzip.compress(raw) if gzipped else raw)
    x, y = read_cifar10_batch(path, scale=False)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    xs, _ = read_cifar10_batch(path)
    assert xs.dtype == np.float32 and xs.max() <= 1.0
    np.testing.assert_allclose(xs, images / 255.0, rtol=1e-6)


def test_load_cifar10_concatenates_batches(tmp_path, rng):
    parts = [_cifar_records(rng, n) for n in (3, 2)]
    for i, (images, labels, _) in enumerate(parts, start=1):
        write_cifar10_batch(tmp_path / f"data_batch_{i}.bin", images, labels)
    write_cifar10_batch(tmp_path / "test_batch.bin", parts[0][0], parts[0][1])
    x, y = load_cifar10(tmp_path, scale=False)
    np.testing.assert_array_equal(x, np.concatenate([parts[0][0], parts[1][0]]))
    np.testing.assert_array_equal(y, np.concatenate([parts[0][1], parts[1][1]]))
    assert load_cifar10(tmp_path, train=False)[0].shape == (3, 3, 32, 32)


def test_read_cifar10_rejects_truncated_and_bad_labels(tmp_path, rng):
    _, _, raw = _cifar_records(rng, 2)
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(raw[:-5])
    with pytest.raises(ValueError, match=r"data_batch_1.bin: not a CIFAR-10 binary batch: 6141 bytes .* 1 whole records and 3068 bytes left over"):
        read_cifar10_batch(path)
    path.write_bytes(bytes([12]) + raw[1:])
    with pytest.raises(ValueError, match=r"record 0 has label 12, but CIFAR-10 labels are 0-9"):
        read_cifar10_batch(path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="load_cifar10: none of"):
        load_cifar10(tmp_path / "empty")


# --------------------------------------------------------------- image folder
def test_load_image_folder(tmp_path, rng):
    Image = pytest.importorskip("PIL.Image")
    saved = {}
    for name, count in (("cat", 2), ("dog", 3)):
        (tmp_path / name).mkdir()
        for i in range(count):
            pixels = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{i}.png")
            saved[(name, i)] = pixels
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    x, y, names = load_image_folder(tmp_path)
    assert names == ["cat", "dog"] and x.shape == (5, 3, 6, 5) and x.dtype == np.float32
    np.testing.assert_array_equal(y, [0, 0, 1, 1, 1])
    np.testing.assert_allclose(x[2], saved[("dog", 0)].transpose(2, 0, 1) / 255.0, rtol=1e-6)
    grey, _, _ = load_image_folder(tmp_path, image_size=(4, 3), grayscale=True, scale=False)
    assert grey.shape == (5, 1, 4, 3) and grey.dtype == np.uint8


def test_load_image_folder_errors(tmp_path, rng):
    Image = pytest.importorskip("PIL.Image")
    (tmp_path / "a").mkdir()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "a" / "small.png")
    Image.fromarray(np.zeros((5, 4), np.uint8)).save(tmp_path / "a" / "tall.png")
    with pytest.raises(ValueError, match=r"tall.png: image of shape \(5, 4\) differs from \(4, 4\) of .*small.png; pass image_size"):
        load_image_folder(tmp_path)
    (tmp_path / "a" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(ValueError, match=r"broken.png: cannot read this image"):
        load_image_folder(tmp_path, image_size=4)
    with pytest.raises(ValueError, match="has no sub-folders"):
        load_image_folder(tmp_path / "a")


# ---------------------------------------------------------------- normalising
def test_channel_stats_and_normalize(rng):
    x = rng.standard_normal((10, 3, 4, 4)).astype(np.float32) * np.array([1, 2, 3], np.float32)[:, None, None] + 5
    mean, std = channel_stats(x)
    z = normalize_images(x, mean, std)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1, atol=1e-4)
    with pytest.raises(ValueError, match=r"one value per channel \(3\), got 2 and 2"):
        normalize_images(x, [0, 0], [1, 1])


# --------------------------------------------------------------- augmentation
def test_random_shift_moves_whole_images_with_zero_fill(rng):
    x = rng.integers(1, 9, (64, 2, 6, 7)).astype(np.float32)
    out = augment.random_shift(x, 2, seed=0)
    assert out.shape == x.shape
    moved = 0
    for i in range(len(x)):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(out[i], _shift(x[i], dy, dx))]
        assert found, f"image {i} is not a shifted copy"
        moved += found[0] != (0, 0)
    assert moved > 40  # most of the 64 images moved (24 of 25 offsets are moves)


def _shift(image, dy, dx):
    out = np.zeros_like(image)
    h, w = image.shape[1:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = image[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def test_random_crop_reflect_and_flip(rng):
    x = rng.standard_normal((16, 3, 8, 8)).astype(np.float32)
    crop = augment.random_crop(x, 4, seed=1, mode="reflect")
    assert crop.shape == x.shape and not np.any(crop == 0)
    flipped = augment.random_flip(x, p=1.0, seed=0)
    np.testing.assert_array_equal(flipped, x[..., ::-1])
    np.testing.assert_array_equal(augment.random_flip(x, p=0.0, seed=0), x)
    some = augment.random_flip(x, seed=0)
    same = [np.array_equal(some[i], x[i]) for i in range(16)]
    assert 0 < sum(same) < 16


def test_augmenter_is_seeded_and_differs_between_batches(rng):
    x = rng.standard_normal((8, 1, 10, 10)).astype(np.float32)
    a, b = augment.ImageAugmenter(max_shift=2, flip=True, seed=3), augment.ImageAugmenter(max_shift=2, flip=True, seed=3)
    first, second = a(x), a(x)
    np.testing.assert_array_equal(first, b(x))  # same seed, same draws
    assert not np.array_equal(first, second)  # a new draw for every batch
    with pytest.raises(ValueError, match="give crop_padding or max_shift, not both"):
        augment.ImageAugmenter(crop_padding=2, max_shift=1)
    with pytest.raises(ValueError, match=r"random_crop: expected a batch of images \(N, C, H, W\), got shape \(10, 10\)"):
        augment.random_crop(x[0, 0], 2)


# ------------------------------------------------------------------- plotting
def test_plot_image_predictions_writes_a_png(tmp_path, rng):
    pytest.importorskip("matplotlib")
    images = rng.random((6, 1, 8, 8))
    path = tmp_path / "grid.png"
    figure = plot_image_predictions(images, labels=[0, 1, 2, 3, 4, 5], predictions=[0, 1, 2, 3, 4, 0], ncols=3, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    titles = [axis.get_title() for axis in figure.axes]
    assert titles[0] == "label 0\npred 0" and titles[5] == "label 5\npred 0"
    assert figure.axes[5].title.get_color() == "red"
    with pytest.raises(ValueError, match="5 labels for 6 images"):
        plot_image_predictions(images, labels=[0] * 5)
