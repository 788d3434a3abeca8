"""The settings of the safeguards before a blast: test numbers, prices and budgets, approval.

Part of :class:`dispatcher.settings.config.Settings` (keys ``pricing``, ``budgets``, ``approval``
and ``sending.test_numbers``), kept apart so each stays small.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dispatcher.audience.phones import InvalidPhone, normalize
from dispatcher.auth.operators import KEY_DIGEST

GatewayKey = Literal["twilio", "simulator"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PricingSettings(_Frozen):
    """What one message segment costs on each gateway, for `plan` and the budgets."""

    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")  # ISO 4217
    # None: not known (plan says so, and a budget cannot be kept). The simulator costs nothing
    # unless set (tests of budgets set it).
    per_segment: dict[GatewayKey, float | None] = {"twilio": None, "simulator": 0.0}

    def price(self, gateway: str) -> float | None:
        if gateway in self.per_segment:
            return self.per_segment[gateway]
        return 0.0 if gateway == "simulator" else None

    @field_validator("per_segment")
    @classmethod
    def _not_negative(cls, value: dict[str, float | None]) -> dict[str, float | None]:
        for gateway, price in value.items():
            if price is not None and price < 0:
                raise ValueError(f"{gateway}: a price cannot be negative")
        return value


class BudgetSettings(_Frozen):
    """Spending limits, in ``pricing.currency``, enforced when work is claimed."""

    monthly: float | None = Field(None, ge=0)  # all campaigns, per calendar month (`timezone`)


class ApprovalSettings(_Frozen):
    """The two-person rule for sends through a real gateway."""

    # Above this many recipients a real-gateway send needs `dispatcher approve` by another
    # operator than the one sending.
    above_recipients: int = Field(1000, ge=0)
    # Known operator names ($DISPATCHER_OPERATOR, else the login name); empty: anyone.
    operators: list[str] = []
    # name → "sha256:…" of the operator's own key ($DISPATCHER_OPERATOR_KEY, made by
    # `dispatcher operator-key NAME`); set: a name acts only with its key.
    operator_keys: dict[str, str] = {}

    @field_validator("operator_keys")
    @classmethod
    def _digests(cls, value: dict[str, str]) -> dict[str, str]:
        for name, digest in value.items():
            if not KEY_DIGEST.fullmatch(digest):
                raise ValueError(f"{name}: not a key digest like sha256:<64 hex digits>")
        return value


def test_numbers(value: list[str]) -> list[str]:
    """A pydantic validator: staff numbers for `send --test`, in E.164."""
    numbers = []
    for i, written in enumerate(value):
        try:
            numbers.append(normalize(written))
        except InvalidPhone as exc:
            raise ValueError(f"[{i}] '{written}': {exc.reason}") from exc
    return list(dict.fromkeys(numbers))
