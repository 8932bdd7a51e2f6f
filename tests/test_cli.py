"The `signllm` console script as a user runs it: the README's main job and bad input (one line, exit 2, no partial file)."
import av
import pytest

from conftest import DATA


def decoded_frames(path):
    with av.open(str(path)) as video:
        return sum(1 for _ in video.decode(video=0))


def test_readme_main_job_renders_real_phoenix_sentence(cli, tmp_path):
    out = tmp_path / "phoenix.mp4"
    r = cli("render", DATA / "phoenix14t" / "train.skels", "--index", "0", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout and str(out) in r.stdout
    source_frames = len((DATA / "phoenix14t" / "train.skels").read_text().splitlines()[0].split()) // 151
    assert decoded_frames(out) == source_frames == 86


def test_render_pose_file_to_gif_and_info(cli, tmp_path):
    r = cli("render", DATA / "words" / "ase_FOOTBALL.pose", "-o", tmp_path / "football.gif", "--width", "128", "--height", "128")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "football.gif").stat().st_size > 0
    r = cli("info", DATA / "words" / "ase_FOOTBALL.pose")
    assert r.returncode == 0 and "62" in r.stdout and "RIGHT_HAND_LANDMARKS" in r.stdout


def test_help_is_friendly(cli):
    r = cli("--help")
    assert r.returncode == 0 and "render" in r.stdout and "examples:" in r.stdout
    r = cli("render", "--help")
    assert r.returncode == 0 and ".skels" in r.stdout


def assert_one_line_error(r, *words):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    err = r.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("signllm: error:"), err
    for w in words: assert w in err, err


def bad_skels(tmp_path, text):
    f = tmp_path / "bad.skels"
    f.write_text(text)
    return f


@pytest.mark.parametrize("case, words", [
    ("missing", ["does not exist"]),
    ("empty", ["is empty"]),
    ("length", ["not a multiple of 151"]),
    ("text", ["is not a number"]),
    ("nan", ["NaN"]),
    ("index", ["out of range"]),
    ("suffix", ["unsupported file type"]),
])
def test_bad_input_render(cli, tmp_path, case, words):
    make = {
        "missing": lambda: tmp_path / "nope.skels",
        "empty": lambda: bad_skels(tmp_path, ""),
        "length": lambda: bad_skels(tmp_path, "0.1 " * 152),
        "text": lambda: bad_skels(tmp_path, "0.1 " * 150 + "zero\n"),
        "nan": lambda: bad_skels(tmp_path, "0.1 " * 100 + "nan " + "0.1 " * 50),
        "index": lambda: DATA / "phoenix14t" / "train.skels",
        "suffix": lambda: bad_skels(tmp_path, "hello").rename(tmp_path / "notes.txt"),
    }
    src = make[case]()
    out = tmp_path / "out" / "video.mp4"
    out.parent.mkdir()
    extra = ["--index", "99"] if case == "index" else []
    r = cli("render", src, "-o", out, *extra)
    assert_one_line_error(r, *words)
    assert list(out.parent.iterdir()) == []  # no partial output


def test_unknown_language_code(cli):
    r = cli("languages", "xyz-not-a-language")
    assert_one_line_error(r, "xyz-not-a-language")
    r = cli("languages", "DGS")
    assert r.returncode == 0 and "gsg" in r.stdout


@pytest.mark.parametrize("where", ["missing-folder", "proc"])
def test_unwritable_output_path(cli, tmp_path, where):
    out = tmp_path / "no" / "such" / "folder" / "x.mp4" if where == "missing-folder" else "/proc/signllm-test.mp4"
    r = cli("render", DATA / "phoenix14t" / "dev.skels", "--index", "0", "-o", out)
    assert_one_line_error(r, "choose another -o path")


def test_failed_render_leaves_no_partial_file(cli, tmp_path):
    "A render that fails half-way (bad extension after decoding starts) leaves nothing behind."
    out = tmp_path / "video.avi"
    r = cli("render", DATA / "phoenix14t" / "dev.skels", "-o", out)
    assert_one_line_error(r)
    assert list(tmp_path.iterdir()) == []


def test_chapter_commands_are_reachable(cli):
    "Commands whose parsers live in their chapters are dispatched by `signllm`."
    r = cli("train", "tokenizer", "--help")
    assert r.returncode == 0 and "signllm train tokenizer" in r.stdout
    r = cli("extract", "--help")
    assert r.returncode == 0 and "signllm extract" in r.stdout
    r = cli("train", "no-such-model")
    assert r.returncode == 2 and "tokenizer" in r.stderr


def test_score_command_on_real_data(cli, tmp_path):
    "signllm score: a real clip against itself scores at the top; bad input gets one line."
    ref = DATA / "words" / "ase_FOOTBALL.pose"
    r = cli("score", ref, ref, "--json")
    assert r.returncode == 0, r.stderr
    import json
    report = json.loads(r.stdout)
    assert report["overall"] >= 95
    r = cli("score", tmp_path / "missing.mp4", ref)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_render_appearance_of_a_phoenix_sentence(cli, tmp_path):
    out = tmp_path / "person.mp4"
    r = cli("render", DATA / "phoenix14t" / "dev.skels", "--index", "0", "--appearance", "-o", out, "--width", "256", "--height", "256")
    assert r.returncode == 0, r.stderr
    assert decoded_frames(out) == 42
    r = cli("render", DATA / "phoenix14t" / "dev.skels", "--appearance", str(tmp_path / "no-photo.jpg"), "-o", tmp_path / "x.mp4")
    assert_one_line_error(r)
    assert not (tmp_path / "x.mp4").exists()
