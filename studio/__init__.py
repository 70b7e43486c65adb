"""The Streamlit app's own shared code: session state and the run manager's access (session.py), share links
(links.py), and the Train page's live view, streamed from routes beside Streamlit's (live_stream.py, live_view.py,
live_view.js). The pages and app.py import it; ganlib never does."""
