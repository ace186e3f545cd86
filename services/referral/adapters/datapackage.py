"""HSDS 3.0 files in and out: a Frictionless datapackage (``datapackage.json`` naming one CSV per HSDS
table, or holding the rows inline) or nested JSON (``{"organizations": [...]}`` or ``{"services": [...]}``,
each object as the HSDS API serializes it). Every record is validated against Open Referral's JSON
Schema for its table, merged with the Lantern Canadian profile's patch; a problem names the table, the
record and the field, never the value.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from services.referral.domain import hsds

HSDS_DIR = Path(__file__).parents[1] / "hsds"
PLURAL = {"organizations": "organization", "services": "service"}


def read(path: Path) -> tuple[hsds.Tables, bool, list[str]]:
    """Tables from a datapackage (its folder or descriptor) or a JSON file, whether it says it is
    sample data, and every problem found.
    """
    descriptor = path / "datapackage.json" if path.is_dir() else path
    try:
        document = json.loads(descriptor.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        return (
            hsds.empty(),
            False,
            [f"{descriptor.name}: not JSON (line {error.lineno}, column {error.colno})"],
        )
    if not isinstance(document, dict):
        return hsds.empty(), False, [f"{descriptor.name}: a JSON object is required"]
    sample = document.get("sample") is True
    if isinstance(document.get("resources"), list):
        tables, problems = _tabular(descriptor, document["resources"])
    else:
        tables, problems = _nested(descriptor.name, document)
    if problems:
        return tables, sample, problems
    if sample:
        for organization in tables["organization"].values():
            organization.setdefault("sample", True)
    return tables, sample, validate(tables)


def _tabular(descriptor: Path, resources: list[Any]) -> tuple[hsds.Tables, list[str]]:
    tables, problems, outside = hsds.empty(), [], []
    for resource in resources:
        name = resource.get("name") if isinstance(resource, dict) else None
        if name not in hsds.TABLES:
            continue  # another table of a profile we do not know: not ours to read
        if isinstance(resource.get("data"), list):
            rows: list[dict[str, Any]] = [row for row in resource["data"] if isinstance(row, dict)]
        else:
            file = _inside(descriptor.parent, resource.get("path"))
            if file is None:
                outside.append(name)
                continue
            rows = [_typed(name, row) for row in _rows(file)]
        for number, row in enumerate(rows, 1):
            if not isinstance(row.get("id"), str) or not row["id"]:
                problems.append(f"{name} row {number}: id: required")
            elif row["id"] in tables[name]:
                problems.append(f"{name} row {number} ({row['id']}): id: unique (appears twice)")
            else:
                tables[name][row["id"]] = row
    if outside:
        return hsds.empty(), [f"{descriptor.name}: resources {', '.join(outside)} point outside the package"]
    if not tables["organization"] and not tables["service"]:
        problems.append(f"{descriptor.name}: resources organization or service: required")
    return tables, problems


def _nested(name: str, document: dict[str, Any]) -> tuple[hsds.Tables, list[str]]:
    parts = [(table, document[key]) for key, table in PLURAL.items() if isinstance(document.get(key), list)]
    if not parts:
        return hsds.empty(), [f"{name}: resources, organizations or services: required"]
    try:
        return hsds.merge(*(hsds.flatten(items, table, name) for table, items in parts)), []
    except hsds.Unlinkable as error:
        return hsds.empty(), [str(error)]


def _inside(package: Path, path: object) -> Path | None:
    """A resource's file, when it is a relative path to a file within the package's folder.

    A descriptor is data from outside: "../../etc/passwd", an absolute path, a symbolic link out of
    the folder or a URL would make the import read, and report on, a file it has no business with.
    """
    if not isinstance(path, str) or not path or "://" in path or Path(path).is_absolute():
        return None
    root = package.resolve()
    resolved = (root / path).resolve()
    return resolved if resolved.is_relative_to(root) and resolved != root and resolved.is_file() else None


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return [
            {key.strip(): (value or "").strip() for key, value in row.items() if key}
            for row in csv.DictReader(file)
        ]


def _typed(table: str, row: dict[str, str]) -> dict[str, Any]:
    """A CSV row with each cell as its field's JSON type."""
    properties, required = schema(table)["properties"], schema(table)["required"]
    typed: dict[str, Any] = {}
    for key, text in row.items():
        if text == "":
            # An empty cell is absent, except a required text (an address without a postal code), which
            # an export writes empty and must read back the same.
            if key in required and properties.get(key, {}).get("type") == "string":
                typed[key] = ""
            continue
        kind = properties.get(key, {}).get("type")
        typed[key] = _cell(text, kind)
    return typed


def _cell(text: str, kind: object) -> Any:
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            number = float(text)
            return int(number) if number.is_integer() and "." not in text else number
    except ValueError:
        return text  # validation names the field and the rule
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    return text


@cache
def schema(table: str) -> dict[str, Any]:
    """Open Referral's schema for one table, one-to-one fields only, merged with the profile's patch."""
    base = json.loads((HSDS_DIR / "schema" / f"{table}.json").read_text(encoding="utf-8"))
    patch_file = HSDS_DIR / "profile" / f"{table}.json"
    if patch_file.exists():
        base = _merge_patch(base, json.loads(patch_file.read_text(encoding="utf-8")))
    properties = {key: value for key, value in base["properties"].items() if value.get("type") not in ("array", "object") and "$ref" not in value}  # fmt: skip
    return {"type": "object", "properties": properties, "required": base.get("required", [])}


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386, as HSDS profiles are defined."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge_patch(merged.get(key), value)
    return merged


@cache
def _validator(table: str) -> Draft202012Validator:
    return Draft202012Validator(schema(table))


def validate(tables: hsds.Tables) -> list[str]:
    problems = []
    for table in hsds.TABLES:
        for key, record in tables[table].items():
            found = sorted(_validator(table).iter_errors(record), key=lambda error: list(error.path))
            if found:
                problems.append(f"{table} {key}: " + "; ".join(_describe(error) for error in found))
    return problems


def _describe(error: ValidationError) -> str:
    """`field: rule` without the value, which may be someone's address."""
    where = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required":
        required: Any = error.validator_value
        instance: Any = error.instance
        missing = next((name for name in required if name not in instance), "?")
        return f"{missing}: required"
    rule = {"type": f"must be {error.validator_value}", "enum": "not one of the allowed values"}.get(
        str(error.validator), str(error.validator)
    )
    return f"{where}: {rule}"


def write(tables: hsds.Tables, folder: Path, sample: bool) -> list[Path]:
    """A tabular HSDS 3.0 datapackage: Open Referral's descriptor for each table written, with the
    profile's fields added to its schema, and one CSV per table.
    """
    folder.mkdir(parents=True, exist_ok=True)
    published = json.loads((HSDS_DIR / "datapackage.json").read_text(encoding="utf-8"))
    resources, written = [], []
    for resource in published["resources"]:
        table = resource["name"]
        rows = list(tables.get(table, {}).values())
        if not rows:
            continue
        names = [field["name"] for field in resource["schema"]["fields"]]
        extra = [key for key in schema(table)["properties"] if key not in names]
        for key in extra:
            kind = schema(table)["properties"][key].get("type", "string")
            resource["schema"]["fields"].append(
                {"name": key, "type": kind, "description": f"Profile {hsds.PROFILE}"}
            )
        resource["schema"].pop("foreignKeys", None)  # a public subset may leave links to records not in it
        path = folder / resource["path"]
        _write_csv(path, [*names, *extra], rows)
        resources.append(resource)
        written.append(path)
    descriptor = {key: value for key, value in published.items() if key != "resources"}
    descriptor.update(profile="tabular-data-package", resources=resources, sample=sample)
    descriptor["hsds_profile"] = hsds.PROFILE
    (folder / "datapackage.json").write_text(
        json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return [folder / "datapackage.json", *written]


def _write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, columns, extrasaction="ignore")
        writer.writeheader()
        for row in sorted(rows, key=lambda row: str(row["id"])):
            writer.writerow({key: _text(row.get(key)) for key in columns})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
