"""Benchmark of the pure policy engine: how long one decision takes, and what it allocates.

Runs a mix of realistic questions (a bot reply in the window, a person after two days on
Messenger, an automation refused HUMAN_AGENT, a WhatsApp template after the window, a promotional
text screened under a tag, an Instagram contact gone quiet for eight days, a Viber bot message)
through ``decide``, ``check``, ``evaluate_paths`` and ``window_closings`` and prints latency
percentiles, throughput and allocation figures. Then CPU time per call (``time.process_time``, so
other processes on a shared machine count less), as the median of 3 repeats with their spread,
next to a floor measured in the same run: building one ``Decision`` from constants, the model every
decision ends in. Prints figures; asserts nothing.

Run: ``scripts/bench-engine [--decisions 20000]`` (``--decisions 16``: a smoke run).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from windowkeeper.policy.engine import check, decide, evaluate_paths, window_closings
from windowkeeper.policy.model import (
    AccountProfile,
    AutomationKind,
    Channel,
    ContactState,
    Content,
    ContentKind,
    CustomerActionKind,
    Decision,
    DecisionInput,
    MarketingOptIn,
    OutboundRequest,
    Path,
    Purpose,
    Sender,
    SenderKind,
    Template,
    TemplateCategory,
    TemplateStatus,
)

LAST_MESSAGE = datetime(2026, 11, 19, 10, 2, tzinfo=UTC)
AGENT = Sender(kind=SenderKind.HUMAN, principal_id="agent-maria")
BOT = Sender(kind=SenderKind.AUTOMATION, principal_id="bot-1", automation=AutomationKind.BOT)


@dataclass(frozen=True)
class Question:
    name: str
    inp: DecisionInput
    at: datetime


def _account(channel: Channel, **settings: object) -> AccountProfile:
    return AccountProfile.model_validate(
        {
            "channel": channel,
            "account_id": f"{channel.value}-1",
            "tenant_id": "acme",
            "permissions": frozenset({"human_agent", "page_utility_messaging"}),
            **settings,
        }
    )


def _contact(channel: Channel, last: datetime = LAST_MESSAGE, **state: object) -> ContactState:
    return ContactState.model_validate(
        {
            "channel": channel,
            "account_id": f"{channel.value}-1",
            "contact_id": "contact-1",
            "last_customer_action_at": last,
            "last_customer_action_kind": CustomerActionKind.MESSAGE,
            **state,
        }
    )


def _text(body: str) -> Content:
    return Content(kind=ContentKind.TEXT, text=body)


def questions() -> list[Question]:
    utility = Content(
        kind=ContentKind.TEMPLATE,
        template=Template(
            name="order_update",
            language="en_US",
            category=TemplateCategory.UTILITY,
            status=TemplateStatus.APPROVED,
            body="Update on order {{1}}: it is now {{2}}.",
            parameters=("A-1042", "ready to ship"),
        ),
    )
    opted_in = (MarketingOptIn(opted_in_at=LAST_MESSAGE - timedelta(days=30)),)

    def ask(contact: ContactState, sender: Sender, content: Content, **request: object) -> DecisionInput:
        return DecisionInput(
            contact=contact,
            account=_account(contact.channel, viber_bot_created_on=date(2023, 5, 1)),
            sender=sender,
            content=content,
            request=OutboundRequest.model_validate(request),
        )

    return [
        Question(
            "messenger bot reply in window",
            ask(_contact(Channel.MESSENGER), BOT, _text("Your parcel left the depot.")),
            LAST_MESSAGE + timedelta(hours=3),
        ),
        Question(
            "messenger person after 2 days",
            ask(_contact(Channel.MESSENGER), AGENT, _text("A new pole is on its way.")),
            LAST_MESSAGE + timedelta(days=2),
        ),
        Question(
            "messenger bot asks HUMAN_AGENT",
            ask(_contact(Channel.MESSENGER), BOT, _text("Following up."), tag="HUMAN_AGENT"),
            LAST_MESSAGE + timedelta(days=2),
        ),
        Question(
            "messenger promo under a tag",
            ask(
                _contact(Channel.MESSENGER),
                AGENT,
                _text("20% off everything this weekend!"),
                tag="HUMAN_AGENT",
            ),
            LAST_MESSAGE + timedelta(days=2),
        ),
        Question(
            "whatsapp utility template late",
            ask(
                _contact(Channel.WHATSAPP, recipient_country_code="44", marketing_opt_ins=opted_in),
                BOT,
                utility,
                purpose=Purpose.ORDER_UPDATE,
            ),
            LAST_MESSAGE + timedelta(days=3),
        ),
        Question(
            "whatsapp free-form late",
            ask(_contact(Channel.WHATSAPP), BOT, _text("Are you still there?")),
            LAST_MESSAGE + timedelta(days=3),
        ),
        Question(
            "instagram after 8 days",
            ask(_contact(Channel.INSTAGRAM), AGENT, _text("Sorry for the wait.")),
            LAST_MESSAGE + timedelta(days=8),
        ),
        Question(
            "viber bot-initiated",
            ask(_contact(Channel.VIBER, subscribed=True), BOT, _text("Your booking is tomorrow.")),
            LAST_MESSAGE + timedelta(days=2),
        ),
    ]


def _percentiles(samples_ns: Sequence[int]) -> tuple[float, float, float]:
    ordered = sorted(samples_ns)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000

    return at(0.5), at(0.99), ordered[-1] / 1000


def _time(call: Callable[[], object], repeats: int) -> list[int]:
    samples: list[int] = []
    for _ in range(repeats):
        started = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - started)
    return samples


def cpu_us_per_call(call: Callable[[], object], calls: int, repeats: int = 3) -> list[float]:
    """CPU µs per call, one figure per repeat (each repeat makes ``calls`` calls)."""
    figures = []
    for _ in range(repeats):
        gc.collect()
        started = time.process_time_ns()
        for _ in range(calls):
            call()
        figures.append((time.process_time_ns() - started) / calls / 1000)
    return figures


def floor_decision() -> Decision:
    """The floor: one allowed ``Decision`` built from constants (every decide() builds one)."""
    return Decision(
        allowed=True,
        path=Path.FREE_FORM,
        send_fields={"messaging_type": "RESPONSE"},
        rule=None,
        explanation="Free-form is open.",
        decided_at=LAST_MESSAGE,
        valid_until=LAST_MESSAGE,
    )


def cpu_table(mix: Sequence[Question], decisions: int) -> None:
    rounds = max(1, decisions // len(mix))

    def over_mix(function: Callable[[DecisionInput, datetime], object]) -> Callable[[], None]:
        def one_round() -> None:
            for question in mix:
                function(question.inp, question.at)

        return one_round

    floor = cpu_us_per_call(floor_decision, rounds * len(mix))
    floor_us = statistics.median(floor)
    print(
        f"CPU per call, median of 3 ({rounds * len(mix)} calls each), floor = one Decision built "
        f"from constants: {floor_us:.1f} µs (spread {min(floor):.1f}-{max(floor):.1f})"
    )
    print(f"  {'call':34} {'µs':>7} {'spread':>13} {'x floor':>8} {'answers/s':>10}")
    for label, function in (("decide() with options", decide), ("check() yes/no + path", check)):
        figures = [f / len(mix) for f in cpu_us_per_call(over_mix(function), rounds)]
        median = statistics.median(figures)
        print(
            f"  {label:34} {median:7.1f} {min(figures):6.1f}-{max(figures):<6.1f} "
            f"{median / floor_us:8.1f} {1e6 / median:10,.0f}"
        )


def run(decisions: int) -> None:
    mix = questions()
    per_question = max(1, decisions // len(mix))
    for question in mix:  # warm-up: imports, pydantic validators, regex compilation
        decide(question.inp, question.at)

    print(f"decide(): {per_question} runs per question, {per_question * len(mix)} in all")
    print(f"  {'question':34} {'path or refusal':28} {'p50 µs':>8} {'p99 µs':>8} {'max µs':>8}")
    all_samples: list[int] = []
    gc.collect()
    for question in mix:
        answer = decide(question.inp, question.at)
        outcome = answer.path.value if answer.allowed and answer.path else ",".join(answer.reasons)
        samples = _time(lambda q=question: decide(q.inp, q.at), per_question)  # type: ignore[misc]
        all_samples.extend(samples)
        p50, p99, worst = _percentiles(samples)
        print(f"  {question.name:34} {outcome[:28]:28} {p50:8.0f} {p99:8.0f} {worst:8.0f}")
    p50, p99, _ = _percentiles(all_samples)
    total_s = sum(all_samples) / 1e9
    rate = len(all_samples) / total_s
    print(f"  all: p50 {p50:.0f} µs, p99 {p99:.0f} µs, {rate:,.0f} decisions/s on one core")

    for label, call in (
        (
            "evaluate_paths() (GET contact)",
            lambda q: evaluate_paths(q.inp.contact, q.inp.account, AGENT, q.at),
        ),
        ("window_closings() (webhook, sweep)", lambda q: window_closings(q.inp.contact, q.inp.account)),
    ):
        samples = [
            s
            for q in mix
            for s in _time(lambda q=q, call=call: call(q), per_question)  # type: ignore[misc]
        ]
        p50, p99, _ = _percentiles(samples)
        print(f"{label}: p50 {p50:.0f} µs, p99 {p99:.0f} µs")

    gc.collect()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    kept = [decide(q.inp, q.at) for q in mix for _ in range(50)]
    after, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"memory: {(after - before) / len(kept) / 1024:.1f} KiB retained per Decision "
        f"(with its options), peak {(peak - before) / 1024:.0f} KiB while making {len(kept)}"
    )
    cpu_table(mix, decisions)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--decisions", type=int, default=20_000, help="decide() calls in all (default 20000)")
    args = parser.parse_args(argv)
    run(args.decisions)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
