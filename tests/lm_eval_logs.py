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


def write_logs(data_dir: Path, out_dir: Path) -> Path:
    """Run lm-eval on the three tasks; return the directory holding its files."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import lm_eval
    from lm_eval.api.model import LM
    from lm_eval.loggers import EvaluationTracker

    class HashedLM(LM):  # type: ignore[misc]
        """Log-likelihoods hashed from (context, continuation): deterministic, offline."""

        def loglikelihood(
            self, requests: list[Any], disable_tqdm: bool = False
        ) -> list[tuple[float, bool]]:
            out = []
            for r in requests:
                context, continuation = r.args
                key = f"{context}\x00{continuation}".encode()
                h = int(hashlib.sha256(key).hexdigest()[:8], 16)
                out.append((-(h % 10000) / 700.0 - 0.01, h % 3 == 0))
            return out

        def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> Any:
            raise NotImplementedError

        def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> Any:
            raise NotImplementedError

    data_dir.mkdir(parents=True, exist_ok=True)
    docs = data_dir / "mc.jsonl"
    docs.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in DOCS), "utf-8")
    configs = []
    for name, spec in TASKS.items():
        config: dict[str, Any] = {
            "task": name,
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": {"test": str(docs)}},
            "test_split": "test",
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
    tracker = EvaluationTracker(output_path=str(out_dir))
    results = lm_eval.simple_evaluate(
        model=HashedLM(), tasks=configs, log_samples=True, evaluation_tracker=tracker
    )
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for name in results["configs"]:
        tracker.save_results_samples(task_name=name, samples=samples[name])
    (model_dir,) = [p for p in out_dir.iterdir() if p.is_dir()]
    return model_dir
