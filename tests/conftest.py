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


def call_main(main, argv):
    "Call a command's main function in this process; return (exit code, stdout, stderr)."
    import contextlib, io
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def cli():
    assert SIGNLLM.exists(), f"console script missing at {SIGNLLM}; run pip install -e ."
    return run_cli


def write_clip(path, frames, fps=24, crf=18):
    "Encode RGB frames (H, W, 3) uint8 as an H.264 mp4 (clips cut from the real video, or test frames); returns the path."
    import av
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")): out.mux(packet)
        for packet in stream.encode(): out.mux(packet)
    return Path(path)
