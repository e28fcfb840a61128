"""Model sizes (the data file), name parsing, sizes files and 6ND compute."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from rescore.emergence.model_sizes import MODEL_SIZE_ENTRIES, MODEL_SIZES, lookup
from rescore.emergence.scale import (
    family_from_name,
    format_count,
    parse_size,
    parse_size_token,
    place_models,
    read_sizes_file,
)
from rescore.exceptions import InvalidInputError, InvalidOptionError, MissingColumnError


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("sim-70m", 70e6),
        ("sim-1.4b", 1.4e9),
        ("EleutherAI/pythia-1.4b-deduped", 1.4e9),
        ("facebook/opt-125m", 125e6),
        ("125M", 125e6),
        ("meta-llama/Llama-2-7b-chat-hf", 7e9),
        ("Qwen/Qwen2.5-7B-Instruct", 7e9),
        ("mistral-7b-v0.1", 7e9),
        ("t5-3b", 3e9),
        ("model_13B", 13e9),
        ("giant-1t", 1e12),
        ("gpt2", None),
        ("davinci", None),
        ("mixtral-8x7b", None),  # a mixture of experts: the model sizes know 46.7B
        ("bloom-1b1", None),  # 1.1B: the model sizes know it
        ("phi-3-mini-4k-instruct", None),  # 4k is a context length
        ("pythia-70m-step143000", 70e6),
        ("distil-7b-from-70b", None),  # two sizes: ambiguous
    ],
)
def test_parse_size(name: str, params: float | None) -> None:
    assert parse_size(name) == params


def test_parse_size_token() -> None:
    assert parse_size_token("1.4b") == 1.4e9
    assert parse_size_token(" 7B ") == 7e9
    with pytest.raises(InvalidInputError, match="parameter count"):
        parse_size_token("seven")


@pytest.mark.parametrize(
    ("name", "params", "family", "tokens"),
    [
        ("gpt2", 124e6, "gpt2", None),
        ("openai-community/gpt2-medium", 355e6, "gpt2", None),
        ("davinci", 175e9, "gpt3", 300e9),
        ("google/flan-t5-xl", 3e9, "flan-t5", None),
        ("EleutherAI/pythia-160m-deduped", 160e6, "pythia-deduped", 300e9),
        ("meta-llama/Llama-2-7b-chat-hf", 7e9, "llama-2-chat", 2e12),
        ("huggyllama/llama-30b", 32.5e9, "llama", 1.4e12),
        ("meta-llama/Meta-Llama-3-8B-Instruct", 8e9, "llama-3-instruct", 15e12),
        ("bigscience/bloom-1b1", 1.1e9, "bloom", 341e9),  # 341B; only the 176B saw 366B
        ("bigscience/bloom", 176e9, "bloom", 366e9),
        ("lamda-137b", 137e9, "lamda", None),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", 46.7e9, "mixtral-instruct", None),
        ("tiiuae/falcon-40b", 40e9, "falcon", 1e12),
        ("Qwen/Qwen2.5-0.5B", 0.49e9, "qwen2.5", 18e12),
    ],
)
def test_model_sizes_lookup(name: str, params: float, family: str, tokens: float | None) -> None:
    entry = lookup(name)
    assert entry is not None
    assert (entry.params, entry.family, entry.tokens) == (params, family, tokens)


def test_model_sizes_are_documented() -> None:
    assert len(MODEL_SIZES) == len(MODEL_SIZE_ENTRIES)  # names are unique
    for entry in MODEL_SIZE_ENTRIES:
        assert entry.name == entry.name.lower()
        assert "/" not in entry.name
        assert entry.params > 0
        assert entry.tokens is None or entry.tokens > 0
        assert len(entry.source) > 10
        assert entry.url.startswith("https://")
    families = {e.family for e in MODEL_SIZE_ENTRIES}
    for wanted in ("gpt2", "gpt3", "t5", "flan-t5", "opt", "pythia", "llama", "llama-2"):
        assert wanted in families
    for wanted in ("llama-3", "falcon", "mistral", "qwen2.5"):
        assert wanted in families
    assert lookup("no-such-model") is None


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("sim-1.4b", "sim"),
        ("EleutherAI/pythia-1.4b-deduped", "pythia-deduped"),
        ("llama-2-7b-chat", "llama-2-chat"),
        ("my_model_7b_v2", "my_model-v2"),
        ("no-size-here", "no-size-here"),
        ("7b", "7b"),
    ],
)
def test_family_from_name(name: str, family: str) -> None:
    assert family_from_name(name) == family


def test_place_models_precedence_and_unknowns() -> None:
    mapping = pl.DataFrame(
        {
            "model": ["sim-70m", "custom"],
            "params": [1.0e8, 5e8],
            "tokens": [None, 1e9],
            "flops": [None, None],
            "family": [None, "mine"],
        },
        schema_overrides={"tokens": pl.Float64, "flops": pl.Float64},
    )
    placed = place_models(["sim-70m", "custom", "gpt2-xl", "pythia-70m", "mystery"], sizes=mapping)
    rows = {r["model"]: r for r in placed.iter_rows(named=True)}
    assert rows["sim-70m"]["scale"] == 1.0e8  # mapping beats the name
    assert rows["sim-70m"]["source"] == "sizes file"
    assert (rows["custom"]["family"], rows["custom"]["scale"]) == ("mine", 5e8)
    assert rows["custom"]["flops"] == 6 * 5e8 * 1e9
    assert rows["gpt2-xl"]["source"].startswith("model sizes: Radford")
    assert (rows["mystery"]["placed"], rows["mystery"]["scale"]) == (False, None)
    assert "unknown size" in rows["mystery"]["note"]
    assert placed.height == 5  # nothing silently dropped


def test_flops_axis_uses_6nd_and_reports_missing_tokens() -> None:
    placed = place_models(["pythia-70m", "sim-1b"], axis="flops")
    rows = {r["model"]: r for r in placed.iter_rows(named=True)}
    assert rows["pythia-70m"]["scale"] == pytest.approx(6 * 70e6 * 300e9)
    assert rows["pythia-70m"]["flops_estimated"] is True
    assert rows["sim-1b"]["placed"] is False
    assert "6ND" in rows["sim-1b"]["note"]
    with pytest.raises(InvalidOptionError, match="axis"):
        place_models(["a"], axis="size")  # type: ignore[arg-type]


def test_data_scale_and_family_override() -> None:
    placed = place_models(
        ["a", "b"], data_scale={"a": 3.0, "b": 4.0}, data_family={"a": "fam", "b": "fam"}
    )
    assert placed.select("scale", "family", "source").rows() == [
        (3.0, "fam", "data column"),
        (4.0, "fam", "data column"),
    ]


def test_no_builtin_sizes_turns_off_lookups_and_parsing() -> None:
    placed = place_models(["gpt2", "sim-1b"], builtin_sizes=False)
    assert placed["placed"].to_list() == [False, False]


def test_read_sizes_file_formats(tmp_path: Path) -> None:
    csv = tmp_path / "scales.csv"
    csv.write_text("model,params,tokens,family\nalpha,7B,2e12,x\nbeta,1.3e9,,x\n")
    df = read_sizes_file(csv)
    assert df.rows() == [("alpha", 7e9, 2e12, None, "x"), ("beta", 1.3e9, None, None, "x")]
    records = tmp_path / "records.json"
    records.write_text(json.dumps([{"model": "alpha", "params": 7e9, "flops": 1e22}]))
    assert read_sizes_file(records).row(0) == ("alpha", 7e9, None, 1e22, None)
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps({"models": [{"model": "alpha", "params": "125m"}]}))
    assert read_sizes_file(nested)["params"].to_list() == [125e6]
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"alpha": 1e9, "beta": "2b"}))
    assert read_sizes_file(flat)["params"].to_list() == [1e9, 2e9]


def test_read_sizes_file_errors(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    missing.write_text("model,size\na,1\n")
    with pytest.raises(MissingColumnError, match="params"):
        read_sizes_file(missing)
    negative = tmp_path / "negative.json"
    negative.write_text(json.dumps([{"model": "a", "params": -1}]))
    with pytest.raises(InvalidInputError, match="positive"):
        read_sizes_file(negative)
    with pytest.raises(InvalidOptionError, match="csv"):
        read_sizes_file(tmp_path / "scales.yaml")


def test_format_count() -> None:
    assert [format_count(v) for v in (1.4e9, 70e6, 12e9, 2e12, 5.0)] == [
        "1.4B",
        "70M",
        "12B",
        "2T",
        "5",
    ]
    assert format_count(None) == ""


def test_model_size_fixes_carry_their_sources() -> None:
    """Issue 14's corrections, each with the source that supports it in the data file."""
    small, large = lookup("bloom-7b1"), lookup("bloom")
    assert small is not None
    assert large is not None
    assert (small.tokens, large.tokens) == (341e9, 366e9)
    assert "341B" in small.source
    assert "366B" in large.source
    lamda = [e for e in MODEL_SIZE_ENTRIES if e.family == "lamda"]
    assert {e.params for e in lamda} == {2e9, 8e9, 68e9, 137e9}  # the sizes of Wei et al.'s curves
    assert all("Thoppilan" in e.source and e.url.endswith("2201.08239") for e in lamda)
    sixty_eight = lookup("lamda-68b")
    assert sixty_eight is not None
    assert sixty_eight.flops == 1.3e23  # documented compute is used before 6ND
    assert "Wei et al. 2022" in sixty_eight.source
    pythia = lookup("pythia-70m")
    assert pythia is not None
    assert (pythia.params, pythia.non_embedding_params) == (70e6, 18_915_328)
    assert "non-embedding" in pythia.source
    gpt2 = lookup("gpt2")
    assert gpt2 is not None
    assert gpt2.non_embedding_params == 85_056_000  # the same block as Pythia-160M's
    assert "computed" in gpt2.source


def test_models_table_gives_both_parameter_counts_and_documented_flops() -> None:
    placed = place_models(["pythia-70m", "lamda-68b", "mystery-7b"], axis="flops")
    rows = {r["model"]: r for r in placed.iter_rows(named=True)}
    assert rows["pythia-70m"]["non_embedding_params"] == 18_915_328
    assert rows["pythia-70m"]["scale"] == pytest.approx(6 * 70e6 * 300e9)  # 6ND, total N
    assert (rows["lamda-68b"]["scale"], rows["lamda-68b"]["flops_estimated"]) == (1.3e23, False)
    assert rows["mystery-7b"]["non_embedding_params"] is None
