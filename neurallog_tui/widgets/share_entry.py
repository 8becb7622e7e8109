"""One share typed at a shared terminal: add it to the collector, empty the field at once.

Used by the shares unlock screen and the recovery drill, so both hide a share the same way
and word their answers alike (numbers and positions, never a word of a share).
"""

from __future__ import annotations

from neurallog.client import ShareCollector, ShareProgress
from neurallog.errors import ShareError

from .secret import SecretField


def take_share(collector: ShareCollector, field: SecretField) -> tuple[ShareProgress | None, str]:
    """Add the share in ``field`` and clear it; (progress, message) or (None, refusal)."""
    text = field.value
    field.clear()  # accepted or refused, nothing of a share stays on screen
    try:
        progress = collector.add(text)
    except ShareError as exc:
        return None, f"Share refused: {exc}"
    return progress, f"Accepted: {progress.describe()}."
