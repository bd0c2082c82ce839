"""`@circuit_breaker(breaker)` takes a `CircuitBreaker` shared by several notes, as well as keyword
settings; a wrong argument names what was expected."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest

from cadence import Cadence, CircuitBreaker, CircuitOpenError, CircuitState, DefinitionError, NoteError, Score
from cadence.resilience import circuit_breaker, get_circuit


@dataclass
class Call(Score):
    fail: bool = False
    calls: list[str] = field(default_factory=list)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"  # the registry is process-wide


def test_two_notes_share_one_breaker_failures_in_one_open_it_for_both() -> None:
    """Two failures of `charge` open the shared breaker: `refund` is then refused without running."""
    payments = CircuitBreaker(unique("payments"), failure_threshold=2, recovery_timeout=60.0)

    @circuit_breaker(payments)
    def charge(call: Call) -> None:
        call.calls.append("charge")
        if call.fail:
            raise ConnectionError("gateway down")

    @circuit_breaker(payments)
    def refund(call: Call) -> None:
        call.calls.append("refund")

    charging = Cadence("charge", Call()).then("charge", charge)
    refunding = Cadence("refund", Call()).then("refund", refund)
    assert refunding.run_sync(Call()).calls == ["refund"]  # closed: runs
    for _ in range(2):
        with pytest.raises(NoteError) as failed:
            charging.run_sync(Call(fail=True))
        assert isinstance(failed.value.original_error, ConnectionError)
    assert payments.state is CircuitState.OPEN
    assert get_circuit(payments.name) is payments
    call = Call()
    with pytest.raises(NoteError) as refused:
        refunding.run_sync(call)
    assert isinstance(refused.value.original_error, CircuitOpenError)
    assert call.calls == []  # the open breaker did not let refund run
    payments.reset()
    assert refunding.run_sync(Call()).calls == ["refund"]


def test_keyword_settings_still_make_a_breaker_per_name() -> None:
    """`@circuit_breaker(failure_threshold=1, name=...)` keeps working."""
    name = unique("kw")

    @circuit_breaker(failure_threshold=1, name=name)
    def flaky(call: Call) -> None:
        raise ConnectionError("down")

    with pytest.raises(NoteError):
        Cadence("k", Call()).then("flaky", flaky).run_sync()
    assert get_circuit(name).state is CircuitState.OPEN


def test_wrong_arguments_name_what_was_expected() -> None:
    """A string, or a breaker together with settings, or a second breaker under a taken name, is refused."""
    with pytest.raises(TypeError, match=r"takes a CircuitBreaker instance or keyword settings .*got 'pay'"):
        circuit_breaker("pay")  # type: ignore[call-overload]
    breaker = CircuitBreaker(unique("mixed"))
    with pytest.raises(DefinitionError, match="either a CircuitBreaker or keyword settings, not both"):
        circuit_breaker(breaker, 10.0)  # type: ignore[call-overload]
    circuit_breaker(breaker)
    twin = CircuitBreaker(breaker.name)
    with pytest.raises(
        DefinitionError, match=r"already registered as .*give this CircuitBreaker another name"
    ):
        circuit_breaker(twin)
