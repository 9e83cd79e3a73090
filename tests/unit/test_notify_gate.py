"""The policy gate, table-driven: quiet-hour edges in Ho Chi Minh City time, the cap, consent, opt-out, fallback."""

from __future__ import annotations

import datetime

import pytest

from notifications.policy import Action, Candidate, Channel, Consent, Purpose, Rules, decide, window_opens

HCM = datetime.timezone(datetime.timedelta(hours=7))
PHONE = {Channel.ZALO: "+84901234567", Channel.SMS: "+84901234567"}
RULES = Rules()
MARKETING_OK = {(Channel.ZALO, Purpose.MARKETING): Consent.GRANTED, (Channel.SMS, Purpose.MARKETING): Consent.GRANTED}


def at(hour: int, minute: int) -> datetime.datetime:
    return datetime.datetime(2026, 3, 10, hour, minute, tzinfo=HCM)


def marketing(**kw: object) -> Candidate:
    return Candidate(purpose=Purpose.MARKETING, contacts=PHONE, consents=MARKETING_OK, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("hour", "minute", "action", "until"),
    [
        (6, 59, Action.DEFER, at(7, 0)),
        (7, 0, Action.SEND, None),
        (21, 59, Action.SEND, None),
        (22, 0, Action.DEFER, at(7, 0) + datetime.timedelta(days=1)),
        (0, 0, Action.DEFER, at(7, 0)),
    ],
)
def test_marketing_waits_for_the_window(
    hour: int, minute: int, action: Action, until: datetime.datetime | None
) -> None:
    decision = decide(marketing(), at(hour, minute), RULES)
    assert decision.action is action
    assert decision.until == until
    if action is Action.DEFER:
        assert decision.reason == "quiet hours: deferred to 07:00 local time"


@pytest.mark.parametrize(
    ("quiet", "hour", "minute", "until"),
    [
        # Quiet hours within one day (midnight to 06:00): marketing goes the rest of the day, evenings too.
        (("00:00", "06:00"), 23, 30, None),
        (("00:00", "06:00"), 0, 0, at(6, 0)),
        (("00:00", "06:00"), 5, 59, at(6, 0)),
        (("00:00", "06:00"), 6, 0, None),
        # A window that spans midnight (ORDERS_QUIET_HOURS=20:00-02:00): quiet from 02:00 to 20:00.
        (("02:00", "20:00"), 1, 59, None),
        (("02:00", "20:00"), 2, 0, at(20, 0)),
        (("02:00", "20:00"), 21, 0, None),
        # The same time twice: no quiet hours at all.
        (("22:00", "22:00"), 22, 30, None),
    ],
)
def test_quiet_hours_within_one_day_or_none(
    quiet: tuple[str, str], hour: int, minute: int, until: datetime.datetime | None
) -> None:
    start, end = (datetime.time.fromisoformat(t) for t in quiet)
    rules = Rules(quiet_start=start, quiet_end=end)
    decision = decide(marketing(), at(hour, minute), rules)
    assert decision.action is (Action.SEND if until is None else Action.DEFER), decision
    assert decision.until == until


def test_the_window_is_read_in_vietnam_time_whatever_zone_now_is_in() -> None:
    utc_2259 = datetime.datetime(2026, 3, 10, 23, 59, tzinfo=datetime.UTC)  # 06:59 next morning in Vietnam
    assert window_opens(utc_2259, RULES) == datetime.datetime(2026, 3, 11, 0, 0, tzinfo=datetime.UTC)
    assert decide(marketing(), utc_2259 + datetime.timedelta(minutes=1), RULES).action is Action.SEND


@pytest.mark.parametrize(("already", "action"), [(0, Action.SEND), (2, Action.SEND), (3, Action.SUPPRESS)])
def test_at_most_three_marketing_messages_per_phone_per_24_hours(already: int, action: Action) -> None:
    now = at(12, 0)
    sent = [now - datetime.timedelta(hours=h) for h in range(1, already + 1)]
    decision = decide(marketing(marketing_sent=sent), now, RULES)
    assert decision.action is action
    if action is Action.SUPPRESS:
        assert decision.reason is not None and decision.reason.startswith("frequency cap: 3 marketing messages")


def test_messages_older_than_24_hours_do_not_count() -> None:
    now = at(12, 0)
    sent = [now - datetime.timedelta(hours=24, seconds=1)] * 5
    assert decide(marketing(marketing_sent=sent), now, RULES).action is Action.SEND


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (marketing(opted_out=True), "opted out of marketing messages"),
        (Candidate(purpose=Purpose.MARKETING, contacts=PHONE), "no marketing consent on any channel"),
    ],
)
def test_marketing_without_consent_or_after_opt_out_is_suppressed(candidate: Candidate, reason: str) -> None:
    decision = decide(candidate, at(12, 0), RULES)
    assert decision.action is Action.SUPPRESS
    assert decision.reason is not None and decision.reason.startswith(reason)


@pytest.mark.parametrize("moment", [at(23, 30), at(6, 59), at(12, 0)])
def test_transactional_always_goes_through(moment: datetime.datetime) -> None:
    """Night, a full cap, an opt-out from marketing, no marketing consent: an order message still goes."""
    sent = [moment - datetime.timedelta(minutes=m) for m in range(1, 10)]
    candidate = Candidate(purpose=Purpose.TRANSACTIONAL, contacts=PHONE, opted_out=True, marketing_sent=sent)
    decision = decide(candidate, moment, RULES)
    assert decision.action is Action.SEND
    assert decision.channels == (Channel.ZALO, Channel.SMS)


def test_channels_fall_back_in_order_where_consented() -> None:
    only_sms = {(Channel.SMS, Purpose.MARKETING): Consent.GRANTED}
    decision = decide(Candidate(purpose=Purpose.MARKETING, contacts=PHONE, consents=only_sms), at(12, 0), RULES)
    assert decision.channels == (Channel.SMS,)
    no_zalo = {(Channel.ZALO, Purpose.TRANSACTIONAL): Consent.WITHDRAWN}
    decision = decide(Candidate(purpose=Purpose.TRANSACTIONAL, contacts=PHONE, consents=no_zalo), at(12, 0), RULES)
    assert decision.channels == (Channel.SMS,)


def test_nobody_to_reach_is_suppressed_with_the_reason() -> None:
    decision = decide(Candidate(purpose=Purpose.TRANSACTIONAL, contacts={}), at(12, 0), RULES)
    assert (decision.action, decision.reason) == (Action.SUPPRESS, "no channel to reach the recipient on")


def test_rules_are_plain_values_an_admin_page_can_change() -> None:
    late = Rules(quiet_end=datetime.time(8, 0), quiet_start=datetime.time(20, 0), marketing_cap=1)
    assert decide(marketing(), at(7, 30), late).action is Action.DEFER
    assert decide(marketing(marketing_sent=[at(9, 0)]), at(10, 0), late).action is Action.SUPPRESS
