"""The batch rescoring job: ``rescore score`` and :func:`rescore.score`.

Modules, in the order data flows through them:

- :mod:`~rescore.batch.readers`: find inputs, tell formats, stream fixed-size units;
- :mod:`~rescore.batch.lm_eval`: lm-evaluation-harness sample logs to rows, safely;
- :mod:`~rescore.batch.settings`: :class:`ScoreSettings`, every option of the job;
- :mod:`~rescore.batch.spec`: the resolved spec (:class:`ScoreSpec`) and its fingerprint;
- :mod:`~rescore.batch.tokenize`: built-in rules or a Hugging Face ``tokenizer.json``;
- :mod:`~rescore.batch.score_table`: :func:`score_table`, the engine-agnostic scoring step;
- :mod:`~rescore.batch.writer`: atomic part files, the manifest, resuming;
- :mod:`~rescore.batch.progress`: progress bar and summary table;
- :mod:`~rescore.batch.units`: units of work and the local engine (:mod:`ray_engine`: Ray);
- :mod:`~rescore.batch.job`: :func:`score`, tying them together; :mod:`~rescore.batch.cli`.
"""

from __future__ import annotations

from rescore.batch.job import ScoreResult, score
from rescore.batch.score_table import ScoredTable, score_table, score_table_with_errors
from rescore.batch.settings import DEFAULT_BATCH_SIZE, ScoreSettings
from rescore.batch.spec import ColumnMap, MetricSpec, ScoreSpec, TokenizerSpec

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ColumnMap",
    "MetricSpec",
    "ScoreResult",
    "ScoreSettings",
    "ScoreSpec",
    "ScoredTable",
    "TokenizerSpec",
    "score",
    "score_table",
    "score_table_with_errors",
]
