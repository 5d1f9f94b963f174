"""``manifest.json`` beside every output: what was made, from what, with which parameters.

No timestamps (outputs must be reproducible byte for byte); provenance is the
library version, the inputs' names and the outputs' SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from . import __version__

__all__ = ["sha256_file", "write_manifest"]


def sha256_file(path: str | Path) -> str:
    """SHA-256 (hex) of a file, read in 1 MiB chunks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"; _ = p.write_text("abc")
    >>> sha256_file(p)[:12]
    'ba7816bf8f01'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(
    out: str | Path,
    *,
    command: str,
    inputs: list[str] | list[dict],
    outputs: list[Path],
    parameters: dict,
) -> Path:
    """Write ``out/manifest.json``: version, command, sorted parameters, inputs, outputs with SHA-256.

    ``inputs`` are file names, or dicts (e.g. ``{"file": ..., "sha256": ...}``)
    kept as given (sorted by their JSON text). Call it after every output is in
    place: it is written through a temporary file and renamed, so its presence
    means the folder is complete (:func:`equity_metrics._atomic.verify_output`).
    """
    out = Path(out)
    ins = sorted(inputs, key=lambda x: json.dumps(x, sort_keys=True, default=str))
    manifest = {
        "tool": "equity_metrics",
        "version": __version__,
        "command": command,
        "parameters": {k: parameters[k] for k in sorted(parameters)},
        "inputs": ins,
        "outputs": [{"file": Path(p).name, "sha256": sha256_file(p)} for p in sorted(map(Path, outputs))],
    }
    from ._atomic import atomic_write_bytes

    text = json.dumps(manifest, indent=2, default=str, sort_keys=False, ensure_ascii=True) + "\n"
    # written last, through a temporary file: a folder with this manifest is complete (see _atomic)
    return atomic_write_bytes(out / "manifest.json", text.encode("utf-8"))
