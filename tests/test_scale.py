"Scale path (issue 19): every trainer from a corpus folder, as two DDP processes on CPU (gloo), with a model that loads."
import csv
import json

import pytest

from signllm.core import SignLLMError
from signllm.loaders import SPLIT_RULE, read_corpus, row_split
from signllm.scaling import HELD_OUT, OPTIONS, SCALES, sample_corpus, train_command

SIX = ["--corpus", "--accelerator", "--devices", "--num-nodes", "--strategy", "--precision"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    "The real isolated-sign recordings of data/words and data/msl_words as one index.csv corpus (chapter 14)."
    return sample_corpus(tmp_path_factory.mktemp("scale") / "corpus")


def train(cli, trainer, corpus, out, timeout=600):
    "Run the exact command chapter 14 shows (train_command, scale cpu-ddp); return stdout."
    command = train_command(trainer, corpus, out)
    assert command[0] == "signllm" and "--strategy" in command and "ddp" in command
    r = cli(*command[1:], cwd=out.parent, timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def test_help_lists_the_six_options():
    from signllm.generator_cli import generator_parser
    from signllm.tokenizer_cli import tokenizer_parser
    from signllm.translate_cli import translator_parser
    for parser in (tokenizer_parser, translator_parser, generator_parser):
        text = parser().format_help()
        assert [o for o in SIX if o not in text] == [], parser.__name__


def test_corpus_folder_and_split_rule(corpus, tmp_path):
    train, dev = list(read_corpus(corpus, "train")), list(read_corpus(corpus, "dev"))
    assert sorted(s.text for s in dev) == sorted(HELD_OUT) and len(train) == 6
    assert {s.signed_language for s in train} == {"sgg", "ase", "mfs"}
    assert all(s.pose.n_frames > 20 for s in train + dev)  # real recordings, not placeholders
    assert [row_split({}, i) for i in range(20)].count("dev") == 2 and "every 10th row" in SPLIT_RULE
    # shards (process x worker) partition a split
    shards = [[s.id for s in read_corpus(corpus, "train", shard=(k, 4))] for k in range(4)]
    assert sorted(sum(shards, [])) == sorted(s.id for s in train)
    # a row pointing outside the folder is refused with the row named
    bad = tmp_path / "bad"; bad.mkdir()
    with open(bad / "index.csv", "w", newline="") as f:
        csv.writer(f).writerows([["path", "spoken_language", "signed_language", "start", "end", "words", "glosses"],
                                 ["../x", "en", "ase", 0, 0, "x", "X"]])
    with pytest.raises(SignLLMError, match="line 2"): list(read_corpus(bad))
    with pytest.raises(SignLLMError, match="not a corpus folder"): read_corpus(tmp_path)


def test_tokenizer_two_cpu_processes(cli, corpus, tmp_path):
    out = tmp_path / "tokenizer"
    stdout = train(cli, "tokenizer", corpus, out)
    assert "on 2 process(es) (DDPStrategy); 6 sequences" in stdout, stdout
    from signllm.cra import SignTokenizer
    tokenizer = SignTokenizer.load(out / "tokenizer.safetensors")
    assert tokenizer.vocab.n_chars > 0 and (out / "checkpoints" / "last.ckpt").exists()


def test_translator_two_cpu_processes_then_translate(cli, corpus, tmp_path):
    out = tmp_path / "translator"
    train(cli, "translator", corpus, out)
    report = json.loads((out / "report.json").read_text())
    assert "val" in report and (out / "stage2" / "checkpoints" / "last.ckpt").exists()
    r = cli("translate", corpus / "msl_words" / "doctor.pose", "--model", out, "--lang", "gloss")
    assert r.returncode == 0 and r.stdout.strip(), r.stderr[-2000:]


def test_generator_two_cpu_processes_then_generate_and_resume(cli, corpus, tmp_path):
    out = tmp_path / "generator"
    stdout = train(cli, "generator", corpus, out)
    assert "trained 4 steps" in stdout and "2 process(es) (DDPStrategy)" in stdout, stdout
    model = out / "generator.safetensors"
    r = cli("generate", "pizza", "--lang", "sgg", "--engine", "model", "--checkpoint", model, "-o", tmp_path / "p.pose")
    assert r.returncode == 0, r.stderr[-2000:]
    from signllm.pose import read_pose
    assert read_pose(tmp_path / "p.pose").n_frames > 1
    # resume under DDP: continue the same run to 6 steps
    command = train_command("generator", corpus, out)
    command[command.index("--steps") + 1] = "6"
    r = cli(*command[1:], "--resume", cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "trained 6 steps" in r.stdout, r.stdout


def test_scales_are_lightning_options():
    for scale in SCALES.values():
        for option in scale.split()[::2]: assert option in SIX
    assert set(OPTIONS) == {"tokenizer", "translator", "generator"}


def _synthetic_openpose(folder, frames):
    "SYNTHETIC OpenPose JSON frames (a still body with hands; not sign language), as How2Sign/Prompt2Sign ship them."
    folder.mkdir(parents=True)
    for t in range(frames):
        body = [v for j in range(25) for v in (100.0 + 10 * j, 200.0 + 5 * j, 0.0 if j >= 19 else 0.8)]
        person = {"pose_keypoints_2d": body, "face_keypoints_2d": [],
                  "hand_left_keypoints_2d": [700.0 + t, 400.0, 0.6] * 21, "hand_right_keypoints_2d": [300.0 + t, 400.0, 0.6] * 21}
        (folder / f"clip_{t:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": [person]}))


def test_openpose_rows_and_the_default_split(tmp_path):
    "index.csv rows may name OpenPose folders (trimmed by start/end); without a split column every 10th row is dev."
    corpus = tmp_path / "op"
    for k in range(10): _synthetic_openpose(corpus / "clips" / f"c{k}", 25)
    with open(corpus / "index.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "spoken_language", "signed_language", "start", "end", "words", "glosses", "priority"])
        for k in range(10): w.writerow([f"clips/c{k}", "en", "ase", 0 if k else 200, 0 if k else 600, f"synthetic {k}", "", 0])
    train, dev = list(read_corpus(corpus, "train")), list(read_corpus(corpus, "dev"))
    assert [s.text for s in dev] == ["synthetic 9"] and len(train) == 9
    assert train[0].pose.n_frames == 10 and train[1].pose.n_frames == 25  # 200-600 ms at 25 fps
    assert train[0].pose.skeleton.name == "sign50"
    from signllm.generator_training import corpus_generation_examples
    examples = corpus_generation_examples(corpus, "train")
    assert examples[0].pose.data.shape[-1] == 3 and examples[0].units == "normalized"
