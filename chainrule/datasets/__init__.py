"""Small data sets shipped with chainrule, so that examples and tests run offline.

* ``sentences.csv`` — 512 short English sentences (reviews of films, food, products, travel,
  services), half positive (label 1) and half negative (label 0), written for this project
  (CC0 / public domain). Most come in contrasting pairs ("The food was delicious..." /
  "The food was cold..."), so a model must learn the words that carry the sentiment.
* ``sunspots.csv`` — yearly mean sunspot numbers 1700–2008 (the classic series of the
  Royal Observatory of Belgium's SIDC as distributed by NOAA's National Geophysical Data
  Center, version 1 of the sunspot number; public domain), with its ~11-year solar cycle.
"""

import csv
import os

import numpy

__all__ = ["load_sentences", "load_sunspots", "dataset_path"]

_HERE = os.path.dirname(os.path.abspath(__file__))


def dataset_path(name):
    """Absolute path of the bundled file ``name`` (e.g. ``"sunspots.csv"``)."""
    path = os.path.join(_HERE, name)
    if not os.path.isfile(path):
        shipped = sorted(f for f in os.listdir(_HERE) if f.endswith((".csv", ".txt")))
        raise FileNotFoundError(f"dataset_path: chainrule ships no data file {name!r}; it has {shipped}")
    return path


def load_sentences():
    """The sentiment corpus: ``TextData(texts, labels, classes)`` with labels 0 (negative) / 1 (positive)."""
    from ..data.text import read_text_csv

    data = read_text_csv(dataset_path("sentences.csv"))
    return data._replace(classes=["negative", "positive"])


def load_sunspots():
    """Yearly sunspot numbers: ``(years, values)``, int64 years 1700..2008 and float32 values (309 each)."""
    years, values = [], []
    with open(dataset_path("sunspots.csv"), newline="") as f:
        for row in csv.DictReader(f):
            years.append(int(row["year"]))
            values.append(float(row["sunspots"]))
    return numpy.array(years, dtype=numpy.int64), numpy.array(values, dtype=numpy.float32)
