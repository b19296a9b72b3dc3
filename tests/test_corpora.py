"""edge_ser.corpora: every adapter on realistic names, auto-detection, manifests and splits."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from audio_factory import ravdess_name, write_not_audio, write_tree

from edge_ser.corpora import (
    UNKNOWN_SPEAKER,
    Clip,
    Skipped,
    canonical_label,
    cremad,
    discover,
    emodb,
    folders,
    ravdess,
    speaker_folds,
    split_by_speakers,
    tess,
)
from edge_ser.errors import DataError
from edge_ser.labels import CANONICAL_LABELS

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RAVDESS_DIR = DATA / "ravdess-speech-actors01-20"
ROOT = Path("/corpus")


def _parse(module, relative: str) -> Clip | Skipped:
    return module.parse(ROOT / relative, ROOT)


# --- adapters --------------------------------------------------------------------------


def test_ravdess_speech_and_song():
    clip = _parse(ravdess, "Actor_12/03-01-05-02-01-02-12.wav")
    assert (clip.label, clip.speaker, clip.corpus) == ("angry", "ravdess:12", "ravdess")
    assert clip.extra == {
        "modality": "audio-only",
        "vocal_channel": "speech",
        "intensity": "strong",
        "statement": 1,
        "repetition": 2,
        "gender": "female",
    }
    song = _parse(ravdess, "Actor_07/03-02-06-01-02-01-07.flac")
    assert (song.label, song.speaker) == ("fearful", "ravdess:07")
    assert song.extra["vocal_channel"] == "song" and song.extra["gender"] == "male"


def test_ravdess_emotion_codes_follow_the_canonical_order():
    for code, label in enumerate(CANONICAL_LABELS, start=1):
        assert _parse(ravdess, ravdess_name(code, actor=1)).label == label


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("03-01-09-01-01-01-01.wav", "emotion code 09"),
        ("04-01-01-01-01-01-01.wav", "modality code 04"),
        ("03-03-01-01-01-01-01.wav", "vocal channel code 03"),
        ("03-01-01-01-01-01.wav", "RAVDESS pattern"),
        ("OAF_back_angry.wav", "RAVDESS pattern"),
    ],
)
def test_ravdess_rejects_invalid_names(name, reason):
    skipped = _parse(ravdess, name)
    assert isinstance(skipped, Skipped) and reason in skipped.reason


@pytest.mark.parametrize(
    ("relative", "label", "speaker", "word", "source"),
    [
        ("OAF_angry/OAF_back_angry.wav", "angry", "OAF", "back", "file"),
        ("YAF_pleasant_surprised/YAF_bath_ps.wav", "surprised", "YAF", "bath", "file"),
        ("OAF_Pleasant_surprise/OAF_bite_ps.wav", "surprised", "OAF", "bite", "file"),
        ("YAF_ps/YAF_back_pleasant_surprised.wav", "surprised", "YAF", "back", "file"),
        ("OAF_Fear/OAF_beg_fear.wav", "fearful", "OAF", "beg", "file"),
        ("YAF_fear/YAF_kite_Fear.wav", "fearful", "YAF", "kite", "file"),
        ("OAF_Sad/OAF_youth_sad.wav", "sad", "OAF", "youth", "file"),
        ("yaf_disgust/YAF_date_DISGUST.WAV", "disgust", "YAF", "date", "file"),
        ("OAF_neutral/OAF_back_nuetral.wav", "neutral", "OAF", "", "folder"),
        ("OAF_happy/back_happy.wav", "happy", "OAF", "back", "file"),
        ("TESS/YAF_chair_sad.wav", "sad", "YAF", "chair", "file"),
    ],
)
def test_tess_names_including_misnamed_files(relative, label, speaker, word, source):
    clip = _parse(tess, relative)
    assert isinstance(clip, Clip), clip
    assert (clip.label, clip.speaker, clip.corpus) == (label, f"tess:{speaker}", "tess")
    assert clip.extra == {"word": word, "label_from": source}


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("YAF_angry/OAF_back_angry.wav", "file name says speaker OAF but folder says YAF"),
        ("OAF_angry/OAF_back_sad.wav", "file name says sad but folder says angry"),
        ("misc/OAF_back_xyz.wav", "no recognisable emotion"),
        ("Actor_01/03-01-01-01-01-01-01.wav", "no TESS speaker"),
    ],
)
def test_tess_skips_ambiguous_files(relative, reason):
    skipped = _parse(tess, relative)
    assert isinstance(skipped, Skipped) and reason in skipped.reason


@pytest.mark.parametrize(
    ("name", "label", "speaker", "sentence", "intensity"),
    [
        ("1001_DFA_ANG_XX.wav", "angry", "1001", "DFA", "unspecified"),
        ("1091_IEO_DIS_HI.wav", "disgust", "1091", "IEO", "high"),
        ("1022_IEO_FEA_MD.wav", "fearful", "1022", "IEO", "medium"),
        ("1040_ITH_HAP_LO.wav", "happy", "1040", "ITH", "low"),
        ("1076_MTI_NEU_XX.wav", "neutral", "1076", "MTI", "unspecified"),
        ("1015_TIE_SAD_XX.wav", "sad", "1015", "TIE", "unspecified"),
    ],
)
def test_cremad_names(name, label, speaker, sentence, intensity):
    clip = _parse(cremad, f"AudioWAV/{name}")
    assert (clip.label, clip.speaker, clip.corpus) == (label, f"cremad:{speaker}", "cremad")
    assert clip.extra == {"sentence": sentence, "intensity": intensity}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("1001_DFA_SUR_XX.wav", "emotion code SUR"),
        ("1001_DFA_ANG_ZZ.wav", "intensity code ZZ"),
        ("1001_DFA_ANG.wav", "CREMA-D pattern"),
    ],
)
def test_cremad_rejects_invalid_names(name, reason):
    skipped = _parse(cremad, name)
    assert isinstance(skipped, Skipped) and reason in skipped.reason


@pytest.mark.parametrize(
    ("name", "label", "speaker"),
    [
        ("03a01Fa.wav", "happy", "03"),
        ("16b10Wb.wav", "angry", "16"),
        ("08a02Ac.wav", "fearful", "08"),
        ("09b03Ed.wav", "disgust", "09"),
        ("10a04Ta.wav", "sad", "10"),
        ("15a05Nb.wav", "neutral", "15"),
    ],
)
def test_emodb_names(name, label, speaker):
    clip = _parse(emodb, f"wav/{name}")
    assert (clip.label, clip.speaker, clip.corpus) == (label, f"emodb:{speaker}", "emodb")
    assert clip.extra == {"text": name[2:5], "version": name[6]}


def test_emodb_skips_boredom_and_unknown_codes():
    boredom = _parse(emodb, "03a01La.wav")
    assert isinstance(boredom, Skipped) and "boredom" in boredom.reason
    assert "no canonical label" in boredom.reason
    assert "emotion code Q" in _parse(emodb, "03a01Qa.wav").reason
    assert "EMO-DB pattern" in _parse(emodb, "03-01-01-01-01-01-01.wav").reason


@pytest.mark.parametrize(
    ("relative", "label", "speaker"),
    [
        ("anger/a.wav", "angry", UNKNOWN_SPEAKER),
        ("Happy/alice/a.wav", "happy", "alice"),
        ("joy/bob/take2/a.wav", "happy", "bob"),
        ("SADNESS/x.flac", "sad", UNKNOWN_SPEAKER),
        ("pleasant surprise/x.ogg", "surprised", UNKNOWN_SPEAKER),
        ("disgusted/c/x.wav", "disgust", "c"),
    ],
)
def test_folders_layout(relative, label, speaker):
    clip = _parse(folders, relative)
    assert (clip.label, clip.speaker, clip.corpus) == (label, speaker, "folders")


def test_folders_skips_files_outside_label_folders():
    assert "not inside a label folder" in _parse(folders, "a.wav").reason
    assert "folder 'bored' is not an emotion label" in _parse(folders, "bored/a.wav").reason


def test_label_synonyms():
    assert canonical_label("Anger") == "angry"
    assert canonical_label(" fear ") == "fearful"
    assert canonical_label("Pleasant-Surprised") == "surprised"
    for label in CANONICAL_LABELS:
        assert canonical_label(label.upper()) == label
    assert canonical_label("boredom") is None
    assert canonical_label("") is None


def test_clip_rejects_a_non_canonical_label():
    with pytest.raises(ValueError, match="canonical"):
        Clip(path=Path("a.wav"), label="anger", speaker="s", corpus="folders")


# --- discover --------------------------------------------------------------------------


CORPUS_TREES = {
    "ravdess": [
        f"Actor_{a:02d}/{ravdess_name(e, a, extension='flac')}" for a in (1, 2) for e in (1, 5)
    ],
    "tess": ["OAF_angry/OAF_back_angry.wav", "YAF_pleasant_surprised/YAF_bath_ps.wav"],
    "cremad": ["AudioWAV/1001_DFA_ANG_XX.wav", "AudioWAV/1002_IEO_HAP_HI.wav"],
    "emodb": ["wav/03a01Fa.wav", "wav/08b02Wb.wav", "wav/03a01La.wav"],
    "folders": ["angry/s1/a.wav", "happy/s2/b.ogg", "notes/readme.wav"],
}


@pytest.mark.parametrize("corpus", sorted(CORPUS_TREES))
def test_auto_detects_each_corpus(tmp_path, corpus):
    written = write_tree(tmp_path, CORPUS_TREES[corpus], seconds=0.05)
    scan = discover(tmp_path)
    assert scan.corpus == corpus and scan.auto_detected
    clip_paths = [clip.path for clip in scan.clips]
    assert clip_paths and clip_paths == sorted(clip_paths)
    assert sorted(clip_paths + [item.path for item in scan.skipped]) == sorted(written)
    explicit = discover(tmp_path, corpus)
    assert explicit.clips == scan.clips and not explicit.auto_detected


def test_auto_takes_the_adapter_matching_most_files(tmp_path):
    names = [ravdess_name(e, 3) for e in range(1, 6)] + ["1001_DFA_ANG_XX.wav", "notes.wav"]
    write_tree(tmp_path, names, seconds=0.05)
    scan = discover(tmp_path)
    assert scan.corpus == "ravdess" and len(scan.clips) == 5
    assert {item.path.name for item in scan.skipped} == {"1001_DFA_ANG_XX.wav", "notes.wav"}
    assert all("RAVDESS pattern" in item.reason for item in scan.skipped)


def test_hidden_files_and_other_extensions_are_ignored(tmp_path):
    write_tree(tmp_path, [ravdess_name(1, 1), "Actor_01/._" + ravdess_name(2, 1)], seconds=0.05)
    write_tree(tmp_path, [".cache/" + ravdess_name(3, 1)], seconds=0.05)
    (tmp_path / "notes.txt").write_text("not audio")
    scan = discover(tmp_path)
    assert [clip.path.name for clip in scan.clips] == [ravdess_name(1, 1)]
    assert scan.skipped == []


def test_manifest(tmp_path):
    write_tree(tmp_path / "audio", ["a.wav", "b.flac", "c.wav", "d.wav"], seconds=0.05)
    absolute = write_tree(tmp_path / "elsewhere", ["e.wav"], seconds=0.05)[0]
    (tmp_path / "manifest.csv").write_text(
        "Path,Label,Speaker\n"
        "audio/a.wav,anger,spk1\n"
        "audio/b.flac,Happy,\n"
        f"{absolute},neutral,spk2\n"
        "audio/c.wav,boredom,spk1\n"
        "audio/missing.wav,sad,spk1\n"
        "audio/a.wav,angry,spk1\n"
        "\n"
    )
    scan = discover(tmp_path)
    assert scan.corpus == "csv" and scan.auto_detected
    assert [(c.path, c.label, c.speaker) for c in scan.clips] == [
        (tmp_path / "audio/a.wav", "angry", "spk1"),
        (tmp_path / "audio/b.flac", "happy", UNKNOWN_SPEAKER),
        (absolute, "neutral", "spk2"),
    ]
    reasons = {item.path.name: item.reason for item in scan.skipped}
    assert reasons == {
        "c.wav": "row 5: label 'boredom' is not an emotion label",
        "missing.wav": "row 6: file not found",
        "a.wav": "row 7: path listed again",
    }
    assert discover(tmp_path / "manifest.csv").clips == scan.clips


def test_manifest_without_speaker_column_and_with_explicit_corpus(tmp_path):
    write_tree(tmp_path, ["x/1.wav"], seconds=0.05)
    (tmp_path / "list.csv").write_text("label,path\nsad,x/1.wav\n")
    scan = discover(tmp_path / "list.csv", "csv")
    assert [(c.label, c.speaker) for c in scan.clips] == [("sad", UNKNOWN_SPEAKER)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("file,emotion\na.wav,sad\n", "needs a header row with columns path,label"),
        ("", "missing: path,label"),
        ("path,label\n", "no usable csv clips"),
    ],
)
def test_bad_manifests(tmp_path, content, message):
    (tmp_path / "manifest.csv").write_text(content)
    with pytest.raises(DataError, match=message):
        discover(tmp_path)


def test_discover_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        discover(tmp_path / "nope")
    with pytest.raises(DataError, match="no audio files"):
        discover(tmp_path)
    with pytest.raises(DataError, match="unknown corpus 'timit'"):
        discover(tmp_path, "timit")
    with pytest.raises(DataError, match="manifest .* does not exist"):
        discover(tmp_path, "csv")
    write_tree(tmp_path, ["misc/recording.wav"], seconds=0.05)
    with pytest.raises(DataError, match="no recognisable clips .* 1 audio files"):
        discover(tmp_path)
    with pytest.raises(DataError, match="no usable emodb clips .*EMO-DB pattern"):
        discover(tmp_path, "emodb")
    with pytest.raises(DataError, match="is a file"):
        discover(tmp_path / "misc" / "recording.wav")


def test_discover_lists_unreadable_files_without_opening_them(tmp_path):
    write_not_audio(tmp_path / ravdess_name(4, 9))
    scan = discover(tmp_path)
    assert [clip.label for clip in scan.clips] == ["sad"]


def test_shared_ravdess_directory():
    if not RAVDESS_DIR.is_dir():
        pytest.skip(f"RAVDESS data not found: {RAVDESS_DIR}")
    scan = discover(RAVDESS_DIR)
    assert scan.corpus == "ravdess" and not scan.skipped
    assert len(scan.clips) == 1200
    assert Counter(clip.speaker for clip in scan.clips) == {
        f"ravdess:{actor:02d}": 60 for actor in range(1, 21)
    }
    for clip in scan.clips:
        fields = clip.path.stem.split("-")
        assert clip.label == CANONICAL_LABELS[int(fields[2]) - 1]
        assert clip.path.parent.name == f"Actor_{fields[6]}"
    assert set(Counter(clip.label for clip in scan.clips)) == set(CANONICAL_LABELS)


# --- splits ----------------------------------------------------------------------------


def _clips(per_speaker: dict[str, int]) -> list[Clip]:
    return [
        Clip(Path(f"{speaker}_{i}.wav"), CANONICAL_LABELS[i % 8], speaker, "test")
        for speaker, count in per_speaker.items()
        for i in range(count)
    ]


def _speakers(clips: list[Clip]) -> set[str]:
    return {clip.speaker for clip in clips}


def test_split_by_speakers_holds_out_whole_speakers():
    clips = _clips({f"s{i:02d}": 10 + i for i in range(10)})
    train, val = split_by_speakers(clips, val_fraction=0.3, seed=4)
    assert not _speakers(train) & _speakers(val)
    assert len(_speakers(val)) == 3
    assert sorted(train + val, key=lambda c: c.path) == sorted(clips, key=lambda c: c.path)
    assert train == [clip for clip in clips if clip.speaker in _speakers(train)]  # input order
    assert split_by_speakers(clips, val_fraction=0.3, seed=4) == (train, val)
    draws = {frozenset(_speakers(split_by_speakers(clips, seed=seed)[1])) for seed in range(10)}
    assert len(draws) > 1


def test_split_by_speakers_with_given_speakers():
    clips = _clips({"a": 3, "b": 4, "c": 5})
    train, val = split_by_speakers(clips, val_speakers=["c", "a"])
    assert _speakers(val) == {"a", "c"} and _speakers(train) == {"b"}
    with pytest.raises(DataError, match="validation speaker\\(s\\) z not in the data"):
        split_by_speakers(clips, val_speakers=["z"])
    with pytest.raises(DataError, match="none is left for training"):
        split_by_speakers(clips, val_speakers=["a", "b", "c"])


def test_split_keeps_a_speaker_for_each_side():
    train, val = split_by_speakers(_clips({"a": 2, "b": 2}), val_fraction=0.9)
    assert len(_speakers(train)) == len(_speakers(val)) == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: split_by_speakers(_clips({"a": 5})), "at least 2 speakers, but the data has 1"),
        (lambda: speaker_folds(_clips({"a": 1, "b": 1}), k=3), "at least 3 speakers"),
        (lambda: speaker_folds(_clips({"a": 1, "b": 1}), k=1), "at least 2 folds"),
        (lambda: split_by_speakers(_clips({"a": 2, "b": 2}), val_fraction=1.0), "val_fraction"),
        (
            lambda: split_by_speakers(_clips({"a": 2, UNKNOWN_SPEAKER: 3})),
            "3 of 5 clips have speaker 'unknown'",
        ),
        (lambda: speaker_folds(_clips({UNKNOWN_SPEAKER: 9})), "needs speaker ids"),
    ],
)
def test_split_errors(call, message):
    with pytest.raises(DataError, match=message):
        call()


def test_speaker_folds_cover_every_speaker_once_and_balance_counts():
    counts = {f"s{i:02d}": n for i, n in enumerate([30, 5, 12, 12, 8, 20, 3, 17, 9, 25, 11])}
    clips = _clips(counts)
    folds = speaker_folds(clips, k=4, seed=1)
    assert len(folds) == 4
    tested = [speaker for _, test in folds for speaker in _speakers(test)]
    assert sorted(tested) == sorted(counts)  # each speaker in exactly one test fold
    for train, test in folds:
        assert not _speakers(train) & _speakers(test)
        assert len(train) + len(test) == len(clips)
    sizes = [len(test) for _, test in folds]
    assert max(sizes) - min(sizes) <= 3  # largest-first greedy: 37..39 of 152 clips per fold
    assert speaker_folds(clips, k=4, seed=1) == folds


def test_linked_folders_are_followed_once_and_cycles_do_not_loop(tmp_path):
    real = tmp_path / "real" / "Actor_01"
    write_tree(real, [ravdess_name(3, 1)])
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "Actor_01").symlink_to(real, target_is_directory=True)
    (real / "loop").symlink_to(corpus, target_is_directory=True)  # corpus -> real -> corpus
    scan = discover(corpus)
    assert [clip.path.name for clip in scan.clips] == [ravdess_name(3, 1)]
