"""The studio's footer: Textual's, composed again only when the keys it shows change."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

__all__ = ["StudioFooter"]


class StudioFooter(Footer):
    """A :class:`Footer` that recomposes once however many binding updates come before it does, and
    not at all when the keys it would show are the ones it shows.

    Textual's footer schedules a recompose (its keys taken down and mounted again, styled anew) on each
    update of the screen's bindings; a start-up sends five of them before the first frame (the screen
    stacked, the focus set, two resizes...), and the footer was composed five times over.
    """

    _recompose_due = False
    _shown: Any = None  # what the keys were composed from

    def __init__(self) -> None:
        super().__init__()
        # Its keys are composed with it (Textual's footer waits for the first update of the bindings and
        # recomposes then, which held the first frame back until it was done).
        self.set_reactive(Footer._bindings_ready, True)

    def compose(self) -> ComposeResult:
        self._shown = self._keys()
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._recompose_due:
            self._recompose_due = True
            self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_due = False  # an update from here on is shown by another recompose
        shown = self._keys()
        if shown != self._shown:
            self._shown = shown
            await self.recompose()

    def _keys(self) -> Any:
        """What :meth:`compose` makes the keys of (the screen's active bindings, the palette key)."""
        active = self.screen.active_bindings
        keys = [
            (binding, enabled, tooltip) for _, binding, enabled, tooltip in active.values() if binding.show
        ]
        palette = active.get(self.app.COMMAND_PALETTE_BINDING) if self.show_command_palette else None
        return (keys, palette and palette[1:], self.combine_groups)
