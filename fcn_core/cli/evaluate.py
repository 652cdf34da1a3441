"""`fcn evaluate`: the paper's metrics for label PNGs against ground truth, or for a model on a dataset."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fcn_core.cli.common import (
    ProgressBar,
    add_backend_options,
    add_format_argument,
    backend_notes,
    fail,
    missing_labels_dir,
    report_failures,
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand."""
    p = sub.add_parser(
        "evaluate",
        help="pixel acc., mean acc., mean IU, f.w. IU (paper §5) for predictions or a model",
        description="Either compare two folders of label PNGs matched by file stem (--pred DIR --gt DIR), "
        "run a model over a dataset (--weights FILE --data DATASET) and score every stride it outputs, or "
        "score stored predictions against a dataset (--pred DIR --data DATASET: DIR holds <stem>.png label "
        "images from any model, or the 32s/ 16s/ 8s/ folders `fcn predict --stride all` writes; ground truth "
        "is read through the dataset, with its void value and corrections). "
        "Prints a table; --json/--csv save the full report (per class, per image, confusion matrix).",
    )
    p.add_argument("--pred", metavar="DIR",
                   help="folder of predicted label PNGs, or a store with 32s/ 16s/ 8s/ folders (fcn predict "
                   "--stride all: each stride is scored); with --gt or with --data")
    p.add_argument("--gt", metavar="DIR", help="folder of ground-truth label PNGs")
    p.add_argument("--num-classes", type=int, default=None, metavar="N",
                   help="number of classes (default: class_names.txt beside --gt, else largest value + 1)")
    p.add_argument("--ignore-index", type=int, default=255, metavar="V",
                   help="GT value meaning void (default 255; CamVid files use 11)")
    p.add_argument("--weights", metavar="FILE", help="model weights (.safetensors or pytorch-fcn .pth)")
    p.add_argument("--data", metavar="DATASET", help="dataset folder (VOC layout, index PNGs, labelme, ...)")
    p.add_argument("--labels", metavar="DIR", default=None, help="corrected labels replacing originals")
    add_format_argument(p)
    p.add_argument("--ignore-class-names", action="store_true",
                   help="score a model whose class names differ from the dataset's (same count) anyway, "
                   "class i against class i; without it such a run stops with the differences listed")
    p.add_argument("--split", metavar="NAME", default=None, help="dataset split, e.g. val (default: all)")
    p.add_argument("--task", choices=("sem", "geo", "all"), default=None,
                   help="head of a two-headed net (SIFT Flow) to score: sem against the dataset's labels, "
                   "geo against its geometric labels (GeoLabels/), all = both (default: sem)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default: cuda when present")
    add_backend_options(p, calibration="up to 40 images of the dataset", default_backend="torch")
    p.add_argument("--json", metavar="FILE", default=None, help="write the full report as JSON")
    p.add_argument("--csv", metavar="FILE", default=None, help="write per-image scores as CSV")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    return fail("evaluate", message)


def run(args: argparse.Namespace) -> int:
    """Run ``fcn evaluate``; 0 on success, 1 when some images could not be scored (the others are; the bad
    files are listed on stderr and under "failed" in the JSON), 2 on bad input (message on stderr)."""
    from fcn_core.data.atomic import atomic_write_text
    from fcn_core.data.errors import DataError
    from fcn_core.evaluation import (
        class_names_mismatch,
        evaluate_dataset,
        evaluate_folders,
        format_reports,
        reports_to_json,
        stride_folders,
        write_csv,
    )

    stored_mode = args.pred is not None and args.data is not None and args.gt is None and args.weights is None
    folder_mode = not stored_mode and (args.pred is not None or args.gt is not None)
    model_mode = not stored_mode and (args.weights is not None or args.data is not None)
    if not stored_mode and folder_mode == model_mode:
        return _fail("give either --pred DIR --gt DIR, --weights FILE --data DATASET, or --pred DIR --data "
                     "DATASET")
    if folder_mode and (args.pred is None or args.gt is None):
        return _fail("--pred and --gt are both needed")
    if model_mode and (args.weights is None or args.data is None):
        return _fail("--weights and --data are both needed")
    if args.num_classes is not None and not 1 <= args.num_classes <= 255:
        return _fail(f"--num-classes must be in 1..255, not {args.num_classes}")

    problem = missing_labels_dir(args.labels)
    if problem:
        return fail("evaluate", problem)
    progress = ProgressBar("evaluate", enabled=not args.no_progress)
    by_task: dict = {}
    try:
        if folder_mode and stride_folders(args.pred):
            reports = {}
            for stride, folder in stride_folders(args.pred).items():
                with ProgressBar(f"evaluate {stride}s", enabled=not args.no_progress) as bar:
                    reports[stride] = evaluate_folders(folder, args.gt, num_classes=args.num_classes,
                                                       ignore_index=args.ignore_index, progress=bar)
        elif folder_mode:
            reports = {"": evaluate_folders(args.pred, args.gt, num_classes=args.num_classes,
                                            ignore_index=args.ignore_index, progress=progress)}
        elif stored_mode:
            from fcn_core.data.datasets import open_dataset
            from fcn_core.data.predictions import open_predictions
            from fcn_core.data.task_view import task_dataset

            if args.task == "all":
                return _fail("stored predictions are of one head: give --task sem or --task geo")
            dataset = open_dataset(args.data, labels_dir=args.labels, format=args.data_format)
            dataset = task_dataset(dataset, args.task or "sem")  # geo: scored against the geometric labels
            predictions = open_predictions(args.pred, dataset)
            reports = evaluate_dataset(predictions, dataset, split=args.split, progress=progress)
        else:
            from fcn_core.data.datasets import open_dataset
            from fcn_core.data.task_view import task_dataset, task_title
            from fcn_core.predictor import Predictor
            from fcn_core.task_predictor import resolve_tasks, task_predictor
            from fcn_core.weights import WeightsError, load_model

            dataset = open_dataset(args.data, labels_dir=args.labels, format=args.data_format)
            try:
                loaded = load_model(args.weights)
                calibration = None
                if args.precision == "int8":
                    from fcn_core.runtime_int8 import Calibration

                    stems = {Path(s.image_path): s.stem for s in dataset.samples}
                    calibration = Calibration(list(stems), read=lambda p: dataset.image(stems[Path(p)]))
                predictor = Predictor(loaded, device=args.device, precision=args.precision,
                                      backend=args.backend, calibration=calibration)
            except (WeightsError, OSError, RuntimeError) as exc:
                return _fail(str(exc))
            backend_notes("evaluate", predictor)
            try:
                tasks = resolve_tasks(predictor, args.task)
            except ValueError as exc:
                return _fail(f"{args.weights}: {exc}")
            if len(tasks) > 1 and args.csv:
                return _fail("--csv writes one task's scores: give --task sem or --task geo")
            by_task = {}
            for task in tasks:
                task_data, task_model = task_dataset(dataset, task), task_predictor(predictor, task)
                mismatch = class_names_mismatch(task_model.class_names, task_data.class_names)
                if mismatch and not args.ignore_class_names:
                    return _fail(f"{args.weights} vs {args.data}: {mismatch}, so the scores would compare "
                                 "unrelated classes. Pass --ignore-class-names to score class i against "
                                 "class i anyway")
                if mismatch:
                    print(f"fcn evaluate: warning: {args.weights} vs {args.data}: {mismatch}; scoring class "
                          "indices as they are (--ignore-class-names)", file=sys.stderr)
                by_task[task] = evaluate_dataset(task_model, task_data, split=args.split, progress=progress)
            reports = by_task[tasks[0]]
    except (DataError, ValueError) as exc:
        return _fail(str(exc))
    finally:
        progress.close()

    if not folder_mode and len(by_task) > 1:  # one table per head, the JSON keyed by task
        for task, task_reports in by_task.items():
            print(f"{task_title(task)} ({task}):")
            print(format_reports(task_reports))
            print()
        payload = {task: reports_to_json(r) for task, r in by_task.items()}
        failed = [f for r in by_task.values() for f in next(iter(r.values()))["failed"]]
        total = sum(next(iter(r.values()))["images"] for r in by_task.values()) + len(failed)
        try:
            if args.json:
                atomic_write_text(args.json, json.dumps(payload, indent=1) + "\n")
        except OSError as exc:
            return _fail(f"cannot write report: {exc}")
        return report_failures("evaluate", failed, total, "scored")
    table_reports = reports if "" not in reports else {"all": reports[""]}
    first = next(iter(table_reports.values()))
    if first["images"]:
        print(format_reports(table_reports))
    payload = reports_to_json(reports[""] if "" in reports else reports)
    try:
        if args.json:
            atomic_write_text(args.json, json.dumps(payload, indent=1) + "\n")
        if args.csv:
            write_csv(args.csv, {0: reports[""]} if "" in reports else reports)
    except OSError as exc:
        return _fail(f"cannot write report: {exc}")
    # Bad files were skipped, not scored: list them last, where they are seen (also under "failed" in --json).
    failed = first["failed"]
    return report_failures("evaluate", failed, first["images"] + len(failed), "scored")
