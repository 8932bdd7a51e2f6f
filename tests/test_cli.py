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


def assert_one_line_error(r, *words, prefix="signllm: error:"):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    err = r.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith(prefix), err
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
    ("suffix", ["unsupported input", "give a video"]),
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


def test_translation_and_generator_commands_are_reachable(cli):
    for words in (["translate"], ["train", "translator"], ["train", "generator"]):
        r = cli(*words, "--help")
        assert r.returncode == 0 and "signllm " + " ".join(words) in r.stdout, (words, r.stderr)
    r = cli("--help")
    assert "translate" in r.stdout and "train" in r.stdout
    r = cli("train", "--help")
    assert r.returncode == 0 and "generator" in r.stdout and "translator" in r.stdout


def test_translate_the_real_signer_video(cli):
    "The issue's end-to-end run: video -> MediaPipe keypoints -> sign tokens -> text, with the shipped translator."
    r = cli("translate", DATA / "signer_video" / "human_signer.mp4", "--verbose")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert any("sign words:" in line for line in lines) and lines[-1].strip()
    r = cli("translate", DATA / "signer_video" / "human_signer.mp4", "--lang", "fr")
    assert_one_line_error(r, prefix="signllm translate: error:")
    assert "unknown target language 'fr'" in r.stderr


def test_translate_a_video_with_nobody_in_it(cli, tmp_path):
    import numpy as np
    from conftest import write_clip
    video = write_clip(tmp_path / "wall.mp4", np.full((12, 96, 128, 3), 180, np.uint8), fps=12)  # synthetic: a grey wall, nobody signing
    r = cli("translate", video)
    assert_one_line_error(r, prefix="signllm translate: error:")
    assert "no signer found in wall.mp4" in r.stderr


def test_generate_with_the_learned_generator(cli, tmp_path):
    out = tmp_path / "schauer.pose"
    r = cli("generate", "schauer im nordwesten", "--lang", "gsg", "--engine", "model", "-o", out, "--verbose")
    assert r.returncode == 0, r.stderr
    assert "model engine" in r.stdout and "tokens: de:schauer de:im de:nordwesten" in r.stdout and out.exists()
    from signllm.pose import read_pose
    pose = read_pose(out)
    assert pose.n_frames > 10 and pose.data.shape[1:] == (50, 3)
    # auto: the model knows every word of this one ...
    r = cli("generate", "snow", "--lang", "ase", "--engine", "auto", "-o", tmp_path / "snow.pose")
    assert r.returncode == 0 and "model engine" in r.stdout and "warning" not in r.stderr, r.stderr
    # ... and, since its ASL group spells (chapter 11b), of a word it never saw ...
    r = cli("generate", "hello", "--lang", "ase", "--engine", "auto", "-o", tmp_path / "hello.pose")
    assert r.returncode == 0 and "model engine" in r.stdout and "warning" not in r.stderr, r.stderr
    # ... not of a letter it never saw: the lexicon signs it, and stderr says why
    r = cli("generate", "café", "--lang", "ase", "--engine", "auto", "-o", tmp_path / "cafe.pose")
    assert r.returncode == 0 and "lexicon engine" in r.stdout, r.stderr
    assert "warning" in r.stderr and "'café'" in r.stderr
    r = cli("generate", "schauer im nordwesten", "--lang", "gsg", "--engine", "auto", "--plan")
    assert r.returncode == 0 and "learned generator" in r.stdout and not list(tmp_path.glob("*.mp4"))


def test_generate_model_engine_bad_input(cli, tmp_path):
    out = tmp_path / "x.mp4"
    r = cli("generate", "ciao", "--lang", "ise", "--engine", "model", "-o", out)
    assert_one_line_error(r)
    assert "it knows: gsg (German Sign Language), ase (American Sign Language)" in r.stderr
    r = cli("generate", "schauer", "--lang", "gsg", "--engine", "model", "--glosses", "REGEN", "-o", out)
    assert_one_line_error(r)
    assert "prompt2langgloss" in r.stderr
    r = cli("generate", "schauer", "--lang", "gsg", "--checkpoint", DATA / "words" / "index.csv", "--engine", "model", "-o", out)
    assert_one_line_error(r)
    r = cli("generate", "schauer", "--lang", "gsg", "--checkpoint", DATA / "models" / "generator-tiny.safetensors", "-o", out)
    assert_one_line_error(r)
    assert "--engine model" in r.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_prompt2langgloss_checkpoint_from_the_command_line(cli, tmp_path):
    "Train a (very short) Prompt2LangGloss generator, see its gloss step, then sign glosses a learner edited."
    run = tmp_path / "p2lg"
    r = cli("train", "generator", "--mode", "prompt2langgloss", "--lang", "gsg", "--steps", "4", "--val-every", "4",
            "--no-progress", "--out", run)
    assert r.returncode == 0, r.stderr
    ckpt = run / "generator.safetensors"
    r = cli("generate", 'How do you sign "schauer im nordwesten" in DGS?', "--lang", "gsg", "--engine", "model",
            "--checkpoint", ckpt, "--verbose", "-o", tmp_path / "a.pose")
    assert r.returncode == 0, r.stderr
    glosses = next(line for line in r.stdout.splitlines() if line.startswith("tokens: "))
    assert glosses.startswith("tokens: <gsg>")
    r = cli("generate", "schauer im nordwesten", "--lang", "gsg", "--engine", "model", "--checkpoint", ckpt,
            "--glosses", "NORDWEST REGEN", "--verbose", "-o", tmp_path / "b.pose")
    assert r.returncode == 0, r.stderr
    assert "tokens: <gsg> NORDWEST REGEN" in r.stdout and (tmp_path / "b.pose").exists()


def test_info_reads_every_input_kind(cli):
    "info goes through inputs.load_pose: a video (its shipped sibling .pose), a .skels sentence with its text."
    r = cli("info", DATA / "signer_video" / "human_signer.mp4")
    assert r.returncode == 0 and "frames 135" in r.stdout and "RIGHT_HAND_LANDMARKS" in r.stdout, r.stderr
    r = cli("info", DATA / "phoenix14t" / "dev.skels", "--index", "1")
    text = (DATA / "phoenix14t" / "dev.text").read_text(encoding="utf-8").splitlines()[1].strip()
    assert r.returncode == 0 and f"text: {text}" in r.stdout, r.stderr
    r = cli("info", DATA / "words" / "ase_FOOTBALL.pose", "--index", "3")
    assert_one_line_error(r, "--index is for .skels")


def test_cli_module_stays_light():
    "`signllm --help` must not wait for PyTorch, Lightning or MediaPipe: cli imports them only inside commands."
    import subprocess, sys
    code = ("import sys, signllm.cli; "
            "print(*[m in sys.modules for m in ('torch', 'pytorch_lightning', 'mediapipe', 'cv2')])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.split() == ["False"] * 4, (r.stdout, r.stderr)


# ---------------------------------------------------------------- teachers' folders (no Python needed)

def teacher_folder(root, code, letters="HOLA", spoken="es", languages_csv=None):
    """A teacher's folder of letter clips laid out like data/fingerspelling. The clips are the real ASL letters standing
    in for the teacher's own recordings: only the layout is under test here, not the hand shapes."""
    import csv, shutil
    from signllm.data import read_index
    asl = {e.words: e for e in read_index(DATA / "fingerspelling") if e.signed_language == "ase"}
    (root / code).mkdir(parents=True)
    with open(root / "index.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["path", "spoken_language", "signed_language", "start", "end", "words", "glosses", "priority"])
        for letter in letters:
            shutil.copy(asl[letter].file, root / code / f"{letter}.pose")
            out.writerow([f"{code}/{letter}.pose", spoken, code, asl[letter].start, asl[letter].end, letter, letter, 0])
    if languages_csv: (root / "languages.csv").write_text(languages_csv)
    return root


def test_alphabet_folder_for_a_language_without_a_shipped_alphabet(cli, tmp_path):
    folder = teacher_folder(tmp_path / "mfs_letters", "mfs")
    r = cli("generate", "hola", "--lang", "lsm", "-o", tmp_path / "x.pose")
    assert_one_line_error(r, "no mfs alphabet", "--lexicon DIR")  # the shipped kit has no LSM letters
    for option in ("--lexicon", "--alphabet"):
        out = tmp_path / f"hola{option}.pose"
        r = cli("generate", "hola", "--lang", "lsm", option, folder, "-o", out, "--verbose")
        assert r.returncode == 0, r.stderr
        assert "hola → spelled H-O-L-A" in r.stdout, r.stdout
        assert out.stat().st_size > 0


def test_folder_for_a_language_the_registry_lacks(cli, tmp_path):
    folder = teacher_folder(tmp_path / "jordan", "jos", letters="SALM", spoken="ar",
                            languages_csv="code,name,spoken_language,aliases\njos,Jordanian Sign Language,ar,lsj\n")
    out = tmp_path / "salam.mp4"
    r = cli("generate", "salam", "--lang", "jos", "--lexicon", folder, "-o", out)
    assert r.returncode == 0, r.stderr
    assert "Jordanian Sign Language" in r.stdout and out.stat().st_size > 0
    assert "warning:" in r.stderr and "not in the kit's registry" in r.stderr
    r = cli("languages", "--lexicon", folder, "LSJ")
    assert r.returncode == 0 and "jos" in r.stdout and "4 letters" in r.stdout, r.stdout
    (folder / "languages.csv").write_text("code,name,spoken_language\njordanian,Jordanian Sign Language,ar\n")
    r = cli("generate", "salam", "--lang", "jos", "--lexicon", folder, "-o", tmp_path / "y.mp4")
    assert_one_line_error(r, "languages.csv line 2", "not an ISO 639-3 code")
    assert not (tmp_path / "y.mp4").exists()


def test_languages_by_common_name_and_what_exists(cli):
    r = cli("generate", "hello", "--lang", "asll", "-o", "x.pose")
    assert_one_line_error(r, "did you mean ASL (ase)", "DGS (gsg)")
    r = cli("languages")
    assert r.returncode == 0
    rows = {line.split("  ")[0].strip(): line for line in r.stdout.splitlines()[1:]}
    assert "26 letters" in rows["ASL (ase)"] and rows["ASL (ase)"].rstrip().endswith("yes")  # alphabet + the model
    assert rows["LSM (mfs)"].split()[3] == "3"  # the three MSL signs of the second signer (data/msl_words)
    assert rows["Auslan (asf)"].split()[-3:] == ["-", "-", "-"]


def test_msl_signs_of_the_second_signer(cli, tmp_path):
    out = tmp_path / "doctor.mp4"
    r = cli("generate", "doctor", "--lang", "mfs", "-o", out)
    assert r.returncode == 0 and "1 signed" in r.stdout, (r.stdout, r.stderr)
    assert decoded_frames(out) > 30
