"""``verify_chain`` while other workers append: an intact chain must never read as broken.

Found by the soak (``bench/soak.py``): auditors verifying during rotations saw
``intact: false`` while the chain verified intact afterwards. ``verify_chain`` walked the
stream, then read the head key in a separate round trip; an append in between made the
head newer than the last record walked, which read as "records deleted at the end"
(fixed in ``neurallog/storage/audit.py``). Reproduced with the storage layer alone: two
connections (two workers) append while a third verifies.
"""

from __future__ import annotations

import asyncio
import time

from neurallog.storage import audit
from neurallog.storage.connection import connect


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
