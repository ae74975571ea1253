"""Administration services: every change checked, committed and audited."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select
from werkzeug.security import check_password_hash

from builders import BACKENDS, World
from rating.ruleset import default_rulesets_dir
from survey_server.extensions import db
from survey_server.models import AuditEntry, Centre, Counter, Device, Officer, Unit, User
from survey_server.services import admin
from survey_server.services.credentials import device_for_token

LEVELS = ["province", "department", "commune"]
NOW = dt.datetime(2026, 10, 5, 1, 0, tzinfo=dt.UTC)


def _audit(entity: str) -> list[tuple[str, str, str | None]]:
    return [
        (entry.actor, entry.action, entry.entity_id)
        for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)
        )
    ]


def _unit(code: str) -> Unit:
    return db.session.scalars(select(Unit).where(Unit.code == code)).one()


@BACKENDS
def test_units_with_level_and_parent_audited(app: Flask, world: World) -> None:
    with app.app_context():
        province = admin.save_unit(
            db.session,
            None,
            code="P",
            name="Tỉnh",
            level="province",
            parent_id=None,
            levels=LEVELS,
            actor="adm",
        )
        u1 = _unit("U1")
        admin.save_unit(
            db.session,
            u1,
            code="U1",
            name="Xã mới",
            level="commune",
            parent_id=province.id,
            levels=LEVELS,
            actor="adm",
        )
        assert (u1.name, u1.parent_id) == ("Xã mới", province.id)
        assert _audit("unit") == [
            ("adm", "create", str(province.id)),
            ("adm", "update", str(u1.id)),
        ]
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "update")).one()
        assert entry.details["name"] == ["UBND xã Thử Nghiệm", "Xã mới"]


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"code": ""}, "required", "code"),
        ({"code": "a b"}, "bad_code", "code"),
        ({"code": "C-EXISTS"}, "code_taken", "code"),
        ({"level": "district"}, "bad_level", "level"),  # not among the configured levels
        ({"parent_id": 999}, "unknown_unit", "parent_id"),
        ({"parent": "self"}, "parent_cycle", "parent_id"),
        ({"parent": "child"}, "parent_cycle", "parent_id"),
        ({"name": "  "}, "required", "name"),
    ],
)
def test_unit_refusals(app: Flask, world: World, changes: dict, code: str, field: str) -> None:
    with app.app_context():
        unit = _unit("U1")
        child = Unit(code="C-EXISTS", name="con", level="commune", parent=unit)
        db.session.add(child)
        db.session.commit()
        values = {"code": "U1", "name": "Xã", "level": "commune", "parent_id": None} | changes
        parent = values.pop("parent", None)
        if parent is not None:
            values["parent_id"] = unit.id if parent == "self" else child.id
        with pytest.raises(admin.AdminError) as refused:
            admin.save_unit(db.session, unit, levels=LEVELS, actor="adm", **values)
        assert (refused.value.code, refused.value.field) == (code, field)
        with app.test_request_context():
            assert refused.value.message  # a sentence for the screen
        db.session.rollback()
        assert _unit("U1").name == "UBND xã Thử Nghiệm"
        assert _audit("unit") == []


def test_centre_networks_are_normalised_and_checked(app: Flask, world: World) -> None:
    with app.app_context():
        unit = _unit("U1")
        centre = admin.save_centre(
            db.session,
            None,
            code="C2",
            name="TT 2",
            unit_id=unit.id,
            address="",
            networks="10.0.0.7/24\n192.168.1.0/28, 2001:db8::/32",
            actor="adm",
        )
        assert centre.networks == ["10.0.0.0/24", "192.168.1.0/28", "2001:db8::/32"]
        assert centre.address is None
        with pytest.raises(admin.AdminError) as refused:
            admin.save_centre(
                db.session,
                centre,
                code="C2",
                name="TT 2",
                unit_id=unit.id,
                address=None,
                networks="10.0.0.0/33",
                actor="adm",
            )
        assert refused.value.field == "networks"
        with app.test_request_context():
            assert "10.0.0.0/33" in refused.value.message


def test_counters_and_devices_register_and_revoke(app: Flask, world: World) -> None:
    with app.app_context():
        centre = db.session.scalars(select(Centre)).one()
        counter = admin.save_counter(
            db.session,
            None,
            code="K2",
            name="Quầy 2",
            centre_id=centre.id,
            kind="return",
            actor="adm",
        )
        with pytest.raises(admin.AdminError):
            admin.save_counter(
                db.session,
                counter,
                code="K2",
                name="Quầy 2",
                centre_id=centre.id,
                kind="cashier",
                actor="adm",
            )
        device, token = admin.register_device(db.session, counter, " ", "adm")
        assert device_for_token(db.session, token) is device and device.name == "Kiosk K2"
        admin.revoke_device(db.session, device, "adm", NOW)
        assert device.revoked_at == NOW
        with pytest.raises(admin.AdminError) as refused:
            admin.revoke_device(db.session, device, "adm", NOW)
        assert refused.value.code == "already_revoked"
        assert [a for _, a, _ in _audit("device")][-2:] == ["register", "revoke"]
        assert [a for _, a, _ in _audit("counter")] == ["create"]


def test_officers_pin_set_and_reset(app: Flask, world: World) -> None:
    with app.app_context():
        unit = _unit("U1")
        officer = admin.save_officer(
            db.session,
            None,
            code="CB9",
            name="Lường Văn Chín",
            unit_id=unit.id,
            group="resolver",
            title="Chuyên viên",
            active=True,
            actor="adm",
        )
        with pytest.raises(admin.AdminError) as refused:
            admin.save_officer(
                db.session,
                officer,
                code="CB9",
                name="x",
                unit_id=unit.id,
                group="boss",
                title=None,
                active=True,
                actor="adm",
            )
        assert refused.value.field == "group"
        admin.set_pin(db.session, officer, "2468", "adm")
        assert officer.pin_hash and check_password_hash(officer.pin_hash, "2468")
        with pytest.raises(admin.AdminError):
            admin.set_pin(db.session, officer, "12a4", "adm")
        pin = admin.reset_pin(db.session, officer, "adm")
        assert len(pin) == 6 and pin.isdigit()
        assert check_password_hash(officer.pin_hash, pin)
        assert not check_password_hash(officer.pin_hash, "2468")
        assert [a for _, a, _ in _audit("officer")] == ["create", "set_pin", "set_pin"]
        # The PIN itself never reaches the audit log.
        assert all("2468" not in str(e.details) for e in db.session.scalars(select(AuditEntry)))


def _image(fmt: str, size: tuple[int, int] = (1200, 800)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(output, fmt)
    return output.getvalue()


def test_photo_is_reencoded_small_and_replaces_the_old(
    app: Flask, world: World, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    with app.app_context():
        officer = db.session.scalars(select(Officer).where(Officer.code == "R1")).one()
        first = admin.save_photo(db.session, officer, _image("PNG"), photos, "adm")
        with Image.open(photos / first) as stored:
            assert stored.format == "JPEG" and max(stored.size) == 600
        second = admin.save_photo(db.session, officer, _image("JPEG", (300, 300)), photos, "adm")
        assert officer.photo == second != first
        assert sorted(p.name for p in photos.iterdir()) == [second]
        for bad in (b"not an image", _image("GIF")):
            with pytest.raises(admin.AdminError) as refused:
                admin.save_photo(db.session, officer, bad, photos, "adm")
            assert refused.value.code == "bad_photo"
        assert officer.photo == second


def test_users_roles_and_sessions(app: Flask, world: World) -> None:
    with app.app_context():
        unit = _unit("U1")
        head = admin.create_user(
            db.session,
            username="truong",
            display_name="Trưởng",
            password="mat-khau-dai-1",
            role="head",
            unit_id=unit.id,
            actor="adm",
        )
        for kwargs, code in (
            ({"role": "head", "unit_id": None}, "unit_required"),
            ({"role": "king", "unit_id": None}, "bad_role"),
            ({"role": "viewer", "unit_id": unit.id, "password": "short"}, "weak_password"),
            ({"role": "viewer", "unit_id": unit.id, "username": "truong"}, "username_taken"),
        ):
            values = {"username": "x1", "display_name": "X", "password": "mat-khau-dai-2"}
            with pytest.raises(admin.AdminError) as refused:
                admin.create_user(db.session, actor="adm", **(values | kwargs))
            assert refused.value.code == code
        version = head.session_version
        admin.update_user(
            db.session,
            head,
            display_name="Trưởng phòng",
            role="head",
            unit_id=unit.id,
            active=True,
            actor="adm",
        )
        assert head.session_version == version  # a new name keeps the sessions
        admin.update_user(
            db.session,
            head,
            display_name="Trưởng phòng",
            role="viewer",
            unit_id=unit.id,
            active=True,
            actor="adm",
        )
        assert head.session_version == version + 1  # less power: sessions end
        admin.reset_password(db.session, head, "mot-mat-khau-moi", "adm")
        assert head.session_version == version + 2
        promoted = admin.update_user(
            db.session,
            head,
            display_name="A",
            role="admin",
            unit_id=unit.id,
            active=True,
            actor="adm",
        )
        assert promoted.unit_id is None
        assert [a for _, a, _ in _audit("user")] == [
            "create",
            "update",
            "update",
            "reset_password",
            "update",
        ]
        assert db.session.scalars(select(User.username)).all() == ["truong"]


RULESET = (default_rulesets_dir() / "reference-1.toml").read_text()


def test_ruleset_upload_validates_then_stores(app: Flask, world: World, tmp_path: Path) -> None:
    directory = tmp_path / "rulesets"
    later = RULESET.replace("version = 1", "version = 2").replace(
        "effective_from = 2024-01-01", "effective_from = 2026-11-01"
    )
    with app.app_context():
        ruleset = admin.upload_ruleset(
            db.session, "reference-2.toml", later.encode(), directory, "adm"
        )
        assert (ruleset.id, ruleset.version) == ("reference", 2)
        assert (directory / "reference-2.toml").read_text() == later
        infos = admin.list_rulesets(directory)
        assert [(i.ruleset.version, i.uploaded) for i in infos] == [(1, False), (2, True)]
        months = [dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2023, 12, 1)]
        effect = admin.in_effect([i.ruleset for i in infos], months)
        assert [getattr(r, "version", None) for _, r in effect] == [1, 2, None]
        assert _audit("ruleset") == [("adm", "upload", "reference:2")]


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("../evil.toml", RULESET.replace("version = 1", "version = 7"), "bad_filename"),
        ("Reference.TOML", RULESET.replace("version = 1", "version = 7"), "bad_filename"),
        ("mine.toml", RULESET, "bad_ruleset"),  # reference v1 is shipped already
        ("mine.toml", "id = [", "bad_ruleset"),
        (
            "mine.toml",
            RULESET.replace('metric = "violations"', 'metric = "violatons"'),
            "bad_ruleset",
        ),
    ],
)
def test_ruleset_upload_refusals_write_nothing(
    app: Flask, world: World, tmp_path: Path, filename: str, content: str, code: str
) -> None:
    directory = tmp_path / "rulesets"
    with app.app_context():
        with pytest.raises(admin.AdminError) as refused:
            admin.upload_ruleset(db.session, filename, content.encode(), directory, "adm")
        assert refused.value.code == code
        assert not directory.exists() or list(directory.iterdir()) == []
        assert _audit("ruleset") == []


def test_ruleset_error_names_the_field(app: Flask, world: World, tmp_path: Path) -> None:
    bad = RULESET.replace("version = 1", "version = 3").replace(
        'metric = "violations"', 'metric = "violatons"'
    )
    with app.test_request_context(), pytest.raises(admin.AdminError) as refused:
        admin.upload_ruleset(db.session, "mine.toml", bad.encode(), tmp_path, "adm")
    with app.test_request_context():
        assert "violatons" in refused.value.message and "mine.toml" in refused.value.message


def test_rulesets_dir_defaults_to_the_instance(tmp_path: Path) -> None:
    assert admin.rulesets_dir({}, tmp_path) == tmp_path / "rulesets"
    assert admin.rulesets_dir({"RULESETS_DIR": "/srv/r"}, tmp_path) == Path("/srv/r")


def test_unused_models_are_importable() -> None:
    assert Counter.__tablename__ == "counters" and Device.__tablename__ == "devices"
