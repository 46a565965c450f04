"""Evaluating the engine on graded questions (see ``evals/README.md``).

* `dataset`: the question files, their data model and validator.
* `metrics`: pure scoring functions (EM/F1, citations, retrieval, abstention, latency).
* `harness`: `run_eval` asks every question and aggregates the scores into an `EvalRun`.
* `report`: terminal table, report.json and report.md; `chart`: report.png.
* `cli`: the ``qa eval`` / ``python -m qa.evaluation`` command.
"""
