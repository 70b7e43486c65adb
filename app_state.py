"""What every page shares: the one run manager of this process, this browser session's id and uploads."""
import os
import tempfile
import uuid
from pathlib import Path

import streamlit as st


def checkpoints_dir():
    """Where shipped and saved generators live (GAN_STUDIO_CHECKPOINTS overrides the project's folder)."""
    return Path(os.environ.get("GAN_STUDIO_CHECKPOINTS", Path(__file__).parent / "checkpoints"))


def page_setup(entry_point=False):
    """Called by the entry point and by every page, so a page opened by its URL looks the same.

    Until some session has run app.py's st.navigation, Streamlit serves a deep link such as /train through its
    legacy pages/ navigation (entries named after the files); such a page sends its session through app.py once.
    """
    st.set_page_config(page_title="GAN Studio", page_icon="🎨", layout="wide")
    if entry_point:
        st.session_state.routed = True
    elif not st.session_state.get("routed"):
        st.switch_page("app.py")


@st.cache_resource
def run_manager():
    """One manager for the whole server: runs outlive reruns, page switches and closed tabs."""
    from ganlib.datasets import mnist_sample_arrays
    from ganlib.runs import RunManager  # imports torch (~5 s): only pages that train pay for it

    mnist_sample_arrays()  # read here, so no training thread parses it while Streamlit parses a page (see there)
    return RunManager()


def session_id():
    if "session_id" not in st.session_state:
        st.session_state.session_id = uuid.uuid4().hex
    return st.session_state.session_id


HEARTBEAT_SECONDS = 30  # an open tab polls at least this often, so a silent session means a closed one


def keep_alive():
    """Tell the run manager this session is still here (its runs and uploads stay while it is)."""
    upload_dir = st.session_state.get("upload_dir")
    run_manager().touch(session_id(), files=[upload_dir] if upload_dir else [])


def staged_upload(key, uploads, stage):
    """stage(folder) → path, run only when `uploads` changed since the last call under `key`: a rerun (any
    widget moved) must not rewrite the files, nor leave the cached model behind them to reload."""
    identity = [(upload.name, upload.size, upload.file_id) for upload in uploads]
    staged = st.session_state.get(key)
    if staged is None or staged[0] != identity:
        st.session_state[key] = None  # a refused upload leaves nothing staged
        if "upload_dir" not in st.session_state:
            st.session_state.upload_dir = tempfile.mkdtemp(prefix="gan-studio-upload-")
        st.session_state[key] = (identity, stage(Path(st.session_state.upload_dir)))
    return st.session_state[key][1]
