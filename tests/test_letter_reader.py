"""Chapter 12e's letter reader: other signers' letters, rare letters, words outside the list, left hands, frame rates,
rest frames at the ends, and `signllm translate --model fingerspelling` (letters by default, --reader learned)."""
from dataclasses import replace

import numpy as np
import pytest

from conftest import call_main as run

from signllm.core import SignLLMError, data_path
from signllm.data import read_index
from signllm.pose import SIGN50, write_pose
from signllm.fingerspelling import HELD_OUT_DISTORTION, NO_AUGMENT, cer, distort, spell_word
from signllm.fingerspelling import rare_letter_words
from signllm.letter_reader import READING, LetterReader, another_signer, reading_words
from signllm.cli import main


def hands_down(pose):
    "The same frames with both hands 5 shoulder widths lower: at rest, below the rest line."
    data = pose.data.copy()
    for hand in ("RIGHT_HAND", "LEFT_HAND"): data[:, SIGN50.slice(hand), 1] += 5.0
    return pose.replace(data=data)


def mean_cer(reader, items):
    return float(np.mean([cer(reader.read(p), w) for w, p in items]))


@pytest.fixture(scope="module")
def libras():
    return {e.words: e.pose() for e in read_index(data_path("more_alphabets")) if e.signed_language == "bzs"}


def test_reads_a_signer_it_was_not_given(libras):
    "Common ASL words spelled with the Libras signer's letters, the Libras examples left out: CER <= 0.25."
    from wordfreq import top_n_list
    reader = LetterReader("ase", exclude=("bzs",))
    assert "bzs" not in {e[3] for ex in reader.examples.values() for e in ex}
    shared = {u for u, ex in LetterReader("ase").examples.items() if "bzs" in [e[3] for e in ex]}
    words = [w for w in top_n_list("en", 5000) if 4 <= len(w) <= 7 and w.isalpha() and all(c.upper() in shared for c in w)][10:22]
    rng = np.random.default_rng(7)  # other words and another draw than the chapter's ten
    assert mean_cer(reader, [(w, another_signer(w, libras, rng)) for w in words]) <= 0.25


def test_rare_letter_words_faster_and_noisier():
    "Held-out words rich in J Z Q X K Y G P, composed from the shipped clips, 1.15x faster with 1 % noise: CER <= 0.20."
    words = rare_letter_words(12, skip=28)  # the last 12 of the chapter's 40
    fast = replace(NO_AUGMENT, tempo=(1.15, 1.15), noise=0.01)
    items = [(w, spell_word(w, "ase", augment=fast, rng=np.random.default_rng(k))) for k, w in enumerate(words)]
    assert mean_cer(LetterReader("ase"), items) <= 0.20


def test_words_outside_the_list_are_read_letter_by_letter():
    "A word the list does not have is not forced onto a listed word: the free reading is answered."
    word = "zyqbak"
    assert word not in reading_words("ase")
    reading = LetterReader("ase").explain(spell_word(word, "ase"))
    assert not reading.from_list and reading.text == reading.free.lower() and cer(reading.text, word) <= 0.34


def test_left_hand_other_frame_rates_and_rest_at_the_ends():
    "The same spelling mirrored (a left-handed signer), at 15 and 50 fps, and with still frames before and after."
    reader, word = LetterReader("ase"), "quick"
    pose = spell_word(word, "ase", augment=HELD_OUT_DISTORTION, rng=np.random.default_rng(3))
    assert reader.read(pose) == word
    assert reader.explain(distort(pose, replace(NO_AUGMENT, mirror=1.0), np.random.default_rng(0))).text == word
    for fps in (15.0, 50.0): assert reader.read(pose.resample(fps)) == word, fps
    rest = hands_down(pose)
    padded = pose.replace(data=np.concatenate([rest.data[:20], pose.data, rest.data[-20:]]),
                          confidence=np.concatenate([pose.confidence[:20], pose.confidence, pose.confidence[-20:]]))
    assert reader.read(padded) == word


def test_no_raised_hand_is_one_line():
    with pytest.raises(SignLLMError, match="no raised hand"): LetterReader("ase").read(hands_down(spell_word("hi", "ase")))


def test_translate_command_reads_with_letters_or_learned(tmp_path):
    word = "jazz"
    path = write_pose(spell_word(word, "ase", augment=HELD_OUT_DISTORTION, rng=np.random.default_rng(1)), tmp_path / "w.pose")
    code, out, err = run(main, ["translate", path, "--model", "fingerspelling", "--sign-language", "ase", "--verbose"])
    assert code == 0, err
    assert out.strip().splitlines()[-1] == word and "free reading" in out and "letter reader" in out
    code, out, err = run(main, ["translate", path, "--model", "fingerspelling", "--reader", "learned"])
    assert code == 0, err
    assert "learned one signer" in out  # chapter 11's reader and its note
    code, out, err = run(main, ["translate", path, "--model", "fingerspelling", "--sign-language", "bfi"])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "bfi" in err
    code, out, err = run(main, ["translate", path, "--model", "fingerspelling", "--sign-language", "ase", "--lang", "fs-gsg"])
    assert code == 2 and "disagree" in err


def test_word_list_size_is_limited():
    with pytest.raises(SignLLMError, match="word list"): reading_words("ase", 10**9)
    assert READING.words <= 100_000


def test_tracker_labels_that_flip_inside_a_recording():
    "MediaPipe may call the signing hand LEFT for some frames: the raised hand is read whatever its label."
    reader, word = LetterReader("ase"), "quick"
    pose = spell_word(word, "ase", augment=HELD_OUT_DISTORTION, rng=np.random.default_rng(3))
    data, conf = pose.data.copy(), pose.confidence.copy()
    right, left = SIGN50.slice("RIGHT_HAND"), SIGN50.slice("LEFT_HAND")
    middle = slice(pose.n_frames // 3, 2 * pose.n_frames // 3)
    for array in (data, conf):
        r, l = array[middle, right].copy(), array[middle, left].copy()
        array[middle, right], array[middle, left] = l, r
    assert reader.read(pose.replace(data=data, confidence=conf)) == word


def test_a_long_recording_is_refused_in_one_line():
    from signllm.letter_reader import MAX_WORD_SECONDS
    pose = spell_word("hello", "ase")
    repeats = int(MAX_WORD_SECONDS * pose.fps / pose.n_frames) + 2
    long = pose.replace(data=np.tile(pose.data, (repeats, 1, 1)), confidence=np.tile(pose.confidence, (repeats, 1)))
    with pytest.raises(SignLLMError, match="cut the clip to the word"): LetterReader("ase").read(long)
