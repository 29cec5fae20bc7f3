"""Training slots: how many trainings run at once on this host, across threads and worker processes.

A lone training uses every core (``lessons.mlp.TORCH_THREADS``; on 2 cores a course epoch takes
0.43 s against 0.76 s on one thread). Concurrent trainings share the cores instead of
oversubscribing them: each holds one of ``MAX_CONCURRENT_TRAININGS`` = number-of-cores slots,
counted across threads *and* across the class server's worker processes (``flock``-ed slot files in
a per-host folder), and each training runs on cores ÷ trainings-running threads (at least one),
re-checked every epoch (PyTorch keeps the thread count per thread, so each training sets its own).
The others queue for a slot rather than thrash the CPU (on a busy 2-core machine, OpenMP threads
spinning against each other made a course epoch take 5-10 s instead of 0.7 s).

``SLOTS`` is the process's scheduler: pass it as ``slots=`` to ``lessons.mlp.train``,
``train_config`` or ``estimate_seconds`` (``classroom.models`` and ``classroom.jobs`` do).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Self

from lessons import mlp

MAX_CONCURRENT_TRAININGS = mlp.CORES
SLOT_POLL_SECONDS = 0.05


def slot_dir() -> Path:
    """This host's folder of training-slot files, shared by every worker process of one user."""
    return Path(os.environ.get("TRAINING_SLOTS_DIR") or Path(tempfile.gettempdir()) / f"dl-demo-slots-{os.getuid()}")


class TrainingSlots:
    """``MAX_CONCURRENT_TRAININGS`` slots per host, shared by threads and processes (module docstring).

    A slot is an ``flock`` on one of ``slots`` files: the kernel drops it when its holder dies,
    so a killed worker never leaks one. Entering waits for a slot, then sets the entering thread's
    torch threads to its ``fair_share``; a training re-applies its share as it goes (every epoch),
    so it gives cores back when others start and takes them again when they end.
    """

    def __init__(self, slots: int = MAX_CONCURRENT_TRAININGS) -> None:
        self.slots = slots
        self._local = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}  # thread id -> fd of its slot file
        self._fds: list[int] | None = None

    def _files(self) -> list[int]:
        if self._fds is None:
            folder = slot_dir()
            folder.mkdir(parents=True, exist_ok=True)
            self._fds = []
            for i in range(self.slots):
                self._fds.append(os.open(folder / f"slot-{i}", os.O_RDWR | os.O_CREAT, 0o600))
        return self._fds

    def _free_files(self, fds: list[int]) -> Iterator[int]:
        """Each slot file not held in this process, yielded locked when it was free (the caller
        keeps or unlocks it), else -1 (another process holds it)."""
        for fd in fds:
            if fd in self._held.values():
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield -1
            else:
                yield fd

    def _busy_elsewhere(self, fds: list[int]) -> int:
        """How many slots other processes hold now (each free one is taken and released at once)."""
        busy = 0
        for fd in self._free_files(fds):
            if fd < 0:
                busy += 1
            else:
                fcntl.flock(fd, fcntl.LOCK_UN)
        return busy

    def _take_file(self) -> int | None:
        """A slot file's fd, locked for this process; None when the host's slots cannot be used."""
        try:
            fds = self._files()
        except OSError:
            return None
        while True:
            with self._lock:
                fd = next((fd for fd in self._free_files(fds) if fd >= 0), None)
                if fd is not None:
                    self._held[threading.get_ident()] = fd
                    return fd
            time.sleep(SLOT_POLL_SECONDS)

    def fair_share(self) -> int:
        """Threads for one training now: cores ÷ trainings holding a slot on the host (probed
        without blocking), at least one; ``TORCH_THREADS`` when this process trains nothing."""
        with self._lock:
            mine = len(self._held)
            others = self._busy_elsewhere(self._fds) if self._fds and mine else 0
        running = mine + others
        return max(1, mlp.CORES // running) if running else mlp.TORCH_THREADS

    def __enter__(self) -> Self:
        self._local.acquire()
        try:
            if self._take_file() is None:
                with self._lock:
                    self._held[threading.get_ident()] = -1  # no slot files: count this process alone
            mlp.set_torch_threads(self.fair_share())
        except BaseException:
            self._local.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            fd = self._held.pop(threading.get_ident(), -1)
            if fd >= 0:
                fcntl.flock(fd, fcntl.LOCK_UN)
        self._local.release()
        mlp.set_torch_threads(self.fair_share())


SLOTS = TrainingSlots()  # this process's share of the host's slots; tests may pass their own instead
