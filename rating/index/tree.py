"""Index tables as data: a tree of criteria with maximum points, loaded from TOML.

A table file is a flat list of ``[[criteria]]`` in printed order; the parent of ``"1.10.1"`` is
``"1.10"``, inferred from the dotted code. The format is described at the top of each shipped
file under ``rating/index/tables/`` so that a province can write its own table by hand.

The loader refuses a table it cannot trust and says where: every ``IndexTableError`` names the
file and the field (for a criterion, its position and code).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Final, Literal

from rating.index._numbers import HUNDRED, as_points, exact_sum

TABLES_DIR: Final = Path(__file__).with_name("tables")

PointSource = Literal["assessment", "survey", "satisfaction"]

_CODE_PATTERN: Final = re.compile(r"[1-9][0-9]*(\.[1-9][0-9]*)*")
_TOP_LEVEL_KEYS: Final = frozenset(
    {"id", "title", "source", "unit_kind", "year", "total", "bands", "criteria"}
)
_CRITERION_KEYS: Final = frozenset(
    {"code", "title", "max", "survey", "satisfaction", "sum_children"}
)
_BAND_KEYS: Final = frozenset({"key", "label", "min"})


class IndexTableError(ValueError):
    """A table file that cannot be used; ``path`` and ``field`` say where the problem is."""

    def __init__(self, path: Path | str, field: str | None, message: str) -> None:
        self.path = str(path)
        self.field = field
        self.problem = message
        where = f"{self.path}: {field}" if field else self.path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Band:
    """A rating band of the index: a unit whose percent is at least ``min`` gets it."""

    key: str
    label: str
    min: Decimal


@dataclass(frozen=True)
class Criterion:
    """One line of an index table: an area, a criterion or a sub-criterion.

    ``parent`` is the parent's code (None for an area); ``children`` are the nodes themselves,
    in printed order. ``survey`` is the table's "ĐTXHH" marker; ``satisfaction`` marks points
    that come from the citizens' satisfaction survey (Bảng 2, criterion 8.3).
    """

    code: str
    title: str
    max: Decimal
    survey: bool = False
    satisfaction: bool = False
    sum_children: bool = True
    parent: str | None = None
    children: tuple[Criterion, ...] = ()

    @property
    def is_leaf(self) -> bool:
        return not self.children

    @property
    def depth(self) -> int:
        """1 for an area, 2 for a criterion, 3 for a sub-criterion."""
        return self.code.count(".") + 1

    @property
    def point_source(self) -> PointSource:
        """Where the points come from; satisfaction wins over the ĐTXHH marker."""
        if self.satisfaction:
            return "satisfaction"
        if self.survey:
            return "survey"
        return "assessment"

    def walk(self) -> Iterator[Criterion]:
        """This node and all its descendants, in printed order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self) -> Iterator[Criterion]:
        return (node for node in self.walk() if node.is_leaf)


@dataclass(frozen=True)
class IndexTable:
    """A whole index table: its metadata, bands and tree of criteria."""

    id: str
    title: str
    source: str
    unit_kind: str
    year: int | None
    total: Decimal
    bands: tuple[Band, ...]
    areas: tuple[Criterion, ...]
    path: Path | None = None
    _by_code: Mapping[str, Criterion] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self._by_code:
            index = {node.code: node for area in self.areas for node in area.walk()}
            object.__setattr__(self, "_by_code", index)

    def __getitem__(self, code: str) -> Criterion:
        return self._by_code[code]

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Criterion | None:
        return self._by_code.get(code)

    def criteria(self) -> Iterator[Criterion]:
        """Every node, in printed order."""
        for area in self.areas:
            yield from area.walk()

    def leaves(self) -> Iterator[Criterion]:
        """The nodes that are scored directly, in printed order."""
        for area in self.areas:
            yield from area.leaves()

    def parent_of(self, code: str) -> Criterion | None:
        parent = self._by_code[code].parent
        return None if parent is None else self._by_code[parent]

    def points_by_source(self) -> dict[PointSource, Decimal]:
        """Maximum points per source, summed over the leaves (e.g. 75 / 10 / 15 for Bảng 2)."""
        totals: dict[PointSource, list[Decimal]] = {
            "assessment": [],
            "survey": [],
            "satisfaction": [],
        }
        for leaf in self.leaves():
            totals[leaf.point_source].append(leaf.max)
        return {source: exact_sum(values) for source, values in totals.items()}

    def band_for(self, percent: Decimal) -> Band:
        """The first band (best first) whose minimum the percent reaches."""
        for band in self.bands:
            if percent >= band.min:
                return band
        raise ValueError(f"no band of table {self.id} covers {percent}")


def available_tables() -> dict[str, Path]:
    """The tables shipped with the product: id (the file name) → path, sorted by id."""
    return {path.stem: path for path in sorted(TABLES_DIR.glob("*.toml"))}


def load_shipped_table(table_id: str) -> IndexTable:
    """Load one of ``available_tables()`` by id."""
    tables = available_tables()
    if table_id not in tables:
        known = ", ".join(tables) or "none"
        raise KeyError(f"no shipped index table {table_id!r} (shipped: {known})")
    return load_table(tables[table_id])


def load_table(path: Path | str) -> IndexTable:
    """Read and validate an index table file; raise ``IndexTableError`` naming file and field."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle, parse_float=Decimal)
    except OSError as error:
        raise IndexTableError(path, None, f"cannot read the file ({error.strerror})") from error
    except tomllib.TOMLDecodeError as error:
        raise IndexTableError(path, None, f"not valid TOML: {error}") from error
    return _TableReader(path, data).read()


class _TableReader:
    def __init__(self, path: Path, data: dict[str, object]) -> None:
        self.path = path
        self.data = data

    def error(self, field: str | None, message: str) -> IndexTableError:
        return IndexTableError(self.path, field, message)

    def read(self) -> IndexTable:
        self.refuse_unknown_keys(self.data, _TOP_LEVEL_KEYS, None)
        table_id = self.text(self.data, "id")
        title = self.text(self.data, "title")
        source = self.text(self.data, "source")
        unit_kind = self.text(self.data, "unit_kind")
        year = self.data.get("year")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
            raise self.error("year", f"must be a whole number, not {year!r}")
        total = self.points(self.data, "total")
        bands = self.read_bands()
        areas = self.read_criteria(total)
        return IndexTable(
            id=table_id,
            title=title,
            source=source,
            unit_kind=unit_kind,
            year=year,
            total=total,
            bands=bands,
            areas=areas,
            path=self.path,
        )

    # -- fields -------------------------------------------------------------------------------

    def refuse_unknown_keys(
        self, entry: Mapping[str, object], allowed: frozenset[str], where: str | None
    ) -> None:
        for key in entry:
            if key not in allowed:
                field = f"{where}.{key}" if where else key
                raise self.error(field, f"unknown field (allowed: {', '.join(sorted(allowed))})")

    def text(self, entry: Mapping[str, object], key: str, where: str | None = None) -> str:
        field = f"{where}.{key}" if where else key
        value = entry.get(key)
        if value is None:
            raise self.error(field, "missing")
        if not isinstance(value, str) or not value.strip():
            raise self.error(field, f"must be non-empty text, not {value!r}")
        return value.strip()

    def points(self, entry: Mapping[str, object], key: str, where: str | None = None) -> Decimal:
        field = f"{where}.{key}" if where else key
        if key not in entry:
            raise self.error(field, "missing")
        value = as_points(entry[key])
        if value is None:
            raise self.error(field, f"not a number: {entry[key]!r} (write points like 1.25)")
        if value <= 0:
            raise self.error(field, f"must be positive, not {value}")
        return value

    def flag(self, entry: Mapping[str, object], key: str, where: str, default: bool) -> bool:
        value = entry.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"{where}.{key}", f"must be true or false, not {value!r}")
        return value

    def entries(self, key: str) -> list[dict[str, object]]:
        value = self.data.get(key)
        if value is None:
            raise self.error(key, f"missing: write at least one [[{key}]] entry")
        if not isinstance(value, list) or not value:
            raise self.error(key, f"must be a non-empty list of [[{key}]] entries")
        for position, entry in enumerate(value):
            if not isinstance(entry, dict):
                raise self.error(f"{key}[{position}]", "must be a table of fields")
        return value

    # -- bands --------------------------------------------------------------------------------

    def read_bands(self) -> tuple[Band, ...]:
        bands: list[Band] = []
        for position, entry in enumerate(self.entries("bands")):
            where = f"bands[{position}]"
            self.refuse_unknown_keys(entry, _BAND_KEYS, where)
            key = self.text(entry, "key", where)
            label = self.text(entry, "label", where)
            if "min" not in entry:
                raise self.error(f"{where}.min", "missing")
            minimum = as_points(entry["min"])
            if minimum is None or not 0 <= minimum <= HUNDRED:
                raise self.error(f"{where}.min", f"must be a percent 0..100, not {entry['min']!r}")
            if any(band.key == key for band in bands):
                raise self.error(f"{where}.key", f"duplicate band key {key!r}")
            if bands and minimum >= bands[-1].min:
                raise self.error(f"{where}.min", "bands must be listed best first, minima falling")
            bands.append(Band(key=key, label=label, min=minimum))
        if bands[-1].min != 0:
            raise self.error(
                f"bands[{len(bands) - 1}].min", "the last band must have min = 0 to cover 0%"
            )
        return tuple(bands)

    # -- criteria -----------------------------------------------------------------------------

    def read_criteria(self, total: Decimal) -> tuple[Criterion, ...]:
        flat: dict[str, Criterion] = {}
        positions: dict[str, str] = {}
        explicit_sum_children: set[str] = set()
        for position, entry in enumerate(self.entries("criteria")):
            where = f"criteria[{position}]"
            code = self.text(entry, "code", where)
            if not _CODE_PATTERN.fullmatch(code):
                raise self.error(f"{where}.code", f"{code!r} is not a dotted number like 1.10.2")
            where = f"criteria[{position}] (code {code})"
            self.refuse_unknown_keys(entry, _CRITERION_KEYS, where)
            if code in flat:
                raise self.error(f"{where}.code", f"duplicate code, first at {positions[code]}")
            parent = code.rpartition(".")[0] or None
            flat[code] = Criterion(
                code=code,
                title=self.text(entry, "title", where),
                max=self.points(entry, "max", where),
                survey=self.flag(entry, "survey", where, default=False),
                satisfaction=self.flag(entry, "satisfaction", where, default=False),
                sum_children=self.flag(entry, "sum_children", where, default=True),
                parent=parent,
            )
            positions[code] = f"criteria[{position}]"
            if "sum_children" in entry:
                explicit_sum_children.add(code)

        children: dict[str | None, list[str]] = {}
        for code, node in flat.items():
            if node.parent is not None and node.parent not in flat:
                where = f"{positions[code]} (code {code}).code"
                raise self.error(where, f"parent {node.parent} is not in the table")
            children.setdefault(node.parent, []).append(code)

        def build(code: str) -> Criterion:
            node = flat[code]
            kids = tuple(build(child) for child in children.get(code, []))
            where = f"{positions[code]} (code {code})"
            if not kids and code in explicit_sum_children:
                raise self.error(f"{where}.sum_children", "only a criterion with children has it")
            if kids and node.sum_children:
                kids_sum = exact_sum([kid.max for kid in kids])
                if kids_sum != node.max:
                    raise self.error(
                        f"{where}.max",
                        f"{node.max} is not the sum of its children ({kids_sum}); correct it, "
                        "or set sum_children = false if the source table says so",
                    )
            return Criterion(
                code=node.code,
                title=node.title,
                max=node.max,
                survey=node.survey,
                satisfaction=node.satisfaction,
                sum_children=node.sum_children,
                parent=node.parent,
                children=kids,
            )

        areas = tuple(build(code) for code in children.get(None, []))
        areas_sum = exact_sum([area.max for area in areas])
        if areas_sum != total:
            raise self.error("total", f"{total} declared, but the areas add up to {areas_sum}")
        return areas
