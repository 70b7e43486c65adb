"""The Streamlit app's own shared code: session state and the run manager's access (session.py), and the chart
component that redraws in place (live_charts.py). The pages and app.py import it; ganlib never does."""
