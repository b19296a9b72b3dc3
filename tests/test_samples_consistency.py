"""The Android and iOS samples agree with the Python side: constants, names, shapes, labels.

The Kotlin, Java and Swift sources are parsed as text (no SDK needed) and compared with
``edge_ser.reference_preprocess.params`` and ``edge_ser.artifacts.layout``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from edge_ser.artifacts import layout
from edge_ser.labels import CANONICAL_LABELS
from edge_ser.reference_preprocess import params
from edge_ser.reference_preprocess.make_golden import GOLDEN_DIR

REPO = Path(__file__).resolve().parents[1]
ANDROID = REPO / "android_sample"
ANDROID_APP = ANDROID / "app"
JAVA_DIR = ANDROID_APP / "src" / "main" / "java" / "com" / "edgeser" / "sample"
IOS = REPO / "ios_sample"
SWIFT_DIR = IOS / "Sources" / "EdgeSER"
SWIFT_TESTS = IOS / "Tests" / "EdgeSERTests"

JAVA_FRONTEND = JAVA_DIR / "LogMelFrontend.java"
SWIFT_FRONTEND = SWIFT_DIR / "LogMelFrontend.swift"
KOTLIN_CLASSIFIER = JAVA_DIR / "EmotionClassifier.kt"
SWIFT_CLASSIFIER = SWIFT_DIR / "EmotionClassifier.swift"

JAVA_SILENCE_RULE = JAVA_DIR / "SilenceRule.java"
SWIFT_SILENCE_RULE = SWIFT_DIR / "SilenceRule.swift"

# Every constant of the spec, by the name params gives it.
SPEC_CONSTANTS = sorted(name for name in vars(params) if name.isupper())
# The constants of the silence rule (SPEC.md, "Silent windows (clip aggregation)").
SILENCE_CONSTANTS = ("SILENCE_LEVEL_DROP", "SPEECH_EDGE_FRAMES", "SPEECH_FRAME_DROP_DB")
# manifest.json "preprocessing" keys the apps check against their frontend.
MANIFEST_PREPROCESSING_KEYS = {
    "sample_rate",
    "window_length_samples",
    "hop_length_samples",
    "fft_length",
    "num_mel_bands",
    "mel_min_hz",
    "mel_max_hz",
    "log_offset",
    "patch_frames",
    "patch_hop_frames",
    "min_samples",
}

_JAVA_CONSTANT = re.compile(r"static final [\w\[\]]+ ([A-Z][A-Z0-9_]*)\s*=\s*(.+?);", re.S)
_KOTLIN_CONSTANT = re.compile(r"\bval ([A-Z][A-Z0-9_]*)(?:\s*:[^=\n]+)?\s*=\s*(.+)$", re.M)
_SWIFT_CONSTANT = re.compile(r"\bstatic let ([A-Z][A-Z0-9_]*)(?:\s*:[^=\n]+)?\s*=\s*(.+)$", re.M)
# Numeric literals with a type suffix (Java 0.01f, 1e-5d, 10L).
_NUMBER_SUFFIX = re.compile(r"(\b\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?)[fFdDL]\b")
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def _raw_constants(path: Path) -> dict[str, str]:
    """NAME -> unevaluated expression of the upper-case constants declared in a source file."""
    pattern = {".java": _JAVA_CONSTANT, ".kt": _KOTLIN_CONSTANT, ".swift": _SWIFT_CONSTANT}
    text = path.read_text()
    return {m[1]: m[2].strip() for m in pattern[path.suffix].finditer(text)}


def _evaluate(expression: str, names: dict[str, object]) -> object:
    """Evaluate a constant expression of Java, Kotlin or Swift source.

    Supports literals, + - * /, integer division, lists, ``intArrayOf(...)`` and names
    (bare or qualified as ``LogMelFrontend.NAME``) looked up in ``names``.
    """

    def walk(node: ast.AST) -> object:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return names[node.id]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return names[node.attr]
        if isinstance(node, (ast.List, ast.Tuple)):
            return tuple(walk(e) for e in node.elts)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "intArrayOf":
            return tuple(walk(a) for a in node.args)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.Div):
                both_int = isinstance(left, int) and isinstance(right, int)
                return left // right if both_int else left / right
        raise ValueError(f"unsupported expression {ast.dump(node)} in {expression!r}")

    python = _NUMBER_SUFFIX.sub(r"\1", expression)
    return walk(ast.parse(python, mode="eval").body)


def _constants(path: Path, names: dict[str, object] | None = None) -> dict[str, object]:
    """Evaluated upper-case constants of a source file (those that are plain expressions)."""
    scope: dict[str, object] = dict(names or {})
    values: dict[str, object] = {}
    for name, expression in _raw_constants(path).items():
        try:
            values[name] = scope[name] = _evaluate(expression, scope)
        except (KeyError, SyntaxError, ValueError):
            continue
    return values


def _code(path: Path) -> str:
    """Source text without comments and string literals."""
    return _STRING.sub('""', _COMMENT.sub("", path.read_text()))


def _app_sources() -> list[Path]:
    """Every Kotlin, Java and Swift source of both samples."""
    files = [*ANDROID_APP.rglob("*.kt"), *ANDROID_APP.rglob("*.java"), *IOS.rglob("*.swift")]
    return sorted(f for f in files if f.name != "Package.swift")


@pytest.mark.parametrize("frontend", [JAVA_FRONTEND, SWIFT_FRONTEND], ids=["java", "swift"])
def test_frontend_constants_equal_params(frontend: Path) -> None:
    ported = _constants(frontend)

    for name in SPEC_CONSTANTS:
        assert name in ported, f"{frontend.name} lacks {name}"
        expected = getattr(params, name)
        assert type(ported[name]) is type(expected), name
        assert ported[name] == expected, name


@pytest.mark.parametrize(
    ("frontend", "rule"),
    [(JAVA_FRONTEND, JAVA_SILENCE_RULE), (SWIFT_FRONTEND, SWIFT_SILENCE_RULE)],
    ids=["java", "swift"],
)
def test_silence_rule_constants_equal_params(frontend: Path, rule: Path) -> None:
    ported = _constants(frontend)
    code = _code(rule)

    for name in SILENCE_CONSTANTS:
        expected = getattr(params, name)
        assert name in ported, f"{frontend.name} lacks {name}"
        assert type(ported[name]) is type(expected), name
        assert ported[name] == expected, name
        # The rule reads the frontend's constant, not a copy of its value.
        assert f"LogMelFrontend.{name}" in code, f"{rule.name} does not use {name}"
    # A frame's level removes the log offset in double precision, as frame_levels_db does, and
    # floors the summed magnitudes at 1e-9 (-180 dB).
    own = _constants(rule)
    assert type(own["LOG_OFFSET"]) is float and own["LOG_OFFSET"] == params.LOG_OFFSET
    assert own["MIN_FRAME_MAGNITUDE"] == 1e-9


def test_android_names_and_shapes_match_layout() -> None:
    kotlin = _constants(KOTLIN_CLASSIFIER, _constants(JAVA_FRONTEND))

    assert kotlin["LOG_MEL_MODEL"] == layout.INT8_TFLITE
    assert kotlin["WAVEFORM_MODEL"] == layout.WAVEFORM_INT8_TFLITE
    assert kotlin["LABELS_FILE"] == layout.LABELS_TXT
    assert kotlin["MANIFEST_FILE"] == layout.MANIFEST_JSON
    assert kotlin["LOG_MEL_INPUT_NAME"] == layout.INPUT_NAME
    assert kotlin["WAVEFORM_INPUT_NAME"] == layout.WAVEFORM_INPUT_NAME
    assert kotlin["LOG_MEL_INPUT_SHAPE"] == layout.INPUT_SHAPE == (1, 96, 64, 1)
    assert kotlin["WAVEFORM_INPUT_SHAPE"] == layout.WAVEFORM_INPUT_SHAPE == (1, 15600)


def test_ios_names_and_shapes_match_layout() -> None:
    swift = _constants(SWIFT_CLASSIFIER, _constants(SWIFT_FRONTEND))

    assert swift["MODEL_PACKAGE"] == layout.MLPACKAGE
    assert swift["WAVEFORM_MODEL_PACKAGE"] == layout.WAVEFORM_MLPACKAGE
    assert swift["LABELS_FILE"] == layout.LABELS_TXT
    assert swift["MANIFEST_FILE"] == layout.MANIFEST_JSON
    assert swift["LOG_MEL_INPUT_NAME"] == layout.INPUT_NAME
    assert swift["WAVEFORM_INPUT_NAME"] == layout.WAVEFORM_INPUT_NAME
    assert swift["PROBABILITIES_OUTPUT_NAME"] == layout.COREML_PROBABILITIES_OUTPUT
    assert swift["LOG_MEL_INPUT_SHAPE"] == layout.INPUT_SHAPE == (1, 96, 64, 1)
    assert swift["WAVEFORM_INPUT_SHAPE"] == layout.WAVEFORM_INPUT_SHAPE == (1, 15600)


@pytest.mark.parametrize(
    ("source", "pair"),
    [
        (KOTLIN_CLASSIFIER, r'"(\w+)" to LogMelFrontend\.(\w+)'),
        (SWIFT_CLASSIFIER, r'"(\w+)": (?:Double\()?LogMelFrontend\.(\w+)'),
    ],
    ids=["kotlin", "swift"],
)
def test_manifest_preprocessing_keys_map_to_same_named_constants(source: Path, pair: str) -> None:
    pairs = dict(re.findall(pair, source.read_text()))

    assert set(pairs) == MANIFEST_PREPROCESSING_KEYS
    for key, constant in pairs.items():
        assert constant == key.upper()
        assert constant in SPEC_CONSTANTS


def test_app_code_takes_shapes_from_frontend_constants() -> None:
    """Outside the two frontends, no source spells 96, 64, 15600, 7680 or 16000 itself."""
    magic = re.compile(r"\b(?:96|64|15_?600|7_?680|16_?000)(?:\.0)?[fFL]?\b")
    offenders = {
        path.relative_to(REPO).as_posix(): magic.findall(_code(path))
        for path in _app_sources()
        if path not in (JAVA_FRONTEND, SWIFT_FRONTEND)
    }

    assert {path: found for path, found in offenders.items() if found} == {}


def test_labels_come_from_labels_file() -> None:
    literals = [
        literal.strip('"')
        for path in _app_sources()
        for literal in _STRING.findall(_COMMENT.sub("", path.read_text()))
    ]
    hard_coded = [literal for literal in literals if literal in CANONICAL_LABELS]

    assert hard_coded in ([], list(CANONICAL_LABELS))
    for classifier in (KOTLIN_CLASSIFIER, SWIFT_CLASSIFIER):
        # Declared once, then read.
        assert _code(classifier).count("LABELS_FILE") >= 2, classifier.name


def test_streaming_defaults_agree() -> None:
    java = _constants(JAVA_DIR / "Smoother.java")
    swift = _constants(SWIFT_DIR / "Smoother.swift")

    assert java["DEFAULT_WINDOWS"] == swift["DEFAULT_WINDOWS"] == 3


def test_golden_checks_share_tolerance_and_directory() -> None:
    java_tolerance = _constants(JAVA_DIR / "GoldenCheck.java")["TOLERANCE"]
    swift_test = SWIFT_TESTS / "GoldenVectorTests.swift"
    swift_tolerance = _constants(swift_test)["TOLERANCE"]
    assert java_tolerance == swift_tolerance <= 1e-4

    gradle = (ANDROID_APP / "build.gradle.kts").read_text()
    gradle_golden = re.search(r'rootProject\.file\("([^"]+)"\)', gradle)[1]
    assert (ANDROID / gradle_golden).resolve() == GOLDEN_DIR.resolve()

    swift_text = swift_test.read_text()
    levels = swift_text.count(".deletingLastPathComponent()")
    swift_golden = re.search(r'appendingPathComponent\("([^"]+)"\)', swift_text)[1]
    assert (swift_test.parents[levels - 1] / swift_golden).resolve() == GOLDEN_DIR.resolve()


def test_android_project_setup_and_no_shipped_models() -> None:
    manifest = (ANDROID_APP / "src" / "main" / "AndroidManifest.xml").read_text()
    assert 'android:name="android.permission.RECORD_AUDIO"' in manifest

    gradle = (ANDROID_APP / "build.gradle.kts").read_text()
    assert re.search(r"\bminSdk = 24\b", gradle)
    assert re.search(r'implementation\("com\.google\.ai\.edge\.litert:litert:1\.[\d.]+"\)', gradle)

    model_suffixes = (".tflite", ".mlpackage", ".mlmodel", ".keras")
    shipped = [f for root in (ANDROID, IOS) for f in root.rglob("*") if f.suffix in model_suffixes]
    assert shipped == []


# -- web sample ------------------------------------------------------------------------------

WEB = REPO / "web_sample"
WEB_CONSTANTS = WEB / "edge-ser.js"
_JS_CONSTANT = re.compile(r"^export const ([A-Z][A-Z0-9_]*) = (.+);$", re.M)


def _web_constants() -> dict[str, object]:
    return {
        name: ast.literal_eval(value)
        for name, value in _JS_CONSTANT.findall(WEB_CONSTANTS.read_text())
    }


def _web_sources() -> list[Path]:
    return sorted(p for p in WEB.glob("*.js") if p.is_file())


def test_web_sample_names_and_constants_match_the_export() -> None:
    web = _web_constants()

    assert web["MODEL_FILE"] == layout.WAVEFORM_INT8_TFLITE
    assert web["SAMPLE_RATE"] == params.SAMPLE_RATE
    assert web["MIN_SAMPLES"] == params.MIN_SAMPLES == layout.WAVEFORM_INPUT_SHAPE[1]
    assert web["PATCH_HOP_SAMPLES"] == params.PATCH_HOP_SAMPLES
    assert web["DEFAULT_WINDOWS"] == _constants(JAVA_DIR / "Smoother.java")["DEFAULT_WINDOWS"]
    # The silence rule reads the window's log-mel (mean and frame levels): the spec's constants.
    for name in (
        "WINDOW_LENGTH_SAMPLES",
        "HOP_LENGTH_SAMPLES",
        "FFT_LENGTH",
        "NUM_MEL_BANDS",
        "MEL_MIN_HZ",
        "MEL_MAX_HZ",
        "MEL_HIGH_FREQUENCY_Q",
        "MEL_BREAK_FREQUENCY_HERTZ",
        "LOG_OFFSET",
        "PATCH_FRAMES",
        "SILENCE_LEVEL_DROP",
        "SPEECH_EDGE_FRAMES",
        "SPEECH_FRAME_DROP_DB",
    ):
        assert web[name] == getattr(params, name), name
    assert (WEB / web["WASM_DIR"]).relative_to(WEB).parts[:2] == ("node_modules", "@mediapipe")


def test_web_sample_takes_constants_and_labels_from_one_place() -> None:
    magic = re.compile(r"\b(?:15_?600|7_?680|16_?000|7_?500|512)\b")
    offenders = {
        path.name: magic.findall(_code(path)) for path in _web_sources() if path != WEB_CONSTANTS
    }
    assert {name: found for name, found in offenders.items() if found} == {}
    literals = [s.strip('"') for path in _web_sources() for s in _STRING.findall(path.read_text())]
    assert [label for label in literals if label in CANONICAL_LABELS] == []
    # Labels come from the model's metadata, by output index.
    assert "category.categoryName" in (WEB / "app.js").read_text()


def test_web_sample_pins_its_packages_and_blocks_outside_connections() -> None:
    import json

    package = json.loads((WEB / "package.json").read_text())
    lock = json.loads((WEB / "package-lock.json").read_text())
    for name, version in {**package["dependencies"], **package["devDependencies"]}.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    page = (WEB / "index.html").read_text()
    policy = re.search(r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', page)[1]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["connect-src"] == "'self'" and directives["default-src"] == "'self'"
    shipped = [p for p in WEB.rglob("*.tflite") if "node_modules" not in p.parts]
    assert shipped == []


def test_mediapipe_paths_of_the_mobile_samples_load_the_waveform_model() -> None:
    kotlin = _constants(JAVA_DIR / "MediaPipeEmotionClassifier.kt")
    swift = _constants(IOS / "MediaPipe" / "MediaPipeEmotionClassifier.swift")
    assert kotlin["MEDIAPIPE_MODEL"] == swift["MEDIAPIPE_MODEL"] == layout.WAVEFORM_INT8_TFLITE
    gradle = (ANDROID_APP / "build.gradle.kts").read_text()
    assert re.search(r'implementation\("com\.google\.mediapipe:tasks-audio:[\d.]+"\)', gradle)
    assert "MediaPipeTasksAudio" in (IOS / "MediaPipe" / "Podfile").read_text()


def test_no_sample_spells_the_label_count() -> None:
    """An export of a label set (``--labels``) outputs fewer labels: outside the frontends, every
    sample sizes its outputs from the labels it reads (labels.txt, the manifest, the model's
    metadata), never from a literal label count (``8 * SAMPLE_RATE`` is a duration)."""
    count = re.compile(rf"\b{len(CANONICAL_LABELS)}\b(?!\s*\*\s*SAMPLE_RATE)")
    offenders = {
        path.relative_to(REPO).as_posix(): count.findall(_code(path))
        for path in [*_app_sources(), *_web_sources()]
        if path not in (JAVA_FRONTEND, SWIFT_FRONTEND)
    }
    assert {path: found for path, found in offenders.items() if found} == {}
