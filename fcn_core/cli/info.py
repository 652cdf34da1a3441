"""`fcn info FILE`: what a weights file holds (arch, strides, classes, size, preprocessing, metadata)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from fcn_core.cli.common import ARCH_CHOICES, fail


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``info`` subcommand."""
    p = sub.add_parser(
        "info",
        help="describe a weights file",
        description="Print what a weights file holds: architecture, output strides, classes, parameter "
        "count, input preprocessing, void index and stored metadata. Reads our .safetensors checkpoints and "
        "pytorch-fcn .pth files (plain or trainer dicts) without unpickling arbitrary objects.",
    )
    p.add_argument("file", metavar="FILE", help="weights file (.safetensors or .pth)")
    p.add_argument("--arch", choices=ARCH_CHOICES, default=None,
                   help="architecture, when the keys cannot tell (at-once FCN-8s has FCN-8s keys)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=run)


def describe_file(path: str, arch: str | None = None) -> dict[str, Any]:
    """The facts ``fcn info`` prints, as a JSON-ready dict (raises WeightsError for unusable files)."""
    from fcn_core.weights import load_model

    loaded = load_model(path, arch=arch)
    return {
        "file": str(loaded.path),
        "arch": loaded.arch,
        "strides": list(loaded.strides),
        "num_classes": loaded.num_classes,
        "class_names": list(loaded.class_names),
        "parameters": loaded.parameter_count,
        "options": loaded.options,
        "preprocessing": loaded.preprocessing.to_dict(),
        "void_index": loaded.void_index,
        "metadata": loaded.metadata,
    }


def _text(info: dict[str, Any]) -> str:
    from fcn_core.weights import Preprocessing

    opts = info["options"]
    lines = [
        f"file:          {info['file']}",
        f"arch:          {info['arch']}",
        f"strides:       {', '.join(str(s) for s in info['strides'])}",
        f"options:       batch_norm={opts.get('batch_norm')}, width={opts.get('width')}",
        f"parameters:    {info['parameters']:,} ({info['parameters'] / 1e6:.1f} M)",
        f"classes:       {info['num_classes']}",
    ]
    lines += [f"  {i:3d} {name}" for i, name in enumerate(info["class_names"])]
    lines.append(f"preprocessing: {Preprocessing.from_dict(info['preprocessing']).describe()}")
    lines.append(f"void index:    {info['void_index']}")
    if info["metadata"]:
        lines.append("metadata:")
        for key, value in info["metadata"].items():
            shown = value if isinstance(value, (str, int, float, bool)) else json.dumps(value, default=str)
            lines.append(f"  {key}: {shown}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``fcn info``; 0 on success, 2 when the file cannot be used."""
    from fcn_core.weights import WeightsError

    try:
        info = describe_file(args.file, arch=args.arch)
    except (WeightsError, OSError) as exc:
        return fail("info", str(exc))
    print(json.dumps(info, indent=2, default=str) if args.json else _text(info))
    return 0
