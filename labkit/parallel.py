"""Independent runs at once on this machine's CPU cores, in forked worker processes that share them.

The chapters' networks are small. On two cores, two runs of one thread each finish sooner than the
same runs one after another with two threads (``benchmarks/bench_parallel.py`` measures it:
1.13x to 1.47x for the chapters' network families on a 2-core AMD EPYC, including starting the
workers and loading their runs). :func:`run_many` calls a function
for every item in a forked worker process, at most ``workers`` at once, and returns the results
(small, picklable values). :func:`labkit.runs.fit_many` trains runs this way and loads them.

- Each worker prints into the caller's output: its lines are forwarded, whole, as they come.
- A failed item raises here, with the item's name and its traceback; items that finished keep
  what they wrote (a run's checkpoint), so calling again continues.
- Workers are forked: they start at once and share the caller's data without copying it. Each
  gets its share of the cores as torch's threads, and as OpenMP's for the processes it starts.
  Where forking is not safe or does not help (not Linux, a GPU: :func:`on_cpu`, one core,
  ``workers=1``), the items run here one after another, with the same results.

``LABKIT_WORKERS`` sets the number of workers; by default there is one per core this process may
use (``LABKIT_CPUS`` where ``course.py`` runs two chapters side by side with one core each), or
one per item where there are fewer than two items per core (:func:`workers`). Give the longest
items first: a core idles only while the last ones run.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Hashable

from labkit import console


def cores() -> int:
    """The CPU cores this process may use: ``LABKIT_CPUS`` if set, else its affinity mask."""
    if os.environ.get("LABKIT_CPUS", "").strip():
        return _positive("LABKIT_CPUS", os.environ["LABKIT_CPUS"])
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def workers(n_items: int | None = None) -> int:
    """How many items :func:`run_many` runs at once by default: ``LABKIT_WORKERS``, else one per
    core (:func:`cores`), except that more items than cores but fewer than twice as many all go at
    once, sharing the cores.

    Sharing a core costs time: measured on a 2-core AMD EPYC, whole chapters ran faster with two
    workers than with four: chapter 001 (seven runs, then four) 183.5 s against 204.8 s (its
    processes used 347 CPU-seconds against 385: a core switching between two runs loses about a
    tenth), 003 (seven) 85.8 s against 92.9 s, 000 134.8 s against 134.7 s, 004 167.7 s against
    168.8 s. But one core per item leaves cores idle while the last items run alone, and with
    fewer than two items per core that tail is a large share: three equal runs on two cores gave
    1.1x to 1.4x the images/s all at once than two at a time (``benchmarks/bench_parallel.py
    --runs 3``). Give the longest items first, so that what runs alone at the end is short."""
    if os.environ.get("LABKIT_WORKERS", "").strip():
        return _positive("LABKIT_WORKERS", os.environ["LABKIT_WORKERS"])
    n = cores()
    return n_items if n_items is not None and n < n_items < 2 * n else n


def _positive(name: str, value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{name} must be a whole number of at least 1; got {value!r}")
    return n


def can_fork() -> bool:
    """Whether worker processes can be forked here (Linux; elsewhere fork is missing or unsafe)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


class _Lines:
    """A text stream for a worker's stdout and stderr: every whole line goes to the caller."""

    def __init__(self, out: Any, name: str):
        self.out, self.name, self.buffer = out, name, ""

    def write(self, text: str) -> int:
        self.buffer += text
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            self.out.put((self.name, "line", line))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def on_cpu(device: Any = "auto") -> bool:
    """Whether runs on ``device`` (a ``torch.device`` or a name; ``"auto"``: the one labkit picks,
    :func:`labkit.runtime.pick_device`) train on the CPU, where they go at once. On a GPU they go
    one after another: they would share one GPU, and a forked process cannot use CUDA."""
    import torch

    from labkit.runtime import pick_device

    return (device if isinstance(device, torch.device) else pick_device(device)).type == "cpu"


def at_once(n_items: int, n_workers: int | None = None, parallel: bool = True) -> int:
    """How many of ``n_items`` :func:`run_many` runs at once: at most ``n_workers`` (default
    :func:`workers`); 1 (here, one after another) when ``parallel`` is False or forking is unavailable."""
    n = min(n_items, n_workers or workers(n_items))
    return n if parallel and n > 1 and can_fork() else 1


def _worker(fn: Callable, name: Hashable, args: tuple, threads: int, out: Any) -> None:
    import torch

    if os.environ.get("LABKIT_PROGRESS", "bar") == "bar":
        os.environ["LABKIT_PROGRESS"] = "text"  # epoch lines, not bars: the caller prints them into its output
    torch.set_num_threads(threads)  # before any parallel work: the forked OpenMP pool is not used
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # and the processes it starts (a notebook's kernel)
        os.environ[var] = str(threads)
    console.pin()  # the terminal's progress lines keep going to the terminal
    sys.stdout = sys.stderr = _Lines(out, name)
    try:
        result = fn(*args)
    except BaseException:  # noqa: BLE001 - reported to the caller, which raises it
        out.put((name, "error", traceback.format_exc()))
        sys.exit(1)
    out.put((name, "done", result))


@dataclass(frozen=True)
class Failed:
    """What :func:`run_many` returns, with ``keep_going``, for an item whose worker raised or died:
    the error's text (a traceback, or how the process stopped)."""

    error: str


def run_many(fn: Callable[..., Any], items: dict[Hashable, tuple], *, n_workers: int | None = None,
             parallel: bool = True, what: str = "runs", keep_going: bool = False) -> dict[Hashable, Any]:
    """``{name: fn(*args)}`` for every ``name: args`` of ``items``, in that order; at most
    ``n_workers`` (default :func:`workers`) at once in forked processes of ``cores() //
    n_workers`` threads each (at least one: more workers than cores share them), or here one after
    another when ``parallel`` is False, forking is unavailable, or only one worker would run.

    A failed item (it raised, or its worker process died) stops the call: no further item starts,
    and once the running ones end a ``RuntimeError`` names every failure. With ``keep_going`` the
    other items run to the end and a failed one's result is a :class:`Failed`, its error's text
    (only in worker processes: run here, an item's exception propagates)."""
    n = at_once(len(items), n_workers, parallel)
    if n == 1:
        return {name: fn(*args) for name, args in items.items()}
    threads = max(1, cores() // n)
    print(f"[labkit] {len(items)} {what}, {n} at a time in worker processes of {threads} thread"
          f"{'s' if threads > 1 else ''} each", flush=True)
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    pending, running, results, errors = list(items), {}, {}, {}
    try:
        while pending or running:
            while pending and len(running) < n and (keep_going or not errors):
                name = pending.pop(0)
                p = ctx.Process(target=_worker, args=(fn, name, items[name], threads, out), daemon=True)
                with warnings.catch_warnings():  # Python 3.12 warns on fork with threads; workers use none
                    warnings.simplefilter("ignore", DeprecationWarning)
                    p.start()
                running[name] = p
            if not running:
                break
            try:
                message = out.get(timeout=0.5)
            except queue.Empty:
                message = None
            if message is not None:
                name, kind, value = message
                if kind == "line":
                    print(value, flush=True)
                elif kind == "done":
                    results[name] = value
                elif kind == "error":
                    errors[name] = value
            for name, p in list(running.items()):
                if name in results or name in errors:
                    p.join()
                    del running[name]
                elif not p.is_alive():
                    time.sleep(0.2)  # its last message may still be on the way
                    if out.empty():
                        p.join()
                        del running[name]
                        errors[name] = (f"the worker process stopped with exit code {p.exitcode} before it finished "
                                        f"(killed, or out of memory?)")
    finally:
        for p in running.values():
            p.terminate()
            p.join()
    if keep_going:
        return {name: results[name] if name in results else Failed(errors[name]) for name in items}
    if errors:
        said = "\n\n".join(f"{name}:\n{text.rstrip()}" for name, text in errors.items())
        raise RuntimeError(f"{len(errors)} of {len(items)} {what} failed in worker processes ({', '.join(map(str, errors))}); "
                           f"what finished is kept, so running this again continues.\n\n{said}")
    return {name: results[name] for name in items}
