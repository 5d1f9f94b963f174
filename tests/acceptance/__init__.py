"""Real-data acceptance suite (issue 9): the whole path from the police.uk archive to the command
report, checked against counts recomputed independently from the raw CSVs."""
