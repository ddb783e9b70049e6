"""Write ``docs/events/<detail-type>.schema.json`` from ``windowkeeper.event_details``.

``python -m windowkeeper_tools.event_schemas`` regenerates them; a unit test fails when the
committed files are not the generated ones.
"""

from __future__ import annotations

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
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else DEFAULT_DIR
    for path in write_all(directory):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
