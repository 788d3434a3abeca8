"""Who is at the keyboard: one rule for every record (dispatcher.core.operator)."""

from __future__ import annotations

import os
import pwd

from dispatcher.core.operator import operator


def test_dispatcher_operator_wins_over_the_login_name() -> None:
    assert operator({"DISPATCHER_OPERATOR": "minh", "USER": "root"}) == "minh"


def test_the_login_name_in_getpass_order_when_no_operator_is_named() -> None:
    assert operator({"USER": "lan", "LOGNAME": "hoa"}) == "hoa"  # LOGNAME comes first
    assert operator({"DISPATCHER_OPERATOR": "  ", "USERNAME": "tuan"}) == "tuan"


def test_the_os_account_when_the_environment_names_nobody() -> None:
    assert operator({}) == pwd.getpwuid(os.getuid()).pw_name
