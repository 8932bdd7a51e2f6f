"signllm generate on real signs (chapter 09_generator): letters, transitions, languages, bad input."
import numpy as np
import pytest

from conftest import DATA
from signllm.data import read_index
from signllm.generator import PACES, Lexicon, default_lexicon, generate, max_jump, prepare_clip, signing_span
from signllm.pose import SIGN50, read_pose


def hand_shape(frames: np.ndarray) -> np.ndarray:
    "(T, 21, 3) right-hand joints -> wrist-relative, scale-free hand shapes (T, 21, 3)."
    rel = frames - frames[:, :1]
    scale = np.linalg.norm(rel[:, 9], axis=-1)[:, None, None]  # wrist -> middle finger MCP
    return rel / np.maximum(scale, 1e-6)


def shape_distance(segment: np.ndarray, clip: np.ndarray) -> float:
    "Mean over segment frames of the distance to the best-aligned frame of the clip."
    a, b = hand_shape(segment), hand_shape(clip)
    d = np.linalg.norm(a[:, None] - b[None], axis=-1).mean(-1)  # (Ts, Tc)
    return float(d.min(axis=1).mean())


def test_hello_is_spelled_with_the_real_asl_letters(cli, tmp_path):
    out = tmp_path / "hello.pose"
    r = cli("generate", "hello", "--lang", "ase", "-o", out)
    assert r.returncode == 0, r.stderr
    pose = read_pose(out)
    assert pose.skeleton == SIGN50
    letters = {e.words: prepare_clip(e.pose()) for e in read_index(DATA / "fingerspelling") if e.signed_language == "ase"}
    assert len(letters) == 26
    hand = SIGN50.slice("RIGHT_HAND")
    segments = generate("hello", "ase").meta["segments"]
    assert [s.label.split(":")[1] for s in segments] == list("HELLO")
    for s in segments:
        seg = pose.data[s.start:s.end, hand]
        ranked = sorted(letters, key=lambda k: shape_distance(seg, letters[k].data[:, hand]))
        assert ranked[0] == s.label.split(":")[1], (s.label, ranked[:3])


SENTENCES = [("hello world", "ase"), ("football fans", "asl"), ("kleine Kinder essen Pizza", "sgg"),
             ("Schöne Grüße aus Zürich", "dgs"), ("ciao pizza buona", "lis"), ("Merhaba güzel İstanbul", "tsl")]


@pytest.mark.parametrize("text, lang", SENTENCES)
def test_transitions_never_jump_more_than_the_real_signers_move(text, lang):
    lexicon = default_lexicon()
    pose = generate(text, lang, lexicon)
    sources = [lexicon.clip(e) for step in pose.meta["plan"] for e in step.entries]
    assert max_jump(pose) <= max(max_jump(c) for c in sources) + 1e-6


@pytest.mark.parametrize("lang, word", [("ase", "cat"), ("gsg", "Katze"), ("sgg", "Chuchichäschtli"), ("tsm", "kedi"), ("ise", "gatto")])
def test_every_shipped_alphabet_spells(lang, word):
    pose = generate(word, lang)
    (step,) = pose.meta["plan"]
    assert step.kind == "spell" and not step.missing and len(pose.meta["segments"]) == len(step.letters) >= 3


def test_lexicon_words_are_signed_not_spelled():
    pose = generate("Kinder", "dsgs")
    (step,) = pose.meta["plan"]
    assert step.kind == "sign" and step.entries[0].path == "sgg/kinder.pose"
    clip = default_lexicon().clip(step.entries[0])
    start, end = signing_span(clip)
    assert pose.n_frames == end - start < clip.n_frames  # rest frames trimmed


def test_class_lexicon_folder_overrides_and_extends(tmp_path):
    "A class folder stacked on top: its entry for a word wins over the shipped one."
    (tmp_path / "index.csv").write_text("path,spoken_language,signed_language,start,end,words,glosses,priority\n"
                                        "football.pose,en,ase,0,0,soccer,SOCCER,0\n")
    (tmp_path / "football.pose").write_bytes((DATA / "words" / "ase_FOOTBALL.pose").read_bytes())
    lexicon = Lexicon(words=[*Lexicon.default_word_folders(), tmp_path])
    (step,) = lexicon.plan("soccer", "ase")
    assert step.kind == "sign" and step.entries[0].folder == tmp_path


def assert_one_line_error(r, *words):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    err = r.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1 and err.startswith("signllm: error:"), err
    for w in words: assert w in err, err


@pytest.mark.parametrize("text, lang, words", [
    ("", "ase", ["text is empty"]),
    ("?!... ,;", "ase", ["no words to sign"]),
    ("hello", "klingon", ["unknown sign language", "known:", "ase"]),
    ("hola amigos", "lsa", ["no aed alphabet", "--lexicon"]),
    ("word " * 500, "ase", ["limit is 200"]),
])
def test_generate_bad_input(cli, tmp_path, text, lang, words):
    out = tmp_path / "out.mp4"
    r = cli("generate", text, "--lang", lang, "-o", out)
    assert_one_line_error(r, *words)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("out", ["missing/folder/x.mp4", "/proc/hello.pose"])
def test_generate_unwritable_output(cli, tmp_path, out):
    target = tmp_path / out if not out.startswith("/") else out
    r = cli("generate", "hello", "--lang", "ase", "-o", target)
    assert_one_line_error(r, "choose another -o path")
    assert list(tmp_path.iterdir()) == []


def test_generate_formats_and_plan(cli, tmp_path):
    r = cli("generate", "Kinder essen Pizza", "--lang", "dsgs", "--plan")
    assert r.returncode == 0 and "kinder.pose" in r.stdout and list(tmp_path.iterdir()) == []
    r = cli("generate", "hi", "--lang", "ase", "-o", tmp_path / "hi.gif", "--width", "128", "--height", "128")
    assert r.returncode == 0, r.stderr
    r = cli("generate", "hi", "--lang", "ase", "-o", tmp_path / "hi.mp4", "--format", "pose")
    assert_one_line_error(r, "make them agree")


def test_pace_changes_the_number_of_frames_of_spelling_only():
    spelled = {pace: generate("the quick brown fox", "ase", pace=pace).n_frames for pace in [*PACES, 3, "5.5"]}
    assert spelled["slow"] > spelled[3] > spelled["natural"] > spelled["5.5"] > spelled["fast"]
    assert generate("the quick brown fox", "ase").n_frames == spelled["slow"]  # the default: slow, for learners
    signed = {pace: generate("kleine Kinder essen Pizza", "sgg", pace=pace).n_frames for pace in PACES}
    assert len(set(signed.values())) == 1  # word signs keep their recorded speed
    letters = generate("cat", "ase", pace="fast").meta["segments"]
    assert [s.label for s in letters] == ["cat:C", "cat:A", "cat:T"]


@pytest.mark.parametrize("pace", ["fast", "natural"])
def test_faster_paces_still_do_not_jump(pace):
    lexicon = default_lexicon()
    for text, lang in SENTENCES:
        pose = generate(text, lang, lexicon, pace=pace)
        assert max_jump(pose) <= max(max_jump(lexicon.clip(e)) for step in pose.meta["plan"] for e in step.entries) + 1e-6


def test_cli_pace(cli, tmp_path):
    frames = {}
    for pace in ("slow", "fast"):
        r = cli("generate", "hello world", "--lang", "ase", "--pace", pace, "-o", tmp_path / f"{pace}.pose")
        assert r.returncode == 0 and f"at pace {pace}" in r.stdout, r.stderr
        frames[pace] = read_pose(tmp_path / f"{pace}.pose").n_frames
    assert frames["slow"] > frames["fast"]
    for bad in ("quick", "0", "nan", "100"):
        assert_one_line_error(cli("generate", "hello", "--lang", "ase", "--pace", bad, "-o", tmp_path / "x.pose"),
                              "pace", "slow, natural or fast")
    assert_one_line_error(cli("generate", "hello", "--lang", "ase", "--pace", "fast", "--engine", "model", "-o",
                              tmp_path / "x.pose"), "--pace", "--engine lexicon")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fast.pose", "slow.pose"]
