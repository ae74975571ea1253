"""The counter kiosk (issue 3): the citizen's one-tap rating page, its offline queue and service
worker, the kiosk's small API (state, heartbeat, shifts, current dossier) and the desk page."""

from __future__ import annotations

from flask import Blueprint

#: Sent in every heartbeat; the service worker's cache is named after it (a new version
#: replaces the cached app).
APP_VERSION = "1.0.0"

#: Settings of the kiosk, overridable like any other configuration key (``create_app``'s
#: ``test_config`` or the environment through ``load_config``'s overrides).
DEFAULTS: dict[str, float] = {
    # A citizen who walks away: what they answered is sent and the kiosk returns to idle.
    "KIOSK_IDLE_SECONDS": 30,
    # How long the thank-you screen stays before the kiosk returns to idle.
    "KIOSK_THANKS_SECONDS": 6,
    # Anti-stuffing: taps on the faces within this time after a rating are ignored.
    "KIOSK_MIN_INTERVAL_SECONDS": 5,
    # More than KIOSK_BURST_COUNT ratings within KIOSK_BURST_SECONDS are flagged for review.
    "KIOSK_BURST_COUNT": 5,
    "KIOSK_BURST_SECONDS": 60,
    "KIOSK_HEARTBEAT_SECONDS": 60,
    # How often the kiosk asks who is on duty and which dossier is being served.
    "KIOSK_STATE_SECONDS": 10,
    # The longest wait between two attempts to send a queued answer (backoff doubles up to it).
    "KIOSK_RETRY_MAX_SECONDS": 60,
}

bp = Blueprint(
    "kiosk",
    __name__,
    url_prefix="/kiosk",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

from . import views  # noqa: E402,F401  (the routes register themselves on bp)
