"""The studio served in a browser: the web driver that ends the app when its browser session ends.

``cadence-studio serve`` (cli/serve.py) starts one app process per browser session through textual-serve,
which talks to the app over its stdin and stdout. Textual's own web driver stops reading when stdin
closes but leaves the app running, drawing to no one; this driver exits the app then, so a closed tab,
a killed browser or a server that went away never leaves a process behind.
"""

from __future__ import annotations

from textual import messages
from textual.drivers.web_driver import WebDriver

__all__ = ["DRIVER", "ServedDriver"]

#: The value of ``TEXTUAL_DRIVER`` that selects this driver.
DRIVER = f"{__name__}:ServedDriver"


class ServedDriver(WebDriver):
    """Textual's web driver, exiting the app once its input ends (the session is over)."""

    def run_input_thread(self) -> None:
        try:
            super().run_input_thread()
        finally:
            if not self.exit_event.is_set():  # stdin ended: no one is left to draw for
                self._app.post_message(messages.ExitApp())
