"""The "why" of a band in Vietnamese, from the reasons the rating job stores."""

from __future__ import annotations

import pytest
from flask import Flask

from survey_server.dashboard.explain import explain, format_metric

EXCELLENT_MISSED = {
    "band": "hoan_thanh_xuat_sac",
    "kind": "conditions",
    "held": False,
    "mode": "all",
    "conditions": [
        {"metric": "forms", "op": ">=", "value": 6, "threshold": 10, "param": "min_forms",
         "undefined": False, "held": False},
        {"metric": "satisfied_pct", "op": ">=", "value": 94.7, "threshold": 95.0, "param": None,
         "undefined": False, "held": False},
        {"mode": "any", "held": True, "conditions": [
            {"metric": "on_time_pct", "op": ">=", "value": None, "threshold": 95.0,
             "param": None, "undefined": True, "held": False},
            {"metric": "dossiers", "op": "==", "value": 0, "threshold": 0, "param": None,
             "undefined": False, "held": True},
        ]},
    ],
}  # fmt: skip
QUOTA = {"band": "hoan_thanh_tot", "kind": "quota", "held": True, "quota_pct": 20.0,
         "eligible": 10, "allowed": 2, "rank": 3, "within_quota": False}  # fmt: skip
OTHERWISE = {"band": "hoan_thanh", "kind": "otherwise", "held": True}


@pytest.mark.parametrize(
    ("index", "text", "held", "depth"),
    [
        (0, "Số phiếu hợp lệ = 6; điều kiện ≥ 10 (Số phiếu tối thiểu)", False, 0),
        (1, "Tỷ lệ hài lòng (%) = 94,7; điều kiện ≥ 95,0", False, 0),
        (2, "Đáp ứng ít nhất một điều kiện", True, 0),
        (3, "Tỷ lệ hồ sơ đúng hạn (%) = không xác định; điều kiện ≥ 95,0", False, 1),
        (4, "Số hồ sơ đã trả kết quả = 0; điều kiện = 0", True, 1),
    ],
)
def test_each_condition_reads_with_value_threshold_and_result(
    app: Flask, index: int, text: str, held: bool, depth: int
) -> None:
    with app.test_request_context():
        (reason,) = explain([EXCELLENT_MISSED])
        assert reason.band_label == "Hoàn thành xuất sắc nhiệm vụ"
        assert reason.heading == "Đáp ứng tất cả các điều kiện"
        assert not reason.held
        line = reason.lines[index]
        assert (line.text, line.held, line.depth) == (text, held, depth)


def test_quota_and_otherwise_reasons(app: Flask) -> None:
    with app.test_request_context():
        quota, otherwise = explain([QUOTA, OTHERWISE])
        assert "20,0%" in quota.heading and "2 trên 10" in quota.heading
        assert "thứ 3" in quota.heading
        assert otherwise.heading == "Các trường hợp còn lại" and otherwise.held


@pytest.mark.parametrize(
    ("value", "text"), [(None, "không xác định"), (True, "có"), (False, "không"), (7, "7"),
                        (91.7, "91,7"), (100.0, "100,0")],
)  # fmt: skip
def test_values_are_written_the_vietnamese_way(app: Flask, value: object, text: str) -> None:
    with app.test_request_context():
        assert format_metric(value) == text
