"""``verify_chain`` while other workers append: an intact chain must never read as broken.

Found by the soak (``bench/soak.py``): auditors verifying during rotations saw
``intact: false`` three times in 600 s, while the chain verified intact afterwards.
``verify_chain`` walks the stream, then reads the head key in a separate round trip; an
append in between makes the head newer than the last record walked, which reads as
"records after it were deleted". This reproduces it with the storage layer alone: two
connections (two workers) append while a third verifies.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from neurallog.storage import audit
from neurallog.storage.connection import connect


@pytest.mark.xfail(
    reason="verify_chain reads the head after the walk without re-checking newer records "
    "(server owner, see docs/reliability.md); remove this mark once fixed",
    strict=False,
)
async def test_verify_never_reports_an_intact_chain_as_broken(redis_url: str) -> None:
    writers = [connect(redis_url), connect(redis_url)]
    reader = connect(redis_url)
    tenant = "race"
    stop = time.monotonic() + 4
    verdicts: list[audit.ChainVerification] = []

    async def append_loop(n: int) -> None:
        i = 0
        while time.monotonic() < stop:
            await audit.append(
                writers[n], tenant, actor=f"w{n}", role="admin", action="kek.create",
                target=str(i), outcome="allowed", status=201,
            )  # fmt: skip
            i += 1

    async def verify_loop() -> None:
        while time.monotonic() < stop:
            verdicts.append(await audit.verify_chain(reader, tenant))
            await asyncio.sleep(0)

    try:
        await asyncio.gather(append_loop(0), append_loop(1), verify_loop())
        final = await audit.verify_chain(reader, tenant)
    finally:
        for client in (*writers, reader):
            await client.aclose()
    assert final.intact and final.records > 50
    broken = [v for v in verdicts if not v.intact]
    assert len(verdicts) > 5
    assert not broken, f"{len(broken)} of {len(verdicts)} verifications said broken: {broken[0]}"
