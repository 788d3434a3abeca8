"""The dashboard's activity details: the usual English sentences of the log put in Vietnamese,
anything else shown as the log has it."""

from __future__ import annotations

import pytest

from dispatcher.web.ops_words import detail_vi


@pytest.mark.parametrize(
    ("detail", "shown"),
    [
        ("by web:operator:Minh (token 2): sai số", "do web:operator:Minh (token 2): sai số"),
        ("left out 12 number(s) on the opt-out list",
         "đã loại 12 số có trong danh sách từ chối nhận tin"),
        ("skipped 3 subscriber(s) at the cap (1 message per 7 days)",
         "bỏ qua 3 thuê bao do giới hạn tần suất (1 message per 7 days)"),
        ("Xã Tân Đoàn: aired at 06:00", "Xã Tân Đoàn: aired at 06:00"),
        ("", ""),
    ],
)  # fmt: skip
def test_usual_details_are_put_in_vietnamese(detail: str, shown: str) -> None:
    assert detail_vi(detail) == shown
