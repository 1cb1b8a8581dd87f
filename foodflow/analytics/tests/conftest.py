"""The after-sales world (sales people, service desk, QA, stock) shared with service's tests."""

from foodflow.sales.tests.conftest import World, world  # noqa: F401  (the fixtures, shared)
from foodflow.service.tests.conftest import ServiceWorld, sworld  # noqa: F401
