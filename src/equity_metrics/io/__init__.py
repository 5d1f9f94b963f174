"""Readers: every one returns a :class:`~equity_metrics.ledger.ReadResult` (table, ledger, rejects)."""
