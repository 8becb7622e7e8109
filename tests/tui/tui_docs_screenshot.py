"""Write docs/tui.svg: the versions tab on the fixed snapshot data, taken in a pilot.

Run from the repository root: ``python tests/tui/tui_docs_screenshot.py``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from test_tui_snapshots import fake_app, unlocked_then  # noqa: E402


async def main(target: Path) -> None:
    app = fake_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlocked_then()(pilot)
        await pilot.press("down")
        await pilot.pause()
        app.save_screenshot(filename=target.name, path=str(target.parent))


if __name__ == "__main__":
    asyncio.run(main(HERE.parent.parent / "docs" / "tui.svg"))
