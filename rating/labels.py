"""Vietnamese labels for the codes the engine emits, for the dashboard and reports.

Results carry language-neutral codes only; a screen looks them up here (or in the translation
catalogue, which may start from these tables).
"""

from __future__ import annotations

BAND_LABELS_VI: dict[str, str] = {
    "hoan_thanh_xuat_sac": "Hoàn thành xuất sắc nhiệm vụ",
    "hoan_thanh_tot": "Hoàn thành tốt nhiệm vụ",
    "hoan_thanh": "Hoàn thành nhiệm vụ",
    "khong_hoan_thanh": "Không hoàn thành nhiệm vụ",
}

METRIC_LABELS_VI: dict[str, str] = {
    "forms": "Số phiếu hợp lệ",
    "satisfied": "Số phiếu hài lòng",
    "dissatisfied": "Số phiếu không hài lòng",
    "satisfied_pct": "Tỷ lệ hài lòng (%)",
    "dissatisfied_pct": "Tỷ lệ không hài lòng (%)",
    "dossiers": "Số hồ sơ đã trả kết quả",
    "late": "Số hồ sơ trễ hạn",
    "on_time_pct": "Tỷ lệ hồ sơ đúng hạn (%)",
    "misconduct_confirmed": "Phản ánh nhũng nhiễu đã xác minh",
    "misconduct_pending": "Phản ánh nhũng nhiễu chưa xử lý",
    "violations": "Số lần vi phạm nội quy, văn hóa công sở",
    "disciplined": "Bị kỷ luật trong tháng",
}

FLAG_LABELS_VI: dict[str, str] = {
    "insufficient_forms": "Chưa đủ số phiếu tối thiểu",
    "no_data": "Không có dữ liệu (không phiếu, không hồ sơ)",
    "pending_reports": "Còn phản ánh chưa xử lý: thủ trưởng cần quyết định trước khi duyệt",
}

GROUP_LABELS_VI: dict[str, str] = {
    "reception": "Công chức tiếp nhận và trả kết quả",
    "resolver": "Công chức, viên chức trực tiếp giải quyết",
}

PARAM_LABELS_VI: dict[str, str] = {
    "min_forms": "Số phiếu tối thiểu",
    "excellent_quota_pct": "Tỷ lệ tối đa xếp loại xuất sắc (%)",
}

#: Condition groups and reason kinds of an explanation.
MODE_LABELS_VI: dict[str, str] = {
    "all": "Đáp ứng tất cả các điều kiện",
    "any": "Đáp ứng ít nhất một điều kiện",
    "otherwise": "Các trường hợp còn lại",
    "quota": "Giới hạn tỷ lệ xuất sắc",
}

OPERATOR_LABELS_VI: dict[str, str] = {
    ">=": "≥",
    ">": ">",
    "<=": "≤",
    "<": "<",
    "==": "=",
    "!=": "≠",
}

#: Words used when rendering a condition such as "Tỷ lệ hài lòng (%) 94,7 ≥ 95,0: không".
WORD_LABELS_VI: dict[str, str] = {
    "undefined": "không xác định",
    "yes": "có",
    "no": "không",
    "true": "có",
    "false": "không",
}

#: TT 01/2018 officer levels (see rating.tt01).
TT01_LEVEL_LABELS_VI: dict[str, str] = {
    "100": "Hoàn thành 100% nhiệm vụ",
    "70_100": "Hoàn thành từ 70% đến dưới 100% nhiệm vụ",
    "lt70": "Hoàn thành dưới 70% nhiệm vụ",
}

TT01_INDICATOR_LABELS_VI: dict[int, str] = {
    1: "Thời gian giải quyết hồ sơ so với ngày hẹn",
    2: "Thời gian thực hiện của từng bước, từng cơ quan",
    3: "Số lần phải liên hệ để hoàn thiện hồ sơ",
    4: "Số cơ quan phải liên hệ để có kết quả",
    7: "Thái độ, tác phong; không nhũng nhiễu, gây phiền hà",
}
