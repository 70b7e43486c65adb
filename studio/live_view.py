"""The Train page's live view of a run: a component that stays mounted and streams from the run's own route.

Streamlit renders it once per run (and again only when the run's state changes: it asks for that rerun itself);
between those, its script (live_view.js) polls studio/live_stream.py's route at the page's refresh period and
appends what is new: rows to the charts (Plotly.extendTraces), grids to the scrubber, scores to the meter.
"""
from pathlib import Path

import streamlit as st

from studio.live_stream import stream_token

CSS = """
.gs-live-progress { height: 0.5rem; border-radius: 0.25rem; background: rgba(128, 128, 128, 0.2); margin: 0 0 1rem }
.gs-live-progress > div { height: 100%; border-radius: 0.25rem; background: var(--st-primary-color, #ff4b4b);
  transform-origin: left; transform: scaleX(0); will-change: transform }
.gs-live-charts { display: flex; gap: 1rem }
.gs-live-charts > div { flex: 1; min-width: 0 }
.gs-live-caption { font-size: 0.875rem; opacity: 0.7; margin: 0.25rem 0 1rem }
.gs-live-pictures { display: flex; gap: 1rem; margin-top: 1rem }
.gs-live-pictures > div { flex: 1; min-width: 0 }
.gs-live-pictures img { width: 100%; image-rendering: pixelated }
.gs-live-scrub { display: flex; align-items: center; gap: 0.5rem; margin-bottom: 0.5rem; font-size: 0.875rem }
.gs-live-scrub input { flex: 1 }
.gs-live-alarm { padding: 0.75rem 1rem; border-radius: 0.5rem; margin-bottom: 0.5rem;
  background: rgba(255, 189, 69, 0.2) }
"""
WAITING = "The first sample grid appears at the end of the first epoch."


_component = st.components.v2.component("gan_studio_live_view", css=CSS, isolate_styles=False,
                                        js=Path(__file__).with_name("live_view.js").read_text(encoding="utf-8"))


def live_view(run, manager, refresh, captions, key):
    """Mount the live view of `run` (this session's own) polling every `refresh` seconds. `captions`: the page's
    words under the charts ("healthy") and under the meter ("quality"). A change of the run's state reruns."""
    stream = st.session_state.get(f"{key}_stream")
    if stream is None or stream[0] != run.run_id:
        stream = st.session_state[f"{key}_stream"] = (run.run_id, stream_token(run, manager))
    _component(data={"token": stream[1], "refresh": refresh, "state": run.status, "waiting": WAITING, **captions},
                 key=key, on_state_change=lambda: None)
