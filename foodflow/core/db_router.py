"""Reads of the analytics tables go to the read replica when there is one (DATABASE_REPLICA_URL):
the dashboards' heavy aggregations then stop competing with order entry on the primary."""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
REPLICATED_APPS = frozenset({"analytics"})


class AnalyticsReplicaRouter:
    def db_for_read(self, model, **hints):
        if model._meta.app_label in REPLICATED_APPS and REPLICA in settings.DATABASES and not _writing():
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary's schema by replication


def _writing() -> bool:
    """Inside a transaction on the primary a read must see what the transaction wrote (the
    rollup reads the fact it is about to take back), which the lagging replica cannot."""
    return connections[DEFAULT_DB_ALIAS].in_atomic_block
