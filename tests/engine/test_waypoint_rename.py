"""The controller's "where a run is about to go" is a `Waypoint`; `Checkpoint` is its deprecated old name.

"Checkpoint" now means a saved score only (`cadence.checkpoint`), so the old name warns when used.
"""

from __future__ import annotations

import pytest

import cadence
import cadence.stepping
from cadence import Cadence, Score, Waypoint


def test_checkpoint_from_cadence_warns_and_is_the_waypoint() -> None:
    """`cadence.Checkpoint` still works for old code, with a DeprecationWarning naming the new name."""
    with pytest.warns(DeprecationWarning, match=r"cadence\.Checkpoint is deprecated; use cadence\.Waypoint"):
        old = cadence.Checkpoint
    assert old is Waypoint


def test_checkpoint_from_stepping_warns_and_is_the_waypoint() -> None:
    """`cadence.stepping.Checkpoint` (where StepController's users imported it) warns the same way."""
    with pytest.warns(DeprecationWarning, match=r"cadence\.stepping\.Checkpoint is deprecated"):
        old = cadence.stepping.Checkpoint
    assert old is Waypoint


def test_from_import_of_the_old_name_warns() -> None:
    """`from cadence import Checkpoint` goes through the same module `__getattr__`."""
    with pytest.warns(DeprecationWarning, match="deprecated"):
        from cadence import Checkpoint  # noqa: F401


def test_controllers_receive_waypoints() -> None:
    """A controller is handed `Waypoint` objects, not something that warns."""
    seen: list[object] = []
    c = Cadence("w", Score()).then("a", lambda s: None)
    c.run_sync(controller=seen.append)
    assert [type(p) for p in seen] == [Waypoint]


def test_unknown_attributes_still_raise() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = cadence.stepping.Nope  # type: ignore[attr-defined]
