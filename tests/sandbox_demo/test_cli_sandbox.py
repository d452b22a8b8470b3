"""`cunmin sandbox` as a person starts it: one process that prints its address and stops on a signal."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from pathlib import Path

import aiohttp
import pytest

CUNMIN = str(Path(sys.executable).parent / "cunmin")
URL = re.compile(r"Cunmin sandbox: open (http://127\.0\.0\.1:(\d+)/)")
# The issue asks for a start in under 10 s; a loaded test machine gets some slack.
START_LIMIT = 25.0


@pytest.fixture(autouse=True)
def _sqlite_pass_only() -> None:
    if os.environ.get("CUNMIN_TEST_POSTGRES_URL"):
        pytest.skip("the sandbox always runs on its own SQLite file: the SQLite pass already ran this test")


async def test_sandbox_on_port_0_prints_its_real_address_serves_the_page_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        CUNMIN, "sandbox", "--port", "0", "--people", "60",
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    printed: list[str] = []
    try:
        async with asyncio.timeout(START_LIMIT):
            while (match := URL.search("".join(printed))) is None:
                line = await process.stdout.readline()
                assert line, f"the sandbox stopped before it was ready: {''.join(printed)}"
                printed.append(line.decode())
        started_in = time.monotonic() - began
        url, port = match.group(1), int(match.group(2))
        assert port != 0 and started_in < START_LIMIT
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as page:
                assert page.status == 200 and "app.js" in await page.text()
            async with http.get(url + "api/bootstrap") as boot:
                assert (await boot.json())["result"]["village"]["people"] == 60
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    output = "".join(printed) + rest.decode()
    assert process.returncode == 0, output
    assert "Stopping" in output and "Traceback" not in output
    # Nothing is left behind in the directory it was started from.
    assert await asyncio.to_thread(os.listdir, tmp_path) == []
