"""Run a function in many threads at once, each on its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection


def run_concurrently(worker: Callable[..., Any], arguments: Iterable[tuple], *, timeout: float = 60) -> list:
    """Start ``worker(*args)`` for every tuple at the same moment (a barrier) and wait.

    Returns the workers' results in order; an exception raised by a worker is returned in
    its place, so a test can assert on refusals as well as successes.
    """
    arguments = list(arguments)
    barrier = threading.Barrier(len(arguments))
    results: list = [None] * len(arguments)

    def run(index: int, args: tuple):
        try:
            barrier.wait(timeout=timeout)
            results[index] = worker(*args)
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, args)) for i, args in enumerate(arguments)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results
