"""Crash-safe files: atomic writes, stale temporary files, and a lock on an output folder.

Every file chainrule writes (model files, checkpoints, logs, the command's outputs, reports)
goes through :func:`atomic_write`: the bytes go to a temporary file in the destination's folder,
are flushed and ``fsync``-ed, and the temporary file is renamed over the destination
(``os.replace``, atomic on POSIX and Windows), then the folder is ``fsync``-ed. A crash, a
``kill -9`` or a full disk therefore leaves either the previous file or the new one, never a
torn one.

A process killed between creating its temporary file and renaming it leaves that temporary
file behind; nothing can delete it at that moment. Temporary files are named
``.<name>.<pid>.<random>.tmp`` so that the next writer in the folder can recognise them and
:func:`remove_stale_temporaries` deletes those whose process is gone (a live process's
temporary files are left alone).

:func:`lock_folder` takes an advisory ``fcntl.flock`` lock on ``<folder>/.chainrule.lock``;
the operating system drops it when the process exits or is killed, so a crashed run never
leaves a folder locked.
"""

import contextlib
import errno
import os
import re
import tempfile

__all__ = ["atomic_write", "remove_stale_temporaries", "lock_folder", "FolderLocked", "LOCK_NAME",
           "is_temporary"]

LOCK_NAME = ".chainrule.lock"
_TEMPORARY = re.compile(r"^\..+\.(\d+)\.[A-Za-z0-9_]+\.tmp$")


class FolderLocked(RuntimeError):
    """Another live process holds the lock on an output folder."""


@contextlib.contextmanager
def atomic_write(path, mode="w", encoding=None, newline=None):
    """Open a temporary file beside ``path`` for writing; on a clean exit, make it ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The destination; its folder must exist.
    mode : {"w", "wb"}
        Text (``encoding`` default UTF-8, ``newline`` as for ``open``) or binary.

    If the block raises (or writing fails: disk full, file-size limit), the temporary file is
    removed and the destination is left as it was. The new file gets an ordinary file's mode
    (``0o666`` less the umask), not ``mkstemp``'s ``0o600``.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, f"its folder {directory} does not exist", path)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.{os.getpid()}.",
                                             suffix=".tmp")
    try:
        if mode == "wb":
            file = os.fdopen(descriptor, "wb")
        else:
            file = os.fdopen(descriptor, "w", encoding=encoding or "utf-8", newline=newline)
        with file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def is_temporary(name):
    """Whether a file name is one of :func:`atomic_write`'s temporary files."""
    return _TEMPORARY.match(name) is not None


def remove_stale_temporaries(directory):
    """Delete the temporary files of :func:`atomic_write` in ``directory`` whose process is gone.

    Returns the names removed. Files of live processes, and anything else, are left alone.
    """
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        match = _TEMPORARY.match(name)
        if match is None or _alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(directory, name))
            removed.append(name)
    return removed


@contextlib.contextmanager
def lock_folder(directory):
    """Hold an exclusive lock on ``directory`` (its file ``.chainrule.lock``) for the ``with`` block.

    Raises :class:`FolderLocked`, naming the holder's process id, if another process holds it.
    The lock is ``fcntl.flock``, which the OS releases when the holder exits or is killed, so a
    killed run's lock file (left behind) does not block the next run. Leaving the block, even
    by an exception, removes the file. Where ``fcntl`` does not exist (Windows) the block runs unlocked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path = os.path.join(directory, LOCK_NAME)
    descriptor = _acquire(path, fcntl)
    try:
        # the holder's pid, for the refusal's message (the lock itself is the flock, not this text)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while still locked: a run that opened this file before sees it gone and retries
        os.close(descriptor)  # releases the lock


def _acquire(path, fcntl):
    """A descriptor of ``path`` holding its flock; retries if the file was removed or replaced meanwhile
    (the holder removes it on exit, so a lock on an unlinked file would lock nothing)."""
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(descriptor)
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise FolderLocked(f"{os.path.dirname(path)} is in use by another chainrule run (process {holder}); "
                               f"wait for it to finish or choose another folder") from None
        try:
            if os.stat(path).st_ino == os.fstat(descriptor).st_ino:
                return descriptor
        except FileNotFoundError:
            pass
        os.close(descriptor)


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else (EPERM), or we cannot tell
        return True
    return _not_zombie(pid)


def _not_zombie(pid):
    """A killed child that its parent has not reaped yet still answers kill(pid, 0)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _umask():
    try:  # Linux tells us without changing it
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
    if os.name != "posix":
        return
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
