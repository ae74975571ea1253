"""Administration by the province: units, centres, counters, officers, devices, users, rule sets.

Every function takes the session, checks what it is given, commits once and writes the change to
the audit log. A refused change raises :class:`AdminError` with a code and the field at fault;
:data:`MESSAGES` has the sentence a person reads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import ipaddress
import re
import secrets
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask_babel import LazyString, lazy_gettext
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from rating import RuleSet, RuleSetError
from rating.ruleset import available_rulesets, default_rulesets_dir, load_ruleset, ruleset_for_month

from .. import auth
from ..extensions import DbSession
from ..models import STAFF_GROUPS, Centre, Counter, Device, Officer, Unit, User
from . import audit, credentials, kiosk

COUNTER_KINDS = ("reception", "return", "both")
CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
RULESET_FILE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,60}\.toml")
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_SIZE = 600  # pixels, the longer side
MAX_RULESET_BYTES = 256 * 1024

MESSAGES: dict[str, LazyString] = {
    "required": lazy_gettext("This field is required."),
    "bad_code": lazy_gettext("A code is letters, digits, dot, dash or underscore (at most 64)."),
    "code_taken": lazy_gettext("This code is already used."),
    "bad_level": lazy_gettext("Unknown unit level."),
    "unknown_unit": lazy_gettext("Unknown unit."),
    "unknown_centre": lazy_gettext("Unknown centre."),
    "unknown_counter": lazy_gettext("Unknown counter."),
    "parent_cycle": lazy_gettext("A unit cannot be placed under itself or one of its sub-units."),
    "bad_network": lazy_gettext("Not a network address (e.g. 10.0.0.0/24): %(value)s"),
    "bad_kind": lazy_gettext("Unknown counter kind."),
    "bad_group": lazy_gettext("Unknown staff group."),
    "bad_pin": lazy_gettext("A PIN is 4 to 12 digits."),
    "bad_photo": lazy_gettext("The photo must be a JPEG or PNG image of at most 5 MB."),
    "bad_role": lazy_gettext("Unknown role."),
    "unit_required": lazy_gettext("A unit head or viewer must belong to a unit."),
    "weak_password": lazy_gettext("A password has at least 10 characters."),
    "username_taken": lazy_gettext("This user name is already used."),
    "already_revoked": lazy_gettext("This kiosk is already revoked."),
    "bad_filename": lazy_gettext(
        "A rule set file name is lower-case letters, digits, dash or underscore, ending in .toml."
    ),
    "file_exists": lazy_gettext("A rule set file with this name already exists."),
    "bad_ruleset": lazy_gettext("The rule set is invalid: %(value)s"),
    "too_large": lazy_gettext("The file is too large."),
}


class AdminError(ValueError):
    """A refused change: ``code`` (a key of MESSAGES), the ``field`` at fault, a ``value``."""

    def __init__(self, code: str, field: str | None = None, value: str = "") -> None:
        super().__init__(f"{code} {field or ''} {value}".strip())
        self.code = code
        self.field = field
        self.value = value

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code] % {"value": self.value})


# -- helpers ----------------------------------------------------------------------------------


def _text(value: str | None, field: str, *, required: bool = True) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise AdminError("required", field)
        return None
    return value


def _code(session: DbSession, model: Any, value: str | None, current_id: int | None) -> str:
    code = _text(value, "code") or ""
    if not CODE_PATTERN.fullmatch(code):
        raise AdminError("bad_code", "code")
    existing = session.scalar(select(model.id).where(model.code == code))
    if existing is not None and existing != current_id:
        raise AdminError("code_taken", "code")
    return code


def _get(session: DbSession, model: Any, ident: int | None, code: str, field: str) -> Any:
    row = session.get(model, ident) if ident is not None else None
    if row is None:
        raise AdminError(code, field)
    return row


def _changes(row: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Apply ``values`` to ``row``; return what changed as ``{field: [old, new]}`` for audit."""
    changed = {}
    for name, value in values.items():
        old = getattr(row, name)
        if old != value:
            changed[name] = [old, value]
            setattr(row, name, value)
    return changed


# -- units ------------------------------------------------------------------------------------


def save_unit(
    session: DbSession,
    unit: Unit | None,
    *,
    code: str,
    name: str,
    level: str,
    parent_id: int | None,
    levels: Sequence[str],
    actor: str,
    active: bool = True,
) -> Unit:
    """Create (``unit`` None) or edit a unit; the level is one of the configured ``levels``."""
    values: dict[str, Any] = {
        "code": _code(session, Unit, code, unit.id if unit else None),
        "name": _text(name, "name"),
        "active": active,
    }
    if level not in levels:
        raise AdminError("bad_level", "level")
    values["level"] = level
    if parent_id is not None:
        parent = _get(session, Unit, parent_id, "unknown_unit", "parent_id")
        ancestor: Unit | None = parent
        while ancestor is not None:
            if unit is not None and ancestor.id == unit.id:
                raise AdminError("parent_cycle", "parent_id")
            ancestor = ancestor.parent
    values["parent_id"] = parent_id
    saved: Unit = _save(session, unit, Unit, values, actor, "unit")
    return saved


def _save(
    session: DbSession, row: Any, model: Any, values: dict[str, Any], actor: str, entity: str
) -> Any:
    if row is None:
        row = model(**values)
        session.add(row)
        session.flush()
        audit.record(session, actor, "create", entity, row.id, **_jsonable(values))
    else:
        changed = _changes(row, values)
        if changed:
            audit.record(session, actor, "update", entity, row.id, **_jsonable(changed))
    session.commit()
    return row


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key not in ("pin_hash",)}


# -- centres and counters ---------------------------------------------------------------------


def parse_networks(text: str | Iterable[str]) -> list[str]:
    """CIDR networks, one per line or comma; each normalised (``10.0.0.7/24`` → ``10.0.0.0/24``)."""
    items = re.split(r"[\s,]+", text) if isinstance(text, str) else list(text)
    networks = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise AdminError("bad_network", "networks", item) from None
    return networks


def save_centre(
    session: DbSession,
    centre: Centre | None,
    *,
    code: str,
    name: str,
    unit_id: int | None,
    address: str | None,
    networks: str | Iterable[str],
    actor: str,
) -> Centre:
    values = {
        "code": _code(session, Centre, code, centre.id if centre else None),
        "name": _text(name, "name"),
        "unit_id": _get(session, Unit, unit_id, "unknown_unit", "unit_id").id,
        "address": _text(address, "address", required=False),
        "networks": parse_networks(networks),
    }
    result: Centre = _save(session, centre, Centre, values, actor, "centre")
    return result


def save_counter(
    session: DbSession,
    counter: Counter | None,
    *,
    code: str,
    name: str,
    centre_id: int | None,
    kind: str,
    actor: str,
) -> Counter:
    if kind not in COUNTER_KINDS:
        raise AdminError("bad_kind", "kind")
    values = {
        "code": _code(session, Counter, code, counter.id if counter else None),
        "name": _text(name, "name"),
        "centre_id": _get(session, Centre, centre_id, "unknown_centre", "centre_id").id,
        "kind": kind,
    }
    result: Counter = _save(session, counter, Counter, values, actor, "counter")
    return result


# -- officers ---------------------------------------------------------------------------------


def save_officer(
    session: DbSession,
    officer: Officer | None,
    *,
    code: str,
    name: str,
    unit_id: int | None,
    group: str,
    title: str | None,
    active: bool,
    actor: str,
) -> Officer:
    if group not in STAFF_GROUPS:
        raise AdminError("bad_group", "group")
    values = {
        "code": _code(session, Officer, code, officer.id if officer else None),
        "name": _text(name, "name"),
        "unit_id": _get(session, Unit, unit_id, "unknown_unit", "unit_id").id,
        "group": group,
        "title": _text(title, "title", required=False),
        "active": active,
    }
    result: Officer = _save(session, officer, Officer, values, actor, "officer")
    return result


def set_pin(session: DbSession, officer: Officer, pin: str, actor: str) -> None:
    """Give the officer a PIN of their choosing (hashed, audited)."""
    try:
        kiosk.set_officer_pin(session, officer, pin.strip(), actor)
    except ValueError:
        raise AdminError("bad_pin", "pin") from None


def reset_pin(session: DbSession, officer: Officer, actor: str) -> str:
    """Give the officer a new random 6-digit PIN; returned once to hand over, stored hashed."""
    pin = f"{secrets.randbelow(10**6):06d}"
    kiosk.set_officer_pin(session, officer, pin, actor)
    return pin


def save_photo(
    session: DbSession, officer: Officer, data: bytes, photos_dir: Path, actor: str
) -> str:
    """Store the officer's photo, re-encoded as a JPEG of at most 600 px (which also drops the
    camera's metadata), as ``<photos_dir>/<name>``; returns the name, kept in ``officer.photo``."""
    if len(data) > MAX_PHOTO_BYTES:
        raise AdminError("bad_photo", "photo")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("JPEG", "PNG"):
                raise AdminError("bad_photo", "photo")
            image.thumbnail((PHOTO_SIZE, PHOTO_SIZE))
            output = io.BytesIO()
            image.convert("RGB").save(output, "JPEG", quality=85)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise AdminError("bad_photo", "photo") from None
    encoded = output.getvalue()
    safe_code = re.sub(r"[^A-Za-z0-9_-]", "_", officer.code)
    name = f"{safe_code}-{hashlib.sha256(encoded).hexdigest()[:12]}.jpg"
    photos_dir.mkdir(parents=True, exist_ok=True)
    (photos_dir / name).write_bytes(encoded)
    previous = officer.photo
    officer.photo = name
    audit.record(session, actor, "set_photo", "officer", officer.id, photo=name)
    session.commit()
    if previous and previous != name and "/" not in previous:
        (photos_dir / previous).unlink(missing_ok=True)
    return name


# -- devices ----------------------------------------------------------------------------------


def register_device(
    session: DbSession, counter: Counter, name: str | None, actor: str
) -> tuple[Device, str]:
    """Register a kiosk at ``counter``; the token is returned once (credentials service)."""
    return credentials.register_device(session, counter.code, (name or "").strip() or None, actor)


def revoke_device(session: DbSession, device: Device, actor: str, now: dt.datetime) -> None:
    if device.revoked_at is not None:
        raise AdminError("already_revoked")
    credentials.revoke_device(session, device, actor, now)


# -- users ------------------------------------------------------------------------------------


def _account_error(error: auth.AccountError) -> AdminError:
    code = str(error)
    field = {"bad_role": "role", "unit_required": "unit_id", "weak_password": "password"}
    return AdminError(code if code in MESSAGES else "required", field.get(code, "username"))


def create_user(
    session: DbSession,
    *,
    username: str,
    display_name: str,
    password: str,
    role: str,
    unit_id: int | None,
    actor: str,
) -> User:
    if unit_id is not None:
        _get(session, Unit, unit_id, "unknown_unit", "unit_id")
    name = _text(username, "username") or ""
    try:
        user = auth.create_user(
            session,
            username=name,
            password=password,
            role=role,
            display_name=_text(display_name, "display_name", required=False),
            unit_id=None if role == "admin" else unit_id,
        )
    except auth.AccountError as error:
        raise _account_error(error) from None
    audit.record(session, actor, "create", "user", user.id, username=name, role=role)
    session.commit()
    return user


def update_user(
    session: DbSession,
    user: User,
    *,
    display_name: str,
    role: str,
    unit_id: int | None,
    active: bool,
    actor: str,
) -> User:
    """Change an account; a change of role, unit or a deactivation ends its sessions."""
    if role not in auth.ROLES:
        raise AdminError("bad_role", "role")
    if role == "admin":
        unit_id = None
    elif unit_id is None:
        raise AdminError("unit_required", "unit_id")
    else:
        _get(session, Unit, unit_id, "unknown_unit", "unit_id")
    changed = _changes(
        user,
        {
            "display_name": _text(display_name, "display_name"),
            "role": role,
            "unit_id": unit_id,
            "active": active,
        },
    )
    if {"role", "unit_id", "active"} & changed.keys():
        user.session_version += 1
    if changed:
        audit.record(session, actor, "update", "user", user.id, **changed)
    session.commit()
    return user


def reset_password(session: DbSession, user: User, password: str, actor: str) -> None:
    """Set a new password (ends the account's sessions), audited."""
    try:
        auth.check_password_strength(password)
    except auth.AccountError as error:
        raise _account_error(error) from None
    audit.record(session, actor, "reset_password", "user", user.id)
    auth.change_password(session, user, password)


# -- rule sets --------------------------------------------------------------------------------


def rulesets_dir(config: Any, instance_path: str | Path) -> Path:
    """Where uploaded rule sets go: RULESETS_DIR, or ``<instance>/rulesets``."""
    configured = config.get("RULESETS_DIR")
    return Path(configured) if configured else Path(instance_path) / "rulesets"


@dataclass(frozen=True)
class RuleSetInfo:
    ruleset: RuleSet
    uploaded: bool  # False: shipped with the software


def list_rulesets(directory: Path) -> list[RuleSetInfo]:
    """The shipped rule sets and those uploaded to ``directory``."""
    infos = [RuleSetInfo(item, False) for item in available_rulesets(default_rulesets_dir())]
    if directory.is_dir() and directory.resolve() != default_rulesets_dir().resolve():
        infos += [RuleSetInfo(item, True) for item in available_rulesets(directory)]
    return sorted(infos, key=lambda info: (info.ruleset.effective_from, info.ruleset.id))


def in_effect(rulesets: Sequence[RuleSet], months: Sequence[dt.date]) -> list[tuple[dt.date, Any]]:
    """For each month, the rule set in effect, or the RuleSetError saying why there is none."""
    rows: list[tuple[dt.date, Any]] = []
    for month in months:
        try:
            rows.append((month, ruleset_for_month(rulesets, month)))
        except RuleSetError as error:
            rows.append((month, error))
    return rows


def upload_ruleset(
    session: DbSession, filename: str, data: bytes, directory: Path, actor: str
) -> RuleSet:
    """Validate a rule set file with the rating engine's loader and store it in ``directory``.

    Refused: a bad name, an existing file, an invalid file, or an (id, version) already known
    (shipped or uploaded). Nothing is written unless the file is accepted.
    """
    filename = filename or ""
    if not RULESET_FILE_PATTERN.fullmatch(filename):
        raise AdminError("bad_filename", "file")
    if len(data) > MAX_RULESET_BYTES:
        raise AdminError("too_large", "file")
    target = directory / filename
    if target.exists():
        raise AdminError("file_exists", "file")
    with tempfile.TemporaryDirectory() as scratch:
        candidate = Path(scratch) / filename
        candidate.write_bytes(data)
        try:
            ruleset = load_ruleset(candidate)
        except RuleSetError as error:
            raise AdminError("bad_ruleset", "file", str(error)) from None
    known = {(info.ruleset.id, info.ruleset.version) for info in list_rulesets(directory)}
    if (ruleset.id, ruleset.version) in known:
        raise AdminError(
            "bad_ruleset", "file", f"{ruleset.id} version {ruleset.version} already exists"
        )
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{filename}.part"
    partial.write_bytes(data)
    partial.replace(target)  # atomic: the rating job never reads half a file
    audit.record(
        session,
        actor,
        "upload",
        "ruleset",
        f"{ruleset.id}:{ruleset.version}",
        file=filename,
        effective_from=ruleset.effective_from.isoformat(),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    session.commit()
    return ruleset
