"""Implementations of the ``equity-metrics`` subcommands (presentation layer).

``equity_metrics.cli`` holds the argument parser and the dispatcher; each
module here implements one subcommand as ``run(args) -> int`` and computes no
statistics of its own (it calls the library and writes what it returns).

Modules
-------
``disparity``
    ``equity-metrics disparity``: rates, ratios (optionally standardised and
    outcome tests), small-count flags or suppression, tables + manifest.
``impact``
    ``equity-metrics impact``: officer/area panel, Callaway & Sant'Anna
    staggered DiD, aggregations, pre-trend test, event-study figure + manifest.
``_common``
    Output folder bookkeeping (every file through a temporary name, manifest
    with SHA-256 last), reading the events (``read_events``, used by the parser's
    ``ingest`` too: the parser imports this package, never the reverse), input
    hashing, reading auxiliary tables.
"""
