"Sign-language registry, PHOENIX and lexicon readers, datasets and the DataModule (chapter 02_data), on the shipped data."
import shutil
from collections import Counter
from functools import partial

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from signllm import data
from signllm.data import (LEXICON_COLUMNS, PHOENIX_PARTS, PROMPT2SIGN_LANGUAGES, SIGN_LANGUAGES, LexiconEntry,
                          folder_languages, phoenix_size, read_index, read_phoenix, register_sign_language, sign_language)
from signllm.loaders import PoseDataset, PoseStream, SignDataModule, collate, pose_example
from signllm.core import SignLLMError, data_path
from signllm.pose import SIGN50
from conftest import DATA

PHOENIX = data_path("phoenix14t")
SPLITS = ("train", "dev", "test")


@pytest.fixture
def registry():
    "Restore the global registry after a test that registers languages."
    langs, aliases = dict(data.SIGN_LANGUAGES), dict(data._ALIASES)
    yield
    data.SIGN_LANGUAGES.clear(); data.SIGN_LANGUAGES.update(langs)
    data._ALIASES.clear(); data._ALIASES.update(aliases)


# ---------------------------------------------------------------- languages

def test_a_sign_language_passes_through_unchanged():
    "User text is parsed once, at the edge; everything below may pass the SignLanguage on and parse it again for free."
    dgs = sign_language("German Sign Language")
    assert sign_language(dgs) is dgs and sign_language(sign_language(dgs)) is dgs
    assert sign_language("  TSM ").code == "tsm" and sign_language("greek sign language").code == "gss"


def test_registry_covers_prompt2sign_and_the_shipped_data():
    assert len(PROMPT2SIGN_LANGUAGES) == 8
    for code in {*PROMPT2SIGN_LANGUAGES, "ase", "gsg", "sgg", "tsm", "ise"}:
        lang = SIGN_LANGUAGES[code]
        assert lang.code == code and lang.name and len(lang.spoken_language) == 2 and len(lang.script) == 4
    assert (sign_language("gsg").spoken_language, sign_language("kvk").script) == ("de", "Hang")
    assert sign_language("sgg").spoken_language == "de" and sign_language("ssr").spoken_language == "fr"


def test_unknown_code_is_one_line_with_suggestions_and_the_fix():
    with pytest.raises(SignLLMError) as err:
        sign_language("asll")
    message = str(err.value)
    assert "\n" not in message and "unknown sign language 'asll'" in message
    assert "did you mean ASL (ase)" in message and "DGS (gsg)" in message  # languages by the names people use
    assert "languages.csv" in message  # and how to add one without Python


def test_a_folder_adds_a_language_the_registry_lacks(tmp_path, registry):
    "A teacher's folder for Jordanian Sign Language: registered from index.csv + languages.csv, with one warning."
    (tmp_path / "jos").mkdir()
    shutil.copy(DATA / "words" / "sgg" / "kinder.pose", tmp_path / "jos" / "children.pose")
    (tmp_path / "index.csv").write_text(",".join(LEXICON_COLUMNS) + "\njos/children.pose,ar,jos,0,0,children,CHILDREN,0\n")
    (tmp_path / "languages.csv").write_text("code,name,spoken_language\njos,Jordanian Sign Language,ar\n")
    with pytest.warns(UserWarning, match="not in the kit's registry"):
        assert [e.signed_language for e in read_index(tmp_path)] == ["jos"]
    assert sign_language("Jordanian Sign Language").spoken_language == "ar"
    (tmp_path / "languages.csv").write_text("code,name\njos,Jordanian Sign Language\n")
    with pytest.raises(SignLLMError, match="lacks the column"): folder_languages(tmp_path)


def test_register_a_new_language(registry):
    lang = register_sign_language("hks", "Hong Kong Sign Language", "zh", "hant", aliases=["HKSL"])
    assert lang.script == "Hant" and sign_language("HKSL") is lang and sign_language("hong kong sign language") is lang
    with pytest.raises(SignLLMError, match="replace=True"):
        register_sign_language("hks", "Hong Kong Sign Language", "zh", "Hant")
    again = register_sign_language("hks", "Hong Kong SL", "zh", "Hant", aliases=["hk"], replace=True)
    assert sign_language("hk") is again
    with pytest.raises(SignLLMError):
        sign_language("hksl")  # the replaced entry's aliases are gone
    with pytest.raises(SignLLMError, match="already means gsg"):
        register_sign_language("xyz", "Test Sign Language", "en", aliases=["dgs"])
    assert "xyz" not in SIGN_LANGUAGES  # a refused registration changes nothing
    for bad in [("ab", "X", "en"), ("abc", "X", "english"), ("abc", "X", "en", "latin")]:
        with pytest.raises(SignLLMError):
            register_sign_language(*bad)


# ---------------------------------------------------------------- PHOENIX

@pytest.mark.parametrize("split", SPLITS)
def test_phoenix_reader_matches_the_files(split):
    samples = list(read_phoenix(PHOENIX, split))
    lines = {part: (PHOENIX / f"{split}.{part}").read_text(encoding="utf-8").splitlines() for part in PHOENIX_PARTS}
    assert len(samples) == 5 and phoenix_size(PHOENIX, split) == 5
    assert [s.text for s in samples] == [l.strip() for l in lines["text"]]
    assert [s.gloss for s in samples] == [l.strip() for l in lines["gloss"]]
    assert [s.id for s in samples] == [l.strip() for l in lines["files"]]
    assert [s.pose.n_frames for s in samples] == [len(l.split()) / 151 for l in lines["skels"]]
    for s in samples:
        assert (s.signed_language, s.spoken_language, s.split) == ("gsg", "de", split)
        assert s.pose.skeleton == SIGN50 and s.pose.fps == 25 and s.pose.meta["text"] == s.text


def test_phoenix_reader_streams_and_shards():
    stream = read_phoenix(PHOENIX, "train")
    first = next(stream)  # a generator: one line read, the rest untouched
    assert first.id.endswith("tagesschau-1")
    shards = [[s.id for s in read_phoenix(PHOENIX, "train", shard=(k, 3))] for k in range(3)]
    assert sorted(sum(shards, [])) == sorted(s.id for s in read_phoenix(PHOENIX, "train"))
    assert [len(s) for s in shards] == [2, 2, 1]


def copy_split(tmp_path, split="dev", parts=PHOENIX_PARTS):
    for part in parts: shutil.copy(PHOENIX / f"{split}.{part}", tmp_path)
    return tmp_path


@pytest.mark.parametrize("part", ["text", "skels", "gloss", "files"])
def test_mismatched_line_counts_are_an_error(tmp_path, part):
    folder = copy_split(tmp_path)
    path = folder / f"dev.{part}"
    path.write_text("\n".join(path.read_text(encoding="utf-8").splitlines()[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(SignLLMError, match=rf"dev\.{part} ended after 4 lines"):
        list(read_phoenix(folder, "dev"))
    with pytest.raises(SignLLMError, match=rf"dev\.{part} 4"):
        phoenix_size(folder, "dev")


def test_phoenix_optional_and_required_files(tmp_path):
    folder = copy_split(tmp_path, parts=("skels", "text"))
    samples = list(read_phoenix(folder, "dev"))
    assert [s.id for s in samples] == [f"dev/{i}" for i in range(5)] and {s.gloss for s in samples} == {""}
    (folder / "dev.text").unlink()
    with pytest.raises(SignLLMError, match="dev.text is missing"):
        list(read_phoenix(folder, "dev"))
    with pytest.raises(SignLLMError, match="plain name"):
        list(read_phoenix(PHOENIX, "../phoenix14t/train"))
    with pytest.raises(SignLLMError, match="does not exist"):
        list(read_phoenix(tmp_path / "nowhere", "dev"))


# ---------------------------------------------------------------- lexicons

def test_lexicon_reader_on_the_shipped_folders():
    letters = list(read_index(data_path("fingerspelling")))
    words = list(read_index(data_path("words")))
    assert Counter(e.signed_language for e in letters) == {"ase": 26, "gsg": 30, "ise": 40, "sgg": 32, "tsm": 29}
    assert Counter(e.signed_language for e in words) == {"sgg": 4, "ase": 1}
    assert {e.spoken_language for e in letters} == {"en", "de", "it", "tr"}
    assert all(e.file.is_file() and e.file.resolve().is_relative_to(e.folder.resolve()) for e in letters + words)
    layouts = {e.words: e.pose().n_joints for e in words}
    assert layouts == {"kleine": 178, "kinder": 178, "essen": 178, "pizza": 178, "football": 576}
    assert letters[0].pose().n_joints == 586
    for entry in (letters[0], words[0], words[-1]):
        pose = entry.pose(sign50=True, normalize=True)
        assert pose.skeleton == SIGN50 and pose.meta["text"] == entry.words


def test_lexicon_entries_trim_by_milliseconds():
    kinder = next(e for e in read_index(data_path("words")) if e.words == "kinder")
    whole = kinder.pose()
    assert (whole.n_frames, whole.fps) == (45, 24)
    part = LexiconEntry(kinder.folder, kinder.path, "de", "sgg", 500, 1000, "kinder", "Kinder")
    assert part.pose().meta["frames"] == (12, 24)
    np.testing.assert_array_equal(part.pose().data, whole.data[12:24])
    clamped = LexiconEntry(kinder.folder, kinder.path, "de", "sgg", 0, 99_000, "kinder", "Kinder")
    assert clamped.pose().n_frames == 45
    with pytest.raises(SignLLMError, match="past the end"):
        LexiconEntry(kinder.folder, kinder.path, "de", "sgg", 5000, 0, "kinder", "Kinder").pose()


def lexicon(tmp_path, row, header=",".join(LEXICON_COLUMNS)):
    "A temporary lexicon with a copy of a real clip and a one-row index.csv."
    (tmp_path / "sgg").mkdir(exist_ok=True)
    shutil.copy(data_path("words", "sgg", "kinder.pose"), tmp_path / "sgg" / "kinder.pose")
    (tmp_path / "index.csv").write_text(f"{header}\n{row}\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("path, message", [
    ("../../etc/passwd", "leads outside"), ("/etc/passwd", "is absolute"), ("sgg/../../x.pose", "leads outside"),
    ("..\\..\\x.pose", "leads outside"), ("C:\\Windows\\x.pose", "is absolute"), ("", "path is empty"),
    ("sgg/kinder.txt", "not a .pose file"), ("sgg/missing.pose", "does not exist"),
])
def test_unsafe_or_wrong_paths_raise(tmp_path, path, message):
    folder = lexicon(tmp_path, f"{path},de,sgg,0,0,kinder,Kinder,0")
    with pytest.raises(SignLLMError, match="line 2") as err:
        list(read_index(folder))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_symlink_leading_outside_raises(tmp_path):
    inside = tmp_path / "lexicon"
    inside.mkdir()
    (inside / "evil.pose").symlink_to(data_path("words", "sgg", "kinder.pose"))
    (inside / "index.csv").write_text(",".join(LEXICON_COLUMNS) + "\nevil.pose,de,sgg,0,0,k,K,0\n", encoding="utf-8")
    with pytest.raises(SignLLMError, match="leads outside"):
        list(read_index(inside))


def test_valid_temporary_lexicon_and_its_checks(tmp_path):
    entries = list(read_index(lexicon(tmp_path, "sgg/kinder.pose,de,DSGS,0,0,kinder,Kinder,3")))
    assert [(e.signed_language, e.priority, e.line) for e in entries] == [("sgg", 3, 2)]
    bad_rows = {"sgg/kinder.pose,de,xy1,0,0,k,K,0": "unknown sign language 'xy1'",
                "sgg/kinder.pose,de,sgg,soon,0,k,K,0": "start 'soon'",
                "sgg/kinder.pose,de,sgg,900,300,k,K,0": "not after start",
                "sgg/kinder.pose,de,sgg,-5,0,k,K,0": "0 or more",
                "sgg/kinder.pose,german,sgg,0,0,k,K,0": "spoken_language",
                "sgg/kinder.pose,de,sgg,0,0,k": "number of fields",
                "sgg/kinder.pose,de,sgg,0,0,k,K,high": "priority"}
    for row, message in bad_rows.items():
        with pytest.raises(SignLLMError, match="line 2") as err:
            list(read_index(lexicon(tmp_path, row)))
        assert message in str(err.value), (row, str(err.value))


def test_missing_index_or_columns_raise(tmp_path):
    with pytest.raises(SignLLMError, match="lacks the column.*spoken_language"):
        list(read_index(lexicon(tmp_path, "sgg/kinder.pose,sgg,0,0,k,K,0",
                                header="path,signed_language,start,end,words,glosses,priority")))
    (tmp_path / "index.csv").unlink()
    with pytest.raises(SignLLMError, match="has no index.csv"):
        list(read_index(tmp_path))
    with pytest.raises(SignLLMError, match="does not exist"):
        list(read_index(tmp_path / "nowhere"))


def test_folder_and_header_problems_raise_at_the_call_not_at_the_first_item(tmp_path):
    with pytest.raises(SignLLMError, match="does not exist"):
        read_phoenix(tmp_path / "nowhere", "dev")  # no list(): checked eagerly
    with pytest.raises(SignLLMError, match="lacks the column"):
        read_index(lexicon(tmp_path, "x", header="path,words"))
    (tmp_path / "index.csv").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SignLLMError, match="UTF-8"):
        read_index(tmp_path)


def test_priority_column_is_optional(tmp_path):
    header = ",".join(LEXICON_COLUMNS[:-1])
    [entry] = read_index(lexicon(tmp_path, "sgg/kinder.pose,de,sgg,0,0,kinder,Kinder", header=header))
    assert entry.priority == 0


# ---------------------------------------------------------------- tensors

def synthetic_example(length, value):
    "SYNTHETIC (not sign language): a constant pose, only to check padding."
    return dict(pose=torch.full((length, 50, 3), float(value)), confidence=torch.ones(length, 50), text=f"t{value}",
                gloss="", id=f"s{value}", signed_language="gsg", spoken_language="de")


def test_collate_pads_and_masks():
    batch = collate([synthetic_example(3, 1), synthetic_example(5, 2), synthetic_example(2, 3)])
    assert batch["pose"].shape == (3, 5, 50, 3) and batch["confidence"].shape == (3, 5, 50)
    assert batch["lengths"].tolist() == [3, 5, 2]
    assert batch["mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]]
    for b, (n, v) in enumerate([(3, 1), (5, 2), (2, 3)]):
        assert (batch["pose"][b, :n] == v).all() and (batch["pose"][b, n:] == 0).all()
        assert (batch["confidence"][b, n:] == 0).all()
    assert batch["id"] == ["s1", "s2", "s3"] and batch["text"] == ["t1", "t2", "t3"]
    with pytest.raises(SignLLMError, match="empty batch"):
        collate([])
    odd = synthetic_example(2, 4) | {"pose": torch.zeros(2, 10, 3), "confidence": torch.ones(2, 10)}
    with pytest.raises(SignLLMError, match="different skeletons"):
        collate([synthetic_example(2, 1), odd])


def test_pose_example_normalises_crops_and_zeroes_missing_joints():
    sample = next(read_phoenix(PHOENIX, "train"))
    ex = pose_example(sample)
    assert ex["pose"].shape == (86, 50, 3) and ex["pose"].dtype == torch.float32
    left, right = (ex["pose"][:, SIGN50.index("BODY", s)] for s in ("LEFT_SHOULDER", "RIGHT_SHOULDER"))
    assert (left - right).norm(dim=-1).mean() == pytest.approx(1.0, abs=1e-4)
    assert pose_example(sample, max_frames=40)["pose"].shape[0] == 40
    torch.manual_seed(0)
    starts = {float(pose_example(sample, max_frames=40, random_crop=True)["pose"][0, 7, 0]) for _ in range(5)}
    assert len(starts) > 1  # random crops start at different frames
    letter = next(read_index(data_path("fingerspelling")))  # ASL: the left hand is zeroed by the publisher
    ex = pose_example(letter, fps=25)
    left_hand = SIGN50.slice("LEFT_HAND")
    assert (ex["confidence"][:, left_hand] == 0).all() and (ex["pose"][:, left_hand] == 0).all()


def test_pose_dataset_reads_lexicon_entries_lazily():
    entries = list(read_index(data_path("words")))
    dataset = PoseDataset(iter(entries), fps=25)  # an iterator is materialised (entries only, no clips)
    assert len(dataset) == 5
    item = dataset[4]
    assert item["signed_language"] == "ase" and item["text"] == "football" and item["pose"].shape[1:] == (50, 3)


@pytest.mark.parametrize("streaming", [False, True])
def test_datamodule_batches(streaming):
    dm = SignDataModule(batch_size=2, max_frames=100, streaming=streaming)
    dm.setup("fit")
    for loader in (dm.train_dataloader(), dm.val_dataloader(), dm.test_dataloader()):
        batches = list(loader)
        assert [len(b["id"]) for b in batches] == [2, 2, 1]
        for b in batches:
            B, T = b["mask"].shape
            assert b["pose"].shape == (B, T, 50, 3) and T == b["lengths"].max() <= 100
            assert torch.equal(b["mask"].sum(1), b["lengths"])
    ids = sorted(i for b in dm.val_dataloader() for i in b["id"])
    assert ids == sorted(s.id for s in read_phoenix(PHOENIX, "dev"))
    with pytest.raises(SignLLMError, match="batch_size"):
        SignDataModule(batch_size=0)


def test_stream_with_two_workers_yields_each_sequence_once():
    stream = PoseStream(partial(read_phoenix, PHOENIX, "test"), max_frames=50)
    loader = DataLoader(stream, batch_size=2, collate_fn=collate, num_workers=2)
    ids = [i for b in loader for i in b["id"]]
    assert sorted(ids) == sorted(s.id for s in read_phoenix(PHOENIX, "test"))
