"""Where replications run: in this process, on a process pool, or on a Dask cluster.

An Executor owns its workers; whatever way the parent ends, its workers end with it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any, Literal
from urllib.parse import urlsplit

from hourglass.config.scenario import Scenario
from hourglass.i18n import _

Backend = Literal["serial", "processes", "dask"]
BACKENDS: tuple[str, ...] = ("serial", "processes", "dask")

Task = Callable[[Scenario, int, int], Any]
"""One replication: task(scenario, seed, rep) returns its result or a Failure."""


class BackendError(RuntimeError):
    """A backend that cannot run: a missing extra, an unreachable scheduler."""


@dataclass(frozen=True)
class Failure:
    """A replication that raised, or whose worker died."""

    rep: int
    reason: str
    final: bool = False


@dataclass
class Executor:
    """Runs replications on one backend; a context manager that owns its workers."""

    backend: Backend = "processes"
    scheduler: str | None = None
    workers: int | None = None
    start_method: str | None = None
    """How pool workers start: fork (the default on POSIX) or spawn (a fresh interpreter)."""
    _pool: Any = field(default=None, init=False, repr=False)
    _client: Any = field(default=None, init=False, repr=False)
    _cluster: Any = field(default=None, init=False, repr=False)

    def __enter__(self) -> Executor:
        if self.backend not in BACKENDS:
            raise BackendError(
                _("unknown backend '{backend}'; use one of {choices}").format(
                    backend=self.backend, choices=", ".join(BACKENDS)
                )
            )
        if self.backend == "processes":
            context = get_context(self.start_method or ("fork" if os.name == "posix" else "spawn"))
            self._pool = ProcessPoolExecutor(
                self.workers or os.cpu_count(),
                mp_context=context,
                initializer=_start_worker,
                initargs=(os.getpid(),),
            )
        elif self.backend == "dask":
            self._client, self._cluster = _dask_client(self.scheduler, self.workers)
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        """Stop the workers: at once, without waiting for their tasks, when interrupted."""
        interrupted = kind is not None and not issubclass(kind, Exception)
        if self._pool is not None:
            if interrupted:
                _quiet(getattr(self._pool, "_executor_manager_thread", None))
                for process in list(getattr(self._pool, "_processes", {}).values()):
                    process.terminate()
            self._pool.shutdown(wait=not interrupted, cancel_futures=True)
            self._pool = None
        if interrupted:  # what Dask logs while it is torn down mid-task is of no use
            logging.getLogger("distributed").setLevel(logging.CRITICAL + 1)
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def map(self, task: Task, scenario: Scenario, seed: int, reps: Sequence[int]) -> Iterator[Any]:
        """The task's results for the given replications, in completion order."""
        if self.backend == "serial":
            for rep in reps:
                yield task(scenario, seed, rep)
        elif self.backend == "processes":
            futures = {self._pool.submit(task, scenario, seed, r): r for r in reps}
            broken = False
            try:
                for future in as_completed(futures):
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        broken = True
                        yield Failure(futures[future], "a worker process died")
            finally:  # results no longer wanted (the caller stopped) leave the shared pool free
                for future in futures:
                    future.cancel()
            if broken:  # a fresh pool for whatever comes next
                self.__exit__(None)
                self.__enter__()
        else:
            from distributed import as_completed as dask_completed

            futures = self._client.map(
                task, [scenario] * len(reps), [seed] * len(reps), list(reps), pure=False
            )
            for future in dask_completed(futures):
                try:
                    yield future.result()
                except Exception as err:  # a lost worker surfaces here
                    yield Failure(-1, f"{type(err).__name__}: {err}")


def _quiet(thread: threading.Thread | None) -> None:
    """Drop what `thread` raises from now on, leaving other threads' errors as they are.

    The pool's manager thread, finding its workers terminated after Ctrl-C, may fail to
    mark futures already cancelled (Python 3.11) and would print that traceback on exit.
    """
    if thread is None:
        return
    previous = threading.excepthook
    quiet = weakref.ref(thread)  # a strong one would keep the pool's exit hook waking it

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.thread is None or args.thread is not quiet():
            previous(args)

    threading.excepthook = hook


def _start_worker(parent: int) -> None:
    """Set up a pool worker: Ctrl-C is its parent's to handle, and it ends with its parent.

    A watchdog thread polls the parent's pid, which changes once the parent is gone (even
    when killed outright, with no chance to stop its workers).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def check_scheduler(address: str) -> str:
    """A Dask scheduler address as tcp://HOST:PORT, or a BackendError saying what is wrong.

    Only plain TCP is supported: TLS needs certificates, and UCX and in-process
    schedulers cannot be reached from a separate command.
    """
    scheme, sep, rest = address.strip().partition("://")
    if not sep:
        scheme, rest = "tcp", address.strip()
    if scheme != "tcp":
        raise BackendError(
            _(
                "--scheduler {address}: {scheme}:// schedulers are not supported; give a "
                "tcp://HOST:PORT address"
            ).format(address=address, scheme=scheme)
        )
    try:
        parts = urlsplit(f"tcp://{rest}")
        port = parts.port
    except ValueError:
        port, parts = None, None
    if parts is None or not parts.hostname or port is None or parts.path or port == 0:
        raise BackendError(
            _(
                "--scheduler {address}: not a scheduler address; write it as tcp://HOST:PORT, "
                "e.g. tcp://10.0.0.5:8786"
            ).format(address=address)
        )
    return f"tcp://{rest}"


def _dask_client(scheduler: str | None, workers: int | None):
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise BackendError(
            _("the dask backend needs the optional extra: pip install 'hourglass[dask]'")
        ) from None
    if scheduler:
        address = check_scheduler(scheduler)
        try:
            return Client(address, timeout="5s"), None
        except (OSError, TimeoutError, ValueError) as err:
            raise BackendError(
                _("--scheduler {address}: cannot reach the Dask scheduler there: {problem}").format(
                    address=scheduler, problem=err
                )
            ) from None
    with _ctrl_c_ignored():  # the workers inherit it: Ctrl-C is for this process to handle
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count(),
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            processes=True,
            silence_logs=logging.ERROR,  # warnings of tasks cancelled when the work is stopped
        )
    return Client(cluster), cluster


@contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while processes are started (only the main thread can say so)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
