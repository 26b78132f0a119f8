"""Routing settings (env prefix ``SODAN_``)."""

from __future__ import annotations

from pydantic import Field, model_validator
from sodan_shared.settings import SodanSettings

from sodan_routing.congestion import Thresholds

DEMO_PHONE = "（電話番号は未設定です: SODAN_ROUTING_PHONE）"
DEMO_TERMS_URL = "（利用規約のURLは未設定です: SODAN_ROUTING_TERMS_URL）"
DEFAULT_EMERGENCY = [
    "命の危険を感じたら 110番（警察）・119番（救急）へ。",
    "よりそいホットライン（24時間・無料）0120-279-338",
    "チャイルドライン（18歳まで・毎日16時〜21時・無料）0120-99-7777",
]
# Words a lock screen must never show; automatic texts containing them are refused.
DEFAULT_FORBIDDEN_WORDS = [
    "LGBT",
    "性",
    "ゲイ",
    "レズ",
    "バイセクシュアル",
    "トランス",
    "クィア",
    "ジェンダー",
    "セクシュアル",
    "同性",
    "カミングアウト",
]


class RoutingSettings(SodanSettings):
    service_name: str = "routing"
    routing_sweep_interval_s: float = Field(
        default=2.0,
        gt=0,
        description="How often each replica retries assigning queued cases (safety net for "
        "races that no event would otherwise revisit)",
    )
    routing_always_open: bool | None = Field(
        default=None,
        description="true: ignore the consultation calendar (always open); default: always "
        "open when SODAN_ENVIRONMENT=development (make run works at any hour), the calendar "
        "otherwise",
    )
    routing_closing_soon_min: float = Field(
        default=15, gt=0, description="Queued clients are told this many minutes before closing"
    )
    routing_phone: str = Field(
        default=DEMO_PHONE,
        description="The desk's phone line and its hours, for {phone} in automatic texts "
        "(required in production)",
    )
    routing_emergency_contacts: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EMERGENCY),
        description="Emergency contacts as a JSON list, one line each, for {emergency} in "
        "automatic texts",
    )
    routing_busy_wait_min: float = Field(
        default=30, gt=0, description="混雑 from this estimated wait (minutes) for a new case"
    )
    routing_suspend_wait_min: float = Field(
        default=90, gt=0, description="受付停止 from this estimated wait (minutes) for a new case"
    )
    routing_busy_queue: int = Field(default=5, gt=0, description="混雑 from this many queued")
    routing_suspend_queue: int = Field(
        default=15, gt=0, description="受付停止 from this many queued"
    )
    routing_measure_window_min: float = Field(
        default=120,
        gt=0,
        description="Sliding window (minutes) for average handling and first-response times",
    )
    routing_default_handling_min: float = Field(
        default=30,
        gt=0,
        description="Handling time assumed for wait estimates until a case closed in the window",
    )
    routing_wait_reminder_after_min: float = Field(
        default=20,
        gt=0,
        description="A queued client hears again after waiting this long since the last notice",
    )
    routing_wait_reminders: int = Field(
        default=2, ge=0, description="At most this many wait reminders per case and opening"
    )
    routing_max_critical_per_counsellor: int = Field(
        default=1,
        ge=0,
        description="A counsellor is given at most this many 緊急 (critical) cases at once; "
        "0: no cap",
    )
    routing_unanswered_after_min: float = Field(
        default=10,
        gt=0,
        description="An assigned case without a counsellor message for this long alerts "
        "supervisors (case.unanswered.v1)",
    )
    routing_unanswered_requeue: bool = Field(
        default=False,
        description="Also return such a case to the queue for another counsellor",
    )
    routing_reopen_within_min: float = Field(
        default=30,
        ge=0,
        description="A client who writes within this many minutes after their case closed "
        "reopens the same case (back to its counsellor if free); later, a new case linked to "
        "the previous one. 0: never reopen",
    )
    routing_survey_within_min: float = Field(
        default=24 * 60,
        gt=0,
        description="The after-survey's answer is accepted this long after it was sent",
    )
    routing_intake_enabled: bool = Field(
        default=True,
        description="Ask a new case the intake questionnaire (事前アンケート: consent, age "
        "group, region, how they describe themselves) before queueing it; not when the desk "
        "is closed or the case is already urgent",
    )
    routing_intake_timeout_min: float = Field(
        default=10,
        gt=0,
        description="A client who stops answering the questionnaire is queued after this many "
        "minutes without a message (never trapped in it)",
    )
    routing_terms_url: str = Field(
        default=DEMO_TERMS_URL,
        description="Where the terms of use are, for {terms_url} in the intake texts",
    )
    routing_forbidden_words: list[str] = Field(
        default_factory=lambda: list(DEFAULT_FORBIDDEN_WORDS),
        description="Automatic texts containing any of these are refused (lock-screen safety)",
    )

    @model_validator(mode="after")
    def _phone_set_in_production(self) -> RoutingSettings:
        if self.environment == "production" and self.routing_phone == DEMO_PHONE:
            raise ValueError("SODAN_ROUTING_PHONE must be set in production")
        if self.routing_busy_wait_min > self.routing_suspend_wait_min:
            raise ValueError("SODAN_ROUTING_BUSY_WAIT_MIN must not exceed ..._SUSPEND_WAIT_MIN")
        if self.routing_busy_queue > self.routing_suspend_queue:
            raise ValueError("SODAN_ROUTING_BUSY_QUEUE must not exceed ..._SUSPEND_QUEUE")
        return self

    @property
    def always_open(self) -> bool:
        if self.routing_always_open is not None:
            return self.routing_always_open
        return self.environment == "development"

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(
            busy_wait_min=self.routing_busy_wait_min,
            suspend_wait_min=self.routing_suspend_wait_min,
            busy_queue=self.routing_busy_queue,
            suspend_queue=self.routing_suspend_queue,
        )
