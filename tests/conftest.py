"Shared helpers for the pytest suite: run the installed `signllm` console script."
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
SIGNLLM = Path(sys.executable).parent / "signllm"  # the console script installed by `pip install -e .`


def run_cli(*args, cwd=None, timeout=600):
    "Run `signllm ARGS` as a user would; return the CompletedProcess (text mode)."
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([str(SIGNLLM), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


@pytest.fixture
def cli():
    assert SIGNLLM.exists(), f"console script missing at {SIGNLLM}; run pip install -e ."
    return run_cli
