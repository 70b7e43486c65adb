"""What every page shares: the one run manager of this process, this browser session's id and uploads."""
import os
import re
import tempfile
import uuid
from pathlib import Path

import streamlit as st

from ganlib.host import HEARTBEAT_SECONDS, shared_checkpoints  # no torch: the landing page stays quick


def checkpoints_dir():
    """The shipped generators, read-only to the app (GAN_STUDIO_CHECKPOINTS overrides the project's folder)."""
    return Path(os.environ.get("GAN_STUDIO_CHECKPOINTS", Path(__file__).resolve().parent.parent / "checkpoints"))


def session_folder(key, prefix):
    """A folder of this session's own (uploads, saved generators), deleted once the session has left."""
    if key not in st.session_state:
        st.session_state[key] = tempfile.mkdtemp(prefix=prefix)
    return Path(st.session_state[key])


def saved_dir():
    """Where Save puts a generator: the host's shared folder (GAN_STUDIO_SHARED_CHECKPOINTS), else this session's."""
    return shared_checkpoints() or session_folder("saved_dir", "gan-studio-saved-")


def generator_folders():
    """(label, folder) of every place the latent explorer lists generators from, for this session."""
    folders = [("shipped", checkpoints_dir()), ("shared", shared_checkpoints())]
    if "saved_dir" in st.session_state:
        folders.append(("yours", Path(st.session_state.saved_dir)))
    return [(label, folder) for label, folder in folders if folder is not None]


def plain(text):
    """User-supplied text (a card's fields, a file name inside an error) for a markdown element, shown as typed:
    no link, image or formatting can be injected. Markdown's punctuation is escaped, and a zero-width space
    after '://' and 'www' keeps the renderer from turning a bare address into a link (escapes do not stop it)."""
    text = re.sub(r"(://|\bwww)", "\\1\u200b", " ".join(str(text).split()))
    return re.sub(r"([\\`*_{}\[\]()#+\-=.!|<>~$:/&])", r"\\\1", text)


def page_setup(url_path=None):
    """Called by app.py (no argument) and by every page (its URL path), so a page opened by its URL looks the same.

    Why the detour: until some session has run app.py's st.navigation, Streamlit serves a deep link such as /train
    through its legacy pages/ navigation (menu entries named after the files). Such a page sends its session
    through app.py once, which then opens the page the link named (tests/test_browser.py checks a fresh server).
    """
    st.set_page_config(page_title="GAN Studio", page_icon="🎨", layout="wide")
    if url_path is None:
        st.session_state.routed = True
    elif not st.session_state.get("routed"):
        st.session_state.deep_link = url_path, address_params()  # a shared link's settings travel too
        st.switch_page("app.py")


def address_params():
    """The page address's query parameters as {name: [values]}: a repeated key keeps all its values, so the page
    can say which one it took."""
    return {name: st.query_params.get_all(name) for name in st.query_params}


def follow_deep_link(pages):
    """In app.py, after st.navigation: open the page a first visit asked for (see page_setup)."""
    wanted, params = st.session_state.pop("deep_link", (None, {}))
    if wanted is None:
        return
    chosen = next((page for page in pages if page.url_path == wanted), None)
    if chosen is not None:
        st.switch_page(chosen, query_params=params)


@st.cache_resource
def run_manager():
    """One manager for the whole server: runs outlive reruns, page switches and closed tabs."""
    from ganlib.datasets import emoji_arrays, mnist_sample_arrays
    from ganlib.runs import RunManager  # imports torch (~5 s): only pages that train pay for it

    mnist_sample_arrays()  # read here, so no training thread parses them while Streamlit parses a page (see there)
    emoji_arrays()
    return RunManager()


@st.cache_resource
def gallery():
    """The server's class gallery, shared by every session (GAN_STUDIO_GALLERY, GAN_STUDIO_GALLERY_MAX)."""
    from ganlib.gallery import Gallery

    return Gallery()


def withdraw_from_gallery(entry_id):
    """A button's callback: this session takes its own entry off the class gallery."""
    gallery().withdraw(entry_id, session_id())


def session_id():
    if "session_id" not in st.session_state:
        st.session_state.session_id = uuid.uuid4().hex
    return st.session_state.session_id


def keep_alive():
    """Tell the run manager this session is still here (its runs, uploads and saved generators stay while it is)."""
    folders = [st.session_state[key] for key in ("upload_dir", "saved_dir") if key in st.session_state]
    run_manager().touch(session_id(), files=folders)


def staged_upload(key, uploads, stage):
    """stage(folder) → path, run only when `uploads` changed since the last call under `key`: a rerun (any
    widget moved) must not rewrite the files, nor leave the cached model behind them to reload."""
    identity = [(upload.name, upload.size, upload.file_id) for upload in uploads]
    staged = st.session_state.get(key)
    if staged is None or staged[0] != identity:
        st.session_state[key] = None  # a refused upload leaves nothing staged
        st.session_state[key] = (identity, stage(session_folder("upload_dir", "gan-studio-upload-")))
    return st.session_state[key][1]
