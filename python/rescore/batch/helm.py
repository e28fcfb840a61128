"""HELM run directories: ``scenario_state.json`` with ``run_spec.json`` beside it.

HELM's ``Runner`` writes, per run, ``<output>/runs/<suite>/<run name>/`` holding
``run_spec.json`` (``name``, ``scenario_spec``, ``adapter_spec`` with ``method``, ``model``,
``model_deployment``, ...) and ``scenario_state.json`` (``adapter_spec`` and
``request_states``), both ``json.dumps(asdict_without_nones(...))``. A request state
(``helm/benchmark/adaptation/request_state.py``) holds ``instance`` (``id``, ``input.text``,
``references[]`` each with ``output.text`` and ``tags`` containing ``"correct"``, and
``perturbation`` when perturbed), ``train_trial_index``, ``reference_index`` and
``request_mode`` (separate multiple choice), ``output_mapping`` (joint multiple choice: letter
-> choice text) and ``result.completions[]`` (``text``, ``logprob``, ``tokens[]`` with
``text`` and ``logprob``).

Rows, by ``adapter_spec.method``:

- ``generation`` and the rest: one row per completion (``sample``), ``prediction`` its text,
  ``reference`` the correct references' texts;
- ``multiple_choice_joint``: the completion's letter mapped through ``output_mapping`` is the
  ``prediction`` (so exact match against the correct references is HELM's exact match);
  ``continuations`` the references' texts;
- ``multiple_choice_separate_original`` / ``_calibrated``: the requests of one instance (one
  per ``reference_index``, and per ``request_mode``) are gathered back into one row whose
  ``choice_logprobs`` are each reference's log-likelihood: the sum of the log-probabilities of
  the echoed prompt's last tokens that spell ``" " + reference`` (HELM tokenizes that string to
  count them; here the tokens' own texts are matched), less the calibration request's for
  ``_calibrated``. HELM's own choice for ``_original`` divides by the token count; rescore's
  metrics read the sums, as lm-eval's do.

Model: ``adapter_spec.model`` (``openai/davinci``), else ``model_deployment``. Task: the run
name without its ``model=`` argument (``mmlu:subject=anatomy,method=multiple_choice_joint``),
so runs of several models share it. ``example_id`` is the instance id, with ``/<perturbation
name>`` for perturbed instances; ``trial`` the ``train_trial_index``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa

from rescore.batch.lm_eval import ERROR_CHOICES, ERROR_TEXT
from rescore.batch.record_rows import RowBuffer, loads, row_schema
from rescore.batch.storage import AnyPath
from rescore.exceptions import InputFormatError

STATE_FILE = "scenario_state.json"
RUN_SPEC_FILE = "run_spec.json"
CORRECT_TAG = "correct"
KEYS = ("example_id", "trial", "sample")
EXTRA = (pa.field("trial", pa.int64()),)
_NO_COMPLETION = object()
SEPARATE = ("multiple_choice_separate_original", "multiple_choice_separate_calibrated")


def recognise(path: AnyPath) -> bool:
    """Whether ``path`` is a HELM ``scenario_state.json`` (by name)."""
    return path.name == STATE_FILE


def schema(path: AnyPath) -> pa.Schema:
    """The rows' schema (HELM keeps per-instance metrics in another file: no ``harness_``)."""
    return row_schema((), extra=EXTRA, keys=("example_id", "sample"))


def count_rows(path: AnyPath) -> int | None:
    return None


def _load(path: AnyPath) -> Any:
    try:
        with path.open("rb") as fh:
            return loads(fh.read())
    except ValueError as e:
        msg = f"{path}: not valid JSON (truncated or corrupt HELM file): {e}"
        raise InputFormatError(msg) from None


def model_and_task(path: AnyPath, state: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Model and task from ``run_spec.json`` beside ``path`` (else the state's adapter spec and
    the directory name)."""
    spec_path = path.parent / RUN_SPEC_FILE
    run_spec: Any = _load(spec_path) if spec_path.exists() else {}
    adapter = run_spec.get("adapter_spec") or state.get("adapter_spec") or {}
    model = adapter.get("model") or adapter.get("model_deployment")
    name = run_spec.get("name") or path.parent.name
    task = _without_model(name) if isinstance(name, str) else None
    return (model if isinstance(model, str) else None), task


def _without_model(run_name: str) -> str:
    head, sep, args = run_name.partition(":")
    if not sep:
        return run_name
    kept = [a for a in args.split(",") if not a.startswith("model=") and a]
    return f"{head}:{','.join(kept)}" if kept else head


def _instance_key(instance: Mapping[str, Any]) -> str | None:
    iid = instance.get("id")
    if iid is None:
        return None
    pert = instance.get("perturbation")
    if isinstance(pert, dict) and pert.get("name"):
        return f"{iid}/{pert['name']}"
    return str(iid)


def _references(instance: Mapping[str, Any]) -> tuple[list[str], list[int]]:
    texts: list[str] = []
    correct: list[int] = []
    for i, ref in enumerate(instance.get("references") or []):
        out = ref.get("output") if isinstance(ref, dict) else None
        texts.append(str(out.get("text", "")) if isinstance(out, dict) else "")
        if isinstance(ref, dict) and CORRECT_TAG in (ref.get("tags") or []):
            correct.append(i)
    return texts, correct


def _completions(state: Mapping[str, Any]) -> list[Any]:
    result = state.get("result")
    comps = result.get("completions") if isinstance(result, dict) else None
    return comps if isinstance(comps, list) else []


def continuation_logprob(completion: Mapping[str, Any], reference: str) -> float:
    """The summed log-probability of the last echoed tokens that spell ``" " + reference``."""
    tokens = completion.get("tokens")
    if not isinstance(tokens, list) or not tokens:
        msg = "the completion has no tokens with log-probabilities"
        raise ValueError(msg)
    want = " " + reference
    text = ""
    total = 0.0
    for tok in reversed(tokens):
        text = str(tok.get("text", "")) + text
        total += float(tok.get("logprob", 0.0))
        if text == want or (text.strip() == reference.strip() and text.endswith(reference)):
            return total
        if len(text) > len(want) + 1:
            break
    msg = f"the echoed tokens do not end with the reference {reference!r}"
    raise ValueError(msg)


def _base(state: Mapping[str, Any], model: str | None, task: str | None) -> dict[str, Any]:
    instance = state.get("instance") or {}
    return {
        "model": model,
        "task": task,
        "example_id": _instance_key(instance),
        "trial": state.get("train_trial_index", 0),
    }


def _generation_table(
    states: list[Mapping[str, Any]],
    model: str | None,
    task: str | None,
    joint: bool,
    out_schema: pa.Schema,
) -> pa.Table:
    """The rows of generation (and joint multiple choice) request states: one per completion,
    built column by column."""
    ids: list[str | None] = []
    trials: list[Any] = []
    samples: list[int] = []
    preds: list[str | None] = []
    refs: list[list[str] | None] = []
    conts: list[list[str] | None] = []
    errors: list[str | None] = []
    for st in states:
        instance = st["instance"]
        texts, correct = _references(instance)
        reference = [texts[i] for i in correct] or None
        key = _instance_key(instance)
        trial = st.get("train_trial_index", 0)
        cont = texts if joint else None  # no per-choice log-likelihoods: no label either
        comps = _completions(st)
        if not comps:
            comps = [_NO_COMPLETION]
        mapping = (st.get("output_mapping") or {}) if joint else {}
        for k, comp in enumerate(comps):
            ids.append(key)
            trials.append(trial)
            samples.append(k)
            refs.append(reference)
            conts.append(cont)
            text = comp.get("text") if isinstance(comp, dict) else None
            if comp is _NO_COMPLETION:
                preds.append(None)
                errors.append("the request state has no completion")
            elif not isinstance(text, str):
                preds.append(None)
                errors.append("the completion has no text")
            else:
                preds.append(mapping.get(text.strip(), text.strip()) if joint else text)
                errors.append(None)
    n = len(ids)
    columns = {
        "model": pa.repeat(pa.scalar(model, pa.string()), n),
        "task": pa.repeat(pa.scalar(task, pa.string()), n),
        "example_id": ids,
        "trial": trials,
        "sample": samples,
        "prediction": preds,
        "reference": refs,
        "continuations": conts,
        ERROR_TEXT: errors,
    }
    arrays = [
        pa.array(columns[f.name], f.type) if f.name in columns else pa.nulls(n, f.type)
        for f in out_schema
    ]
    return pa.Table.from_arrays(arrays, schema=out_schema)


def _separate_row(
    states: list[Mapping[str, Any]], calibrated: bool, model: str | None, task: str | None
) -> dict[str, Any]:
    instance = states[0].get("instance") or {}
    texts, correct = _references(instance)
    row = {**_base(states[0], model, task), "sample": 0, "continuations": texts}
    row["reference"] = [texts[i] for i in correct] or None
    try:
        scores: dict[tuple[int, str], float] = {}
        for st in states:
            ri = st.get("reference_index")
            comps = _completions(st)
            if not isinstance(ri, int) or not 0 <= ri < len(texts) or not comps:
                msg = f"request for reference_index {ri!r} has no usable completion"
                raise ValueError(msg)
            mode = st.get("request_mode") or "original"
            scores[(ri, mode)] = continuation_logprob(comps[0], texts[ri])
        logprobs = []
        for i in range(len(texts)):
            if (i, "original") not in scores:
                msg = f"no request for reference {i}"
                raise ValueError(msg)
            value = scores[(i, "original")]
            if calibrated:
                if (i, "calibration") not in scores:
                    msg = f"no calibration request for reference {i}"
                    raise ValueError(msg)
                value -= scores[(i, "calibration")]
            logprobs.append(value)
        if not correct:
            msg = "no reference is tagged correct"
            raise ValueError(msg)
        row["choice_logprobs"] = logprobs
        row["label"] = correct[0]
    except ValueError as e:
        row[ERROR_CHOICES] = str(e)
    return row


def iter_tables(path: AnyPath, rows: int) -> Iterator[pa.Table]:
    """Stream a run's rows as tables of at most ``rows`` rows."""
    state = _load(path)
    if not isinstance(state, dict) or not isinstance(state.get("request_states"), list):
        msg = f"{path}: not a HELM scenario state: expected an object with 'request_states'"
        raise InputFormatError(msg)
    model, task = model_and_task(path, state)
    adapter = state.get("adapter_spec") or {}
    method = adapter.get("method", "generation")
    out_schema = schema(path)
    states = state["request_states"]
    for i, st in enumerate(states):
        if not isinstance(st, dict) or not isinstance(st.get("instance"), dict):
            msg = f"{path}: request_states[{i}] has no instance"
            raise InputFormatError(msg)
    if method not in SEPARATE:
        joint = method == "multiple_choice_joint"
        for first in range(0, len(states), max(1, rows)):
            table = _generation_table(states[first : first + rows], model, task, joint, out_schema)
            for offset in range(0, table.num_rows, max(1, rows)):
                yield table.slice(offset, rows)
        return
    buffer = RowBuffer(out_schema, rows)
    groups: dict[tuple[Any, Any], list[Mapping[str, Any]]] = {}
    for st in states:
        key = (_instance_key(st["instance"]), st.get("train_trial_index", 0))
        if key not in groups:
            groups[key] = []
        groups[key].append(st)
    for sts in groups.values():
        table = buffer.add(_separate_row(sts, method.endswith("calibrated"), model, task))
        if table is not None:
            yield table
    last = buffer.flush()
    if last is not None:
        yield last


__all__ = ["continuation_logprob", "count_rows", "iter_tables", "model_and_task", "schema"]
