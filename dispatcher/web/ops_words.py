"""The operators' dashboard's words, in Vietnamese: campaign states, the progress bar's parts,
activity-log events, the actions and what each one does, and what error codes mean."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dispatcher.sending.tracking import GATEWAY_CHANGED, GATEWAY_GONE, UNKNOWN_OUTCOME
from dispatcher.store.health import ACTIVE, CANCELED, PAUSED

STATE_NAMES = {ACTIVE: "đang chạy", PAUSED: "tạm dừng", CANCELED: "đã huỷ"}

PART_NAMES = {
    "delivered": "Đến nhà mạng",  # the SMS centre's receipt, not the handset's (README)
    "sent": "Đã gửi",
    "failed": "Lỗi",
    "pending": "Chờ gửi",
    "not_sent": "Huỷ/bỏ qua",
}

ACTIVITY_NAMES = {
    "campaign-paused": "Tạm dừng",
    "campaign-resumed": "Tiếp tục",
    "campaign-canceled": "Huỷ chiến dịch",
    "halt": "Dừng toàn bộ việc gửi",
    "unhalt": "Cho gửi lại",
    "halted": "Lượt gửi bị dừng",
    "occurrence-skipped": "Bỏ lỡ lượt gửi",
    "approved": "Phê duyệt",
    "test-send": "Gửi thử",
    "frequency-capped": "Vượt giới hạn tần suất",
    "optout-excluded": "Loại số từ chối nhận tin",
    "urgent-quiet-hours": "Gửi khẩn trong giờ yên tĩnh",
}

# The activity log's details are written in English for the command line; the ones the
# dashboard shows most often are put in Vietnamese here (the rest as the log has them).
_DETAILS = [
    (re.compile(r"by (.+)"), "do {0}"),
    (re.compile(r"left out (\d+) number\(s\) on the opt-out list"),
     "đã loại {0} số có trong danh sách từ chối nhận tin"),
    (re.compile(r"skipped (\d+) subscriber\(s\) at the cap \((.*)\)"),
     "bỏ qua {0} thuê bao do giới hạn tần suất ({1})"),
]  # fmt: skip


def detail_vi(detail: str) -> str:
    """An activity's detail in Vietnamese when it is one of the usual sentences."""
    for pattern, words in _DETAILS:
        found = pattern.fullmatch(detail)
        if found:
            return words.format(*found.groups())
    return detail


@dataclass(frozen=True)
class Action:
    """One of the dashboard's actions: its name in URLs and the words of its pages."""

    name: str  # pause | resume | cancel | halt | unhalt
    label: str  # the link on the dashboard
    heading: str  # the confirmation page's title
    button: str
    done: str  # the notice after it, with {id} and {n} (pending deliveries canceled)


ACTIONS = {
    a.name: a
    for a in (
        Action("pause", "Tạm dừng…", "Tạm dừng chiến dịch", "Tạm dừng",
               "Đã tạm dừng chiến dịch {id}: các máy gửi ngừng nhận tin của chiến dịch trong "
               "vài giây; tin đang gửi dở sẽ hoàn tất."),
        Action("resume", "Tiếp tục…", "Tiếp tục chiến dịch", "Tiếp tục gửi",
               "Đã cho chiến dịch {id} tiếp tục: các máy gửi nhận lại những tin chờ gửi."),
        Action("cancel", "Huỷ…", "Huỷ chiến dịch", "Huỷ chiến dịch",
               "Đã huỷ chiến dịch {id}: {n} tin chưa gửi đã bị huỷ, không lượt nào được gửi "
               "thêm."),
        Action("halt", "Dừng toàn bộ việc gửi…", "Dừng toàn bộ việc gửi tin", "Dừng toàn bộ",
               "Đã dừng toàn bộ việc gửi tin: mọi máy gửi ngừng trong vài giây."),
        Action("unhalt", "Cho gửi lại…", "Cho gửi tin trở lại", "Cho gửi lại",
               "Đã cho gửi tin trở lại: các máy gửi nhận tin chờ gửi trong vài giây."),
    )
}  # fmt: skip


def number(n: int) -> str:
    """``12.345``: a dot between thousands, as Vietnamese write numbers."""
    return f"{n:,}".replace(",", ".")


def consequence(action: str, campaign_id: str = "", pending: int = 0, in_flight: int = 0) -> str:
    """What the action will do, said on its confirmation page."""
    waiting = number(pending)
    if action == "pause":
        return (f"Tạm dừng chiến dịch {campaign_id}: các máy gửi ngừng nhận tin của chiến dịch "
                f"trong vài giây; {waiting} tin chờ gửi sẽ đợi đến khi tiếp tục.")  # fmt: skip
    if action == "resume":
        return (f"Tiếp tục chiến dịch {campaign_id}: {waiting} tin chờ gửi sẽ được gửi, theo "
                "lịch và giờ yên tĩnh như thường.")  # fmt: skip
    if action == "cancel":
        flying = (f" {number(in_flight)} tin đang gửi dở vẫn được hoàn tất hoặc đối chiếu với "
                  "nhà cung cấp." if in_flight else "")  # fmt: skip
        return (f"Huỷ chiến dịch {campaign_id}: {waiting} tin chưa gửi sẽ bị huỷ, không lượt "
                f"nào được gửi thêm. Không thể hoàn tác.{flying}")  # fmt: skip
    if action == "halt":
        return ("Dừng toàn bộ việc gửi tin của mọi chiến dịch, trên mọi máy gửi, trong vài giây. "
                "Tin đang gửi dở được ghi nhận; tin đã nhận mà chưa gửi trở về hàng chờ. Không "
                "tin nào được gửi cho đến khi cho gửi lại.")  # fmt: skip
    return ("Cho gửi tin trở lại: các máy gửi nhận tin chờ gửi của mọi chiến dịch đang chạy "
            "trong vài giây.")  # fmt: skip


# What the errors the dispatcher knows mean (the codes of gateways.retry, simulator_api and
# simulator_state: those it classifies or meets), and the labels of failures without a code.
ERROR_MEANINGS = {
    20003: "Xác thực thất bại: sai TWILIO_ACCOUNT_SID hoặc TWILIO_AUTH_TOKEN",
    20005: "Tài khoản Twilio không còn hoạt động",
    20429: "Gửi quá nhanh: Twilio giới hạn số yêu cầu",
    20503: "Twilio tạm thời không phục vụ",
    21211: "Số người nhận không phải số điện thoại hợp lệ",
    21212: "Số hoặc tên người gửi không hợp lệ",
    21408: "Tài khoản chưa được phép gửi tin tới vùng của số này",
    21602: "Tin nhắn không có nội dung",
    21603: "Thiếu người gửi (From hoặc Messaging Service)",
    21604: "Thiếu số người nhận",
    21606: "Người gửi không phải số hay tên người gửi của tài khoản này",
    21610: "Người nhận đã từ chối nhận tin",
    21611: "Hàng đợi tin của người gửi đã đầy",
    21612: "Số này hiện không nhận được tin nhắn SMS",
    21614: "Không phải số di động (có thể là số cố định)",
    21617: "Tin nhắn dài quá 1600 ký tự",
    21705: "Mã Messaging Service không hợp lệ",
    30002: "Tài khoản Twilio bị tạm khoá",
    30003: "Không liên lạc được máy người nhận (tắt máy, ngoài vùng phủ sóng)",
    30008: "Lỗi không xác định của nhà mạng",
}
LABEL_MEANINGS = {
    UNKNOWN_OUTCOME: "Quá hạn mà vẫn không rõ tin đã được gửi hay chưa",
    GATEWAY_GONE: "Gửi qua trình giả lập của một lệnh đã kết thúc: không thể có báo cáo",
    GATEWAY_CHANGED: "Gửi qua cổng khác cổng đang cấu hình: không hỏi được báo cáo",
}


def error_meaning(code: int | None, label: str | None) -> str | None:
    """What a failure's code (or, without one, its label) means; None when not known."""
    if code is not None:
        return ERROR_MEANINGS.get(code)
    return LABEL_MEANINGS.get(label or "")
