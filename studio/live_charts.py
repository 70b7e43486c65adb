"""Plotly charts that redraw in place, for the Train page's live view.

`st.plotly_chart` gives a chart whose figure changed a new element id, so every refresh mounts it anew and plotly
draws it from scratch: with the browser on the 2 cores that train, that drawing took a third of a core at a 1 s
refresh and slowed training by a third. This component is one small page with plotly.js that stays mounted
across refreshes (its key keeps its identity) and hands each new figure to `Plotly.react`, which updates the
chart in place. Streamlit sends it nothing when a rerun passes the same figures, so charts that change once an
epoch cost nothing in between (as `st.plotly_chart`s they were redrawn at every refresh).
"""
import json
import tempfile
from pathlib import Path

import plotly
import streamlit as st
import streamlit.components.v1 as components

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><script src="plotly.min.js"></script>
<style>body { margin: 0 } #charts { display: flex; gap: 1rem } #charts > div { flex: 1; min-width: 0 }</style>
</head><body><div id="charts"></div><script>
// Streamlit's component protocol: say we are ready, draw each "render" message, report our height.
const COLOURS = ["#0068c9", "#83c9ff", "#ff2b2b", "#ffabab", "#29b09d", "#7defa1", "#ff8700", "#ffd16a"];
function post(type, fields) {
  window.parent.postMessage(Object.assign({isStreamlitMessage: true, type: type}, fields), "*");
}
window.addEventListener("message", (event) => {
  if (event.data.type !== "streamlit:render") return;
  const theme = event.data.theme || {};
  const charts = document.getElementById("charts");
  event.data.args.figures.forEach((figure, i) => {
    const div = charts.children[i] || charts.appendChild(document.createElement("div"));
    const grid = {gridcolor: "rgba(128, 128, 128, 0.2)", zerolinecolor: "rgba(128, 128, 128, 0.4)"};
    const layout = Object.assign({colorway: COLOURS, paper_bgcolor: "rgba(0, 0, 0, 0)",
      plot_bgcolor: "rgba(0, 0, 0, 0)", font: {family: theme.font, color: theme.textColor}}, figure.layout);
    // Fixed margins: automatic ones measure every label at every redraw, a third of its time. Few x ticks keep
    // the labels level on a narrow chart, and the legend goes below the axis title (rows of it, if need be).
    layout.margin = {l: 64, r: 10, t: 40, b: 96};
    layout.xaxis = Object.assign({}, grid, {nticks: 5, tickangle: 0}, layout.xaxis);
    layout.yaxis = Object.assign({}, grid, layout.yaxis);
    const plotHeight = (layout.height || 260) - layout.margin.t - layout.margin.b;
    layout.legend = Object.assign({}, layout.legend, {yanchor: "top", y: -58 / plotHeight});
    Plotly.react(div, figure.data, layout, {displaylogo: false, responsive: true});
  });
  post("streamlit:setFrameHeight", {height: document.body.scrollHeight});
});
post("streamlit:componentReady", {apiVersion: 1});
</script></body></html>
"""


@st.cache_resource
def _component():
    """The component, served from a folder holding its page and the plotly.js of the installed plotly package
    (Streamlit serves a component's files only from its own folder, and no network is needed)."""
    folder = Path(tempfile.gettempdir()) / f"gan-studio-live-charts-{plotly.__version__}"
    folder.mkdir(exist_ok=True)
    for name, text in (("plotly.min.js", plotly.offline.get_plotlyjs()), ("index.html", PAGE)):
        if not (folder / name).exists() or (folder / name).read_text(encoding="utf-8") != text:
            partial = folder / f"{name}.partial"
            partial.write_text(text, encoding="utf-8")
            partial.replace(folder / name)  # another server starting at once never serves half a file
    return components.declare_component("live_charts", path=str(folder))


def live_charts(figures, key):
    """Plotly figures side by side in one row, updated in place on every rerun that passes new ones."""
    payload = []
    for figure in figures:
        spec = json.loads(figure.to_json())
        spec["layout"].pop("template", None)  # the page styles the charts like Streamlit's own
        payload.append(spec)
    _component()(figures=payload, key=key, default=None)
