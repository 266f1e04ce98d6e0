"""What it costs to have the library at all: ``import`` time and installed size, chainrule against PyTorch.

    python -m benchmarks.startup [--quick]

Import time: ``import chainrule`` and ``import torch`` each in fresh interpreters, interleaved, median of
several runs; only the ``import`` statement is timed (not the interpreter's own start-up). Byte code is
cached first, as it is after ``pip install`` (which compiles ``.pyc`` files): the runs use a private
``PYTHONPYCACHEPREFIX`` that one untimed import per package fills, so the working tree and
site-packages are not touched and no package is timed while compiling.

Installed size: the files each distribution's RECORD lists (``importlib.metadata``), summed: chainrule
(its source tree when it is not pip-installed) plus its one required dependency, NumPy, against
``torch`` plus the packages it requires.
"""

import argparse
import importlib.metadata
import os
import re
import subprocess
import sys
import tempfile

from ._common import ROOT, installed, interleaved, median

_TIMER = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


# --------------------------------------------------------------------------- import time
def _import_env(cache_dir):
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the cache must be written on the warm-up run
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _time_import(module, env):
    done = subprocess.run([sys.executable, "-c", _TIMER.format(module=module)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"import {module} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return float(done.stdout.strip().splitlines()[-1])


def import_times(modules, repeats):
    """{module: [seconds, ...]} for fresh-interpreter imports, interleaved, after one caching run each."""
    with tempfile.TemporaryDirectory(prefix="chainrule-bench-pyc-") as cache_dir:
        env = _import_env(cache_dir)
        for module in modules:  # warm-up: compiles and caches the byte code (and warms the file cache)
            _time_import(module, env)
        runs = interleaved([(lambda m=m: _time_import(m, env)) for m in modules], repeats=repeats, warmup=0)
    return dict(zip(modules, runs))


# ------------------------------------------------------------------------ installed size
def _dist_bytes(dist):
    total = 0
    for file in dist.files or ():
        path = dist.locate_file(file)
        try:
            if os.path.isfile(path):
                total += os.path.getsize(path)
        except OSError:
            pass
    return total


def _source_tree_bytes(path):
    total = 0
    for folder, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
    return total


def _required(dist):
    """Names of the distributions ``dist`` requires unconditionally on this platform (no extras)."""
    names = []
    for requirement in dist.requires or ():
        try:
            from packaging.requirements import Requirement

            parsed = Requirement(requirement)
            if parsed.marker is not None and not parsed.marker.evaluate({"extra": ""}):
                continue
            names.append(parsed.name)
        except ImportError:  # without packaging: skip anything with a marker that mentions an extra
            if "extra" in requirement.partition(";")[2]:
                continue
            names.append(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0])
    return names


def installed_bytes(name, with_requirements=False):
    """Bytes of the distribution ``name`` (plus, optionally, everything it requires, transitively), or None."""
    seen, todo, total = set(), [name], 0
    while todo:
        current = todo.pop()
        key = re.sub(r"[-_.]+", "-", current).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = importlib.metadata.distribution(current)
        except importlib.metadata.PackageNotFoundError:
            if current == name:
                return None
            continue  # an optional or platform-specific requirement that is not installed
        total += _dist_bytes(dist)
        if with_requirements:
            todo.extend(_required(dist))
    return total


def chainrule_bytes():
    """chainrule's own size: its installed files, or its source tree when run from a checkout."""
    size = installed_bytes("chainrule")
    return size if size is not None else _source_tree_bytes(ROOT / "chainrule")


# --------------------------------------------------------------------------------- rows
def rows(quick=False, threads=None):
    repeats = 3 if quick else 9
    modules = ["chainrule", "numpy"] + (["torch"] if installed("torch") else [])
    times = {module: median(runs) for module, runs in import_times(modules, repeats).items()}
    startup = {"name": "import time", "unit": "s", "better": "lower",
               "detail": f"`import chainrule` vs `import torch`, fresh interpreters, byte code cached, median of "
                         f"{repeats} (numpy alone: {times['numpy']:.3f} s)",
               "values": {"chainrule": times["chainrule"]}, "missing": {}}
    if "torch" in times:
        startup["values"]["torch"] = times["torch"]
    else:
        startup["missing"]["torch"] = "not installed"

    mb = 1024 * 1024
    ours, numpy_size = chainrule_bytes(), installed_bytes("numpy")
    size = {"name": "installed size", "unit": "MB", "better": "lower",
            "detail": f"chainrule {ours / mb:.1f} MB + numpy {numpy_size / mb:.1f} MB (its only requirement)",
            "values": {"chainrule": (ours + numpy_size) / mb}, "missing": {}}
    torch_alone = installed_bytes("torch")
    if torch_alone is None:
        size["missing"]["torch"] = "not installed"
    else:
        with_requirements = installed_bytes("torch", with_requirements=True)
        size["values"]["torch"] = with_requirements / mb
        size["detail"] += (f"; torch {torch_alone / mb:,.0f} MB + the packages it requires "
                           f"{(with_requirements - torch_alone) / mb:,.0f} MB")
    return [startup, size]


def main(argv=None):
    parser = argparse.ArgumentParser(description="import time and installed size (see the module docstring)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    for row in rows(args.quick):
        values = ", ".join(f"{k} {v:,.3f}" for k, v in row["values"].items())
        print(f"{row['name']} ({row['unit']}): {values}  [{row['detail']}]")


if __name__ == "__main__":
    main()
