"""Sample logs written by lm-evaluation-harness itself, offline.

lm-eval's own task machinery (a ``ConfigurableTask`` from a config dict, the ``json`` dataset
builder on a local file), its ``simple_evaluate`` and its ``EvaluationTracker`` write the
``results_*.json`` and ``samples_<task>_*.jsonl`` files; only the model is ours: it answers each
``loglikelihood`` request with a number hashed from the request, so runs are reproducible and
nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

CHOICE_METRICS = ("acc", "acc_norm", "acc_bytes")
DOCS: list[dict[str, Any]] = [
    {
        "q": "Capital of France?",
        "choices": ["Paris", "Lyon", "a much longer one", "Nice"],
        "gold": 0,
    },
    {
        "q": "Colour of the sky?",
        "choices": ["blue", "naïve green", "über-red", "日本語"],
        "gold": 1,
    },
    *(
        {
            "q": f"Question {i}?",
            "choices": [("x" * (1 + (i * 7 + k) % 9)) + ("é" * (k % 2)) for k in range(4)],
            "gold": i % 4,
        }
        for i in range(60)
    ),
]
TASKS = {
    "rescore_mc": {"metrics": CHOICE_METRICS},
    "rescore_mc_colon": {"metrics": CHOICE_METRICS, "target_delimiter": ": "},
    "rescore_mc_mi": {"metrics": ("acc", "acc_norm", "acc_mutual_info")},
}


PAGES = [
    "The quick brown fox\njumps over  the lazy dog.",
    " Ünïcödé text, with accents: é è ê \n\n and a tab\tinside ",
    "one",
    "A longer page " * 40,
]
QUESTIONS = [
    {"q": f"({i}) What is {i % 4} + {i % 4}?", "answer": str(2 * (i % 4))} for i in range(40)
]
ANSWER_POOL = ["0", "2", "4", "6", "6", "4.", "Four", " 2"]
REPEATS = 6


def _hashed_lm() -> Any:
    from lm_eval.api.model import LM

    def _hash(*parts: str) -> int:
        return int(hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:8], 16)

    class HashedLM(LM):  # type: ignore[misc]
        """Log-likelihoods and generations hashed from the request: deterministic, offline."""

        def __init__(self) -> None:
            super().__init__()
            self.seen: dict[str, int] = {}

        def loglikelihood(
            self, requests: list[Any], disable_tqdm: bool = False
        ) -> list[tuple[float, bool]]:
            out = []
            for r in requests:
                h = _hash(*r.args)
                out.append((-(h % 10000) / 700.0 - 0.01, h % 3 == 0))
            return out

        def loglikelihood_rolling(
            self, requests: list[Any], disable_tqdm: bool = False
        ) -> list[float]:
            return [-(_hash(r.args[0]) % 100000) / 97.0 - 0.5 for r in requests]

        def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
            # lm-eval repeats a request `repeats` times: the n-th copy gets the n-th sample
            out = []
            for r in requests:
                context = r.args[0]
                n = self.seen.get(context, 0)
                self.seen[context] = n + 1
                out.append(ANSWER_POOL[_hash(context, str(n)) % len(ANSWER_POOL)])
            return out

    return HashedLM()


def _run(configs: list[dict[str, Any]], out_dir: Path) -> Path:
    """lm-eval's simple_evaluate and EvaluationTracker on ``configs``; the model directory."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import lm_eval
    from lm_eval.loggers import EvaluationTracker

    tracker = EvaluationTracker(output_path=str(out_dir))
    results = lm_eval.simple_evaluate(
        model=_hashed_lm(), tasks=configs, log_samples=True, evaluation_tracker=tracker
    )
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for name in results["configs"]:
        tracker.save_results_samples(task_name=name, samples=samples[name])
    (model_dir,) = [p for p in out_dir.iterdir() if p.is_dir()]
    return model_dir


def _json_dataset(path: Path, docs: list[dict[str, Any]]) -> dict[str, Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), "utf-8")
    return {
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(path)}},
        "test_split": "test",
    }


def write_logs(data_dir: Path, out_dir: Path) -> Path:
    """Run lm-eval on the three multiple-choice tasks; return the directory of its files."""
    dataset = _json_dataset(data_dir / "mc.jsonl", DOCS)
    configs = []
    for name, spec in TASKS.items():
        config: dict[str, Any] = {
            "task": name,
            **dataset,
            "output_type": "multiple_choice",
            "doc_to_text": "{{q}}",
            "doc_to_choice": "{{choices}}",
            "doc_to_target": "{{gold}}",
            "metric_list": [
                {"metric": m, "aggregation": "mean", "higher_is_better": True}
                for m in spec["metrics"]
            ],
        }
        if "target_delimiter" in spec:
            config["target_delimiter"] = spec["target_delimiter"]
        configs.append(config)
    return _run(configs, out_dir)


def write_rolling_and_generation_logs(data_dir: Path, out_dir: Path) -> Path:
    """Run lm-eval on a wikitext-like ``loglikelihood_rolling`` task (its three perplexity
    metrics) and a generation task sampled ``REPEATS`` times per question with exact match
    under lm-eval's default ``take_first`` filter and a ``take_first_k`` + ``majority_vote``
    (maj@4) filter; return the directory of its files."""
    rolling = {
        "task": "rescore_rolling",
        **_json_dataset(data_dir / "pages.jsonl", [{"page": p} for p in PAGES]),
        "output_type": "loglikelihood_rolling",
        "doc_to_text": "",
        "doc_to_target": "{{page}}",
        "metric_list": [
            {"metric": "word_perplexity"},
            {"metric": "byte_perplexity"},
            {"metric": "bits_per_byte"},
        ],
    }
    exact = {"metric": "exact_match", "aggregation": "mean", "higher_is_better": True}
    generation = {
        "task": "rescore_gen",
        **_json_dataset(data_dir / "questions.jsonl", QUESTIONS),
        "output_type": "generate_until",
        "doc_to_text": "{{q}}",
        "doc_to_target": "{{answer}}",
        "generation_kwargs": {"until": ["\n"], "do_sample": True, "temperature": 1.0},
        "repeats": REPEATS,
        "metric_list": [exact],
        "filter_list": [
            {"name": "take_first", "filter": [{"function": "take_first"}]},
            {
                "name": "maj@4",
                "filter": [
                    {"function": "take_first_k", "k": 4},
                    {"function": "majority_vote"},
                    {"function": "take_first"},
                ],
            },
        ],
    }
    return _run([rolling, generation], out_dir)


GEN_DOCS: list[dict[str, Any]] = [
    {"q": "Capital of France?", "answers": ["Paris", "the city of Paris"]},
    {"q": "Who wrote Hamlet?", "answers": ["William Shakespeare", "Shakespeare"]},
    {"q": "Translate 'merci'.", "answers": ["Thank you.", "Thanks!"]},
    {"q": "Largest planet?", "answers": ["Jupiter, the gas giant."]},
    {"q": "Boiling point of water?", "answers": ["100 °C at sea level", "212 °F"]},
    {"q": "Say hello in Japanese.", "answers": ["こんにちは", "konnichiwa"]},
    {"q": "Opposite of naïve?", "answers": ["Worldly-wise, experienced."]},
    {"q": "An article?", "answers": ["An apple a day keeps the doctor away."]},
    *(
        {
            "q": f"Summarise item {i}.",
            "answers": [
                f"Item {i} costs ${i}.50, weighs {i * 3 - 1} kg and ships in {i % 5} days.",
                f"It is item number {i}; price {i}.5 dollars.",
            ],
        }
        for i in range(1, 25)
    ),
]
"""Questions with several acceptable answers: punctuation, numbers, accents, CJK, articles."""

GEN_TASKS: dict[str, dict[str, Any]] = {
    # one reference (the first answer); lm-eval's own corpus BLEU and chrF in the results
    "rescore_gen": {"target": "{{answers[0]}}", "metrics": ("exact_match", "bleu", "chrf")},
    # every answer is a reference: lm-eval logs the list
    "rescore_gen_multi": {"target": "answers", "metrics": ("exact_match",)},
}
GEN_MODELS = ("org/gen-small", "org/gen-large")


def _generation(model: str, context: str, answers: list[str]) -> str:
    """A deterministic answer of `model` to one prompt: an answer as given, changed in case or
    punctuation, cut short, with words swapped, or off topic, chosen by a hash."""
    h = int(hashlib.sha256(f"{model}\x00{context}".encode()).hexdigest()[:8], 16)
    answer = answers[h % len(answers)]
    words = answer.split()
    kind = (h >> 8) % 6
    if kind == 0:
        return answer
    if kind == 1:
        return answer.upper().replace(".", "")
    if kind == 2:
        return " ".join(words[: max(1, len(words) // 2)])
    if kind == 3:
        return " ".join(reversed(words)) + " , indeed ."
    if kind == 4:
        return f"The answer is: {answer}"
    return "I do not know"


def write_generation_logs(data_dir: Path, out_dir: Path) -> Path:
    """Run lm-eval's ``generate_until`` tasks for each of :data:`GEN_MODELS`; return
    ``out_dir``, holding one directory of sample logs (and results) per model."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import lm_eval
    from lm_eval.api.model import LM
    from lm_eval.loggers import EvaluationTracker

    answers = {d["q"]: d["answers"] for d in GEN_DOCS}

    class ScriptedLM(LM):  # type: ignore[misc]
        """Answers from :func:`_generation`: deterministic, offline."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> Any:
            raise NotImplementedError

        def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> Any:
            raise NotImplementedError

        def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
            out = []
            for r in requests:
                context = r.args[0]
                out.append(_generation(self.name, context, answers[context.strip()]))
            return out

    data_dir.mkdir(parents=True, exist_ok=True)
    docs = data_dir / "gen.jsonl"
    docs.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in GEN_DOCS), "utf-8")
    configs = [
        {
            "task": name,
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": {"test": str(docs)}},
            "test_split": "test",
            "output_type": "generate_until",
            "doc_to_text": "{{q}}",
            "doc_to_target": spec["target"],
            "target_delimiter": "",
            "generation_kwargs": {"until": ["\n\n"], "do_sample": False},
            "metric_list": [{"metric": m, "higher_is_better": True} for m in spec["metrics"]],
        }
        for name, spec in GEN_TASKS.items()
    ]
    for model in GEN_MODELS:
        tracker = EvaluationTracker(output_path=str(out_dir))
        results = lm_eval.simple_evaluate(
            model=ScriptedLM(model),
            model_args={"pretrained": model},
            tasks=configs,
            log_samples=True,
            evaluation_tracker=tracker,
            bootstrap_iters=0,
        )
        samples = results.pop("samples")
        tracker.save_results_aggregated(results=results, samples=samples)
        for name in results["configs"]:
            tracker.save_results_samples(task_name=name, samples=samples[name])
    return out_dir
