"""The Đắk Lắk 2025 page (/dashboard/index/daklak): the CLI's assessment from an uploaded CSV."""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_index_web import csrf_token, log_in
from werkzeug.test import TestResponse

from builders import World
from rating.index.daklak import QUALITY_LABELS, REFORM_LABELS, assess_group
from survey_server.services import index_daklak as daklak

PAGE = "/dashboard/index/daklak"
HEADER = "unit,group,c1,c2,c3,c4,c5,deductions,head_disciplined"
# Two groups. Provincial agencies: five at 75 or more, so one excellent slot; A and B tie on
# every key at 100% (the chairman picks one), C has 100% but a disciplined head.
# Communes: X at 90% alone among two at 75 or more, so no excellent slot (20% of 2 = 0).
TWO_GROUPS = [
    HEADER,
    "A,co_quan_tinh,45,35,12,5,3,0,",
    "B,co_quan_tinh,45,35,12,5,3,0,",
    "C,co_quan_tinh,45,35,12,5,3,0,x",
    "G0,co_quan_tinh,40,30,10,0,0,0,",
    "G1,co_quan_tinh,40,30,10,0,0,0,",
    "X,xa_phuong,45,30,10,5,0,0,",
    "Y,xa_phuong,40,28,10,2,0,1,",
    "Z,xa_phuong,20,20,5,,,0,",
]


def post(client: FlaskClient, data: bytes, name: str = "units.csv") -> TestResponse:
    token = csrf_token(client, PAGE)
    return client.post(
        PAGE,
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def csv_bytes(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def cells(page: str, unit: str) -> list[str]:
    """The text of the table cells of ``unit``'s row."""
    row = re.search(rf'<tr data-unit="{re.escape(unit)}">(.*?)</tr>', page, re.S)
    assert row, unit
    return [
        html.unescape(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)
    ]


def error_of(response: TestResponse) -> str:
    found = re.search(r'id="daklak-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert found, response.get_data(as_text=True)[-2000:]
    return html.unescape(found[1])


@pytest.mark.parametrize("role", ["admin", "head"])
def test_the_page_explains_the_file_and_the_overview_links_to_it(
    app: Flask, client: FlaskClient, world: World, role: str
) -> None:
    log_in(app, client, role)
    page = client.get(PAGE)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert HEADER in text and "/dashboard/index/daklak/sample.csv" in text
    assert 'name="csrf_token"' in text and 'type="file"' in text
    assert 'id="daklak-link"' in client.get("/dashboard/index/").get_data(as_text=True)


def test_a_viewer_gets_404_and_no_link(app: Flask, client: FlaskClient, world: World) -> None:
    log_in(app, client, "viewer")
    assert client.get(PAGE).status_code == 404
    assert client.get(PAGE + "/sample.csv").status_code == 404
    assert 'id="daklak-link"' not in client.get("/dashboard/index/").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(client: FlaskClient, world: World) -> None:
    for path in (PAGE, PAGE + "/sample.csv"):
        response = client.get(path)
        assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]


def test_two_groups_give_the_engines_levels(app: Flask, client: FlaskClient, world: World) -> None:
    log_in(app, client, "admin")
    response = post(client, csv_bytes(TWO_GROUPS))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    groups = daklak.read_units("\n".join(TWO_GROUPS))
    assert list(groups) == ["co_quan_tinh", "xa_phuong"]
    for units in groups.values():
        for outcome in assess_group(units).outcomes:
            row = cells(page, outcome.unit)
            assert row[0] == str(outcome.rank)
            expected = "chờ Chủ tịch UBND tỉnh quyết định"
            if outcome.level is not None:
                expected = QUALITY_LABELS[outcome.level]
            assert row[3] == expected, outcome.unit
            assert row[6] == REFORM_LABELS[outcome.reform_level], outcome.unit
    # By hand: Y = (40 + 28 + 10 + 2 - 1) / 100 = 79% "tốt"; reform (28 + 10 + 2 - 1) / 55
    # = 70.9% "Khá". X has 90% but 20% of the two units at 75 or more rounds down to none.
    assert cells(page, "Y")[2:] == ["79", "Hoàn thành tốt nhiệm vụ", "", "70,9", "Khá"]
    assert cells(page, "X")[3:5] == ["Hoàn thành tốt nhiệm vụ", "vượt tỷ lệ 20%"]
    assert "người đứng đầu/cấp phó bị kỷ luật" in cells(page, "C")[4]
    assert "bằng điểm với B, C: Chủ tịch quyết định" in cells(page, "A")[4]
    assert "5 đơn vị từ hoàn thành tốt trở lên; tối đa 1 đơn vị hoàn thành xuất sắc" in page
    assert "Chủ tịch UBND tỉnh chọn 1 trong số A, B để xếp hoàn thành xuất sắc." in page
    assert "Chỉ số 01: cơ quan cấp tỉnh" in page and "Chỉ số 03: UBND các xã, phường" in page


def test_the_sample_file_is_assessed(app: Flask, client: FlaskClient, world: World) -> None:
    log_in(app, client, "head")
    sample = client.get(PAGE + "/sample.csv")
    assert sample.status_code == 200 and sample.mimetype == "text/csv"
    assert "attachment" in sample.headers["Content-Disposition"]
    response = post(client, sample.data)
    assert response.status_code == 200
    assert cells(response.get_data(as_text=True), "SO_NOI_VU")[0] == "1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (csv_bytes([HEADER, "A,xa_phuong,45,abc,12,5,3,0,"]), "Dòng 2: số không hợp lệ."),
        (
            csv_bytes([HEADER, "A,xa_phuong,45,35,12,5,3,0,", "B,xa_phuong,NaN,1,1,1,1,0,"]),
            "Dòng 3: số không hợp lệ.",
        ),
        (
            csv_bytes([HEADER, "A,xa_phuong,45,35,13,5,3,0,"]),
            "Nhóm xa_phuong: A: nội dung 3 = 13, phải từ 0 đến 12 điểm",
        ),
        (
            csv_bytes([HEADER, "A,xa_phuong,1,1,1,1,1,0,", "A,xa_phuong,2,2,2,2,2,0,"]),
            "Nhóm xa_phuong: đơn vị ghi hai lần: A",
        ),
        (csv_bytes([HEADER]), "Tệp không có đơn vị nào"),
        (b"", "Tệp không có đơn vị nào"),
        ("unit,group\nSở Nội vụ,co_quan_tinh\n".encode("utf-16"), "Tệp không phải văn bản UTF-8"),
        (b"unit,group,c1\n\xff\xfe,x,1\n", "Tệp không phải văn bản UTF-8"),
    ],
)
def test_a_bad_file_is_refused_beside_the_form(
    app: Flask, client: FlaskClient, world: World, data: bytes, message: str
) -> None:
    log_in(app, client, "admin")
    response = post(client, data)
    assert response.status_code == 422
    assert error_of(response).startswith(message)
    assert 'type="file"' in response.get_data(as_text=True)
    assert 'data-unit="' not in response.get_data(as_text=True)


def test_no_file_is_a_400_naming_the_field(app: Flask, client: FlaskClient, world: World) -> None:
    log_in(app, client, "admin")
    token = csrf_token(client, PAGE)
    response = client.post(PAGE, data={"csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Hãy chọn một tệp CSV." in response.get_data(as_text=True)


def test_a_file_over_the_upload_limit_is_refused_beside_the_form(
    app: Flask, client: FlaskClient, world: World
) -> None:
    log_in(app, client, "admin")
    limit = app.config["MAX_CONTENT_LENGTH"]
    line = "A,xa_phuong,45,35,12,5,3,0,\n"
    response = post(client, (HEADER + "\n" + line * (limit // len(line) + 1)).encode())
    assert response.status_code == 413
    assert error_of(response) == f"Tệp quá lớn (tối đa {limit // 1024} KB)."
    assert 'type="file"' in response.get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused(
    app: Flask, client: FlaskClient, world: World
) -> None:
    log_in(app, client, "admin")
    response = client.post(
        PAGE,
        data={"file": (io.BytesIO(csv_bytes(TWO_GROUPS)), "units.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert 'data-unit="' not in response.get_data(as_text=True)


def test_the_cli_and_the_page_read_the_same_numbers() -> None:
    groups = daklak.read_units("\ufeff" + HEADER + '\r\nA,xa_phuong,"44,5",35,,5,3,1,Có\r\n')
    (unit,) = groups["xa_phuong"]
    assert unit.contents == {
        1: Decimal("44.5"),
        2: Decimal(35),
        3: None,
        4: Decimal(5),
        5: Decimal(3),
    }
    assert unit.deductions == Decimal(1) and unit.head_disciplined
