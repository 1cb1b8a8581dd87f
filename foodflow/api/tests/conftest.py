from collections import Counter
from dataclasses import dataclass, field

import pytest


@dataclass
class FuzzStats:
    """What test_fuzz sent in this session: printed at its end (the numbers of the CI note)."""

    operations: int = 0
    cases: int = 0
    roles: set = field(default_factory=set)
    statuses: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)  # CPU time: generate, requests, checks, total

    def line(self) -> str:
        statuses = " ".join(f"{status}={count}" for status, count in sorted(self.statuses.items()))
        return (
            f"FUZZ cases={self.cases} operations={self.operations} roles={len(self.roles)} "
            f"operation×role={self.operations * len(self.roles)} statuses: {statuses} "
            f"cpu: " + " ".join(f"{name}={value:.1f}s" for name, value in sorted(self.seconds.items()))
        )


FUZZ_STATS = pytest.StashKey[FuzzStats]()


@pytest.fixture
def fuzz_stats(request) -> FuzzStats:
    return request.config.stash.setdefault(FUZZ_STATS, FuzzStats())


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    stats = config.stash.get(FUZZ_STATS, None)
    if stats is not None and stats.cases:
        terminalreporter.write_line(stats.line())
