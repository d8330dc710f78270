"""The code passes the ruff configuration in pyproject.toml (CI runs this
with the rest of the suite)."""
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_ruff_passes():
    ruff = shutil.which("ruff")
    if ruff is None:
        try:
            import ruff as _  # noqa: F401
        except ImportError:
            pytest.skip("ruff is not installed (pip install -e '.[test]' installs it)")
        cmd = [sys.executable, "-m", "ruff"]
    else:
        cmd = [ruff]
    r = subprocess.run(cmd + ["check", "--output-format", "concise", "."], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
