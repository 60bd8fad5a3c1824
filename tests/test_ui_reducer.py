"""The UI's reducer and timeline on their own (ui/tests, node's test runner).

The browser tests drive the same code through the page; these check folds
event by event. Node is not part of podium (the UI has no build step), so
they run where a node is installed, as on CI. They get the vocabulary the UI
learns from ``GET /api/meta`` (gateway/meta.py) in ``PODIUM_META``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from gateway.meta import META
from tests.conftest import ROOT


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_reducer_and_timeline_unit_tests_pass() -> None:
    result = subprocess.run(
        ["node", "--test", str(ROOT / "ui" / "tests")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PODIUM_META": json.dumps(META)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
