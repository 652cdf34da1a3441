"""`fcn convert IN.caffemodel OUT.safetensors`: a fcn.berkeleyvision.org Caffe net as our checkpoint."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fcn_core.cli.common import fail


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``convert`` subcommand."""
    p = sub.add_parser(
        "convert",
        help="convert a reference .caffemodel (VOC, PASCAL-Context, NYUDv2, SIFT Flow FCNs) to a checkpoint",
        description="Read a .caffemodel of fcn.berkeleyvision.org without Caffe (a protobuf wire-format "
        "reader; nothing is executed), recognise the net from its layer names and class count, and write "
        "this project's .safetensors checkpoint with the reference's classes and preprocessing (BGR, the "
        "dataset's Caffe mean; HHA mean for HHA inputs). Unknown nets are refused with the layers found.",
    )
    p.add_argument("source", metavar="IN", type=Path, help="the .caffemodel file")
    p.add_argument("out", metavar="OUT", type=Path, help="the .safetensors checkpoint to write")
    p.add_argument("--arch", help="nyud-fcn32s-color or nyud-fcn32s-hha when the file name does not say "
                   "(their layers are identical)")
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Convert and print a JSON summary (arch, reference net, classes, parameters, output)."""
    from fcn_core.weights import WeightsError, load_model, save_checkpoint

    if args.source.suffix.lower() != ".caffemodel":
        return fail("convert", f"{args.source}: expected a .caffemodel file")
    if args.out.exists() and not args.force:
        return fail("convert", f"{args.out}: exists (use --force to overwrite)")
    try:
        loaded = load_model(args.source, arch=args.arch)
        save_checkpoint(
            args.out, loaded.model, arch=loaded.arch, class_names=loaded.class_names, palette=loaded.palette,
            void_index=loaded.void_index, preprocessing=loaded.preprocessing, options=loaded.options,
            metadata={**loaded.metadata, "converted_from": str(args.source)},
        )
    except (WeightsError, OSError) as exc:
        return fail("convert", str(exc))
    print(json.dumps({
        "out": str(args.out), "arch": loaded.arch, "reference": loaded.metadata.get("reference"),
        "num_classes": loaded.num_classes, "inputs": [i["name"] for i in loaded.metadata.get("inputs", [])],
        "parameters": loaded.parameter_count,
    }, indent=2))
    return 0
