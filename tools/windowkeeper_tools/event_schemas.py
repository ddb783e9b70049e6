"""Write ``docs/events/<detail-type>.schema.json`` from ``windowkeeper.event_details``.

``python -m windowkeeper_tools.event_schemas`` regenerates them; a unit test fails when the
committed files are not the generated ones.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from windowkeeper.event_details import DETAIL_MODELS, detail_schema

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "docs" / "events"


def render(detail_type: str) -> str:
    return json.dumps(detail_schema(detail_type), indent=2, sort_keys=False) + "\n"


def schema_file(directory: Path, detail_type: str) -> Path:
    return directory / f"{detail_type}.schema.json"


def write_all(directory: Path = DEFAULT_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for detail_type in DETAIL_MODELS:
        path = schema_file(directory, detail_type)
        path.write_text(render(detail_type), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m windowkeeper_tools.event_schemas",
        description="Write one JSON Schema per bus detail-type from windowkeeper.event_details.",
    )
    parser.add_argument(
        "directory", nargs="?", type=Path, default=DEFAULT_DIR, help=f"default: {DEFAULT_DIR}"
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    for path in write_all(args.directory):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
